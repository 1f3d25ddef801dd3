"""Streaming reader for the daily bounced email report (CSV or XLSX).

The billing platform sends one row per invoice or statement email that
failed to deliver. ``read_report`` turns each row into a ``ReportRow`` or,
when a value cannot be used, a ``RejectedRow`` that names what to fix. Rows
are read one at a time, so memory use does not grow with the file.

File-level problems (not found, empty, not a CSV or XLSX file, no header
row, a required column missing) raise ``ReportUnreadable`` when
``read_report`` is called, before any row is returned.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import MAC_EPOCH
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from bot.addresses import InvalidAddress, normalize_address

__all__ = [
    "COLUMN_ALIASES",
    "MAX_CELL_CHARS",
    "REQUIRED_COLUMNS",
    "RejectedRow",
    "ReportRow",
    "ReportRows",
    "ReportUnreadable",
    "read_report",
    "sample_report_path",
]


# Accepted header names for each field, in priority order. When a file has
# two columns for the same field (say "Bounce Date" and "Sent Date"), the
# column whose name comes first here is used. Header cells are compared
# after removing case, spaces and punctuation, so "Invoice #", "INVOICE"
# and "invoice" all match "Invoice".
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "Bounce Date",
        "Bounced On",
        "Bounced At",
        "Bounce Time",
        "Date",
        "Timestamp",
        "Sent Date",
    ),
    "client": (
        "Client",
        "Client Name",
        "Customer",
        "Customer Name",
        "Company",
        "Account Name",
    ),
    "address": (
        "Recipient Email",
        "Recipient Address",
        "Recipient",
        "Email Address",
        "Email",
        "E-mail",
        "To",
        "To Address",
    ),
    "document": (
        "Invoice Number",
        "Invoice No",
        "Invoice #",
        "Invoice ID",
        "Invoice",
        "Document Number",
        "Document No",
        "Document",
        "Statement Number",
        "Statement No",
        "Statement",
    ),
    "reason": (
        "Bounce Reason",
        "Reason",
        "Bounce Type",
        "Type",
    ),
    "error_code": (
        "Error Code",
        "Status Code",
        "SMTP Code",
        "Bounce Code",
        "Code",
    ),
    "details": (
        "Details",
        "Description",
        "Diagnostic",
        "Diagnostic Code",
        "Error Message",
        "Message",
        "Error",
    ),
}

REQUIRED_COLUMNS: tuple[str, ...] = ("address", "date")

# Field names as they appear in messages to billing staff.
_FIELD_LABELS = {
    "date": "bounce date",
    "client": "client",
    "address": "email address",
    "document": "invoice or statement number",
    "reason": "bounce reason",
    "error_code": "error code",
    "details": "details",
}

# Longer cells are cut to this many characters, followed by a marker that
# gives the original length, so one runaway cell cannot flood a Slack message.
MAX_CELL_CHARS = 10_000

# Bounce dates outside these years are rejected as typos.
_EARLIEST_YEAR = 1990
_LATEST_YEAR = 2100

_SAMPLE_BYTES = 64 * 1024
_SNIFF_CHARS = 16 * 1024


def sample_report_path() -> Path:
    """Return the path of the bundled demo report."""
    return Path(__file__).resolve().parent / "sample_data" / "daily-bounce-report.csv"


@dataclass(frozen=True)
class ReportRow:
    """One usable row of a bounce report.

    ``line`` is the 1-based line (CSV) or row (XLSX) where the record
    starts, counted as a text editor or spreadsheet shows it, so the header
    is normally line 1. ``bounced_on`` is the calendar date as written in
    the file. ``bounced_at`` is the same moment in UTC when the cell had a
    time, or None when it had only a date. A time without an offset is taken
    as UTC.

    NOTE: whether the billing platform writes offset-less times in UTC or in
    the firm's local time is unconfirmed, so ``bounced_at`` may be off by
    the firm's UTC offset.

    ``original_address`` is the cell text with surrounding whitespace
    removed, and ``address`` is its normalized form.
    """

    line: int
    bounced_on: dt.date
    bounced_at: dt.datetime | None
    client: str
    address: str
    original_address: str
    document: str
    reason_text: str
    error_code: str
    details: str


@dataclass(frozen=True)
class RejectedRow:
    """A report row that cannot be imported.

    ``column`` is the header of the offending column as written in the file
    (empty when the whole record could not be parsed), ``value`` the cell
    text, and ``message`` a sentence for billing staff that names the line
    and the fix. Each line produces at most one RejectedRow, and the
    address is checked before the date.
    """

    line: int
    column: str
    value: str
    message: str


class ReportUnreadable(Exception):
    """A report file that cannot be read at all.

    The message names the file and what to do. ``path`` is the path given
    to ``read_report``.
    """

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(message)


def read_report(
    path: str | os.PathLike[str],
    *,
    display_name: str | None = None,
) -> Iterator[ReportRow | RejectedRow]:
    """Open a bounce report and return an iterator over its rows.

    The file type is taken from its content, not its name: a ZIP container
    is read as XLSX and anything else as delimited text. ``display_name``
    is the file name used in messages, such as the name of a Slack upload,
    and defaults to the name of ``path``.

    Raises ReportUnreadable immediately when the file cannot be read at
    all. Rows are then read lazily. Blank rows are skipped, and a row with
    a missing or invalid address or date comes back as a RejectedRow. A
    read failure part-way through the file (a disk error or a damaged
    XLSX) raises ReportUnreadable from the iterator.

    The file stays open until the iterator is exhausted or closed, so stop
    early with ``close()`` or a ``with`` block::

        with read_report(path) as rows:
            first = next(rows)
    """
    report_path = Path(path)
    name = display_name or report_path.name
    table = _open_table(report_path, name)
    return ReportRows(table, _iterate_rows(table, report_path, name))


class ReportRows(Iterator[ReportRow | RejectedRow]):
    """The iterator returned by read_report, which also closes the file."""

    def __init__(self, table: _Table, rows: Generator[ReportRow | RejectedRow, None, None]) -> None:
        self._table = table
        self._rows = rows

    def __next__(self) -> ReportRow | RejectedRow:
        return next(self._rows)

    def close(self) -> None:
        """Release the file. Later calls to next() raise StopIteration."""
        self._rows.close()
        # A generator that never started skips its finally block on close().
        self._table.close()

    def __enter__(self) -> ReportRows:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---------------------------------------------------------------------------
# Tables: the header and a stream of raw records, for either file type.


@dataclass(frozen=True)
class _Column:
    index: int
    header: str


@dataclass(frozen=True)
class _UnparsableRecord:
    """A CSV record that the csv module rejected, with its error text.

    ``last_line`` is the last line the csv module consumed before failing.
    """

    error: str
    last_line: int


# A raw record is a list of cell values (str for CSV, Python values for
# XLSX) or an _UnparsableRecord.
_Record = Sequence[object] | _UnparsableRecord


@dataclass
class _Table:
    columns: dict[str, _Column]
    records: Iterator[tuple[int, _Record]]
    close: Callable[[], None]
    # Day zero of the spreadsheet serial date system used by the file.
    serial_epoch: dt.datetime


_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def _open_table(path: Path, name: str) -> _Table:
    """Open ``path``, identify its format and locate the header row."""
    try:
        with path.open("rb") as file:
            prefix = file.read(_SAMPLE_BYTES)
    except FileNotFoundError as error:
        raise ReportUnreadable(
            path, f'The report file "{name}" was not found. Check the file name and try again.'
        ) from error
    except IsADirectoryError as error:
        raise ReportUnreadable(
            path, f'"{name}" is a folder, not a report file. Give the path of the CSV or XLSX file.'
        ) from error
    except OSError as error:
        raise ReportUnreadable(
            path,
            f'The report file "{name}" could not be opened ({error.strerror}). '
            "Check that the file is readable and try again.",
        ) from error

    if not prefix:
        raise _empty_report(path, name)
    if prefix.startswith(_ZIP_MAGIC):
        return _open_xlsx(path, name)
    if prefix.startswith(_OLE2_MAGIC):
        raise ReportUnreadable(
            path,
            f'The report "{name}" is an old Excel 97-2003 (.xls) workbook, which cannot be read. '
            "Open it in Excel, save it as .xlsx or CSV, and import it again.",
        )
    return _open_csv(path, name, prefix, is_whole_file=len(prefix) < _SAMPLE_BYTES)


def _empty_report(path: Path, name: str) -> ReportUnreadable:
    return ReportUnreadable(
        path,
        f'The report "{name}" is empty. Export the bounced email report again and import the new file.',
    )


def _not_a_report(path: Path, name: str, reason: str) -> ReportUnreadable:
    return ReportUnreadable(
        path,
        f'The report "{name}" is not a CSV or XLSX file, because {reason}. '
        "Export the bounced email report as CSV or Excel (.xlsx) and import it again.",
    )


def _header_key(header: str) -> str:
    """Reduce a header cell to lower-case letters and digits for alias matching."""
    return re.sub(r"[\W_]+", "", header.casefold())


def _build_alias_lookup() -> dict[str, tuple[str, int]]:
    """Map each header key to its field and its priority within that field."""
    lookup: dict[str, tuple[str, int]] = {}
    for field, aliases in COLUMN_ALIASES.items():
        for rank, alias in enumerate(aliases):
            lookup.setdefault(_header_key(alias), (field, rank))
    return lookup


_ALIAS_LOOKUP = _build_alias_lookup()


def _match_columns(headers: Sequence[str]) -> dict[str, _Column]:
    """Find the column of each known field among ``headers``.

    The alias listed first in COLUMN_ALIASES wins, then the leftmost column.
    """
    best: dict[str, tuple[int, _Column]] = {}
    for index, header in enumerate(headers):
        match = _ALIAS_LOOKUP.get(_header_key(header))
        if match is None:
            continue
        field, rank = match
        if field not in best or rank < best[field][0]:
            best[field] = (rank, _Column(index, header))
    return {field: column for field, (_, column) in best.items()}


def _check_header(
    path: Path, name: str, headers: Sequence[str], where: str
) -> dict[str, _Column]:
    """Match ``headers`` to fields, or raise ReportUnreadable naming what is missing.

    ``where`` locates the header for messages, as in "line 1" or
    'row 1 of sheet "Bounces"'.
    """
    columns = _match_columns(headers)
    problem = _header_problem(path, name, headers, columns, where)
    if problem is not None:
        raise problem
    return columns


def _header_problem(
    path: Path, name: str, headers: Sequence[str], columns: dict[str, _Column], where: str
) -> ReportUnreadable | None:
    """Return the error for a header that lacks required columns, or None."""
    if not columns:
        return ReportUnreadable(
            path,
            f'The report "{name}" has no recognizable header row, because {where} '
            "contains no known column name. Put the column names in the first row "
            "(for example Date, Client, Email, Invoice Number, Reason) and import the report again.",
        )

    missing = [field for field in REQUIRED_COLUMNS if field not in columns]
    if not missing:
        return None
    found = ", ".join(header for header in headers[:20] if header) or "no names"
    needs = " and no ".join(f"{_FIELD_LABELS[field]} column" for field in missing)
    accepted = " ".join(
        f"For the {_FIELD_LABELS[field]}, name a column {_list_aliases(field)}." for field in missing
    )
    return ReportUnreadable(
        path,
        f'The report "{name}" has no {needs}. The header in {where} contains {found}. '
        f"{accepted} Then import the report again.",
    )


def _list_aliases(field: str) -> str:
    aliases = COLUMN_ALIASES[field]
    return ", ".join(aliases[:-1]) + " or " + aliases[-1]


def _is_blank(cells: Sequence[object]) -> bool:
    return all(_cell_text(cell) == "" for cell in cells)


# ---------------------------------------------------------------------------
# CSV


# Decoding approach: the encoding is chosen from the first 64 KiB. A UTF-8
# byte-order mark or valid UTF-8 selects UTF-8, a UTF-16 byte-order mark
# selects UTF-16, and anything else selects Windows-1252, which Excel uses
# on US Windows. Bytes that are invalid in the chosen encoding further on
# (a Windows-1252 name in an otherwise UTF-8 file, say) go through this
# error handler, which decodes them as Windows-1252. A byte that
# Windows-1252 leaves undefined becomes U+FFFD.
_FALLBACK_ERRORS = "bounce_desk_cp1252_fallback"


def _decode_invalid_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    invalid_bytes = error.object[error.start:error.end]
    return invalid_bytes.decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK_ERRORS, _decode_invalid_bytes_as_cp1252)


def _choose_encoding(prefix: bytes, is_whole_file: bool) -> str:
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # A sample that ends inside a multi-byte character is still valid.
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=is_whole_file)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _looks_binary(text: str) -> bool:
    """Return True for text with NUL or many other control characters."""
    if "\x00" in text:
        return True
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")
    return controls > len(text) // 100


def _first_record(text: str, delimiter: str) -> list[str]:
    # newline="" keeps a CR-only line end (old Mac CSV) a line end for the csv module.
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if not _is_blank(cells):
            return cells
    return []


def _choose_delimiter(sample: str) -> str:
    """Pick the delimiter whose split of the header names the most known columns.

    csv.Sniffer's guess is tried first, then comma, semicolon and tab in
    order of how often they occur in the first non-blank line. The header
    check decides because Sniffer can be misled by punctuation in the data.
    """
    candidates: list[str] = []
    try:
        candidates.append(csv.Sniffer().sniff(sample[:_SNIFF_CHARS], delimiters=",;\t").delimiter)
    except csv.Error:
        pass

    first_line = next((line for line in sample.splitlines() if line.strip()), "")
    by_count = sorted(",;\t", key=first_line.count, reverse=True)
    candidates.extend(delimiter for delimiter in by_count if delimiter not in candidates)

    best_delimiter = candidates[0]
    best_score = -1
    for delimiter in candidates:
        score = len(_match_columns(_first_record(sample, delimiter)))
        if score > best_score:
            best_delimiter = delimiter
            best_score = score
    return best_delimiter


def _open_csv(path: Path, name: str, prefix: bytes, is_whole_file: bool) -> _Table:
    encoding = _choose_encoding(prefix, is_whole_file)
    decoder = codecs.getincrementaldecoder(encoding)(errors=_FALLBACK_ERRORS)
    sample = decoder.decode(prefix, final=is_whole_file)
    if not is_whole_file:
        # Drop the last, probably incomplete, line so it cannot skew the sniffing.
        sample = sample[: max(sample.rfind("\n"), 0)] or sample

    if _looks_binary(sample):
        raise _not_a_report(path, name, "it contains binary data")
    if re.match(r"\s*<(!doctype\s+html|html)", sample, re.IGNORECASE):
        raise _not_a_report(path, name, "it is a web page")
    if not sample.strip():
        raise _empty_report(path, name)

    delimiter = _choose_delimiter(sample)
    binary_file = path.open("rb")
    text_file = io.TextIOWrapper(binary_file, encoding=encoding, errors=_FALLBACK_ERRORS, newline="")
    try:
        records = _csv_records(csv.reader(text_file, delimiter=delimiter))
        header_line, headers = _find_csv_header(records, path, name)
        columns = _check_header(path, name, headers, f"line {header_line}")
    except BaseException:
        text_file.close()
        raise
    return _Table(columns, records, text_file.close, _EPOCH_1900)


def _csv_records(reader: Iterator[list[str]]) -> Iterator[tuple[int, _Record]]:
    """Yield each record with the line number where it starts.

    csv.reader.line_num counts physical lines read so far, so a record
    starts one line after the previous record ended, even when quoted
    fields contain line breaks.
    """
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The csv module raises this when a field exceeds its size limit
            # (131,072 characters by default), which usually means an
            # unclosed quote. The limit also bounds the memory such a quote uses.
            # NOTE: after that error the reader resumes inside the runaway
            # field, so the next few records may be misread.
            yield previous_end + 1, _UnparsableRecord(str(error), reader.line_num)
            if reader.line_num == previous_end:
                return
            previous_end = reader.line_num
            continue
        yield previous_end + 1, cells
        previous_end = reader.line_num


def _find_csv_header(
    records: Iterator[tuple[int, _Record]], path: Path, name: str
) -> tuple[int, list[str]]:
    for line, record in records:
        if isinstance(record, _UnparsableRecord):
            raise ReportUnreadable(
                path,
                f'The header of the report "{name}" could not be read ({record.error} on line {line}). '
                "Export the report again and import the new file.",
            )
        if not _is_blank(record):
            return line, [_cell_text(cell) for cell in record]
    raise _empty_report(path, name)


# ---------------------------------------------------------------------------
# XLSX


_TIME_FORMAT_TOKENS = re.compile(r"h|s|am/pm", re.IGNORECASE)


def _open_xlsx(path: Path, name: str) -> _Table:
    binary_file = path.open("rb")
    try:
        # Passing a file object rather than the path skips openpyxl's check
        # of the file extension, because Slack uploads may be saved without one.
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores.
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(binary_file, read_only=True, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        ValueError,
        TypeError,
        SyntaxError,
    ) as error:
        binary_file.close()
        reason = f"it is a ZIP archive that could not be read as an Excel workbook ({error})"
        raise _not_a_report(path, name, reason) from error

    def close() -> None:
        workbook.close()
        binary_file.close()

    epoch = _EPOCH_1904 if workbook.epoch == MAC_EPOCH else _EPOCH_1900
    try:
        columns, records = _find_xlsx_sheet(workbook, path, name)
    except BaseException:
        close()
        raise
    return _Table(columns, records, close, epoch)


def _find_xlsx_sheet(
    workbook: openpyxl.Workbook, path: Path, name: str
) -> tuple[dict[str, _Column], Iterator[tuple[int, _Record]]]:
    """Return the columns and remaining records of the first sheet with a usable header.

    When no sheet qualifies, the error describes the first sheet whose
    header names some known columns, or else the first non-empty sheet.
    """
    several_sheets = len(workbook.worksheets) > 1
    problems: list[tuple[dict[str, _Column], ReportUnreadable]] = []
    for sheet in workbook.worksheets:
        records = _xlsx_records(sheet)
        header = next(((line, cells) for line, cells in records if not _is_blank(cells)), None)
        if header is None:
            continue

        line, cells = header
        headers = [_cell_text(cell) for cell in cells]
        where = f'row {line} of sheet "{sheet.title}"' if several_sheets else f"row {line}"
        columns = _match_columns(headers)
        problem = _header_problem(path, name, headers, columns, where)
        if problem is None:
            return columns, records
        records.close()
        problems.append((columns, problem))

    if not problems:
        raise _empty_report(path, name)
    partly_matched = [problem for columns, problem in problems if columns]
    raise (partly_matched or [problems[0][1]])[0]


def _xlsx_records(sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, Sequence[object]]]:
    """Yield each row of ``sheet`` with its row number and plain cell values.

    A date-formatted cell whose format shows no time becomes a date, so a
    date-only cell is not mistaken for a bounce at midnight.
    """
    # Some programs write a wrong size into the sheet, and openpyxl's
    # read-only mode would stop at that size.
    sheet.reset_dimensions()
    for line, cells in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1):
        values: list[object] = []
        for cell in cells:
            value = cell.value
            if isinstance(value, dt.datetime) and value.time() == dt.time(0):
                number_format = getattr(cell, "number_format", None) or ""
                if not _TIME_FORMAT_TOKENS.search(number_format):
                    value = value.date()
            values.append(value)
        yield line, values


# ---------------------------------------------------------------------------
# Rows


def _iterate_rows(
    table: _Table, path: Path, name: str
) -> Generator[ReportRow | RejectedRow, None, None]:
    line = 0
    try:
        for line, record in table.records:
            if isinstance(record, _UnparsableRecord):
                yield _unparsable_row(line, record)
                continue
            row = _build_row(line, record, table)
            if row is not None:
                yield row
    except (OSError, zipfile.BadZipFile, zlib.error) as error:
        raise ReportUnreadable(
            path,
            f'Reading the report "{name}" failed after line {line} ({error}). '
            "Upload the file again, and export it again if the error repeats.",
        ) from error
    finally:
        table.close()


def _unparsable_row(line: int, record: _UnparsableRecord) -> RejectedRow:
    if record.last_line <= line:
        skipped = f"line {line} was skipped"
    else:
        skipped = f"lines {line} to {record.last_line} were skipped"
    return RejectedRow(
        line=line,
        column="",
        value="",
        message=(
            f"line {line}: the row could not be read as CSV ({record.error}), so {skipped}. "
            f"Look for an unclosed double quote on line {line}, correct it "
            "and import the report again."
        ),
    )


def _cell_text(value: object) -> str:
    """Return a cell value as trimmed text, cut to MAX_CELL_CHARS."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # A numeric cell such as an error code can come back as 550.0.
        text = str(int(value))
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    else:
        text = str(value)
    # PostgreSQL rejects NUL in text and Slack shows nothing useful for it;
    # the binary-file check only samples the start, so strip it in every cell.
    return _limit_length(text.replace("\x00", "").strip())


def _limit_length(text: str) -> str:
    if len(text) <= MAX_CELL_CHARS:
        return text
    return f"{text[:MAX_CELL_CHARS]}… [cut, the cell had {len(text):,} characters]"


def _field_value(record: Sequence[object], columns: dict[str, _Column], field: str) -> object:
    column = columns.get(field)
    if column is None or column.index >= len(record):
        return None
    return record[column.index]


def _build_row(line: int, record: Sequence[object], table: _Table) -> ReportRow | RejectedRow | None:
    """Convert one record, or return None for a blank one."""
    if _is_blank(record):
        return None
    columns = table.columns

    def text(field: str) -> str:
        return _cell_text(_field_value(record, columns, field))

    address_header = columns["address"].header
    original_address = text("address")
    if not original_address:
        return RejectedRow(
            line,
            address_header,
            "",
            f'line {line}: the email address is missing (column "{address_header}"). '
            "Fill it in and import the report again.",
        )
    try:
        address = normalize_address(original_address)
    except InvalidAddress as error:
        return RejectedRow(
            line,
            address_header,
            original_address,
            f'line {line}: the email address "{original_address}" is invalid ({error.problem}). '
            "Correct it in the report and import again.",
        )

    date_header = columns["date"].header
    date_value = _field_value(record, columns, "date")
    date_text = _cell_text(date_value)
    if not date_text:
        return RejectedRow(
            line,
            date_header,
            "",
            f'line {line}: the bounce date is missing (column "{date_header}"). '
            "Fill it in and import the report again.",
        )
    try:
        bounced_on, bounced_at = _read_date(date_value, table.serial_epoch)
    except ValueError as error:
        return RejectedRow(
            line,
            date_header,
            date_text,
            f'line {line}: the date "{date_text}" could not be read ({error}). '
            "Write it as YYYY-MM-DD (for example 2026-12-03), MM/DD/YYYY or a spreadsheet date, "
            "and import the report again.",
        )

    return ReportRow(
        line=line,
        bounced_on=bounced_on,
        bounced_at=bounced_at,
        client=text("client"),
        address=address,
        original_address=original_address,
        document=text("document"),
        reason_text=text("reason"),
        error_code=text("error_code"),
        details=text("details"),
    )


# ---------------------------------------------------------------------------
# Dates


_ZONE = r"(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"

_ISO_DATE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[T\s]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    rf"\s*{_ZONE}?)?",
    re.IGNORECASE,
)

# Slashed dates are US month/day/year, because the billing platform that
# produces these reports is US-based. 03/12/2026 is March 12.
_US_DATE = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"\s*(?P<meridiem>[AP]\.?M\.?)?"
    rf"\s*{_ZONE}?)?",
    re.IGNORECASE,
)

_SERIAL_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _read_date(value: object, serial_epoch: dt.datetime) -> tuple[dt.date, dt.datetime | None]:
    """Return (date as written, UTC moment or None) for a date cell.

    Raises ValueError with a short reason when the value is not a date.
    """
    if isinstance(value, dt.datetime):
        return _checked(value.date(), _as_utc(value))
    if isinstance(value, dt.date):
        return _checked(value, None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _date_from_serial(float(value), serial_epoch)
    if not isinstance(value, str):
        raise ValueError("not a date")
    return _parse_date_text(value.strip(), serial_epoch)


def _parse_date_text(text: str, serial_epoch: dt.datetime) -> tuple[dt.date, dt.datetime | None]:
    match = _ISO_DATE.fullmatch(text) or _US_DATE.fullmatch(text)
    if match is not None:
        return _date_from_match(match)
    if _SERIAL_NUMBER.fullmatch(text):
        return _date_from_serial(float(text), serial_epoch)
    raise ValueError("unrecognized date format")


def _date_from_match(match: re.Match[str]) -> tuple[dt.date, dt.datetime | None]:
    parts = match.groupdict()
    try:
        day = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError as error:
        raise ValueError("no such calendar date") from error
    if parts["hour"] is None:
        return _checked(day, None)

    hour = int(parts["hour"])
    meridiem = (parts.get("meridiem") or "").replace(".", "").upper()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} is invalid with AM/PM")
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    # Fractions beyond microseconds are cut, so Postmark's seven digits fit.
    fraction = (parts.get("fraction") or "")[:6].ljust(6, "0")
    try:
        moment = dt.datetime(
            day.year,
            day.month,
            day.day,
            hour,
            int(parts["minute"]),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=_zone(parts["zone"]),
        )
    except ValueError as error:
        raise ValueError("no such time of day") from error
    return _checked(day, _as_utc(moment))


def _zone(zone: str | None) -> dt.tzinfo:
    """Return the zone for an offset such as Z, +05:00 or -0800, UTC when absent."""
    if zone is None or zone.upper() in ("Z", "UTC", "GMT"):
        return dt.timezone.utc
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:] or 0)
    try:
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    except ValueError as error:
        raise ValueError(f"time zone offset {zone} is out of range") from error


def _as_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _date_from_serial(serial: float, epoch: dt.datetime) -> tuple[dt.date, dt.datetime | None]:
    """Convert a spreadsheet serial date, where the fraction is the time of day.

    For the 1900 date system, day zero is 1899-12-30, which absorbs Excel's
    phantom 1900-02-29 for every serial after 60. Serials that fall outside
    1990 to 2100 are rejected because they are more likely invoice numbers
    or amounts than dates.
    """
    try:
        moment = epoch + dt.timedelta(seconds=round(serial * 86_400))
    except OverflowError as error:
        raise ValueError("spreadsheet date number out of range") from error
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        raise ValueError(f"spreadsheet date number outside {_EARLIEST_YEAR} to {_LATEST_YEAR}")
    if moment.time() == dt.time(0):
        return moment.date(), None
    return moment.date(), moment.replace(tzinfo=dt.timezone.utc)


def _checked(day: dt.date, moment: dt.datetime | None) -> tuple[dt.date, dt.datetime | None]:
    if not _EARLIEST_YEAR <= day.year <= _LATEST_YEAR:
        raise ValueError(f"year {day.year} is outside {_EARLIEST_YEAR} to {_LATEST_YEAR}")
    return day, moment

import csv
import dataclasses
import datetime as dt
import random
import tracemalloc
import zipfile

import openpyxl
import pytest

from bot.report import (
    COLUMN_ALIASES,
    MAX_CELL_CHARS,
    RejectedRow,
    ReportRow,
    ReportUnreadable,
    read_report,
    sample_report_path,
)

UTC = dt.timezone.utc

HEADER = ["Date", "Client", "Email", "Invoice", "Reason", "Error Code", "Details"]


def csv_text(rows, delimiter=","):
    """Join rows into CSV text with the given delimiter and LF line ends."""
    lines = []
    for row in rows:
        lines.append(delimiter.join(row))
    return "\n".join(lines) + "\n"


def write_bytes(tmp_path, data, name="report.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_text(tmp_path, text, encoding="utf-8", name="report.csv"):
    return write_bytes(tmp_path, text.encode(encoding), name)


def write_xlsx(tmp_path, sheets, name="report.xlsx", epoch_1904=False):
    """Write a workbook with one sheet per (title, rows) pair.

    A cell given as (value, number_format) gets that format.
    """
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    if epoch_1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row_number, row in enumerate(rows, start=1):
            for column_number, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=row_number, column=column_number)
                if isinstance(value, tuple):
                    cell.value, cell.number_format = value
                else:
                    cell.value = value
    path = tmp_path / name
    workbook.save(path)
    return path


def read_all(path, **kwargs):
    return list(read_report(path, **kwargs))


def good_row(date="2026-12-03", client="Maple Street Bakery", email="orders@maplebakery.example",
             invoice="INV-10421", reason="Hard Bounce", code="550 5.1.1", details="User unknown"):
    return [date, client, email, invoice, reason, code, details]


# ---------------------------------------------------------------------------
# Delimiters and encodings


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_detected(tmp_path, delimiter):
    rows = [HEADER, good_row(), good_row(email="ap@oakhollow.example", invoice="INV-10422")]
    path = write_text(tmp_path, csv_text(rows, delimiter))

    result = read_all(path)

    assert [row.address for row in result] == ["orders@maplebakery.example", "ap@oakhollow.example"]
    assert result[0].client == "Maple Street Bakery"
    assert result[1].document == "INV-10422"
    assert result[0].error_code == "550 5.1.1"


def test_semicolon_file_with_commas_in_details(tmp_path):
    rows = [
        HEADER,
        good_row(details="Mailbox full, try later, then resend, please"),
        good_row(details="Blocked, policy, reputation, listing, spam"),
    ]
    path = write_text(tmp_path, csv_text(rows, ";"))

    result = read_all(path)

    assert result[0].details == "Mailbox full, try later, then resend, please"
    assert result[1].client == "Maple Street Bakery"


def test_delimiter_falls_back_to_header_count(tmp_path):
    # A single data row gives csv.Sniffer too little to go on.
    path = write_text(tmp_path, "Date\tEmail\n2026-12-03\tjo@firm.example\n")

    result = read_all(path)

    assert result[0].address == "jo@firm.example"


def test_utf8_text_read(tmp_path):
    rows = [HEADER, good_row(client="Société Générale", details="Fee €25 due")]
    path = write_text(tmp_path, csv_text(rows), encoding="utf-8")

    result = read_all(path)

    assert result[0].client == "Société Générale"
    assert result[0].details == "Fee €25 due"


def test_utf8_bom_header_recognized(tmp_path):
    rows = [HEADER, good_row(client="Société Générale")]
    path = write_text(tmp_path, csv_text(rows), encoding="utf-8-sig")

    result = read_all(path)

    assert result[0].bounced_on == dt.date(2026, 12, 3)
    assert result[0].client == "Société Générale"


def test_cp1252_text_read(tmp_path):
    rows = [HEADER, good_row(client="Société Générale", details="Fee €25 due")]
    path = write_text(tmp_path, csv_text(rows), encoding="cp1252")

    result = read_all(path)

    assert result[0].client == "Société Générale"
    assert result[0].details == "Fee €25 due"


def test_cp1252_byte_after_utf8_sample(tmp_path):
    # About 100 KiB of UTF-8 first, so the encoding is chosen as UTF-8
    # before the Windows-1252 row is reached.
    filler = [good_row(client="Café Nord", email=f"r{i}@firm.example") for i in range(1500)]
    data = csv_text([HEADER] + filler).encode("utf-8")
    data += csv_text([good_row(client="Société Générale", details="€25")]).encode("cp1252")
    path = write_bytes(tmp_path, data)

    result = read_all(path)

    assert len(data) > 64 * 1024
    assert result[0].client == "Café Nord"
    assert result[-1].client == "Société Générale"
    assert result[-1].details == "€25"


def test_utf16_with_bom_read(tmp_path):
    rows = [HEADER, good_row(client="Société Générale")]
    path = write_text(tmp_path, csv_text(rows, "\t"), encoding="utf-16")

    result = read_all(path)

    assert result[0].client == "Société Générale"


# ---------------------------------------------------------------------------
# Quoting, line numbers and cell cleanup


def test_quoted_newline_and_delimiter(tmp_path):
    text = (
        "Date,Client,Email,Details\n"
        '2026-12-03,"Baker, Lowe & Co",a@firm.example,"line one\nline two, with comma"\n'
        '2026-12-03,Tri-County Plumbing,b@firm.example,"x\n\ny"\n'
        "2026-12-04,Blue Heron Books,c@firm.example,plain\n"
    )
    path = write_text(tmp_path, text)

    result = read_all(path)

    assert result[0].client == "Baker, Lowe & Co"
    assert result[0].details == "line one\nline two, with comma"
    assert [row.line for row in result] == [2, 4, 7]


def test_quoted_newline_with_crlf_line_ends(tmp_path):
    text = (
        "Date,Email,Details\r\n"
        '2026-12-03,a@firm.example,"first\r\nsecond"\r\n'
        "2026-12-03,b@firm.example,plain\r\n"
    )
    path = write_text(tmp_path, text)

    result = read_all(path)

    assert result[0].details == "first\r\nsecond"
    assert [row.line for row in result] == [2, 4]


def test_blank_lines_skipped_and_counted(tmp_path):
    text = "\n\nDate,Email\n\n2026-12-03,a@firm.example\n\n\n2026-12-04,b@firm.example\n"
    path = write_text(tmp_path, text)

    result = read_all(path)

    assert [row.line for row in result] == [5, 8]


def test_row_of_empty_cells_skipped(tmp_path):
    text = "Date,Email,Client\n , ,\n,,\n2026-12-03,a@firm.example,Acme\n"
    path = write_text(tmp_path, text)

    result = read_all(path)

    assert len(result) == 1
    assert result[0].line == 4


def test_cells_trimmed(tmp_path):
    text = "Date,Email,Client,Invoice\n  2026-12-03 ,  A@Firm.example  ,  Acme Dental  , INV-1 \n"
    path = write_text(tmp_path, text)

    row = read_all(path)[0]

    assert row.client == "Acme Dental"
    assert row.document == "INV-1"
    assert row.original_address == "A@Firm.example"
    assert row.address == "a@firm.example"
    assert row.bounced_on == dt.date(2026, 12, 3)


def test_long_cell_cut_with_marker(tmp_path):
    details = "x" * (MAX_CELL_CHARS + 5000)
    path = write_text(tmp_path, f"Date,Email,Details\n2026-12-03,a@firm.example,{details}\n")

    row = read_all(path)[0]

    assert row.details.startswith("x" * MAX_CELL_CHARS)
    assert "cut" in row.details
    assert "15,000" in row.details
    assert len(row.details) < MAX_CELL_CHARS + 100


def test_unknown_columns_ignored_and_order_free(tmp_path):
    text = "Notes,Email,Owner,Date\nfollow up,a@firm.example,Pat,2026-12-03\n"
    path = write_text(tmp_path, text)

    row = read_all(path)[0]

    assert row.address == "a@firm.example"
    assert row.client == ""
    assert row.document == ""
    assert row.details == ""


def test_short_row_missing_optional_cells(tmp_path):
    path = write_text(tmp_path, "Date,Email,Client,Details\n2026-12-03,a@firm.example\n")

    row = read_all(path)[0]

    assert row.client == ""
    assert row.details == ""


def test_unclosed_quote_reported_with_skipped_lines(tmp_path):
    filler = "".join(
        f"2026-12-03,r{i}@firm.example,padding text for row {i:05d} more padding\n" for i in range(3000)
    )
    text = 'Date,Email,Details\n2026-12-03,a@firm.example,"never closed\n' + filler
    path = write_text(tmp_path, text)

    result = read_all(path)

    assert isinstance(result[0], RejectedRow)
    assert result[0].line == 2
    assert "unclosed double quote" in result[0].message
    assert isinstance(result[-1], ReportRow)
    assert result[-1].line == 3002


# ---------------------------------------------------------------------------
# Header matching


FIELD_ATTRIBUTES = {
    "date": "bounced_on",
    "client": "client",
    "address": "address",
    "document": "document",
    "reason": "reason_text",
    "error_code": "error_code",
    "details": "details",
}

FIELD_VALUES = {
    "date": ("2026-12-03", dt.date(2026, 12, 3)),
    "client": ("Harbor Point Dental", "Harbor Point Dental"),
    "address": ("billing@harborpoint.example", "billing@harborpoint.example"),
    "document": ("STMT-2026-11-0042", "STMT-2026-11-0042"),
    "reason": ("Soft Bounce", "Soft Bounce"),
    "error_code": ("421 4.7.0", "421 4.7.0"),
    "details": ("Try again later", "Try again later"),
}

ALIAS_CASES = [(field, alias) for field, aliases in COLUMN_ALIASES.items() for alias in aliases]


@pytest.mark.parametrize(("field", "alias"), ALIAS_CASES)
def test_header_alias_recognized(tmp_path, field, alias):
    headers = {"date": "Date", "address": "Email", field: alias}
    cells = {name: FIELD_VALUES[name][0] for name in headers}
    path = write_text(
        tmp_path,
        csv_text([[f'"{header}"' for header in headers.values()], list(cells.values())]),
    )

    row = read_all(path)[0]

    assert getattr(row, FIELD_ATTRIBUTES[field]) == FIELD_VALUES[field][1]


@pytest.mark.parametrize("header", ["INVOICE #", "invoice_no", " Invoice-Number ", "invoice no."])
def test_header_ignores_case_space_punctuation(tmp_path, header):
    path = write_text(tmp_path, f"E-MAIL,bounce date,{header}\na@firm.example,2026-12-03,INV-7\n")

    row = read_all(path)[0]

    assert row.document == "INV-7"


def test_header_alias_priority(tmp_path):
    text = "Sent Date,Bounce Date,Email\n2026-11-30,2026-12-03,a@firm.example\n"
    path = write_text(tmp_path, text)

    row = read_all(path)[0]

    assert row.bounced_on == dt.date(2026, 12, 3)


def test_aliases_unique_across_fields():
    seen = {}
    for field, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            key = "".join(char for char in alias.casefold() if char.isalnum())
            assert seen.setdefault(key, field) == field, alias


def test_missing_address_column_rejected(tmp_path):
    path = write_text(tmp_path, "Date,Client\n2026-12-03,Acme\n")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    message = str(caught.value)
    assert "report.csv" in message
    assert "no email address column" in message
    assert "Recipient Email" in message
    assert "Date, Client" in message


def test_missing_date_column_rejected(tmp_path):
    path = write_text(tmp_path, "Email,Client\na@firm.example,Acme\n")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "no bounce date column" in str(caught.value)
    assert "Bounce Date" in str(caught.value)


def test_missing_both_required_columns(tmp_path):
    path = write_text(tmp_path, "Client,Invoice\nAcme,INV-1\n")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "no email address column and no bounce date column" in str(caught.value)


def test_first_row_without_header_rejected(tmp_path):
    path = write_text(tmp_path, "2026-12-03,a@firm.example\n2026-12-04,b@firm.example\n")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "no recognizable header row" in str(caught.value)


# ---------------------------------------------------------------------------
# Dates


DATE_CASES = [
    ("2026-12-03", dt.date(2026, 12, 3), None),
    ("2026-12-03T08:15:00Z", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)),
    ("2026-12-03 08:15:00", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)),
    ("2026-12-03T08:15", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)),
    ("2026-12-03T08:15:00-05:00", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 13, 15, tzinfo=UTC)),
    ("2026-12-03T08:15:00+0530", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 2, 45, tzinfo=UTC)),
    ("2026-12-03T23:30:00-05:00", dt.date(2026, 12, 3), dt.datetime(2026, 12, 4, 4, 30, tzinfo=UTC)),
    (
        "2019-11-05T16:33:54.9070259Z",
        dt.date(2019, 11, 5),
        dt.datetime(2019, 11, 5, 16, 33, 54, 907025, tzinfo=UTC),
    ),
    (
        "2026-12-03T08:15:00.5Z",
        dt.date(2026, 12, 3),
        dt.datetime(2026, 12, 3, 8, 15, 0, 500000, tzinfo=UTC),
    ),
    ("12/03/2026", dt.date(2026, 12, 3), None),
    ("2/3/2026", dt.date(2026, 2, 3), None),
    ("12/03/2026 08:15", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)),
    ("12/3/2026 8:15 PM", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 20, 15, tzinfo=UTC)),
    ("12/3/2026 12:05 AM", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 0, 5, tzinfo=UTC)),
    ("46359", dt.date(2026, 12, 3), None),
    ("46359.5", dt.date(2026, 12, 3), dt.datetime(2026, 12, 3, 12, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "day", "moment"), DATE_CASES)
def test_date_forms_read(tmp_path, text, day, moment):
    path = write_text(tmp_path, f"Date,Email\n{text},a@firm.example\n")

    row = read_all(path)[0]

    assert row.bounced_on == day
    assert row.bounced_at == moment


@pytest.mark.parametrize(
    "text",
    [
        "03.12.2026",
        "December 3, 2026",
        "13/01/2026",
        "2026-02-30",
        "2026-12-03T25:00",
        "12345",
        "1899-12-03",
        "2026-12-03T08:15:00+25:00",
        "12/3/2026 13:15 PM",
        "soon",
    ],
)
def test_unreadable_date_rejected(tmp_path, text):
    path = write_text(tmp_path, f'Date,Email\n"{text}",a@firm.example\n')

    row = read_all(path)[0]

    assert isinstance(row, RejectedRow)
    assert row.line == 2
    assert row.column == "Date"
    assert row.value == text
    assert f'"{text}"' in row.message


# ---------------------------------------------------------------------------
# Rejected rows


def test_bad_rows_rejected_good_rows_kept(tmp_path):
    text = (
        "Bounce Date,Client,Recipient,Invoice #\n"
        "2026-12-03,Acme,a@firm.example,INV-1\n"
        "2026-12-03,No Address Co,,INV-2\n"
        "2026-12-03,Typo LLC,jane.doe@,INV-3\n"
        "someday,Bad Date Inc,b@firm.example,INV-4\n"
        ",No Date Ltd,c@firm.example,INV-5\n"
        "2026-12-04,Good Again,d@firm.example,INV-6\n"
    )
    path = write_text(tmp_path, text)

    result = read_all(path)
    rejected = {row.line: row for row in result if isinstance(row, RejectedRow)}
    accepted_documents = [row.document for row in result if isinstance(row, ReportRow)]

    assert accepted_documents == ["INV-1", "INV-6"]
    assert sorted(rejected) == [3, 4, 5, 6]
    assert rejected[3].message.startswith('line 3: the email address is missing (column "Recipient")')
    assert rejected[4].message.startswith(
        'line 4: the email address "jane.doe@" is invalid (no domain after @). Correct it'
    )
    assert rejected[4].value == "jane.doe@"
    assert rejected[4].column == "Recipient"
    assert rejected[5].message.startswith('line 5: the date "someday" could not be read')
    assert rejected[6].message.startswith('line 6: the bounce date is missing (column "Bounce Date")')


def test_row_with_bad_address_and_date_rejected_once(tmp_path):
    path = write_text(tmp_path, "Date,Email\nsomeday,nobody\n")

    result = read_all(path)

    assert len(result) == 1
    assert result[0].column == "Email"


def test_display_name_address_kept_as_original(tmp_path):
    path = write_text(tmp_path, 'Date,Email\n2026-12-03,"""Jane Doe"" <Jane@Firm.example>"\n')

    row = read_all(path)[0]

    assert row.address == "jane@firm.example"
    assert row.original_address == '"Jane Doe" <Jane@Firm.example>'


# ---------------------------------------------------------------------------
# Unreadable files


def test_empty_file_rejected(tmp_path):
    path = write_bytes(tmp_path, b"")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "is empty" in str(caught.value)


def test_blank_lines_only_rejected(tmp_path):
    path = write_text(tmp_path, "\n \n\t\n")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "is empty" in str(caught.value)


def test_header_only_yields_nothing(tmp_path):
    path = write_text(tmp_path, "Date,Email\n")

    assert read_all(path) == []


@pytest.mark.parametrize("lowest_byte", [0, 1])
def test_random_bytes_rejected(tmp_path, lowest_byte):
    generator = random.Random(lowest_byte)
    data = bytes(generator.randrange(lowest_byte, 256) for _ in range(4096))
    path = write_bytes(tmp_path, data)

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "not a CSV or XLSX file" in str(caught.value)


def test_missing_file_rejected(tmp_path):
    with pytest.raises(ReportUnreadable) as caught:
        read_report(tmp_path / "nowhere.csv")

    assert '"nowhere.csv" was not found' in str(caught.value)


def test_folder_rejected(tmp_path):
    with pytest.raises(ReportUnreadable) as caught:
        read_report(tmp_path)

    assert "is a folder" in str(caught.value)


def test_old_xls_rejected(tmp_path):
    path = write_bytes(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), name="report.xls")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "(.xls)" in str(caught.value)


def test_zip_that_is_not_xlsx_rejected(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "could not be read as an Excel workbook" in str(caught.value)


def test_html_page_rejected(tmp_path):
    page = "<!DOCTYPE html><html><body><table><tr><td>Date</td></tr></table></body></html>"
    path = write_text(tmp_path, page)

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "web page" in str(caught.value)


def test_display_name_used_in_message(tmp_path):
    path = write_bytes(tmp_path, b"", name="F12345.tmp")

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path, display_name="bounces-dec-3.csv")

    assert '"bounces-dec-3.csv"' in str(caught.value)


def test_unreadable_raised_before_iteration(tmp_path):
    path = write_text(tmp_path, "Client\nAcme\n")

    with pytest.raises(ReportUnreadable):
        read_report(path)


# ---------------------------------------------------------------------------
# XLSX


def xlsx_header_and_rows():
    return [
        ["Bounce Date", "Client Name", "Email Address", "Invoice Number", "Bounce Type", "Code",
         "Description"],
        [(dt.datetime(2026, 12, 3, 8, 15), "yyyy-mm-dd hh:mm"), "Acme", "a@firm.example", 10421,
         "Hard Bounce", 550.0, "gone"],
        [(dt.datetime(2026, 12, 3), "mm/dd/yyyy"), "Beta", "b@firm.example", "INV-2",
         "Soft Bounce", "452 4.2.2", "full"],
        [46359, "Gamma", "c@firm.example", "INV-3", "ISP Block", "554", "blocked"],
        [46359.25, "Delta", "d@firm.example", "INV-4", "ISP Block", "554", "blocked"],
        ["12/04/2026", "Epsilon", "e@firm.example", "INV-5", "Hard Bounce", "550", "text date"],
    ]


def test_xlsx_datetime_cell_with_time(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())])

    row = read_all(path)[0]

    assert row.bounced_on == dt.date(2026, 12, 3)
    assert row.bounced_at == dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)


def test_xlsx_date_only_cell_has_no_time(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())])

    row = read_all(path)[1]

    assert row.bounced_on == dt.date(2026, 12, 3)
    assert row.bounced_at is None


def test_xlsx_serial_numbers(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())])

    result = read_all(path)

    assert result[2].bounced_on == dt.date(2026, 12, 3)
    assert result[2].bounced_at is None
    assert result[3].bounced_at == dt.datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def test_xlsx_text_date(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())])

    row = read_all(path)[4]

    assert row.bounced_on == dt.date(2026, 12, 4)


def test_xlsx_numbers_as_text(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())])

    row = read_all(path)[0]

    assert row.document == "10421"
    assert row.error_code == "550"
    assert row.client == "Acme"
    assert row.reason_text == "Hard Bounce"
    assert row.details == "gone"


def test_xlsx_line_numbers_are_row_numbers(tmp_path):
    rows = [
        [],
        [None, None],
        ["Date", "Email"],
        ["2026-12-03", "a@firm.example"],
        [],
        ["2026-12-03", "jane.doe@"],
        ["2026-12-04", "b@firm.example"],
    ]
    path = write_xlsx(tmp_path, [("Sheet1", rows)])

    result = read_all(path)

    assert [row.line for row in result] == [4, 6, 7]
    assert isinstance(result[1], RejectedRow)
    assert result[1].message.startswith('line 6: the email address "jane.doe@" is invalid')


def test_xlsx_skips_sheet_without_header(tmp_path):
    cover = [["Bounced email report"], ["Generated 2026-12-04"]]
    data = [["Date", "Recipient"], ["2026-12-03", "a@firm.example"]]
    path = write_xlsx(tmp_path, [("Cover", cover), ("Data", data)])

    result = read_all(path)

    assert [row.address for row in result] == ["a@firm.example"]


def test_xlsx_missing_column_names_sheet(tmp_path):
    data = [["Date", "Client"], ["2026-12-03", "Acme"]]
    path = write_xlsx(tmp_path, [("Cover", [["Title"]]), ("Data", data)])

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert 'sheet "Data"' in str(caught.value)
    assert "no email address column" in str(caught.value)


def test_xlsx_empty_workbook_rejected(tmp_path):
    path = write_xlsx(tmp_path, [("Sheet1", [])])

    with pytest.raises(ReportUnreadable) as caught:
        read_report(path)

    assert "is empty" in str(caught.value)


def test_xlsx_read_without_file_extension(tmp_path):
    path = write_xlsx(tmp_path, [("Bounces", xlsx_header_and_rows())], name="upload")

    result = read_all(path)

    assert len(result) == 5


def test_xlsx_1904_serial_numbers(tmp_path):
    serial_1904 = 46359 - 1462
    rows = [["Date", "Email"], [serial_1904, "a@firm.example"]]
    path = write_xlsx(tmp_path, [("Sheet1", rows)], epoch_1904=True)

    row = read_all(path)[0]

    assert row.bounced_on == dt.date(2026, 12, 3)


# ---------------------------------------------------------------------------
# Streaming and iterator behaviour


def write_large_csv(path, row_count):
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(row_count):
            writer.writerow(good_row(email=f"client{i}@firm.example", invoice=f"INV-{i}"))


def test_large_csv_streams_all_rows(tmp_path):
    path = tmp_path / "large.csv"
    write_large_csv(path, 100_000)

    count = 0
    last = None
    for row in read_report(path):
        count += 1
        last = row

    assert count == 100_000
    assert last.line == 100_001
    assert last.document == "INV-99999"


def test_first_row_read_without_loading_file(tmp_path):
    path = tmp_path / "large.csv"
    write_large_csv(path, 100_000)
    file_size = path.stat().st_size

    tracemalloc.start()
    try:
        with read_report(path) as rows:
            first = next(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert first.line == 2
    assert peak < file_size / 4


def test_closed_iterator_stops(tmp_path):
    path = write_text(tmp_path, csv_text([HEADER, good_row(), good_row()]))

    rows = read_report(path)
    next(rows)
    rows.close()

    with pytest.raises(StopIteration):
        next(rows)


def test_report_row_is_frozen(tmp_path):
    path = write_text(tmp_path, csv_text([HEADER, good_row()]))
    row = read_all(path)[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        row.address = "other@firm.example"


# ---------------------------------------------------------------------------
# Bundled sample report


def test_sample_report_reads():
    result = read_all(sample_report_path())
    rows = [row for row in result if isinstance(row, ReportRow)]
    rejected = [row for row in result if isinstance(row, RejectedRow)]

    assert 12 <= len(result) <= 15
    assert len(rejected) == 1
    assert rejected[0].value == "accounts@@bakerlaw"
    assert {"ISP Block", "Soft Bounce", "Hard Bounce", "Ingested Invoice Does Not Exist"} <= {
        row.reason_text for row in rows
    }
    assert "Mailbox Unavailable" in {row.reason_text for row in rows}


def test_sample_report_has_repeat_address_same_day():
    rows = [row for row in read_report(sample_report_path()) if isinstance(row, ReportRow)]
    pairs = [(row.address, row.bounced_on) for row in rows]

    assert len(pairs) - len(set(pairs)) == 1


def test_sample_report_has_display_name_and_slack_markup():
    rows = [row for row in read_report(sample_report_path()) if isinstance(row, ReportRow)]

    assert any(row.original_address.startswith('"') for row in rows)
    assert any("<!channel>" in row.details and "|click here>" in row.details for row in rows)


def test_sample_report_uses_example_domains_only():
    rows = [row for row in read_report(sample_report_path()) if isinstance(row, ReportRow)]

    assert all(row.address.endswith(".example") for row in rows)

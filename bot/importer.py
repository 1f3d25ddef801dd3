"""Import a bounce report into storage.

Rows are read as a stream and written in batches, so memory stays bounded
whatever the file size. Each row gets a fingerprint (address, document,
bounce day, reason, error code); a row whose fingerprint is already stored is
counted as a duplicate and skipped, which makes re-importing the same or an
overlapping report safe.

Rows join an existing bounce (one Slack message) when it has the same
address, day and reason and has not been posted yet. Once posted, a message
is not changed by later imports: a late row for the same address and day
becomes a new bounce with its own message.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from sqlalchemy import select, update

from bot import lifecycle, reasons
from bot.addresses import address_domain
from bot.documents import document_key
from bot.report import RejectedRow, ReportRow, read_report
from storage import bounce_store
from storage.db import Database
from storage.models import Bounce, BounceDocument, Recipient, utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_REJECTIONS_KEPT = 200


@dataclass
class ImportSummary:
    source: str
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    new_bounces: int = 0
    bounced_again: int = 0
    by_reason: Counter = field(default_factory=Counter)
    unknown_reason_texts: Counter = field(default_factory=Counter)
    rejections: list[RejectedRow] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.rejected else 0

    def lines(self) -> list[str]:
        out = [
            f"Imported {self.source}: {_count(self.new, 'new row')} in {_count(self.new_bounces, 'new bounce')}, "
            f"{_count(self.duplicates, 'duplicate')} skipped, {self.rejected} rejected."
        ]
        if self.by_reason:
            out.append("  New rows by reason:")
        for key in reasons.REASON_ORDER:
            if self.by_reason.get(key):
                out.append(f"    {reasons.get(key).title}: {self.by_reason[key]}")
        for text, count in self.unknown_reason_texts.most_common(10):
            out.append(f"  note: the reason {text!r} is not recognised ({_count(count, 'row')}); "
                       f"kept as '{reasons.get(reasons.OTHER).title}'")
        if self.bounced_again:
            out.append(f"  {self.bounced_again} bounced again after a resend")
        for rejection in self.rejections:
            # The reader's message already starts with "line N: ".
            out.append(f"  rejected {rejection.message}")
        if self.rejected > len(self.rejections):
            out.append(f"  … and {self.rejected - len(self.rejections)} more rejected rows")
        return out


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def fingerprint(row: ReportRow, reason_key: str) -> str:
    parts = [row.address.lower(), document_key(row.document), row.bounced_on.isoformat(), reason_key, row.error_code.strip()]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _batches(rows: Iterable[ReportRow | RejectedRow], size: int):
    batch: list[ReportRow | RejectedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_report(database: Database, path: Path | str) -> ImportSummary:
    """Import one report file; raises bot.report.ReportUnreadable when it cannot be read at all."""
    path = Path(path)
    summary = ImportSummary(source=path.name)
    log.info("import.started file=%s", path.name)

    for batch in _batches(read_report(path), BATCH_SIZE):
        with database.session() as session:
            _import_batch(session, batch, summary, path.name)

    log.info(
        "import.finished file=%s new=%d duplicates=%d rejected=%d",
        path.name, summary.new, summary.duplicates, summary.rejected,
    )
    return summary


def _import_batch(session, batch: list[ReportRow | RejectedRow], summary: ImportSummary, source_name: str) -> None:
    """Import one batch with a fixed number of queries, whatever the batch size."""
    rows: list[tuple[ReportRow, str, str]] = []
    for row in batch:
        if isinstance(row, RejectedRow):
            summary.rejected += 1
            if len(summary.rejections) < MAX_REJECTIONS_KEPT:
                summary.rejections.append(row)
            log.warning("import.row_rejected file=%s line=%d column=%s", source_name, row.line, row.column)
            continue
        reason_key = reasons.classify(row.reason_text)
        rows.append((row, reason_key, fingerprint(row, reason_key)))
    if not rows:
        return

    addresses = {row.address for row, _, _ in rows}
    known = set(session.scalars(
        select(BounceDocument.fingerprint).where(BounceDocument.fingerprint.in_([fp for _, _, fp in rows]))
    ))
    recipients = {recipient.address for recipient in session.scalars(
        select(Recipient).where(Recipient.address.in_(addresses))
    )}
    # Unposted bounces that new rows for the same address, day and reason join.
    # Touching them first locks them until this batch commits, so the digest
    # cannot post one of them between this check and the new rows landing.
    candidates = list(session.scalars(
        select(Bounce.id).where(Bounce.address.in_(addresses), Bounce.slack_ts.is_(None))
    ))
    groups: dict[tuple, Bounce] = {}
    if candidates:
        session.execute(
            update(Bounce)
            .where(Bounce.id.in_(candidates), Bounce.slack_ts.is_(None))
            .values(version=Bounce.version + 1)
            .execution_options(synchronize_session=False)
        )
        for bounce in session.scalars(
            select(Bounce)
            .where(Bounce.id.in_(candidates), Bounce.slack_ts.is_(None))
            .order_by(Bounce.id.desc())
            .execution_options(populate_existing=True)
        ):
            groups[(bounce.address, bounce.bounced_on, bounce.reason)] = bounce
    # Earlier bounces that were resent, by address and document.
    resent: dict[tuple[str, str], int] = {}
    for bounce_id, address, key in session.execute(
        select(Bounce.id, Bounce.address, BounceDocument.document_key)
        .join(BounceDocument, BounceDocument.bounce_id == Bounce.id)
        .where(Bounce.address.in_(addresses), Bounce.state == lifecycle.RESENT)
        .order_by(Bounce.id)
    ):
        resent[(address, key)] = bounce_id

    new_bounces: list[Bounce] = []
    again: list[tuple[Bounce, int, str]] = []
    with session.no_autoflush:
        for row, reason_key, row_fingerprint in rows:
            if row_fingerprint in known:
                summary.duplicates += 1
                continue
            known.add(row_fingerprint)

            if row.address not in recipients:
                session.add(Recipient(address=row.address, domain=address_domain(row.address)))
                recipients.add(row.address)

            key = (row.address, row.bounced_on, reason_key)
            bounce = groups.get(key)
            if bounce is None:
                bounce = Bounce(address=row.address, domain=address_domain(row.address), bounced_on=row.bounced_on,
                                reason=reason_key, state=lifecycle.OPEN, created_at=utcnow())
                session.add(bounce)
                groups[key] = bounce
                new_bounces.append(bounce)
                summary.new_bounces += 1

            session.add(BounceDocument(
                bounce=bounce,
                fingerprint=row_fingerprint,
                document=row.document,
                document_key=document_key(row.document),
                client=row.client,
                original_address=row.original_address,
                reason_text=row.reason_text,
                error_code=row.error_code,
                details=row.details,
                bounced_at=row.bounced_at,
                source="report",
                source_name=source_name,
                source_line=row.line,
                imported_at=utcnow(),
            ))
            summary.new += 1
            summary.by_reason[reason_key] += 1
            if reason_key == reasons.OTHER and row.reason_text:
                summary.unknown_reason_texts[row.reason_text] += 1

            earlier = resent.get((row.address, document_key(row.document))) if row.document else None
            if earlier is not None and bounce.previous_bounce_id is None and bounce in new_bounces:
                bounce.previous_bounce_id = earlier
                again.append((bounce, earlier, row.document))

    session.flush()
    for bounce in new_bounces:
        bounce_store.add_audit(session, bounce_id=bounce.id, address=bounce.address, action="imported",
                               actor="system", to_state=lifecycle.OPEN, details={"source": source_name})
    for bounce, earlier, document in again:
        # A bounce that was resent and bounced again: link both ways in the audit log.
        summary.bounced_again += 1
        bounce_store.add_audit(session, bounce_id=bounce.id, address=bounce.address, action="bounced_again",
                               actor="system", details={"previous_bounce_id": earlier, "document": document})
        bounce_store.add_audit(session, bounce_id=earlier, address=bounce.address, action="bounced_again",
                               actor="system", details={"next_bounce_id": bounce.id, "document": document})

"""SQLAlchemy 2 models.

A *bounce* is one unit of work and one Slack message: every document that
bounced to the same address on the same day for the same reason. Each report
row is a *bounce document* under it. Times are stored in UTC; SQLite drops the
zone, so UTCDateTime puts it back on read.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; pass an aware UTC time")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Recipient(Base):
    """The team's record of one address (corrections, reactivation), shared by all its bounces."""

    __tablename__ = "recipients"
    __table_args__ = (
        # Lists the addresses of one domain in address order, one page at a time (/bounces @domain).
        Index("ix_recipients_domain_address", "domain", "address"),
    )

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    corrected_to: Mapped[str | None] = mapped_column(String(320))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_by: Mapped[str | None] = mapped_column(String(64))
    reactivation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reactivation_requested_by: Mapped[str | None] = mapped_column(String(64))
    reactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reactivated_by: Mapped[str | None] = mapped_column(String(64))


class DigestRun(Base):
    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    header_ts: Mapped[str | None] = mapped_column(String(32))
    header_permalink: Mapped[str | None] = mapped_column(String(500))
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    posted_count: Mapped[int] = mapped_column(Integer, default=0)


class Bounce(Base):
    __tablename__ = "bounces"
    __table_args__ = (
        UniqueConstraint("slack_channel", "slack_ts", name="uq_bounces_slack_message"),
        Index("ix_bounces_state_bounced_on", "state", "bounced_on"),
        Index("ix_bounces_group", "address", "bounced_on", "reason"),
        Index("ix_bounces_unposted", "slack_ts", "bounced_on"),
        # Counts a domain's bounces by state without reading table rows (/bounces @domain).
        Index("ix_bounces_domain_state", "domain", "state"),
        # Open items of one reason, oldest first, and open counts by reason (/bounces open, App Home).
        Index("ix_bounces_state_reason_bounced_on", "state", "reason", "bounced_on"),
        # The App Home's 30-day counts: bounces created, and bounces closed, since a cutoff.
        # The state column lets the closed count read the index alone.
        Index("ix_bounces_created_at", "created_at"),
        Index("ix_bounces_state_changed_at_state", "state_changed_at", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), ForeignKey("recipients.address"), index=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    bounced_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), default="open")
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # Set while slow work (an email, a webhook) runs for this bounce, so that a
    # second click cannot start the same work twice; cleared when it ends.
    pending_action: Mapped[str | None] = mapped_column(String(64))
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_bounce_id: Mapped[int | None] = mapped_column(ForeignKey("bounces.id"))
    digest_run_id: Mapped[int | None] = mapped_column(ForeignKey("digest_runs.id"))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    slack_permalink: Mapped[str | None] = mapped_column(String(500))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    documents: Mapped[list["BounceDocument"]] = relationship(
        back_populates="bounce", order_by="BounceDocument.id", lazy="selectin"
    )
    recipient: Mapped[Recipient] = relationship(lazy="joined")


class BounceDocument(Base):
    """One report row: one document that failed to reach the address."""

    __tablename__ = "bounce_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bounce_id: Mapped[int] = mapped_column(ForeignKey("bounces.id"), index=True)
    # sha256 of address, document, day, reason and error code: the same row in
    # a re-imported or overlapping report maps to the same fingerprint.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    document: Mapped[str] = mapped_column(String(200), default="")
    # The document number in upper case with inner spaces removed, so that a
    # lookup for "inv-1042" finds "INV-1042" (see bot.documents.document_key).
    document_key: Mapped[str] = mapped_column(String(200), index=True, default="")
    client: Mapped[str] = mapped_column(String(500), default="")
    original_address: Mapped[str] = mapped_column(String(1000))
    reason_text: Mapped[str] = mapped_column(String(500), default="")
    error_code: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(32), default="report")
    source_name: Mapped[str] = mapped_column(String(500), default="")
    source_line: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bounce: Mapped[Bounce] = relationship(back_populates="documents")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bounce_id: Mapped[int | None] = mapped_column(ForeignKey("bounces.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class HomeViewer(Base):
    """A user who opened the App Home tab, so that bounce changes republish their Home view."""

    __tablename__ = "home_viewers"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Lock(Base):
    """A named lease, so that one replica at a time runs a job such as the digest."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

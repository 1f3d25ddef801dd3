"""Read-only queries behind the slash command and the App Home tab.

Every query filters on an indexed column and is paged with LIMIT/OFFSET or
bounded with LIMIT, so a lookup's cost grows with the rows that match, not with
the size of the table. bench/lookup_bench.py measures this on a million
bounces and checks the query plans. Functions take an open Session, never write, and return ORM objects
or plain values; bot.lookup and bot.home turn them into the snapshots that
the renderers draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session, lazyload

from storage.models import Bounce, BounceDocument, DigestRun, HomeViewer, Recipient


# Bounce loads its Recipient with a JOIN by default. No lookup reads it through
# the bounce, so the join is left out, which also keeps it from steering
# SQLite's planner away from the index.
_WITHOUT_RECIPIENT = lazyload(Bounce.recipient)


@dataclass(frozen=True)
class StateCount:
    count: int
    last_bounced_on: date


# --- one address --------------------------------------------------------------


def bounces_for_address(session: Session, address: str, offset: int, limit: int) -> list[Bounce]:
    """Return one page of the address's bounces, newest first (index ix_bounces_group)."""
    query = (
        select(Bounce)
        .options(_WITHOUT_RECIPIENT)
        .where(Bounce.address == address)
        .order_by(Bounce.bounced_on.desc(), Bounce.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def get_recipient(session: Session, address: str) -> Recipient | None:
    return session.get(Recipient, address)


def state_counts_by_address(session: Session, addresses: Iterable[str]) -> dict[str, dict[str, StateCount]]:
    """Count each address's bounces by state, with the latest bounce day per state."""
    wanted = list(dict.fromkeys(addresses))
    counts: dict[str, dict[str, StateCount]] = {address: {} for address in wanted}
    if not wanted:
        return counts
    query = (
        select(Bounce.address, Bounce.state, func.count(), func.max(Bounce.bounced_on))
        .where(Bounce.address.in_(wanted))
        .group_by(Bounce.address, Bounce.state)
    )
    for address, state, count, last_bounced_on in session.execute(query):
        counts[address][state] = StateCount(count, last_bounced_on)
    return counts


# --- one domain ---------------------------------------------------------------


def count_recipients_in_domain(session: Session, domain: str) -> int:
    return session.scalar(select(func.count()).select_from(Recipient).where(Recipient.domain == domain)) or 0


def recipients_in_domain(session: Session, domain: str, offset: int, limit: int) -> list[Recipient]:
    """Return one page of the domain's addresses in address order (index ix_recipients_domain_address)."""
    query = (
        select(Recipient)
        .where(Recipient.domain == domain)
        .order_by(Recipient.address)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def state_counts_for_domain(session: Session, domain: str) -> dict[str, int]:
    """Count the domain's bounces by state from the index ix_bounces_domain_state alone."""
    query = select(Bounce.state, func.count()).where(Bounce.domain == domain).group_by(Bounce.state)
    return {state: count for state, count in session.execute(query)}


# --- one document number ------------------------------------------------------


def _bounce_ids_for_document(key: str):
    return select(BounceDocument.bounce_id).where(BounceDocument.document_key == key)


def count_bounces_for_document(session: Session, key: str) -> int:
    query = select(func.count()).select_from(Bounce).where(Bounce.id.in_(_bounce_ids_for_document(key)))
    return session.scalar(query) or 0


def bounces_for_document(session: Session, key: str, offset: int, limit: int) -> list[Bounce]:
    """Return one page of the bounces that carry document `key` (a bot.documents.document_key), newest first."""
    query = (
        select(Bounce)
        .options(_WITHOUT_RECIPIENT)
        .where(Bounce.id.in_(_bounce_ids_for_document(key)))
        .order_by(Bounce.bounced_on.desc(), Bounce.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


# --- open items ---------------------------------------------------------------


def active_counts_by_reason(session: Session, active_states: Iterable[str]) -> dict[str, int]:
    query = (
        select(Bounce.reason, func.count())
        .where(Bounce.state.in_(list(active_states)))
        .group_by(Bounce.reason)
    )
    return {reason: count for reason, count in session.execute(query)}


def _bounces_in_order(session: Session, ids: list[int]) -> list[Bounce]:
    """Load bounces by primary key, in the order of `ids`."""
    if not ids:
        return []
    loaded = session.scalars(select(Bounce).options(_WITHOUT_RECIPIENT).where(Bounce.id.in_(ids)))
    by_id = {bounce.id: bounce for bounce in loaded}
    return [by_id[bounce_id] for bounce_id in ids if bounce_id in by_id]


# The two queries below select ids first, which SQLite reads from the covering
# index ix_bounces_state_reason_bounced_on alone, and then load one page of
# rows by primary key. Selecting whole rows in one query lets SQLite's
# planner prefer a full table scan when its statistics make the state filter
# look unselective (six of the nine states are active).


def active_bounces(session: Session, active_states: Iterable[str], reason_order: Sequence[str],
                   offset: int, limit: int) -> list[Bounce]:
    """Return one page of active bounces grouped by reason in `reason_order`, oldest first within a reason.

    Reasons missing from `reason_order` (keys written by a newer version) sort last.
    """
    rank = case({reason: index for index, reason in enumerate(reason_order)}, value=Bounce.reason,
                else_=len(reason_order))
    query = (
        select(Bounce.id)
        .where(Bounce.state.in_(list(active_states)))
        .order_by(rank, Bounce.reason, Bounce.bounced_on, Bounce.id)
        .offset(offset)
        .limit(limit)
    )
    return _bounces_in_order(session, list(session.scalars(query)))


def oldest_active_for_reason(session: Session, active_states: Iterable[str], reason: str, limit: int) -> list[Bounce]:
    """Return the `limit` oldest active bounces of one reason."""
    query = (
        select(Bounce.id)
        .where(Bounce.state.in_(list(active_states)), Bounce.reason == reason)
        .order_by(Bounce.bounced_on, Bounce.id)
        .limit(limit)
    )
    return _bounces_in_order(session, list(session.scalars(query)))


# --- close matches for an address or domain with no history -------------------


def addresses_with_local_part(session: Session, local_part: str, exclude: str, limit: int) -> list[str]:
    """Return stored addresses that start with `local_part` + "@", other than `exclude`.

    This is a range on the address index: every such address sorts at or after
    "local@" and before "localA", because "A" is the character after "@". The
    range needs byte order, which SQLite's BINARY collation has and which
    PostgreSQL gets from `COLLATE "C"` and the index ix_recipients_address_bytes
    that migration 0002 creates.
    """
    column = Recipient.address
    if session.get_bind().dialect.name == "postgresql":
        column = Recipient.address.collate("C")
    query = (
        select(Recipient.address)
        .where(column >= f"{local_part}@", column < f"{local_part}A", Recipient.address != exclude)
        .order_by(column)
        .limit(limit)
    )
    return list(session.scalars(query))


# A loose index scan: each step seeks the next distinct domain on the domain
# index (ix_recipients_domain), so the cost is one index seek per distinct
# domain visited, however many addresses share a domain. The CASTs give both
# terms of each recursive CTE the same column type, which PostgreSQL requires.
_DOMAINS_NEAR = text("""
WITH RECURSIVE after_typed(domain, step) AS (
    SELECT CAST((SELECT min(domain) FROM recipients WHERE domain > :typed) AS VARCHAR(255)), 1
    UNION ALL
    SELECT CAST((SELECT min(r.domain) FROM recipients r WHERE r.domain > a.domain) AS VARCHAR(255)), a.step + 1
    FROM after_typed a WHERE a.domain IS NOT NULL AND a.step < :per_side
),
before_typed(domain, step) AS (
    SELECT CAST((SELECT max(domain) FROM recipients WHERE domain < :typed) AS VARCHAR(255)), 1
    UNION ALL
    SELECT CAST((SELECT max(r.domain) FROM recipients r WHERE r.domain < b.domain) AS VARCHAR(255)), b.step + 1
    FROM before_typed b WHERE b.domain IS NOT NULL AND b.step < :per_side
)
SELECT domain FROM after_typed
WHERE domain IS NOT NULL AND length(domain) BETWEEN :min_length AND :max_length
UNION ALL
SELECT domain FROM before_typed
WHERE domain IS NOT NULL AND length(domain) BETWEEN :min_length AND :max_length
""")


def domains_near(session: Session, typed: str, per_side: int, min_length: int, max_length: int) -> list[str]:
    """Return stored domains of a length within the bounds among the `per_side` distinct domains on each side of `typed`.

    The domains are the neighbours of `typed` in index order, so every stored
    domain is considered when there are at most 2 × `per_side` of them.
    """
    parameters = {"typed": typed, "per_side": per_side, "min_length": min_length, "max_length": max_length}
    return list(session.scalars(_DOMAINS_NEAR, parameters))


def existing_addresses(session: Session, addresses: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(addresses))
    if not wanted:
        return set()
    return set(session.scalars(select(Recipient.address).where(Recipient.address.in_(wanted))))


def domain_exists(session: Session, domain: str) -> bool:
    return session.scalar(select(Recipient.address).where(Recipient.domain == domain).limit(1)) is not None


# --- App Home -----------------------------------------------------------------


def last_digest(session: Session) -> DigestRun | None:
    """Return the newest digest run that posted a message, or None before the first digest."""
    query = (
        select(DigestRun)
        .where(DigestRun.header_ts.is_not(None))
        .order_by(DigestRun.day.desc(), DigestRun.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def count_created_since(session: Session, cutoff: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Bounce).where(Bounce.created_at >= cutoff)) or 0


def count_closed_since(session: Session, closed_states: Iterable[str], cutoff: datetime) -> int:
    query = (
        select(func.count())
        .select_from(Bounce)
        .where(Bounce.state_changed_at >= cutoff, Bounce.state.in_(list(closed_states)))
    )
    return session.scalar(query) or 0


def closed_since(session: Session, closed_states: Iterable[str], cutoff: datetime,
                 limit: int) -> list[tuple[datetime, datetime]]:
    """Return (created_at, state_changed_at) of bounces closed since `cutoff`, newest close first, at most `limit`."""
    query = (
        select(Bounce.created_at, Bounce.state_changed_at)
        .where(Bounce.state_changed_at >= cutoff, Bounce.state.in_(list(closed_states)))
        .order_by(Bounce.state_changed_at.desc())
        .limit(limit)
    )
    return [(created_at, changed_at) for created_at, changed_at in session.execute(query)]


def record_home_viewer(session: Session, user_id: str, at: datetime) -> None:
    viewer = session.get(HomeViewer, user_id)
    if viewer is None:
        session.add(HomeViewer(user_id=user_id, opened_at=at))
    else:
        viewer.opened_at = at


def recent_home_viewers(session: Session, since: datetime, limit: int) -> list[str]:
    """Return the users who opened the Home tab since `since`, most recent first, at most `limit`."""
    query = (
        select(HomeViewer.user_id)
        .where(HomeViewer.opened_at >= since)
        .order_by(HomeViewer.opened_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))

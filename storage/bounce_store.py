"""Queries and conditional updates on bounces, their documents and the audit log.

Functions take an open Session and never commit; the caller's unit of work
(storage.db.Database.session) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from bot import lifecycle, reasons
from storage.models import AuditEntry, Bounce, BounceDocument, Recipient, utcnow

# A pending action older than this is treated as abandoned (the process died
# while sending), so the button works again.
PENDING_TIMEOUT = timedelta(minutes=10)


@dataclass
class TransitionResult:
    applied: bool
    bounce: Bounce | None
    from_state: str | None
    current_state: str | None


def get_bounce(session: Session, bounce_id: int) -> Bounce | None:
    return session.get(Bounce, bounce_id, populate_existing=True)


def add_audit(
    session: Session,
    *,
    bounce_id: int | None,
    address: str | None,
    action: str,
    actor: str,
    from_state: str | None = None,
    to_state: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        bounce_id=bounce_id,
        address=address,
        action=action,
        actor=actor,
        at=utcnow(),
        from_state=from_state,
        to_state=to_state,
        details=details or {},
    )
    session.add(entry)
    return entry


def transition(
    session: Session,
    bounce_id: int,
    action: str,
    actor: str,
    *,
    details: dict[str, Any] | None = None,
    extra_values: dict[str, Any] | None = None,
) -> TransitionResult:
    """Apply `action` if the bounce is in one of its allowed states; write the audit entry when applied.

    The UPDATE carries the allowed states in its WHERE clause, so of two
    concurrent calls exactly one changes a row; the other gets applied=False.
    """
    rule = lifecycle.TRANSITIONS[action]
    before = session.execute(select(Bounce.state, Bounce.address).where(Bounce.id == bounce_id)).first()
    if before is None:
        return TransitionResult(False, None, None, None)

    now = utcnow()
    values: dict[str, Any] = {"version": Bounce.version + 1}
    if rule.to_state is not None:
        values.update(state=rule.to_state, state_changed_at=now, state_changed_by=actor)
    if rule.to_state == lifecycle.OPEN:
        values["claimed_by"] = None
    values.update(extra_values or {})

    result = session.execute(
        update(Bounce)
        .where(Bounce.id == bounce_id, Bounce.state.in_(rule.from_states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    bounce = get_bounce(session, bounce_id)
    if result.rowcount != 1:
        return TransitionResult(False, bounce, before.state, bounce.state if bounce else None)

    add_audit(
        session,
        bounce_id=bounce_id,
        address=before.address,
        action=action,
        actor=actor,
        from_state=before.state,
        to_state=rule.to_state,
        details=details,
    )
    return TransitionResult(True, bounce, before.state, bounce.state)


def claim(session: Session, bounce_id: int, actor: str) -> TransitionResult:
    """Record `actor` as the person on it; an open bounce becomes claimed, other states stay.

    Only an unclaimed bounce can be claimed, so two people clicking at once get one claimer.
    """
    before = session.execute(select(Bounce.state, Bounce.address).where(Bounce.id == bounce_id)).first()
    if before is None:
        return TransitionResult(False, None, None, None)

    now = utcnow()
    new_state = lifecycle.CLAIMED if before.state == lifecycle.OPEN else before.state
    result = session.execute(
        update(Bounce)
        .where(
            Bounce.id == bounce_id,
            Bounce.claimed_by.is_(None),
            Bounce.state == before.state,
            Bounce.state.in_(lifecycle.ACTIVE_STATES),
        )
        .values(
            claimed_by=actor,
            state=new_state,
            state_changed_at=now,
            state_changed_by=actor,
            version=Bounce.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    bounce = get_bounce(session, bounce_id)
    if result.rowcount != 1:
        return TransitionResult(False, bounce, before.state, bounce.state if bounce else None)

    add_audit(
        session,
        bounce_id=bounce_id,
        address=before.address,
        action="bounce.claim",
        actor=actor,
        from_state=before.state,
        to_state=new_state,
    )
    return TransitionResult(True, bounce, before.state, new_state)


def begin_pending(session: Session, bounce_id: int, action: str, from_states: Iterable[str] | None = None) -> bool:
    """Mark slow work as started for a bounce; False when other work is already running.

    With `from_states`, the mark is also only set while the bounce is in one of
    them, so a click that read the state before another click's work finished
    cannot start the same work again.
    """
    now = utcnow()
    conditions = [
        Bounce.id == bounce_id,
        or_(Bounce.pending_action.is_(None), Bounce.pending_since < now - PENDING_TIMEOUT),
    ]
    if from_states is not None:
        conditions.append(Bounce.state.in_(list(from_states)))
    result = session.execute(
        update(Bounce)
        .where(*conditions)
        .values(pending_action=action, pending_since=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def end_pending(session: Session, bounce_id: int) -> None:
    session.execute(
        update(Bounce)
        .where(Bounce.id == bounce_id)
        .values(pending_action=None, pending_since=None)
        .execution_options(synchronize_session=False)
    )


def recent_audit(session: Session, bounce_id: int, limit: int = 4) -> list[AuditEntry]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.bounce_id == bounce_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(rows)


def audit_for_bounces(session: Session, bounce_ids: Iterable[int]) -> dict[int, list[AuditEntry]]:
    ids = list(bounce_ids)
    grouped: dict[int, list[AuditEntry]] = {bounce_id: [] for bounce_id in ids}
    if not ids:
        return grouped
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.bounce_id.in_(ids)).order_by(AuditEntry.at, AuditEntry.id)
    )
    for entry in rows:
        grouped[entry.bounce_id].append(entry)
    return grouped


def unposted_bounces(session: Session, limit: int | None = None) -> list[Bounce]:
    # Same order as the digest header: by day, then reason in catalog order.
    reason_order = case({key: index for index, key in enumerate(reasons.REASON_ORDER)}, value=Bounce.reason,
                        else_=len(reasons.REASON_ORDER))
    query = (
        select(Bounce)
        .where(Bounce.slack_ts.is_(None))
        .order_by(Bounce.bounced_on, reason_order, Bounce.address, Bounce.id)
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_unposted(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Bounce).where(Bounce.slack_ts.is_(None))) or 0


def open_posted_before(session: Session, run_id: int | None) -> list[Bounce]:
    """Open bounces posted by earlier digests, oldest first."""
    query = select(Bounce).where(
        Bounce.state.in_(lifecycle.ACTIVE_STATES),
        Bounce.slack_ts.is_not(None),
    )
    if run_id is not None:
        query = query.where(or_(Bounce.digest_run_id.is_(None), Bounce.digest_run_id != run_id))
    return list(session.scalars(query.order_by(Bounce.bounced_on, Bounce.id)))


def record_post(session: Session, bounce_id: int, run_id: int | None, channel: str, ts: str, permalink: str | None) -> None:
    session.execute(
        update(Bounce)
        .where(Bounce.id == bounce_id)
        .values(
            digest_run_id=run_id,
            slack_channel=channel,
            slack_ts=ts,
            slack_permalink=permalink,
            posted_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def find_by_message(session: Session, channel: str, ts: str) -> Bounce | None:
    return session.scalar(select(Bounce).where(and_(Bounce.slack_channel == channel, Bounce.slack_ts == ts)))


def get_recipient(session: Session, address: str) -> Recipient | None:
    return session.get(Recipient, address)


def documents_summary(bounce: Bounce) -> list[BounceDocument]:
    return list(bounce.documents)


def previous_bounce(session: Session, bounce: Bounce) -> Bounce | None:
    if bounce.previous_bounce_id is None:
        return None
    return session.get(Bounce, bounce.previous_bounce_id)


def age_in_days(bounce: Bounce, today: date) -> int:
    return max(0, (today - bounce.bounced_on).days)


def last_change(bounce: Bounce) -> datetime | None:
    return bounce.state_changed_at or bounce.created_at

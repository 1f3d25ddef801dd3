"""Load the plain snapshots that bot.render draws from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.render import ActionView, BounceView, DocumentView
from storage import bounce_store
from storage.models import Bounce


def since_bounce(moment: datetime | None, bounce: Bounce) -> datetime | None:
    """Return `moment` when it happened after `bounce` was imported, else None.

    A reactivation requested or confirmed for an earlier bounce says nothing
    about this one: the address bounced again since, so it is suppressed again.
    """
    if moment is None:
        return None
    if bounce.created_at is not None and moment < bounce.created_at:
        return None
    return moment


def bounce_view(session: Session, bounce: Bounce, history_limit: int = 4) -> BounceView:
    recipient = bounce_store.get_recipient(session, bounce.address)
    previous = bounce_store.previous_bounce(session, bounce)
    history = bounce_store.recent_audit(session, bounce.id, history_limit)
    return BounceView(
        id=bounce.id,
        address=bounce.address,
        reason=bounce.reason,
        bounced_on=bounce.bounced_on,
        state=bounce.state,
        documents=tuple(
            DocumentView(
                document=document.document,
                client=document.client,
                original_address=document.original_address,
                reason_text=document.reason_text,
                error_code=document.error_code,
                details=document.details,
                bounced_at=document.bounced_at,
            )
            for document in bounce.documents
        ),
        history=tuple(ActionView(entry.action, entry.actor, entry.at, dict(entry.details or {})) for entry in history),
        claimed_by=bounce.claimed_by,
        state_changed_at=bounce.state_changed_at,
        state_changed_by=bounce.state_changed_by,
        corrected_to=recipient.corrected_to if recipient else None,
        reactivation_requested_at=since_bounce(recipient.reactivation_requested_at, bounce) if recipient else None,
        reactivated_at=since_bounce(recipient.reactivated_at, bounce) if recipient else None,
        previous_bounce_id=bounce.previous_bounce_id,
        previous_permalink=previous.slack_permalink if previous else None,
        pending_action=bounce.pending_action,
        permalink=bounce.slack_permalink,
    )

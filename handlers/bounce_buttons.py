"""Listeners for the buttons on bounce messages and in the App Home (action ids `bounce.*`).

Every click is acknowledged first. The button's value is only a lookup key:
the permission check uses the clicking user, and the state check happens in
the conditional update inside the service. Buttons that open a modal call
views.open right after the acknowledgement, because a trigger_id expires
after three seconds.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

from slack_bolt import Ack, App

from bot import actions, modals, reasons
from bot.bounce_actions import ActionOutcome, not_found_outcome
from bot.services import Services
from bot.slack_gateway import SlackError
from handlers.payloads import bounce_id_from_action, channel_id, user_id

log = logging.getLogger(__name__)

# Buttons whose whole effect is one state transition.
SIMPLE_ACTIONS = frozenset({
    actions.CLAIM,
    actions.MARK_FIXED,
    actions.REOPEN,
    actions.CLIENT_CONTACTED,
    actions.POSTED_AND_SENT,
    actions.ALREADY_PAID,
})


def tell_user(services: Services, body: dict[str, Any], text: str, bounce_id: int | None = None) -> None:
    """Show `text` to the acting user only.

    Ephemeral in the channel the click came from, or in the bounce's own channel
    for modal submissions; a direct message from the app when there is neither.
    """
    if services.slack is None:
        return
    user = user_id(body)
    channel = channel_id(body)
    if channel is None and bounce_id is not None:
        snapshot = services.workflows.snapshot(bounce_id)
        channel = snapshot.slack_channel if snapshot else None
    try:
        if channel:
            services.slack.post_ephemeral(channel, user, text)
            return
    except SlackError as error:
        log.warning("reply.ephemeral_failed user=%s channel=%s error=%s", user, channel, error.error)
    try:
        services.slack.post_message(user, text)
    except SlackError as error:
        log.error("reply.failed user=%s error=%s", user, error.error)


def open_modal(services: Services, body: dict[str, Any], view: dict[str, Any], bounce_id: int) -> ActionOutcome | None:
    try:
        services.slack.open_view(body["trigger_id"], view)
    except (SlackError, KeyError) as error:
        log.error("modal.open_failed bounce_id=%d error=%s", bounce_id, getattr(error, "error", error))
        return ActionOutcome(False, bounce_id, "The form could not be opened (Slack refused it or the click was too "
                                               "old). Click the button again.")
    log.info("modal.opened bounce_id=%d callback_id=%s", bounce_id, view.get("callback_id"))
    return None


def notifier(services: Services, body: dict[str, Any], bounce_id: int | None = None):
    """Return a callback that shows the outcome of background work to the clicker."""

    def notify(outcome: ActionOutcome) -> None:
        if outcome.message:
            tell_user(services, body, outcome.message, bounce_id)

    return notify


def _snapshot_or_outcome(services: Services, bounce_id: int):
    snapshot = services.workflows.snapshot(bounce_id)
    if snapshot is None:
        return None, not_found_outcome(bounce_id)
    return snapshot, None


def on_add_note(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    return open_modal(services, body, modals.note_modal(bounce_id, snapshot.address), bounce_id)


def on_correct_address(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    problem = services.workflows.allows(snapshot, actions.CORRECT_ADDRESS)
    if problem:
        return ActionOutcome(False, bounce_id, problem)
    return open_modal(services, body, modals.correct_address_modal(bounce_id, snapshot.address), bounce_id)


def on_client_it_note(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    problem = services.workflows.allows(snapshot, actions.CLIENT_IT_NOTE)
    if problem:
        return ActionOutcome(False, bounce_id, problem)
    subject, text = services.workflows.it_note(snapshot)
    view = modals.client_it_note_modal(bounce_id, snapshot.address, subject, text,
                                       can_email=services.mailer is not None,
                                       domain_missing=not services.settings.sending_domain)
    return open_modal(services, body, view, bounce_id)


def on_recipient_contacted(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    problem = services.workflows.allows(snapshot, actions.RECIPIENT_CONTACTED)
    if problem:
        return ActionOutcome(False, bounce_id, problem)
    view = modals.recipient_draft_modal(bounce_id, snapshot.address, services.workflows.recipient_draft(snapshot))
    return open_modal(services, body, view, bounce_id)


def on_resend(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    problem = services.workflows.allows(snapshot, actions.RESEND) or services.workflows.resend_blocker(snapshot)
    if problem:
        return ActionOutcome(False, bounce_id, problem)
    if services.workflows.resend_backend.automatic:
        return services.workflows.resend(bounce_id, user, notify=notifier(services, body))
    target = snapshot.corrected_to or snapshot.address
    return open_modal(services, body, modals.resend_modal(bounce_id, target, snapshot.facts.documents), bounce_id)


def on_support_email(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    action = body["actions"][0]["action_id"]
    snapshot, missing = _snapshot_or_outcome(services, bounce_id)
    if missing:
        return missing
    problem = services.workflows.allows(snapshot, action)
    if problem:
        return ActionOutcome(False, bounce_id, problem)
    if services.mailer is not None:
        return services.workflows.send_support_email(bounce_id, action, user, notify=notifier(services, body))
    draft = services.workflows.support_draft(snapshot, action, services.workflows.user_label(user))
    return open_modal(services, body, modals.email_draft_modal(bounce_id, action, draft), bounce_id)


def on_reactivated(services: Services, body: dict[str, Any], bounce_id: int, user: str) -> ActionOutcome | None:
    return services.workflows.mark_reactivated(bounce_id, user)


ButtonHandler = Callable[[Services, dict[str, Any], int, str], "ActionOutcome | None"]

HANDLERS: dict[str, ButtonHandler] = {
    actions.ADD_NOTE: on_add_note,
    actions.CORRECT_ADDRESS: on_correct_address,
    actions.CLIENT_IT_NOTE: on_client_it_note,
    actions.RECIPIENT_CONTACTED: on_recipient_contacted,
    actions.RESEND: on_resend,
    actions.REQUEST_REACTIVATION: on_support_email,
    actions.CONTACT_SUPPORT: on_support_email,
    actions.REACTIVATED: on_reactivated,
}


def _reason_mismatch(services: Services, action_id: str, bounce_id: int) -> str | None:
    """Explain why a known button does not belong to the bounce's reason, such as "Already paid" on a hard bounce.

    Such clicks come from forged requests or from messages rendered by another
    version. Returns None for unknown bounces, so that the handlers report them as not found.
    """
    reason_key = services.actions.reason_of(bounce_id)
    if reason_key is None or action_id not in actions.BUTTON_LABELS:
        return None
    reason = reasons.get(reason_key)
    if action_id in reason.buttons:
        return None
    return (f"\"{actions.BUTTON_LABELS[action_id]}\" does not apply to this bounce: its reason is {reason.title}. "
            "Nothing was changed; the message shows the buttons that do apply.")


def handle_click(services: Services, body: dict[str, Any], action: dict[str, Any]) -> ActionOutcome | None:
    action_id = action.get("action_id", "")
    user = user_id(body)
    bounce_id = bounce_id_from_action(action)
    log.info("click.received action=%s bounce_id=%s user=%s", action_id, bounce_id, user)

    if bounce_id is None:
        tell_user(services, body, f"This button carries no valid bounce id ({str(action.get('value'))[:40]!r}), "
                                  "so nothing was changed.")
        return None
    if not services.permissions.is_allowed(user):
        log.warning("click.denied action=%s bounce_id=%d user=%s", action_id, bounce_id, user)
        tell_user(services, body, services.permissions.denial_text())
        return None

    problem = _reason_mismatch(services, action_id, bounce_id)
    if problem:
        tell_user(services, body, problem)
        return None

    if action_id in HANDLERS:
        outcome = HANDLERS[action_id](services, body, bounce_id, user)
    elif action_id in SIMPLE_ACTIONS:
        outcome = services.actions.apply(action_id, bounce_id, user)
    else:
        tell_user(services, body, f"The button {action_id!r} is not known to this version of Bounce Desk. "
                                  "Nothing was changed.")
        return None

    if outcome is not None and outcome.message:
        tell_user(services, body, outcome.message)
    return outcome


def register(app: App, services: Services) -> None:
    @app.action(re.compile(r"^bounce\."))
    def on_bounce_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        handle_click(services, body, action)

"""Listeners for modal submissions (callback ids `modal.*`).

Input is validated before the acknowledgement, so invalid input is answered
inside the modal with a field error and nothing is stored. Valid input is
acknowledged (the modal closes) and then applied, so Slack calls made while
applying never delay the acknowledgement.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import actions, modals
from bot.bounce_workflows import FieldError
from bot.services import Services
from handlers.bounce_buttons import notifier, tell_user
from handlers.payloads import user_id

log = logging.getLogger(__name__)

SUPPORT_ACTIONS = (actions.REQUEST_REACTIVATION, actions.CONTACT_SUPPORT)


def _start(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], callback_action: str | None = None):
    """Common checks: readable metadata, a permitted user. Returns (metadata, user) or None after acknowledging."""
    user = user_id(body)
    metadata = modals.read_metadata(view)
    if metadata is None or (callback_action and metadata.action != callback_action):
        log.warning("modal.bad_metadata callback_id=%s user=%s", view.get("callback_id"), user)
        ack()
        tell_user(services, body, "That form could not be matched to a bounce (its hidden data is missing or "
                                  "malformed), so nothing was saved. Open it again from the bounce's message.")
        return None
    log.info("modal.submitted callback_id=%s bounce_id=%d user=%s", view.get("callback_id"), metadata.bounce_id, user)
    if not services.permissions.is_allowed(user):
        log.warning("modal.denied bounce_id=%d user=%s", metadata.bounce_id, user)
        ack()
        tell_user(services, body, services.permissions.denial_text(), metadata.bounce_id)
        return None
    return metadata, user


def _report(services: Services, body: dict[str, Any], outcome, bounce_id: int) -> None:
    if outcome is not None and outcome.message:
        tell_user(services, body, outcome.message, bounce_id)


def register(app: App, services: Services) -> None:
    workflows = services.workflows

    @app.view(actions.MODAL_NOTE)
    def on_note(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view, actions.ADD_NOTE)
        if started is None:
            return
        metadata, user = started
        try:
            note = workflows.check_note(modals.input_value(view, modals.NOTE_BLOCK, modals.NOTE_INPUT))
        except FieldError as error:
            ack(response_action="errors", errors={error.block_id: str(error)})
            return
        ack()
        _report(services, body, workflows.add_note(metadata.bounce_id, user, note), metadata.bounce_id)

    @app.view(actions.MODAL_CORRECT_ADDRESS)
    def on_correct_address(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view, actions.CORRECT_ADDRESS)
        if started is None:
            return
        metadata, user = started
        raw = modals.input_value(view, modals.ADDRESS_BLOCK, modals.ADDRESS_INPUT)
        try:
            address, suggestion = workflows.check_correction(metadata.bounce_id, raw,
                                                             metadata.extra.get("confirmed_typo"))
        except FieldError as error:
            ack(response_action="errors", errors={error.block_id: str(error)})
            return
        if suggestion:
            snapshot = workflows.snapshot(metadata.bounce_id)
            ack(response_action="update", view=modals.correct_address_modal(
                metadata.bounce_id, snapshot.address if snapshot else "", typed=address, suggestion=suggestion))
            return
        ack()
        _report(services, body, workflows.correct_address(metadata.bounce_id, user, address), metadata.bounce_id)

    @app.view(actions.MODAL_CLIENT_IT_NOTE)
    def on_it_note(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view, actions.CLIENT_IT_NOTE)
        if started is None:
            return
        metadata, user = started
        contact = modals.input_value(view, modals.CONTACT_BLOCK, modals.CONTACT_INPUT)
        try:
            address = workflows.check_it_contact(metadata.bounce_id, contact)
        except FieldError as error:
            ack(response_action="errors", errors={error.block_id: str(error)})
            return
        ack()
        notify = notifier(services, body, metadata.bounce_id)
        _report(services, body, workflows.send_it_note(metadata.bounce_id, user, address, notify=notify),
                metadata.bounce_id)

    @app.view(actions.MODAL_RECIPIENT_DRAFT)
    def on_recipient_contacted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view, actions.RECIPIENT_CONTACTED)
        if started is None:
            return
        metadata, user = started
        ack()
        outcome = services.actions.apply(actions.RECIPIENT_CONTACTED, metadata.bounce_id, user)
        _report(services, body, outcome, metadata.bounce_id)

    @app.view(actions.MODAL_RESEND)
    def on_resend(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view, actions.RESEND)
        if started is None:
            return
        metadata, user = started
        ack()
        snapshot = workflows.snapshot(metadata.bounce_id)
        if snapshot is None:
            _report(services, body, services.actions.apply(actions.RESEND, metadata.bounce_id, user), metadata.bounce_id)
            return
        blocker = workflows.resend_blocker(snapshot)
        if blocker:
            tell_user(services, body, blocker, metadata.bounce_id)
            return
        outcome = workflows.record_resend(metadata.bounce_id, user, "resent by hand (practice management system or "
                                          "BCC copy)", snapshot.corrected_to or snapshot.address)
        _report(services, body, outcome, metadata.bounce_id)

    @app.view(actions.MODAL_EMAIL_DRAFT)
    def on_email_draft(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = _start(services, ack, body, view)
        if started is None:
            return
        metadata, user = started
        if metadata.action not in SUPPORT_ACTIONS:
            ack()
            tell_user(services, body, f"That form is for an unknown action ({metadata.action[:40]!r}); nothing was "
                                      "saved.", metadata.bounce_id)
            return
        ack()
        outcome = workflows.record_support_contact(metadata.bounce_id, metadata.action, user,
                                                   {"to": services.settings.support_email, "by_hand": True},
                                                   sent_by="hand")
        _report(services, body, outcome, metadata.bounce_id)

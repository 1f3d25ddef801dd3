"""Actions that do more than change state: emails, resends, corrections and notes.

Slow work (SMTP, the resend webhook) runs after the click was acknowledged.
Before it starts, begin_pending() marks the bounce with a conditional update
that also requires a state the action starts from, so two clicks (or two
replicas) cannot start the same work twice. Only when the work succeeds does
the state advance, and the mark is cleared in the same transaction, so no
second click fits in between. On failure the mark is cleared, the error is
logged with the bounce id and shown to the clicker, and the button works again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from bot import actions, emails, lifecycle
from bot.blocks import distinct
from bot.addresses import InvalidAddress, normalize_address, suggest_domain_fix
from bot.bounce_actions import ActionOutcome, BounceActions, not_found_outcome
from bot.mailer import Draft, MailError
from bot.modals import NOTE_MAX_LENGTH
from bot.mrkdwn import escape, mention
from bot.resend import ResendBackend, ResendRequest
from bot.slack_gateway import SlackError
from storage import bounce_store
from storage.db import Database
from storage.snapshots import since_bounce
from storage.models import Bounce, Recipient, utcnow

log = logging.getLogger(__name__)


# Slow jobs (SMTP, the resend webhook) that run at the same time; more wait for a free slot.
# Each job is bounded by SMTP_TIMEOUT_SECONDS or RESEND_WEBHOOK_TIMEOUT_SECONDS.
MAX_PARALLEL_SLOW_WORK = 4

# Receives the outcome of slow work that ran in the background, to show its message to the clicker.
Notify = Callable[[ActionOutcome], None]


class FieldError(Exception):
    """Invalid modal input: `block_id` names the input, and the message states what is wrong and what to do."""

    def __init__(self, block_id: str, message: str):
        super().__init__(message)
        self.block_id = block_id


@dataclass(frozen=True)
class BounceSnapshot:
    """The facts about a bounce that the workflows need, read in one session."""

    id: int
    address: str
    reason: str
    state: str
    claimed_by: str | None
    slack_channel: str | None
    slack_ts: str | None
    corrected_to: str | None
    reactivated: bool
    facts: emails.BounceFacts


class BounceWorkflows:
    def __init__(self, database: Database, actions_service: BounceActions, slack, mailer, resend_backend: ResendBackend,
                 settings):
        self.database = database
        self.actions = actions_service
        self.slack = slack
        self.mailer = mailer
        self.resend_backend = resend_backend
        self.settings = settings
        self._slow_work_slots = threading.BoundedSemaphore(MAX_PARALLEL_SLOW_WORK)

    # Reading

    def snapshot(self, bounce_id: int) -> BounceSnapshot | None:
        with self.database.session() as session:
            bounce = bounce_store.get_bounce(session, bounce_id)
            if bounce is None:
                return None
            recipient = session.get(Recipient, bounce.address)
            documents = list(bounce.documents)
            return BounceSnapshot(
                id=bounce.id,
                address=bounce.address,
                reason=bounce.reason,
                state=bounce.state,
                claimed_by=bounce.claimed_by,
                slack_channel=bounce.slack_channel,
                slack_ts=bounce.slack_ts,
                corrected_to=recipient.corrected_to if recipient else None,
                reactivated=recipient is not None and since_bounce(recipient.reactivated_at, bounce) is not None,
                facts=emails.BounceFacts(
                    bounce_id=bounce.id,
                    address=bounce.address,
                    reason=bounce.reason,
                    bounced_on=bounce.bounced_on,
                    documents=distinct(document.document for document in documents),
                    clients=distinct(document.client for document in documents),
                    error_codes=distinct(document.error_code for document in documents),
                    details=distinct(document.details for document in documents),
                ),
            )

    def allows(self, snapshot: BounceSnapshot, action: str) -> str | None:
        """Return why `action` cannot start now, or None when it can."""
        rule = lifecycle.TRANSITIONS[action]
        if snapshot.state in rule.from_states:
            return None
        state = lifecycle.STATE_LABELS.get(snapshot.state, snapshot.state).lower()
        label = actions.BUTTON_LABELS.get(action, action)
        if lifecycle.is_closed(snapshot.state):
            return f"\"{label}\" was not started: this bounce is already {state}. Use Reopen first if it needs more work."
        return f"\"{label}\" does not apply while this bounce is {state}."

    def resend_blocker(self, snapshot: BounceSnapshot) -> str | None:
        """Explain why a resend cannot reach the address yet (a hard bounce not corrected or reactivated), or return None."""
        if lifecycle.resend_ready(snapshot.reason, snapshot.state, bool(snapshot.corrected_to), snapshot.reactivated):
            return None
        return (f"Not resent: {snapshot.address} hard-bounced, so the mail provider suppresses it and a resend "
                "would bounce again. First use *Correct address* if it was wrong, or *Request reactivation* and wait "
                "for support to confirm (*Reactivated*); then resend.")

    # Drafts

    def support_draft(self, snapshot: BounceSnapshot, action: str, user: str) -> Draft:
        firm = self.settings.firm_name
        if action == actions.CONTACT_SUPPORT:
            return emails.missing_invoice_request(snapshot.facts, firm, self.settings.support_email, user)
        return emails.reactivation_request(snapshot.facts, firm, self.settings.support_email, user)

    def it_note(self, snapshot: BounceSnapshot) -> tuple[str, str]:
        return emails.client_it_note(snapshot.facts, self.settings.firm_name, self.settings.sending_domain)

    def recipient_draft(self, snapshot: BounceSnapshot) -> str:
        return emails.recipient_contact_draft(snapshot.facts, self.settings.firm_name)

    # Slow work with a pending mark

    def _with_pending(self, bounce_id: int, action: str, user: str, work: Callable[[], tuple[bool, str]],
                      on_success: Callable[[], ActionOutcome], notify: Notify | None) -> ActionOutcome | None:
        """Run `work` under the bounce's pending mark; on success call `on_success`, which must clear the mark.

        `on_success` clears the mark in the transaction that records the
        result (see record_support_contact and record_resend), so the state
        changes before another click can set the mark again. With `notify`,
        the work runs on a background thread and this returns None once the
        mark is set, so a Bolt worker is never held by SMTP or the webhook.
        `notify` then receives the outcome if it has a message for the clicker.
        Without `notify`, the work runs on the calling thread and its outcome is returned.
        """
        with self.database.session() as session:
            if bounce_store.get_bounce(session, bounce_id) is None:
                return not_found_outcome(bounce_id)
            started = bounce_store.begin_pending(session, bounce_id, action,
                                                 lifecycle.TRANSITIONS[action].from_states)
        if not started:
            return self._not_started(bounce_id, action)
        self.actions.refresh_message(bounce_id)
        if notify is None:
            return self._finish_pending(bounce_id, action, user, work, on_success)

        def run_in_background() -> None:
            try:
                with self._slow_work_slots:
                    outcome = self._finish_pending(bounce_id, action, user, work, on_success)
                if outcome.message:
                    notify(outcome)
            except Exception:  # a background thread has no caller to raise to
                log.exception("workflow.background_failed bounce_id=%d action=%s user=%s", bounce_id, action, user)

        # NOTE: daemon threads stop with the process. An email cut off that way leaves the mark
        # set until PENDING_TIMEOUT (storage.bounce_store) passes, and then the button works again.
        threading.Thread(target=run_in_background, name=f"slow-work-{bounce_id}", daemon=True).start()
        return None

    def _finish_pending(self, bounce_id: int, action: str, user: str, work: Callable[[], tuple[bool, str]],
                        on_success: Callable[[], ActionOutcome]) -> ActionOutcome:
        """Run `work` with the mark already set, then record its success or failure."""
        try:
            ok, summary = work()
        except Exception:  # unexpected errors must still clear the mark so the button works again
            log.exception("workflow.crashed bounce_id=%d action=%s", bounce_id, action)
            ok, summary = False, "an unexpected error occurred (see the Bounce Desk logs)"
        if not ok:
            return self._fail_pending(bounce_id, action, user, summary)

        try:
            return on_success()
        except Exception:  # the work is done, so report that and clear the mark so the button works again
            log.exception("workflow.record_failed bounce_id=%d action=%s user=%s", bounce_id, action, user)
            with self.database.session() as session:
                bounce_store.end_pending(session, bounce_id)
            self.actions.refresh_message(bounce_id)
            label = actions.BUTTON_LABELS.get(action, action)
            return ActionOutcome(False, bounce_id, f"\"{label}\" was done, but recording it failed (see the Bounce "
                                                   "Desk logs). Check before trying again.")

    def _startable(self, bounce_id: int, action: str) -> tuple[BounceSnapshot | None, ActionOutcome | None]:
        """Return the bounce's snapshot, or the outcome to show when it is missing or `action` does not apply now."""
        snapshot = self.snapshot(bounce_id)
        if snapshot is None:
            return None, not_found_outcome(bounce_id)
        problem = self.allows(snapshot, action)
        if problem:
            return None, ActionOutcome(False, bounce_id, problem)
        return snapshot, None

    def _not_started(self, bounce_id: int, action: str) -> ActionOutcome:
        """Explain why begin_pending() did not set the mark: other work is running, or the state moved on."""
        _, refusal = self._startable(bounce_id, action)
        if refusal is not None:
            return refusal
        return ActionOutcome(False, bounce_id, "Someone already started this a moment ago; the message updates "
                                               "when it finishes. Nothing more was done.")

    def _fail_pending(self, bounce_id: int, action: str, user: str, summary: str) -> ActionOutcome:
        """Clear the mark after failed work, audit and log the failure, and tell the clicker."""
        with self.database.session() as session:
            bounce_store.end_pending(session, bounce_id)
            bounce = session.get(Bounce, bounce_id)
            bounce_store.add_audit(session, bounce_id=bounce_id, address=bounce.address if bounce else None,
                                   action=f"{action}.failed", actor=user, details={"summary": summary})
        log.error("workflow.failed bounce_id=%d action=%s user=%s error=%s", bounce_id, action, user, summary)
        self.actions.refresh_message(bounce_id)
        label = actions.BUTTON_LABELS.get(action, action)
        return ActionOutcome(False, bounce_id, f"\"{label}\" failed: {escape(summary)}. "
                                               "Nothing was changed, so you can try again.")

    def send_support_email(self, bounce_id: int, action: str, user: str,
                           notify: Notify | None = None) -> ActionOutcome | None:
        """Email support (reactivation or missing invoice) and advance the state once the email is accepted.

        With `notify`, the email is sent in the background (see _with_pending).
        """
        snapshot, refusal = self._startable(bounce_id, action)
        if refusal is not None:
            return refusal
        sent: dict[str, Any] = {}

        def work() -> tuple[bool, str]:
            draft = self.support_draft(snapshot, action, self.user_label(user))
            sent["draft"] = draft
            try:
                sent["message_id"] = self.mailer.send(draft)
            except MailError as error:
                return False, f"the email to {draft.to} was not sent: {error}"
            return True, ""

        def on_success() -> ActionOutcome:
            draft = sent["draft"]
            details = {"to": draft.to, "subject": draft.subject, "message_id": sent.get("message_id", "")}
            return self.record_support_contact(bounce_id, action, user, details, sent_by="Bounce Desk",
                                               end_pending=True)

        return self._with_pending(bounce_id, action, user, work, on_success, notify)

    def record_support_contact(self, bounce_id: int, action: str, user: str, details: dict[str, Any],
                               sent_by: str, end_pending: bool = False) -> ActionOutcome:
        """Advance the state after support was contacted, by Bounce Desk's email or by hand.

        With `end_pending`, the pending mark is cleared in the same transaction.
        """
        with self.database.session() as session:
            result = bounce_store.transition(session, bounce_id, action, user, details=details)
            if result.applied and action == actions.REQUEST_REACTIVATION:
                recipient = session.get(Recipient, result.bounce.address)
                recipient.reactivation_requested_at = utcnow()
                recipient.reactivation_requested_by = user
                recipient.reactivated_at = None
                recipient.reactivated_by = None
            if end_pending:
                bounce_store.end_pending(session, bounce_id)
        if not result.applied:
            if result.bounce is None:
                return not_found_outcome(bounce_id)
            if end_pending:
                self.actions.refresh_message(bounce_id)
            return ActionOutcome(False, bounce_id, "The email was sent, but the bounce had already moved on, so its "
                                                   "state was left as it is.")
        log.info("workflow.support_contacted bounce_id=%d action=%s user=%s by=%s", bounce_id, action, user, sent_by)
        if action == actions.REQUEST_REACTIVATION:
            note = (f"{mention(user)} asked support ({escape(details.get('to', ''))}) to reactivate this address "
                    f"({'emailed by Bounce Desk' if sent_by == 'Bounce Desk' else 'sent by hand'}). "
                    "Nothing will deliver to it until support confirms; then press *Reactivated*.")
        else:
            note = (f"{mention(user)} contacted support ({escape(details.get('to', ''))}) about this invoice "
                    f"({'emailed by Bounce Desk' if sent_by == 'Bounce Desk' else 'sent by hand'}).")
        self.thread_reply(bounce_id, note)
        self.actions.refresh_message(bounce_id)
        return ActionOutcome(True, bounce_id, changed=True)

    def mark_reactivated(self, bounce_id: int, user: str) -> ActionOutcome:
        with self.database.session() as session:
            result = bounce_store.transition(session, bounce_id, actions.REACTIVATED, user)
            if result.applied:
                recipient = session.get(Recipient, result.bounce.address)
                recipient.reactivated_at = utcnow()
                recipient.reactivated_by = user
        if result.bounce is None:
            return not_found_outcome(bounce_id)
        if not result.applied:
            return ActionOutcome(False, bounce_id, "\"Reactivated\" applies only after reactivation was requested.")
        self.thread_reply(bounce_id, f"{mention(user)} confirmed that support reactivated the address. "
                                     "It can be resent now.")
        self.actions.refresh_message(bounce_id)
        return ActionOutcome(True, bounce_id, changed=True)

    def resend(self, bounce_id: int, user: str, notify: Notify | None = None) -> ActionOutcome | None:
        """Resend through the automatic backend; callers handle the manual backend with a modal.

        With `notify`, the backend is called in the background (see _with_pending).
        """
        snapshot = self.snapshot(bounce_id)
        if snapshot is None:
            return not_found_outcome(bounce_id)
        problem = self.allows(snapshot, actions.RESEND) or self.resend_blocker(snapshot)
        if problem:
            return ActionOutcome(False, bounce_id, problem)
        request = self._resend_request(snapshot, user)
        answer: dict[str, str] = {}

        def work() -> tuple[bool, str]:
            result = self.resend_backend.resend(request)
            answer["summary"] = result.summary
            return result.ok, result.summary

        def on_success() -> ActionOutcome:
            return self.record_resend(bounce_id, user, answer.get("summary", ""), request.address, end_pending=True)

        return self._with_pending(bounce_id, actions.RESEND, user, work, on_success, notify)

    def record_resend(self, bounce_id: int, user: str, summary: str, target: str,
                      end_pending: bool = False) -> ActionOutcome:
        """Record a resend; `end_pending` clears the pending mark of an automatic resend in the same transaction."""
        with self.database.session() as session:
            result = bounce_store.transition(session, bounce_id, actions.RESEND, user,
                                             details={"summary": summary, "to": target,
                                                      "backend": self.resend_backend.name})
            if end_pending:
                bounce_store.end_pending(session, bounce_id)
        if result.bounce is None:
            return not_found_outcome(bounce_id)
        if not result.applied:
            if end_pending:
                self.actions.refresh_message(bounce_id)
                return ActionOutcome(False, bounce_id, f"The resend went out ({escape(summary)}), but the bounce was "
                                                       "closed meanwhile, so it was not recorded as resent.")
            return ActionOutcome(False, bounce_id, "This bounce was already resent or closed; nothing was recorded.")
        self.thread_reply(bounce_id, f"{mention(user)} resent it to {escape(target)}: {escape(summary)}.")
        self.actions.refresh_message(bounce_id)
        return ActionOutcome(True, bounce_id, changed=True)

    def _resend_request(self, snapshot: BounceSnapshot, user: str) -> ResendRequest:
        with self.database.session() as session:
            bounce = session.get(Bounce, snapshot.id)
            documents = [{"document": document.document, "client": document.client} for document in bounce.documents]
        return ResendRequest(
            bounce_id=snapshot.id,
            address=snapshot.corrected_to or snapshot.address,
            original_address=snapshot.address,
            reason=snapshot.reason,
            bounced_on=snapshot.facts.bounced_on.isoformat(),
            documents=documents,
            requested_by=user,
            requested_at=utcnow().isoformat(),
            firm_name=self.settings.firm_name,
        )

    # Modal submissions

    def _other_address(self, bounce_id: int, raw: str, block_id: str, same_address_message: str) -> str:
        """Normalise an address typed in a modal that must differ from the bounced one; raises FieldError."""
        try:
            address = normalize_address(raw)
        except InvalidAddress as error:
            raise FieldError(block_id, str(error)) from None
        snapshot = self.snapshot(bounce_id)
        if snapshot is not None and address.lower() == snapshot.address.lower():
            raise FieldError(block_id, same_address_message.format(address=address))
        return address

    def check_correction(self, bounce_id: int, raw: str, confirmed_typo: str | None) -> tuple[str, str | None]:
        """Validate a corrected address; return (address, suggestion).

        Raises FieldError for input that cannot be saved. A suggestion means
        the domain looks like a typo of a common one and the user has not yet
        confirmed that the address is meant as typed.
        """
        new_address = self._other_address(
            bounce_id, raw, "new_address",
            "{address} is the address that bounced. Type the corrected address, "
            "or close this and use Request reactivation if the address is right.")
        suggestion = suggest_domain_fix(new_address)
        if suggestion and confirmed_typo != new_address:
            return new_address, suggestion
        return new_address, None

    def correct_address(self, bounce_id: int, user: str, new_address: str) -> ActionOutcome:
        """Store a corrected address (already checked by check_correction) against the recipient."""
        snapshot, refusal = self._startable(bounce_id, actions.CORRECT_ADDRESS)
        if refusal is not None:
            return refusal

        with self.database.session() as session:
            result = bounce_store.transition(session, bounce_id, actions.CORRECT_ADDRESS, user,
                                             details={"old": snapshot.address, "new": new_address})
            if result.applied:
                recipient = session.get(Recipient, snapshot.address)
                recipient.corrected_to = new_address
                recipient.corrected_at = utcnow()
                recipient.corrected_by = user
        if not result.applied:
            return ActionOutcome(False, bounce_id, "The bounce changed while the form was open; nothing was saved.")
        log.info("workflow.address_corrected bounce_id=%d user=%s", bounce_id, user)
        self.thread_reply(bounce_id, f"{mention(user)} corrected the address to {escape(new_address)}. "
                                     "Remember to correct the client's profile in the practice management system too, "
                                     "then resend.")
        self.actions.refresh_message(bounce_id)
        return ActionOutcome(True, bounce_id, changed=True)

    def check_it_contact(self, bounce_id: int, contact: str) -> str | None:
        """Validate the optional contact address for the IT note; raises FieldError, returns None when empty."""
        if not contact:
            return None
        address = self._other_address(
            bounce_id, contact, "it_contact",
            "{address} is the blocked address, so this email would be blocked too. "
            "Type another contact at the client, such as their IT team.")
        if self.mailer is None:
            raise FieldError("it_contact", "Email is not set up (no SMTP_HOST). Leave this empty and copy the text.")
        if not self.settings.sending_domain:
            raise FieldError("it_contact", "SENDING_DOMAIN is not set, so the note still has a placeholder. Leave this "
                                           "empty, copy the text and fill in the domain, or ask your admin to set it.")
        return address

    @staticmethod
    def check_note(raw: str) -> str:
        """Return the note without surrounding whitespace; raises FieldError when it is empty or too long."""
        note = raw.strip()
        if not note:
            raise FieldError("note", "The note is empty. Type a note, or press Cancel.")
        if len(note) > NOTE_MAX_LENGTH:
            raise FieldError("note", f"The note has {len(note)} characters; a note can have at most "
                                     f"{NOTE_MAX_LENGTH} characters. Shorten it and save again.")
        return note

    def add_note(self, bounce_id: int, user: str, note: str) -> ActionOutcome:
        """Record a note (already checked by check_note) in the audit log."""
        return self.actions.apply(actions.ADD_NOTE, bounce_id, user, details={"note": self.check_note(note)})

    def send_it_note(self, bounce_id: int, user: str, address: str | None,
                     notify: Notify | None = None) -> ActionOutcome | None:
        """Record the IT note; email it to `address` (checked by check_it_contact) when one is given.

        With `notify`, the email is sent in the background (see _with_pending).
        """
        snapshot, refusal = self._startable(bounce_id, actions.CLIENT_IT_NOTE)
        if refusal is not None:
            return refusal
        if not address:
            return self.actions.apply(actions.CLIENT_IT_NOTE, bounce_id, user, details={"summary": "copied the note"})
        subject, body = self.it_note(snapshot)
        draft = Draft(to=address, subject=subject, body=body)

        def work() -> tuple[bool, str]:
            try:
                self.mailer.send(draft)
            except MailError as error:
                return False, f"the note to {address} was not sent: {error}"
            return True, ""

        def on_success() -> ActionOutcome:
            with self.database.session() as session:
                bounce_store.add_audit(session, bounce_id=bounce_id, address=snapshot.address,
                                       action="it_note_emailed", actor=user, details={"to": address})
                bounce_store.end_pending(session, bounce_id)
            self.thread_reply(bounce_id, f"{mention(user)} emailed the allow-list note to {escape(address)}.")
            self.actions.refresh_message(bounce_id)
            return ActionOutcome(True, bounce_id, changed=True)

        return self._with_pending(bounce_id, actions.CLIENT_IT_NOTE, user, work, on_success, notify)

    # Slack helpers

    def thread_reply(self, bounce_id: int, text: str) -> None:
        snapshot = self.snapshot(bounce_id)
        if self.slack is None or snapshot is None or not snapshot.slack_ts:
            return
        try:
            self.slack.post_message(snapshot.slack_channel, text, thread_ts=snapshot.slack_ts)
        except SlackError as error:
            log.error("thread_reply.failed bounce_id=%d error=%s", bounce_id, error.error)

    def user_label(self, user: str) -> str:
        """Return the user's name from Slack (users.info), or their id when Slack returns no name."""
        client = getattr(self.slack, "client", None)
        if client is not None:
            try:
                profile = client.users_info(user=user).get("user") or {}
                name = (profile.get("profile") or {}).get("real_name") or profile.get("real_name") or profile.get("name")
                if name:
                    return f"{name} (Slack user {user})"
            except Exception as error:  # a missing name must not stop the email
                log.warning("users_info.failed user=%s error=%s", user, type(error).__name__)
        return f"Slack user {user}"

"""Domain services behind the buttons: change state, audit, re-render.

Handlers parse Slack payloads, check permission, acknowledge, then call
these methods with plain values. Each method changes state with a
conditional update and returns an ActionOutcome saying what the clicker
should be told; refresh_message() re-renders the bounce's Slack message
from stored state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot import actions, lifecycle, reasons
from bot.mrkdwn import mention
from bot.render import RenderContext, render_bounce
from bot.slack_gateway import SlackError
from storage import bounce_store
from storage.db import Database
from storage.snapshots import bounce_view

log = logging.getLogger(__name__)


@dataclass
class ActionOutcome:
    ok: bool
    bounce_id: int
    message: str | None = None  # shown to the clicker only (ephemeral); None when the re-rendered message says it all
    changed: bool = False


def not_found_outcome(bounce_id: int) -> ActionOutcome:
    return ActionOutcome(
        False,
        bounce_id,
        f"Bounce #{bounce_id} is not in Bounce Desk's database (it may have been deleted, or this message "
        "comes from another workspace's install). Nothing was changed.",
    )


class BounceActions:
    def __init__(self, database: Database, slack, context: RenderContext, on_change=None):
        self.database = database
        self.slack = slack
        self.context = context
        # Called with the bounce id after every change (the App Home refresh hooks in here).
        self.on_change = on_change

    def apply(self, action: str, bounce_id: int, actor: str, details: dict[str, Any] | None = None,
              extra_values: dict[str, Any] | None = None) -> ActionOutcome:
        """Apply a plain state transition from bot.lifecycle.TRANSITIONS and re-render the message."""
        with self.database.session() as session:
            if action == actions.CLAIM:
                result = bounce_store.claim(session, bounce_id, actor)
            else:
                result = bounce_store.transition(session, bounce_id, action, actor, details=details,
                                                 extra_values=extra_values)
            if result.bounce is None:
                return not_found_outcome(bounce_id)
            claimed_by = result.bounce.claimed_by

        if not result.applied:
            log.info("action.not_applied bounce_id=%d action=%s actor=%s state=%s",
                     bounce_id, action, actor, result.current_state)
            return ActionOutcome(False, bounce_id, _explain_not_applied(action, result.current_state, claimed_by, actor))

        log.info("action.applied bounce_id=%d action=%s actor=%s from=%s to=%s",
                 bounce_id, action, actor, result.from_state, result.current_state)
        self.refresh_message(bounce_id)
        return ActionOutcome(True, bounce_id, changed=True)

    def refresh_message(self, bounce_id: int) -> None:
        """Re-render the bounce's Slack message from stored state (chat.update), then call on_change.

        Before the bounce is posted there is no message to update, but on_change
        still runs, because the App Home lists unposted bounces too.
        """
        with self.database.session() as session:
            bounce = bounce_store.get_bounce(session, bounce_id)
            if bounce is None:
                return
            if bounce.slack_ts is None or bounce.slack_channel is None:
                self._notify_change(bounce_id)
                return
            channel, ts = bounce.slack_channel, bounce.slack_ts
            message = render_bounce(bounce_view(session, bounce), self.context)

        if self.slack is not None:
            try:
                self.slack.update_message(channel, ts, message.text, message.blocks)
                log.info("message.updated bounce_id=%d channel=%s ts=%s", bounce_id, channel, ts)
            except SlackError as error:
                log.error("message.update_failed bounce_id=%d channel=%s ts=%s error=%s",
                          bounce_id, channel, ts, error.error)
        self._notify_change(bounce_id)

    def _notify_change(self, bounce_id: int) -> None:
        if self.on_change is not None:
            try:
                self.on_change(bounce_id)
            except Exception:  # a failed Home refresh must not undo a recorded action
                log.exception("message.on_change_failed bounce_id=%d", bounce_id)

    def reason_of(self, bounce_id: int) -> str | None:
        with self.database.session() as session:
            bounce = bounce_store.get_bounce(session, bounce_id)
            return bounce.reason if bounce else None


def _explain_not_applied(action: str, state: str | None, claimed_by: str | None, actor: str) -> str:
    label = actions.BUTTON_LABELS.get(action, action)
    state_label = lifecycle.STATE_LABELS.get(state or "", state or "unknown")
    if state and lifecycle.is_closed(state) and action != actions.REOPEN:
        return f"\"{label}\" was not applied: this bounce is already {state_label.lower()}. Use Reopen first if it needs more work."
    if action == actions.CLAIM and claimed_by:
        if claimed_by == actor:
            return "You are already on this one."
        return f"{mention(claimed_by)} is already on this one. Nothing was changed."
    return f"\"{label}\" does not apply while this bounce is {state_label.lower()}. The message shows what can be done now."


def reason_title(reason_key: str) -> str:
    return reasons.get(reason_key).title

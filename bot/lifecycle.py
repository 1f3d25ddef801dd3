"""The bounce life cycle: states, which action moves a bounce where, and
which buttons make sense in each state.

Every transition is applied by storage.bounce_store.transition() as a
conditional UPDATE on the expected states, so a double click, two people or
two replicas perform an action once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import actions, reasons

OPEN = "open"
CLAIMED = "claimed"
WAITING = "waiting"
REACTIVATION_REQUESTED = "reactivation_requested"
REACTIVATED = "reactivated"
ADDRESS_CORRECTED = "address_corrected"
RESENT = "resent"
RESOLVED = "resolved"
DISMISSED = "dismissed"

STATE_LABELS = {
    OPEN: "Open",
    CLAIMED: "Claimed",
    WAITING: "Waiting on client or recipient",
    REACTIVATION_REQUESTED: "Reactivation requested",
    REACTIVATED: "Reactivated",
    ADDRESS_CORRECTED: "Address corrected",
    RESENT: "Resent",
    RESOLVED: "Resolved",
    DISMISSED: "Dismissed",
}

# Resent counts as closed: the team did its part, and a new bounce for the same
# address and document arrives as a fresh item flagged "bounced again".
CLOSED_STATES = frozenset({RESENT, RESOLVED, DISMISSED})
ACTIVE_STATES = frozenset(STATE_LABELS) - CLOSED_STATES


@dataclass(frozen=True)
class Transition:
    action: str
    from_states: frozenset[str]
    to_state: str | None  # None: the state stays, only the audit log records the action
    verb: str  # past tense, for "who did what" lines


_ANY_ACTIVE = ACTIVE_STATES

TRANSITIONS: dict[str, Transition] = {
    actions.CLAIM: Transition(actions.CLAIM, frozenset({OPEN}), CLAIMED, "took it on"),
    actions.MARK_FIXED: Transition(actions.MARK_FIXED, _ANY_ACTIVE, RESOLVED, "marked it fixed"),
    actions.REOPEN: Transition(actions.REOPEN, CLOSED_STATES, OPEN, "reopened it"),
    actions.CLIENT_CONTACTED: Transition(
        actions.CLIENT_CONTACTED, frozenset({OPEN, CLAIMED}), WAITING, "contacted the client"
    ),
    actions.RECIPIENT_CONTACTED: Transition(
        actions.RECIPIENT_CONTACTED, frozenset({OPEN, CLAIMED}), WAITING, "contacted the recipient"
    ),
    actions.RESEND: Transition(actions.RESEND, _ANY_ACTIVE, RESENT, "resent it"),
    actions.CORRECT_ADDRESS: Transition(actions.CORRECT_ADDRESS, _ANY_ACTIVE, ADDRESS_CORRECTED, "corrected the address"),
    actions.REQUEST_REACTIVATION: Transition(
        actions.REQUEST_REACTIVATION,
        # Not after a correction: the old address was wrong, so there is nothing to reactivate.
        frozenset({OPEN, CLAIMED, WAITING}),
        REACTIVATION_REQUESTED,
        "asked support to reactivate the address",
    ),
    actions.REACTIVATED: Transition(
        actions.REACTIVATED, frozenset({REACTIVATION_REQUESTED}), REACTIVATED, "confirmed the reactivation"
    ),
    actions.POSTED_AND_SENT: Transition(actions.POSTED_AND_SENT, _ANY_ACTIVE, RESOLVED, "posted and sent the invoice"),
    actions.ALREADY_PAID: Transition(actions.ALREADY_PAID, _ANY_ACTIVE, DISMISSED, "dismissed it: already paid"),
    # Not from WAITING: support was already contacted (or the client is on it), and the button is hidden then.
    actions.CONTACT_SUPPORT: Transition(
        actions.CONTACT_SUPPORT, frozenset({OPEN, CLAIMED}), WAITING, "contacted support"
    ),
    actions.ADD_NOTE: Transition(actions.ADD_NOTE, frozenset(STATE_LABELS), None, "added a note"),
    actions.CLIENT_IT_NOTE: Transition(
        actions.CLIENT_IT_NOTE, _ANY_ACTIVE, None, "prepared the note for the client's IT"
    ),
}

HARD_BOUNCE_RESEND_STATES = frozenset({ADDRESS_CORRECTED, REACTIVATED})


def resend_ready(reason_key: str, state: str, corrected: bool, reactivated: bool) -> bool:
    """Return whether a resend can reach the address: always, except for a hard bounce not yet fixed."""
    if reason_key != reasons.HARD_BOUNCE:
        return True
    return corrected or reactivated or state in HARD_BOUNCE_RESEND_STATES


# Verbs for audit actions that are not buttons.
EXTRA_VERBS = {
    "imported": "imported it from the daily report",
    "posted": "posted it to the channel",
    "bounced_again": "saw it bounce again after a resend",
    "it_note_emailed": "emailed the note to the client's IT",
    "email_draft_sent": "sent the drafted email by hand",
}


def is_closed(state: str) -> bool:
    return state in CLOSED_STATES


def verb_for(action: str) -> str:
    if action in TRANSITIONS:
        return TRANSITIONS[action].verb
    # Slow work that failed is audited as "<action id>.failed" (see bot.bounce_workflows).
    attempted = action.removesuffix(".failed")
    if attempted != action and attempted in actions.BUTTON_LABELS:
        return f"tried {actions.BUTTON_LABELS[attempted]} but it failed"
    return EXTRA_VERBS.get(action, action.replace("_", " ").replace("bounce.", ""))


def available_actions(reason_key: str, state: str, claimed: bool, resend_ready: bool = True) -> list[str]:
    """Return the buttons that make sense for a bounce of this reason in this state, in display order.

    `resend_ready` is False for a hard bounce whose address was neither
    corrected nor reactivated: the provider suppresses it, so Resend is hidden
    until then (a click on an older message still gets an explanation).
    """
    reason = reasons.get(reason_key)
    if is_closed(state):
        return [action for action in reason.buttons if action in (actions.REOPEN, actions.ADD_NOTE)]

    shown = []
    for action in reason.buttons:
        if action == actions.REOPEN:
            continue
        if action == actions.CLAIM and claimed:
            continue
        if action == actions.RESEND and not resend_ready:
            continue
        if action == actions.REACTIVATED and state != REACTIVATION_REQUESTED:
            continue
        if action == actions.REQUEST_REACTIVATION and state in (REACTIVATION_REQUESTED, REACTIVATED, ADDRESS_CORRECTED):
            continue
        if action in (actions.CLIENT_CONTACTED, actions.RECIPIENT_CONTACTED, actions.CONTACT_SUPPORT) and state == WAITING:
            continue
        shown.append(action)
    return shown

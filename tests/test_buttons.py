"""Buttons that change state directly, through real signed clicks into the running app.

Each test checks the stored state, the audit log and the re-rendered message
(chat.update on the Slack stand-in).
"""

import pytest

from bot import actions, lifecycle, reasons
from storage.models import Bounce
from tests.bounce_helpers import (
    click,
    ALL_REASONS,
    POSTED_AUDIT,
    audit,
    audit_actions,
    button_ids,
    direct_messages_to,
    history_text,
    last_audit,
    metadata,
    post_bounce,
    status_line,
    stored,
    wait_for_ephemeral,
    wait_for_status,
)
from tests.conftest import wait_for

# Buttons that every reason shows on an open bounce, whatever else it has.
COMMON_OPEN_BUTTONS = (actions.CLAIM, actions.MARK_FIXED, actions.ADD_NOTE)

OPEN_BUTTONS = {
    reasons.ISP_BLOCK: [actions.CLAIM, actions.CLIENT_IT_NOTE, actions.CLIENT_CONTACTED, actions.RESEND,
                        actions.MARK_FIXED, actions.ADD_NOTE],
    reasons.SOFT_BOUNCE: [actions.CLAIM, actions.RECIPIENT_CONTACTED, actions.RESEND, actions.MARK_FIXED,
                          actions.ADD_NOTE],
    # Resend stays hidden until the address is corrected or reactivated.
    reasons.HARD_BOUNCE: [actions.CLAIM, actions.CORRECT_ADDRESS, actions.REQUEST_REACTIVATION,
                          actions.MARK_FIXED, actions.ADD_NOTE],
    reasons.MISSING_INVOICE: [actions.CLAIM, actions.POSTED_AND_SENT, actions.ALREADY_PAID, actions.CONTACT_SUPPORT,
                              actions.MARK_FIXED, actions.ADD_NOTE],
    reasons.OTHER: [actions.CLAIM, actions.RESEND, actions.MARK_FIXED, actions.ADD_NOTE],
}


def reason_with_button(action_id):
    """Return a reason whose catalog entry has the button `action_id`."""
    return next(key for key in ALL_REASONS if action_id in reasons.get(key).buttons)


# Buttons on a fresh message


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_posted_message_buttons(running_app, database, slack, tmp_path, reason):
    posted = post_bounce(running_app, database, tmp_path, reason)
    assert button_ids(slack, posted) == OPEN_BUTTONS[reason]


# I'm on it


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_claim_records_claimer(running_app, database, slack, tmp_path, reason):
    posted = post_bounce(running_app, database, tmp_path, reason)
    click(running_app, actions.CLAIM, posted, user="U0BOB")

    line = wait_for_status(slack, posted, lifecycle.CLAIMED)
    bounce = stored(database, posted.id)
    entry = last_audit(database, posted.id)
    assert bounce.state == lifecycle.CLAIMED
    assert bounce.claimed_by == "U0BOB"
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        actions.CLAIM, "U0BOB", lifecycle.OPEN, lifecycle.CLAIMED)
    assert "<@U0BOB> is on it" in line
    assert actions.CLAIM not in button_ids(slack, posted)


def test_claim_by_second_user_rejected(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CLAIM, posted, user="U0ALICE")
    wait_for_status(slack, posted, lifecycle.CLAIMED)

    click(running_app, actions.CLAIM, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "<@U0ALICE> is already on this one" in text
    assert stored(database, posted.id).claimed_by == "U0ALICE"
    assert audit_actions(database, posted.id).count(actions.CLAIM) == 1


def test_claim_twice_by_same_user_explained(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CLAIM, posted)
    wait_for_status(slack, posted, lifecycle.CLAIMED)
    click(running_app, actions.CLAIM, posted)
    assert wait_for_ephemeral(slack, "U0ALICE")[0] == "You are already on this one."


def test_claim_on_closed_bounce_explained(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CLAIM, posted, user="U0ALICE")
    wait_for_status(slack, posted, lifecycle.CLAIMED)
    click(running_app, actions.MARK_FIXED, posted, user="U0ALICE")
    wait_for_status(slack, posted, lifecycle.RESOLVED)

    click(running_app, actions.CLAIM, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "already resolved" in text
    assert "Use Reopen first" in text
    assert stored(database, posted.id).claimed_by == "U0ALICE"


def test_claim_while_waiting_keeps_state(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_CONTACTED, posted)
    wait_for_status(slack, posted, lifecycle.WAITING)

    click(running_app, actions.CLAIM, posted, user="U0BOB")
    wait_for(lambda: "<@U0BOB> is on it" in status_line(slack, posted))
    assert stored(database, posted.id).state == lifecycle.WAITING
    assert stored(database, posted.id).claimed_by == "U0BOB"
    assert status_line(slack, posted).startswith(f"*{lifecycle.STATE_LABELS[lifecycle.WAITING]}*")


# Mark fixed and Reopen


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_mark_fixed_resolves(running_app, database, slack, tmp_path, reason):
    posted = post_bounce(running_app, database, tmp_path, reason)
    click(running_app, actions.MARK_FIXED, posted)

    line = wait_for_status(slack, posted, lifecycle.RESOLVED)
    entry = last_audit(database, posted.id)
    assert stored(database, posted.id).state == lifecycle.RESOLVED
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        actions.MARK_FIXED, "U0ALICE", lifecycle.OPEN, lifecycle.RESOLVED)
    assert "by <@U0ALICE> <!date^" in line
    assert button_ids(slack, posted) == [actions.ADD_NOTE, actions.REOPEN]


def test_history_names_actor_and_time(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.MARK_FIXED, posted, user="U0CAROL")
    wait_for_status(slack, posted, lifecycle.RESOLVED)

    first_line = history_text(slack, posted).splitlines()[0]
    assert first_line.startswith("<@U0CAROL> marked it fixed <!date^")


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_reopen_after_fixed(running_app, database, slack, tmp_path, reason):
    posted = post_bounce(running_app, database, tmp_path, reason)
    click(running_app, actions.CLAIM, posted, user="U0BOB")
    wait_for_status(slack, posted, lifecycle.CLAIMED)
    click(running_app, actions.MARK_FIXED, posted, user="U0BOB")
    wait_for_status(slack, posted, lifecycle.RESOLVED)

    click(running_app, actions.REOPEN, posted, user="U0CAROL")
    wait_for_status(slack, posted, lifecycle.OPEN)
    bounce = stored(database, posted.id)
    entry = last_audit(database, posted.id)
    assert bounce.state == lifecycle.OPEN
    assert bounce.claimed_by is None
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        actions.REOPEN, "U0CAROL", lifecycle.RESOLVED, lifecycle.OPEN)
    assert button_ids(slack, posted) == OPEN_BUTTONS[reason]


@pytest.mark.parametrize("reason, closing_action, closed_state", [
    (reasons.MISSING_INVOICE, actions.ALREADY_PAID, lifecycle.DISMISSED),
    (reasons.MISSING_INVOICE, actions.POSTED_AND_SENT, lifecycle.RESOLVED),
    (reasons.SOFT_BOUNCE, actions.RESEND, lifecycle.RESENT),
])
def test_reopen_after_each_closing(running_app, database, slack, tmp_path, reason, closing_action, closed_state):
    posted = post_bounce(running_app, database, tmp_path, reason)
    if closing_action == actions.RESEND:
        running_app.client.submit_view(actions.MODAL_RESEND, {},
                                       private_metadata=metadata(posted.id, actions.RESEND))
    else:
        click(running_app, closing_action, posted)
    wait_for_status(slack, posted, closed_state)
    assert button_ids(slack, posted) == [actions.ADD_NOTE, actions.REOPEN]

    click(running_app, actions.REOPEN, posted)
    wait_for_status(slack, posted, lifecycle.OPEN)
    entry = last_audit(database, posted.id)
    assert (entry.action, entry.from_state, entry.to_state) == (actions.REOPEN, closed_state, lifecycle.OPEN)
    assert button_ids(slack, posted) == OPEN_BUTTONS[reason]


def test_reopen_on_open_bounce_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.REOPEN, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "does not apply while this bounce is open" in text
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_mark_fixed_on_closed_bounce_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.MISSING_INVOICE)
    click(running_app, actions.ALREADY_PAID, posted)
    wait_for_status(slack, posted, lifecycle.DISMISSED)

    click(running_app, actions.MARK_FIXED, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "already dismissed" in text
    assert stored(database, posted.id).state == lifecycle.DISMISSED


# ISP block: Client contacted


def test_client_contacted_waits(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_CONTACTED, posted)

    wait_for_status(slack, posted, lifecycle.WAITING)
    entry = last_audit(database, posted.id)
    assert stored(database, posted.id).state == lifecycle.WAITING
    assert (entry.action, entry.from_state, entry.to_state) == (
        actions.CLIENT_CONTACTED, lifecycle.OPEN, lifecycle.WAITING)
    assert button_ids(slack, posted) == [actions.CLAIM, actions.CLIENT_IT_NOTE, actions.RESEND, actions.MARK_FIXED,
                                         actions.ADD_NOTE]


# Ingested invoice does not exist: Posted and sent, Already paid


def test_posted_and_sent_resolves(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.MISSING_INVOICE)
    click(running_app, actions.POSTED_AND_SENT, posted)

    wait_for_status(slack, posted, lifecycle.RESOLVED)
    entry = last_audit(database, posted.id)
    assert stored(database, posted.id).state == lifecycle.RESOLVED
    assert (entry.action, entry.to_state) == (actions.POSTED_AND_SENT, lifecycle.RESOLVED)
    assert button_ids(slack, posted) == [actions.ADD_NOTE, actions.REOPEN]


def test_already_paid_dismisses(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.MISSING_INVOICE)
    click(running_app, actions.ALREADY_PAID, posted)

    wait_for_status(slack, posted, lifecycle.DISMISSED)
    entry = last_audit(database, posted.id)
    assert stored(database, posted.id).state == lifecycle.DISMISSED
    assert (entry.action, entry.to_state) == (actions.ALREADY_PAID, lifecycle.DISMISSED)
    assert "dismissed it: already paid" in history_text(slack, posted)


# Buttons that do not belong to the bounce's reason


@pytest.mark.parametrize("action_id", [actions.ALREADY_PAID, actions.CLIENT_CONTACTED, actions.REACTIVATED])
def test_button_of_other_reason_refused(running_app, database, slack, tmp_path, action_id):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, action_id, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "does not apply to this bounce: its reason is Soft bounce" in text
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert audit_actions(database, posted.id) == POSTED_AUDIT


# Permissions


@pytest.mark.parametrize("action_id", actions.BOUNCE_BUTTONS)
def test_unlisted_user_changes_nothing(app_factory, database, slack, tmp_path, action_id):
    app = app_factory(allowed_user_ids="U0ALICE, U0CAROL")
    posted = post_bounce(app, database, tmp_path, reason_with_button(action_id))
    updates_before = len(slack.calls_to("chat.update"))

    click(app, action_id, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    bounce = stored(database, posted.id)
    assert "not allowed" in text
    assert bounce.state == lifecycle.OPEN
    assert bounce.claimed_by is None
    assert bounce.pending_action is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT
    assert len(slack.calls_to("chat.update")) == updates_before
    assert slack.calls_to("views.open") == []


def test_listed_user_may_act(app_factory, database, slack, tmp_path):
    app = app_factory(allowed_user_ids="U0ALICE, U0CAROL")
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.MARK_FIXED, posted, user="U0CAROL")
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    assert stored(database, posted.id).state_changed_by == "U0CAROL"


# Clicks on bounces that are not stored


@pytest.mark.parametrize("action_id", actions.BOUNCE_BUTTONS)
def test_unknown_bounce_explained(running_app, database, slack, action_id):
    running_app.client.click(action_id, "424242", user="U0ALICE")
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    with database.session() as session:
        count = session.query(Bounce).count()
    assert "#424242 is not in Bounce Desk's database" in text
    assert count == 0
    assert slack.calls_to("views.open") == []


def test_home_click_answered_by_direct_message(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    running_app.client.click_in_home(actions.REOPEN, str(posted.id), user="U0BOB")
    texts = wait_for(lambda: direct_messages_to(slack, "U0BOB"))
    assert "does not apply while this bounce is open" in texts[0]


def test_audit_entries_carry_time(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    entry = audit(database, posted.id)[-1]
    assert entry.at is not None
    assert entry.at >= stored(database, posted.id).created_at

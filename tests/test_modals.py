"""Buttons that open a modal, and the modal submissions, without SMTP.

Clicks and submissions are real signed requests into the running app. A
view_submission with invalid input is answered in the HTTP response with
response_action "errors", and must leave the database and audit log as
they were.
"""

import json

import pytest

from bot import actions, lifecycle, modals, reasons
from bot.settings import SENDING_IP_RANGES
from storage.models import Bounce
from tests.bounce_helpers import (
    click,
    POSTED_AUDIT,
    audit,
    audit_actions,
    button_ids,
    direct_messages_to,
    history_text,
    input_values,
    last_audit,
    message_text,
    metadata,
    post_bounce,
    recipient,
    stored,
    thread_texts,
    view_text,
    wait_for_ephemeral,
    wait_for_opened_view,
    wait_for_status,
    wait_for_thread_reply,
)
from tests.conftest import wait_for


def submit(app, view, values, user="U0ALICE"):
    """Submit an opened view with `values`, keeping its callback_id and private_metadata."""
    return app.client.submit_view(view["callback_id"], values, private_metadata=view["private_metadata"], user=user)


def note_values(text):
    return input_values(modals.NOTE_BLOCK, modals.NOTE_INPUT, text)


def address_values(text):
    return input_values(modals.ADDRESS_BLOCK, modals.ADDRESS_INPUT, text)


def errors_in(response):
    body = response.json()
    assert body["response_action"] == "errors"
    return body["errors"]


# Add note


def test_add_note_opens_modal(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.ADD_NOTE, posted)
    view = wait_for_opened_view(slack)
    assert view["callback_id"] == actions.MODAL_NOTE
    assert json.loads(view["private_metadata"]) == {"bounce_id": posted.id, "action": actions.ADD_NOTE}
    assert "ap@birch.example" in view_text(view)


def test_add_note_saved_in_audit(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.ADD_NOTE, posted)
    view = wait_for_opened_view(slack)

    response = submit(running_app, view, note_values("  Called Birch Dental, they will check the mailbox.  "))
    assert response.status_code == 200
    wait_for(lambda: "added a note" in history_text(slack, posted))
    entry = last_audit(database, posted.id)
    assert (entry.action, entry.actor) == (actions.ADD_NOTE, "U0ALICE")
    assert entry.details == {"note": "Called Birch Dental, they will check the mailbox."}
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert "Called Birch Dental, they will check the mailbox." in history_text(slack, posted)


def test_add_note_on_closed_bounce(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    click(running_app, actions.ADD_NOTE, posted)
    view = wait_for_opened_view(slack)

    submit(running_app, view, note_values("Client confirmed receipt."))
    wait_for(lambda: "Client confirmed receipt." in history_text(slack, posted))
    assert stored(database, posted.id).state == lifecycle.RESOLVED
    assert button_ids(slack, posted) == [actions.ADD_NOTE, actions.REOPEN]


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_note_rejected(running_app, database, slack, tmp_path, text):
    posted = post_bounce(running_app, database, tmp_path)
    response = running_app.client.submit_view(actions.MODAL_NOTE, note_values(text),
                                              private_metadata=metadata(posted.id, actions.ADD_NOTE))
    assert "The note is empty" in errors_in(response)[modals.NOTE_BLOCK]
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_overlong_note_rejected(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    text = "x" * (modals.NOTE_MAX_LENGTH + 1)
    response = running_app.client.submit_view(actions.MODAL_NOTE, note_values(text),
                                              private_metadata=metadata(posted.id, actions.ADD_NOTE))
    assert f"at most {modals.NOTE_MAX_LENGTH} characters" in errors_in(response)[modals.NOTE_BLOCK]
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_note_by_unlisted_user_refused(app_factory, database, slack, tmp_path):
    app = app_factory(allowed_user_ids="U0ALICE")
    posted = post_bounce(app, database, tmp_path)
    response = app.client.submit_view(actions.MODAL_NOTE, note_values("sneaky"),
                                      private_metadata=metadata(posted.id, actions.ADD_NOTE), user="U0BOB")
    assert response.status_code == 200
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "not allowed" in text
    assert audit_actions(database, posted.id) == POSTED_AUDIT


@pytest.mark.parametrize("private_metadata", ["", "not json", '{"bounce_id": "x", "action": "bounce.add_note"}',
                                              '[1, 2]', '{"bounce_id": 1, "action": "bounce.correct_address"}'])
def test_note_with_bad_metadata_refused(running_app, database, slack, tmp_path, private_metadata):
    posted = post_bounce(running_app, database, tmp_path)
    response = running_app.client.submit_view(actions.MODAL_NOTE, note_values("hello"),
                                              private_metadata=private_metadata)
    assert response.status_code == 200
    text = wait_for(lambda: direct_messages_to(slack, "U0ALICE"))[0]
    assert "could not be matched to a bounce" in text
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_note_for_unknown_bounce_explained(running_app, database, slack):
    running_app.client.submit_view(actions.MODAL_NOTE, note_values("hello"),
                                   private_metadata=metadata(777, actions.ADD_NOTE))
    text = wait_for(lambda: direct_messages_to(slack, "U0ALICE"))[0]
    assert "#777 is not in Bounce Desk's database" in text


# Every modal refuses an unlisted user, and changes nothing

MODAL_SUBMISSIONS = [
    (actions.MODAL_NOTE, actions.ADD_NOTE, reasons.HARD_BOUNCE, note_values("a note")),
    (actions.MODAL_CORRECT_ADDRESS, actions.CORRECT_ADDRESS, reasons.HARD_BOUNCE,
     address_values("ap@birchdental.example")),
    (actions.MODAL_CLIENT_IT_NOTE, actions.CLIENT_IT_NOTE, reasons.ISP_BLOCK, {}),
    (actions.MODAL_RECIPIENT_DRAFT, actions.RECIPIENT_CONTACTED, reasons.SOFT_BOUNCE, {}),
    (actions.MODAL_RESEND, actions.RESEND, reasons.SOFT_BOUNCE, {}),
    (actions.MODAL_EMAIL_DRAFT, actions.REQUEST_REACTIVATION, reasons.HARD_BOUNCE, {}),
    (actions.MODAL_EMAIL_DRAFT, actions.CONTACT_SUPPORT, reasons.MISSING_INVOICE, {}),
]


@pytest.mark.parametrize("callback_id, action, reason, values", MODAL_SUBMISSIONS)
def test_modal_by_unlisted_user_refused(app_factory, database, slack, tmp_path, callback_id, action, reason, values):
    app = app_factory(allowed_user_ids="U0ALICE")
    posted = post_bounce(app, database, tmp_path, reason)
    response = app.client.submit_view(callback_id, values, private_metadata=metadata(posted.id, action),
                                      user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    bounce = stored(database, posted.id)
    assert response.status_code == 200
    assert "not allowed" in text
    assert bounce.state == lifecycle.OPEN
    assert recipient(database, "ap@birch.example").corrected_to is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT
    assert thread_texts(slack, posted) == []


@pytest.mark.parametrize("callback_id, action, reason, values", MODAL_SUBMISSIONS)
def test_modal_by_listed_user_applied(app_factory, database, slack, tmp_path, callback_id, action, reason, values):
    app = app_factory(allowed_user_ids="U0ALICE")
    posted = post_bounce(app, database, tmp_path, reason)
    app.client.submit_view(callback_id, values, private_metadata=metadata(posted.id, action), user="U0ALICE")
    entry = wait_for(lambda: audit(database, posted.id)[len(POSTED_AUDIT):])[0]
    assert (entry.action, entry.actor) == (action, "U0ALICE")


# Correct address (hard bounce)


def test_correct_address_opens_modal(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CORRECT_ADDRESS, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert view["callback_id"] == actions.MODAL_CORRECT_ADDRESS
    assert '"initial_value": "ap@birch.example"' in text
    assert "practice management system" in text


def test_correct_address_stored(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CORRECT_ADDRESS, posted, user="U0BOB")
    view = wait_for_opened_view(slack)

    response = submit(running_app, view, address_values("  AP@BirchDental.example "), user="U0BOB")
    assert response.status_code == 200
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)
    saved = recipient(database, "ap@birch.example")
    entry = last_audit(database, posted.id)
    assert saved.corrected_to == "ap@birchdental.example"
    assert saved.corrected_by == "U0BOB"
    assert saved.corrected_at is not None
    assert (entry.action, entry.actor, entry.to_state) == (actions.CORRECT_ADDRESS, "U0BOB",
                                                           lifecycle.ADDRESS_CORRECTED)
    assert entry.details == {"old": "ap@birch.example", "new": "ap@birchdental.example"}
    assert "corrected to ap@birchdental.example" in message_text(slack, posted)


def test_correction_shows_resend_button(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    assert actions.RESEND not in button_ids(slack, posted)
    click(running_app, actions.CORRECT_ADDRESS, posted)
    submit(running_app, wait_for_opened_view(slack), address_values("ap@birchdental.example"))
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)
    assert actions.RESEND in button_ids(slack, posted)


def test_correction_reminds_about_client_profile(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.CORRECT_ADDRESS, posted)
    submit(running_app, wait_for_opened_view(slack), address_values("ap@birchdental.example"))
    reply = wait_for_thread_reply(slack, posted)[0]
    assert "corrected the address to ap@birchdental.example" in reply
    assert "client's profile in the practice management system" in reply


@pytest.mark.parametrize("typed, problem", [
    ("not-an-address", "no @ sign"),
    ("ap@birch", "missing its ending"),
    ("", "the address is empty"),
    ("a@one.example, b@two.example", "several addresses"),
])
def test_invalid_correction_rejected(running_app, database, slack, tmp_path, typed, problem):
    posted = post_bounce(running_app, database, tmp_path)
    response = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values(typed),
                                              private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    assert problem in errors_in(response)[modals.ADDRESS_BLOCK]
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert recipient(database, "ap@birch.example").corrected_to is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_correction_to_same_address_rejected(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    response = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values("AP@birch.example"),
                                              private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    assert "is the address that bounced" in errors_in(response)[modals.ADDRESS_BLOCK]
    assert recipient(database, "ap@birch.example").corrected_to is None


def test_likely_typo_asks_first(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    response = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values("ap@gmial.com"),
                                              private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    body = response.json()
    assert body["response_action"] == "update"
    assert "Did you mean ap@gmail.com?" in json.dumps(body["view"]["blocks"])
    assert json.loads(body["view"]["private_metadata"])["confirmed_typo"] == "ap@gmial.com"
    assert recipient(database, "ap@birch.example").corrected_to is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_likely_typo_saved_when_confirmed(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    first = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values("ap@gmial.com"),
                                           private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    warned = first.json()["view"]

    second = submit(running_app, warned, address_values("ap@gmial.com"))
    assert second.status_code == 200
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)
    assert recipient(database, "ap@birch.example").corrected_to == "ap@gmial.com"


def test_typo_fixed_after_warning(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    first = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values("ap@gmial.com"),
                                           private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    submit(running_app, first.json()["view"], address_values("ap@gmail.com"))
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)
    assert recipient(database, "ap@birch.example").corrected_to == "ap@gmail.com"


def test_correct_address_on_closed_bounce_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    click(running_app, actions.CORRECT_ADDRESS, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "already resolved" in text
    assert slack.calls_to("views.open") == []


def test_correction_by_unlisted_user_refused(app_factory, database, slack, tmp_path):
    app = app_factory(allowed_user_ids="U0ALICE")
    posted = post_bounce(app, database, tmp_path)
    app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, address_values("ap@birchdental.example"),
                           private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS), user="U0BOB")
    assert "not allowed" in wait_for_ephemeral(slack, "U0BOB")[0]
    assert recipient(database, "ap@birch.example").corrected_to is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT


# Note for client's IT (ISP block), without SMTP


def test_it_note_names_domain_and_ranges(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_IT_NOTE, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert view["callback_id"] == actions.MODAL_CLIENT_IT_NOTE
    assert "Our sending domain: billing.halecpa.example" in text
    for cidr, span, purpose in SENDING_IP_RANGES:
        assert f"{cidr} ({span}): {purpose}" in text


def test_it_note_without_smtp_has_no_email_field(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_IT_NOTE, posted)
    view = wait_for_opened_view(slack)
    assert modals.CONTACT_BLOCK not in view_text(view)
    assert view["submit"]["text"] == "Done"


def test_it_note_without_sending_domain_says_so(app_factory, database, slack, tmp_path):
    app = app_factory(sending_domain="")
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK)
    click(app, actions.CLIENT_IT_NOTE, posted)
    assert "ask your Bounce Desk admin to set SENDING_DOMAIN" in view_text(wait_for_opened_view(slack))


def test_it_note_on_closed_bounce_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    click(running_app, actions.CLIENT_IT_NOTE, posted)
    assert "already resolved" in wait_for_ephemeral(slack, "U0ALICE")[0]
    assert slack.calls_to("views.open") == []


def test_it_note_copied_recorded(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_IT_NOTE, posted)
    submit(running_app, wait_for_opened_view(slack), {})
    wait_for(lambda: "prepared the note for the client's IT" in history_text(slack, posted))
    entry = last_audit(database, posted.id)
    assert (entry.action, entry.actor) == (actions.CLIENT_IT_NOTE, "U0ALICE")
    assert stored(database, posted.id).state == lifecycle.OPEN


# Recipient contacted (soft bounce)


def test_recipient_contacted_shows_draft(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE, address="jo@maple.example",
                         document="INV-2001")
    click(running_app, actions.RECIPIENT_CONTACTED, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert view["callback_id"] == actions.MODAL_RECIPIENT_DRAFT
    assert "We tried to email you INV-2001 on 2026-12-03" in text
    assert "the mailbox jo@maple.example could not accept it" in text
    assert "Hale &amp; Partners CPA" in text


def test_recipient_contacted_waits(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, actions.RECIPIENT_CONTACTED, posted)
    submit(running_app, wait_for_opened_view(slack), {})

    wait_for_status(slack, posted, lifecycle.WAITING)
    entry = last_audit(database, posted.id)
    assert (entry.action, entry.from_state, entry.to_state) == (
        actions.RECIPIENT_CONTACTED, lifecycle.OPEN, lifecycle.WAITING)
    assert button_ids(slack, posted) == [actions.CLAIM, actions.RESEND, actions.MARK_FIXED, actions.ADD_NOTE]


def test_recipient_contacted_twice_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, actions.RECIPIENT_CONTACTED, posted)
    view = wait_for_opened_view(slack)
    submit(running_app, view, {})
    wait_for_status(slack, posted, lifecycle.WAITING)

    click(running_app, actions.RECIPIENT_CONTACTED, posted, user="U0BOB")
    assert "does not apply while this bounce is waiting" in wait_for_ephemeral(slack, "U0BOB")[0]
    assert audit_actions(database, posted.id).count(actions.RECIPIENT_CONTACTED) == 1


# Emails drafted for sending by hand (no SMTP_HOST)


def test_reactivation_draft_without_smtp(app_factory, database, slack, tmp_path):
    app = app_factory(support_email="help@platform.example")
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert view["callback_id"] == actions.MODAL_EMAIL_DRAFT
    assert "*To:* help@platform.example" in text
    assert "*Subject:* Reactivation request for ap@birch.example" in text
    assert "Bounce date: 2026-12-03" in text
    assert "Requested by: U0Alice (Slack user U0ALICE)" in text
    assert view["submit"]["text"] == "Sent it"
    assert stored(database, posted.id).state == lifecycle.OPEN


def test_long_draft_shown_whole(app_factory, database, slack, tmp_path):
    app = app_factory()
    numbers = [f"INV-{number}" for number in range(5000, 5040)]
    posted = post_bounce(app, database, tmp_path, document=numbers[0], more_documents=tuple(numbers[1:]))
    with database.session() as session:
        for index, document in enumerate(session.get(Bounce, posted.id).documents):
            document.details = f"550 5.1.1 mailbox of recipient {index} does not exist " + "x" * 150
    click(app, actions.REQUEST_REACTIVATION, posted)

    view = wait_for_opened_view(slack)
    code_blocks = [block["text"]["text"] for block in view["blocks"] if block["text"]["text"].startswith("```")]
    assert slack.ok_calls_to("views.open")
    assert len(code_blocks) > 1
    assert "mailbox of recipient 39 does not exist" in view_text(view)
    assert "Requested by: U0Alice (Slack user U0ALICE)" in view_text(view)
    assert "[truncated]" not in view_text(view)


def test_reactivation_sent_by_hand_recorded(app_factory, database, slack, tmp_path):
    app = app_factory(support_email="help@platform.example")
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    submit(app, wait_for_opened_view(slack), {})

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    entry = last_audit(database, posted.id)
    saved = recipient(database, "ap@birch.example")
    assert (entry.action, entry.actor, entry.to_state) == (actions.REQUEST_REACTIVATION, "U0ALICE",
                                                           lifecycle.REACTIVATION_REQUESTED)
    assert entry.details == {"to": "help@platform.example", "by_hand": True}
    assert saved.reactivation_requested_by == "U0ALICE"
    assert "nothing will deliver here until support confirms" in message_text(slack, posted)
    assert "sent by hand" in wait_for_thread_reply(slack, posted)[0]


def test_support_draft_without_smtp(app_factory, database, slack, tmp_path):
    app = app_factory(support_email="help@platform.example")
    posted = post_bounce(app, database, tmp_path, reasons.MISSING_INVOICE, document="INV-3003",
                         client="Cedar Farms")
    click(app, actions.CONTACT_SUPPORT, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert "*Subject:* Invoice INV-3003 will not send" in text
    assert "Document: INV-3003" in text
    assert "Client: Cedar Farms" in text

    submit(app, view, {})
    wait_for_status(slack, posted, lifecycle.WAITING)
    assert last_audit(database, posted.id).action == actions.CONTACT_SUPPORT


def test_draft_sent_twice_recorded_once(app_factory, database, slack, tmp_path):
    app = app_factory()
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    view = wait_for_opened_view(slack)
    submit(app, view, {})
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)

    submit(app, view, {}, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "already moved on" in text
    assert audit_actions(database, posted.id).count(actions.REQUEST_REACTIVATION) == 1


def test_draft_modal_with_unknown_action_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    running_app.client.submit_view(actions.MODAL_EMAIL_DRAFT, {},
                                   private_metadata=metadata(posted.id, actions.MARK_FIXED))
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "unknown action" in text
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_reactivated_after_request(app_factory, database, slack, tmp_path):
    app = app_factory()
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    submit(app, wait_for_opened_view(slack), {})
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert actions.REACTIVATED in button_ids(slack, posted)

    click(app, actions.REACTIVATED, posted, user="U0BOB")
    wait_for_status(slack, posted, lifecycle.REACTIVATED)
    saved = recipient(database, "ap@birch.example")
    entry = last_audit(database, posted.id)
    assert saved.reactivated_by == "U0BOB"
    assert (entry.action, entry.from_state, entry.to_state) == (
        actions.REACTIVATED, lifecycle.REACTIVATION_REQUESTED, lifecycle.REACTIVATED)
    assert "reactivated by support" in message_text(slack, posted)
    assert actions.REACTIVATED not in button_ids(slack, posted)
    assert "It can be resent now." in wait_for_thread_reply(slack, posted, 2)[1]


def test_reactivated_before_request_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    click(running_app, actions.REACTIVATED, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "only after reactivation was requested" in text
    assert recipient(database, "ap@birch.example").reactivated_at is None
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_modal_views_pass_block_kit_checks(running_app, database, slack, tmp_path):
    hard = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    isp = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK, address="it@oak.example")
    soft = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE, address="jo@maple.example")
    for action_id, posted in [(actions.ADD_NOTE, hard), (actions.CORRECT_ADDRESS, hard),
                              (actions.REQUEST_REACTIVATION, hard), (actions.CLIENT_IT_NOTE, isp),
                              (actions.RECIPIENT_CONTACTED, soft), (actions.RESEND, soft)]:
        click(running_app, action_id, posted)
    wait_for(lambda: len(slack.calls_to("views.open")) == 6)
    failed = [call.response for call in slack.calls_to("views.open") if not call.response.get("ok")]
    assert failed == []
    assert thread_texts(slack, hard) == []
    assert len(audit(database, hard.id)) == len(POSTED_AUDIT)

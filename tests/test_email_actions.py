"""Buttons that send email through SMTP, against a local aiosmtpd server.

The app is started with SMTP_SECURITY=none pointing at tests.standins.smtp;
each test checks what the server received (recipient, subject, body), the
stored state, the audit log and what Slack shows.
"""

import logging
import threading

import pytest

from bot import actions, lifecycle, modals, reasons
from bot.settings import SENDING_IP_RANGES
from storage import bounce_store
from tests.bounce_helpers import (
    click,
    POSTED_AUDIT,
    audit_actions,
    button_ids,
    history_text,
    input_values,
    last_audit,
    message_text,
    metadata,
    post_bounce,
    recipient,
    status_line,
    stored,
    thread_texts,
    view_text,
    wait_for_ephemeral,
    wait_for_opened_view,
    wait_for_status,
    wait_for_thread_reply,
)
from tests.conftest import free_port, wait_for
from tests.standins.smtp import smtp_server  # noqa: F401 - pytest fixture

SUPPORT = "help@platform.example"


@pytest.fixture
def app(app_factory, smtp_server):  # noqa: F811 - the fixture imported above
    return app_factory(support_email=SUPPORT, **smtp_server.settings())


def wait_for_mail(server, count=1):
    return wait_for(lambda: server.received if len(server.received) >= count else None)


def contact_values(text):
    return input_values(modals.CONTACT_BLOCK, modals.CONTACT_INPUT, text)


# Request reactivation (hard bounce)


def test_reactivation_email_to_support(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, code="550 5.1.1", details="mailbox does not exist")
    click(app, actions.REQUEST_REACTIVATION, posted)

    mail = wait_for_mail(smtp_server)[0]
    assert mail.recipients == [SUPPORT]
    assert mail.mail_from == "billing@halecpa.example"
    assert mail.message["To"] == SUPPORT
    assert mail.subject == "Reactivation request for ap@birch.example (Hale & Partners CPA)"
    assert "Please reactivate the hard-bounced address ap@birch.example for Hale & Partners CPA." in mail.body
    assert "Address: ap@birch.example" in mail.body
    assert "Bounce date: 2026-12-03" in mail.body
    assert "Reason: Hard bounce" in mail.body
    assert "Error code: 550 5.1.1" in mail.body
    assert "Details: mailbox does not exist" in mail.body
    assert "Documents: INV-1042" in mail.body
    assert "Client: Birch Dental LLC" in mail.body
    assert "Requested by: U0Alice (Slack user U0ALICE) at Hale & Partners CPA" in mail.body


def test_reactivation_email_lists_every_document(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, document="INV-1", more_documents=("INV-2",))
    click(app, actions.REQUEST_REACTIVATION, posted)
    assert "Documents: INV-1, INV-2" in wait_for_mail(smtp_server)[0].body


def test_reactivation_email_advances_state(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted, user="U0BOB")

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    mail = smtp_server.received[0]
    entry = last_audit(database, posted.id)
    saved = recipient(database, "ap@birch.example")
    assert stored(database, posted.id).state == lifecycle.REACTIVATION_REQUESTED
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        actions.REQUEST_REACTIVATION, "U0BOB", lifecycle.OPEN, lifecycle.REACTIVATION_REQUESTED)
    assert entry.details["to"] == SUPPORT
    assert entry.details["subject"] == mail.subject
    assert entry.details["message_id"] == mail.message["Message-ID"]
    assert saved.reactivation_requested_by == "U0BOB"
    assert saved.reactivation_requested_at is not None


def test_reactivation_message_warns_until_confirmed(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    reply = wait_for_thread_reply(slack, posted)[0]
    assert "nothing will deliver here until support confirms" in message_text(slack, posted)
    assert f"asked support ({SUPPORT}) to reactivate this address (emailed by Bounce Desk)" in reply
    assert "Nothing will deliver to it until support confirms" in reply
    assert actions.REQUEST_REACTIVATION not in button_ids(slack, posted)
    assert actions.REACTIVATED in button_ids(slack, posted)


def test_reactivation_request_then_reactivated(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    click(app, actions.REACTIVATED, posted)
    wait_for_status(slack, posted, lifecycle.REACTIVATED)
    assert "reactivated by support" in message_text(slack, posted)
    assert len(smtp_server.received) == 1


def test_reactivation_after_correction_refused(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    # After a correction the old address was wrong, so asking support to reactivate it makes no sense.
    posted = post_bounce(app, database, tmp_path)
    app.client.submit_view(actions.MODAL_CORRECT_ADDRESS,
                           input_values(modals.ADDRESS_BLOCK, modals.ADDRESS_INPUT, "ap@birchdental.example"),
                           private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)
    assert actions.REQUEST_REACTIVATION not in button_ids(slack, posted)

    click(app, actions.REQUEST_REACTIVATION, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "does not apply" in text
    assert smtp_server.received == []
    assert stored(database, posted.id).state == lifecycle.ADDRESS_CORRECTED


# Slow work runs after the acknowledgement


def test_click_acknowledged_before_email_sent(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.hold_next()
    response = click(app, actions.REQUEST_REACTIVATION, posted)
    smtp_server.wait_until_holding()
    held_state = stored(database, posted.id)
    working = wait_for(lambda: "working on Request reactivation" in status_line(slack, posted))
    smtp_server.release()

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert response.status_code == 200
    assert held_state.state == lifecycle.OPEN
    assert held_state.pending_action == actions.REQUEST_REACTIVATION
    assert working
    assert stored(database, posted.id).pending_action is None


def test_slow_sends_keep_buttons_responsive(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    """Emails held by a slow server must not delay the acknowledgement of other clicks past Slack's 3 seconds."""
    requests = [post_bounce(app, database, tmp_path, address=f"ap{number}@birch{number}.example")
                for number in range(5)]
    other = post_bounce(app, database, tmp_path, address="ar@cedar.example")
    smtp_server.hold_next(len(requests))
    for posted in requests:
        click(app, actions.REQUEST_REACTIVATION, posted)
    smtp_server.wait_until_holding(4)

    response = click(app, actions.MARK_FIXED, other)
    wait_for_status(slack, other, lifecycle.RESOLVED)
    held_states = {stored(database, posted.id).state for posted in requests}
    smtp_server.release()

    for posted in requests:
        wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert response.status_code == 200
    assert held_states == {lifecycle.OPEN}
    assert len(smtp_server.received) == len(requests)


def test_click_during_send_does_nothing(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.hold_next()
    click(app, actions.REQUEST_REACTIVATION, posted, user="U0ALICE")
    smtp_server.wait_until_holding()

    click(app, actions.REQUEST_REACTIVATION, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    smtp_server.release()
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert "already started this a moment ago" in text
    assert len(smtp_server.received) == 1
    assert audit_actions(database, posted.id).count(actions.REQUEST_REACTIVATION) == 1


def test_simultaneous_clicks_send_one_email(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    barrier = threading.Barrier(2)
    statuses = []

    def press(user):
        barrier.wait()
        statuses.append(click(app, actions.REQUEST_REACTIVATION, posted, user=user).status_code)

    threads = [threading.Thread(target=press, args=(user,)) for user in ("U0ALICE", "U0BOB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    wait_for(lambda: slack.ephemeral_messages)
    assert statuses == [200, 200]
    assert len(smtp_server.received) == 1
    assert audit_actions(database, posted.id).count(actions.REQUEST_REACTIVATION) == 1


def test_click_while_recording_sends_nothing(app, database, slack, smtp_server, tmp_path,  # noqa: F811
                                             monkeypatch):
    """A second click between the accepted email and the recorded state must not send again."""
    posted = post_bounce(app, database, tmp_path)
    workflows = app.services.workflows
    original_transition = bounce_store.transition
    second_clicks = []
    hooked = threading.Event()

    def transition_after_second_click(session, bounce_id, action, actor, **kwargs):
        if action == actions.REQUEST_REACTIVATION and not hooked.is_set():
            hooked.set()
            second_clicks.append(workflows.send_support_email(bounce_id, action, "U0BOB"))
        return original_transition(session, bounce_id, action, actor, **kwargs)

    monkeypatch.setattr(bounce_store, "transition", transition_after_second_click)
    click(app, actions.REQUEST_REACTIVATION, posted, user="U0ALICE")

    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert len(smtp_server.received) == 1
    assert second_clicks[0].ok is False
    assert "already started this a moment ago" in second_clicks[0].message
    assert last_audit(database, posted.id).actor == "U0ALICE"


def test_click_after_request_sends_nothing(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)

    click(app, actions.REQUEST_REACTIVATION, posted, user="U0BOB")
    text = wait_for_ephemeral(slack, "U0BOB")[0]
    assert "does not apply while this bounce is reactivation requested" in text
    assert len(smtp_server.received) == 1


# SMTP failures


def test_rejected_email_leaves_state(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.reject_next("554 5.7.1 Relay access denied")
    click(app, actions.REQUEST_REACTIVATION, posted)

    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    bounce = stored(database, posted.id)
    assert "\"Request reactivation\" failed" in text
    assert "554 5.7.1 Relay access denied" in text
    assert "try again" in text
    assert bounce.state == lifecycle.OPEN
    assert bounce.pending_action is None
    assert recipient(database, "ap@birch.example").reactivation_requested_at is None
    assert actions.REQUEST_REACTIVATION not in audit_actions(database, posted.id)
    assert thread_texts(slack, posted) == []


def test_rejected_email_shown_in_history(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.reject_next("554 5.7.1 Relay access denied")
    click(app, actions.REQUEST_REACTIVATION, posted)
    wait_for_ephemeral(slack, "U0ALICE")

    history = wait_for(lambda: history_text(slack, posted) if "failed" in history_text(slack, posted) else None)
    assert "<@U0ALICE> tried Request reactivation but it failed" in history
    assert "working on" not in status_line(slack, posted)
    assert actions.REQUEST_REACTIVATION in button_ids(slack, posted)


def test_rejected_email_logged_with_bounce_id(app, database, slack, smtp_server, tmp_path, caplog):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.reject_next("554 5.7.1 Relay access denied")
    with caplog.at_level(logging.ERROR, logger="bot.bounce_workflows"):
        click(app, actions.REQUEST_REACTIVATION, posted)
        wait_for_ephemeral(slack, "U0ALICE")
    failures = [record.getMessage() for record in caplog.records if "workflow.failed" in record.getMessage()]
    assert len(failures) == 1
    assert f"bounce_id={posted.id}" in failures[0]
    assert "554" in failures[0]


def test_retry_after_rejection_sends(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path)
    smtp_server.reject_next("451 4.3.0 Try again later")
    click(app, actions.REQUEST_REACTIVATION, posted)
    wait_for_ephemeral(slack, "U0ALICE")

    click(app, actions.REQUEST_REACTIVATION, posted)
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    assert len(smtp_server.received) == 1


def test_unreachable_server_explained(app_factory, database, slack, tmp_path):
    closed_port = free_port()
    app = app_factory(smtp_host="127.0.0.1", smtp_port=closed_port, smtp_security="none",
                      mail_from="billing@halecpa.example", smtp_timeout_seconds=2)
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert f"could not send through 127.0.0.1:{closed_port}" in text
    assert stored(database, posted.id).state == lifecycle.OPEN


def test_starttls_refusal_shown_to_clicker(app_factory, database, slack, smtp_server, tmp_path):  # noqa: F811
    app = app_factory(**{**smtp_server.settings(), "smtp_security": "starttls"})
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "does not offer STARTTLS" in text
    assert stored(database, posted.id).state == lifecycle.OPEN


# Contact support (ingested invoice does not exist)


def test_contact_support_email(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.MISSING_INVOICE, address="ar@cedar.example",
                         document="INV-3003", client="Cedar Farms", code="", details="")
    click(app, actions.CONTACT_SUPPORT, posted)

    mail = wait_for_mail(smtp_server)[0]
    assert mail.recipients == [SUPPORT]
    assert mail.subject == "Invoice INV-3003 will not send (Hale & Partners CPA)"
    assert "Document: INV-3003" in mail.body
    assert "Client: Cedar Farms" in mail.body
    assert "Recipient: ar@cedar.example" in mail.body
    assert "Reported by: U0Alice (Slack user U0ALICE) at Hale & Partners CPA" in mail.body


def test_contact_support_waits(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.MISSING_INVOICE)
    click(app, actions.CONTACT_SUPPORT, posted)

    wait_for_status(slack, posted, lifecycle.WAITING)
    entry = last_audit(database, posted.id)
    assert (entry.action, entry.to_state) == (actions.CONTACT_SUPPORT, lifecycle.WAITING)
    assert f"contacted support ({SUPPORT}) about this invoice" in wait_for_thread_reply(slack, posted)[0]
    assert button_ids(slack, posted) == [actions.CLAIM, actions.POSTED_AND_SENT, actions.ALREADY_PAID,
                                         actions.MARK_FIXED, actions.ADD_NOTE]


# Note for client's IT, emailed to another contact


def test_it_note_modal_offers_email(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK)
    click(app, actions.CLIENT_IT_NOTE, posted)
    view = wait_for_opened_view(slack)
    assert modals.CONTACT_BLOCK in view_text(view)
    assert view["submit"]["text"] == "Send"


def test_it_note_emailed_to_contact(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    click(app, actions.CLIENT_IT_NOTE, posted)
    view = wait_for_opened_view(slack)
    response = app.client.submit_view(view["callback_id"], contact_values("IT-Desk@oak.example"),
                                      private_metadata=view["private_metadata"])
    assert response.status_code == 200

    mail = wait_for_mail(smtp_server)[0]
    assert mail.recipients == ["it-desk@oak.example"]
    assert mail.subject == "Please allow email from Hale & Partners CPA"
    assert "Our invoices and statements to ap@oak.example are being blocked" in mail.body
    assert "1. Our sending domain: billing.halecpa.example" in mail.body
    for cidr, span, purpose in SENDING_IP_RANGES:
        assert f"{cidr} ({span}): {purpose}" in mail.body


def test_it_note_email_recorded(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values("it@oak.example"),
                           private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))

    reply = wait_for_thread_reply(slack, posted)[0]
    entry = last_audit(database, posted.id)
    assert "emailed the allow-list note to it@oak.example" in reply
    assert (entry.action, entry.actor, entry.details) == ("it_note_emailed", "U0ALICE", {"to": "it@oak.example"})
    wait_for(lambda: "emailed the note to the client's IT" in history_text(slack, posted))
    assert stored(database, posted.id).state == lifecycle.OPEN


def test_it_note_to_blocked_address_rejected(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    response = app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values("AP@oak.example"),
                                      private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))
    error = response.json()["errors"][modals.CONTACT_BLOCK]
    assert response.json()["response_action"] == "errors"
    assert "is the blocked address" in error
    assert smtp_server.received == []
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_it_note_invalid_contact_rejected(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    response = app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values("it desk"),
                                      private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))
    assert "is invalid" in response.json()["errors"][modals.CONTACT_BLOCK]
    assert smtp_server.received == []
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_it_note_without_contact_not_emailed(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK)
    app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values(""),
                           private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))
    wait_for(lambda: "prepared the note for the client's IT" in history_text(slack, posted))
    assert last_audit(database, posted.id).details == {"summary": "copied the note"}
    assert smtp_server.received == []


def test_it_note_failure_shown(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    smtp_server.reject_next("550 5.1.1 No such user")
    app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values("it@oak.example"),
                           private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "the note to it@oak.example was not sent" in text
    assert "it_note_emailed" not in audit_actions(database, posted.id)
    assert stored(database, posted.id).pending_action is None


def test_it_note_on_closed_bounce_not_emailed(app, database, slack, smtp_server, tmp_path):  # noqa: F811
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK, address="ap@oak.example")
    click(app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    app.client.submit_view(actions.MODAL_CLIENT_IT_NOTE, contact_values("it@oak.example"),
                           private_metadata=metadata(posted.id, actions.CLIENT_IT_NOTE))
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "already resolved" in text
    assert smtp_server.received == []


def test_unlisted_user_sends_no_email(app_factory, database, slack, smtp_server, tmp_path):  # noqa: F811
    app = app_factory(allowed_user_ids="U0ALICE", support_email=SUPPORT, **smtp_server.settings())
    posted = post_bounce(app, database, tmp_path)
    click(app, actions.REQUEST_REACTIVATION, posted, user="U0BOB")
    assert "not allowed" in wait_for_ephemeral(slack, "U0BOB")[0]
    assert smtp_server.received == []
    assert audit_actions(database, posted.id) == POSTED_AUDIT

"""Resend: the manual backend's confirmation modal, the signed webhook backend,
the hard-bounce rule (only once corrected or reactivated), and the
"bounced again after resend" flag set by the next report's import.
"""

import threading

import pytest
from sqlalchemy import select

from bot import actions, lifecycle, modals, reasons
from bot.importer import import_report
from bot.resend import ResendRequest, WebhookResend
from storage.models import AuditEntry, Bounce
from tests.bounce_helpers import (
    click,
    NOW,
    POSTED_AUDIT,
    PostedBounce,
    audit_actions,
    button_ids,
    input_values,
    last_audit,
    message_text,
    metadata,
    post_bounce,
    stored,
    view_text,
    wait_for_ephemeral,
    wait_for_opened_view,
    wait_for_status,
    wait_for_thread_reply,
)
from tests.conftest import free_port, wait_for
from tests.helpers import row, write_csv
from tests.standins.webhook import webhook_server  # noqa: F401 - pytest fixture


def correct_address(app, slack, posted, new_address):
    app.client.submit_view(actions.MODAL_CORRECT_ADDRESS,
                           input_values(modals.ADDRESS_BLOCK, modals.ADDRESS_INPUT, new_address),
                           private_metadata=metadata(posted.id, actions.CORRECT_ADDRESS))
    wait_for_status(slack, posted, lifecycle.ADDRESS_CORRECTED)


def request_and_confirm_reactivation(app, slack, posted):
    """Request reactivation through the draft modal (no SMTP), then press Reactivated."""
    app.client.submit_view(actions.MODAL_EMAIL_DRAFT, {}, private_metadata=metadata(posted.id,
                                                                                    actions.REQUEST_REACTIVATION))
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    click(app, actions.REACTIVATED, posted)
    wait_for_status(slack, posted, lifecycle.REACTIVATED)


@pytest.fixture
def webhook_app(app_factory, webhook_server):  # noqa: F811 - the fixture imported above
    return app_factory(**webhook_server.settings())


# Manual backend


@pytest.mark.parametrize("reason", [reasons.ISP_BLOCK, reasons.SOFT_BOUNCE, reasons.OTHER])
def test_manual_resend_opens_modal(running_app, database, slack, tmp_path, reason):
    posted = post_bounce(running_app, database, tmp_path, reason, document="INV-1042", more_documents=("INV-1043",))
    click(running_app, actions.RESEND, posted)
    view = wait_for_opened_view(slack)
    text = view_text(view)
    assert view["callback_id"] == actions.MODAL_RESEND
    assert "Send *INV-1042, INV-1043* to *ap@birch.example* again" in text
    assert view["submit"]["text"] == "I resent it"
    assert stored(database, posted.id).state == lifecycle.OPEN


def test_manual_resend_recorded(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, actions.RESEND, posted, user="U0BOB")
    view = wait_for_opened_view(slack)
    running_app.client.submit_view(view["callback_id"], {}, private_metadata=view["private_metadata"], user="U0BOB")

    wait_for_status(slack, posted, lifecycle.RESENT)
    entry = last_audit(database, posted.id)
    reply = wait_for_thread_reply(slack, posted)[0]
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        actions.RESEND, "U0BOB", lifecycle.OPEN, lifecycle.RESENT)
    assert entry.details["backend"] == "manual"
    assert entry.details["to"] == "ap@birch.example"
    assert "<@U0BOB> resent it to ap@birch.example" in reply
    assert button_ids(slack, posted) == [actions.ADD_NOTE, actions.REOPEN]


def test_manual_resend_after_waiting(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.ISP_BLOCK)
    click(running_app, actions.CLIENT_CONTACTED, posted)
    wait_for_status(slack, posted, lifecycle.WAITING)
    running_app.client.submit_view(actions.MODAL_RESEND, {}, private_metadata=metadata(posted.id, actions.RESEND))
    wait_for_status(slack, posted, lifecycle.RESENT)
    assert last_audit(database, posted.id).from_state == lifecycle.WAITING


def test_manual_resend_confirmed_twice_once(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    running_app.client.submit_view(actions.MODAL_RESEND, {}, private_metadata=metadata(posted.id, actions.RESEND))
    wait_for_status(slack, posted, lifecycle.RESENT)
    running_app.client.submit_view(actions.MODAL_RESEND, {}, private_metadata=metadata(posted.id, actions.RESEND),
                                   user="U0BOB")
    assert "already resent or closed" in wait_for_ephemeral(slack, "U0BOB")[0]
    assert audit_actions(database, posted.id).count(actions.RESEND) == 1


def test_resend_on_closed_bounce_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    click(running_app, actions.RESEND, posted)
    assert "already resolved" in wait_for_ephemeral(slack, "U0ALICE")[0]
    assert slack.calls_to("views.open") == []


# Hard bounce: only once corrected or reactivated


def test_hard_bounce_resend_explains_why_not(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    click(running_app, actions.RESEND, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "Not resent: ap@birch.example hard-bounced" in text
    assert "*Correct address*" in text
    assert "*Request reactivation*" in text
    assert slack.calls_to("views.open") == []
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_hard_bounce_resend_blocked_until_confirmed(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    running_app.client.submit_view(actions.MODAL_EMAIL_DRAFT, {},
                                   private_metadata=metadata(posted.id, actions.REQUEST_REACTIVATION))
    wait_for_status(slack, posted, lifecycle.REACTIVATION_REQUESTED)
    click(running_app, actions.RESEND, posted)
    assert "Not resent" in wait_for_ephemeral(slack, "U0ALICE")[0]
    assert stored(database, posted.id).state == lifecycle.REACTIVATION_REQUESTED


def test_hard_bounce_forged_confirmation_refused(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    running_app.client.submit_view(actions.MODAL_RESEND, {}, private_metadata=metadata(posted.id, actions.RESEND))
    assert "Not resent" in wait_for_ephemeral(slack, "U0ALICE")[0]
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert audit_actions(database, posted.id) == POSTED_AUDIT


def test_hard_bounce_resend_after_correction(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    correct_address(running_app, slack, posted, "ap@birchdental.example")
    click(running_app, actions.RESEND, posted)
    view = wait_for_opened_view(slack)
    assert "to *ap@birchdental.example* again" in view_text(view)

    running_app.client.submit_view(view["callback_id"], {}, private_metadata=view["private_metadata"])
    wait_for_status(slack, posted, lifecycle.RESENT)
    assert last_audit(database, posted.id).details["to"] == "ap@birchdental.example"


def test_earlier_reactivation_does_not_count(running_app, database, slack, tmp_path):
    first = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    request_and_confirm_reactivation(running_app, slack, first)
    later = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE, day="2026-12-04")

    click(running_app, actions.RESEND, later, user="U0BOB")
    assert "Not resent: ap@birch.example hard-bounced" in wait_for_ephemeral(slack, "U0BOB")[0]
    assert slack.calls_to("views.open") == []


def test_hard_bounce_resend_after_reactivation(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.HARD_BOUNCE)
    request_and_confirm_reactivation(running_app, slack, posted)
    click(running_app, actions.RESEND, posted)
    view = wait_for_opened_view(slack)
    assert "to *ap@birch.example* again" in view_text(view)


# Webhook backend


def test_webhook_request_signed(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    click(webhook_app, actions.RESEND, posted)
    request = wait_for(lambda: webhook_server.requests)[0]
    assert request.signature_valid
    assert request.headers["x-bounce-desk-signature"] == webhook_server.expected_signature(request.body)
    assert request.headers["content-type"] == "application/json"
    assert len(request.headers["x-bounce-desk-delivery"]) == 32


def test_webhook_payload(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.SOFT_BOUNCE, document="INV-7",
                         client="Maple Co")
    click(webhook_app, actions.RESEND, posted, user="U0BOB")
    payload = wait_for(lambda: webhook_server.requests)[0].json
    assert payload["event"] == "bounce.resend_requested"
    assert payload["bounce_id"] == posted.id
    assert payload["address"] == "ap@birch.example"
    assert payload["original_address"] == "ap@birch.example"
    assert payload["reason"] == reasons.SOFT_BOUNCE
    assert payload["bounced_on"] == "2026-12-03"
    assert payload["documents"] == [{"document": "INV-7", "client": "Maple Co"}]
    assert payload["requested_by"] == "U0BOB"
    assert payload["firm_name"] == "Hale & Partners CPA"


def test_webhook_success_records_resend(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    click(webhook_app, actions.RESEND, posted)

    wait_for_status(slack, posted, lifecycle.RESENT)
    entry = last_audit(database, posted.id)
    reply = wait_for_thread_reply(slack, posted)[0]
    assert (entry.action, entry.to_state) == (actions.RESEND, lifecycle.RESENT)
    assert entry.details["backend"] == "webhook"
    assert "accepted the resend (HTTP 202)" in reply
    assert slack.calls_to("views.open") == []
    assert stored(database, posted.id).pending_action is None


def test_webhook_uses_corrected_address(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.HARD_BOUNCE)
    correct_address(webhook_app, slack, posted, "ap@birchdental.example")
    click(webhook_app, actions.RESEND, posted)
    payload = wait_for(lambda: webhook_server.requests)[0].json
    wait_for_status(slack, posted, lifecycle.RESENT)
    assert payload["address"] == "ap@birchdental.example"
    assert payload["original_address"] == "ap@birch.example"


def test_webhook_not_called_for_blocked_hard_bounce(webhook_app, database, slack, webhook_server,  # noqa: F811
                                                    tmp_path):
    posted = post_bounce(webhook_app, database, tmp_path, reasons.HARD_BOUNCE)
    click(webhook_app, actions.RESEND, posted)
    assert "Not resent" in wait_for_ephemeral(slack, "U0ALICE")[0]
    assert webhook_server.requests == []


@pytest.mark.parametrize("status", [500, 404, 302])
def test_webhook_failure_shown_with_status(webhook_app, database, slack, webhook_server, tmp_path,  # noqa: F811
                                           status):
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    webhook_server.respond_next(status)
    click(webhook_app, actions.RESEND, posted)

    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    bounce = stored(database, posted.id)
    assert f"the resend webhook answered HTTP {status}" in text
    assert "try again" in text
    assert bounce.state == lifecycle.OPEN
    assert bounce.pending_action is None
    assert actions.RESEND not in audit_actions(database, posted.id)


def test_webhook_failure_leaves_button(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    webhook_server.respond_next(500)
    click(webhook_app, actions.RESEND, posted)
    wait_for_ephemeral(slack, "U0ALICE")
    wait_for(lambda: "failed" in message_text(slack, posted))
    assert actions.RESEND in button_ids(slack, posted)
    assert "working on" not in message_text(slack, posted)


def test_webhook_retry_after_failure(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    webhook_server.respond_next(500)
    click(webhook_app, actions.RESEND, posted)
    wait_for_ephemeral(slack, "U0ALICE")

    click(webhook_app, actions.RESEND, posted)
    wait_for_status(slack, posted, lifecycle.RESENT)
    assert len(webhook_server.requests) == 2
    assert audit_actions(database, posted.id).count(actions.RESEND) == 1


def test_webhook_timeout_shown(app_factory, database, slack, webhook_server, tmp_path):  # noqa: F811
    app = app_factory(**webhook_server.settings(timeout=0.3))
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK)
    webhook_server.hold_next()
    click(app, actions.RESEND, posted)

    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert "the resend webhook did not answer within 0.3 seconds" in text
    assert stored(database, posted.id).state == lifecycle.OPEN
    assert stored(database, posted.id).pending_action is None


def test_webhook_success_after_close_explained(webhook_app, database, slack, webhook_server,  # noqa: F811
                                               tmp_path):
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    webhook_server.hold_next()
    click(webhook_app, actions.RESEND, posted, user="U0ALICE")
    webhook_server.wait_until_holding()
    click(webhook_app, actions.MARK_FIXED, posted, user="U0BOB")
    wait_for(lambda: stored(database, posted.id).state == lifecycle.RESOLVED)
    webhook_server.release()

    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    bounce = stored(database, posted.id)
    assert "The resend went out (the billing platform accepted the resend (HTTP 202))" in text
    assert "it was not recorded as resent" in text
    assert bounce.state == lifecycle.RESOLVED
    assert bounce.pending_action is None
    assert "working on" not in message_text(slack, posted)


def test_webhook_wrong_secret_rejected(app_factory, database, slack, webhook_server, tmp_path):  # noqa: F811
    app = app_factory(**{**webhook_server.settings(), "resend_webhook_secret": "some-other-secret"})
    posted = post_bounce(app, database, tmp_path, reasons.ISP_BLOCK)
    click(app, actions.RESEND, posted)
    text = wait_for_ephemeral(slack, "U0ALICE")[0]
    assert webhook_server.requests[0].signature_valid is False
    assert "HTTP 401" in text
    assert stored(database, posted.id).state == lifecycle.OPEN


def test_simultaneous_resends_call_once(webhook_app, database, slack, webhook_server, tmp_path):  # noqa: F811
    posted = post_bounce(webhook_app, database, tmp_path, reasons.ISP_BLOCK)
    barrier = threading.Barrier(2)

    def press(user):
        barrier.wait()
        click(webhook_app, actions.RESEND, posted, user=user)

    threads = [threading.Thread(target=press, args=(user,)) for user in ("U0ALICE", "U0BOB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for_status(slack, posted, lifecycle.RESENT)
    wait_for(lambda: slack.ephemeral_messages)
    assert len(webhook_server.requests) == 1
    assert audit_actions(database, posted.id).count(actions.RESEND) == 1


def test_unreachable_webhook_explained():
    backend = WebhookResend(f"http://127.0.0.1:{free_port()}/resend", "secret", timeout=2)
    result = backend.resend(ResendRequest(bounce_id=1, address="a@b.example", original_address="a@b.example",
                                          reason=reasons.ISP_BLOCK, bounced_on="2026-12-03", documents=[],
                                          requested_by="U0ALICE", requested_at="2026-12-04T13:00:00+00:00"))
    assert result.ok is False
    assert result.summary == "could not reach the resend webhook (ConnectError)"


# Bounced again after resend


def resend_by_hand(app, slack, posted):
    app.client.submit_view(actions.MODAL_RESEND, {}, private_metadata=metadata(posted.id, actions.RESEND))
    wait_for_status(slack, posted, lifecycle.RESENT)


def import_later(database, tmp_path, address="ap@birch.example", document="INV-1042", reason="Soft Bounce",
                 day="2026-12-05"):
    return import_report(database, write_csv(tmp_path / f"later-{day}-{document}.csv",
                                             [row(address, document, reason, day)]))


def newest_bounce(database) -> Bounce:
    with database.session() as session:
        return session.scalars(select(Bounce).order_by(Bounce.id.desc())).first()


def test_bounce_after_resend_flagged(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    resend_by_hand(running_app, slack, posted)

    summary = import_later(database, tmp_path)
    again = newest_bounce(database)
    assert summary.bounced_again == 1
    assert again.id != posted.id
    assert again.previous_bounce_id == posted.id
    assert again.state == lifecycle.OPEN


def test_bounce_after_resend_audited_both_ways(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    resend_by_hand(running_app, slack, posted)
    import_later(database, tmp_path)
    again = newest_bounce(database)

    with database.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "bounced_again")
                                  .order_by(AuditEntry.id)).all()
    assert [(entry.bounce_id, entry.actor) for entry in entries] == [(again.id, "system"), (posted.id, "system")]
    assert entries[0].details["previous_bounce_id"] == posted.id
    assert entries[1].details["next_bounce_id"] == again.id


def test_bounce_after_resend_message_links_history(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    resend_by_hand(running_app, slack, posted)
    import_later(database, tmp_path)
    running_app.services.digest.run(NOW)
    again = newest_bounce(database)
    earlier_link = stored(database, posted.id).slack_permalink

    text = message_text(slack, PostedBounce(again.id, again.address, again.slack_channel, again.slack_ts))
    assert "Bounced again after resend." in text
    assert f"<{earlier_link}|earlier bounce #{posted.id}>" in text


def test_other_document_not_flagged(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    resend_by_hand(running_app, slack, posted)
    summary = import_later(database, tmp_path, document="INV-9999")
    assert summary.bounced_again == 0
    assert newest_bounce(database).previous_bounce_id is None


def test_other_address_not_flagged(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    resend_by_hand(running_app, slack, posted)
    summary = import_later(database, tmp_path, address="billing@birch.example")
    assert summary.bounced_again == 0


def test_bounce_after_fix_not_flagged(running_app, database, slack, tmp_path):
    posted = post_bounce(running_app, database, tmp_path, reasons.SOFT_BOUNCE)
    click(running_app, actions.MARK_FIXED, posted)
    wait_for_status(slack, posted, lifecycle.RESOLVED)
    summary = import_later(database, tmp_path)
    assert summary.bounced_again == 0
    assert newest_bounce(database).previous_bounce_id is None

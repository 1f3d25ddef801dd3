"""Buttons that a message hides but the server still accepts.

A missing-invoice bounce reaches "waiting" only through Contact support, and
bot.lifecycle.available_actions() hides Contact support while it waits. The
transition still lists WAITING among its start states, so a click on a stale
message or a second "Sent it" on the drafted email is carried out again.
"""

from bot import actions, lifecycle, reasons
from tests.bounce_helpers import (
    audit_actions,
    button_ids,
    click,
    post_bounce,
    stored,
    wait_for_opened_view,
    wait_for_status,
)
from tests.conftest import wait_for
from tests.standins.smtp import smtp_server  # noqa: F401 - pytest fixture

SUPPORT = "help@platform.example"


def test_hidden_contact_support_sends_no_second_email(app_factory, database, slack, smtp_server, tmp_path):  # noqa: F811
    app = app_factory(support_email=SUPPORT, **smtp_server.settings())
    posted = post_bounce(app, database, tmp_path, reasons.MISSING_INVOICE)
    click(app, actions.CONTACT_SUPPORT, posted)
    wait_for_status(slack, posted, lifecycle.WAITING)
    wait_for(lambda: stored(database, posted.id).pending_action is None)
    assert actions.CONTACT_SUPPORT not in button_ids(slack, posted)

    click(app, actions.CONTACT_SUPPORT, posted, user="U0BOB")
    wait_for(lambda: [entry for entry in slack.ephemeral_messages if entry["user"] == "U0BOB"]
             or len(smtp_server.received) > 1)

    assert len(smtp_server.received) == 1
    assert audit_actions(database, posted.id).count(actions.CONTACT_SUPPORT) == 1


def test_support_draft_sent_twice_recorded_once(app_factory, database, slack, tmp_path):
    # Without SMTP, Contact support opens a draft whose "Sent it" records the email sent by hand.
    app = app_factory(support_email=SUPPORT)
    posted = post_bounce(app, database, tmp_path, reasons.MISSING_INVOICE)
    click(app, actions.CONTACT_SUPPORT, posted)
    view = wait_for_opened_view(slack)
    app.client.submit_view(view["callback_id"], {}, private_metadata=view["private_metadata"])
    wait_for_status(slack, posted, lifecycle.WAITING)

    app.client.submit_view(view["callback_id"], {}, private_metadata=view["private_metadata"], user="U0BOB")
    wait_for(lambda: [entry for entry in slack.ephemeral_messages if entry["user"] == "U0BOB"]
             or audit_actions(database, posted.id).count(actions.CONTACT_SUPPORT) > 1)

    assert audit_actions(database, posted.id).count(actions.CONTACT_SUPPORT) == 1

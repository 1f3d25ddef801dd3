"""Emails built from report text that the email library rejects."""

from bot import actions, lifecycle, reasons
from tests.bounce_helpers import post_bounce, stored
from tests.conftest import wait_for
from tests.standins.smtp import smtp_server  # noqa: F401 - pytest fixture


def test_support_email_document_line_break(app_factory, smtp_server, database, tmp_path):  # noqa: F811
    # A quoted CSV cell may contain a line break, and the document number goes into the Subject header.
    app = app_factory(support_email="help@platform.example", **smtp_server.settings())
    posted = post_bounce(app, database, tmp_path, reason=reasons.MISSING_INVOICE, document="INV-1\nINV-2")

    app.client.click(actions.CONTACT_SUPPORT, str(posted.id), channel=posted.channel, message_ts=posted.ts)

    wait_for(lambda: smtp_server.received)
    wait_for(lambda: stored(database, posted.id).state == lifecycle.WAITING)

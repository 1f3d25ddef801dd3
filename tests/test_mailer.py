"""SmtpMailer against local aiosmtpd servers: plain relay, STARTTLS with
login, TLS from the first byte, and the MailError messages for servers
that do not offer what the settings ask for.
"""

import pytest

from bot.mailer import Draft, MailError, SmtpMailer
from tests.conftest import wait_for
from tests.standins.smtp import (  # noqa: F401 - pytest fixtures
    SmtpStandIn,
    smtp_server,
    tls_files,
    trusted_tls_files,
)

DRAFT = Draft(to="help@platform.example", subject="Reactivation request", body="Please reactivate.\nThanks")


def started(server):
    server.start()
    return server


@pytest.fixture
def tls_server(trusted_tls_files):  # noqa: F811 - the fixture imported above
    server = started(SmtpStandIn(tls=trusted_tls_files, credentials=("billing", "s3cret")))
    yield server
    server.stop()


@pytest.fixture
def implicit_tls_server(trusted_tls_files):  # noqa: F811
    server = started(SmtpStandIn(tls=trusted_tls_files, implicit_tls=True))
    yield server
    server.stop()


def mailer(server, security, **options):
    return SmtpMailer("127.0.0.1", server.port, security, options.pop("mail_from", "billing@halecpa.example"),
                      timeout=5, **options)


def test_plain_relay_delivers(smtp_server):  # noqa: F811
    message_id = mailer(smtp_server, "none").send(DRAFT)
    mail = wait_for(lambda: smtp_server.received)[0]
    assert mail.recipients == ["help@platform.example"]
    assert mail.mail_from == "billing@halecpa.example"
    assert mail.subject == "Reactivation request"
    assert mail.body == "Please reactivate.\nThanks\n"
    assert mail.message["Message-ID"] == message_id
    assert mail.message["Date"] is not None


def test_reply_to_header_set(smtp_server):  # noqa: F811
    draft = Draft(to=DRAFT.to, subject=DRAFT.subject, body=DRAFT.body, reply_to="team@halecpa.example")
    mailer(smtp_server, "none").send(draft)
    assert wait_for(lambda: smtp_server.received)[0].message["Reply-To"] == "team@halecpa.example"


def test_mail_from_with_display_name(smtp_server):  # noqa: F811
    message_id = mailer(smtp_server, "none", mail_from="Hale Billing <billing@halecpa.example>").send(DRAFT)
    mail = wait_for(lambda: smtp_server.received)[0]
    assert mail.mail_from == "billing@halecpa.example"
    assert message_id.endswith("@halecpa.example>")
    assert mail.message["From"] == "Hale Billing <billing@halecpa.example>"


def test_starttls_with_login_delivers(tls_server):
    mailer(tls_server, "starttls", username="billing", password="s3cret").send(DRAFT)
    assert wait_for(lambda: tls_server.received)[0].recipients == ["help@platform.example"]


def test_wrong_password_rejected(tls_server):
    with pytest.raises(MailError) as raised:
        mailer(tls_server, "starttls", username="billing", password="wrong").send(DRAFT)
    assert f"127.0.0.1:{tls_server.port} rejected SMTP_USERNAME/SMTP_PASSWORD (535)" in str(raised.value)
    assert tls_server.received == []


def test_plain_connection_refused_by_tls_server(tls_server):
    with pytest.raises(MailError) as raised:
        mailer(tls_server, "none").send(DRAFT)
    assert "answered 530" in str(raised.value)
    assert tls_server.received == []


def test_ssl_delivers(implicit_tls_server):
    mailer(implicit_tls_server, "ssl").send(DRAFT)
    assert wait_for(lambda: implicit_tls_server.received)[0].subject == "Reactivation request"


def test_untrusted_certificate_rejected(tls_files, monkeypatch):  # noqa: F811
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server = started(SmtpStandIn(tls=tls_files))
    try:
        with pytest.raises(MailError) as raised:
            mailer(server, "starttls").send(DRAFT)
    finally:
        server.stop()
    assert "SSLCertVerificationError" in str(raised.value)
    assert "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY" in str(raised.value)


def test_ssl_against_plain_server_explained(smtp_server):  # noqa: F811
    with pytest.raises(MailError) as raised:
        mailer(smtp_server, "ssl").send(DRAFT)
    assert f"could not send through 127.0.0.1:{smtp_server.port} (SSLError" in str(raised.value)
    assert smtp_server.received == []


def test_starttls_refused_by_server(smtp_server):  # noqa: F811
    with pytest.raises(MailError) as raised:
        mailer(smtp_server, "starttls").send(DRAFT)
    assert f"127.0.0.1:{smtp_server.port} does not offer STARTTLS" in str(raised.value)
    assert "SMTP_SECURITY" in str(raised.value)
    assert smtp_server.received == []


def test_login_refused_without_auth(smtp_server):  # noqa: F811
    with pytest.raises(MailError) as raised:
        mailer(smtp_server, "none", username="billing", password="s3cret").send(DRAFT)
    assert "does not offer SMTP AUTH" in str(raised.value)
    assert "SMTP_USERNAME" in str(raised.value)
    assert smtp_server.received == []


def test_password_not_in_error(tls_server):
    with pytest.raises(MailError) as raised:
        mailer(tls_server, "starttls", username="billing", password="wrong-password-123").send(DRAFT)
    assert "wrong-password-123" not in str(raised.value)

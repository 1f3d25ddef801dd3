"""Local SMTP servers for the email tests, built on aiosmtpd.

`SmtpStandIn` listens on 127.0.0.1, records every message it accepts, and can
hold a message (to test clicks that arrive while an email is being sent) or
reject the next ones with an SMTP error code. By default it offers neither
STARTTLS nor AUTH. Given a certificate (the `tls_files` fixture, made with
the openssl command), it offers STARTTLS or speaks TLS from the first byte,
and with credentials it requires AUTH after STARTTLS.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port

# How long a held message waits for release() before the server accepts it anyway.
HOLD_LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """Return the text body with SMTP's CRLF line endings turned into newlines."""
        return self.message.get_content().replace("\r\n", "\n")


class _RecordingHandler:
    def __init__(self, standin: SmtpStandIn):
        self.standin = standin

    async def handle_DATA(self, server, session, envelope) -> str:
        return await session.loop.run_in_executor(None, self.standin.receive, envelope)


class SmtpStandIn:
    def __init__(self, tls: TlsFiles | None = None, implicit_tls: bool = False,
                 credentials: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.credentials = credentials
        options: dict[str, object] = {}
        if tls is not None and implicit_tls:
            options["ssl_context"] = tls.server_context()
        elif tls is not None:
            options.update(tls_context=tls.server_context(), require_starttls=True)
        if credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=True)
        self._controller = Controller(_RecordingHandler(self), hostname="127.0.0.1", port=self.port, **options)
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self._rejections: list[str] = []
        self._holds_remaining = 0
        self._held_count = 0
        self._holding = threading.Condition()
        self._release = threading.Event()

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._release.set()
        self._controller.stop()

    def settings(self) -> dict[str, object]:
        """Return the SMTP_* setting overrides that point Bounce Desk at this server."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_timeout_seconds": 5.0,
            "mail_from": "billing@halecpa.example",
        }

    @property
    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._received)

    def reject_next(self, reply: str, count: int = 1) -> None:
        """Reply to the next `count` messages with `reply`, such as "554 5.7.1 relay denied"."""
        with self._lock:
            self._rejections.extend([reply] * count)

    def hold_next(self, count: int = 1) -> None:
        """Keep the next `count` messages waiting at the end of DATA until release() is called."""
        with self._holding:
            self._holds_remaining += count
            self._held_count = 0
        self._release.clear()

    def wait_until_holding(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until `count` messages are held."""
        with self._holding:
            if not self._holding.wait_for(lambda: self._held_count >= count, timeout):
                raise AssertionError(f"{self._held_count} of {count} messages reached the SMTP server "
                                     f"within {timeout} s")

    def release(self) -> None:
        self._release.set()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        login, password = self.credentials
        accepted = auth_data.login.decode() == login and auth_data.password.decode() == password
        return AuthResult(success=accepted, handled=False)

    def receive(self, envelope) -> str:
        """Record one message; run on a worker thread so a held message does not stop the server."""
        with self._holding:
            hold = self._holds_remaining > 0
            if hold:
                self._holds_remaining -= 1
                self._held_count += 1
                self._holding.notify_all()
        if hold:
            self._release.wait(HOLD_LIMIT_SECONDS)
        with self._lock:
            if self._rejections:
                return self._rejections.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self._received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    server = SmtpStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed, so no test certificate can be made")
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(files.key), "-out", str(files.certificate),
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
         "-addext", "extendedKeyUsage=serverAuth"],
        check=True, capture_output=True,
    )
    return files


@pytest.fixture
def trusted_tls_files(tls_files, monkeypatch) -> TlsFiles:
    """The test certificate, trusted by ssl.create_default_context() through SSL_CERT_FILE for one test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.certificate))
    return tls_files

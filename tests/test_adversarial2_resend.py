"""The resend webhook against loopback servers that respond slowly or never finish.

RESEND_WEBHOOK_TIMEOUT_SECONDS is documented as how long Bounce Desk waits for
the webhook, and bot.bounce_workflows relies on it to bound each slow job that
holds the bounce's pending mark and one of the slow-work slots.
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.resend import ResendRequest, WebhookResend

TIMEOUT_SECONDS = 1.0
# Time allowed beyond the timeout for connecting and returning on a loopback server.
MARGIN_SECONDS = 1.5

REQUEST = ResendRequest(
    bounce_id=1,
    address="ap@birch.example",
    original_address="ap@birch.example",
    reason="soft_bounce",
    bounced_on="2026-12-03",
    documents=[{"document": "INV-1042", "client": "Birch Dental LLC"}],
    requested_by="U0ALICE",
    requested_at="2026-12-04T13:00:00+00:00",
)


class _TrickleHandler(BaseHTTPRequestHandler):
    """Respond with 200 at once, then send a 40-byte body one byte every 0.3 seconds."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "40")
        self.end_headers()
        for _ in range(40):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.3)

    def log_message(self, format, *args) -> None:
        pass


class _EndlessBodyHandler(BaseHTTPRequestHandler):
    """Respond with 200 at once, then stream a body that never ends until the client hangs up."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        chunk = b"x" * 65536
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                self.wfile.write(chunk)
            except OSError:
                return
            time.sleep(0.01)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def serve():
    servers = []

    def start(handler) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/resend"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_webhook_trickled_body_bounded_by_timeout(serve):
    # Each byte arrives well within the timeout, so only a deadline for the whole call stops this.
    backend = WebhookResend(serve(_TrickleHandler), "secret", timeout=TIMEOUT_SECONDS)

    started = time.monotonic()
    backend.resend(REQUEST)
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT_SECONDS + MARGIN_SECONDS, f"the webhook call took {elapsed:.1f} s"


def test_webhook_endless_body_not_read(serve):
    # The status line decides the outcome, so a body that never ends must not keep the call open.
    backend = WebhookResend(serve(_EndlessBodyHandler), "secret", timeout=TIMEOUT_SECONDS)

    started = time.monotonic()
    result = backend.resend(REQUEST)
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT_SECONDS + MARGIN_SECONDS, f"the webhook call took {elapsed:.1f} s"
    assert result.status == 200

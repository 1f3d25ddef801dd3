"""A local HTTP endpoint standing in for the billing platform's resend webhook.

It checks the X-Bounce-Desk-Signature header ("sha256=" + hex HMAC-SHA256 of
the raw body under the shared secret) with its own hmac code, and responds
with 401 to a bad signature. It records every request. It can respond to the
next requests with another status, or hold them without a response until the
client times out or the test releases them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET = "resend-webhook-secret-for-tests"
# How long a held request waits for release() before the response is sent anyway.
HOLD_LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class WebhookRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookStandIn:
    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self._lock = threading.Lock()
        self._requests: list[WebhookRequest] = []
        self._statuses: deque[int] = deque()
        self._holds_remaining = 0
        self._holding = threading.Event()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/resend"

    def settings(self, timeout: float = 2.0) -> dict[str, object]:
        """Return the RESEND_* setting overrides that point Bounce Desk at this endpoint."""
        return {
            "resend_backend": "webhook",
            "resend_webhook_url": self.url,
            "resend_webhook_secret": self.secret,
            "resend_webhook_timeout_seconds": timeout,
        }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def requests(self) -> list[WebhookRequest]:
        with self._lock:
            return list(self._requests)

    def respond_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._statuses.extend([status] * count)

    def hold_next(self, count: int = 1) -> None:
        """Keep the next `count` requests waiting without a response until release() or stop()."""
        with self._lock:
            self._holds_remaining += count
        self._holding.clear()
        self._release.clear()

    def wait_until_holding(self, timeout: float = 5.0) -> None:
        if not self._holding.wait(timeout):
            raise AssertionError(f"no resend request arrived within {timeout} s")

    def release(self) -> None:
        self._release.set()

    def expected_signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Record one request and return the response status, after holding the request if hold_next() was called."""
        signature = headers.get("x-bounce-desk-signature", "")
        valid = hmac.compare_digest(signature, self.expected_signature(body))
        with self._lock:
            self._requests.append(WebhookRequest(path, headers, body, valid))
            if not valid:
                return 401
            hold = self._holds_remaining > 0
            if hold:
                self._holds_remaining -= 1
            status = self._statuses.popleft() if self._statuses else 202
        if hold:
            self._holding.set()
            self._release.wait(HOLD_LIMIT_SECONDS)
        return status


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        standin: WebhookStandIn = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = standin.handle(self.path, headers, body)
        payload = json.dumps({"ok": 200 <= status < 300}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client timed out and closed the connection before the response

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server():
    server = WebhookStandIn()
    server.start()
    yield server
    server.stop()

"""Resend backends: how "Resend" reaches the billing platform.

- `manual` (default): nothing is called; a modal tells the user how to resend
  from the practice management system or by forwarding the BCC copy, and
  confirming it records the resend.
- `webhook`: POSTs a JSON description of the bounce to RESEND_WEBHOOK_URL,
  signed in the X-Bounce-Desk-Signature header as "sha256=" + hex
  HMAC-SHA256 of the raw body under RESEND_WEBHOOK_SECRET. Only a 2xx answer
  counts as success; anything else is reported with its status and the
  bounce stays as it was, so the user can try again.

A provider backend (such as sending again through Postmark) implements the
same ResendBackend protocol and is added to build_resend_backend().
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from typing import Protocol

import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bounce-Desk-Signature"
DELIVERY_HEADER = "X-Bounce-Desk-Delivery"


@dataclass(frozen=True)
class ResendRequest:
    bounce_id: int
    address: str  # where to send now: the corrected address when there is one
    original_address: str
    reason: str
    bounced_on: str
    documents: list[dict[str, str]]
    requested_by: str
    requested_at: str
    firm_name: str = ""
    event: str = field(default="bounce.resend_requested")


@dataclass(frozen=True)
class ResendResult:
    ok: bool
    summary: str
    status: int | None = None


class ResendBackend(Protocol):
    name: str
    # True when resend() does the sending; False when the user resends by hand and confirms in a modal.
    automatic: bool

    def resend(self, request: ResendRequest) -> ResendResult: ...


class ManualResend:
    name = "manual"
    automatic = False

    def resend(self, request: ResendRequest) -> ResendResult:
        return ResendResult(True, "resent by hand from the practice management system or the BCC copy")


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookResend:
    name = "webhook"
    automatic = True

    def __init__(self, url: str, secret: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.transport = transport

    def resend(self, request: ResendRequest) -> ResendResult:
        body = json.dumps(asdict(request), sort_keys=True).encode("utf-8")
        delivery = uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_body(self.secret, body),
            DELIVERY_HEADER: delivery,
            "User-Agent": "BounceDesk/1",
        }
        log.info("resend.webhook_calling bounce_id=%d delivery=%s", request.bounce_id, delivery)
        try:
            with httpx.Client(timeout=httpx.Timeout(self.timeout), transport=self.transport) as client:
                # Only the status counts, so the response body is never read: a receiver that
                # trickles or streams a body cannot hold the call open or fill memory.
                with client.stream("POST", self.url, content=body, headers=headers) as response:
                    pass
        except httpx.TimeoutException:
            log.error("resend.webhook_timeout bounce_id=%d delivery=%s timeout=%s", request.bounce_id, delivery, self.timeout)
            return ResendResult(False, f"the resend webhook did not answer within {self.timeout:g} seconds")
        except httpx.HTTPError as error:
            log.error("resend.webhook_failed bounce_id=%d delivery=%s error=%s", request.bounce_id, delivery,
                      type(error).__name__)
            return ResendResult(False, f"could not reach the resend webhook ({type(error).__name__})")

        if 200 <= response.status_code < 300:
            log.info("resend.webhook_ok bounce_id=%d delivery=%s status=%d", request.bounce_id, delivery, response.status_code)
            return ResendResult(True, f"the billing platform accepted the resend (HTTP {response.status_code})",
                                response.status_code)
        log.error("resend.webhook_rejected bounce_id=%d delivery=%s status=%d", request.bounce_id, delivery,
                  response.status_code)
        return ResendResult(False, f"the resend webhook answered HTTP {response.status_code}", response.status_code)


def build_resend_backend(settings) -> ResendBackend:
    if settings.resend_backend == "webhook":
        return WebhookResend(settings.resend_webhook_url, settings.resend_webhook_secret,
                             settings.resend_webhook_timeout_seconds)
    return ManualResend()

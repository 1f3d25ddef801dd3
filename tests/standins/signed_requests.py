"""Requests into the app's /slack/events endpoint, signed as Slack signs them.

Slack sends `X-Slack-Request-Timestamp` and `X-Slack-Signature`, where the
signature is "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{raw body}" under the
app's signing secret. The HMAC is computed here with hashlib, independently of
the slack_sdk verifier that the app uses, so the test checks the real scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SignedSlackClient:
    """Sends interaction payloads, slash commands and events like Slack does."""

    def __init__(self, app_url: str, signing_secret: str, team_id: str = "T0FIRM", response_url: str | None = None):
        self.app_url = app_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.response_url = response_url or "http://127.0.0.1:9/unused"
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def post_raw(self, body: bytes, content_type: str, *, timestamp: int | None = None,
                 signature: str | None = None, secret: str | None = None) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or sign(secret or self.signing_secret, stamp, body),
        }
        return self.http.post(self.app_url, content=body, headers=headers)

    def post_payload(self, payload: dict[str, Any], **kwargs) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_raw(body, "application/x-www-form-urlencoded", **kwargs)

    def click(self, action_id: str, value: str, *, user: str = "U0ALICE", channel: str = "C0DIGEST",
              message_ts: str = "1764835200.000100", **kwargs) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0BOUNCEDESK",
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
            "team": {"id": self.team_id, "domain": "firm"},
            "channel": {"id": channel, "name": "billing-bounces"},
            "message": {"ts": message_ts, "text": "", "blocks": []},
            "response_url": self.response_url,
            "actions": [{
                "action_id": action_id,
                "block_id": "bounce_actions",
                "type": "button",
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": f"{time.time():.6f}",
            }],
        }
        return self.post_payload(payload, **kwargs)

    def click_in_home(self, action_id: str, value: str, *, user: str = "U0ALICE") -> httpx.Response:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": self.team_id},
            "api_app_id": "A0BOUNCEDESK",
            "container": {"type": "view", "view_id": "V0HOME"},
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
            "team": {"id": self.team_id, "domain": "firm"},
            "view": {"id": "V0HOME", "type": "home", "callback_id": "", "private_metadata": "", "state": {"values": {}}},
            "actions": [{"action_id": action_id, "block_id": "home", "type": "button", "value": value,
                         "action_ts": f"{time.time():.6f}"}],
        }
        return self.post_payload(payload)

    def submit_view(self, callback_id: str, values: dict[str, dict[str, Any]], *, private_metadata: str = "",
                    user: str = "U0ALICE") -> httpx.Response:
        """Submit a modal. `values` is view.state.values: {block_id: {action_id: {"type":..., "value":...}}}."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "firm"},
            "user": {"id": user, "team_id": self.team_id},
            "api_app_id": "A0BOUNCEDESK",
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
            "view": {
                "id": "V0MODAL",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "hash": "1.abc",
                "state": {"values": values},
            },
        }
        return self.post_payload(payload)

    def command(self, text: str, *, command: str = "/bounces", user: str = "U0ALICE",
                channel: str = "C0DIGEST") -> httpx.Response:
        body = urlencode({
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": "firm",
            "channel_id": channel,
            "channel_name": "billing-bounces",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0BOUNCEDESK",
            "response_url": self.response_url,
            "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
        }).encode()
        return self.post_raw(body, "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any]) -> httpx.Response:
        body = json.dumps({
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0BOUNCEDESK",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
        }).encode()
        return self.post_raw(body, "application/json")

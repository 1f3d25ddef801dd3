"""The one way Bounce Desk talks to the Slack Web API.

A slack_sdk WebClient pointed at SLACK_API_URL, with slack_sdk's retry
handlers: connection errors, 5xx answers and 429 answers (waiting for the
Retry-After the server sends). Errors that remain are raised as SlackError
with the method and Slack's error code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

log = logging.getLogger(__name__)


class SlackError(Exception):
    def __init__(self, method: str, error: str, status: int | None = None):
        super().__init__(f"Slack {method} failed: {error}" + (f" (HTTP {status})" if status else ""))
        self.method = method
        self.error = error
        self.status = status


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


def build_client(token: str, base_url: str, rate_limit_retries: int = 3) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackGateway:
    def __init__(self, client: WebClient):
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.api_call(method, json=kwargs)
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error") if error.response else "unknown_error"
            status = error.response.status_code if error.response is not None else None
            details = error.response.get("response_metadata", {}).get("messages") if error.response else None
            log.error("slack.call_failed method=%s error=%s status=%s details=%s", method, code, status, details)
            raise SlackError(method, code, status) from None
        return response.data if isinstance(response.data, dict) else {}

    def post_message(self, channel: str, text: str, blocks: list[dict] | None = None, thread_ts: str | None = None) -> Posted:
        args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if blocks is not None:
            args["blocks"] = blocks
        if thread_ts:
            args["thread_ts"] = thread_ts
        data = self._call("chat.postMessage", **args)
        return Posted(channel=data["channel"], ts=data["ts"])

    def update_message(self, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self._call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink")
        except SlackError:
            # A missing permalink only costs a link in the digest header.
            return None

    def post_ephemeral(self, channel: str, user: str, text: str, blocks: list[dict] | None = None) -> None:
        args: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks is not None:
            args["blocks"] = blocks
        self._call("chat.postEphemeral", **args)

    def open_view(self, trigger_id: str, view: dict) -> dict:
        return self._call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, view: dict) -> None:
        self._call("views.publish", user_id=user_id, view=view)

"""Checks on a request to /slack/events before Bolt sees it.

The signature is checked first, on the raw body, so an unsigned request is
answered 401 whatever its body holds. A signed body whose shape is not one
Slack sends (a payload that is not a JSON object, actions that are not a list
of objects, a view without its callback id) is answered 400 with the problem,
instead of failing inside Bolt's listener matching.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier


def signature_valid(signing_secret: str, body: bytes, headers) -> bool:
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not signing_secret or not timestamp.isdigit() or not signature:
        return False
    try:
        return SignatureVerifier(signing_secret).is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:
        # slack_sdk decodes the body as UTF-8 before hashing; Slack only sends UTF-8.
        return False


def _is_list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def payload_problem(payload: Any) -> str | None:
    """Return what is wrong with an interaction payload's shape, or None when Bolt can route it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "payload is not a JSON object with a type"
    kind = payload["type"]
    if kind == "block_actions":
        if not _is_list_of_objects(payload.get("actions")):
            return "block_actions payload has no list of actions"
        if any(not isinstance(action.get("action_id"), str) for action in payload["actions"]):
            return "an action has no action_id"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str) or "type" not in view:
            return f"{kind} payload has no view with a callback_id and type"
    if kind in ("block_actions", "view_submission") and not isinstance(payload.get("user"), dict):
        return f"{kind} payload has no user"
    return None


def body_problem(body: str, content_type: str) -> str | None:
    """Return what is wrong with a signed body's shape, or None."""
    if content_type.startswith("application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            return "body is not valid JSON"
        return None if isinstance(document, dict) else "JSON body is not an object"

    fields = parse_qs(body, keep_blank_values=True)
    if "payload" in fields:
        try:
            payload = json.loads(fields["payload"][0])
        except ValueError:
            return "payload field is not valid JSON"
        return payload_problem(payload)
    if "command" in fields or "ssl_check" in fields:
        return None
    return "form body has neither a payload nor a command"

"""Small readers for Slack interaction payloads."""

from __future__ import annotations

from typing import Any


def bounce_id_from_action(action: dict[str, Any]) -> int | None:
    """Return the bounce id a button carries, or None when the value is not a positive integer."""
    value = str(action.get("value", "")).strip()
    if not value.isdigit():
        return None
    bounce_id = int(value)
    return bounce_id if bounce_id > 0 else None


def user_id(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or ""


def channel_id(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or body.get("channel_id")

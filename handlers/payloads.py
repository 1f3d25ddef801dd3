"""Small readers for Slack interaction payloads."""

from __future__ import annotations

from typing import Any

from bot.actions import parse_bounce_id


def bounce_id_from_action(action: dict[str, Any]) -> int | None:
    """Return the bounce id a button carries, or None when the value is not a positive integer."""
    return parse_bounce_id(action.get("value", ""))


def user_id(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or ""


def channel_id(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or body.get("channel_id")

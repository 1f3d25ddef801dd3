"""Escaping and length limits for Slack mrkdwn text.

Slack treats `&`, `<` and `>` as control characters: `<!channel>` pings a
channel and `<https://x|y>` plants a link. Every untrusted text (addresses,
client names, remote servers' diagnostics) passes through escape() before it
is put into mrkdwn, so those sequences show as typed and do nothing.
"""

from __future__ import annotations

import re
from datetime import datetime

TRUNCATION_MARKER = " … [truncated]"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def escape(text: str | None) -> str:
    """Replace the three mrkdwn control characters with entities; `&` first so entities stay intact."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Inverse of escape(), for printing blocks to a terminal."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int, marker: str = TRUNCATION_MARKER) -> str:
    """Cut `text` to at most `limit` characters, ending with a visible marker when cut.

    Never cuts inside an entity such as `&amp;`, which would show as broken text.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(marker))]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp <= 5:
        cut = cut[:amp]
    return cut + marker


def escape_and_truncate(text: str | None, limit: int) -> str:
    return truncate(escape(text), limit)


def mention(user_id: str | None) -> str:
    """Return `<@U…>` for a Slack user id, or escaped text when it is not one (e.g. "system")."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


SYSTEM_ACTOR = "system"


def actor(actor_id: str | None) -> str:
    """Name who did something: "Bounce Desk" for the app's own steps (actor "system"), else a mention."""
    if actor_id == SYSTEM_ACTOR:
        return "Bounce Desk"
    return mention(actor_id)


def slack_date(moment: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """Format a time with Slack's date syntax, so each reader sees it in their own time zone."""
    epoch = int(moment.timestamp())
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{token}|{fallback}>"


def link(url: str | None, label: str) -> str:
    """Return a mrkdwn link with an escaped label, or the escaped label alone when there is no URL."""
    safe_label = escape(label).replace("|", "¦")
    if not url:
        return safe_label
    return f"<{url}|{safe_label}>"

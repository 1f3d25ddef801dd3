"""Offline stand-in for SlackGateway used by `app.py demo` when no Slack token is set.

It prints each message as a person would read it in Slack, followed by its
Block Kit JSON, and hands back made-up timestamps so the digest can run.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from typing import Any, TextIO

from bot.mrkdwn import unescape
from bot.slack_gateway import Posted

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
_CODE = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"```")

# The emoji Bounce Desk's messages use, as a terminal shows them.
EMOJI = {
    ":no_entry:": "⛔", ":hourglass_flowing_sand:": "⏳", ":x:": "❌", ":mag:": "🔍", ":grey_question:": "❔",
    ":white_check_mark:": "✅", ":warning:": "⚠️", ":pencil2:": "✏️", ":repeat:": "🔁", ":scissors:": "✂️",
    ":outbox_tray:": "📤",
}


def mrkdwn_to_text(text: str) -> str:
    """Turn our mrkdwn into terminal text as Slack would display it.

    Dates and links become their labels, bold, italics and code lose their
    markers, emoji codes become emoji, and entities become characters again.
    """
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _MENTION.sub(r"@\1", text)
    text = _FENCE.sub("", text)
    text = _CODE.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    for code, emoji in EMOJI.items():
        text = text.replace(code, emoji)
    return unescape(text)


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if "text" in block:
                lines.append(mrkdwn_to_text(block["text"]["text"]))
            for item in block.get("fields", []):
                lines.append(mrkdwn_to_text(item["text"]).replace("\n", ": ", 1))
        elif kind == "context":
            lines += ["  " + mrkdwn_to_text(element.get("text", "")) for element in block.get("elements", [])]
        elif kind == "actions":
            labels = [element["text"]["text"] for element in block.get("elements", [])]
            lines.append("Buttons: " + " | ".join(f"[{label}]" for label in labels))
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)


class PreviewGateway:
    def __init__(self, out: TextIO = sys.stdout, show_json: bool = True):
        self.out = out
        self.show_json = show_json
        self._counter = itertools.count(1)
        self.posted: list[dict[str, Any]] = []

    def post_message(self, channel: str, text: str, blocks: list[dict] | None = None, thread_ts: str | None = None) -> Posted:
        ts = f"1764835200.{next(self._counter):06d}"
        self.posted.append({"channel": channel, "ts": ts, "text": text, "blocks": blocks or []})
        print("\n" + blocks_to_text(blocks or []) if blocks else "\n" + mrkdwn_to_text(text), file=self.out)
        if self.show_json and blocks:
            print("\nBlock Kit JSON (paste into https://app.slack.com/block-kit-builder):", file=self.out)
            print(json.dumps({"blocks": blocks}, indent=2, ensure_ascii=False), file=self.out)
        return Posted(channel=channel, ts=ts)

    def update_message(self, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
        print("\n(the same message, updated in place)\n" + blocks_to_text(blocks), file=self.out)

    def permalink(self, channel: str, ts: str) -> str | None:
        return None

    def post_ephemeral(self, channel: str, user: str, text: str, blocks: list[dict] | None = None) -> None:
        print(f"\n(only visible to {user}) {mrkdwn_to_text(text)}", file=self.out)

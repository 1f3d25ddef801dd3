"""Helpers for the button and modal tests: post a bounce, then read it back
from the database, the audit log and the Slack stand-in.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from bot import lifecycle, reasons
from bot.importer import import_report
from storage.models import AuditEntry, Bounce, Recipient
from tests.conftest import wait_for
from tests.helpers import row, write_csv

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)

# Report reason texts that bot.reasons.classify() maps to each catalog key.
REASON_TEXTS = {
    reasons.ISP_BLOCK: "ISP Block",
    reasons.SOFT_BOUNCE: "Soft Bounce",
    reasons.HARD_BOUNCE: "Hard Bounce",
    reasons.MISSING_INVOICE: "Ingested Invoice Does Not Exist",
    reasons.OTHER: "Mailbox Unavailable",
}

ALL_REASONS = tuple(REASON_TEXTS)

# The audit log of a bounce that the digest has just posted.
POSTED_AUDIT = ["imported", "posted"]


@dataclass(frozen=True)
class PostedBounce:
    id: int
    address: str
    channel: str
    ts: str


def post_bounce(app, database, tmp_path, reason: str = reasons.HARD_BOUNCE, address: str = "ap@birch.example",
                document: str = "INV-1042", client: str = "Birch Dental LLC", code: str = "550 5.1.1",
                details: str = "user unknown", day: str = "2026-12-03",
                more_documents: tuple[str, ...] = ()) -> PostedBounce:
    """Import report rows for one address and post them with the digest; return the posted bounce.

    `more_documents` adds rows that differ only in the document number, so they share the bounce.
    """
    rows = [row(address, number, REASON_TEXTS[reason], day, client, code, details)
            for number in (document, *more_documents)]
    path = write_csv(tmp_path / f"report-{uuid.uuid4().hex[:8]}.csv", rows)
    import_report(database, path)
    app.services.digest.run(NOW)
    with database.session() as session:
        bounce = session.scalars(select(Bounce).where(Bounce.address == address).order_by(Bounce.id.desc())).first()
    assert bounce is not None and bounce.slack_ts is not None, f"the digest did not post the bounce to {address}"
    return PostedBounce(bounce.id, bounce.address, bounce.slack_channel, bounce.slack_ts)


def click(app, action_id: str, posted: PostedBounce, user: str = "U0ALICE"):
    """Click a bounce message's button as `user` through the app's signed endpoint; the app must answer 200."""
    response = app.client.click(action_id, str(posted.id), user=user, channel=posted.channel, message_ts=posted.ts)
    assert response.status_code == 200
    return response


def stored(database, bounce_id: int) -> Bounce:
    with database.session() as session:
        return session.get(Bounce, bounce_id)


def recipient(database, address: str) -> Recipient:
    with database.session() as session:
        return session.get(Recipient, address)


def audit(database, bounce_id: int) -> list[AuditEntry]:
    with database.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.bounce_id == bounce_id)
                                    .order_by(AuditEntry.id)))


def audit_actions(database, bounce_id: int) -> list[str]:
    return [entry.action for entry in audit(database, bounce_id)]


def last_audit(database, bounce_id: int) -> AuditEntry:
    return audit(database, bounce_id)[-1]


def message(slack, posted: PostedBounce) -> dict[str, Any]:
    return slack.messages[(posted.channel, posted.ts)]


def message_text(slack, posted: PostedBounce) -> str:
    """Return the message's blocks as one JSON string, for substring checks."""
    return json.dumps(message(slack, posted).get("blocks", []))


def button_ids(slack, posted: PostedBounce) -> list[str]:
    ids = []
    for block in message(slack, posted).get("blocks", []):
        if block.get("type") == "actions":
            ids += [element["action_id"] for element in block["elements"]]
    return ids


def status_line(slack, posted: PostedBounce) -> str:
    """Return the message's status line, such as "*Claimed* by <@U0ALICE> …"."""
    labels = tuple(f"*{label}*" for label in lifecycle.STATE_LABELS.values())
    for block in message(slack, posted).get("blocks", []):
        if block.get("type") == "context":
            for element in block["elements"]:
                if element.get("text", "").startswith(labels):
                    return element["text"]
    return ""


def history_text(slack, posted: PostedBounce) -> str:
    """Return the history lines (the context block after the status line) joined by newlines."""
    blocks = message(slack, posted).get("blocks", [])
    status = status_line(slack, posted)
    for index, block in enumerate(blocks):
        if block.get("type") == "context" and any(element.get("text") == status for element in block["elements"]):
            following = blocks[index + 1] if index + 1 < len(blocks) else {}
            if following.get("type") == "context":
                return "\n".join(element.get("text", "") for element in following["elements"])
    return ""


def wait_for_status(slack, posted: PostedBounce, state: str) -> str:
    """Wait until the re-rendered message shows `state`; return its status line."""
    label = f"*{lifecycle.STATE_LABELS[state]}*"

    def shown() -> str:
        line = status_line(slack, posted)
        return line if line.startswith(label) else ""

    return wait_for(shown)


def thread_texts(slack, posted: PostedBounce) -> list[str]:
    return [reply["text"] for reply in slack.thread_replies(posted.channel, posted.ts)]


def wait_for_thread_reply(slack, posted: PostedBounce, count: int = 1) -> list[str]:
    return wait_for(lambda: _at_least(thread_texts(slack, posted), count))


def ephemerals_for(slack, user: str) -> list[str]:
    return [entry["text"] for entry in slack.ephemeral_messages if entry["user"] == user]


def wait_for_ephemeral(slack, user: str, count: int = 1) -> list[str]:
    return wait_for(lambda: _at_least(ephemerals_for(slack, user), count))


def direct_messages_to(slack, user: str) -> list[str]:
    channel = "D" + user[1:]
    return [entry["text"] for (message_channel, _), entry in slack.messages.items() if message_channel == channel]


def wait_for_opened_view(slack, count: int = 1) -> dict[str, Any]:
    """Wait until views.open has opened `count` views; return the last of them."""
    return wait_for(lambda: _at_least(slack.opened_views, count))[count - 1]


def _at_least(items: list, count: int) -> list | None:
    return items if len(items) >= count else None


def view_text(view: dict[str, Any]) -> str:
    return json.dumps(view.get("blocks", []))


def metadata(bounce_id: int, action: str, **extra: Any) -> str:
    return json.dumps({"bounce_id": bounce_id, "action": action, **extra})


def input_values(block_id: str, action_id: str, value: str) -> dict[str, dict[str, Any]]:
    return {block_id: {action_id: {"type": "plain_text_input", "value": value}}}

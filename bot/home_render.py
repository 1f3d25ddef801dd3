"""Block Kit rendering of the App Home tab, a pure function of a HomeData snapshot.

The view lists open bounces by reason (catalog order), oldest first, each with
the same `bounce.*` buttons and values as its channel message, so one click
handler serves both. A Home view holds at most 100 blocks: when the open items
do not fit, each reason keeps a fair share of the room, and the view states
how many are not shown and points to `/bounces open`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)

from bot import actions, lifecycle, reasons
from bot.mrkdwn import escape, escape_and_truncate, link, mention, slack_date
from bot import blocks as kit
from bot.render import MAX_VIEW_BLOCKS, bounce_button, fit_blocks

# Add note stays in the channel message, where the thread shows the notes.
HIDDEN_ACTIONS = frozenset({actions.ADD_NOTE})
DOCUMENTS_SHOWN = 5


@dataclass(frozen=True)
class HomeItem:
    id: int
    address: str
    reason: str
    state: str
    bounced_on: date
    age_days: int
    documents: tuple[str, ...]
    permalink: str | None
    claimed_by: str | None = None


@dataclass(frozen=True)
class HomeGroup:
    reason: str
    count: int  # every open bounce of this reason, loaded or not
    items: tuple[HomeItem, ...]  # the oldest ones, oldest first


@dataclass(frozen=True)
class HomeStats:
    window_days: int
    new_count: int  # bounces imported within the window
    resolved_count: int  # bounces whose last state change within the window closed them
    median_time_to_resolve: timedelta | None  # over those resolved bounces; None when there are none


@dataclass(frozen=True)
class LastDigest:
    at: datetime
    permalink: str | None
    posted_count: int


@dataclass(frozen=True)
class HomeData:
    groups: tuple[HomeGroup, ...]
    stats: HomeStats
    last_digest: LastDigest | None
    generated_at: datetime
    slash_command: str = "/bounces"

    @property
    def open_total(self) -> int:
        return sum(group.count for group in self.groups)




def duration_text(duration: timedelta) -> str:
    """Format a duration as its two largest units, such as "2 days 4 hours" or "35 minutes"."""
    minutes = max(0, int(duration.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{count} {unit}{'' if count == 1 else 's'}" for count, unit in parts if count][:2]
    return " ".join(shown) or "under a minute"


def _digest_line(data: HomeData) -> str:
    if data.last_digest is None:
        return "No digest has been posted yet."
    digest = data.last_digest
    posted = f" with {digest.posted_count} bounce messages" if digest.posted_count else ""
    line = f"Last digest: posted {slack_date(digest.at)}{posted}"
    if digest.permalink:
        line += f" · {link(digest.permalink, 'open the digest')}"
    return line


def _stats_line(stats: HomeStats) -> str:
    median = duration_text(stats.median_time_to_resolve) if stats.median_time_to_resolve is not None else "n/a"
    return (f"*Last {stats.window_days} days:* {stats.new_count} new bounces · {stats.resolved_count} resolved · "
            f"median time to resolve: {median}")


STATS_DEFINITION = ("New: imported in the window. Resolved: now fixed, resent or dismissed, with that last change "
                    "in the window. Time to resolve: from import to that last change.")


def _item_text(item: HomeItem) -> str:
    age = "today" if item.age_days == 0 else f"{item.age_days} day{'' if item.age_days == 1 else 's'} old"
    state = lifecycle.STATE_LABELS.get(item.state, item.state)
    line = f"*{escape_and_truncate(item.address, 400)}* · {item.bounced_on.isoformat()} ({age}) · {state}"
    if item.claimed_by:
        line += f" · {mention(item.claimed_by)} is on it"
    numbers = ", ".join(f"`{escape_and_truncate(number, 100)}`" for number in item.documents[:DOCUMENTS_SHOWN])
    if len(item.documents) > DOCUMENTS_SHOWN:
        numbers += f" and {len(item.documents) - DOCUMENTS_SHOWN} more"
    message = link(item.permalink, "digest message") if item.permalink else "not posted yet"
    return f"{line}\n{numbers or '_no document number_'} · {message}"


def _item_buttons(item: HomeItem) -> dict[str, Any] | None:
    # The Home item carries no recipient, so a hard bounce shows Resend only once its own state allows it.
    ready = lifecycle.resend_ready(item.reason, item.state, corrected=False, reactivated=False)
    available = lifecycle.available_actions(item.reason, item.state, item.claimed_by is not None, ready)
    shown = [action for action in available if action not in HIDDEN_ACTIONS]
    if not shown:
        return None
    buttons = [bounce_button(action_id, item.id) for action_id in shown]
    return ActionsBlock(block_id=f"home_bounce_{item.id}", elements=buttons).to_dict()


def allocate_items(groups: tuple[HomeGroup, ...], slots: int) -> list[int]:
    """Share `slots` item places among the groups one at a time in turn, so every reason shows its oldest items."""
    shown = [0] * len(groups)
    remaining = slots
    progress = True
    while remaining > 0 and progress:
        progress = False
        for index, group in enumerate(groups):
            if remaining > 0 and shown[index] < len(group.items):
                shown[index] += 1
                remaining -= 1
                progress = True
    return shown


# Blocks outside the item list: header, summary, stats, definition, divider,
# the "not all shown" marker and the footer.
_FIXED_BLOCKS = 7
# Blocks per group besides its items: the heading and a "more not shown" line.
_GROUP_BLOCKS = 2
# Blocks per item: its text and its buttons.
_ITEM_BLOCKS = 2


def render_home(data: HomeData, max_blocks: int = MAX_VIEW_BLOCKS) -> dict[str, Any]:
    """Render the Home tab view (type "home") from a snapshot."""
    command = escape(data.slash_command)
    groups = tuple(group for group in data.groups if group.count)
    blocks: list[dict[str, Any]] = [HeaderBlock(text=PlainTextObject(text="Bounce Desk", emoji=True)).to_dict()]
    summary = f"*{data.open_total} open bounces*" if data.open_total else ":white_check_mark: *No open bounces.*"
    blocks.append(kit.section(f"{summary}\n{_digest_line(data)}"))
    blocks.append(kit.section(_stats_line(data.stats)))
    blocks.append(kit.context(STATS_DEFINITION))
    blocks.append(DividerBlock().to_dict())

    slots = max(0, (max_blocks - _FIXED_BLOCKS - _GROUP_BLOCKS * len(groups)) // _ITEM_BLOCKS)
    shown_counts = allocate_items(groups, slots)
    hidden_total = 0
    for group, shown in zip(groups, shown_counts):
        reason = reasons.get(group.reason)
        blocks.append(kit.section(f"{reason.emoji} *{reason.title}* · {group.count} open, oldest first"))
        for item in group.items[:shown]:
            blocks.append(kit.section(_item_text(item)))
            buttons = _item_buttons(item)
            if buttons is not None:
                blocks.append(buttons)
        hidden = group.count - shown
        if hidden > 0:
            hidden_total += hidden
            blocks.append(kit.context(f"… and {hidden} more {reason.title.lower()} items not shown here. "
                                   f"`{command} open` lists them all."))

    if hidden_total:
        blocks.append(kit.context(f":scissors: Showing {data.open_total - hidden_total} of {data.open_total} open bounces, "
                               f"because the Home tab holds at most {max_blocks} blocks. "
                               f"`{command} open` lists them all."))
    blocks.append(kit.context(f"Updated {slack_date(data.generated_at)}. Look up an address, a domain or an invoice "
                           f"with `{command} help`."))
    return {"type": "home", "blocks": fit_blocks(blocks, max_blocks)}

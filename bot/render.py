"""Block Kit rendering of bounce messages, pure functions of stored state.

The digest and every click call render_bounce() on a BounceView loaded from
the database, so a message can always be rebuilt from the database alone.
Limits come from Slack's Block Kit reference (50 blocks per message, 3000
characters per section text, 2000 per field, 150 per header); text over a
limit is cut with a visible marker rather than rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot import actions, lifecycle, reasons
from bot import blocks as kit
from bot.mrkdwn import actor, escape, escape_and_truncate, link, mention, slack_date, truncate

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
FIELD_LIMIT = 2000
FALLBACK_TEXT_LIMIT = 3000
DETAILS_LIMIT = 1500
HISTORY_LINES = 4

_DANGER_ACTIONS = {actions.ALREADY_PAID}
_PRIMARY_ACTIONS = {actions.MARK_FIXED, actions.POSTED_AND_SENT, actions.REOPEN}


@dataclass(frozen=True)
class DocumentView:
    document: str
    client: str
    original_address: str
    reason_text: str
    error_code: str
    details: str
    bounced_at: datetime | None = None


@dataclass(frozen=True)
class ActionView:
    action: str
    actor: str
    at: datetime
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BounceView:
    id: int
    address: str
    reason: str
    bounced_on: date
    state: str
    documents: tuple[DocumentView, ...]
    history: tuple[ActionView, ...] = ()  # newest first
    claimed_by: str | None = None
    state_changed_at: datetime | None = None
    state_changed_by: str | None = None
    corrected_to: str | None = None
    reactivation_requested_at: datetime | None = None
    reactivated_at: datetime | None = None
    previous_bounce_id: int | None = None
    previous_permalink: str | None = None
    pending_action: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class RenderContext:
    support_email: str
    firm_name: str = ""


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]


def fit_blocks(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS, keep_last: int = 0) -> list[dict[str, Any]]:
    """Cut a block list to `limit`, replacing what is dropped with a visible marker block.

    `keep_last` trailing blocks (e.g. an actions block) are always kept.
    """
    if len(blocks) <= limit:
        return blocks
    tail = blocks[len(blocks) - keep_last:] if keep_last else []
    head_room = limit - keep_last - 1
    head = blocks[:head_room]
    dropped = len(blocks) - keep_last - head_room
    marker = kit.context(f":scissors: {dropped} more blocks were cut to stay within Slack's {limit}-block limit.")
    return head + [marker] + tail


def _documents_text(documents: tuple[DocumentView, ...]) -> str:
    # Name the client per document only when the documents belong to several clients.
    several_clients = len(kit.distinct(document.client for document in documents)) > 1
    lines = []
    for document in documents:
        number = escape(document.document) or "_no document number_"
        client = f" for {escape(document.client)}" if several_clients and document.client else ""
        lines.append(f"• `{number}`{client}")
    text = "\n".join(lines)
    if len(text) <= FIELD_LIMIT - 20:
        return text

    shown: list[str] = []
    for index, line in enumerate(lines):
        rest = len(lines) - index
        candidate = "\n".join(shown + [line])
        # Leave room for the field's "*Documents*" title and the closing "and N more" line.
        if len(candidate) + 60 > FIELD_LIMIT:
            shown.append(f"… [truncated] and {rest} more documents")
            break
        shown.append(line)
    return "\n".join(shown)


def _status_line(view: BounceView) -> str:
    parts = [f"*{lifecycle.STATE_LABELS.get(view.state, view.state)}*"]
    if view.state_changed_by and view.state_changed_at and view.state != lifecycle.OPEN:
        parts.append(f"by {mention(view.state_changed_by)} {slack_date(view.state_changed_at)}")
    if view.claimed_by and not lifecycle.is_closed(view.state):
        parts.append(f"· {mention(view.claimed_by)} is on it")
    if view.pending_action:
        parts.append(f"· working on {escape(actions.BUTTON_LABELS.get(view.pending_action, view.pending_action))}…")
    return " ".join(parts)


def _history_lines(view: BounceView) -> list[str]:
    lines = []
    for entry in view.history[:HISTORY_LINES]:
        line = f"{actor(entry.actor)} {lifecycle.verb_for(entry.action)} {slack_date(entry.at)}"
        note = entry.details.get("note") or entry.details.get("summary")
        if note:
            line += f": {escape_and_truncate(str(note), 300)}"
        lines.append(line)
    return lines


def _guidance_text(reason: reasons.Reason, context: RenderContext) -> str:
    steps = reasons.steps_for(reason, escape(context.support_email))
    numbered = "\n".join(f"{index}. {step}" for index, step in enumerate(_number_steps(steps), start=1))
    return f"{reason.explanation}\n*What to do*\n{numbered}"


def _number_steps(steps: list[str]) -> list[str]:
    # IP range lines belong to the step before them; fold them in as sub-bullets.
    merged: list[str] = []
    for step in steps:
        if step.startswith("`") and merged:
            merged[-1] += f"\n      ◦ {step}"
        else:
            merged.append(step)
    return merged


def _recipient_text(view: BounceView) -> str:
    text = f"*Recipient*\n{escape_and_truncate(view.address, 400)}"
    originals = kit.distinct([document.original_address for document in view.documents])
    if originals and originals != [view.address]:
        text += f"\n_as written: {escape_and_truncate(', '.join(originals), 600)}_"
    if view.corrected_to:
        text += f"\n:pencil2: corrected to {escape_and_truncate(view.corrected_to, 400)}"
    if view.reactivated_at:
        text += "\n:white_check_mark: reactivated by support"
    elif view.reactivation_requested_at:
        text += "\n:warning: reactivation requested: nothing will deliver here until support confirms"
    return truncate(text, FIELD_LIMIT)


def bounce_button(action_id: str, bounce_id: int) -> ButtonElement:
    """Build a bounce button; its value carries only the bounce id, and its colour marks closing or dismissing."""
    style = None
    if action_id in _PRIMARY_ACTIONS:
        style = "primary"
    elif action_id in _DANGER_ACTIONS:
        style = "danger"
    return ButtonElement(text=actions.BUTTON_LABELS[action_id], action_id=action_id, value=str(bounce_id), style=style)


def fallback_text(view: BounceView) -> str:
    reason = reasons.get(view.reason)
    numbers = ", ".join(kit.distinct([document.document for document in view.documents])) or "no document number"
    text = f"{reason.title}: {view.address} ({numbers}), bounced {view.bounced_on.isoformat()}"
    return escape_and_truncate(text, FALLBACK_TEXT_LIMIT)


def render_bounce(view: BounceView, context: RenderContext) -> Message:
    """Render one bounce as a Slack message: facts, guidance, status, history and buttons."""
    reason = reasons.get(view.reason)
    blocks: list[Any] = [kit.header(f"{reason.title} · {view.bounced_on.strftime('%a %b %d, %Y').replace(' 0', ' ')}")]

    if view.previous_bounce_id is not None:
        previous = link(view.previous_permalink, f"earlier bounce #{view.previous_bounce_id}")
        blocks.append(kit.section(f":repeat: *Bounced again after resend.* See the history in the {previous}."))

    clients = kit.distinct([document.client for document in view.documents])
    codes = kit.distinct([document.error_code for document in view.documents])
    reason_texts = kit.distinct([document.reason_text for document in view.documents])
    fields = [
        MarkdownTextObject(text=_recipient_text(view)),
        MarkdownTextObject(text=truncate(f"*Client*\n{escape(', '.join(clients)) or '_not given_'}", FIELD_LIMIT)),
        MarkdownTextObject(text=truncate(f"*Documents*\n{_documents_text(view.documents)}", FIELD_LIMIT)),
        MarkdownTextObject(text=truncate(f"*Error code*\n{escape(', '.join(codes)) or '_none_'}", FIELD_LIMIT)),
        MarkdownTextObject(
            text=truncate(f"*Reported reason*\n{reason.emoji} {escape(', '.join(reason_texts)) or reason.title}", FIELD_LIMIT)
        ),
    ]
    blocks.append(SectionBlock(fields=fields).to_dict())

    details = kit.distinct([document.details for document in view.documents])
    if details:
        quoted = "\n".join(f"> {escape_and_truncate(text, DETAILS_LIMIT // len(details))}".replace("\n", "\n> ")
                           for text in details)
        source = "the report" if view.reason == reasons.MISSING_INVOICE else "the receiving server"
        blocks.append(kit.section(f"*Details from {source}*\n{quoted}"))

    blocks.append(kit.section(_guidance_text(reason, context)))
    blocks.append(kit.context(_status_line(view)))

    history = _history_lines(view)
    if history:
        blocks.append(kit.context(*history))

    buttons = []
    claimed = view.claimed_by is not None
    ready = lifecycle.resend_ready(view.reason, view.state, bool(view.corrected_to), view.reactivated_at is not None)
    for action_id in lifecycle.available_actions(view.reason, view.state, claimed, ready):
        buttons.append(bounce_button(action_id, view.id))
    if buttons:
        blocks.append(ActionsBlock(block_id=f"bounce_actions_{view.id}", elements=buttons).to_dict())

    return Message(text=fallback_text(view), blocks=fit_blocks(blocks, MAX_BLOCKS, keep_last=1 if buttons else 0))


@dataclass(frozen=True)
class EarlierItem:
    address: str
    reason: str
    bounced_on: date
    state: str
    permalink: str | None


@dataclass(frozen=True)
class DigestHeaderView:
    day: date
    new_by_reason: dict[str, int]
    earlier_open: tuple[EarlierItem, ...]
    earlier_open_total: int
    slash_command: str = "/bounces"


MAX_EARLIER_LINKS = 15


def render_digest_header(view: DigestHeaderView) -> Message:
    total = sum(view.new_by_reason.values())
    title = f"Bounced email digest · {view.day.strftime('%A, %B %d').replace(' 0', ' ')}"
    blocks: list[Any] = [kit.header(title)]

    counts = [
        f"{reasons.get(key).emoji} *{view.new_by_reason[key]}* {reasons.get(key).title}"
        for key in reasons.REASON_ORDER
        if view.new_by_reason.get(key)
    ]
    noun = "bounce" if total == 1 else "bounces"
    blocks.append(kit.section(f"*{total} new {noun}* to follow up, one message each below.\n" + "\n".join(counts)))

    if view.earlier_open_total:
        lines = []
        for item in view.earlier_open[:MAX_EARLIER_LINKS]:
            label = f"{item.address} · {reasons.get(item.reason).title} · {item.bounced_on.isoformat()}"
            lines.append(f"• {link(item.permalink, label)} ({lifecycle.STATE_LABELS.get(item.state, item.state)})")
        more = view.earlier_open_total - min(len(view.earlier_open), MAX_EARLIER_LINKS)
        if more > 0:
            lines.append(f"… and {more} more: `{escape(view.slash_command)} open` lists them all.")
        blocks.append(kit.section(f"*{view.earlier_open_total} still open from earlier digests*\n" + "\n".join(lines)))

    text = f"Bounced email digest: {total} new {noun}, {view.earlier_open_total} still open from earlier digests"
    return Message(text=text, blocks=fit_blocks(blocks))


def render_all_clear(day: date, earlier_open_total: int, slash_command: str = "/bounces") -> Message:
    text = f":white_check_mark: No new bounced emails for {day.strftime('%A, %B %d').replace(' 0', ' ')}."
    if earlier_open_total:
        text += f" {earlier_open_total} from earlier digests are still open: `{escape(slash_command)} open` lists them."
    blocks = [kit.section(text)]
    return Message(text=text, blocks=blocks)

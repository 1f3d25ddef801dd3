"""Block Kit rendering of slash command responses, pure functions of plain snapshots.

bot.lookup loads the snapshots below from the database, and nothing here reads
storage. Every response fits one message (at most 50 blocks, section text at
most 3000 characters). A long list is split into pages, and each page except
the last ends with a "More" button whose value names the next page, so no
item is left out without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
)

from bot import actions, lifecycle, reasons
from bot.mrkdwn import actor, escape, escape_and_truncate, link, mention, slack_date, truncate
from bot import blocks as kit
from bot.blocks import SECTION_TEXT_LIMIT
from bot.render import MAX_BLOCKS, Message, fit_blocks

# Document numbers listed per bounce or open item; the rest are counted.
DOCUMENTS_LIMIT = 15
NOTE_LIMIT = 200


@dataclass(frozen=True)
class PageInfo:
    number: int  # 1-based
    size: int
    total: int
    next_value: str | None = None  # the "More" button's value; None on the last page
    changed_from: int | None = None  # the total on the previous page, when it differs from `total`

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1

    def last(self, shown: int) -> int:
        return self.first + shown - 1


@dataclass(frozen=True)
class HistoryLine:
    action: str
    actor: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class BounceLine:
    id: int
    address: str
    bounced_on: date
    reason: str
    state: str
    documents: tuple[str, ...]
    clients: tuple[str, ...]
    permalink: str | None
    claimed_by: str | None = None
    history: tuple[HistoryLine, ...] = ()  # oldest first
    earlier_history: int = 0  # lines older than `history`, not shown


@dataclass(frozen=True)
class AddressStatus:
    key: str
    open_count: int = 0
    corrected_to: str | None = None
    by: str | None = None
    at: datetime | None = None


# AddressStatus keys, from bot.lookup.derive_status().
NO_HISTORY = "no_history"
CORRECTED = "corrected"
REACTIVATION_REQUESTED = "reactivation_requested"
REACTIVATED = "reactivated"
WAITING = "waiting"
OPEN_BOUNCES = "open_bounces"
ACTIVE = "active"


@dataclass(frozen=True)
class AddressReport:
    address: str
    status: AddressStatus
    total: int
    bounces: tuple[BounceLine, ...]
    page: PageInfo
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressSummary:
    address: str
    total: int
    open_count: int
    last_bounced_on: date | None
    status: AddressStatus


@dataclass(frozen=True)
class DomainReport:
    domain: str
    address_count: int
    bounce_count: int
    open_count: int
    addresses: tuple[AddressSummary, ...]
    page: PageInfo
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentReport:
    document: str  # as typed, for the heading
    key: str
    bounces: tuple[BounceLine, ...]
    page: PageInfo


@dataclass(frozen=True)
class OpenItem:
    id: int
    address: str
    reason: str
    bounced_on: date
    age_days: int
    state: str
    documents: tuple[str, ...]
    permalink: str | None
    claimed_by: str | None = None


@dataclass(frozen=True)
class OpenReport:
    counts: tuple[tuple[str, int], ...]  # (reason key, open count) in catalog order
    items: tuple[OpenItem, ...]
    page: PageInfo

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


# --- small pieces -------------------------------------------------------------





def _day(day: date) -> str:
    return day.strftime("%a %b %d, %Y").replace(" 0", " ")


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


def _state_label(state: str) -> str:
    return lifecycle.STATE_LABELS.get(state, state)


def _documents_text(documents: tuple[str, ...]) -> str:
    if not documents:
        return "_no document number_"
    shown = ", ".join(f"`{escape_and_truncate(number, 100)}`" for number in documents[:DOCUMENTS_LIMIT])
    hidden = len(documents) - DOCUMENTS_LIMIT
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def _message_link(permalink: str | None) -> str:
    return link(permalink, "digest message") if permalink else "_not posted yet_"


def status_text(status: AddressStatus) -> str:
    """Describe an address's status in one mrkdwn line."""
    still_open = f" · {_plural(status.open_count, 'bounce')} still open" if status.open_count else ""
    when = f" {slack_date(status.at)}" if status.at else ""
    who = f" by {mention(status.by)}" if status.by else ""
    if status.key == NO_HISTORY:
        return "No bounces recorded"
    if status.key == CORRECTED:
        return f":pencil2: Corrected to {escape_and_truncate(status.corrected_to, 400)}{who}{when}{still_open}"
    if status.key == REACTIVATION_REQUESTED:
        return (f":warning: Reactivation requested{who}{when}: nothing is delivered to this address until "
                f"support confirms{still_open}")
    if status.key == REACTIVATED:
        return f":white_check_mark: Reactivated by support (confirmed{who}{when}){still_open}"
    if status.key == WAITING:
        return f":hourglass_flowing_sand: Waiting on the client or recipient · {_plural(status.open_count, 'bounce')} open"
    if status.key == OPEN_BOUNCES:
        return f":red_circle: {_plural(status.open_count, 'open bounce')}"
    return ":large_green_circle: Active: no open bounces"


def _history_text(line: HistoryLine) -> str:
    text = f"{actor(line.actor)} {lifecycle.verb_for(line.action)} {slack_date(line.at)}"
    if line.note:
        text += f": {escape_and_truncate(line.note, NOTE_LIMIT)}"
    return text


def _bounce_text(bounce: BounceLine, show_address: bool) -> str:
    reason = reasons.get(bounce.reason)
    title = f"*{_day(bounce.bounced_on)}* · {reason.emoji} {reason.title} · *{_state_label(bounce.state)}*"
    if bounce.claimed_by and not lifecycle.is_closed(bounce.state):
        title += f" · {mention(bounce.claimed_by)} is on it"
    lines = [title]
    if show_address:
        lines.append(f"Recipient: {escape_and_truncate(bounce.address, 400)}")
    documents = f"Documents: {_documents_text(bounce.documents)}"
    if bounce.clients:
        documents += f" for {escape_and_truncate(', '.join(bounce.clients), 300)}"
    lines.append(documents)
    lines.append(f"Message: {_message_link(bounce.permalink)} · bounce #{bounce.id}")
    if bounce.earlier_history:
        lines.append(f"_{_plural(bounce.earlier_history, 'earlier action')} not shown_")
    lines.extend(f"• {_history_text(line)}" for line in bounce.history)
    return "\n".join(lines)


def _page_footer(page: PageInfo, shown: int, noun: str, plural: str | None = None) -> list[dict[str, Any]]:
    """Return the "Showing a–b of n" line, plus the More button when a next page exists."""
    if page.total == 0:
        return []
    if shown == 0:
        return [kit.context(f"This page is past the end of the list, which now has {_plural(page.total, noun, plural)}. "
                         "Run the command again to start from the top.")]
    counted = f"Showing {page.first}–{page.last(shown)} of {_plural(page.total, noun, plural)}."
    if page.changed_from is not None:
        counted = (f":warning: The list changed since the previous page ({page.changed_from} then, {page.total} now), "
                   "so some items may have moved to a page already shown. Run the command again for a fresh list. "
                   + counted)
    if page.next_value is None:
        end = " That is the whole list." if page.number == 1 else " This is the last page."
        return [kit.context(counted + end)]
    button = ButtonElement(text="More", action_id=actions.LOOKUP_MORE, value=page.next_value)
    return [kit.context(counted + " Press More for the next page."),
            ActionsBlock(block_id=f"lookup_more_{page.number}", elements=[button]).to_dict()]


def _suggestions_text(suggestions: tuple[str, ...], slash_command: str) -> str:
    lines = [f"• `{escape(slash_command)} {escape_and_truncate(text, 330)}`" for text in suggestions]
    return "*Close matches with history:*\n" + "\n".join(lines)


def _finish(text: str, blocks: list[dict[str, Any]], has_button: bool) -> Message:
    return Message(text=truncate(text, SECTION_TEXT_LIMIT), blocks=fit_blocks(blocks, MAX_BLOCKS, keep_last=2 if has_button else 0))


# --- responses ----------------------------------------------------------------


def render_address(report: AddressReport, slash_command: str = "/bounces") -> Message:
    blocks = [kit.header(f"Bounces for {report.address}")]
    if report.status.key == NO_HISTORY:
        text = f"No bounces are recorded for {escape_and_truncate(report.address, 400)}."
        blocks.append(kit.section(text))
        if report.suggestions:
            blocks.append(kit.section(_suggestions_text(report.suggestions, slash_command)))
        else:
            blocks.append(kit.context("No stored address has the same name before the @, and no stored domain is "
                                   "one or two letters away. Check the spelling."))
        return _finish(text, blocks, has_button=False)

    summary = f"*Status:* {status_text(report.status)}\n{_plural(report.total, 'bounce')} recorded, newest first."
    blocks.append(kit.section(summary))
    blocks.append(DividerBlock().to_dict())
    for bounce in report.bounces:
        blocks.append(kit.section(_bounce_text(bounce, show_address=False)))
    footer = _page_footer(report.page, len(report.bounces), "bounce")
    blocks.extend(footer)
    text = f"{report.address}: {_plural(report.total, 'bounce')}, {report.status.open_count} open"
    return _finish(escape(text), blocks, has_button=report.page.next_value is not None and bool(report.bounces))


def render_domain(report: DomainReport, slash_command: str = "/bounces") -> Message:
    blocks = [kit.header(f"Bounces at {report.domain}")]
    if report.address_count == 0:
        text = f"No bounces are recorded for any address at {escape_and_truncate(report.domain, 300)}."
        blocks.append(kit.section(text))
        if report.suggestions:
            blocks.append(kit.section(_suggestions_text(report.suggestions, slash_command)))
        return _finish(text, blocks, has_button=False)

    summary = (f"{_plural(report.address_count, 'address', 'addresses')}, {_plural(report.bounce_count, 'bounce')}, "
               f"*{report.open_count} open*. Addresses in alphabetical order.")
    blocks.append(kit.section(summary))
    blocks.append(DividerBlock().to_dict())
    for item in report.addresses:
        last = f" · last bounced {_day(item.last_bounced_on)}" if item.last_bounced_on else ""
        line = (f"*{escape_and_truncate(item.address, 400)}* · {_plural(item.total, 'bounce')}, "
                f"{item.open_count} open{last}\n{status_text(item.status)}")
        blocks.append(kit.section(line))
    blocks.extend(_page_footer(report.page, len(report.addresses), "address", "addresses"))
    text = f"{report.domain}: {_plural(report.address_count, 'address', 'addresses')}, {report.open_count} open bounces"
    return _finish(escape(text), blocks, has_button=report.page.next_value is not None and bool(report.addresses))


def render_document(report: DocumentReport, slash_command: str = "/bounces") -> Message:
    blocks = [kit.header(f"Bounces for document {report.document}")]
    if report.page.total == 0:
        text = f"No bounces are recorded for document `{escape_and_truncate(report.document, 200)}`."
        blocks.append(kit.section(text))
        blocks.append(kit.context(f"Document numbers are matched without regard to case and spaces. To look up an "
                               f"address or a domain instead, see `{escape(slash_command)} help`."))
        return _finish(text, blocks, has_button=False)

    verb = "carries" if report.page.total == 1 else "carry"
    blocks.append(kit.section(f"{_plural(report.page.total, 'bounce')} {verb} this document, newest first."))
    blocks.append(DividerBlock().to_dict())
    for bounce in report.bounces:
        blocks.append(kit.section(_bounce_text(bounce, show_address=True)))
    blocks.extend(_page_footer(report.page, len(report.bounces), "bounce"))
    text = f"Document {report.document}: {_plural(report.page.total, 'bounce')}"
    return _finish(escape(text), blocks, has_button=report.page.next_value is not None and bool(report.bounces))


def _open_item_text(item: OpenItem) -> str:
    age = "today" if item.age_days == 0 else f"{_plural(item.age_days, 'day')} old"
    line = (f"*{escape_and_truncate(item.address, 400)}* · {_day(item.bounced_on)} ({age}) · "
            f"{_state_label(item.state)}")
    if item.claimed_by:
        line += f" · {mention(item.claimed_by)} is on it"
    return f"{line}\n{_documents_text(item.documents)} · {_message_link(item.permalink)}"


def render_open(report: OpenReport, slash_command: str = "/bounces") -> Message:
    blocks = [kit.header("Open bounces")]
    if report.total == 0:
        text = ":white_check_mark: No open bounces. Everything is resolved, resent or dismissed."
        blocks.append(kit.section(text))
        return _finish(text, blocks, has_button=False)

    counts = " · ".join(f"{reasons.get(key).emoji} {reasons.get(key).title}: *{count}*" for key, count in report.counts)
    blocks.append(kit.section(f"*{report.total} open*, grouped by reason, oldest first.\n{counts}"))
    counts_by_reason = dict(report.counts)
    current_reason = None
    for item in report.items:
        if item.reason != current_reason:
            current_reason = item.reason
            reason = reasons.get(item.reason)
            blocks.append(kit.section(f"{reason.emoji} *{reason.title}* ({counts_by_reason.get(item.reason, 0)} open)"))
        blocks.append(kit.section(_open_item_text(item)))
    blocks.extend(_page_footer(report.page, len(report.items), "open bounce"))
    return _finish(f"{report.total} open bounces", blocks, has_button=report.page.next_value is not None and bool(report.items))


def render_help(slash_command: str = "/bounces", problem: str | None = None) -> Message:
    """Render the usage text; `problem` (mrkdwn, already escaped) explains why the input was not understood."""
    command = escape(slash_command)
    usage = "\n".join([
        f"• `{command} jane@client.com`: the address's status, every bounce with its documents and who did what",
        f"• `{command} @client.com` or `{command} client.com`: every address at the domain with its counts",
        f"• `{command} INV-1042`: the bounces of a document number (invoice or statement)",
        f"• `{command} open`: every open bounce grouped by reason, oldest first, with its age",
        f"• `{command} digest`: post the digest now (allowed users only)",
        f"• `{command} help`: this message",
    ])
    blocks = []
    if problem:
        blocks.append(kit.section(problem))
    blocks.append(kit.section(f"*How to use {command}*\n{usage}"))
    blocks.append(kit.context("Answers are visible only to you. Addresses can be typed plain, in angle brackets or "
                           "with a display name; case does not matter."))
    text = (problem + " " if problem else "") + f"Usage: {command} ADDRESS | DOMAIN | DOCUMENT | open | digest | help"
    return _finish(text, blocks, has_button=False)


def render_lookup_failed(error_id: str) -> Message:
    text = (f"The lookup failed because of an internal error (reference {escape(error_id)}), so there is no result. "
            "Try again; if it keeps failing, give the reference to whoever runs Bounce Desk.")
    return Message(text=text, blocks=[kit.section(text)])

"""The slash command's lookups: parse the argument, query storage, build the response.

`parse_query` turns the command text into a Query. `LookupService.lookup`
loads one page of the response with the indexed queries in storage.lookup_store
and renders it with bot.lookup_render. `digest` is parsed here but run by
handlers.commands, because it needs the user's permission and runs after the
acknowledgement.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from typing import Callable

from bot import lifecycle, reasons
from bot.addresses import InvalidAddress, domain_edit_distance, normalize_address
from bot.documents import document_key
from bot.lookup_render import (
    ACTIVE,
    CORRECTED,
    NO_HISTORY,
    OPEN_BOUNCES,
    REACTIVATED,
    REACTIVATION_REQUESTED,
    WAITING,
    AddressReport,
    AddressStatus,
    AddressSummary,
    BounceLine,
    DocumentReport,
    DomainReport,
    HistoryLine,
    OpenItem,
    OpenReport,
    PageInfo,
    render_address,
    render_document,
    render_domain,
    render_help,
    render_open,
)
from bot.mrkdwn import escape_and_truncate, unescape
from bot.blocks import distinct
from bot.render import Message
from storage import bounce_store, lookup_store
from storage.db import Database
from storage.lookup_store import StateCount
from storage.models import Bounce, Recipient, utcnow

# Query kinds.
HELP = "help"
OPEN = "open"
DIGEST = "digest"
ADDRESS = "address"
DOMAIN = "domain"
DOCUMENT = "document"
INVALID_ADDRESS = "invalid_address"
UNRECOGNISED = "unrecognised"

PAGED_KINDS = (ADDRESS, DOMAIN, DOCUMENT, OPEN)

# Items per page, chosen so that a page stays well under Slack's 50 blocks:
# one block per item plus at most 11 for headings, group titles and the footer.
PAGE_SIZES = {ADDRESS: 10, DOCUMENT: 10, DOMAIN: 25, OPEN: 30}
MAX_PAGE = 100_000
# History lines shown per bounce in address and document responses; older ones are counted instead.
HISTORY_LINES = 8

MAX_SUGGESTIONS = 5
# Distinct stored domains read on each side of a typed domain, in index order,
# when looking for close ones.
# NOTE: with more than twice this many stored domains, a close domain that
# sorts far from the typed one (a typo in the first letters) is not suggested.
DOMAINS_PER_SIDE = 2500
MAX_DOMAIN_EDITS = 2

_KEYWORDS = {"": HELP, "help": HELP, "?": HELP, "usage": HELP, "open": OPEN, "digest": DIGEST}

# Slack's link markup: <mailto:jane@x.com|jane@x.com>, <http://client.com|client.com>.
_SLACK_MAILTO = re.compile(r"<mailto:([^|>]*)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_URL = re.compile(r"<https?://([^|>/]*)/?(?:\|[^>]*)?>", re.IGNORECASE)
# Labels of letters (any script), digits and hyphens; the top-level label has no digits.
_DOMAIN = re.compile(r"^@?(?:https?://)?((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63})/?$", re.IGNORECASE)
# Document numbers are stored as the report has them, so any short text with a digit may be one.
MAX_DOCUMENT_LENGTH = 200
MAX_DOCUMENT_WORDS = 3


@dataclass(frozen=True)
class Query:
    kind: str
    value: str = ""  # normalized address, lower-case domain, or document key
    typed: str = ""  # the argument as typed, after Slack's markup is removed
    problem: str = ""  # for INVALID_ADDRESS: why the address was rejected
    # For a "More" click: the list's total when the previous page was drawn.
    previous_total: int | None = None


def _strip_slack_markup(text: str) -> str:
    """Replace Slack's link markup by its target, then decode &amp;, &lt; and &gt;."""
    text = _SLACK_MAILTO.sub(lambda match: match.group(1), text)
    text = _SLACK_URL.sub(lambda match: match.group(1), text)
    return unescape(text).strip()


def _unicode_domain(domain: str) -> str:
    """Return a domain in the Unicode form addresses are stored in; "xn--" labels are decoded."""
    if "xn--" not in domain:
        return domain
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def parse_query(text: str | None) -> Query:
    """Classify the slash command's argument as a keyword, an address, a domain or a document number."""
    typed = _strip_slack_markup(text or "")
    keyword = _KEYWORDS.get(typed.lower())
    if keyword is not None:
        return Query(keyword, typed=typed)

    domain = _DOMAIN.match(typed)
    if domain and "_" not in domain.group(1):
        return Query(DOMAIN, _unicode_domain(domain.group(1).lower()), typed)

    if "@" in typed:
        try:
            return Query(ADDRESS, normalize_address(typed), typed)
        except InvalidAddress as error:
            return Query(INVALID_ADDRESS, typed=typed, problem=error.problem)

    if (0 < len(typed) <= MAX_DOCUMENT_LENGTH and any(char.isdigit() for char in typed)
            and len(typed.split()) <= MAX_DOCUMENT_WORDS):
        return Query(DOCUMENT, document_key(typed), typed)
    return Query(UNRECOGNISED, typed=typed)


def encode_more_value(query: Query, page: int, total: int) -> str:
    """Encode the query, the next page and the current total for a "More" button (Slack allows 2000 characters)."""
    return json.dumps({"k": query.kind, "v": query.value, "t": query.typed[:200], "p": page, "n": total},
                      separators=(",", ":"))


def decode_more_value(value: str) -> tuple[Query, int]:
    """Decode a "More" button's value; raise ValueError when it is not one this module wrote."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        raise ValueError(f"the More button's value is not JSON: {str(value)[:60]!r}") from None
    if not isinstance(data, dict):
        raise ValueError("the More button's value is not a JSON object")
    kind, query_value, typed, page = data.get("k"), data.get("v", ""), data.get("t", ""), data.get("p")
    if kind not in PAGED_KINDS:
        raise ValueError(f"the More button names an unknown lookup {kind!r}")
    if not isinstance(query_value, str) or not isinstance(typed, str) or len(query_value) > 400:
        raise ValueError("the More button's query is not a short string")
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= MAX_PAGE:
        raise ValueError(f"the More button's page {page!r} is not a number from 1 to {MAX_PAGE}")
    previous_total = data.get("n")
    if not isinstance(previous_total, int) or isinstance(previous_total, bool) or previous_total < 0:
        previous_total = None
    return Query(kind, query_value, typed, previous_total=previous_total), page


def derive_status(recipient: Recipient | None, counts: dict[str, StateCount]) -> AddressStatus:
    """Summarize an address from its recipient record and its bounce counts by state.

    The first rule that matches wins:
    1. no bounces recorded;
    2. corrected to another address;
    3. reactivation requested and not confirmed since;
    4. reactivated, and every open bounce waits for its resend (state reactivated);
    5. every open bounce waits on the client or recipient;
    6. any other open bounce;
    7. reactivated, with every bounce closed;
    8. active: every bounce is closed.
    """
    total = sum(count.count for count in counts.values())
    open_by_state = {state: count.count for state, count in counts.items() if state in lifecycle.ACTIVE_STATES}
    open_count = sum(open_by_state.values())
    if total == 0:
        return AddressStatus(NO_HISTORY)

    if recipient is not None and recipient.corrected_to:
        return AddressStatus(CORRECTED, open_count, recipient.corrected_to, recipient.corrected_by, recipient.corrected_at)

    requested_at = recipient.reactivation_requested_at if recipient else None
    reactivated_at = recipient.reactivated_at if recipient else None
    if requested_at and (reactivated_at is None or reactivated_at < requested_at):
        return AddressStatus(REACTIVATION_REQUESTED, open_count, by=recipient.reactivation_requested_by, at=requested_at)

    reactivated = AddressStatus(REACTIVATED, open_count, by=recipient.reactivated_by if recipient else None,
                                at=reactivated_at)
    if open_count:
        if reactivated_at and set(open_by_state) == {lifecycle.REACTIVATED}:
            return reactivated
        if set(open_by_state) == {lifecycle.WAITING}:
            return AddressStatus(WAITING, open_count)
        return AddressStatus(OPEN_BOUNCES, open_count)
    if reactivated_at:
        return reactivated
    return AddressStatus(ACTIVE)


def _history(entries) -> tuple[HistoryLine, ...]:
    lines = []
    for entry in entries:
        details = entry.details or {}
        note = details.get("note") or details.get("summary") or ""
        if entry.action == "bounce.correct_address" and details.get("new"):
            note = f"to {details['new']}"
        lines.append(HistoryLine(entry.action, entry.actor, entry.at, str(note)))
    return tuple(lines)


def bounce_line(bounce: Bounce, audit_entries, history_limit: int) -> BounceLine:
    history = _history(audit_entries)
    shown = history[-history_limit:] if history_limit else ()
    return BounceLine(
        id=bounce.id,
        address=bounce.address,
        bounced_on=bounce.bounced_on,
        reason=bounce.reason,
        state=bounce.state,
        documents=tuple(distinct(document.document for document in bounce.documents)),
        clients=tuple(distinct(document.client for document in bounce.documents)),
        permalink=bounce.slack_permalink,
        claimed_by=bounce.claimed_by,
        history=shown,
        earlier_history=len(history) - len(shown),
    )


def _could_be_close(typed: str, candidate: str, max_edits: int) -> bool:
    """Cheap lower bound on the edit distance: each edit changes at most one character count on each side."""
    if abs(len(typed) - len(candidate)) > max_edits:
        return False
    extra = 0
    for char in set(typed) | set(candidate):
        extra += max(0, typed.count(char) - candidate.count(char))
        if extra > max_edits:
            return False
    return True


def close_domains(session, domain: str) -> list[str]:
    """Return stored domains one or two edits from `domain`, closest first."""
    candidates = lookup_store.domains_near(session, domain, DOMAINS_PER_SIDE, len(domain) - MAX_DOMAIN_EDITS,
                                           len(domain) + MAX_DOMAIN_EDITS)
    scored = []
    for candidate in candidates:
        if candidate == domain or not _could_be_close(domain, candidate, MAX_DOMAIN_EDITS):
            continue
        distance = domain_edit_distance(domain, candidate)
        if distance <= MAX_DOMAIN_EDITS:
            scored.append((distance, candidate))
    return [candidate for _, candidate in sorted(scored)]


def suggest_for_address(session, address: str) -> tuple[str, ...]:
    """Suggest stored addresses and domains close to an address with no history.

    In order: the same local part at other domains, the same local part at a
    stored domain one or two edits away, the address's own domain when other
    addresses there have history, and the close domains themselves.
    """
    local_part, _, domain = address.rpartition("@")
    suggestions = lookup_store.addresses_with_local_part(session, local_part, address, MAX_SUGGESTIONS)
    domains = close_domains(session, domain)
    candidates = [f"{local_part}@{close}" for close in domains]
    existing = lookup_store.existing_addresses(session, candidates)
    suggestions += [candidate for candidate in candidates if candidate in existing and candidate not in suggestions]
    if lookup_store.domain_exists(session, domain):
        suggestions.append(f"@{domain}")
    suggestions += [f"@{close}" for close in domains]
    return tuple(suggestions[:MAX_SUGGESTIONS])


def suggest_for_domain(session, domain: str) -> tuple[str, ...]:
    return tuple(f"@{close}" for close in close_domains(session, domain)[:MAX_SUGGESTIONS])


class LookupService:
    """Slash command lookups against the database, one page of the response at a time."""

    def __init__(self, database: Database, slash_command: str = "/bounces", timezone_: tzinfo = timezone.utc,
                 clock: Callable[[], datetime] = utcnow):
        self.database = database
        self.slash_command = slash_command
        self.timezone = timezone_
        self.clock = clock

    def lookup_text(self, text: str | None) -> Message:
        """Parse the command text and render page 1 of the response; `digest` gets the usage text, because handlers run it."""
        return self.lookup(parse_query(text))

    def lookup(self, query: Query, page: int = 1) -> Message:
        """Render one page of the response to a parsed query."""
        if query.kind == ADDRESS:
            return render_address(self.address_report(query, page), self.slash_command)
        if query.kind == DOMAIN:
            return render_domain(self.domain_report(query, page), self.slash_command)
        if query.kind == DOCUMENT:
            return render_document(self.document_report(query, page), self.slash_command)
        if query.kind == OPEN:
            return render_open(self.open_report(query, page), self.slash_command)
        if query.kind == INVALID_ADDRESS:
            problem = (f":warning: `{escape_and_truncate(query.typed, 330)}` is not a valid email address "
                       f"({escape_and_truncate(query.problem, 200)}).")
            return render_help(self.slash_command, problem)
        if query.kind == UNRECOGNISED:
            problem = (f":thinking_face: `{escape_and_truncate(query.typed, 200)}` is not an address, a domain, "
                       "a document number or a keyword.")
            return render_help(self.slash_command, problem)
        return render_help(self.slash_command)

    def _page(self, query: Query, page: int, total: int) -> PageInfo:
        size = PAGE_SIZES[query.kind]
        has_next = page * size < total
        next_value = encode_more_value(query, page + 1, total) if has_next else None
        # NOTE: pages are offsets, so when the list changed since the previous page an item can
        # move to a page already shown; the footer then shows a warning instead of skipping it silently.
        changed_from = query.previous_total if query.previous_total not in (None, total) else None
        return PageInfo(number=page, size=size, total=total, next_value=next_value, changed_from=changed_from)

    def address_report(self, query: Query, page: int = 1) -> AddressReport:
        address = query.value
        size = PAGE_SIZES[ADDRESS]
        with self.database.session() as session:
            counts = lookup_store.state_counts_by_address(session, [address])[address]
            total = sum(count.count for count in counts.values())
            if total == 0:
                status = AddressStatus(NO_HISTORY)
                return AddressReport(address, status, 0, (), self._page(query, page, 0),
                                     suggest_for_address(session, address))

            recipient = lookup_store.get_recipient(session, address)
            bounces = lookup_store.bounces_for_address(session, address, (page - 1) * size, size)
            audit = bounce_store.audit_for_bounces(session, [bounce.id for bounce in bounces])
            lines = tuple(bounce_line(bounce, audit[bounce.id], HISTORY_LINES) for bounce in bounces)
            return AddressReport(address, derive_status(recipient, counts), total, lines,
                                 self._page(query, page, total))

    def domain_report(self, query: Query, page: int = 1) -> DomainReport:
        domain = query.value
        size = PAGE_SIZES[DOMAIN]
        with self.database.session() as session:
            address_count = lookup_store.count_recipients_in_domain(session, domain)
            if address_count == 0:
                return DomainReport(domain, 0, 0, 0, (), self._page(query, page, 0), suggest_for_domain(session, domain))

            by_state = lookup_store.state_counts_for_domain(session, domain)
            recipients = lookup_store.recipients_in_domain(session, domain, (page - 1) * size, size)
            counts = lookup_store.state_counts_by_address(session, [recipient.address for recipient in recipients])
            summaries = []
            for recipient in recipients:
                address_counts = counts[recipient.address]
                summaries.append(AddressSummary(
                    address=recipient.address,
                    total=sum(count.count for count in address_counts.values()),
                    open_count=sum(count.count for state, count in address_counts.items()
                                   if state in lifecycle.ACTIVE_STATES),
                    last_bounced_on=max((count.last_bounced_on for count in address_counts.values()), default=None),
                    status=derive_status(recipient, address_counts),
                ))
            open_count = sum(count for state, count in by_state.items() if state in lifecycle.ACTIVE_STATES)
            return DomainReport(domain, address_count, sum(by_state.values()), open_count, tuple(summaries),
                                self._page(query, page, address_count))

    def document_report(self, query: Query, page: int = 1) -> DocumentReport:
        size = PAGE_SIZES[DOCUMENT]
        with self.database.session() as session:
            total = lookup_store.count_bounces_for_document(session, query.value)
            bounces = lookup_store.bounces_for_document(session, query.value, (page - 1) * size, size) if total else []
            audit = bounce_store.audit_for_bounces(session, [bounce.id for bounce in bounces])
            lines = tuple(bounce_line(bounce, audit[bounce.id], HISTORY_LINES) for bounce in bounces)
        return DocumentReport(query.typed or query.value, query.value, lines, self._page(query, page, total))

    def open_report(self, query: Query, page: int = 1) -> OpenReport:
        size = PAGE_SIZES[OPEN]
        today = self.clock().astimezone(self.timezone).date()
        with self.database.session() as session:
            by_reason = lookup_store.active_counts_by_reason(session, lifecycle.ACTIVE_STATES)
            order = list(reasons.REASON_ORDER) + sorted(set(by_reason) - set(reasons.REASON_ORDER))
            counts = tuple((reason, by_reason[reason]) for reason in order if by_reason.get(reason))
            total = sum(by_reason.values())
            bounces = lookup_store.active_bounces(session, lifecycle.ACTIVE_STATES, reasons.REASON_ORDER,
                                                  (page - 1) * size, size) if total else []
            items = tuple(open_item(bounce, today) for bounce in bounces)
        return OpenReport(counts, items, self._page(query, page, total))


def open_item(bounce: Bounce, today: date) -> OpenItem:
    return OpenItem(
        id=bounce.id,
        address=bounce.address,
        reason=bounce.reason,
        bounced_on=bounce.bounced_on,
        age_days=max(0, (today - bounce.bounced_on).days),
        state=bounce.state,
        documents=tuple(distinct(document.document for document in bounce.documents)),
        permalink=bounce.slack_permalink,
        claimed_by=bounce.claimed_by,
    )

"""Email address normalization and domain typo suggestions.

Addresses come from bounce report cells and from Slack messages, so the
input may carry a display name (``"Jane Doe" <jane@x.com>``), a ``mailto:``
prefix, or Slack's link form (``<mailto:jane@x.com|jane@x.com>``).
``normalize_address`` reduces all of these to one plain, lower-case address.

Syntax is checked with email-validator and ``check_deliverability=False``,
so no function in this module makes DNS queries or other network calls.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

__all__ = [
    "COMMON_MAIL_DOMAINS",
    "InvalidAddress",
    "address_domain",
    "domain_edit_distance",
    "normalize_address",
    "suggest_domain_fix",
]


class InvalidAddress(ValueError):
    """An email address that cannot be used, with the reason in plain words.

    ``value`` is the raw input and ``problem`` a short explanation such as
    ``"no domain after @"``.
    """

    def __init__(self, value: str, problem: str) -> None:
        self.value = value
        self.problem = problem
        super().__init__(
            f'the email address "{value}" is invalid ({problem}). '
            "Correct the address and try again."
        )


# Slack turns a typed address into "<mailto:a@b.com|a@b.com>".
_SLACK_MAILTO = re.compile(r"<\s*mailto:(?P<address>[^|>]*)(?:\|[^>]*)?>", re.IGNORECASE)

# An address in angle brackets, optionally after a display name.
_BRACKETED = re.compile(r"(?P<name>[^<>]*)<(?P<address>[^<>]*)>")

_MAILTO_PREFIX = re.compile(r"^mailto:", re.IGNORECASE)

# Separators people put between several addresses in one cell.
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")

_QUOTED_TEXT = re.compile(r'"[^"]*"')


def normalize_address(raw: str) -> str:
    """Reduce an address as typed or exported to its plain lower-case form.

    Accepted forms: ``jane@x.com``, ``"Jane Doe" <jane@x.com>``,
    ``Jane <jane@x.com>``, ``<jane@x.com>``, ``mailto:jane@x.com`` (any case)
    and Slack's ``<mailto:jane@x.com|jane@x.com>``. Surrounding whitespace
    is ignored.

    The whole address is lower-cased, local part included. RFC 5321 lets a
    server treat the local part as case-sensitive, but the mail providers
    and billing platforms these reports come from do not. The bot groups
    bounces by address across reports and client records, so
    ``Jane.Doe@x.com`` and ``jane.doe@x.com`` must compare equal. Callers
    that need the original spelling keep the raw value.

    Raises InvalidAddress for empty input, a missing ``@``, several
    addresses in one value, or a syntax error reported by email-validator.
    """
    text = raw.strip()
    if not text:
        raise InvalidAddress(raw, "the address is empty")

    candidate = _strip_wrapping(raw, text)
    if _count_addresses(candidate) > 1:
        raise InvalidAddress(raw, "several addresses in one value")

    candidate = _MAILTO_PREFIX.sub("", candidate, count=1).strip()
    if not candidate:
        raise InvalidAddress(raw, "the address is empty")
    if "@" not in candidate:
        raise InvalidAddress(raw, "no @ sign")

    try:
        validated = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidAddress(raw, _describe_syntax_error(candidate, error)) from error

    return validated.normalized.lower()


def _strip_wrapping(raw: str, text: str) -> str:
    """Return the address inside Slack link syntax or angle brackets, if any."""
    slack_link = _SLACK_MAILTO.fullmatch(text)
    if slack_link:
        return slack_link.group("address").strip()

    if "<" not in text and ">" not in text:
        return text

    bracketed = _BRACKETED.fullmatch(text)
    if bracketed is None:
        if _count_addresses(text) > 1:
            raise InvalidAddress(raw, "several addresses in one value")
        raise InvalidAddress(raw, "unbalanced or misplaced angle brackets")

    address = bracketed.group("address").strip()
    # Outlook exports often repeat the address as the display name,
    # e.g. jane@x.com <jane@x.com>, which is still one address.
    display_name = _QUOTED_TEXT.sub("", bracketed.group("name")).strip()
    if "@" in display_name and display_name.lower() != address.lower():
        raise InvalidAddress(raw, "several addresses in one value")
    return address


def _count_addresses(text: str) -> int:
    """Count the separator-delimited pieces of ``text`` that contain an @."""
    pieces = _ADDRESS_SEPARATORS.split(_QUOTED_TEXT.sub("", text))
    return sum(1 for piece in pieces if "@" in piece)


def _describe_syntax_error(candidate: str, error: EmailNotValidError) -> str:
    """Turn an email-validator error into a short lower-case explanation."""
    local_part, _, domain = candidate.rpartition("@")
    if candidate.count("@") > 1:
        return "more than one @ sign"
    if not domain:
        return "no domain after @"
    if not local_part:
        return "nothing before @"
    if "." not in domain:
        return f'the domain "{domain}" is missing its ending, such as ".com"'

    message = str(error).strip().rstrip(".")
    return message[:1].lower() + message[1:]


def address_domain(address: str) -> str:
    """Return the lower-case domain of ``address``, the text after the last @.

    Raises InvalidAddress when there is no @ or nothing after it. The
    address is not otherwise validated, so pass a normalized address when
    the input is untrusted.
    """
    _, at_sign, domain = address.strip().rpartition("@")
    if not at_sign:
        raise InvalidAddress(address, "no @ sign")
    if not domain:
        raise InvalidAddress(address, "no domain after @")
    return domain.lower()


# Consumer mail domains that client contacts often use, most common first,
# because the first of several equally close domains wins. Real domains
# that sit one or two edits from a listed one (ymail.com, mail.com, mac.com)
# are listed too, so that they are not "corrected" into their neighbours.
COMMON_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "live.com",
    "msn.com",
    "comcast.net",
    "protonmail.com",
    "me.com",
    "mac.com",
    "att.net",
    "sbcglobal.net",
    "verizon.net",
    "bellsouth.net",
    "charter.net",
    "cox.net",
    "earthlink.net",
    "optonline.net",
    "ymail.com",
    "rocketmail.com",
    "googlemail.com",
    "mail.com",
    "gmx.com",
    "zoho.com",
    "proton.me",
    "pm.me",
    "aim.com",
    "yahoo.co.uk",
    "hotmail.co.uk",
)


def domain_edit_distance(a: str, b: str) -> int:
    """Count the edits that turn ``a`` into ``b``, ignoring letter case.

    An edit is one inserted, deleted or substituted character, or two
    adjacent characters swapped ("gmial" to "gmail" is one edit). This is
    the optimal string alignment form of Damerau-Levenshtein distance, so a
    substring is never edited again after a swap.
    """
    a = a.lower()
    b = b.lower()
    if a == b:
        return 0

    # Three rows of the dynamic-programming table are enough, because a
    # swap looks back two rows.
    before_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            substitution_cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + substitution_cost,
            )
            swapped = i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]
            if swapped:
                current[j] = min(current[j], before_previous[j - 2] + 1)
        before_previous, previous = previous, current
    return previous[len(b)]


def _max_edits_for(known_domain: str) -> int:
    """Return how many edits a typo of ``known_domain`` may contain.

    Short names allow fewer edits because many real business domains are
    one or two edits away from them (ge.com and me.com, for example).
    """
    name_length = len(known_domain.split(".", 1)[0])
    if name_length <= 3:
        return 0
    if name_length <= 5:
        return 1
    return 2


def suggest_domain_fix(address: str) -> str | None:
    """Suggest the address with a likely-misspelled mail domain corrected.

    Returns ``jo@gmail.com`` for ``jo@gmial.com``, or None when the domain
    is itself in COMMON_MAIL_DOMAINS or no listed domain is close enough.
    Names of four or five letters (gmail, yahoo) allow one edit and longer
    names (hotmail, outlook) allow two. Names of three letters or fewer
    (aol, msn, me) only get their top-level domain corrected, as in
    ``aol.con``. Raises InvalidAddress when ``address`` has no domain.
    """
    domain = address_domain(address)
    if domain in COMMON_MAIL_DOMAINS:
        return None

    best_domain: str | None = None
    best_distance = 0
    for known in COMMON_MAIL_DOMAINS:
        distance = domain_edit_distance(domain, known)
        allowed = _max_edits_for(known)
        if allowed == 0:
            allowed = _top_level_typo_edits(domain, known)
        if distance > allowed:
            continue
        if best_domain is None or distance < best_distance:
            best_domain = known
            best_distance = distance

    if best_domain is None:
        return None
    local_part = address.strip().rpartition("@")[0]
    return f"{local_part}@{best_domain}"


def _top_level_typo_edits(domain: str, known: str) -> int:
    """Return the edits allowed against a short ``known`` domain.

    That is 1 when ``domain`` has the same name before the first dot, so
    only a typo in the top-level domain is corrected, and 0 otherwise.
    """
    name, _, _ = domain.partition(".")
    known_name, _, _ = known.partition(".")
    return 1 if name == known_name else 0

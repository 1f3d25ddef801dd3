"""The reason catalog: every bounce reason, its guidance and its buttons.

Rendering, classification, the digest header and the slash command all read
this module; nothing else hard-codes a reason. Report rows whose reason text is
not recognised are kept under OTHER with generic guidance, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import actions
from bot.settings import SENDING_IP_RANGES

ISP_BLOCK = "isp_block"
SOFT_BOUNCE = "soft_bounce"
HARD_BOUNCE = "hard_bounce"
MISSING_INVOICE = "missing_invoice"
OTHER = "other"


@dataclass(frozen=True)
class Reason:
    key: str
    title: str
    emoji: str
    explanation: str
    steps: tuple[str, ...]
    # Buttons in display order; lifecycle.available_actions() filters them by state.
    buttons: tuple[str, ...]
    needs_support_address: bool = False


def _ip_range_lines() -> tuple[str, ...]:
    return tuple(f"`{cidr}` ({span}): {purpose}" for cidr, span, purpose in SENDING_IP_RANGES)


_RESEND_STEP = (
    "When it is fixed, send the document again from the practice management system, "
    "or forward the BCC copy from the billing inbox."
)

CATALOG: dict[str, Reason] = {
    ISP_BLOCK: Reason(
        key=ISP_BLOCK,
        title="ISP block",
        emoji=":no_entry:",
        explanation=(
            "The client's own mail system or provider refused the message. "
            "Nothing is wrong with the address; their filter is stopping the firm's mail, "
            "and often nobody notices until it shows up on this report."
        ),
        steps=(
            "Reach the client directly (phone or another address).",
            "Ask their IT or mail administrator to allow mail from the firm's sending domain.",
            "Ask them to also allow the mail provider's sending IP ranges in their filter:",
            *_ip_range_lines(),
            _RESEND_STEP,
        ),
        buttons=(
            actions.CLAIM,
            actions.CLIENT_IT_NOTE,
            actions.CLIENT_CONTACTED,
            actions.RESEND,
            actions.MARK_FIXED,
            actions.ADD_NOTE,
            actions.REOPEN,
        ),
    ),
    SOFT_BOUNCE: Reason(
        key=SOFT_BOUNCE,
        title="Soft bounce",
        emoji=":hourglass_flowing_sand:",
        explanation=(
            "The mailbox exists but could not take the message right now, "
            "most often because it is full or not completely set up."
        ),
        steps=(
            "Reach the recipient another way (phone, or a different address).",
            "Tell them the invoice email bounced.",
            "Ask them to have their IT or mail administrator fix the mailbox.",
            _RESEND_STEP,
        ),
        buttons=(
            actions.CLAIM,
            actions.RECIPIENT_CONTACTED,
            actions.RESEND,
            actions.MARK_FIXED,
            actions.ADD_NOTE,
            actions.REOPEN,
        ),
    ),
    HARD_BOUNCE: Reason(
        key=HARD_BOUNCE,
        title="Hard bounce",
        emoji=":x:",
        explanation=(
            "The address was rejected for good: usually a typo, or the recipient's server "
            "blocks the firm's domain. The mail provider now suppresses this address, so "
            "nothing more will reach it until it is corrected or reactivated."
        ),
        steps=(
            "Check the address for typos.",
            "If it was wrong, fix the client's profile in the practice management system, then resend.",
            "If the address is right, reach the recipient another way and ask them to allow mail from the firm's domain.",
            "Then ask support ({support}) to reactivate the address; no email goes to it until they do.",
            "Once it is reactivated, send the document again from the practice management system, "
            "or forward the BCC copy from the billing inbox.",
        ),
        buttons=(
            actions.CLAIM,
            actions.CORRECT_ADDRESS,
            actions.REQUEST_REACTIVATION,
            actions.REACTIVATED,
            actions.RESEND,
            actions.MARK_FIXED,
            actions.ADD_NOTE,
            actions.REOPEN,
        ),
        needs_support_address=True,
    ),
    MISSING_INVOICE: Reason(
        key=MISSING_INVOICE,
        title="Ingested invoice does not exist",
        emoji=":mag:",
        explanation=(
            "The platform could not find the invoice it was asked to send. "
            "Usually it has not been posted yet, or it is already paid."
        ),
        steps=(
            "If it is already paid, nothing needs to be sent: mark it as paid.",
            "Otherwise, search the BCC invoice inbox for the document number.",
            "Confirm it was not sent after it was posted.",
            "Post the invoice.",
            "Send the invoice.",
            "If it still does not go out, contact support ({support}).",
        ),
        buttons=(
            actions.CLAIM,
            actions.POSTED_AND_SENT,
            actions.ALREADY_PAID,
            actions.CONTACT_SUPPORT,
            actions.MARK_FIXED,
            actions.ADD_NOTE,
            actions.REOPEN,
        ),
        needs_support_address=True,
    ),
    OTHER: Reason(
        key=OTHER,
        title="Other delivery failure",
        emoji=":grey_question:",
        explanation=(
            "The report gave a reason Bounce Desk does not recognise. "
            "The row is kept so it can be followed up like any other."
        ),
        steps=(
            "Read the error code and details in this message for what the receiving server said.",
            "Check the address and reach the recipient another way if needed.",
            _RESEND_STEP,
        ),
        buttons=(
            actions.CLAIM,
            actions.RESEND,
            actions.MARK_FIXED,
            actions.ADD_NOTE,
            actions.REOPEN,
        ),
    ),
}

REASON_ORDER = (ISP_BLOCK, SOFT_BOUNCE, HARD_BOUNCE, MISSING_INVOICE, OTHER)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# Keys are squashed (lower case, letters and digits only). Postmark type names,
# their display names and numeric TypeCodes are included because reports
# exported from the provider carry those instead of the platform's wording.
_ALIASES: dict[str, str] = {}


def _alias(reason: str, *names: str) -> None:
    for name in names:
        _ALIASES[_squash(name)] = reason


_alias(ISP_BLOCK, "ISP block", "ISP blocked", "Blocked", "100006", "Spam notification", "SpamNotification", "512",
       "DMARC policy", "DMARCPolicy", "100009", "Virus notification", "VirusNotification", "8192",
       "Challenge verification", "ChallengeVerification", "16384", "Block")
_alias(SOFT_BOUNCE, "Soft bounce", "SoftBounce", "4096", "Transient", "2", "Message delayed", "DNS error", "DnsError",
       "256", "Mailbox full", "Undeliverable")
_alias(HARD_BOUNCE, "Hard bounce", "HardBounce", "1", "Bad email address", "BadEmailAddress", "Invalid email address",
       "100000", "Spam complaint", "SpamComplaint", "100001", "Manually deactivated", "ManuallyDeactivated", "100002",
       "SMTP API error", "SMTPApiError", "100007", "Inactive recipient", "Suppressed")
_alias(MISSING_INVOICE, "Ingested invoice does not exist", "Ingested invoice not found", "Invoice does not exist",
       "Invoice not found", "Missing invoice")


def classify(reason_text: str | int | None) -> str:
    """Map a report's reason text, a Postmark type name or a TypeCode to a catalog key."""
    if reason_text is None:
        return OTHER
    return _ALIASES.get(_squash(str(reason_text)), OTHER)


def get(key: str) -> Reason:
    """Return the catalog entry for `key`, falling back to OTHER for keys from a newer version."""
    return CATALOG.get(key, CATALOG[OTHER])


def steps_for(reason: Reason, support_email: str) -> list[str]:
    return [step.format(support=support_email) for step in reason.steps]

"""Action ids for every interactive element Bounce Desk renders.

One scheme, `bounce.<verb>`, for buttons on bounce messages; modal callback ids
use `modal.<verb>`. A button's value carries only the bounce id, which is a
lookup key: permission and state are always checked against the database.
"""

# Bounce ids are PostgreSQL INTEGER primary keys, so anything larger is no bounce.
MAX_BOUNCE_ID = 2**31 - 1


def parse_bounce_id(value) -> int | None:
    """Return the bounce id in a button value or modal metadata, or None when it is not a usable id."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    bounce_id = int(text)
    return bounce_id if 0 < bounce_id <= MAX_BOUNCE_ID else None


CLAIM = "bounce.claim"
MARK_FIXED = "bounce.mark_fixed"
ADD_NOTE = "bounce.add_note"
REOPEN = "bounce.reopen"
RESEND = "bounce.resend"

# ISP block
CLIENT_IT_NOTE = "bounce.client_it_note"
CLIENT_CONTACTED = "bounce.client_contacted"

# Soft bounce
RECIPIENT_CONTACTED = "bounce.recipient_contacted"

# Hard bounce
CORRECT_ADDRESS = "bounce.correct_address"
REQUEST_REACTIVATION = "bounce.request_reactivation"
REACTIVATED = "bounce.reactivated"

# Ingested invoice does not exist
POSTED_AND_SENT = "bounce.posted_and_sent"
ALREADY_PAID = "bounce.already_paid"
CONTACT_SUPPORT = "bounce.contact_support"

# Slash command pagination
LOOKUP_MORE = "lookup.more"

# Modal callback ids
MODAL_NOTE = "modal.add_note"
MODAL_CORRECT_ADDRESS = "modal.correct_address"
MODAL_CLIENT_IT_NOTE = "modal.client_it_note"
MODAL_RECIPIENT_DRAFT = "modal.recipient_draft"
MODAL_RESEND = "modal.resend"
MODAL_EMAIL_DRAFT = "modal.email_draft"

BUTTON_LABELS = {
    CLAIM: "I'm on it",
    MARK_FIXED: "Mark fixed",
    ADD_NOTE: "Add note",
    REOPEN: "Reopen",
    RESEND: "Resend",
    CLIENT_IT_NOTE: "Note for client's IT",
    CLIENT_CONTACTED: "Client contacted",
    RECIPIENT_CONTACTED: "Recipient contacted",
    CORRECT_ADDRESS: "Correct address",
    REQUEST_REACTIVATION: "Request reactivation",
    REACTIVATED: "Reactivated",
    POSTED_AND_SENT: "Posted and sent",
    ALREADY_PAID: "Already paid",
    CONTACT_SUPPORT: "Contact support",
}

BOUNCE_BUTTONS = tuple(BUTTON_LABELS)

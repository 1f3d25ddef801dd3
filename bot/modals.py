"""Modal views (pure functions returning view dicts) and the reading of their submissions.

Each modal's private_metadata carries the bounce id and the action as JSON;
like a button value, it is only a lookup key and is checked against the
database on submission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import actions
from bot.mailer import Draft
from bot.mrkdwn import TRUNCATION_MARKER, escape

NOTE_BLOCK, NOTE_INPUT = "note", "note_input"
ADDRESS_BLOCK, ADDRESS_INPUT = "new_address", "new_address_input"
CONTACT_BLOCK, CONTACT_INPUT = "it_contact", "it_contact_input"

TEXT_LIMIT = 2900
# Sections one drafted text may fill; a modal holds at most 100 blocks.
MAX_CODE_BLOCKS = 20
NOTE_MAX_LENGTH = 3000


@dataclass(frozen=True)
class ModalMetadata:
    bounce_id: int
    action: str
    extra: dict[str, Any]

    def encode(self) -> str:
        return json.dumps({"bounce_id": self.bounce_id, "action": self.action, **self.extra})


def read_metadata(view: dict[str, Any]) -> ModalMetadata | None:
    """Parse a submitted view's private_metadata; None when it is missing or malformed."""
    try:
        data = json.loads(view.get("private_metadata") or "")
        bounce_id = actions.parse_bounce_id(data.pop("bounce_id"))
        action = str(data.pop("action"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if bounce_id is None:
        return None
    return ModalMetadata(bounce_id, action, data)


def input_value(view: dict[str, Any], block_id: str, action_id: str) -> str:
    value = (((view.get("state") or {}).get("values") or {}).get(block_id) or {}).get(action_id) or {}
    return (value.get("value") or "").strip()


def _modal(callback_id: str, title: str, submit: str | None, metadata: ModalMetadata, blocks: list) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title[:24]),
        submit=PlainTextObject(text=submit[:24]) if submit else None,
        close=PlainTextObject(text="Cancel"),
        private_metadata=metadata.encode(),
        blocks=blocks,
    )
    return view.to_dict()


def _text(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:TEXT_LIMIT]))


def _code(text: str) -> list[SectionBlock]:
    """Show `text` as code blocks to copy, split at line ends so that no section exceeds TEXT_LIMIT.

    A draft is meant to be copied and sent, so it is split rather than cut.
    Only text longer than MAX_CODE_BLOCKS sections is truncated, with a marker.
    """
    limit = TEXT_LIMIT - 6  # room for the ``` fences
    chunks: list[str] = []
    lines: list[str] = []  # lines of the chunk being filled
    size = -1  # length of "\n".join(lines)
    for line in escape(text).split("\n"):
        while len(line) > limit:  # a single line longer than a section is split inside the line
            cut = _entity_safe_cut(line, limit)
            if lines:
                chunks.append("\n".join(lines))
                lines, size = [], -1
            chunks.append(line[:cut])
            line = line[cut:]
        if lines and size + 1 + len(line) > limit:
            chunks.append("\n".join(lines))
            lines, size = [], -1
        lines.append(line)
        size += 1 + len(line)
    chunks.append("\n".join(lines))
    if len(chunks) > MAX_CODE_BLOCKS:
        chunks = chunks[:MAX_CODE_BLOCKS]
        last = chunks[-1]
        chunks[-1] = last[:_entity_safe_cut(last, limit - len(TRUNCATION_MARKER))] + TRUNCATION_MARKER
    return [_text("```" + chunk + "```") for chunk in chunks]


def _entity_safe_cut(text: str, limit: int) -> int:
    """Return a cut position at most `limit` that does not split an entity such as `&amp;`."""
    if len(text) <= limit:
        return len(text)
    amp = text.rfind("&", max(0, limit - 5), limit)
    if amp != -1 and ";" not in text[amp:limit]:
        return amp
    return limit


def note_modal(bounce_id: int, address: str) -> dict[str, Any]:
    return _modal(
        actions.MODAL_NOTE, "Add a note", "Save note", ModalMetadata(bounce_id, actions.ADD_NOTE, {}),
        [
            _text(f"Note on the bounce to *{escape(address)}*. Everyone in the channel sees it in the message history."),
            InputBlock(block_id=NOTE_BLOCK, label=PlainTextObject(text="Note"),
                       element=PlainTextInputElement(action_id=NOTE_INPUT, multiline=True, max_length=NOTE_MAX_LENGTH)),
        ],
    )


def correct_address_modal(bounce_id: int, address: str, typed: str | None = None,
                          suggestion: str | None = None) -> dict[str, Any]:
    """Build the correction form; with `suggestion`, show the likely typo and save `typed` as is on a second Save."""
    blocks: list = [_text(f"The report has *{escape(address)}*. Type the right address for this client.")]
    extra: dict[str, Any] = {}
    if suggestion and typed:
        blocks.append(_text(f":warning: *Did you mean {escape(suggestion)}?* The domain of {escape(typed)} looks like a "
                            "typo of a common mail domain. Fix it below, or press *Save address* again to keep it."))
        extra["confirmed_typo"] = typed
    blocks += [
        InputBlock(block_id=ADDRESS_BLOCK, label=PlainTextObject(text="Correct address"),
                   element=PlainTextInputElement(action_id=ADDRESS_INPUT, initial_value=(typed or address)[:320],
                                                 max_length=320)),
        ContextBlock(elements=[MarkdownTextObject(
            text="Also correct the client's profile in the practice management system, "
                 "or the next invoice goes to the old address again.")]),
    ]
    return _modal(actions.MODAL_CORRECT_ADDRESS, "Correct the address", "Save address",
                  ModalMetadata(bounce_id, actions.CORRECT_ADDRESS, extra), blocks)


def client_it_note_modal(bounce_id: int, address: str, subject: str, body: str, can_email: bool,
                         domain_missing: bool = False) -> dict[str, Any]:
    how = "Copy it into your own email, or send it from here." if can_email else "Copy it into your own email."
    blocks: list = [
        _text(f"A ready-to-send note asking the IT team behind *{escape(address)}* to allow the firm's mail. {how}"),
    ]
    if domain_missing:
        blocks.append(_text(":warning: SENDING_DOMAIN is not set, so the note has a placeholder where the firm's "
                            "sending domain belongs. Fill it in before sending, and ask your admin to set it."))
    blocks += [
        _text(f"*Subject:* {escape(subject)}"),
        *_code(body),
    ]
    if can_email:
        blocks.append(InputBlock(
            block_id=CONTACT_BLOCK, optional=True,
            label=PlainTextObject(text="Email it to (the client's IT or another contact)"),
            hint=PlainTextObject(text="Not the blocked address: mail to it is being blocked. Leave empty to only copy the text."),
            element=PlainTextInputElement(action_id=CONTACT_INPUT, max_length=320),
        ))
    submit = "Send" if can_email else "Done"
    return _modal(actions.MODAL_CLIENT_IT_NOTE, "Note for client's IT", submit,
                  ModalMetadata(bounce_id, actions.CLIENT_IT_NOTE, {}), blocks)


def recipient_draft_modal(bounce_id: int, address: str, draft: str) -> dict[str, Any]:
    return _modal(
        actions.MODAL_RECIPIENT_DRAFT, "Contact the recipient", "Mark contacted",
        ModalMetadata(bounce_id, actions.RECIPIENT_CONTACTED, {}),
        [
            _text(f"Reach *{escape(address)}*'s owner another way (phone, or another address). A draft to copy:"),
            *_code(draft),
            _text("Press *Mark contacted* once you have reached them; the bounce then waits for their fix."),
        ],
    )


def resend_modal(bounce_id: int, target: str, documents: list[str]) -> dict[str, Any]:
    numbers = ", ".join(documents) or "the document"
    return _modal(
        actions.MODAL_RESEND, "Resend", "I resent it", ModalMetadata(bounce_id, actions.RESEND, {}),
        [
            _text(f"Send *{escape(numbers)}* to *{escape(target)}* again, either way:\n"
                  "• from the practice management system, or\n"
                  "• by forwarding the BCC copy from the billing inbox."),
            _text("Then press *I resent it* to record it. If it bounces again, the next report flags it."),
        ],
    )


def email_draft_modal(bounce_id: int, action: str, draft: Draft) -> dict[str, Any]:
    return _modal(
        actions.MODAL_EMAIL_DRAFT, "Email to send", "Sent it", ModalMetadata(bounce_id, action, {}),
        [
            _text("Email is not set up for Bounce Desk (no SMTP_HOST), so send this yourself, "
                  "then press *Sent it* to record it."),
            _text(f"*To:* {escape(draft.to)}\n*Subject:* {escape(draft.subject)}"),
            *_code(draft.body),
        ],
    )

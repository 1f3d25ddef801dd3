"""The texts Bounce Desk drafts: emails to support, the note for a client's
IT team, and the message to a recipient whose mailbox soft-bounced.

Plain functions of stored facts, so a draft shown in a modal and the email
actually sent are the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot import reasons
from bot.mailer import Draft
from bot.settings import SENDING_IP_RANGES


@dataclass(frozen=True)
class BounceFacts:
    bounce_id: int
    address: str
    reason: str
    bounced_on: date
    documents: list[str]
    clients: list[str]
    error_codes: list[str]
    details: list[str]


def _document_list(facts: BounceFacts) -> str:
    return ", ".join(facts.documents) if facts.documents else "(no document number on the report)"


def reactivation_request(facts: BounceFacts, firm_name: str, support_email: str, requested_by: str) -> Draft:
    subject = f"Reactivation request for {facts.address} ({firm_name})"
    body = "\n".join([
        "Hello,",
        "",
        f"Please reactivate the hard-bounced address {facts.address} for {firm_name}.",
        "We checked the address and it is correct, so we would like invoices and statements to reach it again.",
        "",
        f"Address: {facts.address}",
        f"Bounce date: {facts.bounced_on.isoformat()}",
        f"Reason: {reasons.get(facts.reason).title}",
        f"Error code: {', '.join(facts.error_codes) or 'none given'}",
        f"Details: {' | '.join(facts.details) or 'none given'}",
        f"Documents: {_document_list(facts)}",
        f"Client: {', '.join(facts.clients) or 'not given'}",
        f"Requested by: {requested_by} at {firm_name}",
        "",
        "Please reply to confirm once the address is active again.",
        "",
        "Thank you,",
        firm_name,
    ])
    return Draft(to=support_email, subject=subject, body=body)


def missing_invoice_request(facts: BounceFacts, firm_name: str, support_email: str, requested_by: str) -> Draft:
    subject = f"Invoice {_document_list(facts)} will not send ({firm_name})"
    body = "\n".join([
        "Hello,",
        "",
        f"The daily bounce report for {firm_name} says the invoice below does not exist on the platform, "
        "but it is posted and unpaid, and it still does not send.",
        "",
        f"Document: {_document_list(facts)}",
        f"Client: {', '.join(facts.clients) or 'not given'}",
        f"Recipient: {facts.address}",
        f"Report date: {facts.bounced_on.isoformat()}",
        f"Error code: {', '.join(facts.error_codes) or 'none given'}",
        f"Details: {' | '.join(facts.details) or 'none given'}",
        f"Reported by: {requested_by} at {firm_name}",
        "",
        "We checked the BCC invoice inbox and posted the invoice. Could you look into why it is not sent?",
        "",
        "Thank you,",
        firm_name,
    ])
    return Draft(to=support_email, subject=subject, body=body)


def client_it_note(facts: BounceFacts, firm_name: str, sending_domain: str) -> tuple[str, str]:
    """Return (subject, body) of the note asking a client's mail administrators to allow the firm's mail."""
    domain = sending_domain or "[the firm's sending domain: ask your Bounce Desk admin to set SENDING_DOMAIN]"
    ranges = "\n".join(f"  - {cidr} ({span}): {purpose}" for cidr, span, purpose in SENDING_IP_RANGES)
    subject = f"Please allow email from {firm_name}"
    body = "\n".join([
        "Hello,",
        "",
        f"Our invoices and statements to {facts.address} are being blocked by your mail system "
        f"(last on {facts.bounced_on.isoformat()}).",
        "Could your IT or mail administration team add the following to the allow list of your mail filter?",
        "",
        f"1. Our sending domain: {domain}",
        "2. The IP ranges our billing email is sent from:",
        ranges,
        "",
        "Once that is done, please reply and we will send the documents again.",
        "",
        "Thank you,",
        firm_name,
    ])
    return subject, body


def recipient_contact_draft(facts: BounceFacts, firm_name: str) -> str:
    return "\n".join([
        "Hello,",
        "",
        f"We tried to email you {_document_list(facts)} on {facts.bounced_on.isoformat()}, but it bounced: "
        f"the mailbox {facts.address} could not accept it (it may be full or not fully set up).",
        "Could you or your IT team check the mailbox? Let us know when it is fixed and we will send it again.",
        "",
        "Thank you,",
        firm_name,
    ])

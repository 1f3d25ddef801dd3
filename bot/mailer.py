"""Sends email over SMTP (smtplib), configured by the SMTP_* settings.

SMTP_SECURITY is `starttls` (plain connection upgraded with STARTTLS, usually
port 587), `ssl` (TLS from the first byte, usually port 465) or `none`
(plain text; only for a relay on the same host or network). Every failure is
raised as MailError naming the server and what to check.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

log = logging.getLogger(__name__)


class MailError(Exception):
    pass


@dataclass(frozen=True)
class Draft:
    to: str
    subject: str
    body: str
    reply_to: str | None = None


class SmtpMailer:
    def __init__(self, host: str, port: int, security: str, mail_from: str, username: str = "", password: str = "",
                 timeout: float = 20.0):
        self.host = host
        self.port = port
        self.security = security
        self.mail_from = mail_from
        self.username = username
        self.password = password
        self.timeout = timeout

    def send(self, draft: Draft) -> str:
        """Send `draft`; return its Message-ID. Raises MailError when the server does not accept it."""
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = _one_line(draft.to)
        # Report text (a document number with a line break, say) can end up in
        # the subject, and a header may not contain line breaks.
        message["Subject"] = _one_line(draft.subject)
        message["Date"] = formatdate(localtime=False)
        # MAIL_FROM may carry a display name ("Billing <billing@firm.com>"), so parse out the address.
        message_id = make_msgid(domain=parseaddr(self.mail_from)[1].rpartition("@")[2] or None)
        message["Message-ID"] = message_id
        if draft.reply_to:
            message["Reply-To"] = draft.reply_to
        message.set_content(draft.body)

        log.info("mail.sending to_domain=%s server=%s:%d", draft.to.rpartition("@")[2], self.host, self.port)
        try:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with connection:
                if self.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
                if self.username:
                    connection.login(self.username, self.password)
                refused = connection.send_message(message)
        except smtplib.SMTPNotSupportedError as error:
            raise MailError(_not_supported_message(self.host, self.port, str(error))) from None
        except smtplib.SMTPAuthenticationError as error:
            raise MailError(f"the mail server {self.host}:{self.port} rejected SMTP_USERNAME/SMTP_PASSWORD "
                            f"({error.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as error:
            raise MailError(f"the mail server refused the recipient {draft.to}: {_first_reason(error.recipients)}") from None
        except smtplib.SMTPResponseException as error:
            raise MailError(f"the mail server {self.host}:{self.port} answered {error.smtp_code} "
                            f"{_decode(error.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"could not send through {self.host}:{self.port} ({type(error).__name__}: {error}); "
                            "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY") from None
        if refused:
            raise MailError(f"the mail server refused {', '.join(refused)}")
        log.info("mail.sent message_id=%s", message_id)
        return message_id


def _not_supported_message(host: str, port: int, error: str) -> str:
    """Explain an SMTP extension the server does not offer (smtplib names it in `error`)."""
    if "STARTTLS" in error:
        return (f"the mail server {host}:{port} does not offer STARTTLS; set SMTP_SECURITY=ssl if it expects TLS "
                "from the start (usually port 465), or none for a plain relay on your own network")
    if "AUTH" in error:
        return (f"the mail server {host}:{port} does not offer SMTP AUTH, so SMTP_USERNAME and SMTP_PASSWORD cannot "
                "be used; leave both empty for a relay that needs no login, or check SMTP_SECURITY (many servers "
                "offer AUTH only after STARTTLS)")
    return f"the mail server {host}:{port} does not support a required feature ({error})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _decode(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _first_reason(recipients: dict) -> str:
    for code, reason in recipients.values():
        return f"{code} {_decode(reason)}"
    return "no reason given"

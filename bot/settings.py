"""Settings read from environment variables and an optional `.env` file.

This is the only module that reads the environment. Every setting has a
default that works on a laptop (SQLite under ./var, no Slack, no SMTP), and a
value that is present but invalid stops start-up with a message naming the
variable and the expected form.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SUPPORT_EMAIL = "support@aiwyn.ai"

# Ranges the billing platform's mail provider sends from, with what each carries.
# Clients whose filters block the firm's mail must allow all three.
SENDING_IP_RANGES = (
    ("50.31.156.96/27", "50.31.156.96 to 50.31.156.127", "transactional email (invoices, statements)"),
    ("104.245.209.192/26", "104.245.209.192 to 104.245.209.255", "transactional email (invoices, statements)"),
    ("50.31.205.0/24", "50.31.205.1 to 50.31.205.255", "broadcast email"),
)


class SettingsError(Exception):
    """A missing or invalid setting. The message names the variable and the expected form."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///var/bounce-desk.db", description="SQLAlchemy URL")
    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    digest_channel: str = ""
    digest_time: str = "08:00"
    digest_timezone: str = "UTC"
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: str = "INFO"

    firm_name: str = "Your firm"
    sending_domain: str = ""
    support_email: str = DEFAULT_SUPPORT_EMAIL
    allowed_user_ids: str = ""
    allowed_usergroup_id: str = ""
    slash_command: str = "/bounces"

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    mail_from: str = ""

    resend_backend: str = "manual"
    resend_webhook_url: str = ""
    resend_webhook_secret: str = ""
    resend_webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=600)

    @field_validator("slack_bot_token")
    @classmethod
    def _check_bot_token(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("xoxb-"):
            raise ValueError("expected the Bot User OAuth Token, which starts with xoxb- "
                             "(an xapp- token belongs in SLACK_APP_TOKEN)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _check_app_token(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("xapp-"):
            raise ValueError("expected an app-level token starting with xapp- (Basic Information > App-Level Tokens)")
        return value

    @field_validator("digest_channel")
    @classmethod
    def _check_channel(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[CGD][A-Z0-9]{2,}", value):
            raise ValueError(f"expected a channel ID such as C0123456789 (channel details > About), got {value!r}; "
                             "names like #billing cannot be used to update messages later")
        return value

    @field_validator("slash_command")
    @classmethod
    def _check_slash_command(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError(f"expected a command such as /bounces (a slash, then up to 31 lower-case letters, "
                             f"digits, - or _), got {value!r}")
        return value

    @field_validator("support_email", "mail_from")
    @classmethod
    def _check_email(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        _display_name, address = parseaddr(value)
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError:
            raise ValueError(f"expected an email address such as billing@yourfirm.com, got {value!r}") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _check_digest_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError(f"expected HH:MM in 24-hour time, such as 08:00, got {value!r}")
        return value.strip()

    @field_validator("digest_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone name such as America/New_York, got {value!r}") from None
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"expected one of DEBUG, INFO, WARNING, ERROR, got {value!r}")
        return upper

    @field_validator("smtp_security")
    @classmethod
    def _check_smtp_security(cls, value: str) -> str:
        lower = value.strip().lower()
        if lower not in {"starttls", "ssl", "none"}:
            raise ValueError(f"expected starttls, ssl or none, got {value!r}")
        return lower

    @field_validator("resend_backend")
    @classmethod
    def _check_resend_backend(cls, value: str) -> str:
        lower = value.strip().lower()
        if lower not in {"manual", "webhook"}:
            raise ValueError(f"expected manual or webhook, got {value!r}")
        return lower

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value.strip()):
            raise ValueError(f"expected an http(s) URL such as https://slack.com/api/, got {value!r}")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return value.strip().rstrip("/") + "/"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        expected = "expected sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value.strip()):
            raise ValueError(f"{expected}, got {value!r}")
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError(f"{expected}, got {value!r}") from None
        if not url.database:
            raise ValueError(f"{expected}: the URL names no database file or database, got {value!r}")
        if url.get_backend_name() == "postgresql" and not url.host:
            raise ValueError(f"{expected}: the URL names no host, got {value!r}")
        return value.strip()

    @cached_property
    def digest_clock(self) -> time:
        hours, minutes = self.digest_time.split(":")
        return time(int(hours), int(minutes))

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_timezone)

    @cached_property
    def allowed_users(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.allowed_user_ids.split(",") if part.strip())

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    def check_consistency(self) -> None:
        """Raise SettingsError when settings that only make sense together are incomplete."""
        problems = []
        if self.slack_bot_token and not self.digest_channel:
            problems.append("DIGEST_CHANNEL is missing: set it to the channel ID (like C0123456789) the digest posts to")
        if self.smtp_host and not self.mail_from:
            problems.append("MAIL_FROM is missing: set it to the address emails are sent from, like billing@yourfirm.com")
        if self.resend_backend == "webhook" and not (self.resend_webhook_url and self.resend_webhook_secret):
            problems.append("RESEND_BACKEND=webhook needs RESEND_WEBHOOK_URL and RESEND_WEBHOOK_SECRET")
        if bool(self.smtp_username) != bool(self.smtp_password):
            problems.append("SMTP_USERNAME and SMTP_PASSWORD must be set together")
        if problems:
            raise SettingsError("; ".join(problems))


def load_settings(**overrides) -> Settings:
    """Load settings, turning pydantic's validation errors into one readable SettingsError."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            variable = "_".join(str(part) for part in item["loc"]).upper()
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "int_parsing":
                message = f"expected a whole number, got {item.get('input')!r}"
            elif item["type"] == "float_parsing":
                message = f"expected a number of seconds, got {item.get('input')!r}"
            lines.append(f"{variable}: {message}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
    settings.check_consistency()
    return settings

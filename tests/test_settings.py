from datetime import time

import pytest

import app
from bot.settings import Settings, SettingsError, load_settings


def build(**values) -> Settings:
    return load_settings(_env_file=None, **values)


def test_defaults_work_without_anything():
    settings = build()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.digest_clock == time(8, 0)
    assert settings.digest_timezone == "UTC"


@pytest.mark.parametrize("variable, value, expected_form", [
    ("digest_time", "8am", "HH:MM"),
    ("digest_time", "24:00", "HH:MM"),
    ("digest_timezone", "Mars/Olympus", "IANA"),
    ("port", "http", "whole number"),
    ("slack_bot_token", "xapp-1-abc", "xoxb-"),
    ("slack_app_token", "xoxb-1", "xapp-"),
    ("digest_channel", "#billing", "channel ID"),
    ("mail_from", "billing at firm", "email address"),
    ("database_url", "postgresql://", "no database"),
    ("smtp_timeout_seconds", "inf", "600"),
    ("port", "70000", "65535"),
    ("smtp_security", "tls", "starttls, ssl or none"),
    ("resend_backend", "carrier-pigeon", "manual or webhook"),
    ("database_url", "mysql://x", "sqlite:///"),
    ("slack_api_url", "slack.com/api", "http"),
])
def test_invalid_value_names_variable_and_form(variable, value, expected_form):
    with pytest.raises(SettingsError) as error:
        build(**{variable: value})
    assert variable.upper() in str(error.value)
    assert expected_form in str(error.value)


def test_token_without_channel_rejected():
    with pytest.raises(SettingsError, match="DIGEST_CHANNEL"):
        build(slack_bot_token="xoxb-1")


def test_smtp_without_mail_from_rejected():
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        build(smtp_host="127.0.0.1")


def test_webhook_backend_needs_url_and_secret():
    with pytest.raises(SettingsError, match="RESEND_WEBHOOK_URL"):
        build(resend_backend="webhook")


def test_api_url_gets_trailing_slash():
    assert build(slack_api_url="http://127.0.0.1:9/api").slack_api_url == "http://127.0.0.1:9/api/"


def test_allowed_users_parsed():
    assert build(allowed_user_ids=" U1, U2 ,,").allowed_users == frozenset({"U1", "U2"})


def test_environment_variable_read(monkeypatch):
    monkeypatch.setenv("DIGEST_TIME", "07:30")
    assert build().digest_clock == time(7, 30)


def test_dotenv_file_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FIRM_NAME=Dotenv & Co\n")
    assert load_settings().firm_name == "Dotenv & Co"


def test_startup_stops_with_named_variable(monkeypatch, capsys):
    monkeypatch.setenv("DIGEST_TIMEZONE", "Nowhere/Atlantis")
    assert app.main(["migrate"]) == 1
    assert "DIGEST_TIMEZONE" in capsys.readouterr().err


def test_token_is_never_logged(capsys):
    import logging

    from bot import logs

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        logs.configure("INFO")
        logging.getLogger("test").info("calling with token xoxb-123-456-secret and Bearer abc")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    out = capsys.readouterr().out
    assert "xoxb-123" not in out
    assert "abc" not in out

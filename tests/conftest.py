"""Shared fixtures: real databases, the Slack stand-in, and the running app.

Every test gets an empty, migrated database: a fresh SQLite file by default,
or, when TEST_DATABASE_URL is set, a PostgreSQL schema of its own for this
test process, emptied before each test. Under CI (CI=true) a missing
TEST_DATABASE_URL is an error, so the PostgreSQL pass can never be skipped
silently.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import pytest
import uvicorn
from sqlalchemy import create_engine, text

from bot.settings import Settings
from storage.db import Database
from tests.standins.signed_requests import SignedSlackClient
from tests.standins.slack_api import SlackStandIn

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
DIGEST_CHANNEL = "C0DIGEST"

_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


@pytest.fixture(autouse=True, scope="session")
def _hermetic_environment():
    """Keep a developer's own settings (shell variables) out of the tests."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name in _SETTING_NAMES}
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _restore_logging():
    """Undo logs.configure() from tests that call app.main, whose stdout handler outlives pytest's capture."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database under test: {'PostgreSQL ' + url if url else 'SQLite (set TEST_DATABASE_URL for PostgreSQL)'}"


@pytest.fixture(scope="session")
def _postgres_schema_url():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if os.environ.get("CI") == "true" and os.environ.get("ALLOW_SQLITE_ONLY") != "1":
            pytest.fail("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL pass must run in CI")
        yield None
        return
    schema = f"bd_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    Database(url).migrate()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()
    return path


@pytest.fixture
def database_url(_postgres_schema_url, _sqlite_template, tmp_path) -> str:
    if _postgres_schema_url:
        engine = create_engine(_postgres_schema_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            tables = [row[0] for row in connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"))]
            if tables:
                connection.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " RESTART IDENTITY CASCADE"))
        engine.dispose()
        return _postgres_schema_url
    path = tmp_path / "bounce-desk.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database(database_url) -> Database:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def slack() -> SlackStandIn:
    standin = SlackStandIn(token=BOT_TOKEN, channels=(DIGEST_CHANNEL, "C0OTHER"))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def make_settings(database_url, slack) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.base_url,
            "digest_channel": DIGEST_CHANNEL,
            "firm_name": "Hale & Partners CPA",
            "sending_domain": "billing.halecpa.example",
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)
        settings.check_consistency()
        return settings

    return build


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until `predicate` returns something truthy; return it, or fail with the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@dataclass
class RunningApp:
    url: str
    services: Any
    client: SignedSlackClient
    slack: SlackStandIn


def start_app(settings: Settings, slack: SlackStandIn, database: Database | None = None):
    from bot.services import build_services
    from bot.slack_app import build_bolt_app, build_web_app

    services = build_services(settings, database=database)
    bolt_app = build_bolt_app(services)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_web_app(bolt_app, services), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10)
    url = f"http://127.0.0.1:{port}"
    client = SignedSlackClient(url, settings.slack_signing_secret, response_url=slack.response_url("interaction"))
    return RunningApp(url=url, services=services, client=client, slack=slack), server, thread


@pytest.fixture
def app_factory(make_settings, slack, database):
    started = []

    def build(**overrides: Any) -> RunningApp:
        running, server, thread = start_app(make_settings(**overrides), slack, database)
        started.append((running, server, thread))
        return running

    yield build
    for running, server, thread in started:
        running.client.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def running_app(app_factory) -> RunningApp:
    return app_factory()

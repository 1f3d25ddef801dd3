"""manifest.yml: valid against Slack's published manifest schema, and in step with the code."""

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "reference" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_matches_schema(manifest):
    if not SCHEMA.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the manifest schema is missing at {SCHEMA}")
        pytest.skip(f"the manifest schema is not beside this checkout ({SCHEMA})")
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert [error.message for error in errors] == []


def test_slash_command_matches_default_setting(manifest):
    commands = [command["command"] for command in manifest["features"]["slash_commands"]]
    assert commands == [Settings.model_fields["slash_command"].default]


def test_home_tab_and_event(manifest):
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_interactivity_enabled(manifest):
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_cover_calls(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "usergroups:read", "users:read"} <= scopes


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert missing == []

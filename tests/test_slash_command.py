"""The /bounces slash command, sent as signed form-encoded requests into the running app."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot import actions
from bot.importer import import_report
from bot.lookup import LookupService
from bot.render import MAX_BLOCKS
from handlers import commands
from storage.models import Bounce
from tests.conftest import wait_for
from tests.helpers import row, write_csv
from tests.standins.slack_api import find_block_errors

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)


def import_rows(database, tmp_path, rows, name="report.csv"):
    return import_report(database, write_csv(tmp_path / name, rows))


def ask(app, text, user="U0ALICE"):
    """Send the command and return the JSON body of the app's acknowledgement."""
    response = app.client.command(text, user=user)
    assert response.status_code == 200, response.text
    return response.json()


def text_of(answer: dict) -> str:
    return json.dumps(answer.get("blocks", []), ensure_ascii=False) + answer.get("text", "")


def more_value(blocks: list[dict]) -> str | None:
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == actions.LOOKUP_MORE:
                return element["value"]
    return None


def responses_after(slack, count: int) -> list[dict]:
    return wait_for(lambda: slack.responses[count:] if len(slack.responses) > count else None)


@pytest.fixture
def birch(database, tmp_path):
    import_rows(database, tmp_path, [row("jane.doe@birch.example", "INV-1042"),
                                     row("jane.doe@birch.example", "INV-1043"),
                                     row("owner@birch.example", "INV-2001", "ISP Block")])


# Forms of one address as people type it and as Slack delivers it: Slack turns
# a typed address into a mailto link and sends a literal < > & as entities.
SLACK_ADDRESS_FORMS = [
    "jane.doe@birch.example",
    "  jane.doe@birch.example ",
    "JANE.DOE@BIRCH.EXAMPLE",
    "<mailto:jane.doe@birch.example|jane.doe@birch.example>",
    "<jane.doe@birch.example>",
    "&lt;jane.doe@birch.example&gt;",
    "Jane Doe <jane.doe@birch.example>",
    "Jane Doe &lt;<mailto:jane.doe@birch.example|jane.doe@birch.example>&gt;",
    '"Doe, Jane" &lt;jane.doe@birch.example&gt;',
]


@pytest.mark.parametrize("text", SLACK_ADDRESS_FORMS)
def test_every_address_form_answered(running_app, birch, text):
    answer = ask(running_app, text)
    assert answer["blocks"][0]["text"]["text"] == "Bounces for jane.doe@birch.example"
    assert "`INV-1042`, `INV-1043`" in text_of(answer)


def test_response_is_ephemeral(running_app, birch):
    assert ask(running_app, "jane.doe@birch.example")["response_type"] == "ephemeral"


def test_response_within_three_seconds(running_app, birch):
    started = time.monotonic()
    ask(running_app, "jane.doe@birch.example")
    assert time.monotonic() - started < 3.0


def test_response_blocks_valid(running_app, birch):
    blocks = ask(running_app, "jane.doe@birch.example")["blocks"]
    assert find_block_errors(blocks, MAX_BLOCKS) == []


def test_address_shows_actions_and_message_link(running_app, database, tmp_path, slack):
    import_rows(database, tmp_path, [row("ap@oak.example", "INV-7")])
    running_app.services.digest.run(NOW)
    with database.session() as session:
        bounce = session.scalars(select(Bounce)).one()
    running_app.client.click(actions.CLAIM, str(bounce.id), user="U0BOB", message_ts=bounce.slack_ts)
    wait_for(lambda: slack.ok_calls_to("chat.update"))

    text = text_of(ask(running_app, "ap@oak.example"))
    assert "<@U0BOB> took it on" in text
    assert f"<{bounce.slack_permalink}|digest message>" in text
    assert "1 open bounce" in text


@pytest.mark.parametrize("text", ["@birch.example", "birch.example", "Birch.Example"])
def test_domain_lists_addresses(running_app, birch, text):
    answer = text_of(ask(running_app, text))
    assert "2 addresses, 2 bounces, *2 open*" in answer
    assert "*jane.doe@birch.example* · 1 bounce, 1 open" in answer
    assert "*owner@birch.example* · 1 bounce, 1 open" in answer


def test_document_lookup(running_app, birch):
    answer = text_of(ask(running_app, "inv-1043"))
    assert "1 bounce carries this document" in answer
    assert "jane.doe@birch.example" in answer


def test_open_lists_by_reason(running_app, birch):
    answer = text_of(ask(running_app, "open"))
    assert "*2 open*" in answer
    assert answer.index("ISP block") < answer.index("Hard bounce")


@pytest.mark.parametrize("text", ["help", "", "   "])
def test_help_and_empty_show_usage(running_app, text):
    answer = text_of(ask(running_app, text))
    assert "How to use /bounces" in answer
    assert "/bounces open" in answer


def test_unknown_input_shows_usage(running_app):
    answer = text_of(ask(running_app, "what happened yesterday"))
    assert "is not an address, a domain, a document number or a keyword" in answer
    assert "How to use /bounces" in answer


def test_invalid_address_explained(running_app):
    answer = text_of(ask(running_app, "jane@birch"))
    assert "is not a valid email address" in answer
    assert "missing its ending" in answer


def test_unknown_address_suggests_close_matches(running_app, birch):
    answer = text_of(ask(running_app, "jane.doe@brich.example"))
    assert "No bounces are recorded for jane.doe@brich.example" in answer
    assert "`/bounces jane.doe@birch.example`" in answer


def test_more_pages_past_block_limit(running_app, database, tmp_path, slack):
    import_rows(database, tmp_path, [row(f"user{n:02d}@maple.example", f"INV-{n}") for n in range(60)])
    first = ask(running_app, "@maple.example")
    value = more_value(first["blocks"])
    assert len(first["blocks"]) <= MAX_BLOCKS
    assert "Showing 1–25 of 60 addresses" in text_of(first)

    running_app.client.click(actions.LOOKUP_MORE, value, user="U0ALICE")
    second = responses_after(slack, 0)[0]["body"]
    assert second["replace_original"] is False
    assert "Showing 26–50 of 60 addresses" in text_of(second)
    assert "user25@maple.example" in text_of(second)

    running_app.client.click(actions.LOOKUP_MORE, more_value(second["blocks"]), user="U0ALICE")
    third = responses_after(slack, 1)[0]["body"]
    assert "Showing 51–60 of 60 addresses" in text_of(third)
    assert more_value(third["blocks"]) is None


def test_more_pages_accepted_by_response_url(running_app, database, tmp_path, slack):
    import_rows(database, tmp_path, [row(f"user{n:02d}@maple.example", f"INV-{n}") for n in range(30)])
    running_app.client.click(actions.LOOKUP_MORE, more_value(ask(running_app, "open")["blocks"]))
    assert responses_after(slack, 0)[0]["status"] == 200


def test_forged_more_value_rejected(running_app, slack):
    running_app.client.click(actions.LOOKUP_MORE, '{"k": "drop table", "p": 2}')
    body = responses_after(slack, 0)[0]["body"]
    assert "This More button is not valid" in body["text"]


def test_slow_lookup_sent_through_response_url(running_app, birch, slack, monkeypatch):
    monkeypatch.setattr(commands, "RESPONSE_BUDGET_SECONDS", 0.0)
    answer = ask(running_app, "jane.doe@birch.example")
    later = responses_after(slack, 0)[0]["body"]
    assert answer["text"] == commands.SLOW_RESPONSE_TEXT
    assert later["blocks"][0]["text"]["text"] == "Bounces for jane.doe@birch.example"


def test_failed_lookup_gives_reference(running_app, monkeypatch):
    def fail(self, query, page=1):
        raise RuntimeError("database went away")

    monkeypatch.setattr(LookupService, "lookup", fail)
    answer = ask(running_app, "jane.doe@birch.example")
    assert "internal error (reference" in answer["text"]


def test_command_name_from_settings(app_factory, birch):
    app = app_factory(slash_command="/bounce-desk")
    response = app.client.command("jane.doe@birch.example", command="/bounce-desk")
    assert "Bounces for jane.doe@birch.example" in response.text


# --- digest -------------------------------------------------------------------


def posted_count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Bounce).where(Bounce.slack_ts.is_not(None)))


def test_digest_denied_for_unlisted_user(app_factory, birch, database, slack):
    app = app_factory(allowed_user_ids="U0ALICE")
    response = app.client.command("digest", user="U0BOB")
    denial = responses_after(slack, 0)[0]["body"]
    time.sleep(0.3)
    assert response.status_code == 200
    assert "You are not allowed to post the digest" in denial["text"]
    assert slack.calls_to("chat.postMessage") == []
    assert posted_count(database) == 0
    assert len(slack.responses) == 1


def test_digest_runs_for_allowed_user(app_factory, birch, database, slack):
    app = app_factory(allowed_user_ids="U0ALICE")
    app.client.command("digest", user="U0ALICE")
    result = wait_for(lambda: [r for r in slack.responses if "Digest for" in r["body"].get("text", "")])
    assert "posted 2 bounce messages" in result[0]["body"]["text"]
    assert posted_count(database) == 2


def test_digest_acknowledged_before_posting(app_factory, birch, slack):
    app = app_factory(allowed_user_ids="U0ALICE")
    slack.delay_next("chat.postMessage", 2.0)
    started = time.monotonic()
    response = app.client.command("digest", user="U0ALICE")
    elapsed = time.monotonic() - started
    wait_for(lambda: [r for r in slack.responses if "Digest for" in r["body"].get("text", "")], timeout=10)
    assert response.status_code == 200
    assert elapsed < 1.0

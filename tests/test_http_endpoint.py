"""The app's own HTTP endpoint: signature checks, health, and a real Mark fixed click."""

import json
import threading
import time
from datetime import datetime, timezone

import httpx
from sqlalchemy import select

from bot import actions, lifecycle
from bot.importer import import_report
from storage.models import AuditEntry, Bounce
from tests.conftest import wait_for
from tests.helpers import row, write_csv

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)


def post_one_bounce(running_app, database, tmp_path, address="ap@birch.example") -> Bounce:
    import_report(database, write_csv(tmp_path / "r.csv", [row(address)]))
    running_app.services.digest.run(NOW)
    with database.session() as session:
        return session.scalars(select(Bounce)).one()


def test_healthz_ok(running_app):
    response = httpx.get(running_app.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_wrong_signature_rejected(running_app):
    response = running_app.client.click(actions.MARK_FIXED, "1", secret="not-the-secret")
    assert response.status_code == 401


def test_old_timestamp_rejected(running_app):
    response = running_app.client.click(actions.MARK_FIXED, "1", timestamp=int(time.time()) - 600)
    assert response.status_code == 401


def test_missing_signature_rejected(running_app):
    response = httpx.post(running_app.url + "/slack/events", content=b"payload=%7B%7D",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401


def test_forged_click_changes_nothing(running_app, database, tmp_path):
    bounce = post_one_bounce(running_app, database, tmp_path)
    running_app.client.click(actions.MARK_FIXED, str(bounce.id), secret="forged")
    time.sleep(0.3)
    with database.session() as session:
        assert session.get(Bounce, bounce.id).state == lifecycle.OPEN


def test_non_utf8_body_rejected(running_app):
    response = running_app.client.post_raw(b"payload=\xff\xfe", "application/x-www-form-urlencoded")
    assert response.status_code in (400, 401)


def test_mark_fixed_updates_message_in_place(running_app, database, slack, tmp_path):
    bounce = post_one_bounce(running_app, database, tmp_path)
    response = running_app.client.click(actions.MARK_FIXED, str(bounce.id), user="U0ALICE",
                                        message_ts=bounce.slack_ts)
    assert response.status_code == 200

    update = wait_for(lambda: slack.ok_calls_to("chat.update"))[0]
    assert update.args["ts"] == bounce.slack_ts
    message = slack.messages[(bounce.slack_channel, bounce.slack_ts)]
    text = json.dumps(message["blocks"])
    assert "Resolved" in text
    assert "<@U0ALICE>" in text
    assert actions.MARK_FIXED not in text


def test_mark_fixed_records_state_and_audit(running_app, database, slack, tmp_path):
    bounce = post_one_bounce(running_app, database, tmp_path)
    running_app.client.click(actions.MARK_FIXED, str(bounce.id), user="U0BOB")
    wait_for(lambda: slack.ok_calls_to("chat.update"))
    with database.session() as session:
        stored = session.get(Bounce, bounce.id)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == actions.MARK_FIXED)).all()
    assert stored.state == lifecycle.RESOLVED
    assert stored.state_changed_by == "U0BOB"
    assert [(entry.actor, entry.from_state, entry.to_state) for entry in audit] == [("U0BOB", "open", "resolved")]


def test_two_concurrent_clicks_one_resolution(running_app, database, slack, tmp_path):
    bounce = post_one_bounce(running_app, database, tmp_path)
    barrier = threading.Barrier(2)
    statuses = []

    def click(user):
        barrier.wait()
        statuses.append(running_app.client.click(actions.MARK_FIXED, str(bounce.id), user=user).status_code)

    threads = [threading.Thread(target=click, args=(user,)) for user in ("U0ALICE", "U0BOB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for(lambda: slack.ok_calls_to("chat.update"))
    wait_for(lambda: slack.ok_calls_to("chat.postEphemeral"))
    with database.session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == actions.MARK_FIXED)).all()
    assert statuses == [200, 200]
    assert len(audit) == 1
    assert len(slack.ok_calls_to("chat.update")) == 1


def test_second_click_told_already_resolved(running_app, database, slack, tmp_path):
    bounce = post_one_bounce(running_app, database, tmp_path)
    running_app.client.click(actions.MARK_FIXED, str(bounce.id), user="U0ALICE")
    wait_for(lambda: slack.ok_calls_to("chat.update"))
    running_app.client.click(actions.MARK_FIXED, str(bounce.id), user="U0BOB")
    ephemeral = wait_for(lambda: slack.ok_calls_to("chat.postEphemeral"))[0]
    assert ephemeral.args["user"] == "U0BOB"
    assert "already resolved" in ephemeral.args["text"]


def test_click_on_unknown_bounce_explained(running_app, slack):
    running_app.client.click(actions.MARK_FIXED, "999999", user="U0ALICE")
    ephemeral = wait_for(lambda: slack.ok_calls_to("chat.postEphemeral"))[0]
    assert "#999999 is not in Bounce Desk" in ephemeral.args["text"]


def test_click_with_garbage_value_explained(running_app, slack):
    running_app.client.click(actions.MARK_FIXED, "1; DROP TABLE bounces", user="U0ALICE")
    ephemeral = wait_for(lambda: slack.ok_calls_to("chat.postEphemeral"))[0]
    assert "no valid bounce id" in ephemeral.args["text"]

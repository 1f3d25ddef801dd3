"""The digest against the Slack stand-in, on a real database."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot import reasons
from bot.importer import import_report
from bot.services import build_services
from storage.models import Bounce, DigestRun
from tests.helpers import row, write_csv

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)


@pytest.fixture
def services(make_settings, database):
    return build_services(make_settings(), database=database)


def import_rows(database, tmp_path, rows, name="report.csv"):
    return import_report(database, write_csv(tmp_path / name, rows))


def posted_bounce_messages(slack):
    return [call for call in slack.ok_calls_to("chat.postMessage") if "bounce" in str(call.args.get("blocks"))
            and "Bounced email digest" not in str(call.args.get("text"))]


def test_digest_posts_header_and_one_message_per_bounce(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [
        row("a@one.example", "INV-1", "Hard Bounce"),
        row("b@two.example", "INV-2", "ISP Block"),
        row("c@three.example", "INV-3", "Soft Bounce"),
    ])
    result = services.digest.run(NOW)
    posts = slack.ok_calls_to("chat.postMessage")
    assert result.posted == 3
    assert len(posts) == 4
    assert "Bounced email digest" in posts[0].args["text"]


def test_same_address_same_day_shares_message(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [
        row("ap@birch.example", "INV-1"),
        row("ap@birch.example", "INV-2"),
        row("ap@birch.example", "INV-3", day="2026-12-02"),
    ])
    result = services.digest.run(NOW)
    assert result.posted == 2
    with database.session() as session:
        sizes = sorted(len(bounce.documents) for bounce in session.scalars(select(Bounce)))
    assert sizes == [1, 2]


def test_channel_and_ts_stored(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("a@one.example")])
    services.digest.run(NOW)
    with database.session() as session:
        bounce = session.scalars(select(Bounce)).one()
    assert (bounce.slack_channel, bounce.slack_ts) in slack.messages


def test_second_run_posts_nothing(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("a@one.example")])
    services.digest.run(NOW)
    before = len(slack.calls_to("chat.postMessage"))
    result = services.digest.run(NOW)
    assert len(slack.calls_to("chat.postMessage")) == before
    assert result.posted == 0


def test_first_empty_digest_posts_all_clear(services, slack):
    result = services.digest.run(NOW)
    assert result.all_clear
    assert "No new bounced emails" in slack.ok_calls_to("chat.postMessage")[0].args["text"]


def test_all_clear_posted_once_per_day(services, slack):
    services.digest.run(NOW)
    services.digest.run(NOW)
    assert len(slack.ok_calls_to("chat.postMessage")) == 1


def test_late_import_is_posted_whatever_its_date(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("a@one.example", day="2026-11-20")])
    result = services.digest.run(NOW)
    assert result.posted == 1


def test_header_counts_by_reason(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [
        row("a@one.example", "INV-1", "Hard Bounce"),
        row("b@two.example", "INV-2", "Hard Bounce"),
        row("c@three.example", "INV-3", "Ingested Invoice Does Not Exist"),
    ])
    services.digest.run(NOW)
    header = str(slack.ok_calls_to("chat.postMessage")[0].args["blocks"])
    assert "*2* Hard bounce" in header
    assert "*1* Ingested invoice does not exist" in header


def test_header_links_open_items_from_earlier_digests(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("old@one.example", day="2026-12-02")], "day1.csv")
    services.digest.run(datetime(2026, 12, 3, 13, 0, tzinfo=timezone.utc))
    import_rows(database, tmp_path, [row("new@two.example")], "day2.csv")
    services.digest.run(NOW)
    header = slack.ok_calls_to("chat.postMessage")[-2]
    assert "1 still open from earlier digests" in str(header.args["blocks"])
    assert "https://firm.slack.com/archives/C0DIGEST/p" in str(header.args["blocks"])


def test_open_items_not_posted_again(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("old@one.example", day="2026-12-02")], "day1.csv")
    services.digest.run(datetime(2026, 12, 3, 13, 0, tzinfo=timezone.utc))
    count = len(slack.ok_calls_to("chat.postMessage"))
    import_rows(database, tmp_path, [row("new@two.example")], "day2.csv")
    result = services.digest.run(NOW)
    assert result.posted == 1
    assert len(slack.ok_calls_to("chat.postMessage")) == count + 2


def test_resume_after_failure_half_way(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row(f"user{n}@firm{n}.example", f"INV-{n}") for n in range(4)])
    slack.fail_next("chat.postMessage", error="internal_error", count=1)
    services.digest.run(NOW)  # the header fails: nothing is posted
    first = services.digest.run(NOW)
    assert first.posted == 4

    with database.session() as session:
        posted = session.scalar(select(func.count()).select_from(Bounce).where(Bounce.slack_ts.is_not(None)))
    assert posted == 4


def test_resume_posts_only_remaining(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row(f"user{n}@firm{n}.example", f"INV-{n}") for n in range(4)])
    # Header and two bounces go through, then Slack fails on the third bounce.
    original = slack.fail_next
    services_digest = services.digest
    posted_before_failure = []

    class FailingAfter:
        def __init__(self, gateway, allowed):
            self.gateway = gateway
            self.allowed = allowed

        def __getattr__(self, name):
            return getattr(self.gateway, name)

        def post_message(self, *args, **kwargs):
            if self.allowed == 0:
                original("chat.postMessage", error="fatal_error", count=1)
            self.allowed -= 1
            posted = self.gateway.post_message(*args, **kwargs)
            posted_before_failure.append(posted.ts)
            return posted

    services_digest.slack = FailingAfter(services.slack, allowed=3)
    failed = services_digest.run(NOW)
    assert failed.error is not None
    assert failed.posted == 2

    services_digest.slack = services.slack
    resumed = services_digest.run(NOW)
    assert resumed.posted == 2
    headers = [call for call in slack.ok_calls_to("chat.postMessage") if "Bounced email digest" in call.args["text"]]
    assert len(headers) == 1
    with database.session() as session:
        runs = session.scalars(select(DigestRun)).all()
    assert [run.status for run in runs] == ["finished"]


def test_rate_limit_in_middle_is_retried(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row(f"user{n}@firm{n}.example", f"INV-{n}") for n in range(3)])
    services.digest.run(NOW)  # warm-up proves the path; the real check follows
    import_rows(database, tmp_path, [row(f"late{n}@firm{n}.example", f"INV-9{n}") for n in range(3)], "late.csv")
    slack.fail_next("chat.postMessage", error="ratelimited", retry_after=1, count=1)
    result = services.digest.run(NOW)
    statuses = [call.status for call in slack.calls_to("chat.postMessage")]
    assert 429 in statuses
    assert result.posted == 3
    assert result.error is None


def test_unknown_channel_reports_clear_error(make_settings, database, tmp_path):
    services = build_services(make_settings(digest_channel="C0MISSING"), database=database)
    import_rows(database, tmp_path, [row("a@one.example")])
    result = services.digest.run(NOW)
    assert "DIGEST_CHANNEL" in result.error


def test_unknown_channel_keeps_bounces_unposted(make_settings, database, tmp_path):
    services = build_services(make_settings(digest_channel="C0MISSING"), database=database)
    import_rows(database, tmp_path, [row("a@one.example")])
    services.digest.run(NOW)
    with database.session() as session:
        assert session.scalars(select(Bounce)).one().slack_ts is None


def test_posted_messages_pass_block_kit_validation(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row(f"u{n}@x{n}.example", f"INV-{n}", reason)
                                     for n, reason in enumerate(["Hard Bounce", "ISP Block", "Soft Bounce",
                                                                 "Ingested Invoice Does Not Exist", "Weird"])])
    services.digest.run(NOW)
    failed = [call for call in slack.calls_to("chat.postMessage") if not call.response.get("ok")]
    assert failed == []


def test_other_reason_is_posted_not_dropped(services, database, slack, tmp_path):
    import_rows(database, tmp_path, [row("a@one.example", reason="Mailbox Unavailable")])
    services.digest.run(NOW)
    with database.session() as session:
        bounce = session.scalars(select(Bounce)).one()
    assert bounce.reason == reasons.OTHER
    assert bounce.slack_ts is not None

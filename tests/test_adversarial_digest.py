"""The digest under concurrency: two runs in one process, an import while posting, and a late start."""

import json
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import select

from bot.importer import import_report
from bot.scheduler import start_scheduler
from bot.services import build_services
from storage.models import Bounce
from tests.conftest import wait_for
from tests.helpers import row, write_csv

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)


def bounce_posts(slack) -> list[str]:
    return [call.args["text"] for call in slack.ok_calls_to("chat.postMessage") if call.args["text"].startswith("Hard")]


def test_concurrent_digests_post_bounce_once(make_settings, slack, database, tmp_path):
    # The scheduler and `/bounces digest` share one DigestService, so both runs use the same lease holder.
    services = build_services(make_settings(), database=database)
    addresses = [f"ap{index}@birch.example" for index in range(3)]
    import_report(database, write_csv(tmp_path / "r.csv", [row(address) for address in addresses]))
    slack.delay_next("chat.postMessage", 0.3, count=10)
    barrier = threading.Barrier(2)

    def run_digest():
        barrier.wait()
        services.digest.run(NOW)

    threads = [threading.Thread(target=run_digest) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(bounce_posts(slack)) == len(addresses)


def test_import_during_digest_reaches_slack(running_app, slack, database, tmp_path):
    import_report(database, write_csv(tmp_path / "first.csv", [row("ap@birch.example", "INV-1")]))
    # Slack takes one second for the header and one for the bounce, so the import lands mid-post.
    slack.delay_next("chat.postMessage", 1.0, count=2)
    digest = threading.Thread(target=running_app.services.digest.run, args=(NOW,))
    digest.start()
    time.sleep(1.5)
    import_report(database, write_csv(tmp_path / "late.csv", [row("ap@birch.example", "INV-2")]))
    digest.join()

    running_app.services.digest.run(NOW)

    with database.session() as session:
        documents = [document.document for bounce in session.scalars(select(Bounce)) for document in bounce.documents]
    assert "INV-2" in documents
    assert "INV-2" in json.dumps(list(slack.messages.values())), "INV-2 is stored but no Slack message shows it"


def test_late_start_posts_today(make_settings, database, slack):
    # A process that starts after DIGEST_TIME, with no digest yet today, posts one at once.
    # 00:00 is past at any time of day, so the test does not depend on the clock.
    settings = make_settings(digest_time="00:00")
    services = build_services(settings, database=database)
    scheduler = start_scheduler(settings, services.digest)
    try:
        wait_for(lambda: slack.ok_calls_to("chat.postMessage"), timeout=5)
    finally:
        scheduler.shutdown(wait=False)

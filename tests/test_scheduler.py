from bot.scheduler import start_scheduler
from bot.services import build_services


# 23:59 keeps the start-up catch-up out of these tests (it runs only after DIGEST_TIME).
LATE = "23:59"


def test_job_scheduled_at_digest_time(make_settings, database):
    settings = make_settings(digest_time=LATE, digest_timezone="America/New_York")
    services = build_services(settings, database=database)
    scheduler = start_scheduler(settings, services.digest)
    try:
        next_run = scheduler.get_job("daily-digest").next_run_time
    finally:
        scheduler.shutdown(wait=False)
    assert (next_run.hour, next_run.minute) == (23, 59)
    assert str(next_run.tzinfo) == "America/New_York"


def test_job_posts_the_digest(make_settings, database, slack):
    settings = make_settings(digest_time=LATE)
    services = build_services(settings, database=database)
    scheduler = start_scheduler(settings, services.digest)
    try:
        job = scheduler.get_job("daily-digest")
        job.func(*job.args)
    finally:
        scheduler.shutdown(wait=False)
    assert len(slack.ok_calls_to("chat.postMessage")) == 1


def test_job_survives_slack_failure(make_settings, database, slack):
    settings = make_settings(digest_channel="C0MISSING", digest_time=LATE)
    services = build_services(settings, database=database)
    scheduler = start_scheduler(settings, services.digest)
    try:
        job = scheduler.get_job("daily-digest")
        job.func(*job.args)
        running = scheduler.running
    finally:
        scheduler.shutdown(wait=False)
    assert running


def test_catch_up_skipped_when_digest_done(make_settings, database, slack):
    settings = make_settings(digest_time="00:00")
    services = build_services(settings, database=database)
    services.digest.run()
    scheduler = start_scheduler(settings, services.digest)
    try:
        catch_up = scheduler.get_job("catch-up-digest")
    finally:
        scheduler.shutdown(wait=False)
    assert catch_up is None

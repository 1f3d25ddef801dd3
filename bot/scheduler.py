"""Runs the digest every day at DIGEST_TIME in DIGEST_TIMEZONE (APScheduler)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.digest import DigestService
from bot.settings import Settings

log = logging.getLogger(__name__)


def start_scheduler(settings: Settings, digest: DigestService) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    clock = settings.digest_clock
    scheduler.add_job(
        _run_digest,
        CronTrigger(hour=clock.hour, minute=clock.minute, timezone=settings.timezone),
        args=[digest],
        id="daily-digest",
        # A process that was down at 08:00 still posts when it is back within the hour.
        misfire_grace_time=3600,
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    job = scheduler.get_job("daily-digest")
    log.info("scheduler.started digest_time=%s timezone=%s next_run=%s",
             settings.digest_time, settings.digest_timezone, job.next_run_time)
    return scheduler


def _run_digest(digest: DigestService) -> None:
    try:
        result = digest.run()
        log.info("scheduler.digest_done %s", result.line())
    except Exception:  # the scheduler thread must survive a failed digest; the next run resumes it
        log.exception("scheduler.digest_failed")

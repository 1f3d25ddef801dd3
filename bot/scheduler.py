"""Runs the digest every day at DIGEST_TIME in DIGEST_TIMEZONE (APScheduler)."""

from __future__ import annotations

import logging
from datetime import datetime

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
        # A run delayed while the process was busy still happens within the hour.
        misfire_grace_time=3600,
        coalesce=True,
        max_instances=1,
    )
    _catch_up(scheduler, settings, digest)
    scheduler.start()
    job = scheduler.get_job("daily-digest")
    log.info("scheduler.started digest_time=%s timezone=%s next_run=%s",
             settings.digest_time, settings.digest_timezone, job.next_run_time)
    return scheduler


def _catch_up(scheduler: BackgroundScheduler, settings: Settings, digest: DigestService) -> None:
    """Post today's digest now when the process starts after DIGEST_TIME and today has none yet.

    The schedule lives in memory, so without this a restart or deploy just after
    DIGEST_TIME would skip the day.
    """
    now = datetime.now(settings.timezone)
    due = now.replace(hour=settings.digest_clock.hour, minute=settings.digest_clock.minute, second=0, microsecond=0)
    if now < due:
        return
    try:
        if digest.has_run_on(now):
            return
    except Exception:  # the database may still be starting; the daily job runs anyway
        log.exception("scheduler.catch_up_check_failed")
        return
    log.info("scheduler.catch_up day=%s digest_time=%s", now.date(), settings.digest_time)
    scheduler.add_job(_run_digest, args=[digest], id="catch-up-digest", next_run_time=now)


def _run_digest(digest: DigestService) -> None:
    try:
        result = digest.run()
        log.info("scheduler.digest_done %s", result.line())
    except Exception:  # the scheduler thread must survive a failed digest; the next run resumes it
        log.exception("scheduler.digest_failed")

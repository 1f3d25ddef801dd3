"""The morning digest: post every bounce not yet posted, one message each.

A run posts a header (new bounces by reason, and links to items still open
from earlier digests), then one message per bounce, storing each message's
channel and ts as soon as it is posted. A run that dies half-way leaves its
DigestRun in state "running"; the next run of the same day reuses its header
and posts only what is still unposted. A day's first run with nothing new
posts a short all-clear; later runs with nothing new post nothing.

A lease in the locks table keeps two replicas from running the digest at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.render import DigestHeaderView, EarlierItem, RenderContext, render_all_clear, render_bounce, render_digest_header
from bot.slack_gateway import SlackError
from storage import bounce_store, lock_store
from storage.db import Database
from storage.models import Bounce, DigestRun, utcnow
from storage.snapshots import bounce_view

log = logging.getLogger(__name__)

LOCK_NAME = "digest"
LOCK_TTL = timedelta(minutes=30)
MAX_EARLIER_LINKS = 15


@dataclass
class DigestResult:
    day: str
    posted: int = 0
    header_posted: bool = False
    all_clear: bool = False
    skipped_reason: str | None = None
    error: str | None = None
    bounce_ids: list[int] = field(default_factory=list)

    def line(self) -> str:
        if self.error:
            return f"Digest for {self.day} stopped after {self.posted} messages: {self.error}. Run it again to resume."
        if self.skipped_reason:
            return f"Digest for {self.day} skipped: {self.skipped_reason}."
        if self.all_clear:
            return f"Digest for {self.day}: nothing new, posted the all-clear."
        if not self.posted and not self.header_posted:
            return f"Digest for {self.day}: nothing new since the last digest, nothing posted."
        return f"Digest for {self.day}: posted {self.posted} bounce messages."


class DigestService:
    def __init__(self, database: Database, slack, channel: str, timezone: ZoneInfo, context: RenderContext,
                 slash_command: str = "/bounces"):
        self.database = database
        self.slack = slack
        self.channel = channel
        self.timezone = timezone
        self.context = context
        self.slash_command = slash_command
        self.process_id = f"{socket.gethostname()}:{os.getpid()}"
        # Called after a run that posted anything (the App Home refresh hooks in here).
        self.after_run = None

    def has_run_on(self, now: datetime) -> bool:
        """Return whether a digest run exists for the digest day that `now` falls on."""
        day = now.astimezone(self.timezone).date()
        with self.database.session() as session:
            return session.scalar(select(DigestRun.id).where(DigestRun.day == day).limit(1)) is not None

    def run(self, now: datetime | None = None) -> DigestResult:
        now = now or utcnow()
        day = now.astimezone(self.timezone).date()
        result = DigestResult(day=day.isoformat())
        # One holder per run, so two runs in one process (the scheduler and
        # `/bounces digest`) exclude each other like runs in two replicas do.
        holder = f"{self.process_id}:{uuid.uuid4().hex[:8]}"

        with self.database.session() as session:
            if not lock_store.acquire(session, LOCK_NAME, holder, LOCK_TTL):
                result.skipped_reason = "another process is posting the digest right now"
                log.info("digest.skipped day=%s reason=locked", day)
                return result

        log.info("digest.started day=%s channel=%s", day, self.channel)
        try:
            self._run_locked(day, result)
        except SlackError as error:
            result.error = _explain_slack_error(error, self.channel)
            log.error("digest.failed day=%s posted=%d error=%s", day, result.posted, error.error)
        finally:
            with self.database.session() as session:
                lock_store.release(session, LOCK_NAME, holder)
        log.info("digest.finished day=%s posted=%d all_clear=%s", day, result.posted, result.all_clear)
        if self.after_run is not None and (result.posted or result.all_clear or result.header_posted):
            try:
                self.after_run()
            except Exception:  # a failed Home refresh must not turn a posted digest into a failure
                log.exception("digest.after_run_failed day=%s", day)
        return result

    def _run_locked(self, day, result: DigestResult) -> None:
        with self.database.session() as session:
            unposted = bounce_store.unposted_bounces(session)
            unposted_ids = [bounce.id for bounce in unposted]
            counts = Counter(bounce.reason for bounce in unposted)
            run = session.scalar(
                select(DigestRun).where(DigestRun.day == day, DigestRun.status == "running").order_by(DigestRun.id.desc())
            )
            ran_today = session.scalar(select(DigestRun.id).where(DigestRun.day == day).limit(1)) is not None

            if not unposted_ids:
                if run is not None:
                    run.status = "finished"
                    run.finished_at = utcnow()
                if ran_today:
                    return
                earlier = bounce_store.open_posted_before(session, None)
                message = render_all_clear(day, len(earlier), self.slash_command)
                posted = self.slack.post_message(self.channel, message.text, message.blocks)
                session.add(DigestRun(day=day, channel=posted.channel, status="finished", header_ts=posted.ts,
                                      finished_at=utcnow(), new_count=0))
                result.all_clear = True
                log.info("digest.all_clear day=%s channel=%s ts=%s", day, posted.channel, posted.ts)
                return

            if run is None:
                run = DigestRun(day=day, channel=self.channel, status="running", new_count=len(unposted_ids))
                session.add(run)
                session.flush()
            run_id = run.id
            header_ts = run.header_ts
            earlier = bounce_store.open_posted_before(session, run_id)
            header = render_digest_header(
                DigestHeaderView(
                    day=day,
                    new_by_reason=dict(counts),
                    earlier_open=tuple(
                        EarlierItem(b.address, b.reason, b.bounced_on, b.state, b.slack_permalink)
                        for b in earlier[:MAX_EARLIER_LINKS]
                    ),
                    earlier_open_total=len(earlier),
                    slash_command=self.slash_command,
                )
            )

        if header_ts is None:
            posted = self.slack.post_message(self.channel, header.text, header.blocks)
            permalink = self.slack.permalink(posted.channel, posted.ts)
            with self.database.session() as session:
                stored = session.get(DigestRun, run_id)
                stored.header_ts = posted.ts
                stored.header_permalink = permalink
                stored.channel = posted.channel
            result.header_posted = True
            log.info("digest.header_posted day=%s run_id=%d ts=%s", day, run_id, posted.ts)

        for bounce_id in unposted_ids:
            self._post_one(bounce_id, run_id, result)

        with self.database.session() as session:
            stored = session.get(DigestRun, run_id)
            stored.status = "finished"
            stored.finished_at = utcnow()

    def _post_one(self, bounce_id: int, run_id: int, result: DigestResult) -> None:
        with self.database.session() as session:
            bounce = session.get(Bounce, bounce_id)
            if bounce is None or bounce.slack_ts is not None:
                return
            message = render_bounce(bounce_view(session, bounce), self.context)
            rendered_documents = {document.id for document in bounce.documents}

        # NOTE: if the process dies after Slack accepts this post but before the
        # ts is stored below, the resumed run posts this bounce a second time.
        posted = self.slack.post_message(self.channel, message.text, message.blocks)
        permalink = self.slack.permalink(posted.channel, posted.ts)

        with self.database.session() as session:
            bounce_store.record_post(session, bounce_id, run_id, posted.channel, posted.ts, permalink)
            bounce = session.get(Bounce, bounce_id)
            bounce_store.add_audit(session, bounce_id=bounce_id, address=bounce.address, action="posted", actor="system",
                                   details={"channel": posted.channel, "ts": posted.ts})
            run = session.get(DigestRun, run_id)
            run.posted_count = (run.posted_count or 0) + 1

        result.posted += 1
        result.bounce_ids.append(bounce_id)
        log.info("digest.posted bounce_id=%d channel=%s ts=%s", bounce_id, posted.channel, posted.ts)
        self._catch_up_documents(bounce_id, rendered_documents, posted)

    def _catch_up_documents(self, bounce_id: int, rendered_documents: set[int], posted) -> None:
        """Update the message when an import added documents while it was being posted.

        The importer joins only bounces it could lock while still unposted, so
        once record_post has committed, the set of documents is final.
        """
        with self.database.session() as session:
            bounce = session.get(Bounce, bounce_id)
            if {document.id for document in bounce.documents} == rendered_documents:
                return
            message = render_bounce(bounce_view(session, bounce), self.context)
        self.slack.update_message(posted.channel, posted.ts, message.text, message.blocks)
        log.info("digest.message_caught_up bounce_id=%d ts=%s", bounce_id, posted.ts)


def _explain_slack_error(error: SlackError, channel: str) -> str:
    if error.error == "channel_not_found":
        return (f"Slack has no channel {channel!r} this bot can see: set DIGEST_CHANNEL to the channel ID "
                "(like C0123456789) and invite the bot to it")
    if error.error == "not_in_channel":
        return f"the bot is not a member of {channel}: invite it with /invite @Bounce Desk"
    if error.error in ("invalid_auth", "not_authed", "token_revoked"):
        return "Slack rejected SLACK_BOT_TOKEN: copy the Bot User OAuth Token (xoxb-…) from the app's settings"
    if error.error == "ratelimited":
        return "Slack kept answering 'rate limited' after retries"
    return f"Slack {error.method} answered {error.error}"

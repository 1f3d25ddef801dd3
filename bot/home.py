"""The App Home tab: load its snapshot, publish it, and republish it when a bounce changes.

A user's Home view is published with views.publish when they open the tab
(handlers.home). Opening also records the user in the home_viewers table.
build_services sets BounceActions.on_change to `request_refresh`, so it runs
after every change to a bounce, and DigestService.after_run points at it too,
so a digest run (scheduled or from `/bounces digest`) refreshes the tab.
The refresh runs on a background thread, so a click handler only pays for
starting that thread. It waits REFRESH_DELAY_SECONDS so that a burst of
changes costs one rebuild, builds the view once, and publishes it to at most
MAX_REFRESH_VIEWERS users who opened the tab within RECENT_VIEWER_WINDOW.
The viewers are stored in the table rather than in process memory, so a
restart or a second replica keeps them.

NOTE: `app.py import` runs in its own process without Slack, so bounces it
adds appear on an open Home tab after the next digest, change or reopening.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError

from bot import lifecycle, reasons
from bot.home_render import HomeData, HomeGroup, HomeItem, HomeStats, LastDigest, render_home
from bot.slack_gateway import SlackError
from storage import lookup_store
from storage.db import Database
from storage.models import Bounce, utcnow

log = logging.getLogger(__name__)

STATS_WINDOW_DAYS = 30
# Open bounces loaded per reason; the renderer shows as many as fit in 100 blocks.
ITEMS_PER_REASON = 45
# NOTE: the median reads at most this many of the most recent closures, so in
# a window with more closures than this it is the median of the newest ones.
MAX_CLOSURES_FOR_MEDIAN = 5_000
RECENT_VIEWER_WINDOW = timedelta(hours=12)
MAX_REFRESH_VIEWERS = 25
REFRESH_DELAY_SECONDS = 0.5


def _home_item(bounce: Bounce, today) -> HomeItem:
    return HomeItem(
        id=bounce.id,
        address=bounce.address,
        reason=bounce.reason,
        state=bounce.state,
        bounced_on=bounce.bounced_on,
        age_days=max(0, (today - bounce.bounced_on).days),
        documents=tuple(dict.fromkeys(document.document for document in bounce.documents if document.document)),
        permalink=bounce.slack_permalink,
        claimed_by=bounce.claimed_by,
    )


def median_time_to_resolve(pairs: list[tuple[datetime, datetime]]) -> timedelta | None:
    """Return the median of (closed at - created at), or None for no pairs; negative spans count as zero."""
    if not pairs:
        return None
    seconds = [max(0.0, (closed_at - created_at).total_seconds()) for created_at, closed_at in pairs]
    return timedelta(seconds=statistics.median(seconds))


def load_home(session, now: datetime, timezone_: tzinfo, slash_command: str) -> HomeData:
    """Load the Home snapshot: open items by reason, the last digest and the 30-day counts."""
    today = now.astimezone(timezone_).date()
    counts = lookup_store.active_counts_by_reason(session, lifecycle.ACTIVE_STATES)
    order = list(reasons.REASON_ORDER) + sorted(set(counts) - set(reasons.REASON_ORDER))
    groups = []
    for reason in order:
        if not counts.get(reason):
            continue
        bounces = lookup_store.oldest_active_for_reason(session, lifecycle.ACTIVE_STATES, reason, ITEMS_PER_REASON)
        groups.append(HomeGroup(reason, counts[reason], tuple(_home_item(bounce, today) for bounce in bounces)))

    digest = lookup_store.last_digest(session)
    last_digest = None
    if digest is not None:
        last_digest = LastDigest(digest.finished_at or digest.started_at, digest.header_permalink,
                                 digest.posted_count or 0)

    cutoff = now - timedelta(days=STATS_WINDOW_DAYS)
    closures = lookup_store.closed_since(session, lifecycle.CLOSED_STATES, cutoff, MAX_CLOSURES_FOR_MEDIAN)
    stats = HomeStats(
        window_days=STATS_WINDOW_DAYS,
        new_count=lookup_store.count_created_since(session, cutoff),
        resolved_count=lookup_store.count_closed_since(session, lifecycle.CLOSED_STATES, cutoff),
        median_time_to_resolve=median_time_to_resolve(closures),
    )
    return HomeData(tuple(groups), stats, last_digest, now, slash_command)


class HomeService:
    def __init__(self, database: Database, slack, slash_command: str = "/bounces",
                 timezone_: tzinfo = timezone.utc, clock: Callable[[], datetime] = utcnow,
                 refresh_delay_seconds: float = REFRESH_DELAY_SECONDS):
        self.database = database
        self.slack = slack
        self.slash_command = slash_command
        self.timezone = timezone_
        self.clock = clock
        self.refresh_delay_seconds = refresh_delay_seconds
        self._state_lock = threading.Lock()
        self._refresh_scheduled = False
        # Held while a refresh publishes, so that two refreshes never interleave their publishes.
        self._refresh_lock = threading.Lock()

    def build_view(self) -> dict[str, Any]:
        with self.database.session() as session:
            data = load_home(session, self.clock(), self.timezone, self.slash_command)
        return render_home(data)

    def opened(self, user_id: str) -> bool:
        """Record that `user_id` opened the Home tab and publish their view; False when publishing failed."""
        self._record_viewer(user_id)
        return self.publish(user_id, self.build_view())

    def _record_viewer(self, user_id: str) -> None:
        now = self.clock()
        try:
            with self.database.session() as session:
                lookup_store.record_home_viewer(session, user_id, now)
        except IntegrityError:
            # Another replica inserted the same user first; its row now exists, so update it.
            with self.database.session() as session:
                lookup_store.record_home_viewer(session, user_id, now)

    def publish(self, user_id: str, view: dict[str, Any]) -> bool:
        if self.slack is None:
            return False
        try:
            self.slack.publish_home(user_id, view)
        except SlackError as error:
            log.error("home.publish_failed user=%s error=%s", user_id, error.error)
            return False
        log.info("home.published user=%s blocks=%d", user_id, len(view["blocks"]))
        return True

    def request_refresh(self, bounce_id: int | None = None) -> None:
        """Schedule one background republish for recent viewers; a request while one is pending joins it."""
        with self._state_lock:
            if self._refresh_scheduled:
                return
            self._refresh_scheduled = True
        log.debug("home.refresh_scheduled bounce_id=%s", bounce_id)
        threading.Thread(target=self._refresh_later, name="home-refresh", daemon=True).start()

    def _refresh_later(self) -> None:
        time.sleep(self.refresh_delay_seconds)
        with self._refresh_lock:
            # Cleared before loading, so a change committed from here on schedules a refresh of its own.
            with self._state_lock:
                self._refresh_scheduled = False
            try:
                self.refresh_now()
            except Exception:  # a failed refresh must not kill the thread silently; the next change retries
                log.exception("home.refresh_failed")

    def refresh_now(self) -> int:
        """Republish the Home view for recent viewers now; return how many views were published."""
        since = self.clock() - RECENT_VIEWER_WINDOW
        with self.database.session() as session:
            viewers = lookup_store.recent_home_viewers(session, since, MAX_REFRESH_VIEWERS)
        if not viewers:
            return 0
        view = self.build_view()
        published = sum(1 for user_id in viewers if self.publish(user_id, view))
        log.info("home.refreshed viewers=%d published=%d", len(viewers), published)
        return published

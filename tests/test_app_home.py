"""The App Home tab: publishing on app_home_opened, the view's content and limits, and refreshes."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot import actions, lifecycle, reasons
from bot.home import RECENT_VIEWER_WINDOW, HomeService, median_time_to_resolve
from bot.home_render import HomeData, HomeGroup, HomeItem, HomeStats, allocate_items, duration_text, render_home
from bot.importer import import_report
from bot.render import MAX_VIEW_BLOCKS
from storage.models import Bounce, DigestRun, HomeViewer
from tests.conftest import wait_for
from tests.helpers import row, write_csv
from tests.standins.slack_api import find_block_errors

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)


def import_rows(database, tmp_path, rows, name="report.csv"):
    return import_report(database, write_csv(tmp_path / name, rows))


def open_home(app, user="U0ALICE", tab="home"):
    response = app.client.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": tab,
                                 "event_ts": f"{time.time():.6f}"})
    assert response.status_code == 200


def publishes_for(slack, user):
    return [call for call in slack.ok_calls_to("views.publish") if call.args.get("user_id") == user]


def wait_for_publishes(slack, user, count):
    return wait_for(lambda: publishes_for(slack, user) if len(publishes_for(slack, user)) >= count else None)


def view_text(call) -> str:
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return json.dumps(view["blocks"], ensure_ascii=False)


def view_blocks(call) -> list[dict]:
    view = call.args["view"]
    return (json.loads(view) if isinstance(view, str) else view)["blocks"]


def bounce_ids(database) -> list[int]:
    with database.session() as session:
        return list(session.scalars(select(Bounce.id).order_by(Bounce.id)))


@pytest.fixture
def two_open(running_app, database, tmp_path):
    import_rows(database, tmp_path, [row("ap@birch.example", "INV-1042", "Hard Bounce", day="2026-11-20"),
                                     row("owner@oak.example", "INV-2001", "ISP Block", day="2026-12-02")])
    running_app.services.digest.run(NOW)
    return bounce_ids(database)


# --- publishing ---------------------------------------------------------------


def test_home_opened_publishes_view(running_app, two_open, slack):
    open_home(running_app)
    call = wait_for_publishes(slack, "U0ALICE", 1)[0]
    assert call.response["ok"] is True
    assert call.response["view"]["type"] == "home"


def test_home_view_valid_block_kit(running_app, two_open, slack):
    open_home(running_app)
    blocks = view_blocks(wait_for_publishes(slack, "U0ALICE", 1)[0])
    assert find_block_errors(blocks, MAX_VIEW_BLOCKS, "/view/blocks") == []


def test_messages_tab_not_published(running_app, two_open, slack):
    open_home(running_app, tab="messages")
    time.sleep(0.5)
    assert slack.calls_to("views.publish") == []


def test_home_opened_records_viewer(running_app, two_open, slack, database):
    open_home(running_app, user="U0BOB")
    wait_for_publishes(slack, "U0BOB", 1)
    with database.session() as session:
        assert session.get(HomeViewer, "U0BOB") is not None


def test_home_lists_items_with_channel_buttons(running_app, two_open, slack):
    open_home(running_app)
    blocks = view_blocks(wait_for_publishes(slack, "U0ALICE", 1)[0])
    buttons = [(element["action_id"], element["value"]) for block in blocks if block["type"] == "actions"
               for element in block["elements"]]
    hard_bounce_id = two_open[0]
    assert (actions.CLAIM, str(hard_bounce_id)) in buttons
    assert (actions.MARK_FIXED, str(hard_bounce_id)) in buttons
    assert (actions.REQUEST_REACTIVATION, str(hard_bounce_id)) in buttons


def test_home_groups_by_reason_oldest_first(running_app, two_open, slack, database, tmp_path):
    import_rows(database, tmp_path, [row("late@birch.example", "INV-3", "Hard Bounce", day="2026-12-03")], "late.csv")
    open_home(running_app)
    text = view_text(wait_for_publishes(slack, "U0ALICE", 1)[0])
    assert text.index("ISP block") < text.index("Hard bounce")
    assert text.index("ap@birch.example") < text.index("late@birch.example")
    assert "*Hard bounce* · 2 open" in text


def test_home_links_last_digest(running_app, two_open, slack, database):
    with database.session() as session:
        permalink = session.scalars(select(DigestRun.header_permalink)).one()
    open_home(running_app)
    text = view_text(wait_for_publishes(slack, "U0ALICE", 1)[0])
    assert f"<{permalink}|open the digest>" in text
    assert "with 2 bounce messages" in text


def test_home_before_first_digest(running_app, slack):
    open_home(running_app)
    text = view_text(wait_for_publishes(slack, "U0ALICE", 1)[0])
    assert "No digest has been posted yet." in text
    assert "No open bounces." in text


def test_home_capped_at_100_blocks(running_app, database, tmp_path, slack):
    reason_texts = ["Hard Bounce", "ISP Block", "Soft Bounce", "Ingested Invoice Does Not Exist", "Mailbox gone"]
    import_rows(database, tmp_path, [row(f"user{n:03d}@firm{n}.example", f"INV-{n}", reason_texts[n % 5])
                                     for n in range(120)])
    open_home(running_app)
    call = wait_for_publishes(slack, "U0ALICE", 1)[0]
    text = view_text(call)
    assert call.response["ok"] is True
    assert len(view_blocks(call)) <= MAX_VIEW_BLOCKS
    assert "Showing " in text
    assert "of 120 open bounces" in text
    assert "`/bounces open` lists them all" in text


# --- refreshing ---------------------------------------------------------------


def test_home_refreshed_after_channel_click(running_app, two_open, slack, database):
    open_home(running_app)
    wait_for_publishes(slack, "U0ALICE", 1)
    with database.session() as session:
        bounce = session.get(Bounce, two_open[0])
    running_app.client.click(actions.MARK_FIXED, str(bounce.id), user="U0BOB", message_ts=bounce.slack_ts)
    refreshed = wait_for_publishes(slack, "U0ALICE", 2)[-1]
    assert "ap@birch.example" not in view_text(refreshed)
    assert "owner@oak.example" in view_text(refreshed)


def test_click_in_home_applies_and_refreshes(running_app, two_open, slack, database):
    open_home(running_app)
    wait_for_publishes(slack, "U0ALICE", 1)
    running_app.client.click_in_home(actions.CLAIM, str(two_open[1]), user="U0ALICE")
    refreshed = wait_for_publishes(slack, "U0ALICE", 2)[-1]
    with database.session() as session:
        assert session.get(Bounce, two_open[1]).claimed_by == "U0ALICE"
    assert "<@U0ALICE> is on it" in view_text(refreshed)


def test_click_in_home_replies_by_direct_message(running_app, two_open, slack):
    running_app.client.click_in_home(actions.CLAIM, str(two_open[1]), user="U0ALICE")
    wait_for(lambda: slack.ok_calls_to("chat.update"))
    running_app.client.click_in_home(actions.CLAIM, str(two_open[1]), user="U0BOB")
    reply = wait_for(lambda: [call for call in slack.ok_calls_to("chat.postMessage") if call.args["channel"] == "U0BOB"])
    assert "<@U0ALICE> is already on this one" in reply[0].args["text"]
    assert slack.calls_to("chat.postEphemeral") == []


def test_refresh_skips_users_not_seen_recently(running_app, two_open, slack, database):
    open_home(running_app, user="U0ALICE")
    open_home(running_app, user="U0BOB")
    wait_for_publishes(slack, "U0BOB", 1)
    with database.session() as session:
        session.execute(update(HomeViewer).where(HomeViewer.user_id == "U0BOB")
                        .values(opened_at=datetime.now(timezone.utc) - RECENT_VIEWER_WINDOW - timedelta(minutes=1)))
    running_app.services.actions.apply(actions.MARK_FIXED, two_open[0], "U0CAROL")
    wait_for_publishes(slack, "U0ALICE", 2)
    time.sleep(0.3)
    assert len(publishes_for(slack, "U0BOB")) == 1


def test_refresh_does_not_delay_click(running_app, two_open, slack):
    open_home(running_app)
    wait_for_publishes(slack, "U0ALICE", 1)
    slack.delay_next("views.publish", 3.0)
    started = time.monotonic()
    outcome = running_app.services.actions.apply(actions.MARK_FIXED, two_open[0], "U0BOB")
    elapsed = time.monotonic() - started
    wait_for_publishes(slack, "U0ALICE", 2)
    assert outcome.changed is True
    assert elapsed < 1.0


def test_burst_of_changes_coalesced(running_app, two_open, slack):
    open_home(running_app)
    wait_for_publishes(slack, "U0ALICE", 1)
    home = running_app.services.home
    threads = [threading.Thread(target=home.request_refresh, args=(two_open[0],)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_publishes(slack, "U0ALICE", 2)
    time.sleep(home.refresh_delay_seconds + 0.5)
    assert len(publishes_for(slack, "U0ALICE")) == 2


def test_home_refreshed_after_digest_command(running_app, database, tmp_path, slack):
    open_home(running_app)
    wait_for_publishes(slack, "U0ALICE", 1)
    import_rows(database, tmp_path, [row("new@birch.example", "INV-9")])
    running_app.client.command("digest", user="U0ALICE")
    refreshed = wait_for_publishes(slack, "U0ALICE", 2)[-1]
    assert "new@birch.example" in view_text(refreshed)


# --- 30-day counts --------------------------------------------------------------


def test_thirty_day_counts(database, tmp_path):
    import_rows(database, tmp_path, [row(f"u{n}@birch.example", f"INV-{n}") for n in range(4)])
    ids = bounce_ids(database)
    with database.session() as session:
        # Imported 40 days ago and closed 10 days ago: resolved in the window, not new in it.
        session.execute(update(Bounce).where(Bounce.id == ids[0]).values(
            created_at=NOW - timedelta(days=40), state=lifecycle.RESOLVED, state_changed_at=NOW - timedelta(days=10)))
        session.execute(update(Bounce).where(Bounce.id == ids[1]).values(
            created_at=NOW - timedelta(days=2), state=lifecycle.RESENT,
            state_changed_at=NOW - timedelta(days=2) + timedelta(hours=3)))
        # Closed before the window: not counted as resolved.
        session.execute(update(Bounce).where(Bounce.id == ids[2]).values(
            created_at=NOW - timedelta(days=90), state=lifecycle.DISMISSED, state_changed_at=NOW - timedelta(days=60)))
        # Claimed, not closed: not resolved.
        session.execute(update(Bounce).where(Bounce.id == ids[3]).values(
            created_at=NOW - timedelta(days=1), state=lifecycle.CLAIMED, state_changed_at=NOW))
    view = HomeService(database, None, clock=lambda: NOW).build_view()
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "2 new bounces · 2 resolved" in text
    assert "median time to resolve: 15 days 1 hour" in text


def test_median_time_to_resolve():
    pairs = [(NOW, NOW + timedelta(hours=hours)) for hours in (1, 3, 10)]
    assert median_time_to_resolve(pairs) == timedelta(hours=3)


def test_median_of_nothing_is_none():
    assert median_time_to_resolve([]) is None


@pytest.mark.parametrize("duration, text", [(timedelta(seconds=20), "under a minute"),
                                            (timedelta(minutes=35), "35 minutes"),
                                            (timedelta(days=2, hours=4, minutes=5), "2 days 4 hours"),
                                            (timedelta(days=1), "1 day")])
def test_duration_text(duration, text):
    assert duration_text(duration) == text


# --- pure rendering -------------------------------------------------------------


def home_item(n: int, reason: str) -> HomeItem:
    return HomeItem(n, f"user{n}@firm.example", reason, lifecycle.OPEN, NOW.date(), 3, (f"INV-{n}",), None)


def home_data(sizes: dict[str, int]) -> HomeData:
    groups = tuple(HomeGroup(reason, size, tuple(home_item(n, reason) for n in range(size)))
                   for reason, size in sizes.items())
    return HomeData(groups, HomeStats(30, 0, 0, None), None, NOW)


def test_allocation_shares_room_between_reasons():
    data = home_data({reasons.ISP_BLOCK: 3, reasons.HARD_BOUNCE: 60, reasons.OTHER: 60})
    assert allocate_items(data.groups, 40) == [3, 19, 18]


def test_render_home_every_reason_shown_when_crowded():
    data = home_data({key: 40 for key in reasons.REASON_ORDER})
    text = json.dumps(render_home(data)["blocks"], ensure_ascii=False)
    for key in reasons.REASON_ORDER:
        assert f"*{reasons.get(key).title}* · 40 open" in text


def test_render_home_block_limit_with_many_reasons():
    data = home_data({key: 45 for key in reasons.REASON_ORDER})
    assert len(render_home(data)["blocks"]) <= MAX_VIEW_BLOCKS


def test_render_home_escapes_addresses():
    item = HomeItem(1, "<!channel>@x.example", reasons.OTHER, lifecycle.OPEN, NOW.date(), 0, ("<b>",), None)
    data = HomeData((HomeGroup(reasons.OTHER, 1, (item,)),), HomeStats(30, 0, 0, None), None, NOW)
    text = json.dumps(render_home(data)["blocks"])
    assert "<!channel>" not in text
    assert "&lt;b&gt;" in text

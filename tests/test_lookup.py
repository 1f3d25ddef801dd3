"""The slash command's parsing, queries and rendering, called in-process on a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import actions, lifecycle, lookup, reasons
from bot.importer import import_report
from bot.lookup import (
    ADDRESS,
    DIGEST,
    DOCUMENT,
    DOMAIN,
    HELP,
    INVALID_ADDRESS,
    OPEN,
    UNRECOGNISED,
    LookupService,
    Query,
    decode_more_value,
    derive_status,
    encode_more_value,
    parse_query,
)
from bot.lookup_render import (
    ACTIVE,
    CORRECTED,
    NO_HISTORY,
    OPEN_BOUNCES,
    REACTIVATED,
    REACTIVATION_REQUESTED,
    WAITING,
)
from bot.render import MAX_BLOCKS
from bot.services import build_services
from storage import lookup_store
from storage.lookup_store import StateCount
from storage.models import Bounce, Recipient
from tests.helpers import row, write_csv
from tests.standins.slack_api import find_block_errors

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parent.parent


def import_rows(database, tmp_path, rows, name="report.csv"):
    return import_report(database, write_csv(tmp_path / name, rows))


def blocks_text(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def more_values(message) -> list[str]:
    return [element["value"] for block in message.blocks if block["type"] == "actions"
            for element in block["elements"] if element["action_id"] == actions.LOOKUP_MORE]


@pytest.fixture
def service(database) -> LookupService:
    return LookupService(database, "/bounces", timezone.utc, clock=lambda: NOW)


# --- parsing ------------------------------------------------------------------


ADDRESS_FORMS = [
    "jane.doe@birch.example",
    "  jane.doe@birch.example  ",
    "Jane.Doe@Birch.EXAMPLE",
    "<jane.doe@birch.example>",
    "&lt;jane.doe@birch.example&gt;",
    "<mailto:jane.doe@birch.example|jane.doe@birch.example>",
    "<mailto:Jane.Doe@Birch.example|Jane.Doe@Birch.example>",
    "Jane Doe <jane.doe@birch.example>",
    '"Doe, Jane" <jane.doe@birch.example>',
    "Jane Doe &lt;<mailto:jane.doe@birch.example|jane.doe@birch.example>&gt;",
    "mailto:jane.doe@birch.example",
]


@pytest.mark.parametrize("text", ADDRESS_FORMS)
def test_parse_address_forms(text):
    query = parse_query(text)
    assert query.kind == ADDRESS
    assert query.value == "jane.doe@birch.example"


@pytest.mark.parametrize("text", ["@birch.example", "birch.example", " Birch.EXAMPLE ", "@BIRCH.example",
                                  "<http://birch.example|birch.example>", "https://birch.example/"])
def test_parse_domain_forms(text):
    query = parse_query(text)
    assert query.kind == DOMAIN
    assert query.value == "birch.example"


@pytest.mark.parametrize("text, key", [("INV-1042", "INV-1042"), ("inv-1042", "INV-1042"), ("INV 1042", "INV1042"),
                                       ("STMT-2026-11-0042", "STMT-2026-11-0042"), ("10421", "10421")])
def test_parse_document_numbers(text, key):
    query = parse_query(text)
    assert query.kind == DOCUMENT
    assert query.value == key


@pytest.mark.parametrize("text, kind", [("", HELP), ("   ", HELP), ("help", HELP), ("HELP", HELP), ("?", HELP),
                                        ("open", OPEN), ("Open", OPEN), ("digest", DIGEST), (None, HELP)])
def test_parse_keywords(text, kind):
    assert parse_query(text).kind == kind


@pytest.mark.parametrize("text", ["hello there", "what is going on with this one", "!!!", "open please"])
def test_parse_unrecognised_input(text):
    assert parse_query(text).kind == UNRECOGNISED


@pytest.mark.parametrize("text, problem", [("jane@", "no domain after @"), ("a@@birch.example", "more than one @ sign"),
                                           ("jane@birch", 'the domain "birch" is missing its ending, such as ".com"')])
def test_parse_invalid_address_explained(text, problem):
    query = parse_query(text)
    assert query.kind == INVALID_ADDRESS
    assert query.problem == problem


def test_more_value_round_trip():
    query = Query(DOMAIN, "birch.example", "@birch.example")
    decoded, page = decode_more_value(encode_more_value(query, 3, 75))
    assert (decoded.kind, decoded.value, decoded.typed) == (query.kind, query.value, query.typed)
    assert page == 3
    assert decoded.previous_total == 75


def test_more_value_fits_button_limit():
    query = Query(ADDRESS, "a" * 64 + "@" + "b" * 250 + ".example", "x" * 500)
    assert len(encode_more_value(query, 99_999, 10**9)) <= 2000


@pytest.mark.parametrize("value", ["not json", "[1, 2]", '{"k": "drop", "v": "", "p": 2}',
                                   '{"k": "open", "v": "", "p": 0}', '{"k": "open", "v": "", "p": true}',
                                   '{"k": "open", "v": "", "p": "2"}', '{"k": "address", "v": 7, "p": 2}'])
def test_more_value_garbage_rejected(value):
    with pytest.raises(ValueError):
        decode_more_value(value)


# --- status -------------------------------------------------------------------


def counts(**by_state: int) -> dict[str, StateCount]:
    return {state: StateCount(count, NOW.date()) for state, count in by_state.items()}


def recipient(**fields) -> Recipient:
    return Recipient(address="jane@birch.example", domain="birch.example", **fields)


HOUR = timedelta(hours=1)

STATUS_CASES = [
    ("no bounces", None, {}, NO_HISTORY),
    ("open", recipient(), counts(open=1, resolved=2), OPEN_BOUNCES),
    ("claimed counts as open", None, counts(claimed=1), OPEN_BOUNCES),
    ("only waiting", recipient(), counts(waiting=2, resolved=1), WAITING),
    ("waiting and open", recipient(), counts(waiting=1, open=1), OPEN_BOUNCES),
    ("all closed", recipient(), counts(resolved=1, resent=1, dismissed=1), ACTIVE),
    ("corrected wins", recipient(corrected_to="jane@birch2.example"), counts(address_corrected=1), CORRECTED),
    ("reactivation requested", recipient(reactivation_requested_at=NOW), counts(reactivation_requested=1),
     REACTIVATION_REQUESTED),
    ("reactivated, resend pending", recipient(reactivation_requested_at=NOW - HOUR, reactivated_at=NOW),
     counts(reactivated=1), REACTIVATED),
    ("reactivated and closed", recipient(reactivation_requested_at=NOW - HOUR, reactivated_at=NOW),
     counts(resent=1), REACTIVATED),
    ("requested again after reactivation", recipient(reactivation_requested_at=NOW, reactivated_at=NOW - HOUR),
     counts(reactivation_requested=1, resent=1), REACTIVATION_REQUESTED),
    ("reactivated but new open bounce", recipient(reactivation_requested_at=NOW - HOUR, reactivated_at=NOW),
     counts(open=1), OPEN_BOUNCES),
]


@pytest.mark.parametrize("case, stored, by_state, expected", STATUS_CASES, ids=[case[0] for case in STATUS_CASES])
def test_derive_status(case, stored, by_state, expected):
    assert derive_status(stored, by_state).key == expected


def test_status_counts_open_bounces():
    status = derive_status(recipient(corrected_to="jane@birch2.example"), counts(open=2, resolved=3))
    assert status.open_count == 2


# --- responses from the database ----------------------------------------------


def test_address_lists_documents_and_history(make_settings, database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch.example", "INV-1"), row("ap@birch.example", "INV-2")])
    services = build_services(make_settings(), database=database)
    services.digest.run(NOW)
    with database.session() as session:
        bounce_id = session.scalars(select(Bounce.id)).one()
    services.actions.apply(actions.CLAIM, bounce_id, "U0ALICE")
    services.actions.apply(actions.MARK_FIXED, bounce_id, "U0BOB")

    message = service.lookup_text("ap@birch.example")
    text = blocks_text(message)
    assert "`INV-1`" in text
    assert "`INV-2`" in text
    assert "<@U0ALICE> took it on" in text
    assert "<@U0BOB> marked it fixed" in text
    assert "https://firm.slack.com/archives/C0DIGEST/p" in text
    assert "Active: no open bounces" in text


def test_address_shows_correction(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch.example")])
    with database.session() as session:
        session.execute(update(Recipient).values(corrected_to="ap@birch-dental.example", corrected_by="U0CAROL",
                                                 corrected_at=NOW))
        session.execute(update(Bounce).values(state=lifecycle.ADDRESS_CORRECTED))
    text = blocks_text(service.lookup_text("ap@birch.example"))
    assert "Corrected to ap@birch-dental.example by <@U0CAROL>" in text


def test_address_pages_newest_first(database, tmp_path, service):
    days = [f"2026-11-{day:02d}" for day in range(1, 26)]
    import_rows(database, tmp_path, [row("ap@birch.example", f"INV-{day}", day=day) for day in days])

    first = service.lookup_text("ap@birch.example")
    query, page = decode_more_value(more_values(first)[0])
    third = service.lookup(query, 3)
    assert "Nov 25, 2026" in json.dumps(first.blocks[3])
    assert page == 2
    assert "Showing 21–25 of 25 bounces" in blocks_text(third)
    assert more_values(third) == []


def test_domain_counts_each_address(database, tmp_path, service):
    import_rows(database, tmp_path, [
        row("ap@birch.example", "INV-1"),
        row("ap@birch.example", "INV-2", day="2026-12-02"),
        row("owner@birch.example", "INV-3"),
        row("ap@other.example", "INV-4"),
    ])
    message = service.lookup_text("@birch.example")
    text = blocks_text(message)
    assert "2 addresses, 3 bounces, *3 open*" in text
    assert "*ap@birch.example* · 2 bounces, 2 open" in text
    assert "*owner@birch.example* · 1 bounce, 1 open" in text
    assert "other.example" not in text


def test_document_ignores_case_and_spaces(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch.example", "INV-1042"), row("owner@oak.example", "INV-1042"),
                                     row("ap@birch.example", "INV-1043", day="2026-12-02")])
    text = blocks_text(service.lookup_text("inv-1042"))
    assert "2 bounces carry this document" in text
    assert "ap@birch.example" in text
    assert "owner@oak.example" in text


def test_document_not_found_says_so(database, service):
    message = service.lookup_text("INV-9999")
    assert "No bounces are recorded for document `INV-9999`" in message.text


def test_open_groups_by_reason_oldest_first(database, tmp_path, service):
    import_rows(database, tmp_path, [
        row("new@hard.example", "INV-1", "Hard Bounce", day="2026-12-03"),
        row("old@hard.example", "INV-2", "Hard Bounce", day="2026-11-20"),
        row("isp@block.example", "INV-3", "ISP Block", day="2026-12-01"),
        row("done@hard.example", "INV-4", "Hard Bounce", day="2026-11-01"),
    ])
    with database.session() as session:
        session.execute(update(Bounce).where(Bounce.address == "done@hard.example").values(state=lifecycle.RESOLVED))
    text = blocks_text(service.lookup_text("open"))
    isp, old, new = text.index("isp@block.example"), text.index("old@hard.example"), text.index("new@hard.example")
    assert isp < old < new
    assert "(14 days old)" in text
    assert "done@hard.example" not in text
    assert "*3 open*" in text


def test_open_with_nothing_open(database, service):
    assert "No open bounces" in service.lookup_text("open").text


def test_unknown_address_suggests_same_local_part(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch-dental.example")])
    message = service.lookup_text("ap@birch.example")
    assert "No bounces are recorded for ap@birch.example" in message.text
    assert "`/bounces ap@birch-dental.example`" in blocks_text(message)


def test_unknown_address_suggests_domain_typo(database, tmp_path, service):
    import_rows(database, tmp_path, [row("jane@birchdental.example"), row("jane@unrelated.example")])
    text = blocks_text(service.lookup_text("jane@brichdental.example"))
    assert "`/bounces jane@birchdental.example`" in text
    assert text.index("jane@birchdental.example") < text.index("jane@unrelated.example")


def test_unknown_address_far_domain_not_suggested(database, tmp_path, service):
    import_rows(database, tmp_path, [row("owner@maple.example")])
    text = blocks_text(service.lookup_text("jane@birch.example"))
    assert "maple.example" not in text
    assert "Check the spelling" in text


def test_unknown_domain_suggests_close_domain(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birchdental.example")])
    text = blocks_text(service.lookup_text("@birchdentl.example"))
    assert "`/bounces @birchdental.example`" in text


def test_local_part_range_stops_at_at_sign(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@one.example"), row("ap.team@two.example"), row("apx@three.example")])
    text = blocks_text(service.lookup_text("ap@four.example"))
    assert "ap@one.example" in text
    assert "ap.team@two.example" not in text
    assert "apx@three.example" not in text


def test_domain_walk_bounded_to_neighbours(database, tmp_path):
    import_rows(database, tmp_path, [row(f"user{n}@d{d:02d}.example", f"INV-{d}-{n}") for d in range(20) for n in range(3)])
    with database.session() as session:
        found = lookup_store.domains_near(session, "d10x.example", 3, 0, 100)
    assert sorted(found) == ["d08.example", "d09.example", "d10.example", "d11.example", "d12.example",
                             "d13.example"]


def test_untrusted_text_escaped(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch.example", "INV-<!channel>", client="<!here> & Co")])
    text = blocks_text(service.lookup_text("ap@birch.example"))
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "&lt;!here&gt; &amp; Co" in text


@pytest.mark.parametrize("text", ["help", "hello there", "jane@", "open", "ap@birch.example", "@birch.example",
                                  "INV-1", "nobody@nowhere.example"])
def test_every_response_valid_block_kit(database, tmp_path, service, text):
    import_rows(database, tmp_path, [row("ap@birch.example", "INV-1")])
    message = service.lookup_text(text)
    assert find_block_errors(message.blocks, MAX_BLOCKS) == []
    assert message.text


def test_long_open_list_pages_within_block_limit(database, tmp_path, service):
    reason_texts = ["Hard Bounce", "ISP Block", "Soft Bounce", "Ingested Invoice Does Not Exist", "Mailbox gone"]
    import_rows(database, tmp_path, [row(f"user{n}@firm{n}.example", f"INV-{n}", reason_texts[n % 5])
                                     for n in range(70)])
    first = service.lookup_text("open")
    query, _ = decode_more_value(more_values(first)[0])
    pages = [first, service.lookup(query, 2), service.lookup(query, 3)]
    shown = sum(blocks_text(page).count("@firm") for page in pages)
    assert all(len(page.blocks) <= MAX_BLOCKS for page in pages)
    assert shown == 70
    assert more_values(pages[2]) == []


def test_page_past_end_says_so(database, tmp_path, service):
    import_rows(database, tmp_path, [row("ap@birch.example")])
    text = blocks_text(service.lookup(Query(ADDRESS, "ap@birch.example"), 5))
    assert "past the end of the list" in text


def test_reason_from_newer_version_listed_last(database, tmp_path, service):
    import_rows(database, tmp_path, [row("a@one.example", "INV-1", "Soft Bounce"), row("b@two.example", "INV-2")])
    with database.session() as session:
        session.execute(update(Bounce).where(Bounce.address == "a@one.example").values(reason="future_reason"))
    text = blocks_text(service.lookup_text("open"))
    assert text.index("b@two.example") < text.index("a@one.example")


# --- benchmark smoke run --------------------------------------------------------


def test_lookup_bench_smoke_run(tmp_path):
    results = tmp_path / "RESULTS.md"
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "lookup_bench.py"), "--rows", "2000", "--repetitions", "5",
         "--data-dir", str(tmp_path / "data"), "--results", str(results)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "ratio" in completed.stdout
    assert "lookup_bench.py --rows 2000" in results.read_text()


def test_module_constants_keep_pages_under_limit():
    # One block per item plus at most 11 for headings, group titles and the footer.
    assert max(lookup.PAGE_SIZES.values()) + 11 <= MAX_BLOCKS
    assert len(reasons.REASON_ORDER) <= 5

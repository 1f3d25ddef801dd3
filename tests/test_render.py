import json
from datetime import date, datetime, timezone

import pytest

from bot import actions, lifecycle, reasons
from bot.mrkdwn import escape, truncate
from bot.render import (
    MAX_BLOCKS,
    ActionView,
    BounceView,
    DocumentView,
    RenderContext,
    fit_blocks,
    render_bounce,
)
from tests.standins.slack_api import find_block_errors

CONTEXT = RenderContext(support_email="support@aiwyn.ai", firm_name="Hale & Partners CPA")


def make_view(**overrides) -> BounceView:
    values = dict(
        id=7,
        address="ap@birchdental.example",
        reason=reasons.HARD_BOUNCE,
        bounced_on=date(2026, 12, 3),
        state=lifecycle.OPEN,
        documents=(DocumentView("INV-10421", "Birch Dental LLC", "ap@birchdental.example", "Hard Bounce",
                                "550 5.1.1", "user unknown"),),
    )
    values.update(overrides)
    return BounceView(**values)


def all_text(blocks) -> str:
    return json.dumps(blocks)


def test_escape_control_characters():
    assert escape("<!channel> & <https://example.com|click>") == "&lt;!channel&gt; &amp; &lt;https://example.com|click&gt;"


def test_truncate_adds_marker():
    assert truncate("x" * 100, 50).endswith("[truncated]")


def test_truncate_respects_limit():
    assert len(truncate("x" * 100, 50)) == 50


def test_truncate_does_not_split_entity():
    cut = truncate("a" * 30 + "&amp;" + "b" * 30, 46)
    assert "&am" not in cut.replace("&amp;", "")


def test_details_cannot_ping_or_link():
    document = DocumentView("INV-1", "<!here> Client", "x@y.example", "Hard Bounce", "550",
                            "<!channel> see <https://example.com|click> <@U0BOSS>")
    message = render_bounce(make_view(documents=(document,)), CONTEXT)
    text = all_text(message.blocks) + message.text
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "<https://example.com" not in text
    assert "<@U0BOSS>" not in text
    assert "&lt;!channel&gt;" in text


def test_fallback_text_is_escaped():
    view = make_view(address="a<b>@x.example")
    assert "<" not in render_bounce(view, CONTEXT).text


def test_message_shows_facts():
    text = all_text(render_bounce(make_view(), CONTEXT).blocks)
    for fact in ("ap@birchdental.example", "Birch Dental LLC", "INV-10421", "Dec 3, 2026", "550 5.1.1", "user unknown"):
        assert fact in text


def test_message_shows_guidance_with_support_address():
    text = all_text(render_bounce(make_view(), CONTEXT).blocks)
    assert "support@aiwyn.ai" in text


def test_isp_block_message_lists_ip_ranges():
    text = all_text(render_bounce(make_view(reason=reasons.ISP_BLOCK), CONTEXT).blocks)
    assert "104.245.209.192/26" in text


def test_buttons_carry_only_bounce_id():
    blocks = render_bounce(make_view(), CONTEXT).blocks
    buttons = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    assert buttons
    assert {button["value"] for button in buttons} == {"7"}


def test_closed_bounce_offers_only_reopen_and_note():
    view = make_view(state=lifecycle.RESOLVED, state_changed_by="U0ALICE",
                     state_changed_at=datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc))
    blocks = render_bounce(view, CONTEXT).blocks
    ids = [element["action_id"] for block in blocks if block["type"] == "actions" for element in block["elements"]]
    assert ids == [actions.ADD_NOTE, actions.REOPEN] or ids == [actions.REOPEN, actions.ADD_NOTE]


def test_resolved_message_names_who_and_when():
    at = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)
    view = make_view(state=lifecycle.RESOLVED, state_changed_by="U0ALICE", state_changed_at=at,
                     history=(ActionView(actions.MARK_FIXED, "U0ALICE", at),))
    text = all_text(render_bounce(view, CONTEXT).blocks)
    assert "<@U0ALICE>" in text
    assert f"<!date^{int(at.timestamp())}^" in text


def test_many_documents_truncated_with_marker():
    documents = tuple(DocumentView(f"INV-{n:05d}", "Client " * 5, "a@b.example", "Soft Bounce", "452", "full")
                      for n in range(400))
    message = render_bounce(make_view(documents=documents), CONTEXT)
    assert "more documents" in all_text(message.blocks)


def test_many_documents_within_slack_limits():
    documents = tuple(DocumentView(f"INV-{n:05d}", "Client " * 5, "a@b.example", "Soft Bounce", "452", "x" * 5000)
                      for n in range(400))
    message = render_bounce(make_view(documents=documents), CONTEXT)
    assert find_block_errors(message.blocks, MAX_BLOCKS) == []


def test_huge_details_within_section_limit():
    document = DocumentView("INV-1", "C", "a@b.example", "Hard Bounce", "550", "<" * 10000)
    message = render_bounce(make_view(documents=(document,)), CONTEXT)
    assert find_block_errors(message.blocks, MAX_BLOCKS) == []


def test_fit_blocks_keeps_limit_and_marker():
    blocks = [{"type": "divider"}] * 80 + [{"type": "actions", "elements": []}]
    fitted = fit_blocks(blocks, 50, keep_last=1)
    assert len(fitted) == 50
    assert fitted[-1]["type"] == "actions"
    assert "cut" in json.dumps(fitted[-2])


@pytest.mark.parametrize("key", reasons.REASON_ORDER)
def test_every_reason_renders_valid_blocks(key):
    message = render_bounce(make_view(reason=key), CONTEXT)
    assert find_block_errors(message.blocks, MAX_BLOCKS) == []


def test_bounced_again_links_previous():
    view = make_view(previous_bounce_id=3, previous_permalink="https://firm.slack.com/archives/C0DIGEST/p1")
    text = all_text(render_bounce(view, CONTEXT).blocks)
    assert "Bounced again after resend" in text
    assert "https://firm.slack.com/archives/C0DIGEST/p1" in text

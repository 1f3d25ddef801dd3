"""Malformed, unsigned or tampered requests to /slack/events."""

import json
import time
from urllib.parse import urlencode

import httpx
import pytest

from bot import actions
from tests.bounce_helpers import (
    POSTED_AUDIT,
    audit_actions,
    direct_messages_to,
    ephemerals_for,
    input_values,
    post_bounce,
    stored,
)
from tests.conftest import SIGNING_SECRET, wait_for
from tests.standins.signed_requests import SignedSlackClient

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("body, content_type", [
    (b"payload=notjson", FORM),
    (urlencode({"payload": "[]"}).encode(), FORM),
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
])
def test_unsigned_malformed_body_gets_401(running_app, body, content_type):
    response = httpx.post(running_app.url + "/slack/events", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 401


def test_non_numeric_timestamp_gets_401(running_app):
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    response = httpx.post(running_app.url + "/slack/events", content=b"payload=%7B%7D", headers=headers)
    assert response.status_code == 401


def click_payload(**overrides):
    payload = {"type": "block_actions", "user": {"id": "U0ALICE"}, "team": {"id": "T0FIRM"}, "trigger_id": "1.a",
               "channel": {"id": "C0DIGEST"}, "container": {"channel_id": "C0DIGEST"}}
    payload.update(overrides)
    return payload


@pytest.mark.parametrize("payload", [
    click_payload(actions={"action_id": actions.MARK_FIXED, "value": "1"}),
    click_payload(actions=[]),
    click_payload(actions=["bounce.mark_fixed"]),
    {"type": "view_submission", "user": {"id": "U0ALICE"}, "view": {"callback_id": actions.MODAL_NOTE}},
])
def test_misshapen_signed_payload_gets_4xx(running_app, payload):
    client = SignedSlackClient(running_app.url, SIGNING_SECRET)
    try:
        response = client.post_payload(payload)
    finally:
        client.close()
    assert response.status_code < 500


@pytest.mark.parametrize("value", ["\u00b2", "9" * 25, "9" * 5000])
def test_unusable_button_value_explained(running_app, slack, value):
    response = running_app.client.click(actions.MARK_FIXED, value, user="U0ALICE")

    assert response.status_code == 200
    texts = wait_for(lambda: ephemerals_for(slack, "U0ALICE"))
    assert "no valid bounce id" in texts[0]


def test_tampered_metadata_id_gets_no_500(running_app, slack):
    metadata = json.dumps({"bounce_id": 10**30, "action": actions.CORRECT_ADDRESS})
    values = input_values("new_address", "new_address_input", "new@birch.example")

    response = running_app.client.submit_view(actions.MODAL_CORRECT_ADDRESS, values, private_metadata=metadata)

    assert response.status_code == 200
    wait_for(lambda: ephemerals_for(slack, "U0ALICE") or direct_messages_to(slack, "U0ALICE"))


def test_click_without_user_changes_nothing(running_app, database, tmp_path):
    posted = post_bounce(running_app, database, tmp_path)
    payload = click_payload(actions=[{"action_id": actions.CLAIM, "value": str(posted.id)}])
    del payload["user"]

    running_app.client.post_payload(payload)
    time.sleep(0.5)

    assert stored(database, posted.id).state == "open"
    assert audit_actions(database, posted.id) == POSTED_AUDIT

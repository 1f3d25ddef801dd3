"""Tests for the Slack Web API stand-in, driven by a real slack_sdk WebClient."""

import json
import time

import pytest
from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.standins.slack_api import SlackStandIn

CHANNEL = "C0DIGEST"
FIRST_TS = "1764835200.000100"


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
def standin(monkeypatch):
    # slack_sdk and urllib send requests through a proxy named in these variables,
    # so clear them to keep every request on 127.0.0.1.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def client(standin):
    return WebClient(token=standin.token, base_url=standin.base_url, timeout=10)


def test_post_update_permalink(standin, client):
    post = client.chat_postMessage(channel=CHANNEL, text="3 bounces today")
    assert post["ok"] is True
    assert post["channel"] == CHANNEL
    assert post["ts"] == FIRST_TS
    assert post["message"]["text"] == "3 bounces today"

    blocks = [section("*4 bounces today*")]
    update = client.chat_update(channel=CHANNEL, ts=post["ts"], text="4 bounces today", blocks=blocks)
    assert update["ok"] is True
    assert update["ts"] == post["ts"]

    messages = standin.messages
    assert list(messages) == [(CHANNEL, FIRST_TS)]
    assert messages[(CHANNEL, FIRST_TS)]["text"] == "4 bounces today"
    assert messages[(CHANNEL, FIRST_TS)]["blocks"] == blocks

    permalink = client.chat_getPermalink(channel=CHANNEL, message_ts=post["ts"])
    assert permalink["permalink"] == "https://firm.slack.com/archives/C0DIGEST/p1764835200000100"

    assert len(standin.ok_calls_to("chat.update")) == 1
    assert standin.calls_to("chat.update")[0].args["blocks"] == blocks


def test_post_ts_unique_and_increasing(client):
    first = client.chat_postMessage(channel=CHANNEL, text="one")["ts"]
    second = client.chat_postMessage(channel=CHANNEL, text="two")["ts"]

    assert second != first
    assert float(second) > float(first)


def test_wrong_token_rejected(standin):
    client = WebClient(token="xoxb-wrong-token", base_url=standin.base_url, timeout=10)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=CHANNEL, text="hello")

    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "invalid_auth"
    assert standin.messages == {}


def test_missing_token_rejected(standin):
    client = WebClient(base_url=standin.base_url, timeout=10)

    with pytest.raises(SlackApiError) as caught:
        client.auth_test()

    assert caught.value.response["error"] == "not_authed"


def test_unknown_channel_rejected(standin, client):
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0UNKNOWN", text="hello")

    assert caught.value.response["error"] == "channel_not_found"
    assert standin.messages == {}


def test_unknown_method_rejected(client):
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMessages", json={"channel": CHANNEL, "text": "hello"})

    assert caught.value.response["error"] == "unknown_method"


def test_51_blocks_rejected(standin, client):
    blocks = [section(f"bounce {index}") for index in range(51)]

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=CHANNEL, text="digest", blocks=blocks)

    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert "at most 50 blocks" in response["response_metadata"]["messages"][0]
    assert standin.messages == {}

    accepted = client.chat_postMessage(channel=CHANNEL, text="digest", blocks=blocks[:50])
    assert accepted["ok"] is True


def test_section_text_3001_chars_rejected(client):
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=CHANNEL, text="digest", blocks=[section("x" * 3001)])

    messages = caught.value.response["response_metadata"]["messages"]
    assert caught.value.response["error"] == "invalid_blocks"
    assert "at most 3000 characters" in messages[0]
    assert "[json-pointer:/blocks/0/text/text]" in messages[0]

    accepted = client.chat_postMessage(channel=CHANNEL, text="digest", blocks=[section("x" * 3000)])
    assert accepted["ok"] is True


def test_form_blocks_decoded(standin, client):
    blocks = [section("sent as a form field")]

    response = client.api_call(
        "chat.postMessage", data={"channel": CHANNEL, "text": "digest", "blocks": json.dumps(blocks)}
    )

    assert response["ok"] is True
    assert standin.calls_to("chat.postMessage")[0].args["blocks"] == blocks
    assert standin.messages[(CHANNEL, response["ts"])]["blocks"] == blocks


def test_rate_limit_429_with_retry_after(standin, client):
    standin.fail_next("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=CHANNEL, text="hello")

    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert standin.calls_to("chat.postMessage")[0].status == 429

    # The fault applies to one call only.
    assert client.chat_postMessage(channel=CHANNEL, text="hello")["ok"] is True


def test_rate_limit_retry_handler_retries(standin):
    client = WebClient(
        token=standin.token,
        base_url=standin.base_url,
        timeout=10,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    standin.fail_next("chat.postMessage", retry_after=1)

    started = time.monotonic()
    response = client.chat_postMessage(channel=CHANNEL, text="hello")
    elapsed = time.monotonic() - started

    assert response["ok"] is True
    assert [call.status for call in standin.calls_to("chat.postMessage")] == [429, 200]
    assert elapsed >= 1.0
    assert len(standin.messages) == 1


def test_injected_error_returns_http_200(standin, client):
    standin.fail_next("chat.update", error="cant_update_message")
    post = client.chat_postMessage(channel=CHANNEL, text="hello")

    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel=CHANNEL, ts=post["ts"], text="changed")

    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "cant_update_message"
    assert standin.messages[(CHANNEL, post["ts"])]["text"] == "hello"


def test_thread_reply_missing_parent(standin, client):
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts="1764835299.000100")

    assert caught.value.response["error"] == "thread_not_found"
    assert standin.messages == {}


def test_thread_reply_listed_under_parent(standin, client):
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")
    reply = client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])

    replies = standin.thread_replies(CHANNEL, parent["ts"])
    assert [message["ts"] for message in replies] == [reply["ts"]]
    assert replies[0]["thread_ts"] == parent["ts"]


def test_chat_update_text_too_long(standin, client):
    post = client.chat_postMessage(channel=CHANNEL, text="hello")

    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel=CHANNEL, ts=post["ts"], text="x" * 4001)

    assert caught.value.response["error"] == "msg_too_long"
    assert standin.messages[(CHANNEL, post["ts"])]["text"] == "hello"


def test_views_publish_101_blocks_rejected(standin, client):
    view = {"type": "home", "blocks": [section(f"row {index}") for index in range(101)]}

    with pytest.raises(SlackApiError) as caught:
        client.views_publish(user_id="U0ALICE", view=view)

    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert "at most 100 blocks" in response["response_metadata"]["messages"][0]
    assert standin.published_views == {}

    view["blocks"] = view["blocks"][:100]
    published = client.views_publish(user_id="U0ALICE", view=view)
    assert standin.published_views["U0ALICE"]["id"] == published["view"]["id"]


def test_response_url_records_post(standin):
    webhook = WebhookClient(standin.response_url("digest"), timeout=10)

    result = webhook.send(text="Done", replace_original=True)

    assert result.status_code == 200
    assert standin.responses == [
        {"name": "digest", "body": {"text": "Done", "replace_original": True}, "status": 200}
    ]

"""Local stand-in for the Slack Web API, used by the test suite.

`SlackStandIn` serves the Web API methods that Bounce Desk calls from a real HTTP
server on 127.0.0.1, so tests can point slack_sdk's `WebClient(base_url=...)` at
it. The server checks tokens, channels, users and Block Kit limits, records every
call, keeps the posted messages and views, and can inject errors, rate limits and
delays. It also serves loopback response URLs (see `SlackStandIn.response_url`).

The Block Kit and view limits below are the ones slack_sdk 3.47 also checks in
`slack_sdk.models.blocks` and `slack_sdk.models.views`.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

logger = logging.getLogger(__name__)

# Identity of the bot that the stand-in reports in auth.test and in posted messages.
BOT_USER_ID = "U0BOUNCEDESK"
BOT_ID = "B0BOUNCEDESK"
APP_ID = "A0BOUNCEDESK"
WORKSPACE_URL = "https://firm.slack.com/"
BOT_SCOPES = "chat:write,channels:join,commands,users:read"

# Message timestamps start at 2025-12-04 08:00:00 UTC and grow by 100 microseconds.
FIRST_TS_SECONDS = 1764835200
TS_STEP_MICROSECONDS = 100

# Message limits. Slack truncates top-level text above MAX_MESSAGE_TEXT and
# returns the warning "message_truncated".
MAX_MESSAGE_TEXT = 40000
# NOTE: 4000 is an assumed limit for chat.update, not checked against Slack.
MAX_UPDATE_TEXT = 4000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

# Block Kit limits, in characters unless the name says items.
MAX_ID_LENGTH = 255  # block_id, action_id, callback_id and external_id
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS_ITEMS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS_ITEMS = 10
MAX_ACTIONS_ELEMENTS_ITEMS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_IMAGE_ALT_TEXT = 2000
MAX_IMAGE_TITLE = 2000
MAX_MARKDOWN_TEXT = 12000
MAX_VIEW_TITLE = 24  # also the limit for the submit and close buttons
MAX_PRIVATE_METADATA = 3000
MAX_VIEW_STACK = 3  # views in one modal stack, counting the root view

TEXT_OBJECT_TYPES = ("plain_text", "mrkdwn")

# Parameters that carry JSON. Form bodies send them as JSON-encoded strings.
JSON_PARAMS = ("blocks", "view", "attachments", "metadata")


@dataclass
class Call:
    """One request to a Web API method and the stand-in's response to it."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]


class ApiError(Exception):
    """A Web API error that the stand-in returns as `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


@dataclass
class _Fault:
    error: str
    retry_after: int


# ---------------------------------------------------------------------------
# Block Kit validation
#
# Each check returns Slack-style messages such as
# "[ERROR] must be at most 3000 characters [json-pointer:/blocks/0/text/text]".
# ---------------------------------------------------------------------------


def _error_message(problem: str, pointer: str) -> str:
    return f"[ERROR] {problem} [json-pointer:{pointer}]"


def _check_length(value: Any, max_length: int, pointer: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [_error_message("must be a string", pointer)]
    if len(value) > max_length:
        return [_error_message(f"must be at most {max_length} characters (got {len(value)})", pointer)]
    return []


def _check_text_object(
    value: Any, pointer: str, max_length: int, *, plain_text_only: bool = False, required: bool = True
) -> list[str]:
    """Check the type and length of a text object. `_check_nested` reports empty text."""
    if value is None:
        return [_error_message("missing required text object", pointer)] if required else []
    if not isinstance(value, dict):
        return [_error_message("must be a text object", pointer)]

    allowed_types = ("plain_text",) if plain_text_only else TEXT_OBJECT_TYPES
    if value.get("type") not in allowed_types:
        expected = " or ".join(allowed_types)
        return [_error_message(f"must be of type {expected} (got {value.get('type')!r})", f"{pointer}/type")]

    return _check_length(value.get("text"), max_length, f"{pointer}/text")


def _check_element_list(block: dict, pointer: str, max_items: int) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_error_message("must be a non-empty array", f"{pointer}/elements")]
    if len(elements) > max_items:
        return [_error_message(f"must contain at most {max_items} items (got {len(elements)})", f"{pointer}/elements")]
    return []


def _check_section(block: dict, pointer: str) -> list[str]:
    errors = []
    text = block.get("text")
    fields = block.get("fields")
    if text is None and fields is None:
        errors.append(_error_message("must provide either text or fields", pointer))

    errors += _check_text_object(text, f"{pointer}/text", MAX_SECTION_TEXT, required=False)

    if fields is not None:
        if not isinstance(fields, list):
            errors.append(_error_message("must be an array of text objects", f"{pointer}/fields"))
        else:
            if len(fields) > MAX_SECTION_FIELDS_ITEMS:
                problem = f"must contain at most {MAX_SECTION_FIELDS_ITEMS} items (got {len(fields)})"
                errors.append(_error_message(problem, f"{pointer}/fields"))
            for index, item in enumerate(fields):
                errors += _check_text_object(item, f"{pointer}/fields/{index}", MAX_SECTION_FIELD_TEXT)

    accessory = block.get("accessory")
    if accessory is not None and not isinstance(accessory, dict):
        errors.append(_error_message("must be an element object", f"{pointer}/accessory"))
    return errors


def _check_header(block: dict, pointer: str) -> list[str]:
    return _check_text_object(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_text_only=True)


def _check_context(block: dict, pointer: str) -> list[str]:
    return _check_element_list(block, pointer, MAX_CONTEXT_ELEMENTS_ITEMS)


def _check_actions(block: dict, pointer: str) -> list[str]:
    errors = _check_element_list(block, pointer, MAX_ACTIONS_ELEMENTS_ITEMS)
    elements = block.get("elements")
    if not isinstance(elements, list):
        return errors

    # Slack requires each action_id to be unique within its block.
    seen_action_ids: set[str] = set()
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            errors.append(_error_message("must be an element object", f"{pointer}/elements/{index}"))
            continue
        action_id = element.get("action_id")
        if not isinstance(action_id, str):
            continue
        if action_id in seen_action_ids:
            problem = f"duplicate action_id {action_id!r} in this block"
            errors.append(_error_message(problem, f"{pointer}/elements/{index}/action_id"))
        seen_action_ids.add(action_id)
    return errors


def _check_input(block: dict, pointer: str) -> list[str]:
    errors = _check_text_object(block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, plain_text_only=True)
    errors += _check_text_object(
        block.get("hint"), f"{pointer}/hint", MAX_INPUT_HINT, plain_text_only=True, required=False
    )
    if not isinstance(block.get("element"), dict):
        errors.append(_error_message("missing required element object", f"{pointer}/element"))
    return errors


def _check_rich_text(block: dict, pointer: str) -> list[str]:
    if not isinstance(block.get("elements"), list):
        return [_error_message("must be an array", f"{pointer}/elements")]
    return []


def _check_markdown(block: dict, pointer: str) -> list[str]:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        return [_error_message("must be a non-empty string", f"{pointer}/text")]
    return _check_length(text, MAX_MARKDOWN_TEXT, f"{pointer}/text")


def _check_image(block: dict, pointer: str) -> list[str]:
    errors = []
    if block.get("image_url") is None and block.get("slack_file") is None:
        errors.append(_error_message("must provide either image_url or slack_file", pointer))
    errors += _check_length(block.get("image_url"), MAX_URL, f"{pointer}/image_url")

    alt_text = block.get("alt_text")
    if not isinstance(alt_text, str) or not alt_text:
        errors.append(_error_message("must be a non-empty string", f"{pointer}/alt_text"))
    else:
        errors += _check_length(alt_text, MAX_IMAGE_ALT_TEXT, f"{pointer}/alt_text")

    errors += _check_text_object(
        block.get("title"), f"{pointer}/title", MAX_IMAGE_TITLE, plain_text_only=True, required=False
    )
    return errors


def _check_divider(block: dict, pointer: str) -> list[str]:
    return []


BLOCK_CHECKS: dict[str, Callable[[dict, str], list[str]]] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "actions": _check_actions,
    "divider": _check_divider,
    "input": _check_input,
    "rich_text": _check_rich_text,
    "markdown": _check_markdown,
    "image": _check_image,
}
BLOCK_TYPES = frozenset(BLOCK_CHECKS)


def _check_nested(value: Any, pointer: str) -> list[str]:
    """Check the rules that apply to objects at any depth inside a block.

    Every text object needs non-empty text, and every action_id must fit
    MAX_ID_LENGTH. Every button must keep its text, value and url within limits.
    """
    errors = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            errors += _check_nested(item, f"{pointer}/{index}")
        return errors
    if not isinstance(value, dict):
        return errors

    object_type = value.get("type")
    if object_type in TEXT_OBJECT_TYPES:
        text = value.get("text")
        if not isinstance(text, str) or not text:
            errors.append(_error_message("must be a non-empty string", f"{pointer}/text"))

    if "action_id" in value:
        errors += _check_length(value["action_id"], MAX_ID_LENGTH, f"{pointer}/action_id")

    if object_type == "button":
        errors += _check_text_object(value.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_text_only=True)
        errors += _check_length(value.get("value"), MAX_BUTTON_VALUE, f"{pointer}/value")
        errors += _check_length(value.get("url"), MAX_URL, f"{pointer}/url")

    for key, child in value.items():
        if isinstance(child, (dict, list)):
            errors += _check_nested(child, f"{pointer}/{key}")
    return errors


def find_block_errors(blocks: Any, max_blocks: int, pointer: str = "/blocks") -> list[str]:
    """Return a Slack-style error message for each Block Kit rule that `blocks` breaks.

    `pointer` is the JSON pointer of the block list in the request, such as
    "/blocks" for a message or "/view/blocks" for a view. An empty list means valid.
    """
    if not isinstance(blocks, list):
        return [_error_message("must be an array of blocks", pointer)]

    errors = []
    if len(blocks) > max_blocks:
        errors.append(_error_message(f"must contain at most {max_blocks} blocks (got {len(blocks)})", pointer))

    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        block_pointer = f"{pointer}/{index}"
        if not isinstance(block, dict):
            errors.append(_error_message("must be a block object", block_pointer))
            continue

        block_type = block.get("type")
        if block_type not in BLOCK_TYPES:
            expected = ", ".join(sorted(BLOCK_TYPES))
            problem = f"unknown block type {block_type!r}, expected one of: {expected}"
            errors.append(_error_message(problem, f"{block_pointer}/type"))
            continue

        block_id = block.get("block_id")
        errors += _check_length(block_id, MAX_ID_LENGTH, f"{block_pointer}/block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                errors.append(_error_message(f"duplicate block_id {block_id!r}", f"{block_pointer}/block_id"))
            seen_block_ids.add(block_id)

        errors += BLOCK_CHECKS[block_type](block, block_pointer)
        # rich_text elements use their own element types, so the nested checks skip them.
        if block_type != "rich_text":
            errors += _check_nested(block, block_pointer)
    return errors


def find_view_errors(view: dict, view_types: tuple[str, ...]) -> list[str]:
    """Return a Slack-style error message for each rule that the view's own fields break.

    The view's blocks are checked separately by `find_block_errors`.
    """
    errors = []
    view_type = view.get("type")
    if view_type not in view_types:
        expected = " or ".join(view_types)
        errors.append(_error_message(f"must be {expected} (got {view_type!r})", "/view/type"))

    if view_type == "modal":
        errors += _check_text_object(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_text_only=True)
        errors += _check_text_object(
            view.get("close"), "/view/close", MAX_VIEW_TITLE, plain_text_only=True, required=False
        )
        submit = view.get("submit")
        errors += _check_text_object(submit, "/view/submit", MAX_VIEW_TITLE, plain_text_only=True, required=False)

        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(block, dict) and block.get("type") == "input" for block in blocks
        )
        if has_input and submit is None:
            errors.append(_error_message("submit is required when the view has an input block", "/view/submit"))

    errors += _check_length(view.get("private_metadata"), MAX_PRIVATE_METADATA, "/view/private_metadata")
    errors += _check_length(view.get("callback_id"), MAX_ID_LENGTH, "/view/callback_id")
    errors += _check_length(view.get("external_id"), MAX_ID_LENGTH, "/view/external_id")
    if "blocks" not in view:
        errors.append(_error_message("missing required field: blocks", "/view/blocks"))
    return errors


# ---------------------------------------------------------------------------
# Request parsing
# ---------------------------------------------------------------------------


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            params[name] = payload
        else:
            params[name] = payload.decode("utf-8", errors="replace")
    return params


def parse_api_params(content_type: str, body: bytes, query: str) -> tuple[dict[str, Any], str | None]:
    """Decode the parameters of a Web API request.

    Returns the parameters without any `token` field, and the token sent in a form
    or multipart body. Query string parameters are merged in, and body parameters
    win. Fields in JSON_PARAMS that arrive as JSON-encoded strings are decoded when
    they parse. Raises ApiError with invalid_json, invalid_form_data or
    invalid_post_type for a body that cannot be read.
    """
    # Slack does not accept a token in the query string (from apps created after February
    # 2021) or in a JSON body, which needs the Authorization header. Sources: the
    # Slack changelog entries 2020-11-no-more-tokens-in-querystrings-for-newly-created-apps
    # and 2017-10-keeping-up-with-the-jsons.
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    params.pop("token", None)
    media_type = content_type.split(";", 1)[0].strip().lower()

    if not body:
        body_params: dict[str, Any] = {}
    elif media_type == "application/json":
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise ApiError("invalid_json", [f"[ERROR] request body is not valid JSON: {error}"]) from error
        if not isinstance(decoded, dict):
            raise ApiError("invalid_json", ["[ERROR] request body must be a JSON object"])
        # slack_sdk 3.47 leaves out None arguments, so a JSON null counts as a field not given.
        body_params = {key: value for key, value in decoded.items() if value is not None}
        body_params.pop("token", None)
    elif media_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        try:
            body_params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as error:
            raise ApiError("invalid_form_data", [f"[ERROR] form body cannot be parsed: {error}"]) from error
    elif media_type == "multipart/form-data":
        body_params = _parse_multipart(content_type, body)
    else:
        raise ApiError("invalid_post_type", [f"[ERROR] unsupported Content-Type {media_type!r}"])

    body_token = body_params.pop("token", None)
    params.update(body_params)
    for name in JSON_PARAMS:
        value = params.get(name)
        if isinstance(value, str):
            try:
                params[name] = json.loads(value)
            except ValueError:
                pass  # Handlers reject undecoded blocks and view values.
    return params, body_token if isinstance(body_token, str) else None


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


class SlackStandIn:
    """HTTP stand-in for the Slack Web API on 127.0.0.1, for tests.

    Point `slack_sdk.WebClient(token=..., base_url=standin.base_url)` at it. Like
    Slack, it responds to API errors with HTTP 200 and `{"ok": false, "error": ...}`,
    and to rate limiting with HTTP 429 and a Retry-After header. A user ID given as
    channel selects that user's direct message channel, whose ID here is "D" plus
    the user ID without its leading "U". Each trigger_id opens or pushes one view,
    and a second use fails with exchanged_trigger_id.

    NOTE: bot membership in channels is not enforced, so posting to a channel
    never fails with not_in_channel, even before conversations.join.

    All state is guarded by one lock. The recording properties (`calls`,
    `messages`, `published_views` and the others) return deep copies.
    """

    def __init__(
        self,
        token: str = "xoxb-test-token",
        channels: tuple[str, ...] = ("C0DIGEST",),
        users: tuple[str, ...] = ("U0ALICE", "U0BOB", "U0CAROL"),
        team_id: str = "T0FIRM",
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.channels = tuple(channels)
        self.users = tuple(users)
        self._dm_channels = {user: "D" + user[1:] for user in self.users}

        self._lock = threading.Lock()
        self._server: _StandInServer | None = None
        self._thread: threading.Thread | None = None

        self._calls: list[Call] = []
        self._responses: list[dict[str, Any]] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemeral_messages: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._published_views: dict[str, dict[str, Any]] = {}
        self._opened_views: list[dict[str, Any]] = []
        self._pushed_views: list[dict[str, Any]] = []
        self._modal_stack: list[str] = []
        self._used_trigger_ids: set[str] = set()
        self._joined_channels: set[str] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._ts_counter = 0
        self._view_counter = 0

        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
        }

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Start the server on a free port of 127.0.0.1 in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("SlackStandIn is already running; call stop() before start()")
        server = _StandInServer(("127.0.0.1", 0), _RequestHandler)
        server.standin = self
        # A short poll interval keeps stop() fast, because shutdown() waits for the next poll.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"slack-standin-{server.server_port}",
            daemon=True,
        )
        thread.start()
        self._server = server
        self._thread = thread
        logger.info("Slack stand-in started at %s", self.base_url)

    def stop(self) -> None:
        """Stop the server and wait for its thread. Does nothing if it is not running."""
        server, thread = self._server, self._thread
        if server is None:
            return
        base_url = self.base_url
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None
        logger.info("Slack stand-in at %s stopped", base_url)

    def __enter__(self) -> SlackStandIn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """TCP port of the running server."""
        if self._server is None:
            raise RuntimeError("SlackStandIn is not running; call start() first")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """Web API base URL for `WebClient(base_url=...)`, ending in "/api/"."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "x") -> str:
        """Return a loopback URL that accepts JSON POSTs like Slack's response_url.

        Each POST is recorded in `responses` under `name`.
        """
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- fault injection -----------------------------------------------------

    def fail_next(self, method: str, error: str = "ratelimited", retry_after: int = 1, count: int = 1) -> None:
        """Make the next `count` calls to `method` fail with `error`.

        "ratelimited" is sent as HTTP 429 with `Retry-After: retry_after` (seconds).
        Any other error is sent as HTTP 200 with `{"ok": false, "error": error}`.
        Failures queue behind those already set for the method.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if retry_after < 0:
            raise ValueError(f"retry_after must be zero or more seconds, got {retry_after}")
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(_Fault(error, retry_after) for _ in range(count))

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Delay the responses to the next `count` calls to `method` by `seconds`."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if seconds < 0:
            raise ValueError(f"seconds must be zero or more, got {seconds}")
        with self._lock:
            self._delays.setdefault(method, deque()).extend([seconds] * count)

    # -- recorded state ------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every Web API call received, in order, including rejected ones."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Return the calls to `method`, in order."""
        return [call for call in self.calls if call.method == method]

    def ok_calls_to(self, method: str) -> list[Call]:
        """Return the calls to `method` that succeeded, in order."""
        return [call for call in self.calls_to(method) if call.response.get("ok") is True]

    @property
    def responses(self) -> list[dict[str, Any]]:
        """POSTs to response URLs, each a dict with `name`, `body` and the HTTP `status` sent back."""
        with self._lock:
            return copy.deepcopy(self._responses)

    @property
    def messages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Current messages keyed by (channel, ts), including thread replies.

        Each message has `text`, `ts`, `user` and `bot_id`, plus `blocks` and
        `thread_ts` when set. `chat.update` replaces the message under its key.
        """
        with self._lock:
            return copy.deepcopy(self._messages)

    def thread_replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Return the replies in the thread of message `ts` in `channel`, oldest first."""
        with self._lock:
            replies = [
                message
                for (message_channel, _), message in self._messages.items()
                if message_channel == channel and message.get("thread_ts") == ts
            ]
            replies.sort(key=lambda message: _ts_sort_key(message["ts"]))
            return copy.deepcopy(replies)

    @property
    def ephemeral_messages(self) -> list[dict[str, Any]]:
        """Messages sent with chat.postEphemeral, each with `channel`, `user`, `ts`, `text` and `blocks`."""
        with self._lock:
            return copy.deepcopy(self._ephemeral_messages)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Current state of every opened, pushed or published view, keyed by view ID."""
        with self._lock:
            return copy.deepcopy(self._views)

    @property
    def published_views(self) -> dict[str, dict[str, Any]]:
        """Last home view published for each user ID."""
        with self._lock:
            return copy.deepcopy(self._published_views)

    @property
    def opened_views(self) -> list[dict[str, Any]]:
        """Views as returned by views.open, in order."""
        with self._lock:
            return copy.deepcopy(self._opened_views)

    @property
    def pushed_views(self) -> list[dict[str, Any]]:
        """Views as returned by views.push, in order."""
        with self._lock:
            return copy.deepcopy(self._pushed_views)

    # -- request handling (called from server threads) -----------------------

    def handle_api_request(
        self, method: str, content_type: str, body: bytes, query: str, authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Run one Web API request and return the HTTP status, JSON body and extra headers."""
        args: dict[str, Any] = {}
        headers: dict[str, str] = {}
        try:
            args, body_token = parse_api_params(content_type, body, query)
            token = _bearer_token(authorization) or body_token
            status, response, headers = self._answer(method, args, token)
        except ApiError as error:
            status, response = 200, _error_response(error)
        except Exception:
            logger.exception("Slack stand-in failed on %s with args %r", method, args)
            status, response = 500, {"ok": False, "error": "fatal_error"}

        with self._lock:
            self._calls.append(Call(method, copy.deepcopy(args), status, copy.deepcopy(response)))
        logger.debug("Slack stand-in %s -> HTTP %d %r", method, status, response)
        return status, response, headers

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}

        with self._lock:
            delays = self._delays.get(method)
            delay = delays.popleft() if delays else 0.0
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
        if delay:
            time.sleep(delay)

        if fault is not None:
            logger.debug("Slack stand-in injects %s into %s", fault.error, method)
            if fault.error == "ratelimited":
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
            return 200, {"ok": False, "error": fault.error}, {}

        if not token:
            raise ApiError("not_authed")
        if token != self.token:
            raise ApiError("invalid_auth")

        with self._lock:
            response = handler(args)
        return 200, response, {"X-OAuth-Scopes": BOT_SCOPES}

    def handle_response_url_post(self, name: str, content_type: str, body: bytes) -> tuple[int, str]:
        """Record one POST to a response URL and return the HTTP status and plain-text body.

        Like Slack's response URLs, it responds with "ok", or with HTTP 400 and the error name.
        """
        status, answer = 200, "ok"
        payload: Any = body.decode("utf-8", errors="replace")
        if content_type.split(";", 1)[0].strip().lower() == "application/json":
            try:
                payload = json.loads(body)
            except ValueError:
                pass  # `payload` stays the raw text and is rejected below.

        if not isinstance(payload, dict):
            status, answer = 400, "invalid_payload"
        else:
            blocks = payload.get("blocks")
            if isinstance(blocks, str):
                try:
                    blocks = payload["blocks"] = json.loads(blocks)
                except ValueError:
                    pass
            has_content = bool(payload.get("text") or blocks or payload.get("attachments"))
            if blocks is not None and find_block_errors(blocks, MAX_MESSAGE_BLOCKS):
                status, answer = 400, "invalid_blocks"
            elif not has_content and not payload.get("delete_original"):
                status, answer = 400, "no_text"

        with self._lock:
            self._responses.append({"name": name, "body": payload, "status": status})
        if status != 200:
            logger.debug("Slack stand-in rejected response URL %s post with %s", name, answer)
        return status, answer

    # -- shared helpers (called with the lock held) --------------------------

    def _next_ts(self) -> str:
        self._ts_counter += TS_STEP_MICROSECONDS
        seconds, microseconds = divmod(self._ts_counter, 1_000_000)
        return f"{FIRST_TS_SECONDS + seconds}.{microseconds:06d}"

    def _resolve_channel(self, channel: Any) -> str:
        """Return the conversation ID for a channel ID, DM channel ID or user ID."""
        if not isinstance(channel, str):
            raise ApiError("channel_not_found")
        if channel in self.channels or channel in self._dm_channels.values():
            return channel
        if channel in self._dm_channels:
            return self._dm_channels[channel]
        raise ApiError("channel_not_found")

    def _message_content(self, args: dict[str, Any], max_text: int | None) -> tuple[Any, Any, list[str]]:
        """Validate the text and blocks of a message and return (text, blocks, warnings).

        Text longer than `max_text` is truncated with a message_truncated warning.
        Pass None when the caller checks the text length itself.
        """
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            text = str(text)
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise ApiError("invalid_blocks_format", ["[ERROR] blocks must be a JSON array [json-pointer:/blocks]"])
            errors = find_block_errors(blocks, MAX_MESSAGE_BLOCKS)
            if errors:
                raise ApiError("invalid_blocks", errors)
        if not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")

        warnings = []
        if max_text is not None and text is not None and len(text) > max_text:
            text = text[:max_text]
            warnings.append("message_truncated")
        return text, blocks, warnings

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        message = self._messages.get((channel, ts)) if isinstance(ts, str) else None
        if message is None:
            raise ApiError("message_not_found")
        return message

    def _require_user(self, user_id: Any, error: str) -> str:
        if user_id not in self.users:
            raise ApiError(error)
        return user_id

    def _decode_view(
        self, args: dict[str, Any], view_types: tuple[str, ...], own_view_id: str | None = None
    ) -> dict[str, Any]:
        """Validate the `view` argument and return it.

        Raises invalid_arguments for the view's own fields, invalid_blocks for its
        blocks, and duplicate_external_id when a view other than `own_view_id`
        already uses its external_id.
        """
        # NOTE: Slack's views.* reference lists invalid_arguments and not
        # invalid_blocks, so Slack may report block errors in views as invalid_arguments.
        view = args.get("view")
        if view is None:
            raise ApiError("invalid_arguments", [_error_message("missing required field: view", "/view")])
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments", [_error_message("must be a JSON object", "/view")])
        errors = find_view_errors(view, view_types)
        if errors:
            raise ApiError("invalid_arguments", errors)
        errors = find_block_errors(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks")
        if errors:
            raise ApiError("invalid_blocks", errors)

        external_id = view.get("external_id")
        if external_id and any(
            stored_id != own_view_id and stored.get("external_id") == external_id
            for stored_id, stored in self._views.items()
        ):
            raise ApiError("duplicate_external_id")
        return view

    def _use_trigger_id(self, args: dict[str, Any]) -> None:
        trigger_id = args.get("trigger_id")
        if not trigger_id or not isinstance(trigger_id, str):
            raise ApiError("invalid_arguments", [_error_message("missing required field: trigger_id", "/trigger_id")])
        if trigger_id in self._used_trigger_ids:
            raise ApiError("exchanged_trigger_id")
        self._used_trigger_ids.add(trigger_id)

    def _store_view(
        self,
        view: dict[str, Any],
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> dict[str, Any]:
        """Store `view` under a new or existing view ID and return the stored view."""
        self._view_counter += 1
        view_id = view_id or f"V0VIEW{self._view_counter:04d}"
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{FIRST_TS_SECONDS + self._view_counter}.{self._view_counter:08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    # -- Web API methods (called with the lock held) -------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": WORKSPACE_URL,
            "team": "Firm",
            "user": "bouncedesk",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        text, blocks, warnings = self._message_content(args, MAX_MESSAGE_TEXT)

        thread_ts = args.get("thread_ts") or None
        parent = None
        if thread_ts is not None:
            parent = self._messages.get((channel, thread_ts))
            if parent is None:
                raise ApiError("thread_not_found")
            # A reply to a reply joins the thread of the parent message.
            thread_ts = parent.get("thread_ts", thread_ts)
            parent = self._messages[(channel, thread_ts)]

        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "text": text or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "ts": ts,
        }
        if blocks:
            message["blocks"] = blocks
        if args.get("attachments"):
            message["attachments"] = args["attachments"]
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = ts
        self._messages[(channel, ts)] = message

        response: dict[str, Any] = {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}
        _add_warnings(response, warnings)
        return response

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        old_message = self._find_message(channel, args.get("ts"))
        text, blocks, _ = self._message_content(args, max_text=None)
        if text is not None and len(text) > MAX_UPDATE_TEXT:
            raise ApiError("msg_too_long")

        # Fields left out keep their old value, and an empty blocks list removes the blocks.
        message = dict(old_message)
        if "text" in args:
            message["text"] = text or ""
        if "blocks" in args:
            if blocks:
                message["blocks"] = blocks
            else:
                message.pop("blocks", None)
        if "attachments" in args:
            message["attachments"] = args["attachments"]
        self._messages[(channel, message["ts"])] = message

        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        user = self._require_user(args.get("user"), "user_not_in_channel")
        text, blocks, warnings = self._message_content(args, MAX_MESSAGE_TEXT)

        ts = self._next_ts()
        self._ephemeral_messages.append(
            {
                "channel": channel,
                "user": user,
                "ts": ts,
                "text": text or "",
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
            }
        )
        response: dict[str, Any] = {"ok": True, "message_ts": ts}
        _add_warnings(response, warnings)
        return response

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        message = self._find_message(channel, args.get("message_ts"))
        permalink = f"{WORKSPACE_URL}archives/{channel}/p{message['ts'].replace('.', '')}"
        if "thread_ts" in message:
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": permalink}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._decode_view(args, ("modal",))
        self._use_trigger_id(args)
        stored = self._store_view(view)
        self._modal_stack = [stored["id"]]
        self._opened_views.append(copy.deepcopy(stored))
        return {"ok": True, "view": stored}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._decode_view(args, ("modal",))
        # NOTE: pushes go onto the stack of the modal opened last, because the
        # stand-in cannot tell which modal a trigger_id came from.
        if not self._modal_stack:
            raise ApiError("invalid_arguments", ["[ERROR] no modal is open to push onto; call views.open first"])
        if len(self._modal_stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        self._use_trigger_id(args)
        stored = self._store_view(view, root_view_id=self._modal_stack[0], previous_view_id=self._modal_stack[-1])
        self._modal_stack.append(stored["id"])
        self._pushed_views.append(copy.deepcopy(stored))
        return {"ok": True, "view": stored}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if view_id:
            current = self._views.get(view_id) if isinstance(view_id, str) else None
        elif external_id:
            current = next(
                (stored for stored in self._views.values() if stored["external_id"] == external_id), None
            )
        else:
            raise ApiError("invalid_arguments", ["[ERROR] either view_id or external_id is required"])
        if current is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")

        # The update keeps the view's type, and its external_id unless the new view sets one.
        view = self._decode_view(args, (current["type"],), own_view_id=current["id"])
        if not view.get("external_id"):
            view = {**view, "external_id": current["external_id"]}

        stored = self._store_view(
            view,
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        for user_id, home_view in self._published_views.items():
            if home_view["id"] == stored["id"]:
                self._published_views[user_id] = copy.deepcopy(stored)
        return {"ok": True, "view": stored}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require_user(args.get("user_id"), "user_not_found")
        current = self._published_views.get(user_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._decode_view(args, ("home",), own_view_id=current["id"] if current else None)

        # A user's home tab keeps its view ID across publishes.
        stored = self._store_view(view, view_id=current["id"] if current else None)
        self._published_views[user_id] = copy.deepcopy(stored)
        return {"ok": True, "view": stored}

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        if channel not in self.channels:
            raise ApiError("method_not_supported_for_channel_type")

        response: dict[str, Any] = {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),  # the stand-in has no channel names, so it uses the ID
                "is_channel": True,
                "is_private": False,
                "is_member": True,
            },
        }
        if channel in self._joined_channels:
            _add_warnings(response, ["already_in_channel"])
        self._joined_channels.add(channel)
        return response

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if user_id != BOT_USER_ID:
            self._require_user(user_id, "user_not_found")
        name = "bouncedesk" if user_id == BOT_USER_ID else user_id.lower()
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "real_name": name.title(),
                "deleted": False,
                "is_bot": user_id == BOT_USER_ID,
                "tz": "UTC",
                "tz_offset": 0,
                "profile": {"real_name": name.title(), "display_name": name},
            },
        }


def _ts_sort_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction or 0)


def _error_response(error: ApiError) -> dict[str, Any]:
    response: dict[str, Any] = {"ok": False, "error": error.error}
    if error.messages:
        response["response_metadata"] = {"messages": list(error.messages)}
    return response


def _add_warnings(response: dict[str, Any], warnings: list[str]) -> None:
    if warnings:
        response["warning"] = ",".join(warnings)
        response["response_metadata"] = {"warnings": list(warnings)}


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    standin: SlackStandIn


class _RequestHandler(BaseHTTPRequestHandler):
    server: _StandInServer

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        content_type = self.headers.get("Content-Type", "")
        standin = self.server.standin

        if url.path.startswith("/api/") and len(url.path) > len("/api/"):
            method = unquote(url.path[len("/api/"):])
            status, response, headers = standin.handle_api_request(
                method, content_type, body, url.query, self.headers.get("Authorization")
            )
            self._send(status, json.dumps(response).encode("utf-8"), "application/json; charset=utf-8", headers)
        elif url.path.startswith("/response/") and self.command == "POST":
            name = unquote(url.path[len("/response/"):])
            status, answer = standin.handle_response_url_post(name, content_type, body)
            self._send(status, answer.encode("utf-8"), "text/plain; charset=utf-8", {})
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8", {})

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Slack stand-in HTTP: " + format, *args)

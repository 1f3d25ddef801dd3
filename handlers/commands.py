"""Listeners for the slash command (SLASH_COMMAND, default /bounces) and its "More" button.

Slack drops a slash command that is not acknowledged within 3 seconds. A
lookup runs on a small thread pool while the listener waits at most
RESPONSE_BUDGET_SECONDS. A response ready by then goes back in the
acknowledgement itself. A slower one is acknowledged with a short note and
posted through the response_url when it is ready. `digest` is acknowledged
at once and runs afterwards, because posting can take longer than 3 seconds.
Every response is ephemeral, so only the user who typed the command sees it.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

from slack_bolt import Ack, App, Respond

from bot import actions
from bot.lookup import DIGEST, LookupService, decode_more_value, parse_query
from bot.lookup_render import render_lookup_failed
from bot.mrkdwn import escape
from bot.render import Message
from bot.services import Services
from handlers.payloads import user_id

log = logging.getLogger(__name__)

# Leaves about a second of Slack's 3 for the network and Bolt's own work.
RESPONSE_BUDGET_SECONDS = 2.0
LOOKUP_THREADS = 4

_lookup_pool = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="lookup")

SLOW_RESPONSE_TEXT = ":hourglass_flowing_sand: Looking that up. The result follows here in a moment."


def _failure_message(user: str, kind: str) -> Message:
    error_id = uuid.uuid4().hex[:8]
    log.exception("command.failed user=%s kind=%s error_id=%s", user, kind, error_id)
    return render_lookup_failed(error_id)


def _run_lookup(work: Callable[[], Message], user: str, kind: str) -> Message:
    try:
        return work()
    except Exception:  # the user gets a message with an error id instead of silence
        return _failure_message(user, kind)


def respond_within_budget(ack: Ack, respond: Respond, work: Callable[[], Message], user: str, kind: str,
                         budget_seconds: float | None = None) -> None:
    """Acknowledge with the response if `work` finishes within the budget, else acknowledge now and respond later."""
    budget = RESPONSE_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    future = _lookup_pool.submit(_run_lookup, work, user, kind)
    try:
        message = future.result(timeout=budget)
    except FutureTimeout:
        ack(response_type="ephemeral", text=SLOW_RESPONSE_TEXT)
        log.warning("command.slow user=%s kind=%s budget_seconds=%.1f", user, kind, budget)
        message = future.result()
        respond(response_type="ephemeral", text=message.text, blocks=message.blocks)
        log.info("command.responded user=%s kind=%s via=response_url", user, kind)
        return
    ack(response_type="ephemeral", text=message.text, blocks=message.blocks)
    log.info("command.responded user=%s kind=%s via=ack", user, kind)


def denial_text() -> str:
    return ("You are not allowed to post the digest, so nothing was posted. Ask an admin to add your Slack user ID "
            "to ALLOWED_USER_IDS or to the allowed user group.")


def run_digest(services: Services, ack: Ack, respond: Respond, user: str) -> None:
    """Acknowledge at once, check permission, post the digest and report its result line."""
    ack()
    if not services.permissions.is_allowed(user):
        log.warning("command.denied user=%s kind=digest", user)
        respond(response_type="ephemeral", text=denial_text())
        return
    if services.digest is None:
        log.warning("command.digest_unavailable user=%s reason=slack_not_configured", user)
        respond(response_type="ephemeral", text="The digest cannot be posted because SLACK_BOT_TOKEN is not set.")
        return

    respond(response_type="ephemeral", text=":outbox_tray: Posting the digest now…")
    log.info("command.digest_started user=%s", user)
    try:
        result = services.digest.run()
    except Exception:  # report the failure to the user instead of leaving "Posting…" as the last word
        error_id = uuid.uuid4().hex[:8]
        log.exception("command.digest_failed user=%s error_id=%s", user, error_id)
        respond(response_type="ephemeral", text=f"The digest failed because of an internal error (reference {error_id}). "
                                                "Run it again: a resumed run posts only what is still unposted.")
        return
    log.info("command.digest_finished user=%s posted=%d error=%s", user, result.posted, result.error)
    respond(response_type="ephemeral", text=escape(result.line()))


def handle_command(services: Services, lookup: LookupService, ack: Ack, respond: Respond,
                   command: dict[str, Any]) -> None:
    user = command.get("user_id", "")
    query = parse_query(command.get("text"))
    log.info("command.received user=%s kind=%s", user, query.kind)
    if query.kind == DIGEST:
        run_digest(services, ack, respond, user)
        return
    respond_within_budget(ack, respond, lambda: lookup.lookup(query), user, query.kind)


def handle_more(lookup: LookupService, respond: Respond, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Post the next page of a response as a new ephemeral message, keeping the earlier pages visible."""
    user = user_id(body)
    try:
        query, page = decode_more_value(str(action.get("value", "")))
    except ValueError as error:
        log.warning("command.more_rejected user=%s error=%s", user, error)
        respond(response_type="ephemeral", replace_original=False,
                text=f"This More button is not valid ({escape(str(error))}). Run the command again.")
        return
    log.info("command.more user=%s kind=%s page=%d", user, query.kind, page)
    message = _run_lookup(lambda: lookup.lookup(query, page), user, query.kind)
    respond(response_type="ephemeral", replace_original=False, text=message.text, blocks=message.blocks)


def build_lookup(services: Services) -> LookupService:
    settings = services.settings
    return LookupService(services.database, settings.slash_command, settings.timezone)


def register(app: App, services: Services) -> None:
    lookup = build_lookup(services)

    @app.command(services.settings.slash_command)
    def on_command(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        handle_command(services, lookup, ack, respond, command)

    @app.action(actions.LOOKUP_MORE)
    def on_more(ack: Ack, respond: Respond, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        handle_more(lookup, respond, body, action)

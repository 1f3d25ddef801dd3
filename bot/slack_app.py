"""The Bolt app and its HTTP front end (Starlette, served by uvicorn).

Bolt's synchronous App runs each listener on its thread pool and answers
Slack as soon as the listener calls ack(), so slow work after ack() never
delays the 3-second acknowledgement. The Starlette route hands each request
to Bolt on a worker thread, so one slow request never blocks the event loop.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.services import Services
from bot.slack_requests import body_problem, signature_valid

log = logging.getLogger(__name__)


def build_bolt_app(services: Services) -> App:
    from handlers import register_all

    settings = services.settings
    app = App(
        client=services.slack.client if services.slack else None,
        signing_secret=settings.slack_signing_secret or None,
        token_verification_enabled=False,
        # Bolt's own error handler answers Slack with a 500 JSON body; ours logs ids too.
        raise_error_for_unhandled_request=False,
    )
    register_all(app, services)
    return app


def build_web_app(bolt_app: App, services: Services) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        socket_mode = bool(services.settings.slack_app_token)
        if not socket_mode and not signature_valid(services.settings.slack_signing_secret, body, request.headers):
            log.warning("request.rejected path=/slack/events reason=signature_or_timestamp bytes=%d", len(body))
            return JSONResponse({"error": "invalid request signature or timestamp"}, status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except UnicodeDecodeError:
            log.warning("request.rejected path=/slack/events reason=body_not_utf8 bytes=%d", len(body))
            return JSONResponse({"error": "request body is not UTF-8"}, status_code=400)
        problem = body_problem(bolt_request.raw_body, request.headers.get("content-type", ""))
        if problem:
            log.warning("request.rejected path=/slack/events reason=malformed problem=%r", problem)
            return JSONResponse({"error": f"malformed Slack request: {problem}"}, status_code=400)
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        if bolt_response.status == 401:
            log.warning("request.rejected path=/slack/events reason=signature_or_timestamp")
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        def check() -> bool:
            with services.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True

        try:
            await run_in_threadpool(check)
        except Exception as error:  # any database failure means unhealthy
            log.error("health.failed error=%r", error)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])

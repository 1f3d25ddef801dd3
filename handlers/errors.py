"""A last-resort error handler, so a failing listener is logged with its ids."""

import logging

from slack_bolt import App

log = logging.getLogger(__name__)


def register(app: App) -> None:
    @app.error
    def on_error(error, body, logger):  # noqa: ARG001 - Bolt passes these by name
        user = (body or {}).get("user", {}) if isinstance(body, dict) else {}
        log.error("listener.failed type=%s user=%s error=%r", (body or {}).get("type"), user.get("id"), error)

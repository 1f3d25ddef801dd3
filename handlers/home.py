"""Listener for `app_home_opened`: publish the opening user's Home tab.

Bolt acknowledges events before the listener runs, so building the view
never delays the acknowledgement. Slack sends the same event when the user
opens the Messages tab; only the Home tab is published.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services import Services

log = logging.getLogger(__name__)


def handle_home_opened(services: Services, event: dict[str, Any]) -> None:
    user = event.get("user", "")
    tab = event.get("tab", "home")
    if tab != "home":
        return
    home = services.home
    if home is None or not user:
        log.warning("home.not_published user=%s reason=%s", user, "no_user" if home else "slack_not_configured")
        return
    log.info("home.opened user=%s", user)
    home.opened(user)


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        handle_home_opened(services, event)

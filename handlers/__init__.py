"""Bolt listeners, registered in one place.

Each module registers the listeners for one surface; listeners stay thin:
parse the payload, check permission, acknowledge, call a bot/ service.
"""

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from handlers import bounce_buttons, commands, errors, home, modals

    errors.register(app)
    bounce_buttons.register(app, services)
    modals.register(app, services)
    commands.register(app, services)
    home.register(app, services)

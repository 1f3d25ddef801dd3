"""Wiring: build every service once from Settings.

Effects (Slack, SMTP email, the resend backend) are chosen here by settings
alone, so tests point them at loopback stand-ins without patching code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.bounce_actions import BounceActions
from bot.bounce_workflows import BounceWorkflows
from bot.digest import DigestService
from bot.home import HomeService
from bot.permissions import Permissions
from bot.mailer import SmtpMailer
from bot.render import RenderContext
from bot.resend import build_resend_backend
from bot.settings import Settings
from bot.slack_gateway import SlackGateway, build_client
from storage.db import Database


@dataclass
class Services:
    settings: Settings
    database: Database
    slack: SlackGateway | None
    digest: DigestService | None
    actions: BounceActions
    context: RenderContext
    permissions: Permissions
    workflows: BounceWorkflows
    mailer: SmtpMailer | None
    home: HomeService | None = None


def build_services(settings: Settings, database: Database | None = None, slack=None) -> Services:
    database = database or Database(settings.database_url)
    if slack is None and settings.slack_bot_token:
        slack = SlackGateway(build_client(settings.slack_bot_token, settings.slack_api_url))
    context = RenderContext(support_email=settings.support_email, firm_name=settings.firm_name)
    digest = None
    if slack is not None:
        digest = DigestService(database, slack, settings.digest_channel, settings.timezone, context,
                               settings.slash_command)
    bounce_actions = BounceActions(database, slack, context)
    home = None
    if slack is not None:
        home = HomeService(database, slack, settings.slash_command, settings.timezone)
        bounce_actions.on_change = home.request_refresh
        if digest is not None:
            digest.after_run = home.request_refresh
    permissions = Permissions(settings.allowed_users, settings.allowed_usergroup_id,
                              getattr(slack, "client", None))
    mailer = None
    if settings.smtp_enabled:
        mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.mail_from,
                            settings.smtp_username, settings.smtp_password, settings.smtp_timeout_seconds)
    workflows = BounceWorkflows(database, bounce_actions, slack, mailer, build_resend_backend(settings), settings)
    return Services(settings=settings, database=database, slack=slack, digest=digest, actions=bounce_actions,
                    context=context, permissions=permissions, workflows=workflows, mailer=mailer, home=home)

"""Bounce Desk: the one entry point.

    python app.py import FILE [FILE ...]   import daily bounce reports (CSV or XLSX)
    python app.py digest                   post every bounce not yet posted to DIGEST_CHANNEL
    python app.py run                      serve the bot (Socket Mode or HTTP) and the daily digest
    python app.py demo                     import the bundled sample report and show its digest
    python app.py migrate                  create or upgrade the database schema
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from bot import logs
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bounce_desk")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ROWS_REJECTED = 2


def _open_database(settings: Settings):
    from storage.db import Database

    database = Database(settings.database_url)
    database.migrate()
    return database


def cmd_migrate(settings: Settings, _args) -> int:
    _open_database(settings)
    print("Database schema is up to date.")
    return EXIT_OK


def cmd_import(settings: Settings, args) -> int:
    from bot.importer import import_report
    from bot.report import ReportUnreadable

    database = _open_database(settings)
    worst = EXIT_OK
    for name in args.files:
        try:
            summary = import_report(database, Path(name))
        except ReportUnreadable as error:
            print(f"Could not import {name}: {error}", file=sys.stderr)
            log.error("import.unreadable file=%s", name)
            worst = EXIT_FAILED
            continue
        except Exception as error:  # one broken file must not stop the files after it
            log.exception("import.failed file=%s", name)
            print(f"Could not import {name}: {type(error).__name__}: {error}. Rows imported before the error "
                  "are kept; fix the file and import it again (duplicates are skipped).", file=sys.stderr)
            worst = EXIT_FAILED
            continue
        print("\n".join(summary.lines()))
        if summary.exit_code and worst == EXIT_OK:
            worst = summary.exit_code
    return worst


def cmd_digest(settings: Settings, _args) -> int:
    from bot.services import build_services

    if not settings.slack_bot_token:
        print("SLACK_BOT_TOKEN is not set, so there is nowhere to post the digest. "
              "Set it (and DIGEST_CHANNEL), or run `make demo` to preview a digest offline.", file=sys.stderr)
        return EXIT_FAILED
    services = build_services(settings, database=_open_database(settings))
    result = services.digest.run()
    print(result.line(), file=sys.stderr if result.error else sys.stdout)
    return EXIT_FAILED if result.error else EXIT_OK


def cmd_demo(settings: Settings, _args) -> int:
    from bot.importer import import_report
    from bot.preview import PreviewGateway
    from bot.report import sample_report_path
    from bot.services import build_services
    from storage.db import Database

    sample = sample_report_path()
    if settings.slack_bot_token:
        print(f"Slack tokens are set: importing {sample.name} into DATABASE_URL and posting to {settings.digest_channel}.")
        services = build_services(settings, database=_open_database(settings))
    else:
        # The printed digest is the point of a dry run; keep routine log lines out of it.
        if settings.log_level == "INFO":
            logging.getLogger().setLevel(logging.ERROR)
        demo_db = Path("var/demo.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        database = Database(f"sqlite:///{demo_db}")
        database.migrate()
        print(f"No SLACK_BOT_TOKEN set: a dry run on {demo_db} with the bundled sample report. "
              "Nothing is sent anywhere; each message is printed as Slack would show it, then its Block Kit JSON.\n")
        services = build_services(settings.model_copy(update={"digest_channel": "C0DEMO"}), database=database,
                                  slack=PreviewGateway())

    summary = import_report(services.database, sample)
    print("\n".join(summary.lines()))

    result = services.digest.run()
    if settings.slack_bot_token:
        print("\n" + result.line())
    else:
        print(f"\nDry run: the {result.posted} bounce messages above were printed here, not posted to Slack.")

    if not settings.slack_bot_token and result.bounce_ids:
        from bot import actions

        first = result.bounce_ids[0]
        print(f"\nWhat a click does: U0DEMO presses \"Mark fixed\" on bounce #{first}; the message is re-rendered in place:")
        services.actions.apply(actions.MARK_FIXED, first, "U0DEMO")
        print("\nSet SLACK_BOT_TOKEN and DIGEST_CHANNEL and run it again to post to Slack for real "
              "(running it a second time posts nothing new: the sample's rows are then duplicates).")
    return EXIT_FAILED if result.error else EXIT_OK


def cmd_run(settings: Settings, _args) -> int:
    import uvicorn

    from bot.scheduler import start_scheduler
    from bot.services import build_services
    from bot.slack_app import build_bolt_app, build_web_app

    if not settings.slack_bot_token:
        print("SLACK_BOT_TOKEN is not set: create the Slack app from manifest.yml (see README) and set the token.",
              file=sys.stderr)
        return EXIT_FAILED
    if not settings.slack_app_token and not settings.slack_signing_secret:
        print("Set SLACK_APP_TOKEN (xapp-…) for Socket Mode, or SLACK_SIGNING_SECRET for HTTP mode.", file=sys.stderr)
        return EXIT_FAILED

    _warn_about_defaults(settings)
    services = build_services(settings, database=_open_database(settings))
    bolt_app = build_bolt_app(services)
    scheduler = start_scheduler(settings, services.digest)
    log.info("app.started mode=%s port=%s", "socket" if settings.slack_app_token else "http", settings.port)

    try:
        if settings.slack_app_token:
            if not _serve_socket_mode(bolt_app, settings, services):
                return EXIT_FAILED
        else:
            # log_config=None keeps uvicorn's lines in the app's own one-line format.
            uvicorn.run(build_web_app(bolt_app, services), host=settings.host, port=settings.port,
                        log_level=settings.log_level.lower(), access_log=False, log_config=None)
    finally:
        scheduler.shutdown(wait=False)
        services.database.dispose()
        log.info("app.stopped")
    return EXIT_OK


def _warn_about_defaults(settings: Settings) -> None:
    """Log settings that still hold a placeholder and would show up in emails to clients or support."""
    if settings.firm_name == Settings.model_fields["firm_name"].default:
        log.warning("settings.default firm_name=%r: set FIRM_NAME, it signs the emails to support and clients",
                    settings.firm_name)
    if not settings.sending_domain:
        log.warning("settings.default sending_domain is empty: set SENDING_DOMAIN, the note for a client's IT names it")


def _serve_socket_mode(bolt_app, settings: Settings, services) -> bool:
    """Connect to Slack over Socket Mode and serve /healthz until SIGTERM; False when Slack refuses the connection."""
    import uvicorn
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack_app import build_web_app

    handler = SocketModeHandler(bolt_app, settings.slack_app_token)
    try:
        handler.connect()
    except SlackApiError as error:
        code = error.response.get("error") if error.response else error
        log.error("socket_mode.connect_failed error=%s", code)
        print(f"Slack refused the Socket Mode connection ({code}). Check SLACK_APP_TOKEN (an xapp- token with "
              "connections:write) and that Socket Mode is enabled for the app.", file=sys.stderr)
        return False
    log.info("socket_mode.connected")
    # The health endpoint still listens on PORT so an orchestrator can probe the process.
    server = uvicorn.Server(uvicorn.Config(build_web_app(bolt_app, services), host=settings.host, port=settings.port,
                                           log_level="warning", access_log=False, log_config=None))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.should_exit = True
    handler.close()
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Bounce Desk: daily bounced-email reports, worked in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)
    importer = commands.add_parser("import", help="import bounce report files (CSV or XLSX)")
    importer.add_argument("files", nargs="+", metavar="FILE")
    commands.add_parser("digest", help="post every bounce not yet posted to DIGEST_CHANNEL")
    commands.add_parser("run", help="serve the bot and post the digest daily at DIGEST_TIME")
    commands.add_parser("demo", help="import the bundled sample report and show its digest")
    commands.add_parser("migrate", help="create or upgrade the database schema")
    return parser


COMMANDS = {"import": cmd_import, "digest": cmd_digest, "run": cmd_run, "demo": cmd_demo, "migrate": cmd_migrate}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"Bounce Desk cannot start: {error}", file=sys.stderr)
        return EXIT_FAILED
    logs.configure(settings.log_level)
    return COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())

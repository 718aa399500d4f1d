"""Entry point: ``linkbot`` runs the bot, ``linkbot check`` tests the set-up, ``linkbot try``
runs it in a local sandbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError as SettingsError
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from linkbot import __version__, logs, metrics
from linkbot.bot import build_application
from linkbot.bot.app import ALLOWED_UPDATES, PerChatUpdateProcessor, register_commands
from linkbot.bot.daily import DailySummary
from linkbot.bot.handlers import resume_orphans, resume_unfinished, services
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.checkup import check
from linkbot.config import Settings, describe_errors, env_file
from linkbot.connect import (
    DatabaseFailure,
    new_sqlite_file,
    omise_client,
    open_database,
    reason,
    token_refused,
)
from linkbot.inbox import Inbox
from linkbot.instances import Heartbeat, InstanceIdTaken, heartbeat_every, heartbeat_ttl
from linkbot.links import LinkService
from linkbot.payments import LEASE_TTL, PaymentWatcher
from linkbot.store import Store
from linkbot.waits import Stopped, unless_stopped

if TYPE_CHECKING:
    from starlette.routing import Route

    from linkbot.web import WebServer

logger = logging.getLogger("linkbot")

EXIT_CONFIG = 2
EXIT_FAILURE = 1
TOKEN_REFUSED = "Telegram refused TELEGRAM_BOT_TOKEN. Check it with @BotFather."
# In-flight commands get this long to finish after SIGTERM.
SHUTDOWN_GRACE = 10.0
# Connections Telegram may open at once to deliver updates (its default is 40).
WEBHOOK_CONNECTIONS = 40


# The commands, as --help lists them.
COMMANDS = """commands:
  run    run the bot (the default), with the settings from the environment
         or from .env in the current directory
  check  check the settings against Telegram, Omise and the database, and say
         what was found, without starting the bot
  try    see the bot work in a sandbox on this machine: a simulated Telegram
         and Omise on a local page, with nothing to set up
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="linkbot",
        description="Telegram bot that issues Omise payment links.",
        epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "check", "try"],
        default="run",
        metavar="command",
        help="run (the default), check or try: see below",
    )
    parser.add_argument("--version", action="version", version=f"linkbot {__version__}")
    parser.add_argument(
        "--port", type=_port, default=8765, help="the sandbox page's port, 1-65535 (try)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser (try)")
    args = parser.parse_args(argv)
    if args.command == "try":
        from linkbot.sandbox import runner

        return runner.main(run, port=args.port, open_browser=not args.no_browser)
    try:
        settings = Settings()
    except SettingsError as exc:
        print(describe_errors(exc, args.command), file=sys.stderr)
        return EXIT_CONFIG
    except (OSError, UnicodeDecodeError) as exc:
        # Reading .env is the only file Settings() opens on its own.
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        unreadable = OSError(f"{env_file()} cannot be read: {reason}")
        print(describe_errors(unreadable, args.command), file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.linkbot_log_level, settings.secrets(), fmt=settings.linkbot_log_format)
    if settings.linkbot_metrics:
        metrics.enable()
    if args.command == "check":
        return 0 if asyncio.run(check(settings)) else EXIT_FAILURE
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port: give a number from 1-65535")
    return port


async def run(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run the bot until ``stop`` is set; without one, until SIGINT or SIGTERM.

    A stop during start-up ends start-up where it is (opening the database,
    waiting for an earlier run's heartbeat, asking Telegram): what was
    opened is closed again, and the bot never starts taking updates.
    """
    if stop is None:
        # First of all, so that a signal at any later moment is a prompt stop.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    if not settings.linkbot_allowed_users:
        logger.warning(
            "LINKBOT_ALLOWED_USERS is empty: nobody may create links. "
            "Send /start to the bot to learn your Telegram id, then add it."
        )
    for warning in settings.warnings():
        logger.warning("%s", warning)

    async with contextlib.AsyncExitStack() as resources:
        try:
            started = await unless_stopped(stop, _start(settings, resources, stop))
        except Stopped:
            logger.info("Stopping during start-up")
        else:
            if not isinstance(started, _Running):
                return started
            await stop.wait()
            await _shut_down(started)
    logger.info("Stopped")
    return 0


@dataclass(frozen=True)
class _Running:
    """What start-up set going, for the shutdown to end in order."""

    application: Application  # type: ignore[type-arg]
    processor: PerChatUpdateProcessor
    inbox: Inbox | None
    web: WebServer | None
    tasks: list[asyncio.Task[None]]  # the watcher's, and the daily summary's


async def _start(
    settings: Settings, resources: contextlib.AsyncExitStack, stop: asyncio.Event
) -> _Running | int:
    """Start the bot, or say why it could not be (an exit code).

    May be cancelled at any point: whatever it opened is on ``resources``
    by then, to be closed again.
    """
    # A first start would make the SQLite file before Telegram has a say on the
    # token: one Telegram refuses must leave no new database behind.
    if await new_sqlite_file(settings) and await token_refused(settings):
        logger.error(TOKEN_REFUSED)
        return EXIT_CONFIG
    opened = await open_database(settings, Store.initialize, instance_id=settings.instance_id)
    if isinstance(opened, DatabaseFailure):
        if opened.server is None:
            logger.error("%s", opened.problem)
            return EXIT_CONFIG
        logger.error("Could not open the database (%s): %s", opened.server, opened.problem)
        return EXIT_FAILURE
    store, applied = opened
    resources.push_async_callback(store.close)
    if applied:
        logger.info("Database %s: schema upgraded to %s", store.describe(), applied[-1])
    # Alive before the first command is claimed, and until the last is finished:
    # the sign-off comes after everything pushed later has ended.
    every = heartbeat_every(settings.linkbot_poll_interval)
    heartbeat = Heartbeat(store, heartbeat_ttl(every), every=every)
    resources.push_async_callback(_sign_off, heartbeat)
    try:
        await heartbeat.start()
    except InstanceIdTaken as exc:
        logger.error("%s", exc)
        return EXIT_CONFIG
    except (OSError, SQLAlchemyError) as exc:
        logger.error("Could not use the database (%s): %s", store.describe(), reason(exc))
        return EXIT_FAILURE
    heartbeat.keep_up()
    omise = await resources.enter_async_context(omise_client(settings))
    application = build_application(settings, LinkService(omise, store))
    try:
        await application.initialize()
    except InvalidToken:
        logger.error(TOKEN_REFUSED)
        return EXIT_CONFIG
    except TelegramError as exc:
        logger.error("Could not reach Telegram: %s", exc)
        return EXIT_FAILURE
    resources.push_async_callback(application.shutdown)
    inbox = None
    processor = application.update_processor
    # build_application always installs it: the inbox, the webhook's backlog
    # and the cut-off at shutdown all lean on it.
    assert isinstance(processor, PerChatUpdateProcessor)
    if settings.webhook_endpoint is not None:
        from linkbot.web import MAX_PENDING_UPDATES

        inbox = Inbox(store, application, processor, max_pending=MAX_PENDING_UPDATES)
        processor.on_handled = inbox.handled
    started_at = datetime.now(UTC)

    # A command this young may belong to an instance that has not shown a sign of life yet.
    orphan_grace = timedelta(seconds=settings.linkbot_poll_interval * LEASE_TTL)

    async def after_pass() -> None:
        await resume_orphans(application.bot, services(application), orphan_grace)
        if inbox is not None:
            await inbox.adopt()

    watcher = PaymentWatcher(
        omise,
        store,
        TelegramAnnouncer(
            application.bot, store, settings.timezone, language=settings.linkbot_language
        ),
        horizon=timedelta(days=settings.linkbot_watch_days),
        interval=settings.linkbot_poll_interval,
        sweep_interval=settings.linkbot_sweep_interval,
        on_pass=metrics.recorder().watcher_pass,
        on_announced=metrics.recorder().payment_announced,
        # In webhook mode a dead instance's updates are never delivered
        # again: the lease holder answers its commands and handles the rest.
        after_pass=after_pass,
    )
    if inbox is not None:
        # Before the listener opens: what an earlier run acknowledged goes
        # ahead of anything Telegram delivers now.
        await inbox.resume(before=started_at)
    web = None
    listen = settings.http_listen
    if listen:
        # Starlette and uvicorn only for an HTTP listener: a polling bot never loads them.
        from linkbot.web import TelegramWebhook, WebServer, create_app

        routes: list[Route] = []
        if settings.webhook_endpoint is not None:
            hook = TelegramWebhook(
                application, settings.webhook_secret, backlog=processor, inbox=inbox
            )
            routes.extend(hook.route(path) for path in settings.webhook_paths)
        app = create_app(watcher, settings.omise_webhook_secret, routes=routes)
        web = WebServer(app, listen, telegram_paths=settings.webhook_paths)
        # Also on the way out after an error: confirmations must end before the store closes.
        resources.push_async_callback(web.stop)
        # PORT opens a listener in polling mode too (a container's health
        # check uses it): say where the address came from.
        origin = "LINKBOT_HTTP_LISTEN" if settings.linkbot_http_listen else "PORT"
        try:
            await web.start()
        except OSError as exc:
            logger.error("%s: %s (is another process using it?)", origin, exc)
            return EXIT_CONFIG
        logger.info("Serving HTTP on %s (from %s)", listen, origin)

    await register_commands(application)
    await _answer_unfinished(application)

    updater = application.updater
    assert updater is not None
    # Whatever of it was started when a stop cuts start-up short.
    resources.push_async_callback(_stop_updates, application)
    if settings.webhook_endpoint is None:
        # PTB deletes any webhook first (keeping its updates): Telegram refuses
        # getUpdates while one is set.
        await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await application.start()
    else:
        await application.start()
        try:
            await application.bot.set_webhook(
                url=settings.webhook_endpoint,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                max_connections=WEBHOOK_CONNECTIONS,
                drop_pending_updates=False,
            )
        except TelegramError as exc:
            logger.error("Telegram refused the webhook %s: %s", settings.webhook_endpoint, exc)
            await application.stop()
            return EXIT_FAILURE
        logger.info("Taking updates by webhook at %s", settings.webhook_endpoint)
    tasks = [asyncio.create_task(watcher.run(settings.linkbot_poll_interval, stop))]
    if settings.daily_report is not None:
        daily = DailySummary(
            application.bot,
            services(application).reports,
            store,
            at=settings.daily_report,
            zone=settings.timezone,
            allowed_users=settings.linkbot_allowed_users,
            language=settings.linkbot_language,
        )
        tasks.append(asyncio.create_task(daily.run(stop, caught_up=watcher.caught_up)))
        logger.info("Daily summary at %s", settings.linkbot_daily_report)
    logger.info(
        "linkbot %s running as @%s (Omise %s mode)",
        __version__,
        application.bot.username,
        "test" if settings.omise_test_mode else "live",
    )
    return _Running(application, processor, inbox, web, tasks)


async def _answer_unfinished(application: Application) -> None:  # type: ignore[type-arg]
    """Answer what an earlier run left unanswered; a stop meanwhile waits like for a command.

    An answer cut off halfway might have been shown and be sent again at
    the next start, so a stop lets the answering go on for the grace
    commands in progress have.
    """
    answering = asyncio.ensure_future(resume_unfinished(application.bot, services(application)))
    try:
        await asyncio.shield(answering)
    except asyncio.CancelledError:
        await asyncio.wait([answering], timeout=SHUTDOWN_GRACE)
        answering.cancel()
        await asyncio.wait([answering])
        raise


async def _shut_down(running: _Running) -> None:
    """Stop taking updates, finish what is in progress, then stop the watcher."""
    logger.info("Stopping: finishing commands in progress")
    if running.web is not None:
        await running.web.stop()
    updater = running.application.updater
    if updater is not None and updater.running:
        await updater.stop()
    try:
        await asyncio.wait_for(running.application.stop(), SHUTDOWN_GRACE)
    except TimeoutError:
        logger.warning("Commands still running after %.0fs; stopping anyway", SHUTDOWN_GRACE)
        await running.processor.cancel_running()
    # The watcher and the daily summary see the stop themselves, and finish side by side.
    _, late = await asyncio.wait(running.tasks, timeout=SHUTDOWN_GRACE)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    if running.inbox is not None:
        await running.inbox.mark_again()


async def _stop_updates(application: Application) -> None:  # type: ignore[type-arg]
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()


async def _sign_off(heartbeat: Heartbeat) -> None:
    # Only now: the commands this instance claimed are finished (or given up).
    with contextlib.suppress(OSError, SQLAlchemyError):
        await heartbeat.end()


if __name__ == "__main__":
    sys.exit(main())

"""Entry point: ``linkbot`` runs the bot, ``linkbot check`` tests the set-up."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import ValidationError as SettingsError
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from linkbot import __version__, logs, migrations
from linkbot.bot import build_application
from linkbot.bot.app import ALLOWED_UPDATES, register_commands
from linkbot.bot.daily import DailySummary
from linkbot.bot.handlers import resume_unfinished, services
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings, describe_errors
from linkbot.links import LinkService
from linkbot.omise import AuthenticationError, OmiseClient, OmiseError
from linkbot.payments import LEASE_TTL, PaymentWatcher
from linkbot.store import Store, postgresql_url
from linkbot.web import WebServer, create_app

logger = logging.getLogger("linkbot")

EXIT_CONFIG = 2
EXIT_FAILURE = 1
POSTGRESQL_DRIVER_MISSING = (
    "LINKBOT_DATABASE is a PostgreSQL URL, and its driver is not installed:"
    " pip install 'linkbot[postgres]'"
)
# In-flight commands get this long to finish after SIGTERM.
SHUTDOWN_GRACE = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="linkbot", description="Telegram bot that issues Omise payment links."
    )
    parser.add_argument("command", nargs="?", choices=["run", "check"], default="run")
    parser.add_argument("--version", action="version", version=f"linkbot {__version__}")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except SettingsError as exc:
        print(describe_errors(exc), file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.linkbot_log_level, settings.secrets())
    if args.command == "check":
        return asyncio.run(check(settings))
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0


def omise_client(settings: Settings) -> OmiseClient:
    timeout = httpx.Timeout(
        connect=min(5.0, settings.omise_timeout), read=settings.omise_timeout, write=10.0, pool=5.0
    )
    return OmiseClient(settings.omise_secret_key, base_url=settings.omise_api_url, timeout=timeout)


async def run(settings: Settings) -> int:
    if not settings.linkbot_allowed_users:
        logger.warning(
            "LINKBOT_ALLOWED_USERS is empty: nobody may create links. "
            "Send /start to the bot to learn your Telegram id, then add it."
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async with contextlib.AsyncExitStack() as resources:
        try:
            store = Store.connect(settings.database, instance_id=settings.instance_id)
        except ImportError:
            logger.error(POSTGRESQL_DRIVER_MISSING)
            return EXIT_CONFIG
        resources.push_async_callback(store.close)
        try:
            applied = await store.initialize()
        except (OSError, SQLAlchemyError) as exc:
            logger.error("Could not open the database (%s): %s", store.describe(), _reason(exc))
            return EXIT_FAILURE
        if applied:
            logger.info("Database %s: schema upgraded to %s", store.describe(), applied[-1])
        # Alive before the first command is claimed; the watcher keeps it up.
        lease = timedelta(seconds=settings.linkbot_poll_interval * LEASE_TTL)
        await store.heartbeat(datetime.now(UTC), lease)
        omise = await resources.enter_async_context(omise_client(settings))
        application = build_application(settings, LinkService(omise, store))
        try:
            await application.initialize()
        except InvalidToken:
            logger.error("Telegram refused TELEGRAM_BOT_TOKEN. Check it with @BotFather.")
            return EXIT_CONFIG
        except TelegramError as exc:
            logger.error("Could not reach Telegram: %s", exc)
            return EXIT_FAILURE
        resources.push_async_callback(application.shutdown)

        watcher = PaymentWatcher(
            omise,
            store,
            TelegramAnnouncer(application.bot, store, settings.timezone),
            horizon=timedelta(days=settings.linkbot_watch_days),
            interval=settings.linkbot_poll_interval,
            sweep_interval=settings.linkbot_sweep_interval,
        )
        web = None
        if settings.linkbot_http_listen:
            web = WebServer(
                create_app(watcher, settings.omise_webhook_secret), settings.linkbot_http_listen
            )
            try:
                await web.start()
            except OSError as exc:
                logger.error("LINKBOT_HTTP_LISTEN: %s (is another process using it?)", exc)
                return EXIT_CONFIG
            # Also on the way out after an error: confirmations must end before the store closes.
            resources.push_async_callback(web.stop)
            logger.info("Serving Omise webhooks on %s", settings.linkbot_http_listen)

        await register_commands(application)
        await resume_unfinished(application.bot, services(application))

        updater = application.updater
        assert updater is not None
        await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await application.start()
        watching = asyncio.create_task(watcher.run(settings.linkbot_poll_interval, stop))
        summaries = None
        if settings.daily_report is not None:
            daily = DailySummary(
                application.bot,
                services(application).reports,
                store,
                at=settings.daily_report,
                zone=settings.timezone,
                allowed_users=settings.linkbot_allowed_users,
            )
            summaries = asyncio.create_task(daily.run(stop, caught_up=watcher.caught_up))
            logger.info("Daily summary at %s", settings.linkbot_daily_report)
        logger.info(
            "linkbot %s running as @%s (Omise %s mode)",
            __version__,
            application.bot.username,
            "test" if settings.omise_test_mode else "live",
        )

        await stop.wait()
        logger.info("Stopping: finishing commands in progress")
        if web is not None:
            await web.stop()
        await updater.stop()
        try:
            await asyncio.wait_for(application.stop(), SHUTDOWN_GRACE)
        except TimeoutError:
            logger.warning("Commands still running after %.0fs; stopping anyway", SHUTDOWN_GRACE)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watching, SHUTDOWN_GRACE)
        # Only now: the commands this instance claimed are finished (or given up).
        with contextlib.suppress(OSError, SQLAlchemyError):
            await store.sign_off()
        if summaries is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(summaries, SHUTDOWN_GRACE)
    logger.info("Stopped")
    return 0


async def check(settings: Settings) -> int:
    """Check the configuration against Telegram and Omise, and say what was found."""
    ok = True
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=f"{settings.telegram_api_url}/bot"
    )
    try:
        async with bot:
            me = await bot.get_me()
        print(f"Telegram: OK, the bot is @{me.username}")
    except InvalidToken:
        print("Telegram: FAILED, TELEGRAM_BOT_TOKEN was refused")
        ok = False
    except TelegramError as exc:
        print(f"Telegram: FAILED, {exc}")
        ok = False
    async with omise_client(settings) as omise:
        try:
            page = await omise.list_links(limit=1)
            mode = "live" if omise.livemode else "test"
            print(f"Omise: OK, {mode} mode, {page.total} link(s) on the account")
        except AuthenticationError:
            print("Omise: FAILED, OMISE_SECRET_KEY was refused")
            ok = False
        except OmiseError as exc:
            print(f"Omise: FAILED, {type(exc).__name__}: {exc.message}")
            ok = False
    ok = await _check_database(settings) and ok
    users = len(settings.linkbot_allowed_users)
    print(f"Authorized users: {users}" + ("" if users else " (nobody may create links)"))
    return 0 if ok else EXIT_FAILURE


async def _check_database(settings: Settings) -> bool:
    sqlite_file = None if postgresql_url(settings.database) else Path(settings.database)
    if sqlite_file is not None and not await asyncio.to_thread(sqlite_file.exists):
        print(f"Database: SQLite {settings.database}, made at the first start")
        return True
    try:
        store = Store.connect(settings.database)
    except ImportError:
        print(f"Database: FAILED, {POSTGRESQL_DRIVER_MISSING}")
        return False
    try:
        revision = await store.revision()
        head = migrations.head()
        state = "up to date" if revision == head else f"at {revision or 'no'} revision, {head} due"
        print(f"Database: OK, {store.describe()}, schema {state}")
        return True
    except (OSError, SQLAlchemyError) as exc:
        print(f"Database: FAILED, {store.describe()}: {_reason(exc)}")
        return False
    finally:
        await store.close()


def _reason(exc: BaseException) -> str:
    """What went wrong with the database, in one line, without the statement or its values."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}".rstrip(
        ": "
    )


if __name__ == "__main__":
    sys.exit(main())

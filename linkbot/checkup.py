"""``linkbot check``: the settings tried against Telegram, Omise and the database, a line each."""

from __future__ import annotations

import urllib.parse

import httpx
from telegram import WebhookInfo
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from linkbot import migrations
from linkbot.config import Settings
from linkbot.connect import (
    DatabaseFailure,
    new_sqlite_file,
    omise_client,
    open_database,
    telegram_bot,
)
from linkbot.omise import AuthenticationError, OmiseConnectionError, OmiseError, OmiseTimeout
from linkbot.store import Store


def describe_webhook(settings: Settings, info: WebhookInfo) -> str:
    """How updates reach the bot, as configured and as Telegram has it."""
    wanted = settings.webhook_endpoint
    if wanted is None:
        if info.url:
            return f"Updates: polling; Telegram has a webhook at {info.url}, removed at start-up"
        return "Updates: polling"
    if info.url != wanted:
        return f"Updates: webhook at {wanted}, set at start-up (Telegram has {info.url or 'none'})"
    line = f"Updates: webhook at {wanted}, {info.pending_update_count} waiting"
    if info.last_error_message:
        # Telegram's own words on why its last delivery failed, e.g. a refused secret.
        line += f"; the last delivery failed: {info.last_error_message}"
    return line


async def check(settings: Settings) -> bool:
    """Check the configuration against Telegram, Omise and the database; whether all passed."""
    ok = True
    bot = telegram_bot(settings)
    try:
        async with bot:
            me = await bot.get_me()
            print(f"Telegram: OK, the bot is @{me.username}")
            print(describe_webhook(settings, await bot.get_webhook_info()))
    except InvalidToken:
        print("Telegram: FAILED, TELEGRAM_BOT_TOKEN was refused")
        ok = False
    except TimedOut:
        print(f"Telegram: FAILED, no answer from {_address(settings.telegram_api_url)} in time")
        ok = False
    except NetworkError as exc:
        connected = not isinstance(exc.__cause__, httpx.ConnectError)
        print(f"Telegram: FAILED, {_unreachable(settings.telegram_api_url, connected=connected)}")
        ok = False
    except TelegramError as exc:
        print(f"Telegram: FAILED, {exc}")
        ok = False
    # One attempt: a check says at once what it found, where the bot would retry.
    async with omise_client(settings, max_attempts=1) as omise:
        try:
            page = await omise.list_links(limit=1)
            mode = "live" if omise.livemode else "test"
            print(f"Omise: OK, {mode} mode, {page.total} link(s) on the account")
        except AuthenticationError:
            print("Omise: FAILED, OMISE_SECRET_KEY was refused")
            ok = False
        except OmiseTimeout:
            print(f"Omise: FAILED, no answer from {_address(settings.omise_api_url)} in time")
            ok = False
        except OmiseConnectionError as exc:
            connected = exc.request_sent
            print(f"Omise: FAILED, {_unreachable(settings.omise_api_url, connected=connected)}")
            ok = False
        except OmiseError as exc:
            print(f"Omise: FAILED, {type(exc).__name__}: {exc.message}")
            ok = False
    ok = await _check_database(settings) and ok
    users = len(settings.linkbot_allowed_users)
    print(f"Authorized users: {users}" + ("" if users else " (nobody may create links)"))
    return ok


def _address(url: str) -> str:
    """Where a service is, as scheme://host:port: without a path, or credentials in the URL."""
    parts = urllib.parse.urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{parts.scheme}://{host}" + ("" if parts.port is None else f":{parts.port}")


def _unreachable(url: str, *, connected: bool) -> str:
    """Why a service did not answer, in one line that names no library."""
    if not connected:
        return f"could not connect to {_address(url)} (is it reachable from here?)"
    return f"the connection to {_address(url)} broke off before an answer"


async def _check_database(settings: Settings) -> bool:
    if await new_sqlite_file(settings):
        print(f"Database: SQLite {settings.database}, made at the first start")
        return True
    opened = await open_database(settings, Store.revision)
    if isinstance(opened, DatabaseFailure):
        if opened.server is None:
            print(f"Database: FAILED, {opened.problem}")
        else:
            print(f"Database: FAILED, {opened.server}: {opened.problem}")
        return False
    store, revision = opened
    try:
        head = migrations.head()
        state = "up to date" if revision == head else f"at {revision or 'no'} revision, {head} due"
        print(f"Database: OK, {store.describe()}, schema {state}")
        return True
    finally:
        await store.close()

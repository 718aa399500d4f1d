"""What the run and the check open: the Omise client, and the database (failures in words)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from linkbot import metrics, tls
from linkbot.config import Settings
from linkbot.omise import OmiseClient
from linkbot.store import Store, postgresql_url

_Read = TypeVar("_Read")

POSTGRESQL_DRIVER_MISSING = (
    "LINKBOT_DATABASE is a PostgreSQL URL, and its driver is not installed:"
    " pip install '.[postgres]' (from the repository)"
)
# What a driver raises for a database setting it cannot use (an option it does
# not take, a port out of range), as opposed to a server that does not answer.
UNUSABLE_DATABASE_SETTING = (TypeError, ValueError, OverflowError)


def omise_client(settings: Settings, *, max_attempts: int = 4) -> OmiseClient:
    timeout = httpx.Timeout(
        connect=min(5.0, settings.omise_timeout), read=settings.omise_timeout, write=10.0, pool=5.0
    )
    return OmiseClient(
        settings.omise_secret_key,
        base_url=settings.omise_api_url,
        timeout=timeout,
        max_attempts=max_attempts,
        on_response=metrics.recorder().omise_request if metrics.recorder().enabled else None,
    )


def telegram_bot(settings: Settings) -> Bot:
    """A plain Bot for a question or two before (or instead of) the bot's start."""
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{settings.telegram_api_url}/bot",
        request=HTTPXRequest(httpx_kwargs={"verify": tls.client_context()}),
    )


async def token_refused(settings: Settings) -> bool:
    """Whether Telegram refuses the bot token (not when Telegram cannot be asked)."""
    try:
        async with telegram_bot(settings):  # which asks getMe
            return False
    except InvalidToken:
        return True
    except TelegramError:
        return False


async def new_sqlite_file(settings: Settings) -> bool:
    """Whether the store is an SQLite file that is not there yet: opening it makes it."""
    if postgresql_url(settings.database) is not None:
        return False
    return not await asyncio.to_thread(Path(settings.database).exists)


@dataclass(frozen=True)
class DatabaseFailure:
    """Why the database could not be opened, in words that hold no password."""

    problem: str
    # Where the store is when its server failed; None when the setting itself
    # cannot be used, which no retry mends.
    server: str | None = None


async def open_database(
    settings: Settings,
    first: Callable[[Store], Awaitable[_Read]],
    *,
    instance_id: str | None = None,
) -> tuple[Store, _Read] | DatabaseFailure:
    """The store with what ``first`` read from it, or why it could not be had (the store closed)."""
    try:
        store = Store.connect(settings.database, instance_id=instance_id)
    except ImportError:
        return DatabaseFailure(POSTGRESQL_DRIVER_MISSING)
    except (*UNUSABLE_DATABASE_SETTING, OSError) as exc:
        return DatabaseFailure(_unusable_database(settings, exc))
    try:
        return store, await first(store)
    except UNUSABLE_DATABASE_SETTING as exc:
        failure = DatabaseFailure(f"{_unusable_database(settings, exc)} ({store.describe()})")
    except (OSError, SQLAlchemyError) as exc:
        failure = DatabaseFailure(reason(exc), server=store.describe())
    except BaseException:
        await store.close()
        raise
    await store.close()
    return failure


def _unusable_database(settings: Settings, exc: BaseException) -> str:
    """One line naming the setting the driver could not use, without its value (a password)."""
    name = "LINKBOT_DATABASE" if settings.linkbot_database else "DATABASE_URL"
    return f"{name} cannot be used: {reason(exc)}"


def reason(exc: BaseException) -> str:
    """What went wrong with the database, in one line, without the statement or its values."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}".rstrip(
        ": "
    )

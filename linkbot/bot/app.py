"""Assemble the python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Literal

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
)

from linkbot.bot import handlers
from linkbot.bot.access import Access
from linkbot.bot.handlers import SERVICES, Services
from linkbot.bot.messages import text
from linkbot.config import Settings
from linkbot.links import LinkService

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
MENU = ("link", "multilink", "links", "status", "cancel", "help")


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handle updates concurrently, but one at a time within a chat.

    A slow Omise call for one merchant never holds up another, while two
    commands in one chat are answered in the order they were sent (asyncio
    locks are fair, and updates arrive here in order).
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def default_rate_limiter() -> AIORateLimiter:
    """Telegram's flood limits (30 messages a second, 20 a minute per group), retrying 429s."""
    return AIORateLimiter(max_retries=5)


def build_application(
    settings: Settings,
    links: LinkService,
    *,
    rate_limiter: BaseRateLimiter[Any] | Literal["default"] | None = "default",
) -> Application:  # type: ignore[type-arg]
    api = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor())
        .connection_pool_size(64)
        .pool_timeout(10.0)
    )
    if rate_limiter == "default":
        rate_limiter = default_rate_limiter()
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)  # type: ignore[arg-type]
    application = builder.build()
    application.bot_data[SERVICES] = Services(
        links=links,
        access=Access(settings.linkbot_allowed_users),
        zone=settings.timezone,
        default_currency=settings.default_currency,
        test_mode=settings.omise_test_mode,
    )
    application.add_handlers(
        [
            CommandHandler(["start", "help"], handlers.start),
            CommandHandler("link", handlers.link),
            CommandHandler("multilink", handlers.multilink),
            CommandHandler("links", handlers.links),
            CommandHandler("cancel", handlers.cancel),
            CommandHandler("status", handlers.status),
            CallbackQueryHandler(handlers.cancel_button, pattern=r"^cancel:"),
            CallbackQueryHandler(handlers.links_page, pattern=r"^links:"),
        ]
    )
    application.add_error_handler(handlers.on_error)
    return application


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    commands = [BotCommand(name, text(f"menu_{name}")) for name in MENU]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:
        logger.warning("Could not register the command menu: %s", exc)

"""Assemble the python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from telegram import BotCommand, Chat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from linkbot import tls
from linkbot.bot import bookkeeping, handlers
from linkbot.bot.access import Access
from linkbot.bot.delivery import Delivery
from linkbot.bot.handlers import SERVICES, Services
from linkbot.bot.messages import text
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.reports import Reports

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
# Every update type a handler below takes; the only ones asked of Telegram.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
MENU = ("link", "multilink", "links", "status", "qr", "cancel", "report", "export", "help")


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handle updates concurrently, but one at a time within a chat.

    A slow Omise call for one merchant never holds up another, while two
    commands in one chat are answered in the order they were sent (asyncio
    locks are fair, and updates arrive here in order).

    A stranger's update in a group skips the chat's queue: it earns only an
    in-memory decision and at most one reply, so it needs no order, and
    customers spamming commands never stand between the merchant and their
    links. ``may_manage`` tells the merchant's users from strangers.
    """

    def __init__(
        self,
        may_manage: Callable[[User | None], bool],
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._may_manage = may_manage
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = self._queue_of(update)
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._locks[chat]

    def _queue_of(self, update: object) -> int | None:
        """The chat whose queue ``update`` joins, or None to handle it at once."""
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        chat = update.effective_chat
        if (
            chat.type != Chat.PRIVATE
            and (update.callback_query is not None or _is_command(update.message))
            and not self._may_manage(update.effective_user)
        ):
            return None
        return chat.id

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _is_command(message: Message | None) -> bool:
    # Service messages (a migration) and membership changes keep their place in line.
    return message is not None and (message.text or "").startswith("/")


def default_rate_limiter() -> AIORateLimiter:
    """Telegram's flood limits (30 messages a second, 20 a minute per group), retrying 429s."""
    return AIORateLimiter(max_retries=5)


def build_application(
    settings: Settings,
    links: LinkService,
    *,
    rate_limiter: BaseRateLimiter[Any] | Literal["default"] | None = "default",
    access: Access | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, wired to ``links``; ``access`` defaults to the settings' allowed users."""
    if access is None:
        access = Access(settings.linkbot_allowed_users)
    api = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor(access.may_manage))
        .request(
            HTTPXRequest(
                connection_pool_size=64,
                pool_timeout=10.0,
                httpx_kwargs={"verify": tls.client_context()},
            )
        )
        # PTB's own choice for the long poll: one connection.
        .get_updates_request(
            HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": tls.client_context()})
        )
        # A reply whose command message was deleted meanwhile still goes out, unquoted.
        .defaults(Defaults(allow_sending_without_reply=True))
    )
    if rate_limiter == "default":
        rate_limiter = default_rate_limiter()
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)  # type: ignore[arg-type]
    application = builder.build()
    application.bot_data[SERVICES] = Services(
        links=links,
        access=access,
        zone=settings.timezone,
        default_currency=settings.default_currency,
        test_mode=settings.omise_test_mode,
        reports=Reports(links.store, links.omise),
        delivery=Delivery(application.bot, links.store),
        daily_report=settings.daily_report,
    )
    application.add_handlers(
        [
            CommandHandler(["start", "help"], handlers.start),
            CommandHandler("link", handlers.link),
            CommandHandler("multilink", handlers.multilink),
            CommandHandler("links", handlers.links),
            CommandHandler("cancel", handlers.cancel),
            CommandHandler("status", handlers.status),
            CommandHandler("qr", handlers.qr),
            CommandHandler("report", bookkeeping.report),
            CommandHandler("export", bookkeeping.export),
            CallbackQueryHandler(handlers.cancel_button, pattern=r"^cancel:"),
            CallbackQueryHandler(handlers.qr_button, pattern=r"^qr:"),
            CallbackQueryHandler(handlers.links_page, pattern=r"^links:"),
            MessageHandler(filters.StatusUpdate.MIGRATE, handlers.chat_migrated),
            ChatMemberHandler(handlers.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
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

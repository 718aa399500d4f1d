"""Assemble the python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    Chat,
    Message,
    Update,
    User,
)
from telegram.error import RetryAfter, TelegramError
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

from linkbot import handover, metrics, tls
from linkbot.bot import bookkeeping, business, handlers, inline, throttle, turns
from linkbot.bot.access import Access
from linkbot.bot.delivery import Delivery, may_have_arrived
from linkbot.bot.handlers import SERVICES, Services, services
from linkbot.bot.messages import DEFAULT_LANGUAGE, SUPPORTED, text
from linkbot.bot.observe import observed
from linkbot.commands import command_word
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.reports import Reports

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
# Every update type a handler below takes; the only ones asked of Telegram.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    *inline.UPDATE_TYPES,
    *business.UPDATE_TYPES,
]
MENU = ("link", "multilink", "links", "status", "qr", "cancel", "report", "export", "help")
# What everyone else sees, customers in a group included: nothing that manages links.
PUBLIC_MENU = ("start", "help")
# Replies to strangers a second, all together: a third of Telegram's 30, so the
# merchant's messages always find room.
STRANGER_RATE = 10.0
# Seconds a stranger's reply waits at most for the merchant's messages to go first.
STRANGER_WAIT = 5.0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handle updates concurrently, but in order within a chat.

    A slow Omise call for one merchant never holds up another, while two
    commands in one chat are answered in the order they were sent: each
    update waits for the one before it in its chat (updates arrive here in
    order). A merchant's link commands are the exception: they start at
    once and wait for their turn only to answer (:mod:`linkbot.bot.turns`),
    so a burst of ``/link`` in one chat costs one Omise round trip, not one
    each; an update of any other kind still waits for all before it.

    A stranger's update in a group skips the chat's queue: it earns only an
    in-memory decision and at most one reply, so it needs no order, and
    customers spamming commands never stand between the merchant and their
    links. ``may_manage`` tells the merchant's users from strangers;
    ``known_admin`` the group administrators LINKBOT_GROUP_ADMINS lets in,
    once a handler has asked Telegram about them (until then their commands
    skip the queue as a stranger's do).
    """

    def __init__(
        self,
        may_manage: Callable[[User | None], bool],
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        known_admin: Callable[[int, User | None], bool] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._may_manage = may_manage
        self._known_admin = known_admin
        # Per chat, the last update's "finished" future: the next one waits on it.
        self._last: dict[int, asyncio.Future[None]] = {}
        # Webhook updates queued and not yet handled, by id(): what the webhook may refuse on.
        self._expected: set[int] = set()
        # Told of each expected update once handled (the webhook's inbox); not of one
        # cancelled at shutdown, which is to be handled again.
        self.on_handled: Callable[[object], Awaitable[None]] | None = None
        # The tasks handling updates now: what a shutdown past its grace cancels.
        self._running: set[asyncio.Task[Any]] = set()

    def expect(self, update: object) -> None:
        """Count ``update`` as unfinished until it has been handled."""
        self._expected.add(id(update))

    @property
    def unfinished(self) -> int:
        return len(self._expected)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        expected = id(update) in self._expected
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._in_order(update, coroutine)
        finally:
            self._expected.discard(id(update))
            if task is not None:
                self._running.discard(task)
        if expected and self.on_handled is not None:
            await self.on_handled(update)

    async def cancel_running(self) -> int:
        """Cancel the updates still being handled, and wait until they have stopped.

        For a shutdown past its grace: nothing of this instance may still
        work on a command once it has told the others it is gone.
        """
        running = [task for task in self._running if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        return len(running)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = self._queue_of(update)
        if chat is None:
            await coroutine
            return
        earlier = self._last.get(chat)
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[chat] = finished
        try:
            if self._overlaps(update):
                with turns.overlapping(earlier):
                    await coroutine
            else:
                if earlier is not None:
                    await asyncio.shield(earlier)
                await coroutine
        finally:
            try:
                # Finished only once every update before it is: the chain keeps its order.
                if earlier is not None and not earlier.done():
                    await asyncio.shield(earlier)
            finally:
                finished.set_result(None)
                if self._last.get(chat) is finished:
                    del self._last[chat]

    def _overlaps(self, update: object) -> bool:
        """Whether ``update`` is a merchant's link command, which may start before its turn."""
        if not isinstance(update, Update) or update.message is None:
            return False
        command = command_word(update.message.text)
        return command in ("link", "multilink") and self._may_manage(update.effective_user)

    def _queue_of(self, update: object) -> int | None:
        """The chat whose queue ``update`` joins, or None to handle it at once."""
        if isinstance(update, Update) and update.business_connection is not None:
            # Connected, then switched off a moment later: the last word must win.
            return update.business_connection.user_chat_id
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        chat = update.effective_chat
        if (
            update.business_message or update.edited_business_message
        ) is not None and not self._may_manage(update.effective_user):
            # A customer writing in a merchant's own chat: ignored, so no order needed.
            return None
        if (
            chat.type != Chat.PRIVATE
            and (update.callback_query is not None or _is_command(update.message))
            and not self._may_manage(update.effective_user)
            and not (self._known_admin and self._known_admin(chat.id, update.effective_user))
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


class CountingRateLimiter(AIORateLimiter):
    """AIORateLimiter sending the merchant's messages first, and counting 429s for metrics.

    Only messages posted to a chat are paced (Telegram's flood limits are
    about messages): a lookup such as getChatMember goes at once, so a crowd
    of customers checked in a group never holds up the merchant's reply there.
    A reply to a stranger (:func:`linkbot.bot.throttle.answering_stranger`)
    waits while another private message waits for the bot's overall allowance
    (a group's own 20 a minute is no reason to hold strangers back), for
    ``stranger_wait`` seconds at most, and strangers' replies together go out
    at most ``stranger_rate`` a second, a third of Telegram's 30: however many
    strangers write at once, the merchant's replies and notices never queue
    behind theirs. Every 429 and every retry after one is told to
    :mod:`linkbot.metrics`.
    """

    def __init__(
        self,
        *,
        stranger_rate: float = STRANGER_RATE,
        stranger_wait: float = STRANGER_WAIT,
        **limits: Any,
    ) -> None:
        super().__init__(**limits)
        self._strangers = AsyncLimiter(stranger_rate, 1)
        self._stranger_wait = stranger_wait
        # Private messages other than strangers' replies not yet let through to Telegram.
        self._waiting = 0
        self._none_waiting = asyncio.Event()
        self._none_waiting.set()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        posting = data.get("chat_id") is not None and endpoint.startswith(_POSTING)
        if not posting:
            # Without a chat_id AIORateLimiter only retries after a 429; it reads nothing else.
            data = {key: value for key, value in data.items() if key != "chat_id"}
        stranger = posting and throttle.for_stranger()
        # A group's message mostly waits for that group's own allowance, which
        # strangers' private replies do not spend.
        waiting = posting and not stranger and not _is_group(data["chat_id"])
        attempts = 0

        def let_through() -> None:
            nonlocal waiting
            if waiting:
                waiting = False
                self._waiting -= 1
                if not self._waiting:
                    self._none_waiting.set()

        async def counted(
            *call_args: Any, **call_kwargs: Any
        ) -> bool | dict[str, Any] | list[dict[str, Any]]:
            # AIORateLimiter calls this once its limits let the message through,
            # and again only after a RetryAfter.
            nonlocal attempts
            attempts += 1
            let_through()
            if attempts > 1:
                metrics.recorder().telegram_retry()
            try:
                if not posting:
                    return await callback(*call_args, **call_kwargs)
                with handover.posting(_may_have_arrived):
                    return await callback(*call_args, **call_kwargs)
            except RetryAfter:
                metrics.recorder().telegram_flood()
                raise

        if stranger:
            await self._strangers.acquire()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._stranger_wait):
                    await self._none_waiting.wait()
        elif waiting:
            self._waiting += 1
            self._none_waiting.clear()
        try:
            return await super().process_request(
                counted, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            let_through()  # failed or cancelled before it was let through


# Methods that post a message to a chat (or change one): those Telegram's flood limits count.
_POSTING = ("send", "edit", "copy", "forward", "stop")


def _may_have_arrived(exc: Exception) -> bool:
    return not isinstance(exc, TelegramError) or may_have_arrived(exc)


def _is_group(chat_id: object) -> bool:
    try:
        return int(str(chat_id)) < 0
    except ValueError:
        return True  # a public group's or channel's @username


def default_rate_limiter() -> AIORateLimiter:
    """Telegram's flood limits (30 messages a second, 20 a minute per group), retrying 429s.

    Strangers' replies go last (see :class:`CountingRateLimiter`).
    """
    return CountingRateLimiter(max_retries=5)


def build_application(
    settings: Settings,
    links: LinkService,
    *,
    rate_limiter: BaseRateLimiter[Any] | Literal["default"] | None = "default",
    access: Access | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, wired to ``links``; ``access`` defaults to the settings' allowed users."""
    if access is None:
        access = Access(settings.linkbot_allowed_users, group_admins=settings.linkbot_group_admins)
    api = settings.telegram_api_url
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(
            PerChatUpdateProcessor(access.may_manage, known_admin=access.known_admin)
        )
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
        language=settings.linkbot_language,
        sandbox=settings.sandbox,
    )
    application.add_handlers(
        [
            *inline.inline_handlers(),
            CommandHandler(["start", "help"], observed(["start", "help"], handlers.start)),
            CommandHandler("link", observed("link", handlers.link)),
            CommandHandler("multilink", observed("multilink", handlers.multilink)),
            CommandHandler("links", observed("links", handlers.links)),
            CommandHandler("cancel", observed("cancel", handlers.cancel)),
            CommandHandler("status", observed("status", handlers.status)),
            CommandHandler("qr", observed("qr", handlers.qr)),
            CommandHandler("report", observed("report", bookkeeping.report)),
            CommandHandler("export", observed("export", bookkeeping.export)),
            CallbackQueryHandler(
                observed("cancel_button", handlers.cancel_button), pattern=r"^cancel:"
            ),
            CallbackQueryHandler(observed("qr_button", handlers.qr_button), pattern=r"^qr:"),
            CallbackQueryHandler(observed("links_page", handlers.links_page), pattern=r"^links:"),
            MessageHandler(filters.StatusUpdate.MIGRATE, handlers.chat_migrated),
            ChatMemberHandler(handlers.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            *business.business_handlers(),
        ]
    )
    application.add_error_handler(handlers.on_error)
    return application


def menus(forced: str | None = None) -> list[tuple[BotCommandScope, str | None, list[BotCommand]]]:
    """Every command menu: (scope, language_code, commands).

    Private chats get the merchant's menu; the default scope, which covers
    groups, only /start and /help, so customers there are not offered /link.
    Telegram shows the menu of the user's app language, else that of
    language_code None, which is English; a ``forced`` language (LINKBOT_LANGUAGE)
    is the only menu, under language_code None.
    """
    found: list[tuple[BotCommandScope, str | None, list[BotCommand]]] = []
    for language in [forced] if forced else SUPPORTED:
        code = None if forced or language == DEFAULT_LANGUAGE else language
        for scope, names in (
            (BotCommandScopeAllPrivateChats(), MENU),
            (BotCommandScopeDefault(), PUBLIC_MENU),
        ):
            commands = [BotCommand(name, text(f"menu_{name}", language)) for name in names]
            found.append((scope, code, commands))
    return found


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    forced = services(application).language
    # With one language forced, the others' menus go: Telegram keeps a menu set
    # for a language until it is deleted, and would go on showing it to that language's users.
    stale = [
        _remove_menu(application, scope, language)
        for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeDefault())
        for language in SUPPORTED
        if forced and language != DEFAULT_LANGUAGE
    ]
    # All at once: one after the other, the round trips to Telegram delayed the first update.
    await asyncio.gather(
        *stale,
        *(
            _register_menu(application, scope, language_code, commands)
            for scope, language_code, commands in menus(forced)
        ),
    )


async def _remove_menu(
    application: Application,  # type: ignore[type-arg]
    scope: BotCommandScope,
    language: str,
) -> None:
    try:
        await application.bot.delete_my_commands(scope=scope, language_code=language)
    except TelegramError as exc:
        logger.warning("Could not remove the %s command menu (%s): %s", scope.type, language, exc)


async def _register_menu(
    application: Application,  # type: ignore[type-arg]
    scope: BotCommandScope,
    language_code: str | None,
    commands: list[BotCommand],
) -> None:
    try:
        await application.bot.set_my_commands(commands, scope=scope, language_code=language_code)
    except TelegramError as exc:
        logger.warning(
            "Could not register the %s command menu (%s): %s",
            scope.type,
            language_code or DEFAULT_LANGUAGE,
            exc,
        )

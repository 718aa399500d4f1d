"""Getting a message about a link into its chat, whatever happened to the chat meanwhile.

A chat moves on without the bot: the command message is deleted before the
reply (the reply goes out unquoted), a group becomes a supergroup with a
new id (the link moves with it), the bot is removed or blocked (403: the
link's creator is told in a private chat instead, and the chat is not
tried again until someone uses the bot there).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    TelegramError,
    TimedOut,
)

from linkbot.bot import views
from linkbot.bot.messages import DEFAULT_LANGUAGE, Html, text
from linkbot.bot.views import Reply
from linkbot.store import LinkRecord, Store

logger = logging.getLogger(__name__)

_Sent = TypeVar("_Sent")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Waits before each new try of a message that must arrive (a new link, a payment).
RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0)


class Unconfirmed(TimedOut):
    """A message may have reached Telegram, but its answer never came: it is not sent again."""

    def __init__(self) -> None:
        super().__init__("Telegram did not answer; the message may have arrived")


# Failures before any byte of the request left this host: Telegram cannot have acted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def may_have_arrived(exc: TelegramError) -> bool:
    """Whether a request that failed with ``exc`` may still have been carried out by Telegram.

    Telegram's refusals (400, 403, a 429's RetryAfter, a migrated chat) say
    it did nothing, and a connection never made sent nothing. So do its 500,
    502 and 503: Telegram, or the gateway in front of it, failed before
    acting, which is what an outage of hours looks like, and the notice is
    sent once it is over. A 504 is the gateway giving up waiting on a
    request Telegram may yet carry out. That, no answer in time, a
    connection dropped after the request went out, or a 200 whose body could
    not be read leaves it unknown.
    """
    if isinstance(exc, BadRequest):  # a NetworkError to python-telegram-bot
        return False
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if isinstance(cause, _NOT_SENT):
            return False
        if cause is None or isinstance(cause, TelegramError):
            # An error status Telegram answered with (the body read or not).
            return isinstance(exc, TimedOut) or _GATEWAY_TIMEOUT.search(exc.message) is not None
        return True
    # Only a 200 fails this way: its body was not JSON.
    return type(exc) is TelegramError and isinstance(exc.__cause__, ValueError)


# How python-telegram-bot names a 504 it could not read, or Telegram's own description of one.
_GATEWAY_TIMEOUT = re.compile(r"\(504\)|gateway time-?out", re.IGNORECASE)


async def send_persistently(
    send: Callable[[], Awaitable[_Sent]], *, resend_after_timeout: bool = True
) -> _Sent:
    """Send (or edit) a message that must arrive, trying again on network trouble and 5xx.

    A refusal (BadRequest, Forbidden) is final. Trying again after a send
    that got no answer (a timeout, a connection dropped once the request was
    out) may show the message twice: right for a new link (a lost one would
    hide a link that exists), wrong for a notice or a summary
    (``resend_after_timeout=False``: such a send is tried once, and
    :class:`Unconfirmed` raised, see :func:`may_have_arrived`, while a send
    that surely never reached Telegram is still tried again).
    """
    for delay in RETRY_DELAYS:
        try:
            return await send()
        except BadRequest:  # a NetworkError to python-telegram-bot, yet Telegram's final word
            raise
        except NetworkError as exc:
            _unless_unconfirmed(exc, resend_after_timeout)
            if isinstance(exc, TimedOut):
                logger.warning("Telegram did not answer in time; trying again in %.1fs", delay)
            else:
                logger.warning("Sending failed (%s); trying again in %.1fs", exc, delay)
            await asyncio.sleep(delay)
        except TelegramError as exc:
            _unless_unconfirmed(exc, resend_after_timeout)
            raise
    try:
        return await send()
    except TelegramError as exc:
        _unless_unconfirmed(exc, resend_after_timeout)
        raise


def _unless_unconfirmed(exc: TelegramError, resend: bool) -> None:
    """Raise :class:`Unconfirmed` for a send that may have arrived and is not to be repeated."""
    if not resend and may_have_arrived(exc):
        raise Unconfirmed from exc


async def send_reply(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    *,
    quote: int | None = None,
    resend_after_timeout: bool = True,
    business_connection_id: str | None = None,
) -> Message:
    """Send ``reply`` to a chat, quoting a message if it is still there."""
    return await send_persistently(
        lambda: bot.send_message(
            chat_id,
            reply.text,
            business_connection_id=business_connection_id,
            parse_mode="HTML",
            reply_markup=reply.markup,
            link_preview_options=NO_PREVIEW,
            reply_parameters=(
                ReplyParameters(quote, allow_sending_without_reply=True)
                if quote is not None
                else None
            ),
        ),
        resend_after_timeout=resend_after_timeout,
    )


class Delivery:
    """Sends what concerns a link to the chat it belongs to, or failing that, to its creator."""

    def __init__(self, bot: Bot, store: Store, *, resend_after_timeout: bool = True) -> None:
        self.bot = bot
        self._business = store.business
        self._chats = store.chats
        self._resend = resend_after_timeout

    async def language_of_user(self, user_id: int, forced: str | None = None) -> str:
        """What the bot says on its own to ``user_id`` speaks: theirs, unless one is forced."""
        if forced is not None:
            return forced
        return await self._chats.user_language(user_id) or DEFAULT_LANGUAGE

    async def to_link_chat(
        self,
        record: LinkRecord,
        reply: Reply,
        *,
        quote: int | None,
        fallback: str,
        chat_open: bool = False,
        language: str = DEFAULT_LANGUAGE,
        private_reply: Reply | None = None,
    ) -> Message | None:
        """Post ``reply`` in the link's chat; returns the message, or None if none was sent.

        When the chat cannot be written to, the creator gets ``private_reply``
        (by default ``reply``) in a
        private chat after the catalog text ``fallback`` (that message is
        returned), in ``language``; a chat known to be closed is not tried again, unless
        ``chat_open`` says it was just heard from. Network trouble and other
        refusals raise.
        """
        if record.business_connection_id is not None:
            return await self._to_business_chat(record, reply, language=language)
        chat_id = record.chat_id
        # A private chat is always tried: there is nowhere else to go, and a
        # user who unblocked the bot says nothing the bot would see.
        if (
            chat_open
            or chat_id == record.creator_id
            or await self._chats.forbidden_since(chat_id) is None
        ):
            try:
                return await self._send_following_migration(chat_id, reply, quote)
            except Forbidden as exc:
                await self._chats.set_forbidden(chat_id, datetime.now(UTC))
                logger.warning(
                    "Chat %s refused a message about %s (%s): the bot was removed or "
                    "blocked there; telling its creator privately",
                    chat_id,
                    record.link_id,
                    exc.message,
                )
        private = reply if private_reply is None else private_reply
        return await self.to_creator(record, private, fallback=fallback, language=language)

    async def _to_business_chat(
        self, record: LinkRecord, reply: Reply, *, language: str
    ) -> Message | None:
        """Post in the merchant's own chat with a customer, or tell the merchant why not.

        The connection is read again even for a command just checked: the
        merchant may switch it off while Omise makes the link or while the
        command waits its turn, and the stored state names the reason.
        """
        assert record.business_connection_id is not None
        reason = await self._business_closed(record.business_connection_id)
        if reason is None:
            try:
                return await send_reply(
                    self.bot,
                    record.chat_id,
                    reply,
                    resend_after_timeout=self._resend,
                    business_connection_id=record.business_connection_id,
                )
            except (BadRequest, Forbidden) as exc:
                found = business_refusal(exc)
                if found is None:
                    raise
                reason = found
                logger.warning(
                    "Telegram refused a business message about %s: %s", record.link_id, exc.message
                )
        return await self.to_creator(record, reply, fallback=reason, language=language)

    async def _business_closed(self, connection_id: str) -> str | None:
        """Why the merchant's connection cannot post now, as a catalog key; None if it can."""
        connection = await self._business.business_connection(connection_id)
        if connection is None or not connection.is_enabled:
            return "business_disabled"
        if not connection.can_reply:
            return "business_no_reply"
        return None

    async def to_creator(
        self, record: LinkRecord, reply: Reply, *, fallback: str, language: str = DEFAULT_LANGUAGE
    ) -> Message | None:
        if record.creator_id == record.chat_id:
            logger.warning(
                "Could not tell %s about %s: chat closed", record.chat_id, record.link_id
            )
            return None
        private = Reply(text(fallback, language, body=Html(reply.text)), reply.markup)
        try:
            return await send_reply(
                self.bot, record.creator_id, private, resend_after_timeout=self._resend
            )
        except Forbidden:
            logger.warning(
                "Could not tell user %s about %s privately either: they have no private chat "
                "with the bot, or blocked it",
                record.creator_id,
                record.link_id,
            )
            return None

    async def to_chat(self, chat_id: int, reply: Reply) -> Message:
        """Send to a chat, following it if it became a supergroup; refusals raise."""
        return await self._send_following_migration(chat_id, reply, None)

    async def _send_following_migration(
        self, chat_id: int, reply: Reply, quote: int | None
    ) -> Message:
        try:
            return await send_reply(
                self.bot, chat_id, reply, quote=quote, resend_after_timeout=self._resend
            )
        except ChatMigrated as exc:
            await self.moved(chat_id, exc.new_chat_id)
            # Message ids of the old group mean nothing in the new one.
            return await send_reply(
                self.bot, exc.new_chat_id, reply, resend_after_timeout=self._resend
            )

    async def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        count = await self._chats.move_chat(old_chat_id, new_chat_id)
        logger.info(
            "Group %s is now supergroup %s; moved %d link(s)", old_chat_id, new_chat_id, count
        )


async def edit_inline(bot: Bot, inline_message_id: str, reply: Reply) -> None:
    """Show ``reply`` in an inline message, trying again on network trouble.

    An edit may safely be repeated: a message already showing ``reply`` is
    not an error. A refusal (the message is gone, or was never editable) raises.
    """

    async def edit() -> None:
        await unless_unchanged(
            bot.edit_message_text(
                reply.text,
                inline_message_id=inline_message_id,
                parse_mode="HTML",
                reply_markup=reply.markup,
                link_preview_options=NO_PREVIEW,
            )
        )

    await send_persistently(edit)


async def unless_unchanged(edit: Awaitable[object]) -> None:
    """Await ``edit``; Telegram refusing it because the message already shows it is no error."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def refresh_link_message(
    bot: Bot, record: LinkRecord, zone: ZoneInfo, language: str = DEFAULT_LANGUAGE, *, takings: bool
) -> None:
    """Show a link's current state in the message it was posted in, if it still can be.

    ``takings``: whether its chat may see what a reusable link took
    (see :mod:`linkbot.bot.audience`).
    """
    if record.inline_message_id is not None:
        try:
            await edit_inline(
                bot,
                record.inline_message_id,
                views.link_message(record, zone, language, place="inline"),
            )
        except TelegramError as exc:
            logger.info("Could not update the inline message of %s: %s", record.link_id, exc)
        return
    message_id = record.editable_message_id
    if message_id is None:
        return
    reply = views.link_message(record, zone, language, takings=takings)
    try:
        await bot.edit_message_text(
            reply.text,
            chat_id=record.chat_id,
            message_id=message_id,
            business_connection_id=record.business_connection_id,
            parse_mode="HTML",
            reply_markup=reply.markup,
            link_preview_options=NO_PREVIEW,
        )
    except (BadRequest, Forbidden) as exc:
        # Deleted, too old to edit, already showing this, or the chat is closed.
        logger.info("Could not update the message of %s: %s", record.link_id, exc.message)
    except TelegramError as exc:
        logger.info("Could not update the message of %s yet: %s", record.link_id, exc)


def business_refusal(exc: TelegramError) -> str | None:
    """Why Telegram refused a message through a business connection, as a catalog key.

    The one place that reads Telegram's wording: None when the refusal is
    not about the connection (bad text, a deleted message).
    """
    said = exc.message.upper()
    if "PEER_USAGE_MISSING" in said:
        return "business_window"  # the customer has not written in the last 24 hours
    if "BUSINESS_CONNECTION" in said:
        return "business_disabled"  # unknown, removed or switched off
    if isinstance(exc, Forbidden) or "RIGHTS" in said:
        return "business_no_reply"
    return None

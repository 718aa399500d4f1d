"""Telegram Business: links in the merchant's own private chats with customers.

A merchant connects the bot to their account (Telegram Settings → Business →
Chatbots). The bot then sees every message of the chats it was given, the
customers' and the merchant's own. Only the merchant's own messages, and only
when the merchant is an authorized user, are commands; a customer's message
is never answered or acted on. The link message goes into the chat as the
merchant; everything else the merchant is told goes to their private chat
with the bot, and the command message is deleted when the rights allow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC
from typing import Any

from telegram import Bot, BusinessConnection, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, BusinessConnectionHandler, CommandHandler, filters

from linkbot.bot import handlers, views
from linkbot.bot.delivery import send_reply
from linkbot.bot.handlers import services
from linkbot.bot.messages import Html, text
from linkbot.bot.observe import observed
from linkbot.bot.views import Reply
from linkbot.store import BusinessConnectionRecord, Store

logger = logging.getLogger(__name__)

# The update types the handlers below take.
UPDATE_TYPES = [
    Update.BUSINESS_CONNECTION,
    Update.BUSINESS_MESSAGE,
    Update.EDITED_BUSINESS_MESSAGE,
]

_Handler = Callable[[Update, Any], Coroutine[Any, Any, None]]

# The commands that work in a business chat, scoped to it as in a group.
COMMANDS: dict[str, _Handler] = {
    "link": handlers.link,
    "multilink": handlers.multilink,
    "links": handlers.links,
    "status": handlers.status,
    "cancel": handlers.cancel,
    "qr": handlers.qr,
}


def business_handlers() -> list[BaseHandler[Update, Any, None]]:
    # CommandHandler takes only ordinary messages unless told otherwise.
    commands: list[BaseHandler[Update, Any, None]] = [
        CommandHandler(
            name,
            observed(name, from_owner(action)),
            filters=filters.UpdateType.BUSINESS_MESSAGES,
        )
        for name, action in COMMANDS.items()
    ]
    return [BusinessConnectionHandler(connection_changed), *commands]


def from_owner(action: _Handler) -> _Handler:
    """Run a command only when the connection's own, authorized user sent it."""

    async def handler(update: Update, context: Any) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.business_connection_id is None:
            return
        found = services(context)
        language = found.language_of(update)
        bot = update.get_bot()
        connection = await known_connection(found.links.store, bot, message.business_connection_id)
        if connection is None:
            if found.access.may_manage(user):
                await _tell(bot, user.id, views.plain("business_command_off", language))
            return
        if user.id != connection.user_id or not found.access.may_manage(user):
            # A customer, whose messages are never answered; or an owner
            # who is not authorized, told so once when they connected.
            return
        if not connection.is_enabled or not connection.can_reply:
            off = not connection.is_enabled
            key = "business_command_off" if off else "business_command_no_reply"
            await _tell(bot, connection.user_chat_id, views.plain(key, language))
            return
        await action(update, context)
        if connection.can_delete_all_messages:
            # The merchant's command has done its work; the customer sees the link alone.
            try:
                await bot.delete_business_messages(connection.connection_id, [message.message_id])
            except TelegramError as exc:
                logger.info("Could not delete a business command message: %s", exc)

    return handler


async def connection_changed(update: Update, context: Any) -> None:
    """A merchant connected the bot, changed its rights, or switched it off."""
    connection = update.business_connection
    if connection is None:
        return
    found = services(context)
    language = found.language_of(update)
    record = connection_record(connection)
    await found.links.store.business.save_business_connection(record)
    bot = update.get_bot()
    if not found.access.may_manage(connection.user):
        if record.is_enabled:
            await _tell(
                bot,
                record.user_chat_id,
                views.plain("business_not_authorized", language, user_id=connection.user.id),
            )
        return
    if not record.is_enabled:
        reply = views.plain("business_disconnected", language)
    elif not record.can_reply:
        reply = views.plain("business_connected_no_reply", language)
    else:
        hint = (
            "" if record.can_delete_all_messages else text("business_connected_no_delete", language)
        )
        reply = views.plain("business_connected", language, delete=Html(hint))
    await _tell(bot, record.user_chat_id, reply)


async def known_connection(
    store: Store, bot: Bot, connection_id: str
) -> BusinessConnectionRecord | None:
    """The connection as last told, asking Telegram when it was made before the bot kept them."""
    record = await store.business.business_connection(connection_id)
    if record is not None:
        return record
    try:
        connection = await bot.get_business_connection(connection_id)
    except TelegramError as exc:
        logger.info("Telegram does not know business connection %s: %s", connection_id, exc)
        return None
    record = connection_record(connection)
    await store.business.save_business_connection(record)
    return record


def connection_record(connection: BusinessConnection) -> BusinessConnectionRecord:
    rights = connection.rights
    date = connection.date
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return BusinessConnectionRecord(
        connection_id=connection.id,
        user_id=connection.user.id,
        user_chat_id=connection.user_chat_id,
        is_enabled=connection.is_enabled,
        can_reply=bool(rights and rights.can_reply),
        can_delete_sent_messages=bool(rights and rights.can_delete_sent_messages),
        can_delete_all_messages=bool(rights and rights.can_delete_all_messages),
        date=date.astimezone(UTC),
    )


async def _tell(bot: Bot, chat_id: int, reply: Reply) -> None:
    """A private word to the merchant, sent once; one who never started the bot cannot get it."""
    try:
        await send_reply(bot, chat_id, reply, resend_after_timeout=False)
    except TelegramError as exc:
        logger.warning("Could not tell business user %s privately: %s", chat_id, exc)

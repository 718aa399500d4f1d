"""Telegram handlers: read the command, call the link service, render the answer."""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from telegram import Bot, CallbackQuery, ChatMember, Message, ReplyParameters, Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from linkbot.bot import turns, views
from linkbot.bot.access import Access
from linkbot.bot.audience import link_takings_shown, privately, takings_shown
from linkbot.bot.delivery import (
    Delivery,
    edit_inline,
    refresh_link_message,
    send_persistently,
    send_reply,
    unless_unchanged,
)
from linkbot.bot.messages import DEFAULT_LANGUAGE, language_for, text
from linkbot.bot.observe import note
from linkbot.bot.refusals import refusal
from linkbot.bot.throttle import answering_stranger
from linkbot.bot.views import Reply
from linkbot.commands import (
    COMMAND,
    CommandError,
    command_word,
    parse_link,
    parse_link_id,
    parse_page,
)
from linkbot.links import (
    AlreadyCancelled,
    AlreadyPaid,
    LinkNotCreated,
    LinkService,
    connection_tag,
)
from linkbot.money import Currency
from linkbot.omise import (
    AuthenticationError,
    CreateOutcomeUnknown,
    NotFoundError,
    OmiseConnectionError,
    OmiseError,
    OmiseTimeout,
    RateLimitError,
    ServerError,
    ValidationError,
)
from linkbot.qr import qr_png
from linkbot.reports import Reports
from linkbot.store import CommandRecord, LinkRecord

logger = logging.getLogger(__name__)

SERVICES = "linkbot"


@dataclass(frozen=True, slots=True)
class Services:
    links: LinkService
    access: Access
    zone: ZoneInfo
    default_currency: Currency
    test_mode: bool
    reports: Reports
    delivery: Delivery
    # When the daily summary goes out (local time), or None when it is off.
    daily_report: time | None = None
    # LINKBOT_LANGUAGE: every user gets this language; None follows each user's app.
    language: str | None = None

    async def language_of_user(self, user_id: int) -> str:
        """What the bot says on its own to ``user_id`` speaks this: theirs, unless one is forced."""
        return await self.delivery.language_of_user(user_id, self.language)

    def language_of(self, update: Update) -> str:
        """The language to answer ``update`` in: its sender's, unless one is forced."""
        user = update.effective_user
        return language_for(user.language_code if user is not None else None, self.language)

    # In ``linkbot try``: Telegram and Omise are simulated.
    sandbox: bool = False


class _HasBotData(Protocol):
    @property
    def bot_data(self) -> dict[Any, Any]: ...


def services(holder: _HasBotData) -> Services:
    """The services of an Application, or of a handler's context."""
    found: Services = holder.bot_data[SERVICES]
    return found


_Action = Callable[[Update, Services], Awaitable[None]]
_Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def for_managers(action: _Action) -> _Handler:
    """Run ``action`` only for authorized users, and answer every failure it meets."""

    @functools.wraps(action)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = services(context)
        language = found.language_of(update)
        user = update.effective_user
        if user is None or not await found.access.may_act(update):
            note(outcome="refused")
            if found.access.grant_reply(update):
                with answering_stranger():
                    await _answer(update, views.plain("not_authorized", language))
            return
        if update.edited_message is not None or update.edited_business_message is not None:
            # An edit keeps its message id, so it would be taken for a repeat
            # of the command and silently dropped.
            note(outcome="edited")
            await _answer(update, views.plain("edit_ignored", language))
            return
        message, chat = update.effective_message, update.effective_chat
        # The merchant is using the bot there, so it can post there again.
        seen = chat is not None and (message is None or message.business_connection_id is None)
        await found.links.store.chats.note_visit(
            user.id,
            language_for(user.language_code),
            datetime.now(UTC),
            (chat.id, chat.effective_name) if seen and chat is not None else None,
        )
        try:
            await action(update, found)
        except (CommandError, OmiseError, LinkNotCreated) as exc:
            note(outcome="failed")
            await turns.my_turn()
            command = command_word(message.text if message else None) or "link"
            private = found.access.is_private(chat)  # a business chat's answer goes privately too
            await _answer(update, failure(exc, command=command, language=language, private=private))

    return handler


# Commands anyone may use


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    user = update.effective_user
    if user is None or not found.access.grant_reply(update):
        note(outcome="ignored")
        return
    authorized = await found.access.may_act(update)
    if authorized:
        await note_language(found, user)
    # A stranger's answer goes out after the merchant's replies and notices.
    with answering_stranger(not authorized):
        await _answer(
            update,
            views.help_message(
                user_id=user.id,
                authorized=authorized,
                test_mode=found.test_mode,
                default_currency=found.default_currency.code,
                language=found.language_of(update),
                sandbox=found.sandbox,
                bot=context.bot.username,
                in_group=not found.access.is_private(update.effective_chat),
            ),
        )


async def note_language(found: Services, user: User) -> None:
    """Remember an authorized user's language, for what the bot tells them later on its own.

    Customers are not stored: notices and summaries only ever go to the merchant's users.
    """
    await found.links.store.chats.note_language(
        user.id, language_for(user.language_code), datetime.now(UTC)
    )


# Commands for the merchant's authorized users


@for_managers
async def link(update: Update, found: Services) -> None:
    await _create(update, found, multiple=False)


@for_managers
async def multilink(update: Update, found: Services) -> None:
    await _create(update, found, multiple=True)


async def _create(update: Update, found: Services, *, multiple: bool) -> None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and chat is not None and user is not None
    request = parse_link(
        command_arguments(message), default_currency=found.default_currency, multiple=multiple
    )
    created = await found.links.create(
        request,
        chat_id=chat.id,
        message_id=message.message_id,
        creator_id=user.id,
        business_connection_id=message.business_connection_id,
    )
    if created is None or created.answered:
        note(outcome="duplicate")
        return  # a second delivery of a command already answered, or being answered
    language = found.language_of(update)
    note(link_id=created.record.link_id)
    await turns.my_turn()
    await post_link(
        found,
        created.record,
        language,
        quote=None if found.access.is_private(chat) else message.message_id,
        chat_open=True,  # the command came from it
    )


async def post_link(
    found: Services,
    record: LinkRecord,
    language: str,
    *,
    quote: int | None,
    chat_open: bool = False,
) -> None:
    """Post a new link's message in its chat (or to its creator), and remember where it went."""
    sent = await found.delivery.to_link_chat(
        record,
        views.link_message(record, found.zone, language),
        quote=quote,
        fallback="chat_closed_link",
        chat_open=chat_open,
        language=language,
    )
    if sent is not None:
        await found.links.record_reply(record, sent.message_id, chat_id=sent.chat_id)


@for_managers
async def links(update: Update, found: Services) -> None:
    message = update.effective_message
    business = message.business_connection_id if message is not None else None
    chat = update.effective_chat
    if business is not None and chat is not None:
        reply = await _business_links(found, update, chat.id, business, 0, chat.effective_name)
        await _answer(update, reply)
        return
    await _answer(update, await _links_page(found, update, 0))


@for_managers
async def links_page(update: Update, found: Services) -> None:
    query = update.callback_query
    assert query is not None
    # links:<page>, or links:<page>:<chat>:<connection tag> for a business chat's list.
    page_data, _, scope = (query.data or "").removeprefix("links:").partition(":")
    page = parse_page(f"links:{page_data}", "links:")
    reply: Reply | None = None
    if page is not None and not scope:
        reply = await _links_page(found, update, page)
    elif page is not None and found.access.is_private(update.effective_chat):
        # A business chat's list goes only to the merchant's private chat, as
        # /links sends it: a group holds customers, so a button naming that
        # chat pressed anywhere else shows nothing.
        chat_text, _, tag = scope.partition(":")
        chat_id = int(chat_text) if chat_text.lstrip("-").isdigit() else None
        business = (
            await found.links.business_connection_tagged(chat_id, tag)
            if chat_id is not None
            else None
        )
        if chat_id is not None and business is not None:
            reply = await _business_links(found, update, chat_id, business, page, None)
    if reply is None:
        stale = text("button_stale", found.language_of(update))
        await query.answer(plain_text(stale), show_alert=True)
        return
    await _edit(query.message, reply)
    await query.answer()


async def _business_links(
    found: Services,
    update: Update,
    chat_id: int,
    business_connection_id: str,
    page: int,
    customer_name: str | None,
) -> Reply:
    """A page of a merchant's business chat's links; its buttons page through that chat only.

    The list goes to the merchant's private chat, so its header names the
    customer, and its buttons carry the chat (and the connection, hashed).
    """
    records, total = await found.links.chat_links(
        chat_id, page, business_connection_id=business_connection_id
    )
    language = found.language_of(update)
    return views.chat_links(
        records,
        total,
        page,
        found.zone,
        language,
        customer=views.business_customer(customer_name, chat_id, language),
        scope=f"{chat_id}:{connection_tag(business_connection_id)}",
    )


async def _links_page(found: Services, update: Update, page: int) -> Reply:
    chat, language = update.effective_chat, found.language_of(update)
    if found.access.is_private(chat):
        return views.account_links(await found.links.account_links(page), page, language)
    assert chat is not None
    records, total = await found.links.chat_links(chat.id, page)
    takings = await takings_shown(found.links.store.reports, chat.id)
    return views.chat_links(records, total, page, found.zone, language, takings=takings)


@for_managers
async def cancel(update: Update, found: Services) -> None:
    link_id = await _target_link(update, found)
    if link_id is None:
        return
    await _answer(update, await _cancel(update, found, link_id))


@for_managers
async def cancel_button(update: Update, found: Services) -> None:
    query, link_id = await _pressed_link(update, found, "cancel:")
    if link_id is None:
        return
    reply = await _cancel(update, found, link_id)
    await query.answer(plain_text(reply.text)[:200])


async def _pressed_link(
    update: Update, found: Services, prefix: str
) -> tuple[CallbackQuery, str | None]:
    """The link a button press names, if it may be touched in this chat; else an alert says so."""
    query = update.callback_query
    assert query is not None
    link_id = (query.data or "").removeprefix(prefix)
    record = await found.links.find(link_id)
    if query.inline_message_id is not None:
        # A press in an inline message: only the link that message shows.
        allowed = record is not None and record.inline_message_id == query.inline_message_id
    else:
        allowed = found.access.may_see(update.effective_chat, record)
    if not allowed:
        await query.answer(
            plain_text(text("button_stale", found.language_of(update))), show_alert=True
        )
        return query, None
    return query, link_id


async def _cancel(update: Update, found: Services, link_id: str) -> Reply:
    language = found.language_of(update)
    try:
        await found.links.cancel(link_id)
    except AlreadyCancelled:
        await _refresh_link_message(update, found, link_id)
        return views.plain("already_cancelled", language, link_id=link_id)
    except AlreadyPaid:
        return views.plain("already_paid", language, link_id=link_id)
    await _refresh_link_message(update, found, link_id)
    return views.plain("cancelled", language, link_id=link_id)


async def _refresh_link_message(update: Update, found: Services, link_id: str) -> None:
    record = await found.links.find(link_id)
    if record is None:
        return
    # The link message speaks its creator's language, whoever pressed the button.
    language = await found.language_of_user(record.creator_id)
    takings = await link_takings_shown(found.links.store.reports, record)
    await refresh_link_message(update.get_bot(), record, found.zone, language, takings=takings)


@for_managers
async def qr(update: Update, found: Services) -> None:
    link_id = await _target_link(update, found)
    if link_id is None:
        return
    await _send_qr(update, found, link_id)


@for_managers
async def qr_button(update: Update, found: Services) -> None:
    query, link_id = await _pressed_link(update, found, "qr:")
    if link_id is None:
        return
    if await _send_qr(update, found, link_id):
        await query.answer()


async def _send_qr(update: Update, found: Services, link_id: str) -> bool:
    """Send the link's QR code to the chat, or answer why there is none; whether it was sent."""
    # Omise's word, not the record: a QR code printed for a link paid a minute
    # ago would take a second payment nobody can use.
    link = await found.links.current(link_id)
    language = found.language_of(update)
    if link.closed:
        await _answer(
            update,
            views.plain("qr_cancelled" if link.deleted else "qr_paid", language, link_id=link_id),
        )
        return False
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None
    picture = qr_png(link.payment_uri)
    try:
        await send_persistently(
            lambda: update.get_bot().send_photo(
                chat.id,
                picture,
                business_connection_id=(
                    message.business_connection_id if message is not None else None
                ),
                caption=views.qr_caption(link.title, link.amount, link.currency, language),
                parse_mode="HTML",
                # In a business chat the command is about to be deleted: no quote.
                reply_parameters=(
                    ReplyParameters(message.message_id)
                    if message is not None and message.business_connection_id is None
                    else None
                ),
            )
        )
    except TelegramError as exc:
        # No pictures allowed in this chat, or Telegram kept failing: say so.
        logger.warning("Could not post the QR code of %s: %s", link_id, exc)
        business = message is not None and message.business_connection_id is not None
        refused = "business_qr_refused" if business else "qr_not_sent"
        await _answer(update, views.plain(refused, language))
        return False
    return True


@for_managers
async def status(update: Update, found: Services) -> None:
    link_id = await _target_link(update, found)
    if link_id is None:
        return
    found_details = await found.links.details(link_id)
    language, chat = found.language_of(update), update.effective_chat
    full = views.details(found_details, found.zone, language)
    if chat is None or await takings_shown(found.links.store.reports, chat.id):
        await _answer(update, full)
        return
    # A group of customers sees the link's own state; its payments go to the merchant, as /report.
    bot = update.get_bot()
    told = await privately(
        update, language, lambda to: send_reply(bot, to, full, resend_after_timeout=False)
    )
    await _answer(update, views.link_state(found_details, told, language))


async def _target_link(update: Update, found: Services) -> str | None:
    """The link a /cancel, /status or /qr means: its argument, or the link message it replies to.

    Answers and returns None when there is no such link in reach.
    """
    message, chat = update.effective_message, update.effective_chat
    assert message is not None
    language = found.language_of(update)
    arguments = command_arguments(message)
    record: LinkRecord | None
    if arguments:
        link_id = parse_link_id(arguments)
        record = await found.links.find(link_id)
    elif message.reply_to_message is not None and chat is not None:
        record = await found.links.find_by_message(
            chat.id,
            message.reply_to_message.message_id,
            business_connection_id=message.business_connection_id,
        )
        if record is None:
            await _answer(update, views.plain("reply_not_a_link", language))
            return None
        link_id = record.link_id
    else:
        raise CommandError("usage_link_id")
    if not found.access.may_see(chat, record, message.business_connection_id):
        await _answer(update, views.plain("link_not_in_chat", language, link_id=link_id))
        return None
    return link_id


async def resume_unfinished(bot: Bot, found: Services) -> None:
    """After a restart, answer the link commands (and chosen inline results) left unanswered."""
    await _answer_late(bot, found, await found.links.unfinished())


async def resume_orphans(bot: Bot, found: Services, grace: timedelta) -> None:
    """Answer the link commands another instance claimed and left unanswered when it died."""
    await _answer_late(bot, found, await found.links.orphans(grace))


async def _answer_late(
    bot: Bot, found: Services, outcomes: list[tuple[CommandRecord, LinkRecord | Exception]]
) -> None:
    for command, outcome in outcomes:
        language = await found.language_of_user(command.user_id)
        try:
            if command.inline_message_id is not None:
                if isinstance(outcome, LinkRecord):
                    await show_in_inline_message(
                        bot, found, outcome, command.inline_message_id, language
                    )
                else:
                    await tell_inline_message(
                        bot,
                        command.inline_message_id,
                        command.user_id,
                        failure(outcome, language=language, private=True),
                        language,
                    )
            elif isinstance(outcome, LinkRecord):
                await post_link(found, outcome, language, quote=command.message_id)
            elif command.business_connection_id is not None:
                # Not into the customer's chat: the merchant hears of it privately.
                answer = failure(outcome, language=language, private=True)
                await send_reply(bot, command.user_id, answer)
            else:
                answer = failure(outcome, language=language, private=command.chat_id > 0)
                await send_reply(bot, command.chat_id, answer, quote=command.message_id)
        except TelegramError as exc:
            logger.warning("Could not answer unfinished command %s: %s", command.key, exc)


async def show_in_inline_message(
    bot: Bot,
    found: Services,
    record: LinkRecord,
    inline_message_id: str,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """Turn the inline message that waited for a link into its link message.

    When Telegram refuses (the message was deleted meanwhile), the creator
    gets the link in a private chat instead, so the link is never lost.
    """
    try:
        await edit_inline(
            bot, inline_message_id, views.link_message(record, found.zone, language, place="inline")
        )
    except TelegramError as exc:
        # Refused (the message was deleted meanwhile), or Telegram kept failing.
        logger.warning(
            "Could not show %s in its inline message (%s); sending it privately",
            record.link_id,
            exc.message,
        )
        await post_link(found, record, language, quote=None)
        return
    await found.links.record_inline_reply(record, inline_message_id)


async def tell_inline_message(
    bot: Bot,
    inline_message_id: str | None,
    user_id: int,
    reply: Reply,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """Say that an inline message got no link, and tell its user why, privately.

    The inline message may be in a chat full of customers: it gets one
    neutral line, while the reason (a key to check, access to ask for) is
    for the merchant's user alone.
    """
    if inline_message_id is not None:
        try:
            await edit_inline(bot, inline_message_id, views.plain("inline_failed", language))
        except TelegramError as exc:
            logger.warning("Could not answer in an inline message: %s", exc.message)
    try:
        await send_reply(bot, user_id, reply)
    except TelegramError as exc:
        logger.warning("Could not tell user %s privately either: %s", user_id, exc.message)


async def bot_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to a chat or removed from it (or a user blocked or unblocked it)."""
    change = update.my_chat_member
    if change is None:
        return
    store = services(context).links.store
    if change.new_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED):
        await store.chats.set_forbidden(change.chat.id, change.date)
    else:
        await store.chats.note_chat(change.chat.id, change.chat.effective_name)


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its links follow it to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await services(context).delivery.moved(old, new)


# Failures


def failure(
    exc: Exception,
    *,
    command: str = "link",
    language: str = DEFAULT_LANGUAGE,
    private: bool = False,
) -> Reply:
    """The answer to a command that could not be carried out.

    Only a ``private`` answer names the bot's settings: a group holds customers.
    """
    if isinstance(exc, CommandError):
        return views.plain(exc.reason, language, command=command, **exc.params)
    if isinstance(exc, ValidationError):
        return refusal(exc, language)
    if isinstance(exc, AuthenticationError):
        logger.error("Omise refused the secret key (401 %s)", exc.code)
        return views.plain("omise_auth" if private else "omise_auth_group", language)
    return views.plain(_failure_key(exc), language)


def _failure_key(exc: Exception) -> str:
    if isinstance(exc, LinkNotCreated):
        return "create_not_created"
    if isinstance(exc, CreateOutcomeUnknown):
        return "create_unknown"
    if isinstance(exc, NotFoundError):
        return "omise_not_found"
    if isinstance(exc, RateLimitError):
        return "omise_rate_limited"
    if isinstance(exc, ServerError):
        return "omise_server"
    if isinstance(exc, OmiseTimeout):
        return "omise_timeout"
    if isinstance(exc, OmiseConnectionError):
        return "omise_unreachable"
    logger.warning("Unexpected failure: %r", exc)
    return "omise_unexpected"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what no handler caught, and tell the user something went wrong."""
    logger.error("Error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and not isinstance(context.error, TelegramError):
        with contextlib.suppress(TelegramError):
            language = services(context).language_of(update)
            # A /link started early still answers in its turn, whatever went wrong.
            await turns.my_turn()
            await _answer(update, views.plain("internal_error", language))


# Telegram plumbing


async def _answer(update: Update, reply: Reply) -> None:
    """Answer a command with a message, or a button press with an alert."""
    message = update.effective_message
    if update.callback_query is not None:
        await update.callback_query.answer(plain_text(reply.text)[:200], show_alert=True)
    elif message is not None and message.business_connection_id is not None:
        # A merchant's own chat with a customer: the customer gets links and
        # QR codes, while answers to the merchant go to their chat with the bot.
        if update.effective_user is not None:
            try:
                await send_reply(update.get_bot(), update.effective_user.id, reply)
            except Forbidden:
                logger.warning(
                    "Could not answer a business command: its sender never started the bot "
                    "or blocked it"
                )
    elif message is not None:
        await message.reply_html(
            reply.text, reply_markup=reply.markup, disable_web_page_preview=True
        )


async def _edit(message: object, reply: Reply) -> None:
    if not isinstance(message, Message):
        return
    await unless_unchanged(
        message.edit_text(
            reply.text, parse_mode="HTML", reply_markup=reply.markup, disable_web_page_preview=True
        )
    )


def command_arguments(message: Message | None) -> str:
    """What follows the command, all of it: a mark glued to "/link" is in the amount's way."""
    typed = (message.text or "") if message else ""
    command = COMMAND.match(typed)
    return typed[command.end() :].lstrip() if command else ""


def plain_text(html_text: str) -> str:
    """Telegram HTML as plain text (an alert, an inline result's title)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))

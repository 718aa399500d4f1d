"""Inline mode: ``@bot 74.40 thb Hot Latte`` in any chat, whether the bot is in it or not.

A query only previews: Telegram sends one per keystroke, so nothing is
created until a result is chosen. The chosen result's message ("Creating
payment link…") carries a button, without which Telegram gives no
``inline_message_id`` to edit; the link is created through the same
:meth:`LinkService.create_for` as ``/link``, keyed on the result id, and
that message becomes the link message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    filters,
)

from linkbot.bot import views
from linkbot.bot.delivery import NO_PREVIEW
from linkbot.bot.handlers import (
    Services,
    failure,
    note_language,
    plain_text,
    post_link,
    services,
    show_in_inline_message,
    tell_inline_message,
)
from linkbot.bot.messages import text
from linkbot.bot.observe import observed
from linkbot.bot.throttle import answering_stranger
from linkbot.commands import CommandError, LinkRequest, parse_link, parse_link_id
from linkbot.links import LinkNotCreated, Origin
from linkbot.money import format_amount
from linkbot.omise import OmiseError

logger = logging.getLogger(__name__)

# Result ids: a new link (one fresh id per answer, so each chosen result is
# one link), a copy of an existing link, or an explanation that makes nothing.
NEW_RESULT = "new:"
SHARE_RESULT = "share:"
PROBLEM_RESULT = "problem"
# /start parameter of the button shown to users who may not create links.
ACCESS_START = "access"
WAIT_DATA = "inline:wait"
# Telegram takes an inline answer for 10 seconds: the check with Omise before
# sharing a link gives up in time to say so (the client's retries would not).
SHARE_CHECK_SECONDS = 6.0

UPDATE_TYPES = (Update.INLINE_QUERY, Update.CHOSEN_INLINE_RESULT)


def inline_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The handlers of inline mode; the /start one goes before the generic /start."""
    return [
        # A filter of one's own replaces CommandHandler's default, which keeps
        # business messages (a customer writing in a merchant's chat) out.
        CommandHandler(
            "start",
            start_access,
            filters=filters.UpdateType.MESSAGE & filters.Regex(rf"^/start {ACCESS_START}$"),
        ),
        InlineQueryHandler(query),
        ChosenInlineResultHandler(observed("inline_link", chosen)),
        CallbackQueryHandler(waiting, pattern=rf"^{re.escape(WAIT_DATA)}$"),
    ]


async def query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Preview what choosing would post; unauthorized users get only the way to access."""
    inline = update.inline_query
    if inline is None:
        return
    found = services(context)
    language = found.language_of(update)
    try:
        if not found.access.may_manage(update.effective_user):
            await inline.answer(
                [],
                cache_time=0,
                is_personal=True,
                button=InlineQueryResultsButton(
                    text("button_inline_access", language), start_parameter=ACCESS_START
                ),
            )
            return
        results = [await _result(inline.query, found, context.bot.username, language)]
        await inline.answer(results, cache_time=0, is_personal=True)
    except TelegramError as exc:
        # The user typed on and a newer query replaced this one, it is older
        # than Telegram's 10 seconds, or Telegram failed: nobody is waiting for it.
        logger.info("Inline query not answered: %s", exc.message)


async def _result(
    typed: str, found: Services, bot_username: str, language: str
) -> InlineQueryResultArticle:
    try:
        link_id = parse_link_id(typed)
    except CommandError:
        link_id = None
    if link_id is not None:
        return await _share_result(found, link_id, language)
    try:
        request = parse_link(typed, default_currency=found.default_currency)
    except CommandError as exc:
        if exc.reason == "usage":
            return _problem(text("inline_usage", language, bot=bot_username), language)
        return _problem(text(exc.reason, language, command="link", **exc.params), language)
    return _create_result(request, language)


def _create_result(request: LinkRequest, language: str) -> InlineQueryResultArticle:
    amount = format_amount(request.amount, request.currency.code)
    described = request.description != request.title
    return InlineQueryResultArticle(
        id=NEW_RESULT + uuid.uuid4().hex,
        title=plain_text(text("inline_create_title", language, title=request.title, amount=amount)),
        description=request.description
        if described
        else plain_text(text("inline_create_hint", language)),
        input_message_content=InputTextMessageContent(
            text("inline_creating", language), parse_mode="HTML", link_preview_options=NO_PREVIEW
        ),
        # Without a keyboard Telegram gives no inline_message_id, and the
        # message could never become the link.
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(text("button_creating", language), callback_data=WAIT_DATA)]]
        ),
    )


async def _share_result(found: Services, link_id: str, language: str) -> InlineQueryResultArticle:
    """An existing link's message, to post as it is: nothing is created."""
    record = await found.links.find(link_id)
    if record is None:
        return _problem(
            text("inline_share_unknown", language, link_id=link_id),
            language,
            title=text("inline_share_unknown_title", language),
        )
    # Omise's word, not the record (as for /qr): the watcher may not have seen
    # a payment or a cancellation in the dashboard yet, and a copy, once
    # posted, is never updated.
    try:
        async with asyncio.timeout(SHARE_CHECK_SECONDS):
            link = await found.links.current(link_id)
    except (OmiseError, TimeoutError) as exc:
        logger.info("Could not check %s before sharing it: %r", link_id, exc)
        return _problem(
            text("inline_share_unchecked", language),
            language,
            title=text("inline_share_refused_title", language),
        )
    if link.closed:
        key = "inline_share_cancelled" if link.deleted else "inline_share_paid"
        return _problem(
            text(key, language, link_id=link_id),
            language,
            title=text("inline_share_refused_title", language),
        )
    reply = views.link_message(record, found.zone, language, place="shared")
    amount = format_amount(record.amount, record.currency)
    return InlineQueryResultArticle(
        id=SHARE_RESULT + record.link_id,
        title=plain_text(text("inline_share_title", language, title=record.title, amount=amount)),
        description=plain_text(
            text(
                "inline_share_status",
                language,
                status=text(f"status_{views.omise_status(link)}", language),
                link_id=link_id,
            )
        ),
        input_message_content=InputTextMessageContent(
            reply.text, parse_mode="HTML", link_preview_options=NO_PREVIEW
        ),
        reply_markup=reply.markup,
    )


def _problem(
    explanation: str, language: str, *, title: str | None = None
) -> InlineQueryResultArticle:
    """One result that says what is wrong; choosing it posts the explanation, nothing else."""
    return InlineQueryResultArticle(
        id=PROBLEM_RESULT,
        title=plain_text(title or text("inline_problem_title", language)),
        description=plain_text(explanation),
        input_message_content=InputTextMessageContent(
            explanation, parse_mode="HTML", link_preview_options=NO_PREVIEW
        ),
    )


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A "create" result was sent: make its link once, and show it in the inline message."""
    result = update.chosen_inline_result
    if result is None or not result.result_id.startswith(NEW_RESULT):
        return  # a shared link or an explanation: nothing to do
    found = services(context)
    language = found.language_of(update)
    user, inline_message_id = result.from_user, result.inline_message_id
    if not found.access.may_manage(user):
        # Access was withdrawn between the query and the choice.
        await tell_inline_message(
            context.bot,
            inline_message_id,
            user.id,
            views.plain("not_authorized", language),
            language,
        )
        return
    await note_language(found, user)
    origin = Origin.inline(result.result_id, user_id=user.id, inline_message_id=inline_message_id)
    try:
        request = parse_link(result.query, default_currency=found.default_currency)
        created = await found.links.create_for(request, origin, creator_id=user.id)
    except (CommandError, OmiseError, LinkNotCreated) as exc:
        await tell_inline_message(
            context.bot,
            inline_message_id,
            user.id,
            failure(exc, language=language, private=True),  # told privately
            language,
        )
        return
    if created is None or created.answered:
        return  # a repeated delivery of a result already handled, or being handled
    if inline_message_id is None:
        # Telegram gave nothing to edit: the link goes to its creator's private chat.
        await post_link(found, created.record, language, quote=None)
        return
    await show_in_inline_message(context.bot, found, created.record, inline_message_id, language)


async def waiting(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The button of a message still waiting for its link."""
    if update.callback_query is not None:
        language = services(context).language_of(update)
        try:
            await update.callback_query.answer(
                plain_text(text("inline_wait_alert", language)), show_alert=True
            )
        except TelegramError as exc:
            logger.info("The waiting button's alert was not shown: %s", exc.message)


async def start_access(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start from the button inline mode shows users who may not create links."""
    found, user = services(context), update.effective_user
    if user is None or update.effective_message is None or not found.access.grant_reply(update):
        return
    authorized = found.access.may_manage(user)
    language = found.language_of(update)
    reply = text(
        "inline_access",
        language,
        user_id=user.id,
        authorization=text("authorized" if authorized else "not_authorized_help", language),
    )
    with answering_stranger(not authorized):
        await update.effective_message.reply_html(reply, disable_web_page_preview=True)

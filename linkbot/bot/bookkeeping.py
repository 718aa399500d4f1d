"""/report and /export: what was sold, for the merchant's bookkeeping.

In a group only that group's links count, and the figures go to the asking
merchant's private chat, because a group holds customers: the group hears
only where they went. A staff-only group may choose to see its own
(/report here on). In a private chat, every link the bot made counts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Chat, Message, ReplyParameters, Update
from telegram.error import Forbidden, TelegramError

from linkbot import exports
from linkbot.bot.audience import privately, takings_shown
from linkbot.bot.delivery import NO_PREVIEW, send_reply
from linkbot.bot.handlers import Services, command_arguments, for_managers
from linkbot.bot.messages import DEFAULT_LANGUAGE, Html, day_text, text
from linkbot.bot.views import Reply
from linkbot.commands import CommandError
from linkbot.money import format_amount
from linkbot.periods import Period, PeriodError, parse_period
from linkbot.reports import CurrencyTotals, Report

logger = logging.getLogger(__name__)

# Best-selling titles are cut to this, so that the longest report (every
# currency, three titles of 200 characters) stays far inside 4096 characters.
BEST_SELLER_TITLE_LENGTH = 60
MESSAGE_LIMIT = 4096
# The Bot API refuses uploads over 50 MB.
UPLOAD_LIMIT = 50 * 1024 * 1024
# A large file takes longer to go up than an ordinary message.
UPLOAD_TIMEOUT = 120.0


@for_managers
async def report(update: Update, found: Services) -> None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and chat is not None and user is not None
    arguments = command_arguments(message)
    language = found.language_of(update)
    words = arguments.lower().split()
    if words[:1] == ["daily"]:
        await _reply(message, await _daily(found, chat, user.id, words[1:], language))
        return
    if words[:1] == ["here"]:
        await _reply(message, await _here(found, update, words[1:], language))
        return
    period = _period(arguments, found)
    found_report = await found.reports.report(period, chat_id=_scope(found, chat))
    if await _shown_here(found, chat):
        await _reply(message, report_reply(found_report, language=language))
        return
    named = report_reply(found_report, language=language, chat_name=chat.effective_name)
    bot = update.get_bot()
    # A report that may have arrived is not sent again: it counts as sent.
    told = await privately(
        update, language, lambda to: send_reply(bot, to, named, resend_after_timeout=False)
    )
    await _reply(message, told)


@for_managers
async def export(update: Update, found: Services) -> None:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    period = _period(command_arguments(message), found)
    language = found.language_of(update)
    here = await _shown_here(found, chat)
    async with exports.exported(
        found.links.store.reports, period, chat_id=_scope(found, chat), zone=found.zone
    ) as done:
        if here:
            # Quoted in a group, as a reply there is; a private chat needs no quote.
            quote = None if found.access.is_private(chat) else message.message_id
            await _send_export(update, chat.id, done, period, language, quote=quote)
        else:
            told = await privately(
                update,
                language,
                lambda to: _send_export(update, to, done, period, language, privately=True),
            )
            await _reply(message, told)


async def _send_export(
    update: Update,
    to: int,
    done: exports.Export,
    period: Period,
    language: str,
    *,
    quote: int | None = None,
    privately: bool = False,
) -> None:
    """The file to ``to`` (quoting ``quote``), or why there is none.

    Sent ``privately`` for a command in a group: a private chat that refuses
    the bot raises Forbidden, for the group to be told how to open it, and
    any other failure to send there raises too, for the group to hear of it.
    """
    bot, shown = update.get_bot(), period_text(period, language)

    async def say(reply: Reply) -> None:
        # A private answer that may have arrived is not repeated.
        await send_reply(bot, to, reply, quote=quote, resend_after_timeout=not privately)

    if not done.rows:
        await say(Reply(text("export_empty", language, period=shown)))
        return
    if done.size > UPLOAD_LIMIT:
        size = f"{done.size / (1024 * 1024):.0f}"
        await say(Reply(text("export_too_large", language, size=size)))
        return
    try:
        await bot.send_document(
            to,
            document=done.path,
            filename=done.filename,
            caption=text("export_caption", language, count=done.rows, period=shown),
            parse_mode="HTML",
            write_timeout=UPLOAD_TIMEOUT,
            reply_parameters=ReplyParameters(quote) if quote is not None else None,
        )
    except TelegramError as exc:
        if isinstance(exc, Forbidden) and privately:
            raise
        # No files allowed in this chat, or Telegram kept failing: say so.
        logger.warning("Could not send the export: %s", exc.message)
        refused = "export_failed" if privately else "export_not_sent"
        await say(Reply(text(refused, language)))


async def _shown_here(found: Services, chat: Chat) -> bool:
    """Whether figures asked for in ``chat`` are answered there: a private or opted-in chat."""
    return found.access.is_private(chat) or await takings_shown(found.links.store.reports, chat.id)


async def _here(found: Services, update: Update, words: list[str], language: str) -> Reply:
    """/report here on|off: a group's own reports posted in it, for everyone there to see."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    if found.access.is_private(chat):
        return Reply(text("report_here_group", language))
    # The merchant's own choice: a group administrator let in by
    # LINKBOT_GROUP_ADMINS may not show the group its figures.
    if not found.access.may_manage(user):
        return Reply(text("not_authorized", language))
    if words not in (["on"], ["off"]):
        return Reply(text("report_here_usage", language))
    here = words == ["on"]
    await found.links.store.reports.set_reports_here(chat.id, here, datetime.now(UTC))
    return Reply(text("report_here_on" if here else "report_here_off", language))


async def _daily(
    found: Services, chat: Chat, user_id: int, words: list[str], language: str
) -> Reply:
    if not found.access.is_private(chat):
        return Reply(text("report_daily_private", language))
    if words not in (["on"], ["off"]):
        return Reply(text("report_daily_usage", language))
    subscribe = words == ["on"]
    await found.links.store.reports.set_daily_subscription(user_id, subscribe, datetime.now(UTC))
    if not subscribe:
        return Reply(text("report_daily_off", language))
    if found.daily_report is None:
        return Reply(text("report_daily_on_unset", language))
    return Reply(text("report_daily_on", language, time=found.daily_report.strftime("%H:%M")))


def _period(arguments: str, found: Services) -> Period:
    try:
        return parse_period(arguments, today=datetime.now(found.zone).date(), zone=found.zone)
    except PeriodError as exc:
        shown = exc.text if len(exc.text) <= 40 else exc.text[:39] + "…"
        raise CommandError("period_invalid", text=shown) from None


def _scope(found: Services, chat: Chat) -> int | None:
    """The chat whose links count, or None for every link (a private chat)."""
    return None if found.access.is_private(chat) else chat.id


# Rendering


def report_reply(
    found: Report,
    *,
    daily: bool = False,
    language: str = DEFAULT_LANGUAGE,
    chat_name: str | None = None,
) -> Reply:
    """A report as one message, always under Telegram's 4096 characters.

    ``chat_name`` names the chat in the title, for a chat's report read elsewhere.
    """
    scope = "all" if found.chat_id is None else "named" if chat_name else "chat"
    title = text(
        f"report_title_daily_{scope}" if daily else f"report_title_{scope}",
        language,
        period=period_text(found.period, language),
        chat=chat_name or "",
    )
    if found.empty and not found.other_payments:
        return Reply(title + "\n\n" + text("report_empty", language))
    blocks = [title]
    blocks.extend(_currency_block(totals, language) for totals in found.totals)
    if not found.totals:
        blocks.append(text("report_no_payments", language))
    counts = found.links
    blocks.append(
        text(
            "report_links",
            language,
            created=counts.created,
            paid=counts.paid,
            open=counts.open,
            cancelled=counts.cancelled,
        )
    )
    if found.best_sellers:
        lines = [text("report_best_sellers", language)]
        lines.extend(
            text(
                "report_best_seller",
                language,
                number=number,
                title=_shorten(title_, BEST_SELLER_TITLE_LENGTH),
                count=count,
            )
            for number, (title_, count) in enumerate(found.best_sellers[:3], start=1)
        )
        blocks.append("\n".join(lines))
    if found.other_payments:
        blocks.append(
            text("report_other_payment", language)
            if found.other_payments == 1
            else text("report_other_payments", language, count=found.other_payments)
        )
    body = "\n\n".join(blocks)
    if len(body) > MESSAGE_LIMIT:
        # Only a catalog far longer than English's could get here; the totals come first.
        body = body[: MESSAGE_LIMIT - 1].rsplit("\n\n", 1)[0]
    return Reply(body)


def _currency_block(totals: CurrencyTotals, language: str) -> str:
    code = totals.currency
    return text(
        "report_currency",
        language,
        currency=code,
        payments=totals.payments,
        gross=format_amount(totals.gross, code),
        fee=format_amount(totals.fee, code),
        fee_vat=format_amount(totals.fee_vat, code),
        refunded=format_amount(totals.refunded, code),
        net=format_amount(totals.net, code),
    ) + (
        text("report_fees_unknown", language, count=totals.fees_unknown)
        if totals.fees_unknown
        else ""
    )


def period_text(period: Period, language: str = DEFAULT_LANGUAGE) -> Html:
    if period.first_day == period.last_day:
        return Html(text("report_period_day", language, day=day_text(period.first_day, language)))
    first, last = day_text(period.first_day, language), day_text(period.last_day, language)
    return Html(text("report_period_range", language, first=first, last=last))


# Telegram plumbing


async def _reply(message: Message, reply: Reply) -> None:
    await message.reply_html(reply.text, link_preview_options=NO_PREVIEW)


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"

"""/report and /export: what was sold, for the merchant's bookkeeping.

In a group only that group's links count, because a group holds customers
who must not see other chats' sales; in a private chat, every link the bot
made does.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Chat, Message, Update
from telegram.error import TelegramError

from linkbot import exports
from linkbot.bot.delivery import NO_PREVIEW
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
    period = _period(arguments, found)
    found_report = await found.reports.report(period, chat_id=_scope(found, chat))
    await _reply(message, report_reply(found_report, language=language))


@for_managers
async def export(update: Update, found: Services) -> None:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    period = _period(command_arguments(message), found)
    language = found.language_of(update)
    shown = period_text(period, language)
    async with exports.exported(
        found.links.store, period, chat_id=_scope(found, chat), zone=found.zone
    ) as done:
        if not done.rows:
            await _reply(message, Reply(text("export_empty", language, period=shown)))
            return
        if done.size > UPLOAD_LIMIT:
            size = f"{done.size / (1024 * 1024):.0f}"
            await _reply(message, Reply(text("export_too_large", language, size=size)))
            return
        try:
            await message.reply_document(
                document=done.path,
                filename=done.filename,
                caption=text("export_caption", language, count=done.rows, period=shown),
                parse_mode="HTML",
                write_timeout=UPLOAD_TIMEOUT,
            )
        except TelegramError as exc:
            # No files allowed in this chat, or Telegram kept failing: say so.
            logger.warning("Could not send the export: %s", exc.message)
            await _reply(message, Reply(text("export_not_sent", language)))


async def _daily(
    found: Services, chat: Chat, user_id: int, words: list[str], language: str
) -> Reply:
    if not found.access.is_private(chat):
        return Reply(text("report_daily_private", language))
    if words not in (["on"], ["off"]):
        return Reply(text("report_daily_usage", language))
    subscribe = words == ["on"]
    await found.links.store.set_daily_subscription(user_id, subscribe, datetime.now(UTC))
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


def report_reply(found: Report, *, daily: bool = False, language: str = DEFAULT_LANGUAGE) -> Reply:
    """A report as one message, always under Telegram's 4096 characters."""
    scope = "all" if found.chat_id is None else "chat"
    title = text(
        f"report_title_daily_{scope}" if daily else f"report_title_{scope}",
        language,
        period=period_text(found.period, language),
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

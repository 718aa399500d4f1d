"""Messages the bot sends on its own: payments and cancellations seen by the watcher."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, TelegramError

from linkbot.bot import views
from linkbot.store import ChargeRecord, LinkRecord

logger = logging.getLogger(__name__)


async def refresh_link_message(bot: Bot, record: LinkRecord, zone: ZoneInfo) -> None:
    """Show a link's current state in the message it was posted in, if it still can be."""
    if record.message_id is None:
        return
    reply = views.link_message(record, zone)
    try:
        await bot.edit_message_text(
            reply.text,
            chat_id=record.chat_id,
            message_id=record.message_id,
            parse_mode="HTML",
            reply_markup=reply.markup,
            disable_web_page_preview=True,
        )
    except BadRequest as exc:
        # Deleted, too old to edit, or already showing this: nothing to fix.
        logger.info("Could not update the message of %s: %s", record.link_id, exc.message)


class TelegramAnnouncer:
    def __init__(self, bot: Bot, zone: ZoneInfo) -> None:
        self.bot = bot
        self.zone = zone

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        await refresh_link_message(self.bot, record, self.zone)
        notice = views.paid_notice(record, charge, self.zone)
        reply_to = (
            ReplyParameters(record.message_id, allow_sending_without_reply=True)
            if record.message_id is not None
            else None
        )
        await self.bot.send_message(
            record.chat_id, notice.text, parse_mode="HTML", reply_parameters=reply_to
        )

    async def cancelled(self, record: LinkRecord) -> None:
        try:
            await refresh_link_message(self.bot, record, self.zone)
        except TelegramError as exc:
            logger.info("Could not show that %s was cancelled: %s", record.link_id, exc)

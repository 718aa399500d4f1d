"""Messages the bot sends on its own: payments and cancellations seen by the watcher."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, TimedOut

from linkbot.bot import views
from linkbot.bot.delivery import Delivery, refresh_link_message
from linkbot.payments import AnnouncementRefused
from linkbot.store import ChargeRecord, LinkRecord, Store

logger = logging.getLogger(__name__)


class TelegramAnnouncer:
    def __init__(self, bot: Bot, store: Store, zone: ZoneInfo) -> None:
        self.bot = bot
        self.zone = zone
        # A notice Telegram may or may not have shown is not sent again.
        self.delivery = Delivery(bot, store, resend_after_timeout=False)

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        await refresh_link_message(self.bot, record, self.zone)
        with _refusals():
            if record.business_connection_id is not None:
                # The customer's chat shows ✅ Paid on the link message; the
                # merchant hears of it in their own chat with the bot.
                await self.delivery.to_creator(
                    record, views.paid_notice(record, charge, self.zone), fallback="business_notice"
                )
                return
            await self.delivery.to_link_chat(
                record,
                views.paid_notice(record, charge, self.zone),
                quote=record.editable_message_id,
                fallback="chat_closed_notice",
            )

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        with _refusals():
            if record.business_connection_id is not None:
                await self.delivery.to_creator(
                    record, views.failed_notice(record, charge), fallback="business_notice"
                )
                return
            await self.delivery.to_link_chat(
                record,
                views.failed_notice(record, charge),
                quote=record.editable_message_id,
                fallback="chat_closed_notice",
            )

    async def cancelled(self, record: LinkRecord) -> None:
        await refresh_link_message(self.bot, record, self.zone)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Telegram refusing a notice (400) is not network trouble: the watcher counts it."""
    try:
        yield
    except BadRequest as exc:
        raise AnnouncementRefused(exc.message) from exc
    except TimedOut as exc:
        # It may have been shown, and the link message already says ✅ Paid:
        # counted as told, so no chat sees it twice.
        logger.warning("Telegram did not confirm a notice in time; not sending it again: %s", exc)

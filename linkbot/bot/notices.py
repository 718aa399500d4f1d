"""Messages the bot sends on its own: payments and cancellations seen by the watcher."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest

from linkbot.bot import views
from linkbot.bot.delivery import Delivery, refresh_link_message
from linkbot.payments import AnnouncementRefused
from linkbot.store import ChargeRecord, LinkRecord, Store


class TelegramAnnouncer:
    def __init__(self, bot: Bot, store: Store, zone: ZoneInfo) -> None:
        self.bot = bot
        self.zone = zone
        self.delivery = Delivery(bot, store)

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        await refresh_link_message(self.bot, record, self.zone)
        with _refusals():
            await self.delivery.to_link_chat(
                record,
                views.paid_notice(record, charge, self.zone),
                quote=record.editable_message_id,
                fallback="chat_closed_notice",
            )

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        with _refusals():
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

"""Messages the bot sends on its own: payments and cancellations seen by the watcher."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest

from linkbot.bot import views
from linkbot.bot.audience import link_takings_shown, takings_shown
from linkbot.bot.delivery import Delivery, Unconfirmed, refresh_link_message
from linkbot.payments import AnnouncementRefused
from linkbot.store import ChargeRecord, LinkRecord, Store

logger = logging.getLogger(__name__)


class TelegramAnnouncer:
    """Tells a link's chat about its payments, in the language of the link's creator.

    The chat may be a group of customers speaking anything; the notice is
    for the merchant who made the link, so it speaks theirs (or
    ``language``, LINKBOT_LANGUAGE, when one is forced).
    """

    def __init__(
        self, bot: Bot, store: Store, zone: ZoneInfo, *, language: str | None = None
    ) -> None:
        self.bot = bot
        self.zone = zone
        self.language = language
        self._reports = store.reports  # which chats may see a link's takings
        # A notice Telegram may or may not have shown is not sent again.
        self.delivery = Delivery(bot, store, resend_after_timeout=False)

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        language = await self._language(record)
        shown = await link_takings_shown(self._reports, record)
        await refresh_link_message(self.bot, record, self.zone, language, takings=shown)
        # A group of customers hears of this payment, not of the link's takings;
        # the merchant, told privately instead when the chat is closed, hears it all.
        takings = await takings_shown(self._reports, record.chat_id)
        notice = views.paid_notice(record, charge, self.zone, language, takings=takings)
        full = views.paid_notice(record, charge, self.zone, language)
        await self._notify(record, notice, language, private_notice=full)

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        language = await self._language(record)
        await self._notify(record, views.failed_notice(record, charge, language), language)

    async def cancelled(self, record: LinkRecord) -> None:
        takings = await link_takings_shown(self._reports, record)
        language = await self._language(record)
        await refresh_link_message(self.bot, record, self.zone, language, takings=takings)

    async def _notify(
        self,
        record: LinkRecord,
        notice: views.Reply,
        language: str,
        *,
        private_notice: views.Reply | None = None,
    ) -> None:
        with _refusals():
            if record.business_connection_id is not None:
                # In the customer's chat a notice would speak as the merchant:
                # the merchant hears of it in their own chat with the bot.
                await self.delivery.to_creator(
                    record, private_notice or notice, fallback="business_notice", language=language
                )
                return
            await self.delivery.to_link_chat(
                record,
                notice,
                quote=record.editable_message_id,
                fallback="chat_closed_notice",
                language=language,
                private_reply=private_notice,
            )

    async def _language(self, record: LinkRecord) -> str:
        return await self.delivery.language_of_user(record.creator_id, self.language)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Telegram refusing a notice (400) is not network trouble: the watcher counts it."""
    try:
        yield
    except BadRequest as exc:
        raise AnnouncementRefused(exc.message) from exc
    except Unconfirmed as exc:
        # It may have been shown (Telegram has no way to ask), and the link
        # message already says ✅ Paid: counted as told, so no chat sees it twice.
        logger.warning(
            "Telegram did not confirm a notice; it may have arrived, so it is not sent again: %s",
            exc.__cause__ or exc,
        )

"""The daily summary: each day at LINKBOT_DAILY_REPORT, the day's report to whom it concerns.

Every chat that had payments that day gets its own chat's report; each
authorized user who asked (/report daily on) gets the whole bot's report
privately. A summary is claimed in the store before it is sent, so it goes
out at most once per chat and day, however often the loop looks or the
process restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from linkbot.bot.bookkeeping import report_reply
from linkbot.bot.delivery import Delivery
from linkbot.bot.messages import DEFAULT_LANGUAGE
from linkbot.omise import OmiseError
from linkbot.periods import day_period
from linkbot.reports import Report, Reports
from linkbot.store import Store
from linkbot.waits import first_of, pause

logger = logging.getLogger(__name__)

# Looked at twice a minute, so the summary goes out within the minute set.
CHECK_INTERVAL = 30.0
# The last day whose summaries were all dealt with, so a restart later that
# day does not post the day's report to chats paid after the summary time.
DONE_KEY = "daily_report_done"


class DailySummary:
    def __init__(
        self,
        bot: Bot,
        reports: Reports,
        store: Store,
        *,
        at: time,
        zone: ZoneInfo,
        allowed_users: frozenset[int],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        language: str | None = None,
    ) -> None:
        self.bot = bot
        self.reports = reports
        self.store = store
        self.at = at
        self.zone = zone
        self.allowed_users = allowed_users
        self._now = now
        # LINKBOT_LANGUAGE; otherwise each summary speaks its reader's.
        self.language = language
        self._done: date | None = None
        # Claimed once: a summary Telegram may have shown is not sent again.
        self.delivery = Delivery(bot, store, resend_after_timeout=False)

    async def run(
        self,
        stop: asyncio.Event,
        interval: float = CHECK_INTERVAL,
        *,
        caught_up: asyncio.Event | None = None,
    ) -> None:
        """Check every ``interval`` seconds until ``stop`` is set. Never raises.

        With ``caught_up``, the first check waits for it: a summary made
        before the payment watcher has read what happened while the bot was
        down would leave those payments out, and a day is summed up once.
        """
        if caught_up is not None:
            await first_of(stop.wait(), caught_up.wait())
        while not stop.is_set():
            try:
                await self.check()
            except Exception:
                logger.exception("Daily summary failed")
            await pause(stop, interval)

    async def check(self) -> int:
        """Send today's summaries if their time has come; returns how many were sent.

        Also after the minute itself, so a process that was down then still
        sends them when it starts later the same day.
        """
        local = self._now().astimezone(self.zone)
        day = local.date()
        if local.time() < self.at or self._done == day:
            return 0
        if await self.store.get_value(DONE_KEY) == day.isoformat():
            self._done = day
            return 0
        sent, complete = await self.send_day(day)
        if complete:
            await self.store.set_value(DONE_KEY, day.isoformat())
            self._done = day
        return sent

    async def send_day(self, day: date) -> tuple[int, bool]:
        """The summaries of ``day``: how many were sent, and whether every one was dealt with.

        A report Omise could not help make is tried again at the next check;
        a summary Telegram refused is not, since it was claimed already.
        """
        period = day_period(day, self.zone)
        subscribers = [u for u in await self.store.daily_subscribers() if u in self.allowed_users]
        # A subscriber's own private chat is covered by the whole bot's report.
        targets: dict[int, int | None] = {
            chat_id: chat_id
            for chat_id in await self.reports.chats_with_payments(period)
            if chat_id not in subscribers
            # A private chat's sales go to a user who may still see them.
            and (chat_id < 0 or chat_id in self.allowed_users)
        }
        targets.update(dict.fromkeys(subscribers))
        whole: Report | None = None
        sent, complete = 0, True
        for chat_id, scope in targets.items():
            try:
                # A group the bot was removed from is skipped; a private chat is
                # always tried, as its user may have unblocked the bot.
                if chat_id < 0 and await self.store.forbidden_since(chat_id) is not None:
                    continue
                if scope is None:
                    whole = whole or await self.reports.report(period, chat_id=None)
                    found = whole
                else:
                    found = await self.reports.report(period, chat_id=scope)
                if found.empty:
                    continue
                if not await self.store.claim_daily_report(chat_id, day, self._now()):
                    continue
                language = await self._language(chat_id, private=scope is None)
                await self.delivery.to_chat(
                    chat_id, report_reply(found, daily=True, language=language)
                )
                sent += 1
            except OmiseError as exc:
                complete = False
                logger.warning("Daily summary for %s waits: Omise failed: %s", chat_id, exc)
            except Forbidden as exc:
                if chat_id < 0:
                    await self.store.set_forbidden(chat_id, self._now())
                logger.warning("Daily summary for %s refused: %s", chat_id, exc.message)
            except TelegramError as exc:
                logger.warning("Daily summary for %s not sent: %s", chat_id, exc)
        if sent:
            logger.info("Daily summary of %s sent to %d chat(s)", day, sent)
        return sent, complete

    async def _language(self, chat_id: int, *, private: bool) -> str:
        """A subscriber's own language; in a chat, that of the merchant who made its last link."""
        if private or chat_id > 0:
            return await self.delivery.language_of_user(chat_id, self.language)
        if self.language is not None:
            return self.language
        return await self.store.chat_language(chat_id) or DEFAULT_LANGUAGE

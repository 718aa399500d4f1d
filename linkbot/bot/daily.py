"""The daily summary: each day at LINKBOT_DAILY_REPORT, the day's report to whom it concerns.

A group holds customers, so each group that had payments that day has its
summary sent to every authorized user privately (each user once per group);
a group whose merchant chose to see its reports there (/report here on)
gets its own as well. A private chat with payments gets its own chat's
report; each authorized user who asked (/report daily on) also gets the
whole bot's report. A summary is claimed in the store before it is sent,
so it goes out at most once per chat and day, however often the loop looks
or the process restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from linkbot import handover
from linkbot.bot.bookkeeping import report_reply
from linkbot.bot.delivery import Delivery, may_have_arrived
from linkbot.bot.messages import DEFAULT_LANGUAGE
from linkbot.bot.views import Reply
from linkbot.omise import OmiseError
from linkbot.periods import Period, day_period
from linkbot.reports import Report, Reports
from linkbot.store import Store
from linkbot.waits import first_of, pause

logger = logging.getLogger(__name__)

# Looked at twice a minute, so the summary goes out within the minute set.
CHECK_INTERVAL = 30.0
# The last day whose summaries were all dealt with, so a restart later that
# day does not post the day's report to chats paid after the summary time.
DONE_KEY = "daily_report_done"


@dataclass(frozen=True, slots=True)
class _Summary:
    to: int  # the chat it goes to
    about: int | None  # the chat whose links it covers; None: every link of the bot
    # A group's summary in a user's private chat: named after the group, claimed per user.
    private_copy: bool = False


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
        self._chats = store.chats
        self._daily = store.reports  # who gets which summary, and its claims
        self._state = store.state
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
        if await self._state.get_value(DONE_KEY) == day.isoformat():
            self._done = day
            return 0
        sent, complete = await self.send_day(day)
        if complete:
            await self._state.set_value(DONE_KEY, day.isoformat())
            self._done = day
        return sent

    async def send_day(self, day: date) -> tuple[int, bool]:
        """The summaries of ``day``: how many were sent, and whether every one was dealt with.

        A report Omise could not help make, or a summary that surely never
        reached Telegram, is tried again at the next check; a summary Telegram
        refused, or may have shown, is not, since it was claimed already.
        """
        period = day_period(day, self.zone)
        reports: dict[int | None, Report] = {}
        # Users who refused one summary (no private chat with the bot): not tried again today.
        unreachable: set[int] = set()
        sent, complete = 0, True
        for summary in await self._summaries(period):
            if summary.to in unreachable:
                continue
            try:
                # A group the bot was removed from is skipped; a private chat is
                # always tried, as its user may have unblocked the bot.
                if summary.to < 0 and await self._chats.forbidden_since(summary.to) is not None:
                    continue
                found = reports.get(summary.about)
                if found is None:
                    found = await self.reports.report(period, chat_id=summary.about)
                    reports[summary.about] = found
                if found.empty or not await self._claim(summary, day):
                    continue
                await self._send(summary, found, day)
                sent += 1
            except OmiseError as exc:
                complete = False
                logger.warning("Daily summary for %s waits: Omise failed: %s", summary.to, exc)
            except Forbidden as exc:
                if summary.to < 0:
                    await self._chats.set_forbidden(summary.to, self._now())
                else:
                    unreachable.add(summary.to)
                logger.warning("Daily summary for %s refused: %s", summary.to, exc.message)
            except TelegramError as exc:
                if isinstance(exc, BadRequest) or may_have_arrived(exc):
                    # Refused for good, or perhaps shown: the claim stays, so no
                    # chat sees the summary twice.
                    logger.warning("Daily summary for %s not sent again: %s", summary.to, exc)
                    continue
                # Surely never reached Telegram: the claim goes back and the next check
                # tries again, so the day's summary is not lost.
                await self._release(summary, day)
                complete = False
                logger.warning("Daily summary for %s not sent yet: %s", summary.to, exc)
        if sent:
            logger.info("Daily summary of %s sent to %d chat(s)", day, sent)
        return sent, complete

    async def _send(self, summary: _Summary, found: Report, day: date) -> None:
        """Send a claimed summary; cut off before it went out (a database error, a stop),
        its claim goes back, so the day's summary is not lost."""
        with handover.watching() as posted:
            try:
                await self.delivery.to_chat(summary.to, await self._reply(summary, found))
            except TelegramError:
                raise  # Telegram's answer: send_day decides
            except BaseException:
                if not posted.out:
                    with contextlib.suppress(Exception):
                        await self._release(summary, day)
                raise

    async def _summaries(self, period: Period) -> list[_Summary]:
        """Who gets which summary of the period."""
        users = sorted(self.allowed_users)
        subscribers = [u for u in await self._daily.daily_subscribers() if u in self.allowed_users]
        shown_here = await self._daily.report_groups()
        summaries = [_Summary(user, None) for user in subscribers]
        for chat_id in await self.reports.chats_with_payments(period):
            if chat_id > 0:
                # A private chat's sales go to a user who may still see them, unless
                # the whole bot's report covers them already.
                if chat_id in self.allowed_users and chat_id not in subscribers:
                    summaries.append(_Summary(chat_id, chat_id))
                continue
            if chat_id in shown_here:
                summaries.append(_Summary(chat_id, chat_id))
            summaries.extend(_Summary(user, chat_id, private_copy=True) for user in users)
        return summaries

    async def _claim(self, summary: _Summary, day: date) -> bool:
        if summary.private_copy and summary.about is not None:
            return await self._daily.claim_private_daily_report(
                summary.to, summary.about, day, self._now()
            )
        return await self._daily.claim_daily_report(summary.to, day, self._now())

    async def _release(self, summary: _Summary, day: date) -> None:
        if summary.private_copy and summary.about is not None:
            await self._daily.release_private_daily_report(summary.to, summary.about, day)
        else:
            await self._daily.release_daily_report(summary.to, day)

    async def _reply(self, summary: _Summary, found: Report) -> Reply:
        language = await self._language(summary.to, private=summary.about is None)
        name: str | None = None
        if summary.private_copy and summary.about is not None:
            name = await self._chats.chat_title(summary.about) or str(summary.about)
        return report_reply(found, daily=True, language=language, chat_name=name)

    async def _language(self, chat_id: int, *, private: bool) -> str:
        """A subscriber's own language; in a chat, that of the merchant who made its last link."""
        if private or chat_id > 0:
            return await self.delivery.language_of_user(chat_id, self.language)
        if self.language is not None:
            return self.language
        return await self._chats.chat_language(chat_id) or DEFAULT_LANGUAGE

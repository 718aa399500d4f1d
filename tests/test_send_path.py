"""The send path's edges: a notice cut off on its way, summaries that never left, pacing.

A notice handed to Telegram counts as told whatever cuts it off; one that
surely never reached Telegram is tried again. Only messages are paced, and
strangers' private replies never wait long behind a busy group.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from telegram.ext import ExtBot

from linkbot import payments
from linkbot.bot import throttle
from linkbot.bot.app import CountingRateLimiter
from linkbot.bot.daily import DailySummary
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import LinkRecord, Store
from tests import test_bookkeeping
from tests.conftest import TELEGRAM_URL, Chat, make_link, no_sleep
from tests.test_bookkeeping import at, summary, today

# The bookkeeping module's fixtures: its merchant, sales and both databases.
engine, settings, sales = test_bookkeeping.engine, test_bookkeeping.settings, test_bookkeeping.sales


def notices(telegram: fakes.FakeTelegram) -> list[str]:
    return [str(m["text"]) for m in telegram.messages if "was paid" in str(m["text"])]


@dataclass
class OverSockets:
    """A watcher over real sockets, its bot paced by the production rate limiter."""

    telegram: fakes.FakeTelegram
    omise: fakes.FakeOmise
    store: Store
    watcher: PaymentWatcher
    record: LinkRecord


@contextlib.asynccontextmanager
async def paid_over_sockets(settings: Settings) -> AsyncIterator[OverSockets]:
    """A link paid, its notice to come, with Telegram and Omise served on 127.0.0.1."""
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        store = Store.connect(settings.database)
        await store.initialize()
        try:
            async with (
                OmiseClient(settings.omise_secret_key, base_url=omise_url, sleep=no_sleep) as api,
                ExtBot(
                    fakes.BOT_TOKEN,
                    base_url=f"{telegram_url}/bot",
                    rate_limiter=CountingRateLimiter(max_retries=5),
                ) as bot,
            ):
                links = LinkService(api, store, reconcile_delays=(0, 0, 0), sleep=no_sleep)
                watcher = PaymentWatcher(
                    api, store, TelegramAnnouncer(bot, store, settings.timezone)
                )
                record = await make_link(links)
                omise.pay(record.link_id)
                yield OverSockets(telegram, omise, store, watcher, record)
        finally:
            await store.close()


async def test_a_notice_cut_off_by_the_deadline_on_its_way_is_not_sent_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled down: the deadline 1 s; Telegram shows the notice but answers after 2 s.
    monkeypatch.setattr(payments, "ANNOUNCE_TIMEOUT", 1.0)
    async with paid_over_sockets(settings) as rig:
        rig.telegram.fail("sendMessage", apply=True, delay=2.0)
        first = await rig.watcher.run_pass()
        await rig.watcher.run_pass()
    assert first.failed_announcements == 0
    assert len(rig.telegram.sent("sendMessage")) == 1
    assert len(notices(rig.telegram)) == 1


async def test_a_notice_cancelled_on_its_way_is_not_sent_again(settings: Settings) -> None:
    """A shutdown cancelling the pass once the notice went out: it counts as told."""
    async with paid_over_sockets(settings) as rig:
        rig.telegram.fail("sendMessage", apply=True, delay=2.0)
        cut = asyncio.create_task(rig.watcher.run_pass())
        await asyncio.to_thread(rig.telegram.wait_for, "sendMessage")
        cut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cut
        assert await rig.store.charges.unannounced_charges() == []
        await rig.watcher.run_pass()
    assert len(rig.telegram.sent("sendMessage")) == 1
    assert len(notices(rig.telegram)) == 1


class UnreadableOk:
    """The Bot API behind respx; the first sendMessage is carried out, its 200 body unreadable."""

    def __init__(self, telegram: fakes.FakeTelegram) -> None:
        self.forward = fakes.respx_handler(telegram)
        self.spoiled = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        answer = self.forward(request)
        if request.url.path.endswith("/sendMessage") and not self.spoiled:
            self.spoiled = True
            return httpx.Response(200, text="<html>upstream hiccup</html>")
        return answer


@pytest.mark.parametrize("fault", ["gateway", "unreadable"])
async def test_a_notice_answered_by_a_gateway_error_or_an_unreadable_200_is_not_sent_again(
    fault: str,
    watcher: PaymentWatcher,
    link_service: LinkService,
    store: Store,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    mock_http: respx.MockRouter,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    if fault == "gateway":
        # Telegram's backend posts it; the gateway in front answers 504: it gave up waiting.
        forward = fakes.respx_handler(fake_telegram)

        def gateway_timeout(request: httpx.Request) -> httpx.Response:
            answer = forward(request)
            if request.url.path.endswith("/sendMessage"):
                return httpx.Response(504, text="<html>504 Gateway Time-out</html>")
            return answer

        mock_http.route(url__startswith=TELEGRAM_URL).side_effect = gateway_timeout
    else:
        mock_http.route(url__startswith=TELEGRAM_URL).side_effect = UnreadableOk(fake_telegram)
    await watcher.run_pass()
    await watcher.run_pass()
    assert len(fake_telegram.sent("sendMessage")) == 1
    assert len(notices(fake_telegram)) == 1
    assert await store.charges.unannounced_charges() == []


async def test_strangers_private_replies_do_not_wait_behind_a_busy_group() -> None:
    """Forty messages for one group (20 a minute) hold up no stranger's private reply."""
    limiter = CountingRateLimiter(max_retries=5)
    sent: list[str] = []

    async def send(name: str) -> bool:
        sent.append(name)
        return True

    async def request(name: str, chat_id: int, *, stranger: bool = False) -> None:
        with throttle.answering_stranger(stranger):
            await limiter.process_request(
                send, (name,), {}, "sendMessage", {"chat_id": chat_id}, None
            )

    group = [asyncio.create_task(request(f"g{n}", -1001)) for n in range(40)]
    try:
        async with asyncio.timeout(10):
            await asyncio.sleep(0.1)  # the group's first twenty are out; twenty wait
            await asyncio.gather(*(request(f"s{n}", 1000 + n, stranger=True) for n in range(3)))
        assert {"s0", "s1", "s2"} <= set(sent)
        assert sum(name.startswith("g") for name in sent) == 20  # the group still waits
    finally:
        for task in group:
            task.cancel()
        await asyncio.gather(*group, return_exceptions=True)


async def test_looking_up_customers_does_not_hold_up_the_merchants_reply_in_the_group() -> None:
    """getChatMember is no message: it spends none of the group's 20 a minute."""
    limiter = CountingRateLimiter(max_retries=5)
    order: list[str] = []

    async def call(name: str) -> bool:
        order.append(name)
        return True

    async with asyncio.timeout(10):
        await asyncio.gather(
            *(
                limiter.process_request(
                    call, (f"member{n}",), {}, "getChatMember", {"chat_id": -1001}, None
                )
                for n in range(26)
            )
        )
        await limiter.process_request(call, ("reply",), {}, "sendMessage", {"chat_id": -1001}, None)
    assert order[-1] == "reply" and len(order) == 27


def today_summaries(telegram: fakes.FakeTelegram) -> list[str]:
    return [str(m["text"]) for m in telegram.messages if str(m["text"]).startswith("🗓 <b>Today")]


async def test_a_daily_summary_that_never_left_is_sent_at_the_next_check(
    chat: Chat, sales: None, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    day = today()
    clock = [at(day, 21, 0)]
    # Telegram refuses for now (429): it posted nothing, so nothing is lost for the day.
    fake_telegram.fail(
        "sendMessage",
        status=429,
        body={
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    first = await summary(chat, store, omise, clock).check()
    assert len(today_summaries(fake_telegram)) == first
    clock[0] = at(day, 21, 5)
    assert await summary(chat, store, omise, clock).check() == 1  # the one refused
    clock[0] = at(day, 21, 10)
    assert await summary(chat, store, omise, clock).check() == 0
    assert len(today_summaries(fake_telegram)) == first + 1


async def test_a_daily_summary_cut_off_before_it_went_out_is_sent_at_the_next_check(
    chat: Chat,
    sales: None,
    store: Store,
    omise: OmiseClient,
    fake_telegram: fakes.FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = today()
    clock = [at(day, 21, 0)]
    real = DailySummary._reply
    failed: list[tuple[int, int | None]] = []
    again: list[str] = []

    async def failing_once(self: DailySummary, to: Any, found: Any) -> Any:
        if not failed:
            failed.append((to.to, to.about))  # claimed, then the database fails
            raise RuntimeError("the database went away")
        reply = await real(self, to, found)
        if (to.to, to.about) == failed[0]:
            again.append(reply.text)
        return reply

    monkeypatch.setattr(DailySummary, "_reply", failing_once)
    with pytest.raises(RuntimeError):
        await summary(chat, store, omise, clock).check()
    clock[0] = at(day, 21, 5)
    await summary(chat, store, omise, clock).check()
    # Its claim went back: the summary cut off is sent at the next check, once.
    assert len(again) == 1
    assert [m["text"] for m in fake_telegram.messages].count(again[0]) == 1

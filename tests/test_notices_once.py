"""Send once, then only check: a notice or summary that may have reached the chat is not sent again.

Telegram has no way to ask whether a message arrived. A send whose answer
was lost (the connection dropped after the request went out, or no answer
came in time) counts as delivered; only a send that surely never reached
Telegram (no connection could be made) is tried again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import time
from pathlib import Path

import httpx
import pytest
import respx
from telegram import Bot
from telegram.error import TelegramError

from linkbot.bot.daily import DailySummary
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.bot.views import Reply
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.reports import Reports
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import MERCHANT, OMISE_URL, TELEGRAM_URL, make_link, no_sleep


def notices(telegram: fakes.FakeTelegram) -> list[str]:
    return [str(m["text"]) for m in telegram.messages if "was paid" in str(m["text"])]


async def test_a_notice_whose_answer_was_lost_is_not_sent_again(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    # Telegram posts the notice, then the connection drops before its answer.
    fake_telegram.fail("sendMessage", apply=True, drop=True)
    report = await watcher.run_pass()
    assert report.announced == 1 and report.failed_announcements == 0
    await watcher.run_pass()
    assert len(fake_telegram.sent("sendMessage")) == 1
    assert len(notices(fake_telegram)) == 1
    assert "may have arrived, so it is not sent again" in caplog.text


class RefusedFirst:
    """The Bot API behind respx, with the first sendMessage's connection refused."""

    def __init__(self, telegram: fakes.FakeTelegram) -> None:
        self.forward = fakes.respx_handler(telegram)
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sendMessage") and not self.refused:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.forward(request)


@pytest.fixture
def refused_first(
    fake_omise: fakes.FakeOmise, fake_telegram: fakes.FakeTelegram
) -> Iterator[RefusedFirst]:
    refusing = RefusedFirst(fake_telegram)
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=OMISE_URL).mock(side_effect=fakes.respx_handler(fake_omise))
        router.route(url__startswith=TELEGRAM_URL).mock(side_effect=refusing)
        yield refusing


async def test_a_notice_that_never_left_is_tried_again_at_once(
    settings: Settings,
    link_service: LinkService,
    store: Store,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    refused_first: RefusedFirst,
) -> None:
    async with Bot(fakes.BOT_TOKEN, base_url=f"{TELEGRAM_URL}/bot") as bot:
        watcher = PaymentWatcher(
            link_service.omise, store, TelegramAnnouncer(bot, store, settings.timezone)
        )
        record = await make_link(link_service)
        fake_omise.pay(record.link_id)
        report = await watcher.run_pass()
    assert refused_first.refused == 1
    assert report.announced == 1
    assert len(notices(fake_telegram)) == 1


async def test_a_notice_is_sent_once_when_the_real_connection_drops(
    tmp_path: Path, settings: Settings
) -> None:
    """The same over real sockets: the fakes served on 127.0.0.1, closing the connection."""
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        store = Store.connect(settings.database)
        await store.initialize()
        try:
            async with (
                OmiseClient(settings.omise_secret_key, base_url=omise_url, sleep=no_sleep) as api,
                Bot(fakes.BOT_TOKEN, base_url=f"{telegram_url}/bot") as bot,
            ):
                links = LinkService(api, store, reconcile_delays=(0, 0, 0), sleep=no_sleep)
                watcher = PaymentWatcher(
                    api, store, TelegramAnnouncer(bot, store, settings.timezone)
                )
                record = await make_link(links)
                omise.pay(record.link_id)
                telegram.fail("sendMessage", apply=True, drop=True)
                assert (await watcher.run_pass()).announced == 1
                await watcher.run_pass()
        finally:
            await store.close()
    assert len(telegram.sent("sendMessage")) == 1
    assert len(notices(telegram)) == 1


@pytest.fixture
async def summaries(
    bot: Bot, store: Store, omise: OmiseClient, settings: Settings
) -> AsyncIterator[DailySummary]:
    yield DailySummary(
        bot,
        Reports(store, omise),
        store,
        at=time(21, 0),
        zone=settings.timezone,
        allowed_users=frozenset({MERCHANT}),
    )


async def test_a_summary_whose_answer_was_lost_is_not_sent_again(
    summaries: DailySummary, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.fail("sendMessage", apply=True, drop=True)
    # The summary loop logs it, and its claim keeps it from going out again.
    with pytest.raises(TelegramError, match="may have arrived"):
        await summaries.delivery.to_chat(MERCHANT, Reply("<b>Today</b>: ฿74.40"))
    assert len(fake_telegram.sent("sendMessage")) == 1
    assert len(fake_telegram.messages) == 1


async def test_a_summary_that_never_left_is_tried_again(
    summaries: DailySummary, fake_telegram: fakes.FakeTelegram, mock_http: respx.MockRouter
) -> None:
    # The same route, given back by respx: its first sendMessage finds no connection.
    refusing = RefusedFirst(fake_telegram)
    mock_http.route(url__startswith=TELEGRAM_URL).side_effect = refusing
    await summaries.delivery.to_chat(MERCHANT, Reply("<b>Today</b>: ฿74.40"))
    assert refusing.refused == 1
    assert len(fake_telegram.sent("sendMessage")) == 1
    assert len(fake_telegram.messages) == 1

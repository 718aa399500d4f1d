"""A nudged (early) payment pass reads one page of events and announces only what it recorded:
however many unsigned webhooks come, a refused notice keeps the regular retry schedule and
Omise is asked for at most one page of events a nudge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from linkbot import payments
from linkbot.links import LinkService
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from tests.conftest import eventually, make_link
from tests.test_webhook_nudges import running

SPACING = 0.2
REFUSED = {
    "status": 400,
    "body": {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: not enough rights to send text messages to the chat",
    },
}


@pytest.fixture
async def watching(
    watcher: PaymentWatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PaymentWatcher]:
    """The watcher running, nudges 0.2 s apart, its next regular pass far away."""
    monkeypatch.setattr(payments, "NUDGE_SPACING", SPACING)
    async with running(watcher):
        yield watcher


async def nudged_passes(watcher: PaymentWatcher, fake_omise: fakes.FakeOmise, count: int) -> None:
    """Nudge until ``count`` more passes have read Omise's events."""
    for _ in range(count):
        before = fake_omise.count("GET /events")
        watcher.nudge()
        await eventually(lambda before=before: fake_omise.count("GET /events") > before)


async def test_nudged_passes_do_not_retry_a_refused_notice(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(payments, "NUDGE_SPACING", SPACING)
    record = await make_link(link_service)
    fake_telegram.fail("sendMessage", times=10_000, **REFUSED)
    fake_omise.pay(record.link_id)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(300.0, stop))
    try:
        # The first (regular) pass records the payment and is refused once.
        await eventually(lambda: caplog.text.count("Could not announce") == 1)
        await nudged_passes(watcher, fake_omise, 10)
        await asyncio.sleep(2 * SPACING)
    finally:
        stop.set()
        await task
    # Ten early passes, and the notice was still tried only by the regular one.
    assert caplog.text.count("Could not announce") == 1
    assert "Gave up" not in caplog.text


async def test_a_nudged_pass_reads_one_page_of_events(
    watching: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    # More events since the cursor than a page holds, one of them a payment of ours.
    for _ in range(payments.PAGE_LIMIT + 50):
        fake_omise.other_charge()
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    reads = fake_omise.count("GET /events")
    watching.nudge()
    await eventually(lambda: fake_omise.count("GET /events") == reads + 1)
    await asyncio.sleep(3 * SPACING)
    assert fake_omise.count("GET /events") == reads + 1
    assert fake_telegram.messages == []
    # The next nudge reads on from there, and finds the payment.
    watching.nudge()
    await eventually(lambda: len(fake_telegram.messages) == 1)
    assert fake_omise.count("GET /events") == reads + 2


async def test_nudges_faster_than_the_interval_do_not_put_the_regular_pass_off(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An unsigned webhook every 0.3 s, against a regular pass every second: the regular
    # passes still come, and with them the retries of a notice Telegram refused.
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(payments, "NUDGE_SPACING", 0.1)
    record = await make_link(link_service)
    fake_telegram.fail("sendMessage", times=10_000, **REFUSED)
    fake_omise.pay(record.link_id)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(1.0, stop))

    async def nudging() -> None:
        while not stop.is_set():
            watcher.nudge()
            await asyncio.sleep(0.3)

    nudger = asyncio.create_task(nudging())
    try:
        await eventually(lambda: caplog.text.count("Could not announce") >= 3, within=8)
    finally:
        stop.set()
        await nudger
        await task
    assert fake_omise.count("GET /events") > caplog.text.count("Could not announce")

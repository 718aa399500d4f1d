"""Unverified Omise webhooks (no webhook secret) only bring the next payment pass forward:
a flood of made-up events costs a few reads of Omise's events, counted by the fake Omise."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from linkbot import payments
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import NUDGE_SPACING, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from linkbot.web import create_app
from tests.conftest import OMISE_URL, eventually, make_link
from tests.test_web import NoAnnouncer, charge_event, client

FLOOD = 900


@contextlib.asynccontextmanager
async def running(watcher: PaymentWatcher) -> AsyncIterator[PaymentWatcher]:
    """The watcher running, with its next regular pass far away, after its first pass."""
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(300.0, stop))
    try:
        async with asyncio.timeout(10):
            await watcher.caught_up.wait()
        yield watcher
    finally:
        stop.set()
        await task


@pytest.fixture
async def watching(watcher: PaymentWatcher) -> AsyncIterator[PaymentWatcher]:
    async with running(watcher):
        yield watcher


async def test_a_flood_of_forged_events_costs_a_few_events_reads(
    watching: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    app = create_app(watching, None)
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)  # one real payment among the made-up ones
    asked_before = len(fake_omise.requests)
    reads_before = fake_omise.count("GET /events")
    started = time.monotonic()
    async with client(app) as http:
        for number in range(FLOOD):
            body = charge_event(f"chrg_test_forged{number:04d}")
            response = await http.post("/omise/webhook", content=body)
            assert response.status_code == 202
    took = time.monotonic() - started
    # The real payment is announced without waiting for the next regular pass.
    await eventually(lambda: len(fake_telegram.messages) == 1)
    # Nudges that came during the last pass make one more after it; then it is quiet.
    await asyncio.sleep(2 * NUDGE_SPACING + 0.5)
    asked = fake_omise.requests[asked_before:]
    reads = fake_omise.count("GET /events") - reads_before
    print(f"{FLOOD} forged events in {took:.2f} s: {reads} GET /events, {len(asked)} requests")
    assert fake_omise.count("GET /charges") == 0
    assert all(request.startswith("GET /events") for request in asked)
    # One read a NUDGE_SPACING at most while they come, and one after.
    assert 1 <= reads <= math.ceil(took / NUDGE_SPACING) + 1
    assert "was paid" in fake_telegram.messages[0]["text"]
    await app.state.confirmations.aclose()


async def test_nudges_during_a_pass_make_one_more_pass(
    omise: OmiseClient,
    store: Store,
    fake_omise: fakes.FakeOmise,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(payments, "NUDGE_SPACING", 0.2)
    answer = fakes.respx_handler(fake_omise)
    reading, release = asyncio.Event(), asyncio.Event()

    async def slow_events(request: httpx.Request) -> httpx.Response:
        reading.set()
        await release.wait()
        return answer(request)

    watcher = PaymentWatcher(omise, store, NoAnnouncer(), sweep_interval=3600)
    stop = asyncio.Event()
    with respx.mock(assert_all_called=False) as router:
        router.get(url__startswith=f"{OMISE_URL}/events").mock(side_effect=slow_events)
        router.route(url__startswith=OMISE_URL).mock(side_effect=answer)
        task = asyncio.create_task(watcher.run(300.0, stop))
        try:
            async with asyncio.timeout(5):
                await reading.wait()
            for _ in range(50):
                watcher.nudge()
            release.set()
            await eventually(lambda: fake_omise.count("GET /events") == 2)
            # Nothing more asked for: the next pass is the regular one, 300 s away.
            await asyncio.sleep(5 * payments.NUDGE_SPACING)
            assert fake_omise.count("GET /events") == 2
            watcher.nudge()
            await eventually(lambda: fake_omise.count("GET /events") == 3)
        finally:
            stop.set()
            await task


async def test_a_standby_instance_is_not_made_to_read_events(
    omise: OmiseClient,
    store: Store,
    other: Store,
    fake_omise: fakes.FakeOmise,
    mock_http: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(payments, "NUDGE_SPACING", 0.2)
    # Only the lease holder reads Omise's events; its own passes find what a standby heard of.
    holder = PaymentWatcher(omise, store, NoAnnouncer())
    standby = PaymentWatcher(omise, other, NoAnnouncer())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(holder.run(300.0, stop))]
    try:
        async with asyncio.timeout(10):
            await holder.caught_up.wait()
        tasks.append(asyncio.create_task(standby.run(300.0, stop)))
        await eventually(lambda: standby.standby)
        reads = fake_omise.count("GET /events")
        for _ in range(10):
            standby.nudge()
        await asyncio.sleep(5 * payments.NUDGE_SPACING)
        assert fake_omise.count("GET /events") == reads
    finally:
        stop.set()
        await asyncio.gather(*tasks)

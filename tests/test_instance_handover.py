"""Two instances on one database: repeats of inline results, a watcher taking its lease
back, the heartbeat that tells instances apart and keeps them judged alive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot

from linkbot.bot.notices import TelegramAnnouncer
from linkbot.commands import parse_link
from linkbot.config import Settings
from linkbot.links import LinkService, Origin
from linkbot.money import CURRENCIES
from linkbot.omise import OmiseClient
from linkbot.payments import CURSOR_KEY, EVENT_OVERLAP, WATCHER_LEASE, PaymentWatcher
from linkbot.store import Store
from tests.conftest import MERCHANT
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def other(settings: Settings, store: Store) -> AsyncIterator[Store]:
    """The second instance's store (``store`` is the first's, already migrated)."""
    other = Store.connect(settings.database)
    await other.initialize()
    yield other
    await other.close()


async def test_a_repeated_inline_result_does_not_wait_once_answered(
    store: Store, other: Store, omise: OmiseClient, mock_http: object
) -> None:
    # The first instance made the link and edited the inline message (no message id).
    await store.heartbeat(datetime.now(UTC), timedelta(seconds=60))
    first = LinkService(omise, store, reconcile_delays=(0,))
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False)
    origin = Origin.inline("result-1", user_id=MERCHANT, inline_message_id="IMSG-1")
    made = await first.create_for(request, origin, creator_id=MERCHANT)
    assert made is not None
    await store.set_inline_message(made.record.link_id, "IMSG-1")

    second = LinkService(
        omise, other, command_wait=timedelta(seconds=5), command_poll=0.02, reconcile_delays=(0,)
    )
    started = time.monotonic()
    repeated = await second.create_for(request, origin, creator_id=MERCHANT)
    assert time.monotonic() - started < 1
    assert repeated is not None and repeated.answered
    assert repeated.record.link_id == made.record.link_id


async def test_a_watcher_taking_its_lease_back_reads_the_cursor_from_the_store(
    store: Store,
    omise: OmiseClient,
    bot: Bot,
    settings: Settings,
    mock_http: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked_from: list[datetime] = []
    list_events = omise.list_events

    async def recording(**params: Any) -> Any:
        asked_from.append(params["from_"])
        return await list_events(**params)

    monkeypatch.setattr(omise, "list_events", recording)
    watcher = PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone))
    # This instance watched once (its cursor in memory), then stood by while
    # another one read on and saved a later cursor.
    older = datetime.now(UTC) - timedelta(hours=2)
    newer = datetime.now(UTC) - timedelta(minutes=1)
    watcher._cursor = older
    watcher._cursor_saved = (older, older)
    await store.set_value(CURSOR_KEY, newer.isoformat())

    stop = asyncio.Event()
    running = asyncio.create_task(watcher.run(0.2, stop))
    try:
        for _ in range(250):
            if watcher.last_pass_at is not None:
                break
            await asyncio.sleep(0.02)
        assert watcher.last_pass_at is not None
    finally:
        stop.set()
        await running
    # Read on from the stored cursor, not again from the old one.
    assert asked_from and asked_from[0] >= newer - EVENT_OVERLAP
    saved = await store.get_value(CURSOR_KEY)
    assert saved is not None and datetime.fromisoformat(saved) >= newer
    assert await store.lease_holder(WATCHER_LEASE, datetime.now(UTC)) is None

"""The webhook's inbox: an acknowledged update outlives the instance that acknowledged it.

Each instance is a Store of its own over one database, as in
``test_instances.py``; on SQLite and on the real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import respx
from pydantic import SecretStr
from telegram import Update

from linkbot.bot import build_application
from linkbot.bot.app import PerChatUpdateProcessor
from linkbot.config import Settings
from linkbot.inbox import KEEP_HANDLED, KEEP_UNHANDLED, Inbox
from linkbot.links import LinkService
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from linkbot.web import TelegramWebhook, create_app
from tests.conftest import Queued
from tests.databases import ENGINES
from tests.test_webhook import SECRET, link_update, make_client, post

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def instance(settings: Settings, name: str) -> Store:
    store = Store.connect(settings.database, instance_id=name)
    await store.initialize()
    return store


@pytest.fixture
async def instances(settings: Settings) -> AsyncIterator[list[Store]]:
    """Three instances on one database: the dead one, and two survivors."""
    stores = [await instance(settings, name) for name in ("dead", "alive-1", "alive-2")]
    yield stores
    for store in stores:
        await store.close()


def body(update_id: int, text: str = "/link 50 Tea") -> str:
    return json.dumps(link_update(update_id, text))


async def test_an_update_is_kept_once(instances: list[Store]) -> None:
    first, second, _ = instances
    assert await first.inbox.save_update(1, body(1), NOW)
    # Telegram delivering it again, to this instance or another: a duplicate.
    assert not await first.inbox.save_update(1, body(1), NOW)
    assert not await second.inbox.save_update(1, body(1), NOW)
    # Both instances given one update at the same moment: one keeps it.
    for update_id in range(2, 22):
        kept = await asyncio.gather(
            first.inbox.save_update(update_id, body(update_id), NOW),
            second.inbox.save_update(update_id, body(update_id), NOW),
        )
        assert sorted(kept) == [False, True]


async def test_a_dead_instances_updates_are_adopted_once(instances: list[Store]) -> None:
    dead, survivor, other = instances
    await dead.leases.heartbeat(NOW - 2 * TTL, TTL)  # expired a minute ago
    await survivor.leases.heartbeat(NOW, TTL)
    await other.leases.heartbeat(NOW, TTL)
    for update_id in range(1, 41):
        await dead.inbox.save_update(update_id, body(update_id), NOW - TTL)
    await dead.inbox.update_handled(40, NOW - TTL)  # handled before it died: nothing to adopt
    await survivor.inbox.save_update(50, body(50), NOW)  # alive: its own to handle

    taken = await asyncio.gather(
        survivor.inbox.adopt_updates(NOW, 100), other.inbox.adopt_updates(NOW, 100)
    )
    ids = [[update_id for update_id, _ in adopted] for adopted in taken]
    assert sorted(ids[0] + ids[1]) == list(range(1, 40))  # each once, by one of them
    for adopted in taken:
        assert adopted == sorted(adopted)  # oldest first: each chat keeps its order
        for update_id, text in adopted:
            assert json.loads(text)["update_id"] == update_id
    # Taken means theirs now: nothing is left for anyone, nor taken twice.
    assert await survivor.inbox.adopt_updates(NOW, 100) == []
    assert await other.inbox.adopt_updates(NOW, 100) == []


async def test_a_live_instances_updates_are_left_to_it(instances: list[Store]) -> None:
    dead, survivor, _ = instances
    await dead.leases.heartbeat(NOW, TTL)
    await dead.inbox.save_update(1, body(1), NOW)
    assert await survivor.inbox.adopt_updates(NOW, 100) == []
    # Its heartbeat runs out: now it counts as dead.
    assert [u for u, _ in await survivor.inbox.adopt_updates(NOW + 2 * TTL, 100)] == [1]


async def test_adoption_takes_no_more_than_there_is_room_for(instances: list[Store]) -> None:
    dead, survivor, _ = instances
    for update_id in range(1, 6):
        await dead.inbox.save_update(update_id, body(update_id), NOW)
    assert await survivor.inbox.adopt_updates(NOW, 0) == []
    assert [u for u, _ in await survivor.inbox.adopt_updates(NOW, 2)] == [1, 2]
    assert [u for u, _ in await survivor.inbox.adopt_updates(NOW, 10)] == [3, 4, 5]


async def test_an_earlier_run_leaves_its_updates_to_the_next(settings: Settings) -> None:
    before = await instance(settings, "host")
    await before.inbox.save_update(1, body(1), NOW - timedelta(seconds=5))
    await before.inbox.save_update(2, body(2), NOW - timedelta(seconds=4))
    await before.inbox.update_handled(2, NOW)
    await before.close()
    after = await instance(settings, "host")
    try:
        await after.inbox.save_update(3, body(3), NOW)  # received by this run: already queued
        assert [u for u, _ in await after.inbox.leftover_updates(NOW)] == [1]
    finally:
        await after.close()


async def test_old_updates_are_purged(instances: list[Store]) -> None:
    store = instances[0]
    await store.inbox.save_update(1, body(1), NOW - 2 * KEEP_HANDLED)
    await store.inbox.update_handled(1, NOW - 2 * KEEP_HANDLED)
    await store.inbox.save_update(2, body(2), NOW - timedelta(minutes=5))
    await store.inbox.update_handled(2, NOW - timedelta(minutes=5))  # still remembered
    await store.inbox.save_update(3, body(3), NOW - 2 * KEEP_UNHANDLED)  # never marked handled
    await store.inbox.save_update(4, body(4), NOW - 2 * KEEP_HANDLED)  # unhandled, not that old
    purged = await store.inbox.purge_updates(NOW - KEEP_HANDLED, NOW - KEEP_UNHANDLED)
    assert purged == 2
    assert await store.inbox.save_update(1, body(1), NOW)  # forgotten: a new update to it
    assert not await store.inbox.save_update(2, body(2), NOW)
    assert not await store.inbox.save_update(4, body(4), NOW)


class FailingInbox:
    async def keep(self, update_id: int, body: bytes) -> bool:
        raise OSError("the database is down")


async def test_the_webhook_acknowledges_only_what_it_kept(
    watcher: PaymentWatcher, instances: list[Store]
) -> None:
    queues = [Queued(), Queued()]
    backlogs = [PerChatUpdateProcessor(lambda user: True) for _ in queues]
    hooks = [
        TelegramWebhook(
            queued,
            SecretStr(SECRET),
            backlog=backlog,
            inbox=Inbox(store, queued, backlog, max_pending=10),
        )
        for queued, backlog, store in zip(queues, backlogs, instances, strict=False)
    ]
    failing = TelegramWebhook(queues[0], SecretStr(SECRET), inbox=FailingInbox())
    apps = [create_app(watcher, None, routes=[hook.route()]) for hook in [*hooks, failing]]
    async with make_client(apps[0]) as one, make_client(apps[1]) as two:
        assert (await post(one, link_update(7))).json() == {"status": "ok"}
        # Telegram, not told in time, delivers it to the other instance: dropped there.
        again = await post(two, link_update(7))
        assert again.status_code == 200 and again.json() == {"status": "duplicate"}
        assert queues[0].update_queue.qsize() == 1 and queues[1].update_queue.empty()
        assert backlogs[1].unfinished == 0
    async with make_client(apps[2]) as down:
        refused = await post(down, link_update(8))
        assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert queues[0].update_queue.qsize() == 1
    for app in apps:
        await app.state.confirmations.aclose()


async def test_a_dead_instances_command_is_answered_by_the_survivor(
    settings: Settings,
    link_service: LinkService,
    instances: list[Store],
    watcher: PaymentWatcher,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    fake_omise: fakes.FakeOmise,
) -> None:
    dead, survivor, _ = instances
    # The dead instance kept (and acknowledged) a command, then died before handling it.
    assert await dead.inbox.save_update(30, body(30, "/link 74.40 Hot Latte"), datetime.now(UTC))

    mock_http.route(url__startswith="http://bot.test").pass_through()
    links = LinkService(link_service.omise, survivor, reconcile_delays=(0, 0, 0))
    application = build_application(settings, links, rate_limiter=None)
    processor = application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    inbox = Inbox(survivor, application, processor, max_pending=10)
    processor.on_handled = inbox.handled
    webhook = TelegramWebhook(application, SecretStr(SECRET), backlog=processor, inbox=inbox)
    app = create_app(watcher, None, routes=[webhook.route()])
    async with application, make_client(app) as client:
        await application.start()
        try:
            assert await inbox.adopt() == 1
            assert await inbox.adopt() == 0
            # One delivered to the survivor itself goes the same way.
            assert (await post(client, link_update(31, "/link 20 Tea"))).status_code == 200
            for _ in range(300):
                if len(fake_telegram.sent()) >= 2 and not processor.unfinished:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # the marks follow the replies
        finally:
            await application.stop()
            await app.state.confirmations.aclose()
    assert sorted(link["title"] for link in fake_omise.links.values()) == ["Hot Latte", "Tea"]
    assert len(fake_telegram.sent()) == 2
    # Both handled: nothing left for anyone to adopt, even once the survivor dies.
    later = datetime.now(UTC) + timedelta(days=1)
    assert await dead.inbox.adopt_updates(later, 10) == []
    assert await dead.inbox.leftover_updates(later) == []
    assert await survivor.inbox.leftover_updates(later) == []


def _a_finished_process_id() -> str:
    """The instance id a process of this host made up, that process having ended."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{socket.gethostname()[:32]}-{finished.stdout.strip()}-ab12"


class _Backlog:
    unfinished = 0

    def expect(self, update: object) -> None:
        pass


async def test_a_gone_processs_updates_are_taken_at_start_up(
    settings: Settings, instances: list[Store]
) -> None:
    # A process of this host that no longer runs (a killed bot, restarted):
    # its heartbeat still lasts, but its updates need not wait for it.
    gone = Store.connect(settings.database, instance_id=_a_finished_process_id())
    await gone.initialize()
    _, survivor, _ = instances
    queued: asyncio.Queue[object] = asyncio.Queue()

    class App:
        bot = None
        update_queue = queued

    try:
        await gone.leases.heartbeat(None, TTL)  # still "alive" for a minute
        assert await gone.inbox.save_update(50, body(50), datetime.now(UTC))
        inbox = Inbox(survivor, App(), _Backlog(), max_pending=10)
        assert await inbox.resume(before=datetime.now(UTC)) == 1
        assert queued.qsize() == 1
    finally:
        await gone.close()


async def test_a_handled_mark_that_failed_is_written_again(
    instances: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead, survivor, _ = instances
    assert await dead.inbox.save_update(60, body(60), NOW)

    class App:
        bot = None
        update_queue: asyncio.Queue[object] = asyncio.Queue()

    inbox = Inbox(dead, App(), _Backlog(), max_pending=10, now=lambda: NOW)
    written = dead.inbox.update_handled

    async def failing(update_id: int, at: datetime) -> None:
        raise OSError("the database is failing over")

    monkeypatch.setattr(dead.inbox, "update_handled", failing)
    await inbox.handled(Update.de_json(link_update(60), None))
    monkeypatch.setattr(dead.inbox, "update_handled", written)
    await inbox.mark_again()  # before signing off, or at the next pass
    # After a clean stop nobody takes it up again: it was handled.
    await dead.leases.sign_off()
    assert await survivor.inbox.adopt_updates(NOW + 2 * TTL, 10) == []

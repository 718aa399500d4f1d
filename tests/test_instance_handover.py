"""Two instances on one database: repeats of inline results, a watcher taking its lease
back, the heartbeat that tells instances apart and keeps them judged alive."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from linkbot.commands import parse_link
from linkbot.config import Settings
from linkbot.instances import (
    Heartbeat,
    InstanceIdTaken,
    ended_here,
    heartbeat_every,
    heartbeat_ttl,
    process_instance_id,
)
from linkbot.links import LinkService, Origin
from linkbot.money import CURRENCIES
from linkbot.omise import OmiseClient
from linkbot.payments import CURSOR_KEY, EVENT_OVERLAP, WATCHER_LEASE, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import GROUP, MERCHANT, eventually, make_settings
from tests.databases import ENGINES
from tests.process import BotProcess, wait_until


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_repeated_inline_result_does_not_wait_once_answered(
    store: Store, other: Store, omise: OmiseClient, mock_http: object
) -> None:
    # The first instance made the link and edited the inline message (no message id).
    await store.leases.heartbeat(datetime.now(UTC), timedelta(seconds=60))
    first = LinkService(omise, store, reconcile_delays=(0,))
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False)
    origin = Origin.inline("result-1", user_id=MERCHANT, inline_message_id="IMSG-1")
    made = await first.create_for(request, origin, creator_id=MERCHANT)
    assert made is not None
    await store.links.set_inline_message(made.record.link_id, "IMSG-1")

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
    watcher: PaymentWatcher,
    mock_http: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked_from: list[datetime] = []
    list_events = omise.list_events

    async def recording(**params: Any) -> Any:
        asked_from.append(params["from_"])
        return await list_events(**params)

    monkeypatch.setattr(omise, "list_events", recording)
    # This instance watched once (its cursor in memory), then stood by while
    # another one read on and saved a later cursor.
    older = datetime.now(UTC) - timedelta(hours=2)
    newer = datetime.now(UTC) - timedelta(minutes=1)
    watcher._cursor = older
    watcher._cursor_saved = (older, older)
    await store.state.set_value(CURSOR_KEY, newer.isoformat())

    stop = asyncio.Event()
    running = asyncio.create_task(watcher.run(0.2, stop))
    try:
        await eventually(lambda: watcher.last_pass_at is not None, within=5)
        assert watcher.last_pass_at is not None
    finally:
        stop.set()
        await running
    # Read on from the stored cursor, not again from the old one.
    assert asked_from and asked_from[0] >= newer - EVENT_OVERLAP
    saved = await store.state.get_value(CURSOR_KEY)
    assert saved is not None and datetime.fromisoformat(saved) >= newer
    assert await store.leases.lease_holder(WATCHER_LEASE, datetime.now(UTC)) is None


# Instance ids and heartbeats


def test_the_default_instance_id_is_the_processs_own(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    host, pid = socket.gethostname()[:32], str(os.getpid())
    assert settings.instance_id.startswith(f"{host}-{pid}-")
    assert make_settings(tmp_path).instance_id == settings.instance_id  # one per process
    assert len(settings.instance_id) <= 48
    assert make_settings(tmp_path, linkbot_instance_id="dyno-1").instance_id == "dyno-1"
    script = "from tests.conftest import make_settings; import pathlib; "
    script += "print(make_settings(pathlib.Path('.')).instance_id)"
    others = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(others) == 2 and settings.instance_id not in others


async def test_a_second_process_with_the_same_id_gets_no_heartbeat(
    settings: Settings, store: Store
) -> None:
    first = Store.connect(settings.database, instance_id="same")
    second = Store.connect(settings.database, instance_id="same")
    try:
        assert await first.leases.heartbeat(None, timedelta(seconds=60))
        assert await first.leases.heartbeat(None, timedelta(seconds=60))  # renewing its own
        assert not await second.leases.heartbeat(None, timedelta(seconds=60))
        # Signing off takes only one's own heartbeat away.
        await second.leases.sign_off()
        assert await store.leases.alive("same")
        await first.leases.sign_off()
        assert not await store.leases.alive("same")
        assert await second.leases.heartbeat(None, timedelta(seconds=60))
    finally:
        await first.close()
        await second.close()


async def test_starting_with_the_id_of_a_running_process_is_refused(
    settings: Settings, store: Store
) -> None:
    running = Store.connect(settings.database, instance_id="same")
    starting = Store.connect(settings.database, instance_id="same")
    stop = asyncio.Event()
    ttl = timedelta(seconds=30)
    try:
        await Heartbeat(running, ttl, every=0.1).start()
        beating = asyncio.create_task(Heartbeat(running, ttl, every=0.1).run(stop))
        with pytest.raises(InstanceIdTaken, match="LINKBOT_INSTANCE_ID"):
            await Heartbeat(starting, ttl, every=0.1).start()
        stop.set()
        await beating
    finally:
        await running.close()
        await starting.close()


async def test_a_restart_takes_over_the_heartbeat_its_dead_run_left(
    settings: Settings, store: Store
) -> None:
    dead = Store.connect(settings.database, instance_id="stable")
    restarted = Store.connect(settings.database, instance_id="stable")
    ttl = timedelta(seconds=30)
    try:
        await Heartbeat(dead, ttl, every=0.1).start()  # then killed: never renewed
        started = time.monotonic()
        await Heartbeat(restarted, ttl, every=0.1).start()
        assert time.monotonic() - started < 3
        await dead.leases.sign_off()  # the dead run's heartbeat is gone, not the new one's
        assert await store.leases.alive("stable")
    finally:
        await dead.close()
        await restarted.close()


def test_the_heartbeat_survives_missed_renewals_and_follows_the_poll_interval() -> None:
    assert heartbeat_every(20.0) == 10.0 and heartbeat_every(1.0) == 1.0
    # Renewed by its own task until the last command is done, so it need only
    # outlast a few renewals missed while the database fails over.
    assert heartbeat_ttl(10.0) > timedelta(seconds=3 * 10.0)
    assert heartbeat_ttl(1.0) < timedelta(seconds=10)  # a dead instance is noticed soon


async def test_the_heartbeat_is_renewed_by_its_own_task_until_stopped(
    settings: Settings, store: Store, other: Store
) -> None:
    heartbeat = Heartbeat(store, timedelta(seconds=1), every=0.2)
    await heartbeat.start()
    stop = asyncio.Event()
    beating = asyncio.create_task(heartbeat.run(stop))
    try:
        await asyncio.sleep(1.5)  # longer than one renewal lasts
        assert await other.leases.alive(store.instance_id)
    finally:
        stop.set()
        await beating
    await asyncio.sleep(1.2)
    assert not await other.leases.alive(store.instance_id)


def test_a_stopping_bot_stays_alive_for_others_while_it_finishes_a_command(
    tmp_path: Path,
) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=4.0)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=str(MERCHANT),
            LINKBOT_INSTANCE_ID="finishing",
            LINKBOT_POLL_INTERVAL="1",  # the watcher's lease lasts 1.5 s
        )
        bot.start()
        try:
            telegram.wait_for("setMyCommands", timeout=30)
            telegram.push(
                fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP)
            )
            wait_until(lambda: omise.count("POST /links"), timeout=10, poll=0.05)
            assert bot.proc is not None
            bot.proc.send_signal(signal.SIGTERM)  # the command waits on Omise for 4 s
            time.sleep(2.5)
            assert bot.running
            assert asyncio.run(alive(tmp_path / "linkbot.db", "finishing"))
            assert bot.stop() == 0
        finally:
            bot.kill()
    assert telegram.sent("sendMessage"), bot.log()
    assert not asyncio.run(alive(tmp_path / "linkbot.db", "finishing"))  # signed off


async def alive(database: Path, instance_id: str) -> bool:
    store = Store.connect(database)
    try:
        return await store.leases.alive(instance_id)
    finally:
        await store.close()


def test_an_ended_process_of_this_host_is_known_dead_at_once() -> None:
    ours = process_instance_id()
    host = socket.gethostname()[:32]
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert ended_here(f"{host}-{finished.stdout.strip()}-ab12")
    # This process's pid with another random part: a restarted container's earlier
    # life, or a sibling container on the host's network; only its heartbeat tells.
    assert not ended_here(f"{host}-{os.getpid()}-{'0000' if not ours.endswith('0000') else '1111'}")
    assert not ended_here(ours)
    assert not ended_here(f"{host}-1-ab12") or os.getpid() == 1  # running (init)
    assert not ended_here(f"another-host-{finished.stdout.strip()}-ab12")
    assert not ended_here("dyno-1")  # an id of the operator's: only its heartbeat tells

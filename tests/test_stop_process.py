"""SIGTERM at any moment: the real process exits within 5 s (0, or killed by the signal
before its handler is installed), and the database is whole for the next start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from linkbot import migrations
from linkbot.migrations import _LOCK_KEY
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.databases import postgresql_database
from tests.process import BotProcess, free_port, wait_until

database = postgresql_database

# A prompt stop: well inside the 10 s docker stop waits before it kills.
PROMPT = 5.0
RUNNING = "running as @"


@pytest.fixture
def services() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


def bot_in(
    workdir: Path, urls: tuple[str, str], database: str | None = None, **env: str
) -> BotProcess:
    workdir.mkdir(exist_ok=True)
    database = database or str(workdir / "linkbot.db")
    return BotProcess(workdir, *urls, LINKBOT_DATABASE=database, **env)


def stop_now(bot: BotProcess) -> tuple[int, float]:
    """SIGTERM; the exit code and the seconds until the process had ended."""
    assert bot.proc is not None
    sent = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    try:
        code = bot.proc.wait(PROMPT + 15)
    except Exception:
        bot.kill()
        raise
    return code, time.monotonic() - sent


def in_log(bot: BotProcess, text: str, timeout: float = 30.0) -> None:
    wait_until(lambda: text in bot.log() or not bot.running, timeout, repr(text), poll=0.005)
    assert text in bot.log(), bot.log()


def start_and_stop(bot: BotProcess) -> None:
    """A start that comes up and a stop after it: the database served it."""
    bot.log_path.unlink(missing_ok=True)  # only this run's lines
    bot.start()
    try:
        in_log(bot, RUNNING)
        code, took = stop_now(bot)
        assert code == 0 and took < PROMPT, bot.log()
    finally:
        bot.kill()


def test_a_stop_just_after_start_up_is_prompt(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    # With the HTTP listener, whose stop takes a moment while the watcher's
    # first database calls are under way: the moment that left a lock held.
    urls = services[2:]
    for attempt in range(3):
        bot = bot_in(tmp_path / str(attempt), urls, LINKBOT_HTTP_LISTEN=f"127.0.0.1:{free_port()}")
        bot.start()
        try:
            in_log(bot, RUNNING)
            code, took = stop_now(bot)
        finally:
            bot.kill()
        assert code == 0 and took < PROMPT, f"attempt {attempt}: {took:.1f} s\n{bot.log()}"
        assert "Stopped" in bot.log()


def test_a_stop_while_the_first_payment_pass_waits_on_omise_is_prompt(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    _, omise, *urls = services
    omise.fail("GET /events", status=200, apply=True, delay=30.0)  # Omise answers late
    bot = bot_in(tmp_path / "bot", (urls[0], urls[1])).start()
    try:
        in_log(bot, RUNNING)
        wait_until(lambda: "GET /events" in omise.requests, 10, "the first pass reading Omise")
        code, took = stop_now(bot)
    finally:
        bot.kill()
    assert code == 0 and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    assert "Stopped" in bot.log()


@pytest.mark.parametrize("method", ["getMe", "setMyCommands"])
def test_a_stop_while_telegram_is_slow_at_start_up_is_prompt(
    tmp_path: Path,
    services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str],
    method: str,
) -> None:
    telegram, _, *urls = services
    telegram.fail(method, apply=True, delay=30.0, times=10)
    bot = bot_in(tmp_path / "bot", (urls[0], urls[1])).start()
    try:
        wait_until(lambda: method in [name for name, _ in telegram.calls], 30, method)
        code, took = stop_now(bot)
    finally:
        bot.kill()
    assert code == 0 and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    log = bot.log()
    assert "Stopping during start-up" in log and RUNNING not in log
    assert "getUpdates" not in [name for name, _ in telegram.calls]  # it never took updates


def test_a_stop_while_waiting_for_an_old_heartbeat_is_prompt(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    workdir = tmp_path / "bot"
    workdir.mkdir()
    path = workdir / "linkbot.db"

    async def crashed_instance() -> tuple[str, object]:
        # What a run with this stable id killed a moment ago leaves: a fresh heartbeat.
        store = Store.connect(path, instance_id="till-1")
        try:
            await store.initialize()
            assert await store.leases.heartbeat(None, timedelta(seconds=60))
            seen = await store.leases.heartbeat_of("till-1")
            assert seen is not None
            return seen
        finally:
            await store.close()

    left = asyncio.run(crashed_instance())
    urls = (services[2], services[3])
    bot = bot_in(workdir, urls, LINKBOT_INSTANCE_ID="till-1").start()
    try:
        # With the default poll interval it would wait 21 s to see the heartbeat stand still.
        in_log(bot, "already has a heartbeat: waiting up to 21 s")
        code, took = stop_now(bot)
    finally:
        bot.kill()
    assert code == 0 and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    assert "Stopping during start-up" in bot.log() and RUNNING not in bot.log()

    async def heartbeat_now() -> object:
        store = Store.connect(path, instance_id="till-1")
        try:
            return await store.leases.heartbeat_of("till-1")
        finally:
            await store.close()

    # The earlier run's heartbeat is as it was left: neither taken over nor removed.
    assert asyncio.run(heartbeat_now()) == left
    # A next start (renewing each second) sees it stand still and comes up.
    start_and_stop(bot_in(workdir, urls, LINKBOT_INSTANCE_ID="till-1", LINKBOT_POLL_INTERVAL="1"))


@contextmanager
def migration_lock(url: str) -> Iterator[threading.Event]:
    """Hold the lock migrations take on PostgreSQL until the event yielded is set."""
    import asyncpg

    held, release = threading.Event(), threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
                held.set()
                await asyncio.to_thread(release.wait)
        finally:
            await conn.close()

    holder = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)


async def _waiting_for_the_lock(url: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        return bool(waiting)
    finally:
        await conn.close()


async def _revision(database: str) -> str | None:
    store = Store.connect(database)
    try:
        return await store.revision()
    finally:
        await store.close()


def test_a_stop_during_migrations_on_postgresql_is_prompt_and_leaves_no_half_schema(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str], database: str
) -> None:
    urls = (services[2], services[3])
    with migration_lock(database):
        # Another instance migrating: this one waits in its migration's transaction.
        bot = bot_in(tmp_path / "bot", urls, database).start()
        try:
            wait_until(lambda: asyncio.run(_waiting_for_the_lock(database)), 30, "the migration")
            code, took = stop_now(bot)
        finally:
            bot.kill()
    assert code == 0 and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    assert "Stopping during start-up" in bot.log() and RUNNING not in bot.log()
    # Rolled back whole: no table of it is left, and the next start migrates.
    assert asyncio.run(_revision(database)) is None
    start_and_stop(bot_in(tmp_path / "again", urls, database))
    assert asyncio.run(_revision(database)) == migrations.head()


def test_a_stop_during_the_first_database_open_on_sqlite_finishes_the_migration(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    workdir = tmp_path / "bot"
    workdir.mkdir()
    path = workdir / "linkbot.db"
    urls = (services[2], services[3])
    # Another process writing: the migration waits for the file's write lock.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    bot = bot_in(workdir, urls).start()
    try:
        assert bot.proc is not None
        fds = Path(f"/proc/{bot.proc.pid}/fd")
        wait_until(lambda: holds_open(fds, path), 30, "the database opened")
        time.sleep(0.3)  # into the migration's wait for the lock
        assert bot.running
        sent = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        other.execute("ROLLBACK")  # the other writer is done
        code = bot.proc.wait(PROMPT + 15)
        took = time.monotonic() - sent
    finally:
        other.close()
        bot.kill()
    # A migration is not cut off halfway on SQLite: it ends, then the bot stops,
    # without ever taking an update.
    assert code == 0 and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    assert "Stopping during start-up" in bot.log() and RUNNING not in bot.log()
    assert asyncio.run(_revision(str(path))) in (None, migrations.head())
    start_and_stop(bot_in(workdir, urls))
    assert asyncio.run(_revision(str(path))) == migrations.head()


@pytest.mark.parametrize("after", [0.3, 1.0])
def test_a_stop_early_in_start_up_is_prompt(
    tmp_path: Path, services: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str], after: float
) -> None:
    urls = (services[2], services[3])
    workdir = tmp_path / "bot"
    bot = bot_in(workdir, urls).start()
    try:
        time.sleep(after)
        code, took = stop_now(bot)
    finally:
        bot.kill()
    # Before the handler is installed the signal ends it as it would any process.
    assert code in (0, -signal.SIGTERM) and took < PROMPT, f"{took:.1f} s\n{bot.log()}"
    path = workdir / "linkbot.db"
    if path.exists():
        assert asyncio.run(_revision(str(path))) in (None, migrations.head())
    start_and_stop(bot_in(workdir, urls))


def holds_open(fds: Path, path: Path) -> bool:
    """Whether a process (its ``/proc/<pid>/fd``) has ``path`` open; its files come and go."""
    for fd in fds.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if os.readlink(fd) == str(path):
                return True
    return False

"""Store time per /link command, on SQLite and on PostgreSQL.

A /link command does these store calls: note the user and the chat, claim the command,
record the link and finish the command (one transaction), then note the
reply's message. This runs --commands of them, --concurrency at a time (as
chats run in parallel), and prints the wall time and the CPU time of the
event loop thread per command, for each engine. PostgreSQL is the server
at --postgresql (a database of its own is made there and dropped after);
it is left out when none answers.

Run from the repository root:  python -m benchmarks.store [--commands 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.process import percentile
from linkbot.store import CommandRecord, LinkRecord, Store

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


async def one_command(store: Store, n: int) -> float:
    """The store's part of one /link command; returns its wall time."""
    started = time.perf_counter()
    chat_id = -1001000000000 - n % 10
    now = datetime.now(UTC)
    await store.chats.note_visit(1000 + n % 50, "en", now, (chat_id, f"Cafe {n % 10}"))
    command = CommandRecord(
        key=f"{chat_id}:{n}",
        chat_id=chat_id,
        message_id=n,
        user_id=1000 + n % 50,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=False,
        received_at=now,
    )
    assert await store.commands.claim_command(command) is None
    link_id = f"link_test_{uuid.uuid4().hex[:20]}"
    record = LinkRecord(
        link_id=link_id,
        chat_id=chat_id,
        message_id=None,
        creator_id=command.user_id,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=False,
        payment_uri=f"https://pay.omise.test/{link_id}",
        created_at=now,
        recorded_at=now,
    )
    await store.commands.finish_command(command.key, record)
    await store.links.set_message(link_id, chat_id, n + 1)
    return time.perf_counter() - started


async def measure(store: Store, commands: int, concurrency: int) -> dict[str, float]:
    await store.initialize()
    for n in range(20):  # warm the pool and the statement caches
        await one_command(store, -1 - n)
    gate = asyncio.Semaphore(concurrency)

    async def limited(n: int) -> float:
        async with gate:
            return await one_command(store, n)

    cpu, wall = time.thread_time(), time.perf_counter()
    times = await asyncio.gather(*(limited(n) for n in range(commands)))
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return {
        "cpu_ms": cpu / commands * 1000,
        "wall_ms": wall / commands * 1000,
        "median_ms": statistics.median(times) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
    }


async def measure_at(database: str, commands: int, concurrency: int) -> dict[str, float]:
    """:func:`measure` on a store of its own at ``database`` (a path or a URL)."""
    store = Store.connect(database)
    try:
        return await measure(store, commands, concurrency)
    finally:
        await store.close()


def on_sqlite(commands: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure_at(str(Path(tmp) / "bench.db"), commands, concurrency))


def on_postgresql(server: str, commands: int, concurrency: int) -> dict[str, float] | None:
    reason = postgresql_answers(server)
    if reason is not None:
        print(f"PostgreSQL at {server}: not reachable ({reason}), left out")
        return None
    with postgresql_database(server) as database:
        return asyncio.run(measure_at(database, commands, concurrency))


async def _admin(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server, timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgresql_answers(server: str) -> str | None:
    """None when the server at ``server`` takes connections, else why not."""
    try:
        asyncio.run(_admin(server, "SELECT 1"))
    except Exception as exc:  # no driver, no server, refused: all mean "left out"
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def postgresql_database(server: str) -> Iterator[str]:
    """A database of its own on the server at ``server``, dropped after: its URL."""
    name = f"linkbot_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--postgresql", default=DEFAULT_SERVER)
    args = parser.parse_args()
    results: dict[str, dict[str, float] | None] = {
        "SQLite": on_sqlite(args.commands, args.concurrency),
        "PostgreSQL": on_postgresql(args.postgresql, args.commands, args.concurrency),
    }
    print(
        f"{args.commands} /link commands' store calls, {args.concurrency} at a time"
        " (note user and chat, claim, record link + finish, note reply):"
    )
    print(f"{'engine':<12}{'CPU/cmd':>10}{'wall/cmd':>10}{'median':>10}{'p99':>10}")
    for engine, found in results.items():
        if found is None:
            continue
        print(
            f"{engine:<12}{found['cpu_ms']:>8.2f}ms{found['wall_ms']:>8.2f}ms"
            f"{found['median_ms']:>8.2f}ms{found['p99_ms']:>8.2f}ms"
        )


if __name__ == "__main__":
    main()

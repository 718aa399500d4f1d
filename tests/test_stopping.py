"""Stopping at any moment: work cut short by a stop leaves the database as it found it,
or as the work left it, never locked or half-written."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from linkbot.payments import WATCHER_LEASE
from linkbot.store import Store
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.contextmanager
def cancelled_while_writing(store: Store, task: asyncio.Task[Any]) -> Iterator[None]:
    """Within, ``task`` is cancelled while the database works on its ``INSERT``."""
    loop = asyncio.get_running_loop()

    def sending(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("INSERT"):
            loop.call_soon(task.cancel)

    event.listen(store.db.engine.sync_engine, "before_cursor_execute", sending)
    try:
        yield
    finally:
        event.remove(store.db.engine.sync_engine, "before_cursor_execute", sending)


async def open_transactions(store: Store) -> int:
    """Connections of this database other than this one inside a transaction."""
    if store.dialect == "sqlite":
        # A write lock still held refuses this at once (no busy wait).
        probe = sqlite3.connect(store.db.engine.url.database or "", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return 1
        finally:
            probe.close()
        return 0
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
    )
    async with store.db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_a_write_cancelled_midway_ends_its_transaction_first(database: str) -> None:
    store = Store.connect(database, instance_id="first")
    other = Store.connect(database, instance_id="second")
    await store.initialize()
    try:
        for _ in range(3):
            now = datetime.now(UTC)
            taking = asyncio.create_task(
                store.leases.acquire_lease(WATCHER_LEASE, now, timedelta(60))
            )
            with cancelled_while_writing(store, taking), pytest.raises(asyncio.CancelledError):
                await taking
            # Nothing left locked or half-written: on SQLite the write was made
            # whole first; PostgreSQL rolled it back at once.
            assert await open_transactions(other) == 0
            holder = await other.leases.lease_holder(WATCHER_LEASE, now)
            assert holder == ("first" if store.dialect == "sqlite" else None)
            assert store.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            await store.leases.release_lease(WATCHER_LEASE)
    finally:
        await store.close()
        await other.close()

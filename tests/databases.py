"""The databases the store's tests run on: an SQLite file, and the real PostgreSQL.

The PostgreSQL tests use a database of their own, made for the test session
and dropped after it, with an empty schema for every test. Where no server
answers (a developer's machine), they are skipped and say why; CI requires
the server before running the tests (see ``.ci/run``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The server the tests use; any database on it that the user may connect to.
ADMIN_URL = os.environ.get("LINKBOT_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = ["sqlite", "postgresql"]


def _dsn(url: str, database: str | None = None) -> str:
    base, _, name = url.rpartition("/")
    return f"{base}/{database or name}"


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL, timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class PostgreSQL:
    """A database of this test session's on the test server."""

    def __init__(self) -> None:
        self.name = f"linkbot_test_{uuid.uuid4().hex[:12]}"
        self.url = _dsn(ADMIN_URL, self.name)
        self.unreachable: str | None = None

    def create(self) -> None:
        try:
            asyncio.run(_admin(f'CREATE DATABASE "{self.name}"'))
        # No server, no driver, or a server that refuses: the tests cannot run.
        except Exception as exc:
            self.unreachable = f"{type(exc).__name__}: {exc}"

    def drop(self) -> None:
        if self.unreachable is None:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    async def fresh(self) -> str:
        """The database's URL, emptied of everything an earlier test made."""
        if self.unreachable is not None:
            pytest.skip(f"PostgreSQL not reachable at {_dsn(ADMIN_URL)} ({self.unreachable})")
        import asyncpg

        conn = await asyncpg.connect(self.url, timeout=3)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
        return self.url


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    server = PostgreSQL()
    server.create()
    yield server
    server.drop()


@pytest.fixture
def postgresql_database(postgresql: PostgreSQL) -> str:
    """A fresh PostgreSQL database, for a module whose processes must share one server::

    database = postgresql_database
    """
    return asyncio.run(postgresql.fresh())


@pytest.fixture
def engine() -> str:
    """The store's engine. A module runs its tests on both by overriding this with::

    @pytest.fixture(params=ENGINES)
    def engine(request: pytest.FixtureRequest) -> str:
        return str(request.param)
    """
    return "sqlite"


@pytest.fixture
async def database(engine: str, tmp_path: Path, postgresql: PostgreSQL) -> str:
    """Where the test's store lives: an SQLite path, or a PostgreSQL URL."""
    if engine == "postgresql":
        return await postgresql.fresh()
    return str(tmp_path / "linkbot.db")

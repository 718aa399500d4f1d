"""The database the store is in: its engine, each dialect's rules, transactions, the clock.

SQLAlchemy async Core on SQLite (the default, aiosqlite) or PostgreSQL
(asyncpg). Every query means the same on both: claims are unique rows or
conditional UPDATEs whose row count says who won, so they hold between
processes; a write that reads first locks what it read. The schema is
versioned in :mod:`linkbot.migrations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Interval,
    Table,
    cast,
    event,
    func,
    inspect,
    literal,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from linkbot import migrations
from linkbot.migrations import first_release, schema_0001
from linkbot.waits import uninterrupted

logger = logging.getLogger(__name__)

# Connections to the database, no more: a burst of commands waits its turn for one.
POOL_SIZE = 5


class Database:
    """Where the store is: the engine, its dialect's rules, and this process's name in it."""

    def __init__(self, engine: AsyncEngine, *, instance_id: str | None = None) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        # A stream holds its connection until its reader is done, which for a
        # big export is seconds: one at a time, so the pool stays for commands.
        self.streams = asyncio.Semaphore(1)
        # Names this process in claims and leases; unique per process.
        self.instance_id = instance_id or uuid.uuid4().hex
        # Told apart from another process given the same instance id by mistake:
        # the heartbeat carries it (see LeaseQueries.heartbeat()).
        self.nonce = uuid.uuid4().hex[:12]

    @classmethod
    def connect(cls, database: str | Path, *, instance_id: str | None = None) -> Database:
        """The database at a PostgreSQL URL, or in an SQLite file at a path."""
        url = postgresql_url(database)
        if url is not None:
            return cls.postgresql(url, instance_id=instance_id)
        return cls.sqlite(database, instance_id=instance_id)

    @classmethod
    def postgresql(cls, url: str | URL, *, instance_id: str | None = None) -> Database:
        url, options = asyncpg_options(make_url(url) if isinstance(url, str) else url)
        if options.dropped:
            logger.warning(
                "Database URL options asyncpg does not take are ignored: %s",
                ", ".join(options.dropped),
            )
        engine = create_async_engine(
            url,
            # Five serve a burst as fast as fifteen, and leave room for two
            # instances and a console on plans that allow 20-25.
            pool_size=POOL_SIZE,
            max_overflow=0,
            # A connection the server dropped (a restart, a failover) is replaced, not used.
            pool_pre_ping=True,
            connect_args={"timeout": 10, "command_timeout": 60, **options.connect_args},
        )
        return cls(engine, instance_id=instance_id)

    @classmethod
    def sqlite(cls, path: Path | str, *, instance_id: str | None = None) -> Database:
        location = str(path)
        if location == ":memory:":
            # One connection holds the whole database (SQLAlchemy's StaticPool).
            engine = create_async_engine("sqlite+aiosqlite://", connect_args={"timeout": 30})
        else:
            # SQLite takes one writer at a time: five connections (five threads,
            # five page caches) serve a burst faster than fifteen, in 2 MiB less.
            engine = create_async_engine(
                f"sqlite+aiosqlite:///{location}",
                pool_size=POOL_SIZE,
                max_overflow=0,
                connect_args={"timeout": 30},
            )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _: Any) -> None:
            # The sqlite3 module starts transactions late and lets a released
            # SAVEPOINT commit on its own; take transactions over, so that a
            # transaction here is one transaction (SQLAlchemy's recipe).
            dbapi_connection.isolation_level = None
            # NORMAL sync is still durable across a process crash, which is
            # what matters here. WAL is set once per file, by initialize().
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A write takes the lock at once: a reader that later writes could
            # otherwise fail with "database is locked" instead of waiting.
            writes = conn.get_execution_options().get(_WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

        return cls(engine, instance_id=instance_id)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def describe(self) -> str:
        """Where the store is, for logs: the URL without its password, or the file."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return f"SQLite {url.database or ':memory:'}"
        return f"PostgreSQL {url.render_as_string(hide_password=True)}"

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: everything in it is committed together, or nothing is."""
        async with self._writer.begin() as conn:
            yield conn

    async def initialize(self) -> list[str]:
        """Create or upgrade the schema to the newest revision; returns the revisions applied."""
        if self.dialect == "sqlite":
            await self._use_wal()
        # Most starts find the schema current: one SELECT, no write lock, no Alembic.
        if await self.revision() == migrations.head():
            return []
        async with self.write() as conn:
            return await conn.run_sync(
                lambda sync: migrations.upgrade(sync, legacy_upgrade=_create_or_upgrade)
            )

    async def _use_wal(self, patience: float = 30.0) -> None:
        """Put the SQLite file in WAL mode, which lets the watcher read while a handler writes.

        The mode is kept in the file, so connections opened later use it on
        their own. Switching needs the file to itself, and SQLite answers
        "database is locked" at once, without waiting, while another
        connection holds it, as when instances start together on a new
        file and each switches it: so wait here, and only where the file is
        not in WAL mode yet.
        """
        deadline = time.monotonic() + patience
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # aiosqlite's, outside any transaction
            while True:
                try:
                    async with driver.execute("PRAGMA journal_mode") as cursor:
                        row = await cursor.fetchone()
                    if row[0] in ("wal", "memory"):
                        return
                    async with driver.execute("PRAGMA journal_mode=WAL") as cursor:
                        await cursor.fetchone()
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.02)

    async def revision(self) -> str | None:
        """The schema revision of the database (None before any)."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(migrations.current)

    async def close(self) -> None:
        await self.engine.dispose()

    def clock(self, now: datetime | None) -> Any:
        """``now``, or else the database's own clock (PostgreSQL's now(), in UTC)."""
        if now is not None:
            return now
        if self.dialect == "postgresql":
            return cast(func.timezone("UTC", func.now()), DateTime)
        return datetime.now(UTC)  # SQLite: the database is on this host, with this clock


def _settled_on_sqlite(
    call: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``call`` run to its end on SQLite even when its caller is cancelled meanwhile.

    aiosqlite works in a thread of its own, and a call cancelled midway
    may leave the file's write lock held there (see
    :func:`linkbot.waits.uninterrupted`). asyncpg gives a cancelled query's
    connection back rolled back, so on PostgreSQL a call stops at once:
    a stop is never kept waiting by a server that does not answer.
    """
    settled = uninterrupted(call)

    @functools.wraps(call)
    def either(owner: Any, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return (settled if owner.dialect == "sqlite" else call)(owner, *args, **kwargs)

    return either


def _settle_calls(cls: type) -> None:
    """Have ``cls``'s public calls end their transactions when their caller is cancelled.

    A stop during start-up, or a command past the shutdown grace: nothing
    half-written, no lock left.
    """
    for name, call in list(vars(cls).items()):
        if not name.startswith("_") and asyncio.iscoroutinefunction(call):
            setattr(cls, name, _settled_on_sqlite(call))


_settle_calls(Database)


class Queries:
    """The queries of one concern, run on ``db``; each concern's class extends this one.

    Their public calls are settled on SQLite (see :func:`_settled_on_sqlite`).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _settle_calls(cls)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def instance_id(self) -> str:
        """The name of this process in claims and leases."""
        return self.db.instance_id

    @property
    def _engine(self) -> AsyncEngine:
        return self.db.engine

    def _write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.db.write()

    def _clock(self, now: datetime | None) -> Any:
        return self.db.clock(now)


_WRITE = "linkbot_write"
_POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})


async def upsert(
    conn: AsyncConnection, table: Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert a row, or update it where the key is taken: one statement, no race."""
    statement = insert_for(conn.dialect.name, table).values(**key, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


async def insert_unless_present(
    conn: AsyncConnection, table: Table, values: dict[str, Any]
) -> bool:
    """Insert a row unless its primary key is taken; returns whether it was inserted.

    One statement (ON CONFLICT DO NOTHING): of two writers racing, one wins,
    and the loser's transaction goes on with nothing to recover from.
    """
    statement = insert_for(conn.dialect.name, table).values(**values)
    key = [column.name for column in table.primary_key.columns]
    inserted = await conn.execute(statement.on_conflict_do_nothing(index_elements=key))
    return bool(inserted.rowcount)


def insert_for(dialect: str, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, in the store's dialect (both spell it alike)."""
    if dialect == "postgresql":
        # Loaded only for PostgreSQL: 2 MiB an SQLite bot has no use for.
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)
    return sqlite_insert(table)


def plus(clock: Any, ttl: timedelta) -> Any:
    """A time ``ttl`` after ``clock``, a datetime or the database's clock."""
    if isinstance(clock, datetime):
        return clock + ttl
    return clock + literal(ttl, Interval())


def postgresql_url(database: str | Path) -> URL | None:
    """The asyncpg URL for a PostgreSQL database setting; None for an SQLite path.

    Takes ``postgresql://`` and ``postgres://`` (as PaaS providers write it)
    and ``postgresql+asyncpg://``.
    """
    location = str(database).strip()
    scheme, found, _ = location.partition("://")
    if not found or scheme.lower() not in _POSTGRESQL_SCHEMES:
        return None
    return make_url(location).set(drivername="postgresql+asyncpg")


# Query options SQLAlchemy's asyncpg dialect or asyncpg itself take as written
# (host: several hosts, or a socket directory).
_ASYNCPG_QUERY = frozenset(
    {"host", "ssl", "prepared_statement_cache_size", "target_session_attrs", "passfile"}
)
# libpq's sslmode values; asyncpg takes the same words as its ``ssl`` argument.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True, slots=True)
class AsyncpgOptions:
    connect_args: dict[str, Any]
    # Query options of the URL left out: libpq's own (channel_binding, ...).
    dropped: tuple[str, ...]


def asyncpg_options(url: URL) -> tuple[URL, AsyncpgOptions]:
    """The URL without its query, and what asyncpg takes of the query's libpq options.

    PaaS providers write URLs for libpq (``?sslmode=require``), and
    SQLAlchemy hands every query option to asyncpg as a keyword, which it
    refuses. ``sslmode`` becomes asyncpg's ``ssl`` (with ``sslrootcert``
    for the verify modes), ``application_name`` a server setting; options
    the dialect or asyncpg take stay, and the rest is left out. Raises
    ValueError for an sslmode libpq does not know.
    """
    kept = {k: v for k, v in url.query.items() if k in _ASYNCPG_QUERY}
    query = {
        k: v[-1] if isinstance(v, tuple) else v
        for k, v in url.query.items()
        if k not in _ASYNCPG_QUERY
    }
    args: dict[str, Any] = {}
    mode = query.pop("sslmode", None)
    root = query.pop("sslrootcert", None)
    if mode is not None:
        mode = mode.strip().lower()
        if mode not in SSL_MODES:
            raise ValueError(f"has sslmode={mode}; libpq's are {', '.join(SSL_MODES)}")
        args["ssl"] = mode
        if root and mode in ("verify-ca", "verify-full"):
            context = ssl.create_default_context(cafile=root)
            context.check_hostname = mode == "verify-full"
            args["ssl"] = context
    name = query.pop("application_name", None)
    if name:
        args["server_settings"] = {"application_name": name}
    return url.set(query=kept), AsyncpgOptions(args, tuple(sorted(query)))


def _create_or_upgrade(conn: Connection) -> None:
    """Bring a file made before migrations to revision 0001 in place.

    Earlier releases had no ``links.message_chat_id`` and kept only
    successful charges, without a status; their rows are kept as they are.
    The first ones kept commands without their request, and charges without
    their place among the link's payments (see :mod:`first_release`).
    Later schema changes are migrations: this stops at 0001's tables.
    """
    release = schema_0001.build()
    existing = inspect(conn)
    tables = set(existing.get_table_names())
    old_charges = old_commands = False
    added = {
        "links": {"message_chat_id": "BIGINT", "charges_seen": "INTEGER NOT NULL DEFAULT 0"},
        "chats": {"title": "TEXT"},
        "charges": {
            "fee": "BIGINT",
            "fee_vat": "BIGINT",
            "net": "BIGINT",
            "refunded": "BIGINT NOT NULL DEFAULT 0",
            "failing_since": "DATETIME",
        },
    }
    for table, columns in added.items():
        if table not in tables or (
            table == "charges" and "status" not in _columns(existing, table)
        ):
            continue  # made below, whole
        have = _columns(existing, table)
        for name, kind in columns.items():
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
    if "commands" in tables and "state" not in _columns(existing, "commands"):
        first_release.set_commands_aside(conn, existing.get_indexes("commands"))
        old_commands = True
    placed = True
    if "charges" in tables and "status" not in _columns(existing, "charges"):
        placed = "position" in _columns(existing, "charges")
        for reflected in existing.get_indexes("charges"):
            conn.execute(text(f'DROP INDEX "{reflected["name"]}"'))
        conn.execute(text("ALTER TABLE charges RENAME TO charges_before_status"))
        old_charges = True
    release.create_all(conn)
    for made in release.sorted_tables:  # indexes added to tables that already existed
        for index in made.indexes:
            index.create(conn, checkfirst=True)
    if old_commands:
        first_release.settle_old_commands(conn, release)
    if old_charges:
        copy = (
            "INSERT INTO charges (charge_id, link_id, amount, currency, status, created_at,"
            " paid_at, refunded, position, running_total, notice, claimed_at, announced_at,"
            " attempts) SELECT charge_id, link_id, amount, currency, 'successful', paid_at,"
            " paid_at, 0, position, running_total, 'paid', claimed_at, announced_at, 0"
            " FROM charges_before_status"
        )
        conn.execute(text(copy if placed else first_release.CHARGES_WITHOUT_PLACE))
        conn.execute(text("DROP TABLE charges_before_status"))
        # The earlier watcher counted charges it never recorded (pending
        # ones): have the first sweep look at every open link's charges again.
        conn.execute(text("UPDATE links SET charges_seen = 0"))


def _columns(existing: Any, table: str) -> set[str]:
    return {column["name"] for column in existing.get_columns(table)}

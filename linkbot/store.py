"""Persistence of the links created through the bot.

SQLAlchemy async Core on SQLite (the default, aiosqlite) or PostgreSQL
(asyncpg). Every method means the same on both: claims are unique rows or
conditional UPDATEs whose row count says who won, so they hold between
processes; a write that reads first locks what it read. The schema is
versioned in :mod:`linkbot.migrations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import sqlite3
import ssl
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Integer,
    Interval,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from linkbot import migrations
from linkbot.migrations import first_release, schema_0001
from linkbot.omise import FINAL_STATUSES
from linkbot.waits import uninterrupted

logger = logging.getLogger(__name__)

# Connections to the database, no more: a burst of commands waits its turn for one.
POOL_SIZE = 5


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELLED = "cancelled"


class Notice(enum.StrEnum):
    """What a chat must be told about a charge."""

    PAID = "paid"
    FAILED = "failed"  # a pending charge that ended failed or expired


class Recorded(enum.StrEnum):
    """What recording a charge's status changed."""

    PENDING = "pending"  # first seen, not settled yet
    PAID = "paid"  # it succeeded: counted in its link's totals, to be announced
    FAILED = "failed"  # settled without payment
    UNCHANGED = "unchanged"


class CommandState(enum.StrEnum):
    PENDING = "pending"  # Omise is being asked, or was when the process died
    DONE = "done"  # the link exists and is recorded
    FAILED = "failed"  # answered with a failure; a repeat is ignored


class _UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite forgets the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

links = Table(
    "links",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("message_id", BigInteger),
    # The chat the link message is in; differs from chat_id once a group became a supergroup.
    Column("message_chat_id", BigInteger),
    # A link made through inline mode lives in a message of a chat the bot may not be in:
    # set once that message shows the link; it can only be edited through this id.
    Column("inline_message_id", String(255)),
    Column("creator_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("multiple", Boolean, nullable=False),
    Column("payment_uri", Text, nullable=False),
    Column("created_at", _UTCDateTime, nullable=False, index=True),
    # Our own clock, to the microsecond: orders links made within one of Omise's seconds.
    Column("recorded_at", _UTCDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("paid_at", _UTCDateTime),
    Column("paid_count", Integer, nullable=False, default=0),
    Column("paid_total", BigInteger, nullable=False, default=0),
    # How many charges (of any status) Omise listed for the link when last looked at.
    Column("charges_seen", Integer, nullable=False, default=0),
    # Set when the link message went into a merchant's own chat through Telegram Business.
    Column("business_connection_id", String(255)),
)

# One row per request for a link (a command message, or a chosen inline
# result), written before Omise is asked: the same update delivered twice
# never creates two links, and a request cut short by a crash can be
# finished after a restart.
commands = Table(
    "commands",
    metadata,
    Column("key", String(128), primary_key=True),
    # The chat the link belongs to (for an inline result, its creator's private chat).
    Column("chat_id", BigInteger, nullable=False),
    # The command message; None for an inline result.
    Column("message_id", BigInteger),
    # The inline message that waits for the link, for an inline result.
    Column("inline_message_id", String(255)),
    Column("user_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("multiple", Boolean, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("link_id", String(64)),
    Column("received_at", _UTCDateTime, nullable=False),
    Column("business_connection_id", String(255)),
    # The instance that claimed it; while that one is alive, no other settles it.
    Column("claimed_by", String(64)),
)

# One row per charge of a link of ours, with its last known status. A
# pending charge is looked at again until it settles; a successful one is
# counted once in its link's totals; ``notice`` says what the chat must be
# told, and announced_at is set once it has been.
charges = Table(
    "charges",
    metadata,
    Column("charge_id", String(64), primary_key=True),
    Column("link_id", String(64), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", _UTCDateTime),
    Column("paid_at", _UTCDateTime, index=True),
    # Omise's fee and its VAT, what the merchant receives, and what was refunded.
    Column("fee", BigInteger),
    Column("fee_vat", BigInteger),
    Column("net", BigInteger),
    Column("refunded", BigInteger, nullable=False, default=0),
    # Its place among its link's payments, and the link's total with it.
    Column("position", Integer, nullable=False, default=0),
    Column("running_total", BigInteger, nullable=False, default=0),
    Column("notice", String(16)),
    # Set by the one pass that is announcing it; expires so a crash does not lose it.
    Column("claimed_at", _UTCDateTime),
    Column("announced_at", _UTCDateTime, index=True),
    # How often the chat service refused its notice (network trouble is not counted),
    # and since when its announcement has been failing.
    Column("attempts", Integer, nullable=False, default=0),
    Column("failing_since", _UTCDateTime),
)

# Chats that changed under the bot: removed or blocked (403), or a group
# that became a supergroup (a new chat id).
chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("forbidden_at", _UTCDateTime),
    Column("migrated_to", BigInteger),
    # As the bot last saw it: a group's title, or a private chat's person.
    Column("title", Text),
)

# The merchants' Telegram Business accounts connected to the bot, as last told.
business_connections = Table(
    "business_connections",
    metadata,
    Column("connection_id", String(255), primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    # The owner's private chat with the bot.
    Column("user_chat_id", BigInteger, nullable=False),
    Column("is_enabled", Boolean, nullable=False),
    Column("can_reply", Boolean, nullable=False),
    Column("can_delete_sent_messages", Boolean, nullable=False),
    Column("can_delete_all_messages", Boolean, nullable=False),
    Column("date", _UTCDateTime, nullable=False),
)

# Small named values that must survive a restart (the event cursor).
state = Table(
    "state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Work that runs on one instance at a time (the payment watcher), and each
# instance's sign of life: held by ``holder`` until ``expires_at``, renewed
# by it before then, taken over by another once it has expired.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", _UTCDateTime, nullable=False),
)

# Users who asked for the daily summary in a private chat (/report daily on).
daily_subscribers = Table(
    "daily_subscribers",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("since", _UTCDateTime, nullable=False),
)

# One row per daily summary sent (or being sent): the key is claimed before
# sending, so two loops, or one restarted at that minute, never send it twice.
daily_reports = Table(
    "daily_reports",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_at", _UTCDateTime, nullable=False),
)

# The same, for a group's summary sent to each authorized user privately.
daily_private_reports = Table(
    "daily_private_reports",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("chat_id", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_at", _UTCDateTime, nullable=False),
)

# Groups whose reports are posted in the group itself (/report here on): a
# merchant's choice for a staff-only group. Any other group holds customers,
# so its figures go to the merchant privately.
report_groups = Table(
    "report_groups",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("since", _UTCDateTime, nullable=False),
)

# The language each authorized user's Telegram app last asked for, so what
# the bot says on its own (paid notices, daily summaries) speaks it too.
# Customers are never stored here.
users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("language", String(8), nullable=False),
    Column("updated_at", _UTCDateTime, nullable=False),
)


# Telegram updates a webhook answered 200 before they were handled: Telegram
# never delivers those again, so each is kept from its 200 until handled
# (``handled_at``), and the updates of an instance that died are adopted by
# another. Handled rows stay a while, so a redelivery to another instance is
# known as one, then are purged.
inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    # The instance handling it: the one that received it, or the one that adopted it.
    Column("instance_id", String(64), nullable=False),
    Column("received_at", _UTCDateTime, nullable=False),
    Column("handled_at", _UTCDateTime),
)


@dataclass(frozen=True, slots=True)
class LinkRecord:
    link_id: str
    chat_id: int
    message_id: int | None
    creator_id: int
    amount: int
    currency: str
    title: str
    description: str
    multiple: bool
    payment_uri: str
    created_at: datetime
    recorded_at: datetime
    status: LinkStatus = LinkStatus.ACTIVE
    paid_at: datetime | None = None
    paid_count: int = 0
    paid_total: int = 0
    charges_seen: int = 0
    message_chat_id: int | None = None
    inline_message_id: str | None = None
    business_connection_id: str | None = None

    @property
    def editable_message_id(self) -> int | None:
        """The link message's id, if it is in the link's chat (not left behind by a migration)."""
        if self.message_chat_id not in (None, self.chat_id):
            return None
        return self.message_id

    @property
    def answered(self) -> bool:
        """Whether a message shows the link: a reply in a chat, or an edited inline message."""
        return self.message_id is not None or self.inline_message_id is not None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    key: str
    chat_id: int
    message_id: int | None
    user_id: int
    amount: int
    currency: str
    title: str
    description: str
    multiple: bool
    received_at: datetime
    state: CommandState = CommandState.PENDING
    link_id: str | None = None
    inline_message_id: str | None = None
    business_connection_id: str | None = None
    claimed_by: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessConnectionRecord:
    connection_id: str
    user_id: int
    user_chat_id: int
    is_enabled: bool
    can_reply: bool
    can_delete_sent_messages: bool
    can_delete_all_messages: bool
    date: datetime


@dataclass(frozen=True, slots=True)
class OpenLink:
    link_id: str
    created_at: datetime
    status: LinkStatus
    charges_seen: int


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    charge_id: str
    link_id: str
    amount: int
    currency: str
    paid_at: datetime | None = None
    status: str = "successful"
    created_at: datetime | None = None
    fee: int | None = None
    fee_vat: int | None = None
    net: int | None = None
    refunded: int = 0
    position: int = 0
    running_total: int = 0
    notice: Notice | None = None
    claimed_at: datetime | None = None
    announced_at: datetime | None = None
    attempts: int = 0
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One successful charge of a link of ours, with its link and chat, for reports."""

    charge_id: str
    link_id: str
    title: str
    description: str
    amount: int
    currency: str
    status: str
    paid_at: datetime
    fee: int | None
    fee_vat: int | None
    net: int | None
    refunded: int
    chat_id: int
    chat_title: str | None


class LinkTaken(Exception):
    """The link is already recorded for another command."""


class Store:
    """The bot's own records: its links, the commands it has handled, announced charges."""

    def __init__(self, engine: AsyncEngine, *, instance_id: str | None = None) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        # A stream holds its connection until its reader is done, which for a
        # big export is seconds: one at a time, so the pool stays for commands.
        self._streams = asyncio.Semaphore(1)
        # Names this process in claims and leases; unique per process.
        self.instance_id = instance_id or uuid.uuid4().hex
        # Told apart from another process given the same instance id by mistake:
        # the heartbeat carries it (see heartbeat()).
        self.nonce = uuid.uuid4().hex[:12]

    @classmethod
    def connect(cls, database: str | Path, *, instance_id: str | None = None) -> Store:
        """The store at a PostgreSQL URL, or in an SQLite file at a path."""
        url = postgresql_url(database)
        if url is not None:
            return cls.postgresql(url, instance_id=instance_id)
        return cls.sqlite(database, instance_id=instance_id)

    @classmethod
    def postgresql(cls, url: str | URL, *, instance_id: str | None = None) -> Store:
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
    def sqlite(cls, path: Path | str, *, instance_id: str | None = None) -> Store:
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
        return self._engine.dialect.name

    def describe(self) -> str:
        """Where the store is, for logs: the URL without its password, or the file."""
        url = self._engine.url
        if url.get_backend_name() == "sqlite":
            return f"SQLite {url.database or ':memory:'}"
        return f"PostgreSQL {url.render_as_string(hide_password=True)}"

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
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
        async with self._write() as conn:
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
        async with self._engine.connect() as conn:
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
        async with self._engine.connect() as conn:
            return await conn.run_sync(migrations.current)

    async def close(self) -> None:
        await self._engine.dispose()

    # Links

    async def add_link(self, record: LinkRecord) -> None:
        async with self._write() as conn:
            await conn.execute(links.insert().values(**_link_values(record)))

    async def get_link(self, link_id: str) -> LinkRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(links).where(links.c.link_id == link_id))).first()
        return _link(row._mapping) if row else None

    async def find_by_message(
        self, chat_id: int, message_id: int, *, business_connection_id: str | None = None
    ) -> LinkRecord | None:
        """The link a message shows; in a business chat, one sent through that connection.

        Elsewhere, the link whose message is in ``chat_id``: a business link
        that Telegram would not post for the merchant is in their private
        chat with the bot. A business chat's message ids are the merchant's,
        so a link posted in one never answers for the customer's own chat
        with the bot, which has the same chat id.
        """
        c = links.c
        if business_connection_id is not None:
            through = _through(business_connection_id)
        else:
            through = or_(c.business_connection_id.is_(None), c.message_chat_id != c.chat_id)
        query = select(links).where(
            func.coalesce(c.message_chat_id, c.chat_id) == chat_id,
            c.message_id == message_id,
            through,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _link(row._mapping) if row else None

    async def business_connections_of_chat(self, chat_id: int) -> list[str]:
        """The business connections links in ``chat_id`` were sent through."""
        column = links.c.business_connection_id
        query = select(column).where(links.c.chat_id == chat_id, column.is_not(None)).distinct()
        async with self._engine.connect() as conn:
            return [row[0] for row in (await conn.execute(query)).all()]

    async def chat_links(
        self,
        chat_id: int,
        *,
        offset: int,
        limit: int,
        business_connection_id: str | None = None,
    ) -> tuple[list[LinkRecord], int]:
        """A chat's links, newest first, and how many it has in all.

        A merchant's business chat has the customer's id, as the customer's
        own chat with the bot does: the connection tells them apart.
        """
        where = (links.c.chat_id == chat_id, _through(business_connection_id))
        query = (
            select(links)
            .where(*where)
            .order_by(links.c.recorded_at.desc())
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count()).select_from(links).where(*where)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_link(r._mapping) for r in rows], total

    async def known_link_ids(self, link_ids: Sequence[str]) -> set[str]:
        if not link_ids:
            return set()
        query = select(links.c.link_id).where(links.c.link_id.in_(set(link_ids)))
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def links_by_payment_uri(self, uris: Sequence[str]) -> dict[str, str]:
        """Link ids by payment URI, for charges in the older shape that name only that."""
        if not uris:
            return {}
        query = select(links.c.payment_uri, links.c.link_id).where(
            links.c.payment_uri.in_(set(uris))
        )
        async with self._engine.connect() as conn:
            return {uri: link_id for uri, link_id in (await conn.execute(query)).all()}

    async def open_links(self, since: datetime) -> list[OpenLink]:
        """Links still payable (active, or reusable and not cancelled) created since ``since``.

        Only what the payment watcher compares, oldest first: it runs every
        pass over every open link, so it reads no more than it needs.
        """
        c = links.c
        query = (
            select(c.link_id, c.created_at, c.status, c.charges_seen)
            .where(c.status != LinkStatus.CANCELLED.value)
            .where((c.status == LinkStatus.ACTIVE.value) | c.multiple)
            .where(c.created_at >= since)
            .order_by(c.created_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [OpenLink(row[0], row[1], LinkStatus(row[2]), row[3]) for row in rows]

    async def set_message(self, link_id: str, chat_id: int, message_id: int) -> None:
        await self._update_link(link_id, message_chat_id=chat_id, message_id=message_id)

    async def set_inline_message(self, link_id: str, inline_message_id: str) -> None:
        await self._update_link(link_id, inline_message_id=inline_message_id)

    async def mark_cancelled(self, link_id: str) -> bool:
        """Mark a link cancelled, unless a payment made it a paid one-time link meanwhile.

        Returns whether it is cancelled now.
        """
        c = links.c
        async with self._write() as conn:
            result = await conn.execute(
                update(links)
                .where(c.link_id == link_id)
                .where((c.status != LinkStatus.PAID.value) | c.multiple)
                .values(status=LinkStatus.CANCELLED.value)
            )
            return bool(result.rowcount)

    async def _update_link(self, link_id: str, **values: object) -> None:
        async with self._write() as conn:
            await conn.execute(update(links).where(links.c.link_id == link_id).values(**values))

    # Commands

    async def claim_command(self, command: CommandRecord) -> CommandRecord | None:
        """Record a command before acting on it.

        Returns None the first time; for a repeat, the command as recorded
        by the first delivery.
        """
        command = replace(command, claimed_by=self.instance_id)
        values = {name: getattr(command, name) for name in CommandRecord.__slots__}
        async with self._write() as conn:
            # The key is the claim: the first delivery's row stays.
            if await _insert_unless_present(conn, commands, values):
                return None
            query = select(commands).where(commands.c.key == command.key)
            return _command((await conn.execute(query)).one()._mapping)

    async def get_command(self, key: str) -> CommandRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(commands).where(commands.c.key == key))).first()
        return _command(row._mapping) if row else None

    async def finish_command(self, key: str, record: LinkRecord) -> None:
        """Store the command's link and mark the command done, in one transaction.

        Raises :class:`LinkTaken`, and changes nothing, when the link is
        already recorded (another command adopted it first).
        """
        try:
            async with self._write() as conn:
                await conn.execute(links.insert().values(**_link_values(record)))
                await conn.execute(
                    update(commands)
                    .where(commands.c.key == key)
                    .values(state=CommandState.DONE.value, link_id=record.link_id)
                )
        except IntegrityError:
            raise LinkTaken(record.link_id) from None

    async def fail_command(self, key: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(commands)
                .where(commands.c.key == key, commands.c.state == CommandState.PENDING.value)
                .values(state=CommandState.FAILED.value)
            )

    async def adopt_command(self, command: CommandRecord) -> bool:
        """Take over a command from the instance that claimed it (and died).

        Returns whether this instance has it now: the claim still names the
        holder and the state it was read with. One conditional UPDATE, so of
        several instances adopting it at once only one wins.
        """
        c = commands.c
        same_holder = c.claimed_by.is_not_distinct_from(command.claimed_by)
        async with self._write() as conn:
            changed = await conn.execute(
                update(commands)
                .where(c.key == command.key, c.state == command.state.value, same_holder)
                .values(claimed_by=self.instance_id)
            )
        return bool(changed.rowcount)

    async def pending_commands(self, since: datetime) -> list[CommandRecord]:
        """Commands a previous process started and never finished."""
        query = (
            select(commands)
            .where(commands.c.state == CommandState.PENDING.value)
            .where(commands.c.received_at >= since)
            .order_by(commands.c.received_at)
        )
        async with self._engine.connect() as conn:
            return [_command(r._mapping) for r in (await conn.execute(query)).all()]

    async def unanswered_links(self, since: datetime) -> list[tuple[CommandRecord, LinkRecord]]:
        """Links made for a command whose reply never reached the chat."""
        query = (
            select(commands, links)
            .join(links, links.c.link_id == commands.c.link_id)
            .where(commands.c.state == CommandState.DONE.value)
            .where(links.c.message_id.is_(None), links.c.inline_message_id.is_(None))
            .where(commands.c.received_at >= since)
            .order_by(commands.c.received_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        command_columns = len(commands.c)
        return [
            (
                _command(dict(zip(commands.c.keys(), row[:command_columns], strict=True))),
                _link(dict(zip(links.c.keys(), row[command_columns:], strict=True))),
            )
            for row in rows
        ]

    # Charges

    async def record_charge(self, charge: ChargeRecord) -> Recorded:
        """Record a charge's status; count a payment in its link's totals once.

        A charge is first recorded in whatever status it has; a pending one
        may later settle. Once settled, a charge never changes again here, so
        an old status read late (an event replayed, a slow listing) cannot
        undo a newer one. Everything happens in one transaction.
        """
        for _ in range(3):
            try:
                async with self._write() as conn:
                    return await _record_charge(conn, charge)
            except IntegrityError:
                continue  # another process recorded it first: read what it wrote
        raise RuntimeError(f"could not record charge {charge.charge_id}")

    async def set_charges_seen(self, link_id: str, count: int) -> None:
        await self._update_link(link_id, charges_seen=count)

    async def pending_charge_links(self) -> set[str]:
        """Links with a charge that has not settled yet: the sweep looks at them again."""
        query = (
            select(charges.c.link_id)
            .where(charges.c.status.not_in(sorted(FINAL_STATUSES)))
            .distinct()
        )
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def get_charge(self, charge_id: str) -> ChargeRecord | None:
        query = select(charges).where(charges.c.charge_id == charge_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _charge(row._mapping) if row else None

    async def link_charges(self, link_id: str) -> list[ChargeRecord]:
        query = (
            select(charges)
            .where(charges.c.link_id == link_id)
            .order_by(charges.c.created_at, charges.c.charge_id)
        )
        async with self._engine.connect() as conn:
            return [_charge(r._mapping) for r in (await conn.execute(query)).all()]

    async def unannounced_charges(self) -> list[ChargeRecord]:
        query = (
            select(charges)
            .where(charges.c.announced_at.is_(None), charges.c.notice.is_not(None))
            .order_by(charges.c.link_id, charges.c.position, charges.c.created_at)
        )
        async with self._engine.connect() as conn:
            return [_charge(r._mapping) for r in (await conn.execute(query)).all()]

    async def claim_announcement(
        self, charge_id: str, now: datetime | None, lease: timedelta
    ) -> bool:
        """Claim the right to announce a charge; only one claimant wins.

        A claim older than ``lease`` is taken to belong to a process that
        died before it could announce, and can be claimed again. Its age is
        judged at ``now``; None is the database's clock, so that instances
        on hosts whose clocks differ agree on it.
        """
        c, clock = charges.c, self._clock(now)
        async with self._write() as conn:
            result = await conn.execute(
                update(charges)
                .where(c.charge_id == charge_id, c.announced_at.is_(None))
                .where(c.claimed_at.is_(None) | (c.claimed_at < _plus(clock, -lease)))
                .values(claimed_at=clock)
            )
            return bool(result.rowcount)

    async def release_announcement(
        self, charge_id: str, now: datetime, *, refused: bool = False
    ) -> tuple[int, datetime]:
        """Give a claim back after a failed attempt.

        Returns how often the notice was refused so far, and since when it has been failing.
        """
        c = charges.c
        async with self._write() as conn:
            await conn.execute(
                update(charges)
                .where(c.charge_id == charge_id)
                .values(
                    claimed_at=None,
                    attempts=c.attempts + (1 if refused else 0),
                    failing_since=func.coalesce(c.failing_since, now),
                )
            )
            query = select(c.attempts, c.failing_since).where(c.charge_id == charge_id)
            attempts, since = (await conn.execute(query)).one()
            return int(attempts), since

    async def mark_announced(self, charge_id: str, announced_at: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(charges)
                .where(charges.c.charge_id == charge_id)
                .values(announced_at=announced_at, claimed_at=None)
            )

    # Chats

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: its links and commands now belong to the new id.

        Link messages stay where they were (the old group), so they are no
        longer edited or quoted. Returns how many links moved.
        """
        c = links.c
        async with self._write() as conn:
            moved = await conn.execute(
                update(links)
                .where(c.chat_id == old_chat_id)
                .values(
                    chat_id=new_chat_id,
                    message_chat_id=func.coalesce(c.message_chat_id, old_chat_id),
                )
            )
            await conn.execute(
                update(commands)
                .where(commands.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            # A staff group's choice to see its reports follows it.
            here = report_groups.c.chat_id == old_chat_id
            since = (await conn.execute(select(report_groups.c.since).where(here))).scalar()
            if since is not None:
                await conn.execute(delete(report_groups).where(here))
                values = {"chat_id": new_chat_id, "since": since}
                await _insert_unless_present(conn, report_groups, values)
            # So do the day's summaries already claimed: not claimed again under the new id.
            for table in (daily_reports, daily_private_reports):
                await _move_rows(conn, table, old_chat_id, new_chat_id)
            await _upsert_chat(conn, old_chat_id, migrated_to=new_chat_id)
            return int(moved.rowcount)

    async def migrated_to(self, chat_id: int) -> int | None:
        query = select(chats.c.migrated_to).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return None if value is None else int(value)

    async def set_forbidden(self, chat_id: int, at: datetime | None) -> None:
        """Record that the bot cannot write to a chat (403), or, with None, that it can again."""
        async with self._write() as conn:
            await _upsert_chat(conn, chat_id, forbidden_at=at)

    async def note_chat(self, chat_id: int, title: str | None) -> None:
        """Someone used the bot in this chat: it can be written to, and this is its title."""
        query = select(chats.c.forbidden_at, chats.c.title).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is not None and row.forbidden_at is None and row.title == title:
            return  # the usual case: nothing to write
        async with self._write() as conn:
            await _upsert_chat(conn, chat_id, forbidden_at=None, title=title)

    async def note_visit(
        self, user_id: int, language: str, at: datetime, chat: tuple[int, str | None] | None
    ) -> None:
        """A manager used the bot: remember their language, and :meth:`note_chat` for
        ``chat`` (its id and title) unless None.

        Asked on every update: one SELECT in the usual case, where both are
        known as they are, and one transaction for what changed.
        """
        known_language = select(users.c.language).where(users.c.user_id == user_id)
        columns = [known_language.scalar_subquery()]
        if chat is not None:
            chat_id, title = chat
            chat_as_is = select(chats.c.chat_id).where(
                chats.c.chat_id == chat_id,
                chats.c.forbidden_at.is_(None),
                chats.c.title.is_not_distinct_from(title),
            )
            columns.append(chat_as_is.scalar_subquery())
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(*columns))).one()
        language_known = row[0] == language
        chat_known = chat is None or row[1] is not None
        if language_known and chat_known:
            return
        async with self._write() as conn:
            if not language_known:
                # One statement: two commands of a new user handled at once both write it.
                await _upsert(
                    conn, users, {"user_id": user_id}, {"language": language, "updated_at": at}
                )
            if chat is not None and not chat_known:
                await _upsert_chat(conn, chat[0], forbidden_at=None, title=chat[1])

    async def forbidden_since(self, chat_id: int) -> datetime | None:
        query = select(chats.c.forbidden_at).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    async def known_charge_ids(self, charge_ids: Sequence[str]) -> set[str]:
        if not charge_ids:
            return set()
        query = select(charges.c.charge_id).where(charges.c.charge_id.in_(set(charge_ids)))
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    # Bookkeeping

    async def payments(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> AsyncGenerator[PaymentRow, None]:
        """Successful charges paid in ``[start, end)``, oldest first, streamed from the store.

        Only the links of one chat when ``chat_id`` is given. Streams run one
        at a time: a second waits for the first to end.
        """
        c, link = charges.c, links.c
        query = (
            select(
                c.charge_id,
                c.link_id,
                link.title,
                link.description,
                c.amount,
                c.currency,
                c.status,
                c.paid_at,
                c.fee,
                c.fee_vat,
                c.net,
                c.refunded,
                link.chat_id,
                chats.c.title.label("chat_title"),
            )
            .join(links, link.link_id == c.link_id)
            .outerjoin(chats, chats.c.chat_id == link.chat_id)
            .where(*_paid_between(start, end))
            .order_by(c.paid_at, c.charge_id)
        )
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self._streams, self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=500))
            async for row in result:
                yield PaymentRow(**row._mapping)

    # Reports: figures summed by the database, so a busy month costs one pass over an index

    async def payment_totals(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> list[tuple[str, int, int, int, int, int, int, int]]:
        """Per currency, successful charges paid in ``[start, end)``, by currency code.

        Each row: currency, payments, gross, fee, fee VAT, refunded, net, and
        how many payments have no fee on record; net is Omise's, or the amount
        less the fees when Omise did not say, less what was refunded. Only the
        links of one chat when ``chat_id`` is given.
        """
        c = charges.c
        fee, fee_vat = func.coalesce(c.fee, 0), func.coalesce(c.fee_vat, 0)
        net = func.coalesce(c.net, c.amount - fee - fee_vat) - c.refunded
        query = (
            select(
                c.currency,
                func.count(),
                func.sum(c.amount),
                func.sum(fee),
                func.sum(fee_vat),
                func.sum(c.refunded),
                func.sum(net),
                func.count(c.charge_id).filter(c.fee.is_(None)),
            )
            .where(*_paid_between(start, end))
            .group_by(c.currency)
            .order_by(c.currency)
        )
        if chat_id is not None:
            query = query.join(links, links.c.link_id == c.link_id).where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            # A group has at least one row, and no summed value is NULL.
            (str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]))
            for r in rows
        ]

    async def best_sellers(
        self, start: datetime, end: datetime, *, chat_id: int | None = None, limit: int = 3
    ) -> list[tuple[str, int]]:
        """Link titles by how many payments they had in ``[start, end)``, most first."""
        c, link = charges.c, links.c
        count = func.count().label("payments")
        query = (
            select(link.title, count)
            .select_from(charges.join(links, link.link_id == c.link_id))
            .where(*_paid_between(start, end))
            .group_by(link.title)
            .order_by(count.desc(), link.title)
            .limit(limit)
        )
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(str(title), int(payments)) for title, payments in rows]

    async def link_counts(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> tuple[int, int, int, int]:
        """Links created in ``[start, end)``: how many, and of those paid, still open, cancelled.

        A reusable link stays active once paid, so it can count as both paid and open.
        """
        link = links.c
        paid = (link.status == LinkStatus.PAID.value) | (link.multiple & (link.paid_count > 0))
        query = select(
            func.count(),
            func.sum(case((paid, 1), else_=0)),
            func.sum(case((link.status == LinkStatus.ACTIVE.value, 1), else_=0)),
            func.sum(case((link.status == LinkStatus.CANCELLED.value, 1), else_=0)),
        ).where(link.created_at >= start, link.created_at < end)
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            created, paid_links, active, cancelled = (await conn.execute(query)).one()
        return int(created), int(paid_links or 0), int(active or 0), int(cancelled or 0)

    async def chats_with_payments(self, start: datetime, end: datetime) -> list[int]:
        """The chats whose links had a successful charge paid in ``[start, end)``.

        Business chats are left out: they are the customers' own.
        """
        c, link = charges.c, links.c
        query = (
            select(link.chat_id)
            .select_from(charges.join(links, link.link_id == c.link_id))
            .where(*_paid_between(start, end))
            # A business chat is a customer's: its sales are in the merchant's whole report.
            .where(link.business_connection_id.is_(None))
            .group_by(link.chat_id)
            .order_by(link.chat_id)
        )
        async with self._engine.connect() as conn:
            return [int(chat_id) for chat_id in (await conn.execute(query)).scalars()]

    # Daily summaries

    async def set_daily_subscription(self, user_id: int, subscribed: bool, at: datetime) -> bool:
        """Start or stop a user's daily summary; returns whether anything changed."""
        async with self._write() as conn:
            if not subscribed:
                result = await conn.execute(
                    delete(daily_subscribers).where(daily_subscribers.c.user_id == user_id)
                )
                return bool(result.rowcount)
            return await _insert_unless_present(
                conn, daily_subscribers, {"user_id": user_id, "since": at}
            )

    async def daily_subscribers(self) -> list[int]:
        query = select(daily_subscribers.c.user_id).order_by(daily_subscribers.c.user_id)
        async with self._engine.connect() as conn:
            return [int(user_id) for user_id in (await conn.execute(query)).scalars()]

    async def claim_daily_report(self, chat_id: int, day: date, at: datetime) -> bool:
        """Claim the day's summary for a chat; only the first claim ever wins."""
        async with self._write() as conn:
            return await _insert_unless_present(
                conn, daily_reports, {"chat_id": chat_id, "day": day, "claimed_at": at}
            )

    async def claim_private_daily_report(
        self, user_id: int, chat_id: int, day: date, at: datetime
    ) -> bool:
        """Claim the day's summary of a group for one user's private chat; the first wins."""
        values = {"user_id": user_id, "chat_id": chat_id, "day": day, "claimed_at": at}
        async with self._write() as conn:
            return await _insert_unless_present(conn, daily_private_reports, values)

    async def release_daily_report(self, chat_id: int, day: date) -> None:
        """Give back a day's summary claim of a chat whose summary surely never left."""
        query = delete(daily_reports).where(
            daily_reports.c.chat_id == chat_id, daily_reports.c.day == day
        )
        async with self._write() as conn:
            await conn.execute(query)

    async def release_private_daily_report(self, user_id: int, chat_id: int, day: date) -> None:
        """Give back a claim of :meth:`claim_private_daily_report` whose summary never left."""
        table = daily_private_reports
        query = delete(table).where(
            table.c.user_id == user_id, table.c.chat_id == chat_id, table.c.day == day
        )
        async with self._write() as conn:
            await conn.execute(query)

    async def set_reports_here(self, chat_id: int, here: bool, at: datetime) -> bool:
        """Post a group's reports in it, or (``here`` False) privately; whether that changed."""
        async with self._write() as conn:
            if not here:
                result = await conn.execute(
                    delete(report_groups).where(report_groups.c.chat_id == chat_id)
                )
                return bool(result.rowcount)
            return await _insert_unless_present(
                conn, report_groups, {"chat_id": chat_id, "since": at}
            )

    async def report_groups(self) -> set[int]:
        """The groups whose reports are posted in the group itself."""
        async with self._engine.connect() as conn:
            return set((await conn.execute(select(report_groups.c.chat_id))).scalars())

    async def chat_title(self, chat_id: int) -> str | None:
        """A chat's title as the bot last saw it."""
        query = select(chats.c.title).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            title: str | None = (await conn.execute(query)).scalar_one_or_none()
        return title

    # Small values kept across restarts

    async def note_language(self, user_id: int, language: str, at: datetime) -> None:
        """Remember ``user_id``'s language; written only when it changed."""
        await self.note_visit(user_id, language, at, None)

    async def user_language(self, user_id: int) -> str | None:
        async with self._engine.connect() as conn:
            query = select(users.c.language).where(users.c.user_id == user_id)
            language: str | None = (await conn.execute(query)).scalar_one_or_none()
        return language

    async def chat_language(self, chat_id: int) -> str | None:
        """The language of whoever made the chat's latest link (a group's merchant)."""
        query = (
            select(users.c.language)
            .join(links, links.c.creator_id == users.c.user_id)
            .where(links.c.chat_id == chat_id)
            .order_by(links.c.recorded_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            language: str | None = (await conn.execute(query)).scalar_one_or_none()
        return language

    # Business connections

    async def save_business_connection(self, connection: BusinessConnectionRecord) -> None:
        values = {name: getattr(connection, name) for name in BusinessConnectionRecord.__slots__}
        key = {"connection_id": values.pop("connection_id")}
        async with self._write() as conn:
            await _upsert(conn, business_connections, key, values)

    async def business_connection(self, connection_id: str) -> BusinessConnectionRecord | None:
        query = select(business_connections).where(
            business_connections.c.connection_id == connection_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return BusinessConnectionRecord(**row._mapping) if row else None

    # Inbox: webhook updates from their 200 until handled

    async def save_update(self, update_id: int, body: str, now: datetime) -> bool:
        """Keep an update this instance is about to acknowledge; False if one is kept already.

        One statement: of two instances given the same update, one keeps it.
        """
        values = {
            "update_id": update_id,
            "body": body,
            "instance_id": self.instance_id,
            "received_at": now,
        }
        async with self._write() as conn:
            return await _insert_unless_present(conn, inbox, values)

    async def update_handled(self, update_id: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(inbox).where(inbox.c.update_id == update_id).values(handled_at=now)
            )

    async def adopt_updates(
        self,
        now: datetime | None,
        limit: int,
        *,
        ended: Callable[[str], bool] = lambda instance_id: False,
    ) -> list[tuple[int, str]]:
        """Take over up to ``limit`` unhandled updates of instances no longer alive.

        An instance is alive while its heartbeat lasts at ``now`` (None: the
        database's clock, which wrote it), unless ``ended`` knows better.
        Returns (update_id, body) of those this instance has now, oldest
        first. Each is taken by a conditional UPDATE that still names the
        dead instance, so of two instances adopting at once only one gets it.
        """
        if limit <= 0:
            return []
        c = inbox.c
        unhandled = c.handled_at.is_(None)
        query = select(c.instance_id).where(unhandled, c.instance_id != self.instance_id)
        async with self._engine.connect() as conn:
            holders = set((await conn.execute(query.distinct())).scalars())
        adopted: list[tuple[int, str]] = []
        for holder in sorted(holders):
            if len(adopted) >= limit or (not ended(holder) and await self.alive(holder, now)):
                continue
            oldest = (
                select(c.update_id)
                .where(unhandled, c.instance_id == holder)
                .order_by(c.update_id)
                .limit(limit - len(adopted))
            )
            statement = (
                update(inbox)
                .where(c.update_id.in_(oldest.scalar_subquery()))
                .where(c.instance_id == holder, unhandled)
                .values(instance_id=self.instance_id)
                .returning(c.update_id, c.body)
            )
            async with self._write() as conn:
                adopted.extend((row.update_id, row.body) for row in await conn.execute(statement))
        return sorted(adopted)

    async def leftover_updates(self, before: datetime) -> list[tuple[int, str]]:
        """This instance's updates an earlier run of it received and never handled."""
        c = inbox.c
        query = (
            select(c.update_id, c.body)
            .where(c.instance_id == self.instance_id, c.handled_at.is_(None))
            .where(c.received_at < before)
            .order_by(c.update_id)
        )
        async with self._engine.connect() as conn:
            return [(row.update_id, row.body) for row in await conn.execute(query)]

    async def purge_updates(self, handled_before: datetime, received_before: datetime) -> int:
        """Forget updates handled before ``handled_before``, and any received before the other."""
        c = inbox.c
        async with self._write() as conn:
            purged = await conn.execute(
                delete(inbox).where(
                    or_(c.handled_at < handled_before, c.received_at < received_before)
                )
            )
        return int(purged.rowcount)

    async def get_value(self, key: str) -> str | None:
        async with self._engine.connect() as conn:
            query = select(state.c.value).where(state.c.key == key)
            value: str | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    async def set_value(self, key: str, value: str) -> None:
        async with self._write() as conn:
            await _upsert(conn, state, {"key": key}, {"value": value})

    # Leases: work that runs on one instance at a time

    async def acquire_lease(self, name: str, now: datetime | None, ttl: timedelta) -> bool:
        """Take or renew the lease ``name`` for this instance until ``now + ttl``.

        Returns whether this instance holds it now: it did already, nobody
        did, or the holder let it expire. One statement, so two instances
        asking at once cannot both win. ``now`` None is the database's clock,
        which every instance shares.
        """
        return await self._take_lease(name, self.instance_id, self._clock(now), ttl)

    async def release_lease(self, name: str) -> None:
        """Give a lease up (on a clean shutdown), so a standby takes over at once."""
        await self._drop_lease(name, self.instance_id)

    async def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """The instance holding lease ``name`` unexpired at ``now`` (None: the database's clock)."""
        c = leases.c
        query = select(c.holder).where(c.name == name, c.expires_at > self._clock(now))
        async with self._engine.connect() as conn:
            holder: str | None = (await conn.execute(query)).scalar_one_or_none()
        return holder

    async def alive(self, instance_id: str, now: datetime | None = None) -> bool:
        """Whether an instance has shown a sign of life recently (see :meth:`heartbeat`).

        Judged on the database's clock unless ``now`` is given, so that
        instances on hosts whose clocks differ agree.
        """
        return await self.lease_holder(_instance_lease(instance_id), now) is not None

    async def heartbeat(self, now: datetime | None, ttl: timedelta) -> bool:
        """Show other instances that this one is alive for ``ttl`` from ``now``.

        ``now`` None is the database's clock. Returns False, and changes
        nothing, when another process with this instance id has a live
        heartbeat (the two must not share claims): see :meth:`heartbeat_of`.
        """
        return await self._take_lease(
            _instance_lease(self.instance_id), self._heartbeat_holder, self._clock(now), ttl
        )

    async def heartbeat_of(self, instance_id: str) -> tuple[str, datetime] | None:
        """The heartbeat recorded for an instance id: (holder, expires at), live or not."""
        query = select(leases.c.holder, leases.c.expires_at).where(
            leases.c.name == _instance_lease(instance_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.holder, row.expires_at)

    async def take_over_heartbeat(self, holder: str, expires_at: datetime, ttl: timedelta) -> bool:
        """Replace a heartbeat left by an earlier run with this id, if it has not moved since."""
        c = leases.c
        statement = (
            update(leases)
            .where(
                c.name == _instance_lease(self.instance_id),
                c.holder == holder,
                c.expires_at == expires_at,
            )
            .values(holder=self._heartbeat_holder, expires_at=_plus(self._clock(None), ttl))
        )
        async with self._write() as conn:
            return (await conn.execute(statement)).rowcount == 1

    async def sign_off(self) -> None:
        """This instance is stopping: claims it still holds are free to settle.

        Only this process's own heartbeat goes, never one of another process
        that has the same instance id.
        """
        await self._drop_lease(_instance_lease(self.instance_id), self._heartbeat_holder)

    async def _take_lease(self, name: str, holder: str, clock: Any, ttl: timedelta) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``clock + ttl``.

        One statement, so two holders asking at once cannot both win; it
        succeeds when ``holder`` has the lease already, nobody does, or the
        lease expired by ``clock`` (a datetime or the database's clock).
        """
        expires_at, c = _plus(clock, ttl), leases.c
        statement = _insert_for(self.dialect, leases).values(
            name=name, holder=holder, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[c.name],
            set_={"holder": holder, "expires_at": expires_at},
            where=(c.holder == holder) | (c.expires_at <= clock),
        ).returning(c.holder)
        async with self._write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def _drop_lease(self, name: str, holder: str) -> None:
        """Delete lease ``name`` if ``holder`` has it, and never another's."""
        async with self._write() as conn:
            await conn.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )

    @property
    def _heartbeat_holder(self) -> str:
        return f"{self.instance_id}#{self.nonce}"

    def _clock(self, now: datetime | None) -> Any:
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
    def either(store: Store, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return (settled if store.dialect == "sqlite" else call)(store, *args, **kwargs)

    return either


# Calls whose caller is cancelled (a stop during start-up, a command past the
# shutdown grace) end their transactions: nothing half-written, no lock left.
for _name, _call in list(vars(Store).items()):
    if not _name.startswith("_") and asyncio.iscoroutinefunction(_call):
        setattr(Store, _name, _settled_on_sqlite(_call))

_WRITE = "linkbot_write"
_POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})
_SETTLED_WITHOUT_PAYMENT = ("failed", "expired", "reversed")


def _through(business_connection_id: str | None) -> Any:
    """Links sent through a business connection, or (None) through none."""
    column = links.c.business_connection_id
    if business_connection_id is None:
        return column.is_(None)
    return column == business_connection_id


def _paid_between(start: datetime, end: datetime) -> tuple[Any, ...]:
    """Successful charges paid in ``[start, end)``, found through the paid_at index.

    ``status || ''`` keeps the planner off the status index: an equality
    looks cheaper to it than a range, but would walk every payment ever made.
    """
    c = charges.c
    return (c.paid_at >= start, c.paid_at < end, (c.status + "") == "successful")


def _in_chat(chat_id: int) -> Any:
    """The links of one chat, without the chat_id index.

    Through that index a report would read all the chat's links ever made;
    through the time index (paid_at, created_at) only the period's.
    """
    return (links.c.chat_id + 0) == chat_id


async def _record_charge(conn: AsyncConnection, charge: ChargeRecord) -> Recorded:
    c = charges.c
    # Locked until the end of the transaction: two processes that saw the
    # same charge settle must not both count it (SQLite's write lock already
    # serializes them, and ignores FOR UPDATE).
    row = (
        await conn.execute(
            select(c.status).where(c.charge_id == charge.charge_id).with_for_update()
        )
    ).first()
    if row is None:
        await conn.execute(
            charges.insert().values(**_charge_values(replace(charge, notice=None, position=0)))
        )
        if charge.status == "successful":
            await _count_payment(conn, charge)
            return Recorded.PAID
        if charge.status not in FINAL_STATUSES:
            return Recorded.PENDING
        if charge.status == "expired":
            # Only a charge that was pending can expire: the customer walked away
            # from a QR code or a bank app, and the merchant may be waiting for it.
            await _queue_failure_notice(conn, charge.charge_id)
        # A card declined at once was seen failing by the customer on the payment page.
        return Recorded.FAILED if charge.status in _SETTLED_WITHOUT_PAYMENT else Recorded.UNCHANGED
    if row.status in FINAL_STATUSES or charge.status not in FINAL_STATUSES:
        await _update_amounts(conn, charge)
        return Recorded.UNCHANGED
    await conn.execute(
        update(charges)
        .where(c.charge_id == charge.charge_id)
        .values(status=charge.status, paid_at=charge.paid_at)
    )
    await _update_amounts(conn, charge)
    if charge.status == "successful":
        await _count_payment(conn, charge)
        return Recorded.PAID
    if charge.status in _SETTLED_WITHOUT_PAYMENT:
        await _queue_failure_notice(conn, charge.charge_id)
        return Recorded.FAILED
    return Recorded.UNCHANGED


async def _queue_failure_notice(conn: AsyncConnection, charge_id: str) -> None:
    await conn.execute(
        update(charges).where(charges.c.charge_id == charge_id).values(notice=Notice.FAILED.value)
    )


async def _update_amounts(conn: AsyncConnection, charge: ChargeRecord) -> None:
    """Keep fees and refunds current; an older snapshot read late never lowers a refund."""
    c = charges.c
    values: dict[str, Any] = {
        "refunded": case((c.refunded > charge.refunded, c.refunded), else_=charge.refunded)
    }
    if charge.status == "successful":
        values.update(
            {
                name: value
                for name, value in (
                    ("fee", charge.fee),
                    ("fee_vat", charge.fee_vat),
                    ("net", charge.net),
                )
                if value is not None
            }
        )
    await conn.execute(update(charges).where(c.charge_id == charge.charge_id).values(**values))


async def _count_payment(conn: AsyncConnection, charge: ChargeRecord) -> None:
    """Add a successful charge to its link's totals and queue its announcement."""
    link = links.c
    paid_at = charge.paid_at or charge.created_at
    values: dict[str, Any] = {
        "paid_count": link.paid_count + 1,
        "paid_total": link.paid_total + charge.amount,
        "paid_at": func.coalesce(link.paid_at, paid_at),
    }
    await conn.execute(update(links).where(link.link_id == charge.link_id).values(**values))
    totals = select(link.paid_count, link.paid_total).where(link.link_id == charge.link_id)
    position, running_total = (await conn.execute(totals)).one()
    await conn.execute(
        update(charges)
        .where(charges.c.charge_id == charge.charge_id)
        .values(
            position=position,
            running_total=running_total,
            paid_at=paid_at,
            notice=Notice.PAID.value,
        )
    )
    await conn.execute(
        update(links)
        .where(link.link_id == charge.link_id, link.multiple.is_(False))
        .values(status=LinkStatus.PAID.value)
    )


async def _upsert_chat(conn: AsyncConnection, chat_id: int, **values: object) -> None:
    await _upsert(conn, chats, {"chat_id": chat_id}, values)


async def _upsert(
    conn: AsyncConnection, table: Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert a row, or update it where the key is taken: one statement, no race."""
    statement = _insert_for(conn.dialect.name, table).values(**key, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


async def _insert_unless_present(
    conn: AsyncConnection, table: Table, values: dict[str, Any]
) -> bool:
    """Insert a row unless its primary key is taken; returns whether it was inserted.

    One statement (ON CONFLICT DO NOTHING): of two writers racing, one wins,
    and the loser's transaction goes on with nothing to recover from.
    """
    statement = _insert_for(conn.dialect.name, table).values(**values)
    key = [column.name for column in table.primary_key.columns]
    inserted = await conn.execute(statement.on_conflict_do_nothing(index_elements=key))
    return bool(inserted.rowcount)


async def _move_rows(
    conn: AsyncConnection, table: Table, old_chat_id: int, new_chat_id: int
) -> None:
    """Give ``table``'s rows of one chat to another; a row the new chat has already stays."""
    old = table.c.chat_id == old_chat_id
    rows = (await conn.execute(select(table).where(old))).mappings().all()
    await conn.execute(delete(table).where(old))
    for row in rows:
        await _insert_unless_present(conn, table, {**row, "chat_id": new_chat_id})


def _insert_for(dialect: str, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, in the store's dialect (both spell it alike)."""
    if dialect == "postgresql":
        # Loaded only for PostgreSQL: 2 MiB an SQLite bot has no use for.
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)
    return sqlite_insert(table)


def _plus(clock: Any, ttl: timedelta) -> Any:
    """A time ``ttl`` after ``clock``, a datetime or the database's clock."""
    if isinstance(clock, datetime):
        return clock + ttl
    return clock + literal(ttl, Interval())


def _instance_lease(instance_id: str) -> str:
    return f"instance:{instance_id}"


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


def _link_values(record: LinkRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in LinkRecord.__slots__}
    values["status"] = record.status.value
    return values


def _link(row: Any) -> LinkRecord:
    values = dict(row)
    values["status"] = LinkStatus(values["status"])
    return LinkRecord(**values)


def _command(row: Any) -> CommandRecord:
    values = dict(row)
    values["state"] = CommandState(values["state"])
    return CommandRecord(**values)


def _charge_values(record: ChargeRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in ChargeRecord.__slots__}
    values["notice"] = record.notice.value if record.notice is not None else None
    return values


def _charge(row: Any) -> ChargeRecord:
    values = dict(row)
    values["notice"] = Notice(values["notice"]) if values["notice"] else None
    return ChargeRecord(**values)

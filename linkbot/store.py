"""Persistence of the links created through the bot.

SQLAlchemy async Core: the queries below are plain Core and run on SQLite
(the default) or on any other backend SQLAlchemy has an async driver for.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELLED = "cancelled"


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
)

# One row per command message that asked for a link, written before Omise
# is asked: the same update delivered twice never creates two links, and a
# command cut short by a crash can be finished after a restart.
commands = Table(
    "commands",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("multiple", Boolean, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("link_id", String(64)),
    Column("received_at", _UTCDateTime, nullable=False),
)

# One row per successful charge of a watched link; announced_at is set once
# the chat has been told.
charges = Table(
    "charges",
    metadata,
    Column("charge_id", String(64), primary_key=True),
    Column("link_id", String(64), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid_at", _UTCDateTime, nullable=False),
    # Its place among its link's payments, and the link's total with it.
    Column("position", Integer, nullable=False, default=1),
    Column("running_total", BigInteger, nullable=False, default=0),
    # Set by the one pass that is announcing it; expires so a crash does not lose it.
    Column("claimed_at", _UTCDateTime),
    Column("announced_at", _UTCDateTime),
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


@dataclass(frozen=True, slots=True)
class CommandRecord:
    key: str
    chat_id: int
    message_id: int
    user_id: int
    amount: int
    currency: str
    title: str
    description: str
    multiple: bool
    received_at: datetime
    state: CommandState = CommandState.PENDING
    link_id: str | None = None


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
    paid_at: datetime
    position: int = 1
    running_total: int = 0
    claimed_at: datetime | None = None
    announced_at: datetime | None = None


class Store:
    """The bot's own records: its links, the commands it has handled, announced charges."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def sqlite(cls, path: Path | str) -> Store:
        location = str(path)
        url = "sqlite+aiosqlite://" if location == ":memory:" else f"sqlite+aiosqlite:///{location}"
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            # WAL lets the watcher read while a handler writes; NORMAL sync is
            # still durable across a process crash, which is what matters here.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return cls(engine)

    async def initialize(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self._engine.dispose()

    # Links

    async def add_link(self, record: LinkRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(links.insert().values(**_link_values(record)))

    async def get_link(self, link_id: str) -> LinkRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(links).where(links.c.link_id == link_id))).first()
        return _link(row._mapping) if row else None

    async def find_by_message(self, chat_id: int, message_id: int) -> LinkRecord | None:
        query = select(links).where(links.c.chat_id == chat_id, links.c.message_id == message_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _link(row._mapping) if row else None

    async def chat_links(
        self, chat_id: int, *, offset: int, limit: int
    ) -> tuple[list[LinkRecord], int]:
        """A chat's links, newest first, and how many it has in all."""
        query = (
            select(links)
            .where(links.c.chat_id == chat_id)
            .order_by(links.c.recorded_at.desc())
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count()).select_from(links).where(links.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(count)).scalar_one()
        return [_link(r._mapping) for r in rows], total

    async def known_link_ids(self, link_ids: Sequence[str]) -> set[str]:
        if not link_ids:
            return set()
        query = select(links.c.link_id).where(links.c.link_id.in_(link_ids))
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

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

    async def set_message(self, link_id: str, message_id: int) -> None:
        await self._update_link(link_id, message_id=message_id)

    async def set_status(self, link_id: str, status: LinkStatus) -> None:
        await self._update_link(link_id, status=status.value)

    async def _update_link(self, link_id: str, **values: object) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(links).where(links.c.link_id == link_id).values(**values))

    # Commands

    async def claim_command(self, command: CommandRecord) -> CommandRecord | None:
        """Record a command before acting on it.

        Returns None the first time; for a repeat, the command as recorded
        by the first delivery.
        """
        values = {name: getattr(command, name) for name in CommandRecord.__slots__}
        async with self._engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(commands.insert().values(**values))
                return None
            except IntegrityError:
                query = select(commands).where(commands.c.key == command.key)
                return _command((await conn.execute(query)).one()._mapping)

    async def finish_command(self, key: str, record: LinkRecord) -> None:
        """Store the command's new link and mark the command done, in one transaction."""
        async with self._engine.begin() as conn:
            await conn.execute(links.insert().values(**_link_values(record)))
            await conn.execute(
                update(commands)
                .where(commands.c.key == key)
                .values(state=CommandState.DONE.value, link_id=record.link_id)
            )

    async def fail_command(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(commands)
                .where(commands.c.key == key, commands.c.state == CommandState.PENDING.value)
                .values(state=CommandState.FAILED.value)
            )

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
            .where(links.c.message_id.is_(None), commands.c.received_at >= since)
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

    async def record_charge(self, charge: ChargeRecord) -> bool:
        """Record a successful charge once and add it to its link's totals.

        Returns False when it was already recorded. The insert and the totals
        change together, so a crash leaves either both or neither.
        """
        async with self._engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(charges.insert().values(**_charge_values(charge)))
            except IntegrityError:
                return False
            link = links.c
            values: dict[str, Any] = {
                "paid_count": link.paid_count + 1,
                "paid_total": link.paid_total + charge.amount,
                "paid_at": func.coalesce(link.paid_at, charge.paid_at),
            }
            await conn.execute(update(links).where(link.link_id == charge.link_id).values(**values))
            totals = select(link.paid_count, link.paid_total).where(link.link_id == charge.link_id)
            position, running_total = (await conn.execute(totals)).one()
            await conn.execute(
                update(charges)
                .where(charges.c.charge_id == charge.charge_id)
                .values(position=position, running_total=running_total)
            )
            await conn.execute(
                update(links)
                .where(link.link_id == charge.link_id, link.multiple.is_(False))
                .values(status=LinkStatus.PAID.value)
            )
            return True

    async def set_charges_seen(self, link_id: str, count: int) -> None:
        await self._update_link(link_id, charges_seen=count)

    async def unannounced_charges(self) -> list[ChargeRecord]:
        query = (
            select(charges)
            .where(charges.c.announced_at.is_(None))
            .order_by(charges.c.link_id, charges.c.position)
        )
        async with self._engine.connect() as conn:
            return [ChargeRecord(**r._mapping) for r in (await conn.execute(query)).all()]

    async def claim_announcement(self, charge_id: str, now: datetime, lease: timedelta) -> bool:
        """Claim the right to announce a charge; only one claimant wins.

        A claim older than ``lease`` is taken to belong to a process that
        died before it could announce, and can be claimed again.
        """
        c = charges.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(charges)
                .where(c.charge_id == charge_id, c.announced_at.is_(None))
                .where(c.claimed_at.is_(None) | (c.claimed_at < now - lease))
                .values(claimed_at=now)
            )
            return bool(result.rowcount)

    async def release_announcement(self, charge_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(charges).where(charges.c.charge_id == charge_id).values(claimed_at=None)
            )

    async def mark_announced(self, charge_id: str, announced_at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(charges)
                .where(charges.c.charge_id == charge_id)
                .values(announced_at=announced_at, claimed_at=None)
            )


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
    return {name: getattr(record, name) for name in ChargeRecord.__slots__}

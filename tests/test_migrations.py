"""Schema migrations: a file made by the release before them is upgraded with nothing lost.

The schema below is exactly what that release created (its store made the
file, and SQLite kept this text); the data fills every table.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text

from linkbot import migrations
from linkbot.migrations import schema_0001
from linkbot.store import (
    CommandState,
    LinkStatus,
    Notice,
    Store,
    metadata,
)
from tests.databases import ENGINES

RELEASE_SCHEMA = """
CREATE TABLE links (
    link_id VARCHAR(64) NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT,
    message_chat_id BIGINT,
    creator_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    multiple BOOLEAN NOT NULL,
    payment_uri TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    recorded_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL,
    paid_at DATETIME,
    paid_count INTEGER NOT NULL,
    paid_total BIGINT NOT NULL,
    charges_seen INTEGER NOT NULL,
    PRIMARY KEY (link_id)
);
CREATE INDEX ix_links_status ON links (status);
CREATE INDEX ix_links_created_at ON links (created_at);
CREATE INDEX ix_links_chat_id ON links (chat_id);
CREATE INDEX ix_links_recorded_at ON links (recorded_at);
CREATE TABLE commands (
    "key" VARCHAR(64) NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    multiple BOOLEAN NOT NULL,
    state VARCHAR(16) NOT NULL,
    link_id VARCHAR(64),
    received_at DATETIME NOT NULL,
    PRIMARY KEY ("key")
);
CREATE INDEX ix_commands_state ON commands (state);
CREATE TABLE charges (
    charge_id VARCHAR(64) NOT NULL,
    link_id VARCHAR(64) NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_at DATETIME,
    paid_at DATETIME,
    fee BIGINT,
    fee_vat BIGINT,
    net BIGINT,
    refunded BIGINT NOT NULL,
    position INTEGER NOT NULL,
    running_total BIGINT NOT NULL,
    notice VARCHAR(16),
    claimed_at DATETIME,
    announced_at DATETIME,
    attempts INTEGER NOT NULL,
    failing_since DATETIME,
    PRIMARY KEY (charge_id)
);
CREATE INDEX ix_charges_paid_at ON charges (paid_at);
CREATE INDEX ix_charges_announced_at ON charges (announced_at);
CREATE INDEX ix_charges_link_id ON charges (link_id);
CREATE INDEX ix_charges_status ON charges (status);
CREATE TABLE chats (
    chat_id BIGINT NOT NULL,
    forbidden_at DATETIME,
    migrated_to BIGINT,
    title TEXT,
    PRIMARY KEY (chat_id)
);
CREATE TABLE state (
    "key" VARCHAR(64) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY ("key")
);
CREATE TABLE daily_subscribers (
    user_id BIGINT NOT NULL,
    since DATETIME NOT NULL,
    PRIMARY KEY (user_id)
);
CREATE TABLE daily_reports (
    chat_id BIGINT NOT NULL,
    day DATE NOT NULL,
    claimed_at DATETIME NOT NULL,
    PRIMARY KEY (chat_id, day)
);
"""

RELEASE_DATA = """
INSERT INTO links VALUES ('link_test_a', -100, 501, NULL, 1111, 15000, 'THB', 'Donation',
    'Donation', 1, 'https://link.omise.test/A', '2026-11-20 10:00:00.000000',
    '2026-11-20 10:00:01.000000', 'active', '2026-11-20 11:00:00.000000', 1, 15000, 2);
INSERT INTO links VALUES ('link_test_b', -100, 502, -100, 1111, 7440, 'THB', 'Hot Latte',
    'Hot Latte', 0, 'https://link.omise.test/B', '2026-11-21 09:00:00.000000',
    '2026-11-21 09:00:00.500000', 'cancelled', NULL, 0, 0, 0);
INSERT INTO commands VALUES ('-100:500', -100, 500, 1111, 15000, 'THB', 'Donation', 'Donation',
    1, 'done', 'link_test_a', '2026-11-20 10:00:00.000000');
INSERT INTO commands VALUES ('-100:503', -100, 503, 1111, 9900, 'THB', 'Tea', 'Tea',
    0, 'failed', NULL, '2026-11-21 09:30:00.000000');
INSERT INTO charges VALUES ('chrg_test_a1', 'link_test_a', 15000, 'THB', 'successful',
    '2026-11-20 10:59:00.000000', '2026-11-20 11:00:00.000000', 548, 38, 14414, 0, 1, 15000,
    'paid', NULL, '2026-11-20 11:00:05.000000', 0, NULL);
INSERT INTO charges VALUES ('chrg_test_a2', 'link_test_a', 15000, 'THB', 'expired',
    '2026-11-20 12:00:00.000000', NULL, NULL, NULL, NULL, 0, 0, 0, 'failed',
    '2026-11-20 12:30:00.000000', NULL, 2, '2026-11-20 12:29:00.000000');
INSERT INTO chats VALUES (-100, NULL, NULL, 'Cafe');
INSERT INTO chats VALUES (-99, '2026-11-19 08:00:00.000000', -100, 'Cafe (old)');
INSERT INTO state VALUES ('events_cursor', '2026-11-21T10:00:00+00:00');
INSERT INTO daily_subscribers VALUES (1111, '2026-11-18 07:00:00.000000');
INSERT INTO daily_reports VALUES (-100, '2026-11-20', '2026-11-20 14:00:00.000000');
"""
TABLES = ["links", "commands", "charges", "chats", "state", "daily_subscribers", "daily_reports"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(database: str) -> AsyncIterator[Store]:
    store = Store.connect(database)
    yield store
    await store.close()


def rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


async def test_a_file_from_the_last_release_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "linkbot.db"
    with sqlite3.connect(path) as db:
        db.executescript(RELEASE_SCHEMA + RELEASE_DATA)
    before = rows(path)
    assert all(before.values())

    store = Store.sqlite(path)
    try:
        # Stamped 0001: nothing before it runs.
        assert await store.initialize() == ["0002", "0003", "0004", "0005"]
        assert await store.initialize() == []
        assert await store.revision() == migrations.head()

        # Every row, column for column (columns added later come last, empty).
        after = rows(path)
        # 0002: commands.claimed_by; 0003: commands' inline message and business
        # connection, and links' too.
        assert after.pop("commands") == [(*row, None, None, None) for row in before.pop("commands")]
        assert after.pop("links") == [(*row, None, None) for row in before.pop("links")]
        assert after == {t: r for t, r in before.items() if t not in ("commands", "links")}

        # And the store reads them as it reads its own.
        link = await store.links.get_link("link_test_a")
        assert link is not None and (link.paid_count, link.multiple) == (1, True)
        assert link.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        cancelled = await store.links.get_link("link_test_b")
        assert cancelled is not None and cancelled.status is LinkStatus.CANCELLED
        [paid, expired] = await store.charges.link_charges("link_test_a")
        assert (paid.fee, paid.net, paid.notice) == (548, 14414, Notice.PAID)
        assert (expired.attempts, expired.notice) == (2, Notice.FAILED)
        assert await store.charges.unannounced_charges() == [expired]
        done = await store.commands.get_command("-100:500")
        assert done is not None and done.state is CommandState.DONE and done.claimed_by is None
        assert await store.chats.migrated_to(-99) == -100
        assert await store.state.get_value("events_cursor") == "2026-11-21T10:00:00+00:00"
        assert await store.reports.daily_subscribers() == [1111]
        assert not await store.reports.claim_daily_report(
            -100, date(2026, 11, 20), datetime.now(UTC)
        )
    finally:
        await store.close()


def test_revision_0001_is_the_last_release_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'made.db'}")
    schema_0001.build().create_all(engine)
    engine.dispose()
    with sqlite3.connect(tmp_path / "made.db") as made, sqlite3.connect(":memory:") as release:
        release.executescript(RELEASE_SCHEMA)
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        assert normalized(made.execute(query)) == normalized(release.execute(query))


def normalized(found: Any) -> list[tuple[str, ...]]:
    return [(*row[:3], " ".join((row[3] or "").split())) for row in found]


async def test_a_new_database_gets_every_revision_once(store: Store) -> None:
    assert await store.revision() is None
    assert await store.initialize() == ["0001", "0002", "0003", "0004", "0005"]
    assert await store.initialize() == []
    assert await store.revision() == migrations.head()


async def test_the_migrated_schema_is_the_stores(store: Store) -> None:
    """Fails when the tables in linkbot/store.py changed without a migration."""
    await store.initialize()

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_instances_starting_together_migrate_once(database: str) -> None:
    stores = [Store.connect(database) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(s.initialize() for s in stores))
        assert sorted(applied, key=len) == [[], [], [], ["0001", "0002", "0003", "0004", "0005"]]
        async with stores[0].db.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT * FROM alembic_version"))).all()
        assert versions == [(migrations.head(),)]
    finally:
        for store in stores:
            await store.close()


async def test_a_new_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    store = Store.connect(tmp_path / "new.db")
    try:
        await store.initialize()
        async with store.db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
    finally:
        await store.close()


# The very first release: commands kept as a key, a link and a time only, links
# without charges_seen, charges without a status or their place among the link's.
FIRST_RELEASE_SCHEMA = """
CREATE TABLE links (
    link_id VARCHAR(64) NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT,
    creator_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    multiple BOOLEAN NOT NULL,
    payment_uri TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    recorded_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL,
    paid_at DATETIME,
    paid_count INTEGER NOT NULL,
    paid_total BIGINT NOT NULL,
    PRIMARY KEY (link_id)
);
CREATE INDEX ix_links_chat_id ON links (chat_id);
CREATE INDEX ix_links_created_at ON links (created_at);
CREATE INDEX ix_links_recorded_at ON links (recorded_at);
CREATE INDEX ix_links_status ON links (status);
CREATE TABLE commands (
    "key" VARCHAR(64) NOT NULL,
    link_id VARCHAR(64),
    received_at DATETIME NOT NULL,
    PRIMARY KEY ("key")
);
CREATE TABLE charges (
    charge_id VARCHAR(64) NOT NULL,
    link_id VARCHAR(64) NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    paid_at DATETIME NOT NULL,
    announced_at DATETIME,
    PRIMARY KEY (charge_id)
);
CREATE INDEX ix_charges_link_id ON charges (link_id);
"""

FIRST_RELEASE_DATA = """
INSERT INTO links VALUES ('link_test_a', -100, 501, 1111, 15000, 'THB', 'Donation', 'Donation',
    1, 'https://link.omise.test/A', '2026-11-20 10:00:00.000000', '2026-11-20 10:00:01.000000',
    'active', '2026-11-20 11:00:00.000000', 2, 30000);
INSERT INTO links VALUES ('link_test_b', -100, 502, 1111, 7440, 'THB', 'Hot Latte',
    'Hot Latte', 0, 'https://link.omise.test/B', '2026-11-21 09:00:00.000000',
    '2026-11-21 09:00:00.500000', 'cancelled', NULL, 0, 0);
INSERT INTO commands VALUES ('-100:500', 'link_test_a', '2026-11-20 10:00:00.000000');
INSERT INTO commands VALUES ('-100:499', 'link_test_b', '2026-11-21 08:59:59.000000');
INSERT INTO commands VALUES ('-100:503', NULL, '2026-11-21 09:30:00.000000');
INSERT INTO charges VALUES ('chrg_test_a2', 'link_test_a', 15000, 'THB',
    '2026-11-20 12:00:00.000000', NULL);
INSERT INTO charges VALUES ('chrg_test_a1', 'link_test_a', 15000, 'THB',
    '2026-11-20 11:00:00.000000', '2026-11-20 11:00:05.000000');
"""


async def test_a_file_from_the_first_release_is_upgraded_with_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "linkbot.db"
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_SCHEMA + FIRST_RELEASE_DATA)

    store = Store.sqlite(path)
    try:
        assert await store.initialize() == ["0002", "0003", "0004", "0005"]
        assert await store.initialize() == []
        assert await store.revision() == migrations.head()

        # The links as they were; every sweep looks at their charges again.
        link = await store.links.get_link("link_test_a")
        assert link is not None and link.multiple and link.message_id == 501
        assert (link.paid_count, link.paid_total, link.charges_seen) == (2, 30000, 0)
        cancelled = await store.links.get_link("link_test_b")
        assert cancelled is not None and cancelled.status is LinkStatus.CANCELLED

        # A command that got its link is done, its request read back from the link:
        # a repeat of it is answered with that link, never a second one.
        done = await store.commands.get_command("-100:500")
        assert done is not None and done.state is CommandState.DONE
        assert (done.chat_id, done.message_id, done.user_id, done.link_id) == (
            -100,
            500,
            1111,
            "link_test_a",
        )
        assert (done.amount, done.currency, done.title, done.multiple) == (
            15000,
            "THB",
            "Donation",
            True,
        )
        assert done.received_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        other = await store.commands.get_command("-100:499")
        assert other is not None and other.state is CommandState.DONE
        assert (other.amount, other.multiple, other.link_id) == (7440, False, "link_test_b")
        # One that never got its link kept no request to settle it with: failed.
        lost = await store.commands.get_command("-100:503")
        assert lost is not None and lost.state is CommandState.FAILED and lost.link_id is None
        assert (lost.chat_id, lost.message_id) == (-100, 503)
        # Nothing left to resume, and nothing posted again.
        since = datetime(2026, 1, 1, tzinfo=UTC)
        assert await store.commands.pending_commands(since) == []
        assert await store.commands.unanswered_links(since) == []

        # The charges, in the order they were paid, with their running totals.
        first, second = await store.charges.link_charges("link_test_a")
        assert (first.charge_id, first.position, first.running_total) == ("chrg_test_a1", 1, 15000)
        assert (second.charge_id, second.position, second.running_total) == (
            "chrg_test_a2",
            2,
            30000,
        )
        assert first.notice is Notice.PAID and first.announced_at is not None
        assert await store.charges.unannounced_charges() == [second]

        def differences(conn: Connection) -> list[Any]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        async with store.db.engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await store.close()


# The release after it: links with charges_seen, charges with their place and claim,
# commands still without their request.
SECOND_RELEASE_SCHEMA = FIRST_RELEASE_SCHEMA.replace(
    "paid_total BIGINT NOT NULL,\n",
    "paid_total BIGINT NOT NULL,\n    charges_seen INTEGER NOT NULL,\n",
).replace(
    "paid_at DATETIME NOT NULL,\n    announced_at",
    "paid_at DATETIME NOT NULL,\n    position INTEGER NOT NULL,\n"
    "    running_total BIGINT NOT NULL,\n    claimed_at DATETIME,\n    announced_at",
)


async def test_a_file_from_the_second_release_is_upgraded_with_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "linkbot.db"
    with sqlite3.connect(path) as db:
        db.executescript(SECOND_RELEASE_SCHEMA)
        db.execute(
            "INSERT INTO links VALUES ('link_test_a', -100, 501, 1111, 15000, 'THB', 'Donation',"
            " 'Donation', 1, 'https://link.omise.test/A', '2026-11-20 10:00:00.000000',"
            " '2026-11-20 10:00:01.000000', 'active', '2026-11-20 11:00:00.000000', 1, 15000, 1)"
        )
        db.execute("INSERT INTO commands VALUES ('-100:500', 'link_test_a', '2026-11-20 10:00:00')")
        db.execute(
            "INSERT INTO charges VALUES ('chrg_test_a1', 'link_test_a', 15000, 'THB',"
            " '2026-11-20 11:00:00.000000', 1, 15000, '2026-11-20 11:00:04.000000',"
            " '2026-11-20 11:00:05.000000')"
        )

    store = Store.sqlite(path)
    try:
        assert await store.initialize() == ["0002", "0003", "0004", "0005"]
        done = await store.commands.get_command("-100:500")
        assert done is not None and done.state is CommandState.DONE
        assert (done.amount, done.title, done.link_id) == (15000, "Donation", "link_test_a")
        [paid] = await store.charges.link_charges("link_test_a")
        assert (paid.position, paid.running_total, paid.notice) == (1, 15000, Notice.PAID)
        assert paid.announced_at == datetime(2026, 11, 20, 11, 0, 5, tzinfo=UTC)
    finally:
        await store.close()

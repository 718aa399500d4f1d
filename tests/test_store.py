"""The store on a real SQLite file and on the real PostgreSQL.

One transaction is one transaction, concurrent writers count a payment
once, and old files upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from linkbot.store import (
    POOL_SIZE,
    ChargeRecord,
    CommandRecord,
    CommandState,
    LinkRecord,
    LinkStatus,
    LinkTaken,
    Notice,
    Recorded,
    Store,
)
from tests.databases import ENGINES, PostgreSQL

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def link(link_id: str = "link_test_1", *, multiple: bool = False) -> LinkRecord:
    return LinkRecord(
        link_id=link_id,
        chat_id=-100,
        message_id=5,
        creator_id=1111,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=multiple,
        payment_uri=f"https://link.omise.test/{link_id}",
        created_at=NOW,
        recorded_at=NOW,
    )


def charge(charge_id: str = "chrg_test_1", status: str = "successful") -> ChargeRecord:
    return ChargeRecord(
        charge_id=charge_id,
        link_id="link_test_1",
        amount=7440,
        currency="THB",
        status=status,
        created_at=NOW,
        paid_at=NOW if status == "successful" else None,
    )


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    store = Store.sqlite(tmp_path / "linkbot.db")
    await store.initialize()
    yield store
    await store.close()


@pytest.fixture(params=ENGINES)
async def any_store(request: pytest.FixtureRequest, tmp_path: Path, postgresql: PostgreSQL) -> Any:
    """The store on each engine in turn (``store``: the tests that read the SQLite file)."""
    if request.param == "postgresql":
        location = await postgresql.fresh()
    else:
        location = str(tmp_path / "linkbot.db")
    store = Store.connect(location)
    await store.initialize()
    yield store
    await store.close()


def location(store: Store) -> str:
    """Where a store is, to open it again as another process would."""
    url = store.db.engine.url
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=False)


def fail_on(store: Store, statement_start: str) -> list[str]:
    """Make the next statement starting with ``statement_start`` fail, as a crash would.

    Returns the statements run until then.
    """
    engine = store.db.engine.sync_engine
    seen: list[str] = []

    def _fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lstrip().upper())
        if seen[-1].startswith(statement_start):
            event.remove(engine, "before_cursor_execute", _fail)
            raise RuntimeError("power cut")

    event.listen(engine, "before_cursor_execute", _fail)
    return seen


async def test_a_burst_shares_a_few_connections_on_either_engine(any_store: Store) -> None:
    # Fifty links written and read back at once: none waits forever, and the
    # database never sees more than the pool's connections (a managed
    # PostgreSQL plan allows 20-25 in all).
    opened: list[object] = []
    event.listen(any_store.db.engine.sync_engine, "connect", lambda conn, _: opened.append(conn))

    async def write_and_read(n: int) -> LinkRecord | None:
        await any_store.links.add_link(link(f"link_test_{n}"))
        return await any_store.links.get_link(f"link_test_{n}")

    found = await asyncio.gather(*(write_and_read(n) for n in range(50)))

    assert [record.link_id for record in found if record] == [f"link_test_{n}" for n in range(50)]
    assert 1 <= len(opened) <= POOL_SIZE


async def test_a_failure_in_the_second_step_writes_nothing(store: Store, tmp_path: Path) -> None:
    await store.links.add_link(link())
    seen = fail_on(store, "UPDATE LINKS")
    with pytest.raises(Exception, match="power cut"):
        await store.charges.record_charge(charge())
    assert any(statement.startswith("INSERT INTO CHARGES") for statement in seen)

    # Another connection, as the next process would see the file.
    with sqlite3.connect(tmp_path / "linkbot.db") as db:
        assert db.execute("SELECT count(*) FROM charges").fetchone() == (0,)
        assert db.execute("SELECT paid_count, status FROM links").fetchone() == (0, "active")
    # And the charge is recorded in full when tried again.
    assert await store.charges.record_charge(charge()) is Recorded.PAID
    stored = await store.links.get_link("link_test_1")
    assert stored is not None and (stored.paid_count, stored.paid_total) == (1, 7440)


async def test_a_step_that_fails_undoes_the_transaction_on_either_engine(
    any_store: Store,
) -> None:
    store = any_store
    await store.links.add_link(link())
    fail_on(store, "UPDATE LINKS")
    with pytest.raises(Exception, match="power cut"):
        await store.charges.record_charge(charge())
    assert await store.charges.link_charges("link_test_1") == []
    first = command()
    assert await store.commands.claim_command(first) is None
    fail_on(store, "UPDATE COMMANDS")
    with pytest.raises(RuntimeError):
        await store.commands.finish_command(first.key, link("link_test_2"))
    # Another process sees none of it.
    other = Store.connect(location(store))
    try:
        assert await other.links.get_link("link_test_2") is None
        [pending] = await other.commands.pending_commands(NOW)
        assert pending.key == first.key
        stored = await other.links.get_link("link_test_1")
        assert stored is not None and stored.paid_count == 0
    finally:
        await other.close()
    assert await store.charges.record_charge(charge()) is Recorded.PAID


def command(chat_id: int = -100) -> CommandRecord:
    return CommandRecord(
        key=f"{chat_id}:5",
        chat_id=chat_id,
        message_id=5,
        user_id=1111,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=False,
        received_at=NOW,
    )


async def test_finishing_a_command_is_one_transaction(store: Store, tmp_path: Path) -> None:
    first = command()
    assert await store.commands.claim_command(first) is None
    seen = fail_on(store, "UPDATE COMMANDS")
    with pytest.raises(RuntimeError):
        await store.commands.finish_command(first.key, link())
    assert any(statement.startswith("INSERT INTO LINKS") for statement in seen)
    with sqlite3.connect(tmp_path / "linkbot.db") as db:
        assert db.execute("SELECT count(*) FROM links").fetchone() == (0,)
        assert db.execute("SELECT state FROM commands").fetchone() == ("pending",)


async def test_webhook_and_watcher_racing_on_one_charge(any_store: Store) -> None:
    store = any_store
    await store.links.add_link(link(multiple=True))
    # As two processes (or a webhook task and a pass) would: separate connections.
    others = [Store.connect(location(store)) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(s.charges.record_charge(charge()) for s in [store, *others, store, *others]),
            *(s.charges.record_charge(charge("chrg_test_2")) for s in [store, *others]),
        )
    finally:
        for other in others:
            await other.close()
    assert sorted(results).count(Recorded.PAID) == 2
    stored = await store.links.get_link("link_test_1")
    assert stored is not None and (stored.paid_count, stored.paid_total) == (2, 14880)
    positions = sorted(
        (c.position, c.running_total) for c in await store.charges.link_charges("link_test_1")
    )
    assert positions == [(1, 7440), (2, 14880)]


async def test_a_settled_charge_never_goes_back(any_store: Store) -> None:
    await any_store.links.add_link(link())
    assert await any_store.charges.record_charge(charge(status="pending")) is Recorded.PENDING
    assert await any_store.charges.record_charge(charge(status="pending")) is Recorded.UNCHANGED
    assert await any_store.charges.record_charge(charge(status="successful")) is Recorded.PAID
    # An old snapshot (a replayed charge.create) arrives late.
    assert await any_store.charges.record_charge(charge(status="pending")) is Recorded.UNCHANGED
    assert await any_store.charges.record_charge(charge(status="failed")) is Recorded.UNCHANGED
    [stored] = await any_store.charges.link_charges("link_test_1")
    assert (stored.status, stored.notice, stored.position) == ("successful", Notice.PAID, 1)
    record = await any_store.links.get_link("link_test_1")
    assert record is not None and record.status is LinkStatus.PAID and record.paid_count == 1


async def test_a_link_is_recorded_for_one_command_only(any_store: Store) -> None:
    commands = [command(-100), command(-200)]
    for each in commands:
        await any_store.commands.claim_command(each)
    await any_store.commands.finish_command(commands[0].key, link())
    with pytest.raises(LinkTaken):
        await any_store.commands.finish_command(commands[1].key, link())
    assert [c.key for c in await any_store.commands.pending_commands(NOW)] == ["-200:5"]


async def test_a_moved_chat_keeps_its_links(any_store: Store) -> None:
    await any_store.links.add_link(link())
    assert await any_store.chats.move_chat(-100, -1009) == 1
    moved = await any_store.links.get_link("link_test_1")
    assert moved is not None and moved.chat_id == -1009
    # The message stayed in the old group: it is not edited or quoted any more.
    assert moved.message_chat_id == -100 and moved.editable_message_id is None
    assert await any_store.links.find_by_message(-100, 5) is not None
    assert await any_store.links.find_by_message(-1009, 5) is None
    assert await any_store.chats.migrated_to(-100) == -1009
    records, total = await any_store.links.chat_links(-1009, offset=0, limit=10)
    assert total == 1 and records[0].link_id == "link_test_1"


# Files made by the previous release

PREVIOUS_SCHEMA = """
CREATE TABLE links (
    link_id VARCHAR(64) NOT NULL PRIMARY KEY, chat_id BIGINT NOT NULL, message_id BIGINT,
    creator_id BIGINT NOT NULL, amount BIGINT NOT NULL, currency VARCHAR(3) NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL, multiple BOOLEAN NOT NULL,
    payment_uri TEXT NOT NULL, created_at DATETIME NOT NULL, recorded_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL, paid_at DATETIME, paid_count INTEGER NOT NULL,
    paid_total BIGINT NOT NULL, charges_seen INTEGER NOT NULL);
CREATE INDEX ix_links_chat_id ON links (chat_id);
CREATE INDEX ix_links_created_at ON links (created_at);
CREATE INDEX ix_links_recorded_at ON links (recorded_at);
CREATE INDEX ix_links_status ON links (status);
CREATE TABLE commands (
    "key" VARCHAR(64) NOT NULL PRIMARY KEY, chat_id BIGINT NOT NULL, message_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL, amount BIGINT NOT NULL, currency VARCHAR(3) NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL, multiple BOOLEAN NOT NULL,
    state VARCHAR(16) NOT NULL, link_id VARCHAR(64), received_at DATETIME NOT NULL);
CREATE INDEX ix_commands_state ON commands (state);
CREATE TABLE charges (
    charge_id VARCHAR(64) NOT NULL PRIMARY KEY, link_id VARCHAR(64) NOT NULL,
    amount BIGINT NOT NULL, currency VARCHAR(3) NOT NULL, paid_at DATETIME NOT NULL,
    position INTEGER NOT NULL, running_total BIGINT NOT NULL, claimed_at DATETIME,
    announced_at DATETIME);
CREATE INDEX ix_charges_link_id ON charges (link_id);
INSERT INTO links VALUES ('link_test_a', -100, 501, 1111, 15000, 'THB', 'Donation', 'Donation',
    1, 'https://link.omise.test/A', '2026-11-20 10:00:00.000000', '2026-11-20 10:00:01.000000',
    'active', '2026-11-20 11:00:00.000000', 2, 30000, 2);
INSERT INTO commands VALUES ('-100:500', -100, 500, 1111, 15000, 'THB', 'Donation', 'Donation',
    1, 'done', 'link_test_a', '2026-11-20 10:00:00.000000');
INSERT INTO charges VALUES ('chrg_test_a1', 'link_test_a', 15000, 'THB',
    '2026-11-20 11:00:00.000000', 1, 15000, NULL, '2026-11-20 11:00:05.000000');
INSERT INTO charges VALUES ('chrg_test_a2', 'link_test_a', 15000, 'THB',
    '2026-11-20 12:00:00.000000', 2, 30000, NULL, NULL);
"""


async def test_a_file_from_the_previous_release_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "linkbot.db"
    with sqlite3.connect(path) as db:
        db.executescript(PREVIOUS_SCHEMA)
    store = Store.sqlite(path)
    try:
        await store.initialize()
        await store.initialize()  # a second start changes nothing
        record = await store.links.get_link("link_test_a")
        assert record is not None
        assert (record.paid_count, record.paid_total, record.message_id) == (2, 30000, 501)
        assert record.editable_message_id == 501
        # Business chats came later: none in an old file, and their table is made.
        assert record.business_connection_id is None
        assert await store.business.business_connection("bconn-none") is None
        # Looked at again by the first sweep: the old watcher counted pending charges.
        assert record.charges_seen == 0
        charges = await store.charges.link_charges("link_test_a")
        assert [(c.charge_id, c.status, c.position, c.running_total) for c in charges] == [
            ("chrg_test_a1", "successful", 1, 15000),
            ("chrg_test_a2", "successful", 2, 30000),
        ]
        # The one announced stays announced; the other is still due.
        assert [c.charge_id for c in await store.charges.unannounced_charges()] == ["chrg_test_a2"]
        assert (
            await store.charges.record_charge(
                ChargeRecord("chrg_test_a3", "link_test_a", 15000, "THB", NOW)
            )
            is Recorded.PAID
        )
        assert (await store.links.get_link("link_test_a")).paid_count == 3  # type: ignore[union-attr]
        commands = await store.commands.pending_commands(datetime(2000, 1, 1, tzinfo=UTC))
        assert commands == []
        # The commands table was rebuilt for inline results (no command message), rows kept.
        earlier = await store.commands.claim_command(
            replace(command(), key="-100:500", message_id=500)
        )
        assert earlier is not None and earlier.link_id == "link_test_a"
        assert earlier.state is CommandState.DONE and earlier.message_id == 500
        inline = replace(
            command(1111), key="inline:new:abc", message_id=None, inline_message_id="AQAAAbc"
        )
        assert await store.commands.claim_command(inline) is None
        assert [c.inline_message_id for c in await store.commands.pending_commands(NOW)] == [
            "AQAAAbc"
        ]
    finally:
        await store.close()


async def test_a_savepoint_is_not_a_commit(store: Store, tmp_path: Path) -> None:
    # The sqlite3 module, left to itself, commits when the outermost savepoint
    # is released; the outer transaction's failure must still undo everything.
    from linkbot.store.schema import state

    with pytest.raises(RuntimeError):
        async with store.db.write() as conn:
            async with conn.begin_nested():
                await conn.execute(state.insert().values(key="k", value="v"))
            raise RuntimeError("the second step failed")
    with sqlite3.connect(tmp_path / "linkbot.db") as db:
        assert db.execute("SELECT count(*) FROM state").fetchone() == (0,)


async def test_a_write_transaction_takes_the_lock_at_once(store: Store, tmp_path: Path) -> None:
    # A transaction that reads first and writes later must not fail with
    # "database is locked" when another process wrote in between: it holds
    # the write lock from its first statement.
    other = sqlite3.connect(tmp_path / "linkbot.db", timeout=0)
    try:
        async with store.db.write() as conn:
            await conn.execute(select(1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once committed
        other.rollback()
    finally:
        other.close()


async def test_a_charge_in_an_unknown_state_is_followed(any_store: Store) -> None:
    await any_store.links.add_link(link())
    assert await any_store.charges.record_charge(charge(status="unknown")) is Recorded.PENDING
    assert await any_store.charges.pending_charge_links() == {"link_test_1"}
    assert await any_store.charges.record_charge(charge(status="successful")) is Recorded.PAID


def statements(store: Store) -> list[str]:
    """Every statement the store runs from now on, upper-cased."""
    seen: list[str] = []

    def _note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lstrip().upper())

    event.listen(store.db.engine.sync_engine, "before_cursor_execute", _note)
    return seen


async def test_a_visit_writes_only_what_changed(any_store: Store) -> None:
    group = (-100, "Café Nok")
    await any_store.chats.note_visit(1111, "th", NOW, group)
    assert await any_store.chats.user_language(1111) == "th"
    assert await any_store.chats.forbidden_since(-100) is None

    seen = statements(any_store)
    await any_store.chats.note_visit(1111, "th", NOW, group)
    await any_store.chats.note_visit(1111, "th", NOW, None)
    assert [s.split()[0] for s in seen if not s.startswith(("BEGIN", "ROLLBACK", "COMMIT"))] == [
        "SELECT",
        "SELECT",
    ]

    await any_store.chats.set_forbidden(-100, NOW)
    await any_store.chats.note_visit(1111, "ja", NOW, group)
    assert await any_store.chats.forbidden_since(-100) is None
    assert await any_store.chats.user_language(1111) == "ja"
    seen.clear()
    await any_store.chats.note_visit(1111, "ja", NOW, (-100, "Café Nok, upstairs"))
    assert sum(s.startswith("INSERT INTO CHATS") for s in seen) == 1
    assert not any(s.startswith("INSERT INTO USERS") for s in seen)


async def test_a_repeated_claim_gets_the_first_claim(any_store: Store) -> None:
    first = command()
    assert await any_store.commands.claim_command(first) is None
    again = await any_store.commands.claim_command(replace(first, title="Iced Latte"))
    assert again is not None
    assert (again.title, again.claimed_by) == ("Hot Latte", any_store.instance_id)

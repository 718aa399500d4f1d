"""Two instances on one database: every claim has one winner, one watcher at a time.

Each instance is a Store of its own (its own connections and instance id),
as a second process would have, over the same database.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot

from linkbot.bot.handlers import resume_orphans, services
from linkbot.bot.messages import text
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.commands import parse_link
from linkbot.config import Settings
from linkbot.links import Created, LinkNotCreated, LinkService
from linkbot.money import CURRENCIES
from linkbot.omise import Link, OmiseClient
from linkbot.payments import CLAIM_LEASE, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import ChargeRecord, CommandRecord, CommandState, LinkRecord, Store
from linkbot.web import create_app
from tests.conftest import GROUP, MERCHANT, Chat, eventually, make_link
from tests.databases import ENGINES
from tests.test_web import client

ROUNDS = 40
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def command(message_id: int, received_at: datetime = NOW) -> CommandRecord:
    return CommandRecord(
        key=f"{GROUP['id']}:{message_id}",
        chat_id=GROUP["id"],
        message_id=message_id,
        user_id=MERCHANT,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=False,
        received_at=received_at,
    )


async def test_a_command_is_claimed_by_one_instance(store: Store, other: Store) -> None:
    for message_id in range(ROUNDS):
        first, second = await asyncio.gather(
            store.commands.claim_command(command(message_id)),
            other.commands.claim_command(command(message_id)),
        )
        assert [first, second].count(None) == 1
        winner = store if first is None else other
        assert (first or second).claimed_by == winner.instance_id  # type: ignore[union-attr]


async def test_an_announcement_is_claimed_by_one_instance(
    store: Store, other: Store, link_service: LinkService, mock_http: object
) -> None:
    record = await make_link(link_service, multiple=True)
    for n in range(ROUNDS):
        await store.charges.record_charge(
            ChargeRecord(f"chrg_test_{n}", record.link_id, 7440, "THB", paid_at=NOW)
        )
    for n in range(ROUNDS):
        won = await asyncio.gather(
            store.charges.claim_announcement(f"chrg_test_{n}", NOW, CLAIM_LEASE),
            other.charges.claim_announcement(f"chrg_test_{n}", NOW, CLAIM_LEASE),
        )
        assert won.count(True) == 1
    # A claim whose holder died expires, and again only one instance takes it over.
    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    won = await asyncio.gather(
        *(
            s.charges.claim_announcement("chrg_test_0", later, CLAIM_LEASE)
            for s in [store, other] * 3
        )
    )
    assert won.count(True) == 1


async def test_a_lease_has_one_holder_at_a_time(store: Store, other: Store) -> None:
    ttl = timedelta(seconds=10)
    for n in range(ROUNDS):
        # Each round starts after the last holder's lease has run out.
        now = NOW + n * (ttl + timedelta(seconds=1))
        won = await asyncio.gather(
            store.leases.acquire_lease("work", now, ttl),
            other.leases.acquire_lease("work", now, ttl),
        )
        assert won.count(True) == 1
        holder = store if won[0] else other
        assert await store.leases.lease_holder("work", now) == holder.instance_id
        # The holder renews it; the other cannot take it before it expires.
        standby = other if holder is store else store
        assert await holder.leases.acquire_lease("work", now + ttl / 2, ttl)
        assert not await standby.leases.acquire_lease("work", now + ttl, ttl)
    await holder.leases.release_lease("work")
    assert await standby.leases.acquire_lease("work", now + ttl, ttl)


async def test_a_daily_summary_is_claimed_by_one_instance(store: Store, other: Store) -> None:
    for n in range(ROUNDS):
        day = date(2026, 1, 1) + timedelta(days=n)
        won = await asyncio.gather(
            store.reports.claim_daily_report(-100, day, NOW),
            other.reports.claim_daily_report(-100, day, NOW),
        )
        assert won.count(True) == 1


async def test_a_redelivered_command_waits_for_the_live_instance_creating_it(
    store: Store,
    other: Store,
    omise: OmiseClient,
    fake_omise: fakes.FakeOmise,
    mock_http: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = LinkService(omise, store, reconcile_delays=(0,))
    second = LinkService(omise, other, reconcile_delays=(0,), command_poll=0.02)
    await store.leases.heartbeat(datetime.now(UTC), timedelta(seconds=30))
    create_link = omise.create_link

    async def slow_create_link(**values: Any) -> Link:
        await asyncio.sleep(0.3)  # the first instance is still asking Omise
        return await create_link(**values)

    monkeypatch.setattr(omise, "create_link", slow_create_link)
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False)

    async def first_delivery() -> Created | None:
        created = await first.create(request, chat_id=GROUP["id"], message_id=9, creator_id=1)
        assert created is not None
        await first.record_reply(created.record, 10)  # and the chat gets the reply
        return created

    async def redelivery() -> Created | None:
        await asyncio.sleep(0.05)  # Telegram gives the update to the other instance
        return await second.create(request, chat_id=GROUP["id"], message_id=9, creator_id=1)

    made, repeated = await asyncio.gather(first_delivery(), redelivery())
    assert made is not None and repeated is not None
    # The same link, already answered: the second instance says nothing more.
    assert repeated.record.link_id == made.record.link_id and repeated.answered
    assert fake_omise.count("POST /links") == 1 and len(fake_omise.links) == 1


async def test_a_redelivered_command_sees_the_answer_of_an_instance_that_just_stopped(
    store: Store,
    other: Store,
    omise: OmiseClient,
    fake_omise: fakes.FakeOmise,
    mock_http: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rolling deploy: the first instance made the link, and answers the chat
    # and stops just as the other instance, given the command again, asks
    # whether it is still alive. The answer it gave must be seen, not missed.
    first = LinkService(omise, store, reconcile_delays=(0,))
    second = LinkService(omise, other, reconcile_delays=(0,), command_poll=0.02)
    await store.leases.heartbeat(datetime.now(UTC), timedelta(seconds=30))
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False)
    made = await first.create(request, chat_id=GROUP["id"], message_id=9, creator_id=1)
    assert made is not None
    alive = other.leases.alive

    async def answered_and_stopped(instance_id: str, now: datetime | None = None) -> bool:
        await first.record_reply(made.record, 10)
        await store.leases.sign_off()
        return await alive(instance_id, now)

    monkeypatch.setattr(other.leases, "alive", answered_and_stopped)
    repeated = await second.create(request, chat_id=GROUP["id"], message_id=9, creator_id=1)

    assert repeated is not None and repeated.answered
    assert repeated.record.link_id == made.record.link_id
    assert fake_omise.count("POST /links") == 1


async def test_a_command_of_a_dead_instance_is_settled(
    store: Store, other: Store, omise: OmiseClient, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    # The first instance claimed the command, then died before asking Omise.
    assert await store.commands.claim_command(command(9)) is None
    await store.leases.heartbeat(NOW - timedelta(minutes=5), timedelta(seconds=30))
    second = LinkService(omise, other, reconcile_delays=(0,))
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False)
    started = time.monotonic()
    with pytest.raises(LinkNotCreated):
        await second.create(request, chat_id=GROUP["id"], message_id=9, creator_id=MERCHANT)
    assert time.monotonic() - started < 5
    recorded = await other.commands.get_command(command(9).key)
    assert recorded is not None and recorded.state is CommandState.FAILED
    assert fake_omise.count("POST /links") == 0


async def test_resuming_leaves_a_live_instances_commands_alone(
    store: Store, other: Store, omise: OmiseClient, mock_http: object
) -> None:
    assert await store.commands.claim_command(command(9, datetime.now(UTC))) is None
    await store.leases.heartbeat(datetime.now(UTC), timedelta(seconds=30))
    starting = LinkService(omise, other, reconcile_delays=(0,))
    assert await starting.unfinished() == []
    # Once that instance signs off, they are the starting one's to finish.
    await store.leases.sign_off()
    [(resumed, _)] = await starting.unfinished()
    assert resumed.key == command(9).key


# Commands of an instance that died: in webhook mode nobody delivers them again

GRACE = timedelta(seconds=5)


async def orphaned_command(
    dead: Store, message_id: int, title: str, **values: Any
) -> CommandRecord:
    """A command the dead instance claimed a minute ago and never finished."""
    made = replace(
        command(message_id, datetime.now(UTC) - timedelta(minutes=1)),
        title=title,
        description=title,
        **values,
    )
    assert await dead.commands.claim_command(made) is None
    return made


async def test_a_dead_instances_commands_are_finished_once_by_the_survivors(
    chat: Chat,
    store: Store,
    other: Store,
    omise: OmiseClient,
    settings: Settings,
    fake_omise: fakes.FakeOmise,
) -> None:
    dead = Store.connect(settings.database, instance_id="dead")
    try:
        await dead.leases.heartbeat(datetime.now(UTC) - timedelta(minutes=2), timedelta(seconds=30))
        # It asked Omise, and died before recording the link it got.
        made = fake_omise.add_link(title="Hot Latte")
        await orphaned_command(dead, 901, "Hot Latte")
        # It died before asking Omise.
        never = await orphaned_command(dead, 902, "Iced Tea", amount=5000)
        # It recorded the link and died before replying.
        answered_late = await orphaned_command(dead, 903, "Mocha", amount=9000)
        mocha = fake_omise.add_link(amount=9000, title="Mocha")
        await dead.commands.finish_command(answered_late.key, link_record(mocha, answered_late))
        # Just claimed by an instance still starting: not yet anyone else's.
        await dead.commands.claim_command(replace(command(904), received_at=datetime.now(UTC)))
        # Claimed by a live instance: left to it, however old.
        live = Store.connect(settings.database, instance_id="live")
        try:
            await live.leases.heartbeat(datetime.now(UTC), timedelta(seconds=30))
            await orphaned_command(live, 905, "Espresso")
        finally:
            await live.close()

        await store.chats.note_language(MERCHANT, "th", datetime.now(UTC))
        for survivor in (store, other):
            await survivor.leases.heartbeat(datetime.now(UTC), timedelta(seconds=30))
        second = LinkService(omise, other, reconcile_delays=(0,))
        _, found_by_second = await asyncio.gather(
            resume_orphans(chat.app.bot, services(chat.app), GRACE), second.orphans(GRACE)
        )
        answered_here = {reply["reply_parameters"]["message_id"] for reply in chat.replies()}
        finished_there = {finished.message_id for finished, _ in found_by_second}
        assert answered_here | finished_there == {901, 902, 903}
        assert not answered_here & finished_there
        assert fake_omise.count("POST /links") == 0
        for message_id, state, link_id in [
            (901, CommandState.DONE, made["id"]),
            (902, CommandState.FAILED, None),
            (903, CommandState.DONE, mocha["id"]),
            (904, CommandState.PENDING, None),
            (905, CommandState.PENDING, None),
        ]:
            recorded = await store.commands.get_command(command(message_id).key)
            assert recorded is not None
            assert (recorded.state, recorded.link_id) == (state, link_id)
        # Told in the merchant's language, wherever it was finished.
        if 902 in answered_here:
            [failed] = [r for r in chat.replies() if r["reply_parameters"]["message_id"] == 902]
            assert failed["text"] == text("create_not_created", "th")
        else:
            [(_, outcome)] = [(c, o) for c, o in found_by_second if c.key == never.key]
            assert isinstance(outcome, LinkNotCreated)
        # Once finished, nobody finishes them again.
        assert await second.orphans(GRACE) == []
        replies = len(chat.replies())
        await resume_orphans(chat.app.bot, services(chat.app), GRACE)
        assert len(chat.replies()) == replies
    finally:
        await dead.close()


def link_record(made: dict[str, Any], of: CommandRecord) -> LinkRecord:
    return LinkRecord(
        link_id=made["id"],
        chat_id=of.chat_id,
        message_id=None,
        creator_id=of.user_id,
        amount=of.amount,
        currency=of.currency,
        title=of.title,
        description=of.description,
        multiple=False,
        payment_uri=made["payment_uri"],
        created_at=datetime.now(UTC),
        recorded_at=datetime.now(UTC),
    )


# Two payment watchers

INTERVAL = 0.4


def watcher_for(store: Store, omise: OmiseClient, bot: Bot, settings: Settings) -> PaymentWatcher:
    announcer = TelegramAnnouncer(bot, store, settings.timezone)
    return PaymentWatcher(omise, store, announcer, interval=INTERVAL)


async def test_two_watchers_announce_a_payment_once_and_one_takes_over(
    store: Store,
    other: Store,
    omise: OmiseClient,
    bot: Bot,
    settings: Settings,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = await make_link(link_service)
    watchers = [watcher_for(s, omise, bot, settings) for s in (store, other)]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [
        asyncio.create_task(w.run(INTERVAL, stop)) for w, stop in zip(watchers, stops, strict=True)
    ]
    try:
        await eventually(lambda: any(w.last_pass_at for w in watchers), 5)
        await asyncio.sleep(INTERVAL)
        assert sorted(w.health().reason for w in watchers) == ["ok", "standby"]
        assert all(w.health().ok for w in watchers)
        [holder] = [w for w in watchers if not w.standby]
        [standby] = [w for w in watchers if w.standby]
        async with client(create_app(standby, None)) as http:
            response = await http.get("/healthz")
        assert response.status_code == 200 and response.json()["status"] == "standby"

        fake_omise.pay(record.link_id)
        await eventually(lambda: fake_telegram.sent("sendMessage"), 5)
        await asyncio.sleep(3 * INTERVAL)
        assert len(fake_telegram.sent("sendMessage")) == 1
        assert standby.last_pass_at is None

        # The holder dies: no clean shutdown, its lease is left to expire.
        async def dead(*_: object) -> None:
            return None

        holder_store = (store, other)[watchers.index(holder)]
        monkeypatch.setattr(holder_store.leases, "release_lease", dead)
        holder_task = tasks[watchers.index(holder)]
        holder_task.cancel()
        died = time.monotonic()
        await eventually(lambda: not standby.standby, 5)
        assert time.monotonic() - died <= 2 * INTERVAL + 0.2
        await eventually(lambda: standby.last_pass_at is not None, 5)
        assert standby.health().reason == "ok"

        # The new holder announces the next payment, once.
        second = await make_link(link_service, message_id=78)
        fake_omise.pay(second.link_id)
        await eventually(lambda: len(fake_telegram.sent("sendMessage")) == 2, 5)
        await asyncio.sleep(2 * INTERVAL)
        assert len(fake_telegram.sent("sendMessage")) == 2
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_watcher_stopping_cleanly_hands_over_at_once(
    store: Store, other: Store, omise: OmiseClient, bot: Bot, settings: Settings
) -> None:
    first, second = (watcher_for(s, omise, bot, settings) for s in (store, other))
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(first.run(INTERVAL, stop_first))
    await eventually(lambda: first.last_pass_at is not None, 5)
    standing_by = asyncio.create_task(second.run(INTERVAL, stop_second))
    try:
        await eventually(lambda: second.standby, 5)
        stop_first.set()
        await running
        # Released: the standby takes over at its next check, half an interval at most.
        waited = await eventually(lambda: not second.standby, 5)
        assert waited <= INTERVAL / 2 + 0.2
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.gather(running, standing_by, return_exceptions=True)


async def test_only_the_watchers_instance_looks_for_orphaned_commands(
    store: Store, other: Store, omise: OmiseClient, bot: Bot, settings: Settings
) -> None:
    looked: dict[str, int] = {store.instance_id: 0, other.instance_id: 0}

    def watcher(instance: Store) -> PaymentWatcher:
        async def after_pass() -> None:
            looked[instance.instance_id] += 1

        announcer = TelegramAnnouncer(bot, instance, settings.timezone)
        return PaymentWatcher(omise, instance, announcer, interval=INTERVAL, after_pass=after_pass)

    stop = asyncio.Event()
    tasks = [asyncio.create_task(watcher(s).run(INTERVAL, stop)) for s in (store, other)]
    try:
        await eventually(lambda: sum(looked.values()) >= 3, 5)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert sorted(looked.values())[0] == 0


async def test_instances_starting_together_resume_a_command_once(
    store: Store, other: Store, omise: OmiseClient, settings: Settings, mock_http: object
) -> None:
    stopped = Store.connect(settings.database, instance_id="stopped")
    try:
        assert await stopped.commands.claim_command(command(9, datetime.now(UTC))) is None
        await stopped.leases.sign_off()
    finally:
        await stopped.close()
    starting = [LinkService(omise, s, reconcile_delays=(0,)) for s in (store, other)]
    found = await asyncio.gather(*(s.unfinished() for s in starting))
    assert [resumed.key for outcomes in found for resumed, _ in outcomes] == [command(9).key]

"""The link service: adoption of links whose create answer was lost, and counts of busy links."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import respx

from linkbot.commands import parse_link
from linkbot.links import LinkNotCreated, LinkService
from linkbot.money import CURRENCIES
from linkbot.sandbox import fakes
from linkbot.store import CommandRecord, Store
from tests.conftest import GROUP, MERCHANT, Chat
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


OTHER_GROUP = fakes.group_chat(-1009999999)


async def create_in(service: LinkService, chat_id: int, message_id: int) -> str:
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"])
    created = await service.create(
        request, chat_id=chat_id, message_id=message_id, creator_id=MERCHANT
    )
    assert created is not None
    return created.record.link_id


async def test_two_chats_never_adopt_one_link(
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    store: Store,
    mock_http: respx.MockRouter,
) -> None:
    # Both creates' answers are lost; only the first made a link.
    fake_omise.fail("POST /links", status=502, apply=True)
    fake_omise.fail("POST /links", status=502)
    # Both look at Omise's list before either records what it found, as two
    # concurrent handlers can: the check alone cannot keep them apart.
    known_link_ids = store.links.known_link_ids
    both_looked = asyncio.Barrier(2)
    looks = 0

    async def slow_known_link_ids(link_ids: list[str]) -> set[str]:
        nonlocal looks
        found = await known_link_ids(link_ids)
        looks += 1
        if looks <= 2:
            await asyncio.wait_for(both_looked.wait(), 5)
        return found

    store.links.known_link_ids = slow_known_link_ids  # type: ignore[method-assign]
    outcomes = await asyncio.gather(
        create_in(link_service, GROUP["id"], 10),
        create_in(link_service, OTHER_GROUP["id"], 11),
        return_exceptions=True,
    )
    [made] = fake_omise.links
    assert sorted(map(type, outcomes), key=str) == sorted([str, LinkNotCreated], key=str)
    assert made in outcomes
    record = await store.links.get_link(made)
    assert record is not None
    assert [c.state.value for c in await store.commands.pending_commands(record.created_at)] == []


async def test_two_chats_with_two_lost_links_each_adopt_their_own(
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    store: Store,
    mock_http: respx.MockRouter,
) -> None:
    fake_omise.fail("POST /links", status=502, apply=True, times=2)
    found = await asyncio.gather(
        create_in(link_service, GROUP["id"], 20), create_in(link_service, OTHER_GROUP["id"], 21)
    )
    assert sorted(found) == sorted(fake_omise.links)
    chats = {(await store.links.get_link(link_id)).chat_id for link_id in found}  # type: ignore[union-attr]
    assert chats == {GROUP["id"], OTHER_GROUP["id"]}


async def test_status_counts_every_payment_of_a_busy_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/multilink 20 Raffle ticket")
    link_id = next(iter(fake_omise.links))
    for _ in range(130):
        fake_omise.pay(link_id)
    fake_omise.pay(link_id, status="failed")
    await chat.send(f"/status {link_id}")
    assert "Payments: 130 · paid ฿2,600.00" in chat.last_text()
    assert fake_omise.count(f"GET /links/{link_id}/charges") == 2  # 100 a page


@pytest.mark.parametrize("payments", [5, 25])
async def test_private_links_counts_past_the_embedded_twenty(
    chat: Chat, fake_omise: fakes.FakeOmise, payments: int
) -> None:
    busy = fake_omise.add_link(amount=2000, title="Raffle ticket", multiple=True)
    for _ in range(payments):
        fake_omise.pay(busy["id"])
    await chat.send("/links")
    assert f"Raffle ticket</b> · ฿20.00 · active · {payments}× paid" in chat.last_text()
    fetched = fake_omise.count(f"GET /links/{busy['id']}/charges")
    assert fetched == (1 if payments > 20 else 0)


async def test_a_create_whose_link_was_adopted_meanwhile_finds_its_twin(
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    store: Store,
    mock_http: respx.MockRouter,
) -> None:
    # Chat B's create reaches Omise, but before its answer is recorded, chat
    # A (whose identical create's answer was lost, and whose link shows up
    # late) adopts B's link. B must then adopt A's late link, not fail.
    create_link = link_service.omise.create_link

    async def create_then_adopted(**fields: Any) -> Any:
        made = await create_link(**fields)
        await create_in_other_chat_adopting(made.id)
        fake_omise.add_link(amount=7440, title="Hot Latte")  # A's own, late
        return made

    async def create_in_other_chat_adopting(link_id: str) -> None:
        a_command = CommandRecord(
            key=f"{OTHER_GROUP['id']}:30",
            chat_id=OTHER_GROUP["id"],
            message_id=30,
            user_id=MERCHANT,
            amount=7440,
            currency="THB",
            title="Hot Latte",
            description="Hot Latte",
            multiple=False,
            received_at=datetime.now(UTC),
        )
        await store.commands.claim_command(a_command)
        await link_service._record(a_command, await link_service.omise.retrieve_link(link_id))

    link_service.omise.create_link = create_then_adopted  # type: ignore[method-assign]
    b_link = await create_in(link_service, GROUP["id"], 31)
    assert len(fake_omise.links) == 2
    owners = {
        link_id: (await store.links.get_link(link_id)).chat_id for link_id in fake_omise.links
    }  # type: ignore[union-attr]
    assert sorted(owners.values()) == sorted([GROUP["id"], OTHER_GROUP["id"]])
    assert owners[b_link] == GROUP["id"]

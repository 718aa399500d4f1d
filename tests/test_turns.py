"""A burst of /link in one chat: links created side by side, answers in the order sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from linkbot.bot import build_application
from linkbot.bot.app import PerChatUpdateProcessor
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from tests.conftest import MERCHANT, link_service_over_http, make_settings
from tests.test_reliability import feed_concurrently

SHOP = fakes.group_chat(-100555)


@pytest.fixture
def served() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    # Slow enough that creates started together overlap even on a busy machine.
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=0.8)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


@pytest.fixture
async def feed(
    tmp_path: Path, served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> AsyncIterator[Any]:
    _, _, telegram_url, omise_url = served
    settings = make_settings(tmp_path, telegram_api_url=telegram_url, omise_api_url=omise_url)
    async with (
        link_service_over_http(settings) as service,
        build_application(settings, service) as app,
    ):

        async def feed(texts: list[str]) -> list[dict[str, Any]]:
            updates = [fakes.command_update(text, user_id=MERCHANT, chat=SHOP) for text in texts]
            await feed_concurrently(app, updates)
            return updates

        yield feed


def answers(telegram: fakes.FakeTelegram) -> list[dict[str, Any]]:
    return [m for m in telegram.sent("sendMessage") if int(m["chat_id"]) == SHOP["id"]]


def quoted(message: dict[str, Any]) -> int:
    return int(message["reply_parameters"]["message_id"])


async def test_links_are_created_side_by_side_and_answered_in_order(
    feed: Any, served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, _, _ = served
    updates = await feed([f"/link {20 + n} Order {n}" for n in range(6)])
    assert omise.peak >= 3  # one chat's creates overlapped
    sent = answers(telegram)
    assert [m["text"].split("</b>")[0] for m in sent] == [f"<b>Order {n}" for n in range(6)]
    assert [quoted(m) for m in sent] == [u["message"]["message_id"] for u in updates]


async def test_a_failing_link_command_is_answered_in_its_turn(
    feed: Any, served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, _, _ = served
    updates = await feed(["/link 30 First", "/link lots Second", "/link 40 Third"])
    sent = answers(telegram)
    assert [quoted(m) for m in sent] == [u["message"]["message_id"] for u in updates]
    assert "<b>First" in sent[0]["text"] and "<b>Third" in sent[2]["text"]
    assert sent[1]["text"].startswith("Usage: /link")
    assert len(omise.links) == 2


async def test_other_commands_wait_for_the_links_sent_before_them(
    feed: Any, served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, _, _, _ = served
    await feed(["/link 30 Tea", "/link 45 Cake", "/links"])
    sent = answers(telegram)
    assert len(sent) == 3
    listing = sent[2]["text"]
    assert "Tea" in listing and "Cake" in listing  # both were made before /links ran


async def test_an_unexpected_error_is_answered_in_its_turn(
    feed: Any,
    served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    telegram, _, _, _ = served
    create = LinkService.create

    async def flaky(self: LinkService, request: Any, **kwargs: Any) -> Any:
        if request.title == "Second":
            raise RuntimeError("the store went away")
        return await create(self, request, **kwargs)

    monkeypatch.setattr(LinkService, "create", flaky)
    updates = await feed(["/link 30 First", "/link 35 Second", "/link 40 Third"])
    sent = answers(telegram)
    assert [quoted(m) for m in sent] == [u["message"]["message_id"] for u in updates]
    assert "went wrong" in sent[1]["text"]


async def test_a_shutdown_past_its_grace_cancels_what_is_still_running() -> None:
    processor = PerChatUpdateProcessor(lambda user: True)
    stuck = asyncio.Event()

    async def forever() -> None:
        stuck.set()
        await asyncio.sleep(3600)

    handling = asyncio.create_task(processor.do_process_update(object(), forever()))
    await stuck.wait()
    assert await processor.cancel_running() == 1
    assert handling.cancelled()


async def test_a_message_without_text_is_handled_in_its_chats_turn() -> None:
    # A service message (a group becoming a supergroup) has no text: the queue
    # must still hand it to its handler.
    processor = PerChatUpdateProcessor(lambda user: True)
    migration = Update.de_json(fakes.migrate_to_update(-555, -100555), None)
    handled = asyncio.Event()

    async def handler() -> None:
        handled.set()

    await processor.do_process_update(migration, handler())
    assert handled.is_set()

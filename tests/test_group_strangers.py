"""Strangers in a group: answered sparingly, and never ahead of the merchant."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from telegram import Update
from telegram.ext import Application

from linkbot.bot import build_application
from linkbot.bot.access import Access
from linkbot.bot.throttle import StrangerReplies
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from tests.conftest import (
    CUSTOMER,
    GROUP,
    MERCHANT,
    OMISE_URL,
    TELEGRAM_URL,
    Chat,
    Clock,
    eventually,
)

REFUSAL = "Only the merchant's authorized users"
NOT_AUTHORIZED_HELP = "You are not authorized to manage links"
OTHER_CUSTOMER = 3333
OTHER_GROUP = fakes.group_chat(-1009999999999)


@pytest.fixture
def access(settings: Settings, clock: Clock) -> Access:
    return Access(settings.linkbot_allowed_users, StrangerReplies(clock=clock))


def replies_in(chat: Chat, where: dict[str, Any]) -> list[str]:
    return [str(r["text"]) for r in chat.replies() if r["chat_id"] == str(where["id"])]


def answered(chat: Chat, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which of ``commands`` got a reply."""
    quoted = {r["reply_parameters"]["message_id"] for r in chat.replies()}
    return [c for c in commands if c["message"]["message_id"] in quoted]


# One reply per stranger, chat and ten minutes


async def test_a_stranger_in_a_group_is_answered_once_then_ignored(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    for command in (
        "/link 74.40 Hot Latte",
        "/links",
        "/status link_test_abc",
        "/cancel link_test_abc",
        "/multilink 5 Tip",
        "/help",
        "/start",
        "/link@linkbot_test_bot 1 Free coffee",
    ):
        await chat.send(command, user_id=CUSTOMER, chat=GROUP)
    [refusal] = replies_in(chat, GROUP)
    assert REFUSAL in refusal
    assert fake_omise.requests == []
    # The merchant, in the same group, is answered as ever.
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    await chat.send("/help", chat=GROUP)
    await chat.send("/help", chat=GROUP)
    assert len(replies_in(chat, GROUP)) == 4 and len(fake_omise.links) == 1


async def test_the_limit_is_per_chat_and_user(chat: Chat) -> None:
    sent = [
        await chat.send("/links", user_id=user_id, chat=where)
        for user_id, where in [(CUSTOMER, GROUP), (OTHER_CUSTOMER, GROUP), (CUSTOMER, OTHER_GROUP)]
        for _ in range(3)
    ]
    assert answered(chat, sent) == [sent[0], sent[3], sent[6]]
    assert all(REFUSAL in r["text"] for r in chat.replies())


async def test_a_stranger_is_answered_again_after_ten_minutes(chat: Chat, clock: Clock) -> None:
    await chat.send("/links", user_id=CUSTOMER, chat=GROUP)
    clock.advance(599)
    await chat.send("/links", user_id=CUSTOMER, chat=GROUP)
    assert len(chat.replies()) == 1
    clock.advance(1)
    await chat.send("/links", user_id=CUSTOMER, chat=GROUP)
    await chat.send("/links", user_id=CUSTOMER, chat=GROUP)
    assert len(chat.replies()) == 2


async def test_strangers_in_private_chats_are_answered_every_time(chat: Chat) -> None:
    for command in ("/link 74.40 Hot Latte", "/links", "/link 1 Tea", "/help", "/start"):
        await chat.send(command, user_id=CUSTOMER)
    texts = [r["text"] for r in chat.replies()]
    assert len(texts) == 5
    assert all(REFUSAL in t for t in texts[:3]) and all(NOT_AUTHORIZED_HELP in t for t in texts[3:])


async def test_help_in_a_group_is_throttled_for_strangers_only(chat: Chat) -> None:
    for command in ("/help", "/start", "/help@linkbot_test_bot", "/links"):
        await chat.send(command, user_id=CUSTOMER, chat=GROUP)
    [help_text] = replies_in(chat, GROUP)
    assert "made by the shop's team" in help_text and str(CUSTOMER) not in help_text
    for _ in range(3):
        await chat.send("/help", chat=GROUP)
    assert len(replies_in(chat, GROUP)) == 4


async def test_presses_on_cancel_always_get_their_alert(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_message = chat.last_message()
    [link_id] = fake_omise.links
    await chat.send(f"/cancel {link_id}", user_id=CUSTOMER, chat=GROUP)
    for _ in range(3):
        await chat.press(f"cancel:{link_id}", link_message, user_id=CUSTOMER)
    alerts = chat.telegram.sent("answerCallbackQuery")
    assert len(alerts) == 3 and all(a["show_alert"] and "authorized" in a["text"] for a in alerts)
    assert len(replies_in(chat, GROUP)) == 2  # the link, and one refusal
    assert not fake_omise.links[link_id]["deleted"]


async def test_strangers_together_get_at_most_five_replies_a_minute_in_a_group(
    chat: Chat, clock: Clock
) -> None:
    strangers = range(5001, 5008)
    first = [await chat.send("/links", user_id=u, chat=GROUP) for u in strangers]
    assert answered(chat, first) == first[:5]
    await chat.send("/links", user_id=5007, chat=OTHER_GROUP)  # another group has its own five
    assert len(replies_in(chat, OTHER_GROUP)) == 1
    clock.advance(60)
    again = [await chat.send("/links", user_id=u, chat=GROUP) for u in strangers]
    # Those not answered before are now; those answered stay ignored for ten minutes.
    assert answered(chat, again) == again[5:]
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)  # the merchant is never counted
    assert "link.omise.test" in chat.last_text()


# Memory


def test_strangers_are_forgotten_after_ten_minutes() -> None:
    clock = Clock()
    replies = StrangerReplies(clock=clock)
    for n in range(1000):
        replies.grant(-100 - n % 50, 5000 + n)
    assert len(replies) == 250  # five a group in the first minute
    clock.advance(600)
    assert replies.grant(-100, 5000)
    assert len(replies) == 1


def test_when_full_new_strangers_are_not_answered() -> None:
    clock = Clock()
    replies = StrangerReplies(capacity=3, clock=clock)
    assert all(replies.grant(-100 - n, 5000) for n in range(3))
    assert not replies.grant(-200, 5000)
    assert len(replies) == 3
    clock.advance(600)
    assert replies.grant(-200, 5000)


# The merchant never waits behind a stranger


class HeldReplies:
    """The fake Bot API, keeping every sendMessage whose text holds ``marker`` until released."""

    def __init__(self, telegram: fakes.FakeTelegram, marker: str) -> None:
        self.marker = marker
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self._forward = fakes.respx_handler(telegram)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = urllib.parse.unquote_plus(request.content.decode())
        if request.url.path.endswith("/sendMessage") and self.marker in body:
            self.reached.set()
            await self.release.wait()
        return self._forward(request)


@pytest.fixture
def held_refusals(
    fake_omise: fakes.FakeOmise, fake_telegram: fakes.FakeTelegram
) -> Iterator[HeldReplies]:
    held = HeldReplies(fake_telegram, REFUSAL)
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=OMISE_URL).mock(side_effect=fakes.respx_handler(fake_omise))
        router.route(url__startswith=TELEGRAM_URL).mock(side_effect=held)
        yield held


async def test_a_merchant_never_waits_behind_a_strangers_slow_update(
    settings: Settings,
    link_service: LinkService,
    held_refusals: HeldReplies,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    updates = [
        fakes.command_update("/link 1 Free coffee", user_id=CUSTOMER, chat=GROUP),
        fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP),
        fakes.command_update("/link 30 Iced Tea", user_id=MERCHANT, chat=GROUP),
    ]

    def titles() -> list[str]:
        return [m["text"].split("</b>")[0].removeprefix("<b>") for m in fake_telegram.messages]

    app: Application = build_application(settings, link_service, rate_limiter=None)  # type: ignore[type-arg]
    async with app:
        await app.start()  # the update queue and processor, as polling feeds them
        try:
            for data in updates:
                await app.update_queue.put(Update.de_json(data, app.bot))
            await eventually(held_refusals.reached.is_set, within=2, poll=0.005)
            # The stranger's update is stuck sending its refusal; the merchant's go ahead.
            await eventually(lambda: len(fake_telegram.messages) == 2, within=2, poll=0.005)
            assert titles() == ["Hot Latte", "Iced Tea"]
        finally:
            held_refusals.release.set()
            async with asyncio.timeout(5):
                await app.update_queue.join()
            await app.stop()
    assert titles()[2].startswith("⛔ " + REFUSAL)

"""The merchant's replies and notices go first; strangers' answers are bounded and go last.

Every message the bot sends spends its allowance with Telegram (about 30 a
second). A crowd of strangers starting private chats with the bot gets a
bounded number of answers, and those wait while any of the merchant's
messages waits for its turn.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application

from linkbot.bot import build_application
from linkbot.bot.app import CountingRateLimiter
from linkbot.bot.throttle import (
    PRIVATE_CHAT_REPLIES,
    PRIVATE_REPLIES,
    StrangerReplies,
    answering_stranger,
)
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from tests.conftest import MERCHANT, Clock

STRANGERS = range(700_001, 700_241)  # 240 of them


async def test_strangers_starting_the_bot_do_not_hold_up_the_merchants_link(
    settings: Settings,
    link_service: LinkService,
    mock_http: object,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    updates = [
        fakes.command_update("/start", user_id=user, chat=fakes.private_chat(user))
        for user in STRANGERS
    ]
    updates.append(
        fakes.command_update(
            "/link 74.40 Hot Latte", user_id=MERCHANT, chat=fakes.private_chat(MERCHANT)
        )
    )
    # Telegram's limits, as the bot runs with them.
    app: Application = build_application(settings, link_service)  # type: ignore[type-arg]
    async with app:
        await app.start()
        try:
            for data in updates:
                await app.update_queue.put(Update.de_json(data, app.bot))
            async with asyncio.timeout(30):
                await app.update_queue.join()
        finally:
            await app.stop()
    sent = [str(params["text"]) for params in fake_telegram.sent("sendMessage")]
    [link_reply] = [n for n, said in enumerate(sent) if "link.omise.test" in said]
    strangers_before = link_reply
    # The strangers' answers are bounded, and the merchant's link waited for
    # no more of them than went out before it was even made.
    assert len(sent) == PRIVATE_REPLIES + 1
    assert strangers_before < PRIVATE_REPLIES


async def test_a_strangers_reply_waits_while_a_merchants_message_waits() -> None:
    """Ten strangers' replies go at once; the rest wait until every merchant's message is out."""
    limiter = CountingRateLimiter(overall_max_rate=30, stranger_rate=10)
    order: list[str] = []

    async def send(name: str) -> bool:
        order.append(name)
        return True

    async def request(name: str, chat_id: int, *, stranger: bool) -> None:
        with answering_stranger(stranger):
            await limiter.process_request(
                send, (name,), {}, "sendMessage", {"chat_id": chat_id}, None
            )

    # The strangers first, then the merchant's thirty messages (a burst of links and notices).
    strangers = [asyncio.create_task(request(f"s{n}", n, stranger=True)) for n in range(25)]
    merchants = [asyncio.create_task(request(f"m{n}", MERCHANT, stranger=False)) for n in range(30)]
    async with asyncio.timeout(10):
        await asyncio.gather(*strangers, *merchants)
    assert order[:10] == [f"s{n}" for n in range(10)]
    assert order[10:40] == [f"m{n}" for n in range(30)]
    assert sorted(order[40:]) == sorted(f"s{n}" for n in range(10, 25))


def test_strangers_in_private_chats_are_answered_a_bounded_number_of_times() -> None:
    clock = Clock()
    replies = StrangerReplies(clock=clock)
    # One stranger: a few answers a minute.
    assert [replies.grant_private(5000) for _ in range(PRIVATE_CHAT_REPLIES + 1)] == [
        *[True] * PRIVATE_CHAT_REPLIES,
        False,
    ]
    # All strangers together: at most PRIVATE_REPLIES a minute.
    granted = [replies.grant_private(6000 + n) for n in range(100)]
    assert granted.count(True) == PRIVATE_REPLIES - PRIVATE_CHAT_REPLIES
    assert not any(granted[PRIVATE_REPLIES - PRIVATE_CHAT_REPLIES :])
    clock.advance(60)
    assert replies.grant_private(5000) and replies.grant_private(6099)

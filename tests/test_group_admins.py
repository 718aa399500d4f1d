"""LINKBOT_GROUP_ADMINS: a group's administrators manage that group's links, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx
from telegram import Update

from linkbot.bot import build_application
from linkbot.bot.access import Access
from linkbot.bot.app import PerChatUpdateProcessor
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from tests.conftest import GROUP, Chat, Clock, make_link, make_settings

STAFF = 4444
OTHER_GROUP = fakes.group_chat(-1009999999999)
REFUSAL = "Only the merchant's authorized users"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, linkbot_group_admins="true")


@pytest.fixture
def access(settings: Settings, clock: Clock) -> Access:
    return Access(settings.linkbot_allowed_users, group_admins=True, clock=clock)


def member_checks(chat: Chat) -> int:
    return len(chat.telegram.sent("getChatMember"))


def test_the_setting_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert make_settings(tmp_path).linkbot_group_admins is False
    assert make_settings(tmp_path, linkbot_group_admins="true").linkbot_group_admins is True


async def test_off_an_administrator_is_a_stranger(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    fake_omise: fakes.FakeOmise,
) -> None:
    fake_telegram.add_member(GROUP["id"], STAFF, "administrator")
    async with build_application(make_settings(tmp_path), link_service, rate_limiter=None) as app:
        chat = Chat(app, fake_telegram)
        await chat.send("/link 74.40 Hot Latte", user_id=STAFF, chat=GROUP)
    assert REFUSAL in chat.last_text()
    assert member_checks(chat) == 0 and fake_omise.requests == []


async def test_an_administrator_creates_lists_and_cancels_in_their_group(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    await chat.send("/link 74.40 Hot Latte", user_id=STAFF, chat=GROUP)
    reply = chat.last_reply()
    assert reply["chat_id"] == str(GROUP["id"]) and "<b>Hot Latte</b>" in reply["text"]
    [link_id] = list(fake_omise.links)

    await chat.send("/links", user_id=STAFF, chat=GROUP)
    assert "Hot Latte" in chat.last_text()
    await chat.send(f"/cancel {link_id}", user_id=STAFF, chat=GROUP)
    assert "is cancelled" in chat.last_text() and fake_omise.links[link_id]["deleted"]
    # One look at the member list for all three commands.
    assert member_checks(chat) == 1


async def test_help_tells_an_administrator_they_may(chat: Chat) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    await chat.send("/help", user_id=STAFF, chat=GROUP)
    assert "You may create and manage links" in chat.last_text()


async def test_the_groups_creator_may_and_a_member_may_not(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "creator")
    chat.telegram.add_member(GROUP["id"], 5555, "member")
    await chat.send("/link 74.40 Hot Latte", user_id=STAFF, chat=GROUP)
    assert "<b>Hot Latte</b>" in chat.last_text()
    await chat.send("/link 74.40 Hot Latte", user_id=5555, chat=GROUP)
    assert REFUSAL in chat.last_text()
    assert fake_omise.count("POST /links") == 1


async def test_never_in_a_private_chat(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    for text in ("/link 74.40 Hot Latte", "/links", "/status link_test_x"):
        await chat.send(text, user_id=STAFF)
        assert REFUSAL in chat.last_text()
    assert member_checks(chat) == 0 and fake_omise.requests == []


async def test_not_another_chats_links(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService
) -> None:
    other = await make_link(link_service, chat_id=OTHER_GROUP["id"])
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    chat.telegram.add_member(OTHER_GROUP["id"], STAFF, "member")
    for text in (f"/status {other.link_id}", f"/cancel {other.link_id}"):
        await chat.send(text, user_id=STAFF, chat=GROUP)
        assert "No link" in chat.last_text()
    await chat.send("/links", user_id=STAFF, chat=GROUP)
    assert chat.last_text().startswith("No links") and other.link_id not in chat.last_text()
    assert not fake_omise.links[other.link_id]["deleted"]
    # Administering one group opens nothing in another.
    await chat.send(f"/cancel {other.link_id}", user_id=STAFF, chat=OTHER_GROUP)
    assert REFUSAL in chat.last_text()


async def test_the_answer_is_kept_five_minutes(chat: Chat, clock: Clock) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    await chat.send("/links", user_id=STAFF, chat=GROUP)
    assert REFUSAL not in chat.last_text()
    chat.telegram.add_member(GROUP["id"], STAFF, "member")  # demoted
    clock.now += 299
    await chat.send("/links", user_id=STAFF, chat=GROUP)
    assert REFUSAL not in chat.last_text() and member_checks(chat) == 1
    clock.now += 2
    await chat.send("/links", user_id=STAFF, chat=GROUP)
    assert REFUSAL in chat.last_text() and member_checks(chat) == 2


async def test_telegram_failing_the_check_refuses(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    chat.telegram.fail(
        "getChatMember",
        status=400,
        body={"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    await chat.send("/link 74.40 Hot Latte", user_id=STAFF, chat=GROUP)
    assert REFUSAL in chat.last_text() and fake_omise.requests == []
    # Not remembered: the next command asks again.
    await chat.send("/link 74.40 Hot Latte", user_id=STAFF, chat=GROUP)
    assert "<b>Hot Latte</b>" in chat.last_text()


async def test_a_known_administrator_keeps_the_groups_order(chat: Chat) -> None:
    chat.telegram.add_member(GROUP["id"], STAFF, "administrator")
    processor = chat.app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    update = Update.de_json(fakes.command_update("/links", user_id=STAFF, chat=GROUP), chat.app.bot)
    assert processor._queue_of(update) is None  # not yet known: handled as a stranger's
    await chat.feed(fakes.command_update("/links", user_id=STAFF, chat=GROUP))
    assert processor._queue_of(update) == GROUP["id"]

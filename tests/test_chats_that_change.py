"""Chats move on without the bot: messages deleted, the bot removed or blocked, groups upgraded.

The real Application and the watcher, with the fake Telegram behaving as
Telegram does: replies to deleted messages refused unless
``allow_sending_without_reply`` is set, 403 in chats the bot was removed
from, and 400 with ``migrate_to_chat_id`` in a group that became a supergroup.
"""

from __future__ import annotations

import pytest

from linkbot.bot.handlers import resume_unfinished, services
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import GROUP, MERCHANT, Chat

OLD_GROUP = {"id": -4001, "type": "group", "title": "Café Nok"}
SUPERGROUP = {"id": -1004001, "type": "supergroup", "title": "Café Nok"}


def watcher_for(chat: Chat, omise: OmiseClient, store: Store, settings: Settings) -> PaymentWatcher:
    return PaymentWatcher(omise, store, TelegramAnnouncer(chat.app.bot, store, settings.timezone))


def link_id_of(fake_omise: fakes.FakeOmise) -> str:
    return next(reversed(fake_omise.links))


# A command message deleted before the reply


async def test_link_reply_to_a_deleted_command_still_arrives(
    chat: Chat, fake_omise: fakes.FakeOmise, fake_telegram: fakes.FakeTelegram, store: Store
) -> None:
    fake_telegram.delete_message(GROUP["id"], 4242)  # a clean-up bot was quicker
    await chat.send("/link 74.40 Hot Latte", chat=GROUP, message_id=4242)
    [reply] = fake_telegram.messages
    assert link_id_of(fake_omise) in reply["text"]
    [sent] = chat.replies()
    assert sent["reply_parameters"] == {"message_id": 4242, "allow_sending_without_reply": True}
    record = await store.links.get_link(link_id_of(fake_omise))
    assert record is not None and record.message_id == reply["message_id"]


@pytest.mark.parametrize("command", ["/links", "/link 74.40", "/status link_test_nope"])
async def test_answers_to_a_deleted_command_still_arrive(
    chat: Chat, fake_telegram: fakes.FakeTelegram, command: str
) -> None:
    fake_telegram.delete_message(GROUP["id"], 4343)
    await chat.send(command, chat=GROUP, message_id=4343)
    [answer] = fake_telegram.messages
    assert answer["text"]
    assert chat.last_reply()["reply_parameters"]["allow_sending_without_reply"] is True


async def test_a_notice_for_a_deleted_link_message_still_arrives(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_message = chat.last_message()
    fake_telegram.delete_message(GROUP["id"], link_message["message_id"])
    fake_omise.pay(link_id_of(fake_omise))
    report = await watcher_for(chat, omise, store, settings).run_pass()
    assert report.announced == 1
    assert "was paid" in fake_telegram.messages[-1]["text"]


# The bot removed from a group, or blocked


async def test_a_link_reply_to_a_closed_chat_goes_to_its_creator(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    fake_telegram.forbid(GROUP["id"])  # removed between the command and the reply
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [private] = fake_telegram.messages
    assert private["chat"]["id"] == MERCHANT
    assert "I could not post this link in the chat where you asked for it" in private["text"]
    assert link_id_of(fake_omise) in private["text"]
    assert await store.chats.forbidden_since(GROUP["id"]) is not None
    # Recorded as answered: a restart does not send it again.
    record = await store.links.get_link(link_id_of(fake_omise))
    assert record is not None and record.message_chat_id == MERCHANT
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert len(fake_telegram.messages) == 1


async def test_notices_for_a_closed_chat_go_to_the_creator_once(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/multilink 150 Donation", chat=GROUP)
    watcher = watcher_for(chat, omise, store, settings)
    await watcher.run_pass()
    fake_telegram.forbid(GROUP["id"])
    link_id = link_id_of(fake_omise)
    fake_omise.pay(link_id)
    report = await watcher.run_pass()
    assert report.announced == 1 and report.failed_announcements == 0
    fake_omise.pay(link_id)
    for _ in range(3):
        await watcher.run_pass()
    group_tries = [m for m in chat.replies() if m["chat_id"] == str(GROUP["id"])]
    assert len(group_tries) == 2  # the link reply, and one notice that met the 403
    private = [m for m in fake_telegram.messages if m["chat"]["id"] == MERCHANT]
    assert len(private) == 2
    assert "I can no longer post in the chat where this link was made" in private[0]["text"]
    assert "Payment 2; ฿300.00 in all" in private[1]["text"]


async def test_the_creator_blocked_too(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    fake_telegram.forbid(GROUP["id"])
    fake_telegram.forbid(MERCHANT)
    fake_omise.pay(link_id_of(fake_omise))
    watcher = watcher_for(chat, omise, store, settings)
    for _ in range(3):
        await watcher.run_pass()
    # One try in each place, then nothing more: no retry can help until a person acts.
    assert len(chat.replies()) == 3
    assert await store.charges.unannounced_charges() == []


async def test_a_chat_that_writes_again_is_reopened(
    chat: Chat, fake_omise: fakes.FakeOmise, fake_telegram: fakes.FakeTelegram, store: Store
) -> None:
    fake_telegram.forbid(GROUP["id"])
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    fake_telegram.forbidden.clear()  # the bot was added back
    await chat.send("/link 30 Tea", chat=GROUP)
    assert await store.chats.forbidden_since(GROUP["id"]) is None
    assert fake_telegram.messages[-1]["chat"]["id"] == GROUP["id"]


# A group upgraded to a supergroup


async def test_a_group_upgraded_to_a_supergroup(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=OLD_GROUP)
    link_id = link_id_of(fake_omise)
    await chat.feed(fakes.migrate_to_update(OLD_GROUP["id"], SUPERGROUP["id"]))
    await chat.feed(fakes.migrate_from_update(OLD_GROUP["id"], SUPERGROUP["id"]))
    record = await store.links.get_link(link_id)
    assert record is not None and record.chat_id == SUPERGROUP["id"]

    await chat.send("/links", chat=SUPERGROUP)
    assert link_id in chat.last_text()
    await chat.send(f"/status {link_id}", chat=SUPERGROUP)
    assert "Hot Latte" in chat.last_text()

    fake_omise.pay(link_id)
    await watcher_for(chat, omise, store, settings).run_pass()
    notice = chat.last_reply()
    assert notice["chat_id"] == str(SUPERGROUP["id"]) and "was paid" in notice["text"]
    assert "reply_parameters" not in notice  # its message is in the old group
    assert fake_telegram.sent("editMessageText") == []

    await chat.send(f"/cancel {link_id}", chat=SUPERGROUP)
    assert "already been paid" in chat.last_text()


async def test_a_migration_learned_from_a_refused_send(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=OLD_GROUP)
    link_id = link_id_of(fake_omise)
    # The service messages never reached the bot; Telegram's refusal says where it went.
    fake_telegram.migrated[str(OLD_GROUP["id"])] = SUPERGROUP["id"]
    fake_omise.pay(link_id)
    report = await watcher_for(chat, omise, store, settings).run_pass()
    assert report.announced == 1
    assert fake_telegram.messages[-1]["chat"]["id"] == SUPERGROUP["id"]
    assert await store.chats.migrated_to(OLD_GROUP["id"]) == SUPERGROUP["id"]
    record = await store.links.get_link(link_id)
    assert record is not None and record.chat_id == SUPERGROUP["id"]


async def test_a_private_chat_blocked_then_unblocked_gets_its_notices_again(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/multilink 150 Donation")
    watcher = watcher_for(chat, omise, store, settings)
    await watcher.run_pass()
    link_id = link_id_of(fake_omise)
    fake_telegram.forbid(MERCHANT)
    fake_omise.pay(link_id)
    await watcher.run_pass()
    fake_telegram.forbidden.clear()  # unblocked; the bot is told nothing
    fake_omise.pay(link_id)
    await watcher.run_pass()
    assert "Payment 2; ฿300.00 in all" in fake_telegram.messages[-1]["text"]


async def test_a_group_that_adds_the_bot_back_gets_its_notices_again(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    await chat.send("/multilink 150 Donation", chat=GROUP)
    watcher = watcher_for(chat, omise, store, settings)
    await watcher.run_pass()
    await chat.feed(fakes.bot_membership_update(GROUP, "kicked"))
    assert await store.chats.forbidden_since(GROUP["id"]) is not None
    fake_omise.pay(link_id_of(fake_omise))
    await watcher.run_pass()
    assert fake_telegram.messages[-1]["chat"]["id"] == MERCHANT  # told privately
    await chat.feed(fakes.bot_membership_update(GROUP, "member"))  # added back
    fake_omise.pay(link_id_of(fake_omise))
    await watcher.run_pass()
    assert fake_telegram.messages[-1]["chat"]["id"] == GROUP["id"]

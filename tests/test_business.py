"""Telegram Business: the merchant's own chats with customers, through the real Application."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import respx
from telegram import Update

from linkbot.bot import build_application
from linkbot.bot.app import ALLOWED_UPDATES
from linkbot.bot.handlers import resume_unfinished, services
from linkbot.commands import parse_link
from linkbot.config import Settings
from linkbot.links import LinkService, command_key
from linkbot.money import CURRENCIES
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import CommandRecord, Store
from tests.conftest import (
    CUSTOMER,
    GROUP,
    MERCHANT,
    Chat,
    link_service_over_http,
    make_link,
    make_settings,
)

CONNECTION = "bconn-Q1w2E3r4"
STRANGER = 3333


async def connect(chat: Chat, owner: int = MERCHANT, **rights: Any) -> None:
    await chat.feed(chat.telegram.connect_business(owner, **rights))


async def customer_says(chat: Chat, text: str = "Hi, one hot latte please") -> dict[str, Any]:
    update = chat.telegram.business_message(text, sender=CUSTOMER, customer=CUSTOMER)
    await chat.feed(update)
    return update


async def merchant_says(chat: Chat, text: str, **kwargs: Any) -> dict[str, Any]:
    update = chat.telegram.business_message(text, sender=MERCHANT, customer=CUSTOMER, **kwargs)
    await chat.feed(update)
    return update


def in_business_chat(chat: Chat) -> list[dict[str, Any]]:
    return [r for r in chat.replies() if r.get("business_connection_id") == CONNECTION]


def private_to(chat: Chat, user_id: int) -> list[str]:
    return [
        str(r["text"])
        for r in chat.replies()
        if r["chat_id"] == str(user_id) and "business_connection_id" not in r
    ]


def test_business_updates_are_asked_of_telegram() -> None:
    assert {"business_connection", "business_message", "edited_business_message"} <= set(
        ALLOWED_UPDATES
    )


async def test_merchant_link_goes_into_the_chat_and_the_command_is_deleted(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store
) -> None:
    await connect(chat)
    assert private_to(chat, MERCHANT)[-1].startswith("✅ Connected to your Telegram Business")
    await customer_says(chat)
    command = await merchant_says(chat, "/link 74.40 Hot Latte")

    [sent] = in_business_chat(chat)
    assert sent["chat_id"] == str(CUSTOMER)
    assert "<b>Hot Latte</b>" in sent["text"] and "฿74.40" in sent["text"]
    # The customer gets the Pay and Copy buttons, nothing to cancel.
    buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert [("url" in b, "copy_text" in b) for b in buttons] == [(True, False), (False, True)]
    assert fake_omise.count("POST /links") == 1
    [deleted] = chat.telegram.sent("deleteBusinessMessages")
    assert deleted["business_connection_id"] == CONNECTION
    assert deleted["message_ids"] == [command["business_message"]["message_id"]]

    [link_id] = list(fake_omise.links)
    record = await store.links.get_link(link_id)
    assert record is not None
    assert (record.chat_id, record.business_connection_id) == (CUSTOMER, CONNECTION)
    assert record.message_id == chat.telegram.messages[-1]["message_id"]


async def test_command_stays_when_the_bot_may_not_delete(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat, can_delete_all=False)
    assert "also allow me to delete messages" in private_to(chat, MERCHANT)[-1]
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    assert len(in_business_chat(chat)) == 1
    assert chat.telegram.sent("deleteBusinessMessages") == []


async def test_a_customers_commands_get_no_answer_at_all(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat)
    before = len(chat.telegram.calls)
    for text in (
        "/link 74.40 Hot Latte",
        "/multilink 5 Tip",
        "/links",
        "/cancel link_x",
        "/qr",
        "/start access",
        "/start",
        "/help",
    ):
        await customer_says(chat, text)
    assert chat.telegram.calls[before:] == []
    assert fake_omise.requests == []


async def test_an_owner_who_is_not_authorized_is_told_once_and_ignored(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat, owner=STRANGER)
    [told] = private_to(chat, STRANGER)
    assert "not authorized" in told and str(STRANGER) in told
    before = len(chat.telegram.calls)
    await chat.feed(
        chat.telegram.business_message("/link 74.40 Latte", sender=CUSTOMER, customer=CUSTOMER)
    )
    await chat.feed(
        chat.telegram.business_message("/link 74.40 Latte", sender=STRANGER, customer=CUSTOMER)
    )
    assert chat.telegram.calls[before:] == []
    assert fake_omise.requests == []


async def test_repeated_delivery_edit_and_restart_make_one_link(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    settings: Settings,
    link_service: LinkService,
    mock_http: respx.MockRouter,
) -> None:
    await connect(chat)
    await customer_says(chat)
    command = await merchant_says(chat, "/link 74.40 Hot Latte")
    await chat.feed(command)
    edited = {
        "update_id": command["update_id"] + 1,
        "edited_business_message": {**command["business_message"], "edit_date": int(time.time())},
    }
    await chat.feed(edited)
    async with build_application(settings, link_service, rate_limiter=None) as app:
        await Chat(app, chat.telegram).feed(command)
    assert fake_omise.count("POST /links") == 1
    assert len(in_business_chat(chat)) == 1


async def test_same_message_id_in_a_private_chat_is_another_command(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    """A business chat has the customer's id and the merchant's message ids: no key clash."""
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte", message_id=4242)
    await chat.send("/link 74.40 Hot Latte", chat=fakes.private_chat(CUSTOMER), user_id=MERCHANT)
    await chat.send("/link 74.40 Hot Latte", chat=fakes.private_chat(CUSTOMER), message_id=4242)
    assert fake_omise.count("POST /links") == 3


async def test_links_status_and_cancel_are_scoped_to_the_business_chat(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService, store: Store
) -> None:
    group_link = await make_link(link_service, "30 Other cake", chat_id=GROUP["id"])
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    link_message = chat.telegram.messages[-1]
    [link_id] = [i for i in fake_omise.links if i != group_link.link_id]

    await merchant_says(chat, "/links")
    listing = private_to(chat, MERCHANT)[-1]
    assert "Hot Latte" in listing and "cake" not in listing

    await merchant_says(chat, f"/status {group_link.link_id}")
    assert "No link" in private_to(chat, MERCHANT)[-1]
    await merchant_says(chat, f"/cancel {group_link.link_id}")
    assert "No link" in private_to(chat, MERCHANT)[-1]
    assert not fake_omise.links[group_link.link_id]["deleted"]

    update = chat.telegram.business_message("/cancel", sender=MERCHANT, customer=CUSTOMER)
    update["business_message"]["reply_to_message"] = link_message
    await chat.feed(update)
    assert "is cancelled" in private_to(chat, MERCHANT)[-1]
    assert fake_omise.links[link_id]["deleted"]
    [edit] = chat.telegram.sent("editMessageText")
    assert edit["business_connection_id"] == CONNECTION
    assert edit["chat_id"] == str(CUSTOMER)
    assert edit["message_id"] == str(link_message["message_id"])
    # Nothing but the link message itself was ever posted in the customer's chat.
    assert len(in_business_chat(chat)) == 1


async def test_qr_goes_into_the_business_chat(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    [link_id] = list(fake_omise.links)
    await merchant_says(chat, f"/qr {link_id}")
    [photo] = chat.telegram.sent("sendPhoto")
    assert (photo["chat_id"], photo["business_connection_id"]) == (str(CUSTOMER), CONNECTION)
    assert "reply_parameters" not in photo  # the command it would quote is deleted


async def test_without_the_reply_right_the_merchant_is_told(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat, can_reply=False)
    assert "may not reply" in private_to(chat, MERCHANT)[-1]
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    assert "Reply to messages" in private_to(chat, MERCHANT)[-1]
    assert in_business_chat(chat) == [] and fake_omise.requests == []


async def test_a_disabled_connection_tells_the_merchant(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat)
    await connect(chat, enabled=False)
    assert "no longer connected" in private_to(chat, MERCHANT)[-1]
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    assert "switched off or was removed" in private_to(chat, MERCHANT)[-1]
    assert in_business_chat(chat) == [] and fake_omise.requests == []


async def test_rights_taken_away_after_connecting_are_told_with_the_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    """Telegram's refusal, not only the stored rights, reaches the merchant."""
    await connect(chat)
    await customer_says(chat)
    # Telegram's side changes, and its update is lost.
    chat.telegram.business[CONNECTION]["rights"] = {}
    await merchant_says(chat, "/link 74.40 Hot Latte")
    [told] = private_to(chat, MERCHANT)[-1:]
    assert "may not reply" in told and "Hot Latte" in told


async def test_the_24_hour_window_gives_the_merchant_the_link_privately(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store
) -> None:
    await connect(chat)
    stale = time.time() - 25 * 3600
    await chat.feed(
        chat.telegram.business_message("Hello", sender=CUSTOMER, customer=CUSTOMER, at=stale)
    )
    await merchant_says(chat, "/link 74.40 Hot Latte")
    told = private_to(chat, MERCHANT)[-1]
    assert "24 hours" in told and "Hot Latte" in told and "link.omise.test" in told
    assert [m for m in chat.telegram.messages if "business_connection_id" in m] == []
    # The link is answered: a repeat of the command does not make another.
    [link_id] = list(fake_omise.links)
    record = await store.links.get_link(link_id)
    assert record is not None and record.message_id is not None


async def test_a_connection_made_before_the_bot_kept_them_is_asked_of_telegram(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    chat.telegram.connect_business(MERCHANT)  # the update went to an earlier release
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    assert len(chat.telegram.sent("getBusinessConnection")) == 1
    assert len(in_business_chat(chat)) == 1
    await merchant_says(chat, "/links")
    assert len(chat.telegram.sent("getBusinessConnection")) == 1


async def test_paid_notice_edits_the_business_message_and_tells_the_merchant(
    chat: Chat, fake_omise: fakes.FakeOmise, watcher: PaymentWatcher, store: Store
) -> None:
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    link_message = chat.telegram.messages[-1]
    [link_id] = list(fake_omise.links)
    await watcher.run_pass()
    fake_omise.pay(link_id)
    await watcher.run_pass()

    [edit] = chat.telegram.sent("editMessageText")
    assert edit["business_connection_id"] == CONNECTION
    assert edit["message_id"] == str(link_message["message_id"])
    assert "✅ Paid ฿74.40" in edit["text"]
    told = private_to(chat, MERCHANT)[-1]
    assert "In your chat with a customer" in told and "was paid" in told
    assert len(in_business_chat(chat)) == 1
    # No daily summary goes to the customer's own chat with the bot.
    ever = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert CUSTOMER not in await store.reports.chats_with_payments(*ever)


async def test_a_link_made_before_a_crash_is_posted_in_the_business_chat_after_restart(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService, store: Store
) -> None:
    await connect(chat)
    await customer_says(chat)
    # The previous process made the link and died before posting it.
    created = await link_service.create(
        parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"], multiple=False),
        chat_id=CUSTOMER,
        message_id=9001,
        creator_id=MERCHANT,
        business_connection_id=CONNECTION,
    )
    assert created is not None and not created.answered
    await resume_unfinished(chat.app.bot, services(chat.app))
    [sent] = in_business_chat(chat)
    assert sent["chat_id"] == str(CUSTOMER) and "Hot Latte" in sent["text"]
    record = await store.links.get_link(created.record.link_id)
    assert record is not None and record.editable_message_id is not None
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert len(in_business_chat(chat)) == 1


async def test_a_failed_business_command_after_restart_is_told_privately(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService, store: Store
) -> None:
    await connect(chat)
    command = CommandRecord(
        key=command_key(CUSTOMER, 9002, CONNECTION),
        chat_id=CUSTOMER,
        message_id=9002,
        user_id=MERCHANT,
        amount=7440,
        currency="THB",
        title="Hot Latte",
        description="Hot Latte",
        multiple=False,
        received_at=datetime.now(UTC),
        business_connection_id=CONNECTION,
    )
    assert await store.commands.claim_command(command) is None  # then the process died
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert fake_omise.count("POST /links") == 0
    assert "no link was created" in private_to(chat, MERCHANT)[-1]
    assert in_business_chat(chat) == []
    assert not [r for r in chat.replies() if r["chat_id"] == str(CUSTOMER)]


async def test_a_lost_create_answer_is_adopted_and_errors_stay_out_of_the_chat(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat)
    await customer_says(chat)
    fake_omise.fail("POST /links", apply=True, drop=True)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    [link] = fake_omise.links.values()
    [sent] = in_business_chat(chat)
    assert f"<code>{link['id']}</code>" in sent["text"]

    await merchant_says(chat, "/link 5 Candy")  # below Omise's minimum
    assert "Omise refused" in private_to(chat, MERCHANT)[-1]
    await merchant_says(chat, "/link lots")
    assert private_to(chat, MERCHANT)[-1] != private_to(chat, MERCHANT)[-2]
    assert len(in_business_chat(chat)) == 1
    assert fake_omise.count("POST /links") == 2


async def test_commands_in_a_business_chat_are_answered_in_order(tmp_path: Path) -> None:
    """Slow Omise answers do not reorder one business chat's links (real HTTP fakes)."""
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=0.3)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        settings = make_settings(tmp_path, telegram_api_url=telegram_url, omise_api_url=omise_url)
        async with (
            link_service_over_http(settings) as service,
            build_application(settings, service, rate_limiter=None) as app,
        ):
            await Chat(app, telegram).feed(telegram.connect_business(MERCHANT))
            updates = [
                telegram.business_message(text, sender=sender, customer=CUSTOMER)
                for text, sender in [
                    ("Hi", CUSTOMER),
                    ("/link 30 Order 0", MERCHANT),
                    ("/link 1 too little", CUSTOMER),
                    ("/link 31 Order 1", MERCHANT),
                    ("/link 32 Order 2", MERCHANT),
                ]
            ]
            parsed = [Update.de_json(u, app.bot) for u in updates]
            await asyncio.gather(
                *(app.update_processor.process_update(u, app.process_update(u)) for u in parsed)
            )
    posted = [m["text"] for m in telegram.messages if m.get("business_connection_id")]
    assert [t.split("</b>")[0] for t in posted] == [f"<b>Order {n}" for n in range(3)]
    assert len(omise.links) == 3


async def test_qr_and_cancel_answer_a_reply_to_the_private_copy_of_a_business_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    """The link Telegram would not post for the merchant is theirs to use in private."""
    await connect(chat)
    stale = time.time() - 25 * 3600
    await chat.feed(
        chat.telegram.business_message("Hello", sender=CUSTOMER, customer=CUSTOMER, at=stale)
    )
    await merchant_says(chat, "/link 74.40 Hot Latte")
    copy = chat.last_message()
    assert copy["chat"]["id"] == MERCHANT and "24 hours" in copy["text"]
    [link_id] = list(fake_omise.links)

    await chat.send("/qr", reply_to=copy)
    [photo] = chat.telegram.sent("sendPhoto")
    assert photo["chat_id"] == str(MERCHANT) and "business_connection_id" not in photo
    await chat.send("/cancel", reply_to=copy)
    assert "is cancelled" in chat.last_text()
    assert fake_omise.links[link_id]["deleted"]


async def test_a_customer_s_own_chat_does_not_reach_a_business_link_by_message_id(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    """The business chat and the customer's chat with the bot share a chat id, not messages."""
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/link 74.40 Hot Latte")
    [posted] = in_business_chat(chat)
    link_message = chat.telegram.messages[-1]
    assert posted["chat_id"] == str(CUSTOMER)
    # The same chat and message id, but in the customer's chat with the bot,
    # as an authorized user who happens to be that customer would see it.
    not_the_link = {**link_message}
    not_the_link.pop("business_connection_id", None)
    await chat.send(
        "/cancel", chat=fakes.private_chat(CUSTOMER), user_id=MERCHANT, reply_to=not_the_link
    )
    assert "not a link I created" in chat.last_text()
    assert not any(link["deleted"] for link in fake_omise.links.values())


async def test_an_edited_business_command_is_answered_privately_and_not_carried_out(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await connect(chat, can_delete_all=False)
    await customer_says(chat)
    command = await merchant_says(chat, "/link 5 Tiny")  # refused by Omise: below the minimum
    for edited_text in ("/link 50 Tiny", "/links", "/qr", "/cancel", "/status"):
        before = len(private_to(chat, MERCHANT))
        edited = {
            **command["business_message"],
            "text": edited_text,
            "entities": [
                {"offset": 0, "length": len(edited_text.split()[0]), "type": "bot_command"}
            ],
            "edit_date": int(time.time()),
        }
        await chat.feed(
            {"update_id": command["update_id"] + 1000, "edited_business_message": edited}
        )
        told = private_to(chat, MERCHANT)
        assert len(told) == before + 1, edited_text
        assert "do not carry out edited commands" in told[-1]
    assert fake_omise.count("POST /links") == 1
    assert in_business_chat(chat) == []


async def test_a_business_chat_s_list_pages_within_that_chat_and_names_the_customer(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService
) -> None:
    await make_link(link_service, "30 Private cake", chat_id=MERCHANT)
    await connect(chat)
    await customer_says(chat)
    await merchant_says(chat, "/links")
    assert "No links have been created in your chat with Nok yet" in chat.last_text()
    for n in range(11):
        await merchant_says(chat, f"/link {20 + n} Order {n}")
    await merchant_says(chat, "/links")
    listing = chat.last_reply()
    assert listing["chat_id"] == str(MERCHANT) and "business_connection_id" not in listing
    assert "Links from your chat with Nok" in listing["text"]
    assert "(1–10 of 11)" in listing["text"]
    [[older]] = listing["reply_markup"]["inline_keyboard"]
    assert len(older["callback_data"].encode()) <= 64

    await chat.press(older["callback_data"], chat.last_message())
    [page] = chat.telegram.sent("editMessageText")
    assert "(11–11 of 11)" in page["text"] and "Order 0" in page["text"]
    assert "cake" not in page["text"] and f"customer <code>{CUSTOMER}</code>" in page["text"]
    [[newer]] = page["reply_markup"]["inline_keyboard"]
    assert newer["callback_data"] == older["callback_data"].replace("links:1:", "links:0:", 1)
    # Not a business chat of any connection: the button says it is stale.
    await chat.press(f"links:1:{GROUP['id']}:0123456789abcdef", chat.last_message())
    assert len(chat.telegram.sent("editMessageText")) == 1

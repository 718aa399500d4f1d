"""Inline mode through the real Application: queries, chosen results, the inline message."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot

from linkbot.bot import inline
from linkbot.bot.app import ALLOWED_UPDATES, build_application
from linkbot.bot.handlers import resume_unfinished, services
from linkbot.commands import parse_link
from linkbot.links import LinkService, Origin
from linkbot.money import CURRENCIES
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import CommandRecord, LinkStatus, Store
from tests.conftest import (
    CUSTOMER,
    GROUP,
    MERCHANT,
    Chat,
    link_service_over_http,
    make_link,
    make_settings,
)


async def offer(chat: Chat, query: str, *, user_id: int = MERCHANT) -> dict[str, object]:
    """Type ``@bot <query>`` and return the one result offered."""
    await chat.type_inline(query, user_id=user_id)
    [result] = chat.telegram.inline_results()
    return result


def inline_message(chat: Chat) -> tuple[str, dict[str, object]]:
    [(inline_message_id, message)] = chat.telegram.inline_messages.items()
    return inline_message_id, message


async def test_the_bot_asks_telegram_for_inline_updates() -> None:
    assert "inline_query" in ALLOWED_UPDATES and "chosen_inline_result" in ALLOWED_UPDATES


async def test_a_query_previews_the_link_and_creates_nothing(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    # One query per keystroke, as Telegram sends them.
    for typed in ("7", "74.40 thb Hot", "74.40 thb Hot Latte | Oat milk"):
        await chat.type_inline(typed)
    answer = chat.telegram.inline_answers[-1]
    assert (answer["cache_time"], answer["is_personal"]) == (0, True)
    [result] = answer["results"]
    assert result["title"] == "Create payment link — Hot Latte · ฿74.40"
    assert result["description"] == "Oat milk"
    assert result["id"].startswith("new:")
    assert "Creating payment link…" in result["input_message_content"]["message_text"]
    # Telegram says what to do when inline feedback is off, in the posted message itself.
    assert "/setinlinefeedback" in result["input_message_content"]["message_text"]
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "inline:wait"
    assert fake_omise.requests == []
    assert len(chat.telegram.inline_answers) == 3


async def test_a_result_without_description_says_when_it_is_created(chat: Chat) -> None:
    result = await offer(chat, "74.40 Hot & Latte")
    assert result["title"] == "Create payment link — Hot & Latte · ฿74.40"
    assert result["description"] == "One-time link, created when you send it"


async def test_choosing_creates_one_link_and_edits_the_inline_message(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store
) -> None:
    result = await offer(chat, "74.40 thb Hot Latte")
    await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    assert (link["amount"], link["currency"], link["title"]) == (7440, "THB", "Hot Latte")
    inline_message_id, message = inline_message(chat)
    assert message["text"] == (
        f"<b>Hot Latte</b>\n฿74.40 · one-time\n"
        f'<a href="{link["payment_uri"]}">{link["payment_uri"]}</a>\n<code>{link["id"]}</code>'
    )
    assert message["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Pay ฿74.40", "url": link["payment_uri"]}],
            [
                {"text": "Copy link", "copy_text": {"text": link["payment_uri"]}},
                {"text": "Cancel link", "callback_data": f"cancel:{link['id']}"},
            ],
        ]
    }
    record = await store.links.get_link(link["id"])
    assert record is not None
    # The link belongs to its creator's private chat: the bot may not be in the other one.
    assert (record.chat_id, record.creator_id, record.message_id) == (MERCHANT, MERCHANT, None)
    assert record.inline_message_id == inline_message_id
    assert chat.replies() == []  # nothing posted anywhere else


async def test_a_repeated_choice_still_makes_one_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    edits = len(chat.telegram.sent("editMessageText"))
    await chat.feed({"update_id": 1, "chosen_inline_result": chosen})
    await chat.feed({"update_id": 2, "chosen_inline_result": chosen})
    assert fake_omise.count("POST /links") == 1 and len(fake_omise.links) == 1
    assert len(chat.telegram.sent("editMessageText")) == edits


async def test_the_same_query_sent_twice_makes_two_links(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    # Two posts are two sales: each answer has its own result id.
    first = await offer(chat, "74.40 Hot Latte")
    second = await offer(chat, "74.40 Hot Latte")
    assert first["id"] != second["id"]
    await chat.choose(str(first["id"]))
    await chat.choose(str(second["id"]))
    assert len(fake_omise.links) == 2


async def test_a_lost_omise_answer_is_reconciled_without_a_second_create(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    fake_omise.fail("POST /links", drop=True, apply=True)
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    _, message = inline_message(chat)
    assert f"<code>{link['id']}</code>" in str(message["text"])
    await chat.feed({"update_id": 3, "chosen_inline_result": chosen})
    assert fake_omise.count("POST /links") == 1


async def test_a_create_that_failed_says_so_in_the_inline_message(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    fake_omise.fail("POST /links", status=503)
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    _, message = inline_message(chat)
    # Customers may be in that chat: they read a neutral line; the creator, privately, why.
    assert message["text"] == "⚠️ Could not create this payment link."
    assert message["reply_markup"] is None
    told = chat.last_reply()
    assert told["chat_id"] == str(MERCHANT) and "no link was created" in told["text"]
    await chat.feed({"update_id": 4, "chosen_inline_result": chosen})
    assert fake_omise.count("POST /links") == 1 and fake_omise.links == {}


async def test_a_restart_mid_create_resumes_into_the_inline_message(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, link_service: LinkService
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    inline_update = chat.telegram.post_inline_result(str(result["id"]))
    chosen = inline_update["chosen_inline_result"]
    # The process claimed the result and asked Omise, then died.
    origin = Origin.inline(
        chosen["result_id"], user_id=MERCHANT, inline_message_id=chosen["inline_message_id"]
    )
    request = parse_link("74.40 Hot Latte", default_currency=CURRENCIES["THB"])
    command = CommandRecord(
        key=origin.key,
        chat_id=origin.chat_id,
        message_id=None,
        inline_message_id=origin.inline_message_id,
        user_id=MERCHANT,
        amount=request.amount,
        currency="THB",
        title=request.title,
        description=request.description,
        multiple=False,
        received_at=datetime.now(UTC),
    )
    assert await store.commands.claim_command(command) is None
    made = fake_omise.add_link()
    await resume_unfinished(chat.app.bot, services(chat.app))
    _, message = inline_message(chat)
    assert f"<code>{made['id']}</code>" in str(message["text"])
    record = await store.links.get_link(made["id"])
    assert record is not None and record.inline_message_id == chosen["inline_message_id"]
    # Telegram delivers the choice again after the restart: nothing new.
    await chat.feed(inline_update)
    assert fake_omise.count("POST /links") == 0 and len(fake_omise.links) == 1
    assert chat.replies() == []


async def test_an_unauthorized_user_gets_only_the_access_button(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.type_inline("74.40 Hot Latte", user_id=CUSTOMER)
    [answer] = chat.telegram.inline_answers
    assert answer["results"] == []
    assert answer["button"] == {
        "text": "Not authorized? Get access",
        "start_parameter": "access",
    }
    assert (answer["cache_time"], answer["is_personal"]) == (0, True)
    # The button opens a private chat with /start access.
    await chat.send("/start access", user_id=CUSTOMER)
    text = chat.last_text()
    assert "inline mode" in text and f"<code>{CUSTOMER}</code>" in text
    assert "LINKBOT_ALLOWED_USERS" in text
    assert fake_omise.requests == []


async def test_a_result_chosen_after_access_was_withdrawn_creates_nothing(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    services(chat.app).access.allowed_users = frozenset()
    await chat.choose(str(result["id"]))
    _, message = inline_message(chat)
    assert message["text"] == "⚠️ Could not create this payment link."
    told = chat.last_reply()
    assert told["chat_id"] == str(MERCHANT)
    assert "Only the merchant's authorized users" in told["text"]
    assert fake_omise.requests == []


async def test_a_refused_key_is_told_to_the_creator_not_to_the_inline_chat(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    fake_omise.fail(
        "POST /links",
        status=401,
        body={"object": "error", "code": "authentication_failure", "message": "bad key"},
    )
    result = await offer(chat, "74.40 Hot Latte")
    await chat.choose(str(result["id"]))
    _, message = inline_message(chat)
    assert "OMISE_SECRET_KEY" not in str(message["text"])
    assert message["text"] == "⚠️ Could not create this payment link."
    told = chat.last_reply()
    assert told["chat_id"] == str(MERCHANT) and "OMISE_SECRET_KEY" in told["text"]


@pytest.mark.parametrize(
    ("typed", "explained"),
    [
        ("", "Type an amount and a title after my name"),
        ("Hot Latte", "Type an amount and a title after my name"),
        ("74.4.0 Hot Latte", "is not an amount"),
        ("74.40", "Add a title after the amount"),
        ("74.40 jpy <b>Latte</b>", "JPY amounts have at most 0 decimal places"),
    ],
)
async def test_invalid_text_offers_one_explanation_that_creates_nothing(
    chat: Chat, fake_omise: fakes.FakeOmise, typed: str, explained: str
) -> None:
    result = await offer(chat, typed)
    assert result["title"] == "⚠️ Cannot create a link"
    content = result["input_message_content"]
    assert isinstance(content, dict) and explained in content["message_text"]
    assert explained in str(result["description"]) or explained.startswith("Type")
    assert "reply_markup" not in result
    await chat.choose(str(result["id"]))
    assert fake_omise.requests == [] and chat.telegram.inline_messages == {}


async def test_the_usage_names_the_bot(chat: Chat) -> None:
    result = await offer(chat, "")
    assert f"@{fakes.BOT_USERNAME} 74.40 thb Hot Latte" in str(result["description"])


async def test_the_waiting_button_explains_inline_feedback(chat: Chat) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    inline_update = chat.telegram.post_inline_result(str(result["id"]))
    # Inline feedback off: no chosen_inline_result arrives; someone presses the button.
    press = {
        "update_id": 5,
        "callback_query": {
            "id": "77001",
            "from": fakes.user(CUSTOMER),
            "chat_instance": "-8123456789",
            "inline_message_id": inline_update["chosen_inline_result"]["inline_message_id"],
            "data": "inline:wait",
        },
    }
    await chat.feed(press)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert "/setinlinefeedback" in answer["text"] and answer["show_alert"] is True


# Sharing an existing link


async def test_the_share_button_on_a_link_message(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    keyboard = chat.last_reply()["reply_markup"]["inline_keyboard"]
    assert keyboard[2] == [
        {
            "text": "Share",
            "switch_inline_query_chosen_chat": {
                "query": link["id"],
                "allow_user_chats": True,
                "allow_group_chats": True,
            },
        }
    ]
    assert all(
        len(button["callback_data"].encode()) <= 64
        for row in keyboard
        for button in row
        if "callback_data" in button
    )


async def test_a_link_id_query_offers_the_link_message(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    result = await offer(chat, link["id"])
    assert result["id"] == f"share:{link['id']}"
    assert result["title"] == "Share payment link — Hot Latte · ฿74.40"
    content = result["input_message_content"]
    assert isinstance(content, dict) and f"<code>{link['id']}</code>" in content["message_text"]
    assert result["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Pay ฿74.40", "url": link["payment_uri"]}],
            [{"text": "Copy link", "copy_text": {"text": link["payment_uri"]}}],
        ]
    }
    await chat.choose(str(result["id"]))
    assert fake_omise.count("POST /links") == 1  # sharing made nothing new


@pytest.mark.parametrize(
    ("change", "said"),
    [("pay", "has already been paid"), ("delete", "is cancelled")],
)
async def test_a_link_paid_or_cancelled_unseen_by_the_bot_is_not_offered_to_share(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, change: str, said: str
) -> None:
    """The record still says active; Omise says otherwise, and a copy would never be updated."""
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    getattr(fake_omise, change)(link["id"])
    record = await store.links.get_link(link["id"])
    assert record is not None and record.status is LinkStatus.ACTIVE
    result = await offer(chat, link["id"])
    assert result["id"] == "problem" and result["title"] == "⚠️ Cannot share this link"
    assert said in str(result["description"])
    content = result["input_message_content"]
    assert isinstance(content, dict) and link["payment_uri"] not in content["message_text"]
    assert "reply_markup" not in result


async def test_a_link_omise_cannot_confirm_is_not_offered_to_share(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    fake_omise.fail(f"GET /links/{link['id']}", status=503, times=100)
    result = await offer(chat, link["id"])
    assert result["id"] == "problem" and "could not check this link" in str(result["description"])


async def test_a_slow_omise_does_not_keep_a_share_past_telegram_s_ten_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real HTTP fakes: Omise takes its time answering, and the check gives up in time."""
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    monkeypatch.setattr(inline, "SHARE_CHECK_SECONDS", 0.3)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        settings = make_settings(tmp_path, telegram_api_url=telegram_url, omise_api_url=omise_url)
        async with link_service_over_http(settings) as service:
            record = await make_link(service)
            omise.fail(f"GET /links/{record.link_id}", delay=1.5)
            async with build_application(settings, service, rate_limiter=None) as app:
                started = time.monotonic()
                await Chat(app, telegram).type_inline(record.link_id)
                elapsed = time.monotonic() - started
    assert elapsed < 1.0
    [answer] = telegram.inline_answers
    [result] = answer["results"]
    assert result["id"] == "problem" and "could not check this link" in str(result["description"])


async def test_a_share_query_for_an_unknown_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    result = await offer(chat, "link_test_nosuchlink0000000")
    assert result["title"] == "⚠️ No such link"
    assert fake_omise.requests == []


async def test_a_customer_cannot_share_a_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    await chat.type_inline(link["id"], user_id=CUSTOMER)
    assert chat.telegram.inline_answers[-1]["results"] == []


# After the link is posted


async def test_a_paid_inline_link_edits_its_message_and_tells_the_creator(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, watcher: PaymentWatcher
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    fake_omise.pay(link["id"])
    report = await watcher.run_pass()
    assert report.announced == 1
    _, message = inline_message(chat)
    assert "✅ Paid ฿74.40" in str(message["text"]) and message["reply_markup"] is None
    [notice] = chat.replies()
    assert notice["chat_id"] == str(MERCHANT) and "reply_parameters" not in notice
    assert notice["text"].startswith("✅ <b>Hot Latte</b> was paid: ฿74.40 at ")
    stored = await store.links.get_link(link["id"])
    assert stored is not None and stored.status is LinkStatus.PAID


async def test_cancel_from_the_inline_message_edits_it(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    press = {
        "update_id": 6,
        "callback_query": {
            "id": "77002",
            "from": fakes.user(MERCHANT),
            "chat_instance": "-8123456789",
            "inline_message_id": chosen["inline_message_id"],
            "data": f"cancel:{link['id']}",
        },
    }
    await chat.feed(press)
    _, message = inline_message(chat)
    assert "🚫 Cancelled" in str(message["text"]) and message["reply_markup"] is None
    assert fake_omise.links[link["id"]]["deleted"] is True
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["text"] == f"🚫 Link {link['id']} is cancelled; it can no longer be paid."


async def test_a_customer_cannot_cancel_from_the_inline_message(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    press = {
        "update_id": 8,
        "callback_query": {
            "id": "77003",
            "from": fakes.user(CUSTOMER),
            "chat_instance": "-8123456789",
            "inline_message_id": chosen["inline_message_id"],
            "data": f"cancel:{link['id']}",
        },
    }
    await chat.feed(press)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert "Only the merchant's authorized users" in answer["text"]
    assert fake_omise.links[link["id"]]["deleted"] is False


async def test_cancel_by_command_and_in_the_dashboard_edit_the_inline_message(
    chat: Chat, fake_omise: fakes.FakeOmise, watcher: PaymentWatcher
) -> None:
    for typed in ("74.40 Hot Latte", "50 Tea"):
        result = await offer(chat, typed)
        await chat.choose(str(result["id"]))
    latte, tea = fake_omise.links.values()
    by_link = {
        link["id"]: inline_message_id
        for inline_message_id, message in chat.telegram.inline_messages.items()
        for link in (latte, tea)
        if link["id"] in str(message["text"])
    }
    await chat.send(f"/cancel {latte['id']}")
    assert "is cancelled" in chat.last_text()
    assert "🚫 Cancelled" in chat.telegram.inline_messages[by_link[latte["id"]]]["text"]
    # Cancelled in Omise's dashboard: the watcher's sweep sees it.
    fake_omise.delete(tea["id"])
    report = await watcher.run_pass()
    await watcher.sweep(report)
    assert "🚫 Cancelled" in chat.telegram.inline_messages[by_link[tea["id"]]]["text"]


async def test_a_button_of_one_inline_message_cannot_touch_another_link(
    chat: Chat, fake_omise: fakes.FakeOmise, link_service: LinkService
) -> None:
    other = await make_link(link_service)
    result = await offer(chat, "74.40 Hot Latte")
    chosen = await chat.choose(str(result["id"]))
    press = {
        "update_id": 7,
        "callback_query": {
            "id": "77004",
            "from": fakes.user(MERCHANT),
            "chat_instance": "-8123456789",
            "inline_message_id": chosen["inline_message_id"],
            "data": f"cancel:{other.link_id}",
        },
    }
    await chat.feed(press)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["text"] == "This button is no longer valid."
    assert fake_omise.links[other.link_id]["deleted"] is False


# The fake behaves as Telegram does


async def test_an_inline_query_is_answered_once_within_ten_seconds(bot: Bot) -> None:
    telegram = fakes.FakeTelegram()
    update = fakes.inline_query_update("74.40 Hot Latte", user_id=MERCHANT)
    telegram.note_inline_query(update)
    query_id = update["inline_query"]["id"]
    article = {
        "type": "article",
        "id": "a",
        "title": "A",
        "input_message_content": {"message_text": "x"},
    }

    def answer(**params: object) -> fakes.Answer:
        return telegram._answer_inline_query({"inline_query_id": query_id, **params})

    assert answer(results=[article, article]).body["description"].endswith("DUPLICATE")
    assert answer(results=[{**article, "id": "x" * 65}]).status == 400
    assert answer(results=[{**article, "id": str(n)} for n in range(51)]).status == 400
    bad_html = {**article, "input_message_content": {"message_text": "<x>", "parse_mode": "HTML"}}
    assert "can't parse entities" in answer(results=[bad_html]).body["description"]
    assert answer(results=[], button={"text": "b", "start_parameter": "a b"}).status == 400
    telegram.age_inline_query(query_id, 11)
    assert "query is too old" in answer(results=[article]).body["description"]
    telegram.age_inline_query(query_id, -11)
    assert answer(results=[article]).status == 200
    assert "query is too old" in answer(results=[article]).body["description"]


async def test_an_unknown_inline_message_cannot_be_edited() -> None:
    telegram = fakes.FakeTelegram()
    answer = telegram._answer(
        "editMessageText", {"inline_message_id": "AQAAAnope", "text": "x", "parse_mode": "HTML"}
    )
    assert (answer.status, answer.body["description"]) == (400, "Bad Request: MESSAGE_ID_INVALID")


async def test_an_inline_keyboard_edit_changes_the_inline_message(bot: Bot) -> None:
    telegram = fakes.FakeTelegram()
    update = fakes.inline_query_update("x", user_id=MERCHANT)
    telegram.note_inline_query(update)
    button = {"text": "b", "callback_data": "inline:wait"}
    article = {
        "type": "article",
        "id": "a",
        "title": "A",
        "input_message_content": {"message_text": "x"},
        "reply_markup": {"inline_keyboard": [[button]]},
    }
    query_id = update["inline_query"]["id"]
    assert telegram._answer_inline_query({"inline_query_id": query_id, "results": [article]}).body
    inline_message_id = telegram.post_inline_result("a")["chosen_inline_result"][
        "inline_message_id"
    ]
    edit = {"inline_message_id": inline_message_id, "reply_markup": None}
    assert telegram._answer("editMessageReplyMarkup", edit).body == {"ok": True, "result": True}
    assert telegram.inline_messages[inline_message_id]["reply_markup"] is None
    assert "not modified" in telegram._answer("editMessageReplyMarkup", edit).body["description"]
    too_long = {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]}
    refused = telegram._answer("editMessageReplyMarkup", {**edit, "reply_markup": too_long})
    assert refused.body["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_an_inline_message_gone_before_the_link_sends_it_privately(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    update = chat.telegram.post_inline_result(str(result["id"]))
    chat.telegram.inline_messages.clear()  # deleted by the user at once
    await chat.feed(update)
    [link] = fake_omise.links.values()
    reply = chat.last_reply()
    assert reply["chat_id"] == str(MERCHANT) and f"<code>{link['id']}</code>" in reply["text"]
    record = await store.links.get_link(link["id"])
    assert record is not None and record.message_id == chat.last_message()["message_id"]
    await chat.feed(update)
    assert len(chat.replies()) == 1 and fake_omise.count("POST /links") == 1


async def test_a_choice_without_an_inline_message_sends_the_link_privately(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.feed(
        fakes.chosen_inline_result_update("new:abc", user_id=MERCHANT, query="74.40 Hot Latte")
    )
    [link] = fake_omise.links.values()
    assert f"<code>{link['id']}</code>" in chat.last_text()
    assert chat.last_reply()["chat_id"] == str(MERCHANT)


async def test_an_inline_message_telegram_keeps_failing_to_edit_sends_the_link_privately(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "74.40 Hot Latte")
    chat.telegram.fail("editMessageText", status=502, times=100)
    await chat.choose(str(result["id"]))
    [link] = fake_omise.links.values()
    reply = chat.last_reply()
    assert reply["chat_id"] == str(MERCHANT) and f"<code>{link['id']}</code>" in reply["text"]

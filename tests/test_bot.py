"""The bot through the real Application, fed updates as Telegram sends them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from linkbot.bot import build_application
from linkbot.bot.app import register_commands
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from linkbot.store import LinkStatus, Store
from tests.conftest import CUSTOMER, GROUP, MERCHANT, Chat, make_settings

OTHER_GROUP = fakes.group_chat(-1009999999999)


def link_id_of(reply: dict[str, object]) -> str:
    markup = reply["reply_markup"]
    assert isinstance(markup, dict)
    data = markup["inline_keyboard"][1][0]["callback_data"]
    assert isinstance(data, str)
    return data.removeprefix("qr:")


# /start and /help


async def test_start_tells_a_merchant_who_they_are(chat: Chat) -> None:
    await chat.send("/start")
    text = chat.last_text()
    assert f"<code>{MERCHANT}</code>" in text
    assert "You may create and manage links" in text
    assert "Omise mode: test" in text
    assert "/link" in text and "/multilink" in text and "/cancel" in text and "/status" in text


async def test_help_tells_a_customer_they_are_not_authorized(chat: Chat) -> None:
    await chat.send("/help", user_id=CUSTOMER)
    text = chat.last_text()
    assert f"<code>{CUSTOMER}</code>" in text and "not authorized" in text


async def test_command_menu_is_registered(chat: Chat) -> None:
    await register_commands(chat.app)
    call = chat.telegram.menus[("all_private_chats", None)]
    assert [c["command"] for c in call] == [
        "link",
        "multilink",
        "links",
        "status",
        "qr",
        "cancel",
        "report",
        "export",
        "help",
    ]


# /link


async def test_link_in_a_group(chat: Chat, fake_omise: fakes.FakeOmise, store: Store) -> None:
    await chat.send("/link@linkbot_test_bot 74.40 thb Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    assert (
        link["amount"],
        link["currency"],
        link["title"],
        link["description"],
        link["multiple"],
    ) == (
        7440,
        "THB",
        "Hot Latte",
        "Hot Latte",
        False,
    )
    reply = chat.last_reply()
    assert reply["chat_id"] == str(GROUP["id"])
    assert reply["text"] == (
        f"<b>Hot Latte</b>\n฿74.40 · one-time\n"
        f'<a href="{link["payment_uri"]}">{link["payment_uri"]}</a>\n<code>{link["id"]}</code>'
    )
    assert reply["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Pay ฿74.40", "url": link["payment_uri"]}],
            [
                {"text": "QR", "callback_data": f"qr:{link['id']}"},
                {"text": "Copy link", "copy_text": {"text": link["payment_uri"]}},
                {"text": "Cancel link", "callback_data": f"cancel:{link['id']}"},
            ],
            [
                {
                    "text": "Share",
                    "switch_inline_query_chosen_chat": {
                        "query": link["id"],
                        "allow_user_chats": True,
                        "allow_group_chats": True,
                    },
                }
            ],
        ]
    }
    record = await store.links.get_link(link["id"])
    assert record is not None
    assert (record.chat_id, record.creator_id, record.amount, record.currency) == (
        GROUP["id"],
        MERCHANT,
        7440,
        "THB",
    )
    assert record.message_id == chat.last_message()["message_id"]


async def test_multilink_is_reusable(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/multilink 150 Donation | Thank you!")
    [link] = fake_omise.links.values()
    assert link["multiple"] is True and link["description"] == "Thank you!"
    assert "฿150.00 · reusable" in chat.last_text()


async def test_command_for_another_bot_is_ignored(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link@some_other_bot 74.40 Hot Latte", chat=GROUP)
    assert fake_omise.requests == [] and chat.replies() == []


async def test_user_text_is_escaped(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send('/link 20 <script>&amp; "Tea"')
    [link] = fake_omise.links.values()
    assert link["title"] == '<script>&amp; "Tea"'
    assert "<b>&lt;script&gt;&amp;amp; &quot;Tea&quot;</b>" in chat.last_text()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/link", "Usage: /link"),
        ("/link Hot Latte", "Usage: /link"),
        ("/multilink", "Usage: /multilink"),
        ("/link 74.40", "Add a title"),
        ("/link 0 Latte", "more than zero"),
        ("/link -5 Latte", "more than zero"),
        ("/link 74.405 thb Latte", "THB amounts have at most 2 decimal places"),
        ("/link 500.5 jpy Latte", "JPY amounts have at most 0 decimal places"),
        ("/link 1e5 Latte", "is not an amount"),
        ("/link NaN Latte", "Usage"),
        ("/link 1.234,56 Latte", "ambiguous"),
        ("/link $5 thb Latte", "says USD but the currency says THB"),
        ("/link 99999999999 Latte", "too large"),
        ("/link 20 " + "x" * 201, "title is too long"),
        ("/link 20 <b>" + "&" * 300, "title is too long"),
    ],
)
async def test_malformed_link_commands(
    chat: Chat, fake_omise: fakes.FakeOmise, command: str, expected: str
) -> None:
    await chat.send(command, chat=GROUP)
    assert expected in chat.last_text()
    assert fake_omise.requests == []


# Access control


@pytest.mark.parametrize(
    "command",
    [
        "/link 74.40 Hot Latte",
        "/multilink 5 Tip",
        "/links",
        "/cancel link_test_abc",
        "/status link_test_abc",
        "/cancel",
        "/status",
    ],
)
async def test_customers_are_refused(chat: Chat, fake_omise: fakes.FakeOmise, command: str) -> None:
    await chat.send(command, user_id=CUSTOMER, chat=GROUP)
    assert "Only the merchant's authorized users" in chat.last_text()
    assert fake_omise.requests == []


async def test_customer_presses_are_refused_with_an_alert(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_message = chat.last_message()
    requests_before = len(fake_omise.requests)
    for data in (f"cancel:{link_id_of(chat.last_reply())}", "links:1"):
        await chat.press(data, link_message, user_id=CUSTOMER)
    answers = chat.telegram.sent("answerCallbackQuery")
    assert len(answers) == 2
    assert all(a["show_alert"] is True and "authorized" in a["text"] for a in answers)
    assert len(fake_omise.requests) == requests_before
    assert chat.telegram.sent("editMessageText") == []


async def test_nobody_is_authorized_by_an_empty_list(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: object,
    fake_telegram: fakes.FakeTelegram,
    fake_omise: fakes.FakeOmise,
) -> None:
    settings = make_settings(tmp_path, linkbot_allowed_users="")
    async with build_application(settings, link_service, rate_limiter=None) as app:
        await Chat(app, fake_telegram).send("/link 74.40 Hot Latte")
    assert "Only the merchant's authorized users" in fake_telegram.sent()[-1]["text"]
    assert fake_omise.requests == []


# Omise failures on /link


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "authentication_failure", "Omise refused the API key"),
        (400, "invalid_amount", "Omise refused the request. Omise's message: “fault”"),
        (429, "too_many_requests", "Omise is busy"),
    ],
)
async def test_link_refused_by_omise(
    chat: Chat, fake_omise: fakes.FakeOmise, status: int, code: str, expected: str
) -> None:
    fake_omise.fail(
        "POST /links", status=status, body={"object": "error", "code": code, "message": "fault"}
    )
    await chat.send("/link 74.40 Hot Latte")
    assert expected in chat.last_text()
    assert fake_omise.count("POST /links") == 1 and fake_omise.links == {}


@pytest.mark.parametrize(
    ("command", "language", "answer"),
    [
        (
            "/link 5 thb Candy",
            "en",
            "⚠️ Omise refused ฿5.00: a payment in THB must be at least ฿20.00.",
        ),
        (
            "/link 150,000.01 thb Gold",
            "en",
            "⚠️ Omise refused ฿150,000.01: a payment in THB can be at most ฿150,000.00.",
        ),
        (
            "/link 5 thb Candy",
            "th",
            "⚠️ Omise ปฏิเสธยอด ฿5.00: การชำระเงินสกุล THB ต้องไม่น้อยกว่า ฿20.00",
        ),
        (
            "/link 50 jpy Candy",
            "ja",
            "⚠️ Omise が ¥50 を拒否しました。JPY の支払いは ¥100 以上である必要があります。",
        ),
        (
            "/link 6,000,001 jpy Car",
            "ja",
            "⚠️ Omise が ¥6,000,001 を拒否しました。JPY の支払いの上限は ¥6,000,000 です。",
        ),
    ],
)
async def test_an_amount_omise_refuses_is_told_with_its_limit_in_the_user_s_language(
    chat: Chat, fake_omise: fakes.FakeOmise, command: str, language: str, answer: str
) -> None:
    """Omise's own message is English; the answer names the limit in the user's words."""
    await chat.send(command, language_code=language)
    assert chat.last_text() == answer
    assert fake_omise.links == {}


async def test_a_currency_omise_refuses_is_told_in_the_user_s_language(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    fake_omise.fail(
        "POST /links",
        status=400,
        body={
            "object": "error",
            "code": "invalid_currency",
            "message": "currency is currently not supported",
        },
    )
    await chat.send("/link 10 sgd Kaya toast", language_code="th")
    assert chat.last_text() == ("⚠️ Omise ปฏิเสธสกุลเงิน SGD: บัญชี Omise นี้ไม่รับชำระเงินสกุลนี้")


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 1.0}, {"drop": True}])
async def test_lost_create_that_made_nothing(
    chat: Chat, fake_omise: fakes.FakeOmise, fault: dict[str, object]
) -> None:
    fake_omise.fail("POST /links", **fault)
    await chat.send("/link 74.40 Hot Latte")
    assert "no link was created. It is safe to send the command again" in chat.last_text()
    assert fake_omise.count("POST /links") == 1 and fake_omise.links == {}


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 1.0}, {"drop": True}])
async def test_lost_create_that_made_a_link_is_adopted(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, fault: dict[str, object]
) -> None:
    fake_omise.fail("POST /links", apply=True, **fault)
    await chat.send("/link 74.40 Hot Latte")
    [link] = fake_omise.links.values()
    assert fake_omise.count("POST /links") == 1
    assert f"<code>{link['id']}</code>" in chat.last_text()
    assert await store.links.get_link(link["id"]) is not None


async def test_lost_create_that_cannot_be_checked(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    fake_omise.fail("POST /links", delay=1.0, apply=True)
    fake_omise.fail("GET /links", status=503, times=100)
    await chat.send("/link 74.40 Hot Latte")
    assert "It may exist: look at /links before trying again" in chat.last_text()
    assert fake_omise.count("POST /links") == 1


async def test_a_twin_link_made_by_another_command_is_not_adopted(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte")
    fake_omise.fail("POST /links", status=500)
    await chat.send("/link 74.40 Hot Latte")
    assert "no link was created" in chat.last_text()


# The same update twice


async def test_a_redelivered_update_creates_one_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    update = await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    await chat.feed(update)
    await chat.feed({**update, "update_id": update["update_id"] + 1})
    assert len(fake_omise.links) == 1
    assert len(chat.replies()) == 1


async def test_a_redelivered_update_resends_an_undelivered_reply(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    chat.telegram.fail("sendMessage", status=500, times=3)
    update = await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    assert chat.telegram.messages == []
    await chat.feed(update)
    assert len(fake_omise.links) == 1
    assert len(chat.telegram.messages) == 1


# /links


async def test_links_in_a_group_shows_only_that_groups_links(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    await chat.send("/link 99 Secret order", chat=OTHER_GROUP)
    await chat.send("/link 120 Private deal")
    fake_omise.add_link(title="Made in the dashboard")
    await chat.send("/links", chat=GROUP)
    text = chat.last_text()
    assert "Hot Latte" in text and "active" in text
    for private in ("Secret order", "Private deal", "dashboard"):
        assert private not in text


async def test_links_in_private_shows_the_account(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    fake_omise.add_link(title="Made in the dashboard")
    await chat.send("/links")
    text = chat.last_text()
    assert "Links on the Omise account" in text
    assert "Hot Latte" in text and "Made in the dashboard" in text


async def test_links_pages(chat: Chat) -> None:
    for n in range(12):
        await chat.send(f"/link {20 + n} Item {n}", chat=GROUP)
    await chat.send("/links", chat=GROUP)
    first = chat.last_reply()
    assert "(1–10 of 12)" in first["text"]
    assert "Item 11" in first["text"] and "Item 1\n" not in first["text"]
    assert first["reply_markup"] == {
        "inline_keyboard": [[{"text": "Older ›", "callback_data": "links:1"}]]
    }
    await chat.press("links:1", chat.last_message())
    [edit] = chat.telegram.sent("editMessageText")
    assert "(11–12 of 12)" in edit["text"] and "Item 0" in edit["text"]
    assert edit["reply_markup"] == {
        "inline_keyboard": [[{"text": "‹ Newer", "callback_data": "links:0"}]]
    }


async def test_links_when_there_are_none(chat: Chat) -> None:
    await chat.send("/links", chat=GROUP)
    assert "No links have been created in this chat yet" in chat.last_text()


async def test_links_shows_status(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte")
    fake_omise.pay(link_id_of(chat.last_reply()))
    await chat.send("/link 30 Tea")
    await chat.send(f"/cancel {link_id_of(chat.last_reply())}")
    await chat.send("/links")
    text = chat.last_text()
    assert "Hot Latte</b> · ฿74.40 · paid" in text and "Tea</b> · ฿30.00 · cancelled" in text


# /cancel


async def test_cancel_by_id(chat: Chat, fake_omise: fakes.FakeOmise, store: Store) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = link_id_of(chat.last_reply())
    link_message = chat.last_message()
    await chat.send(f"/cancel {link_id}", chat=GROUP)
    assert fake_omise.links[link_id]["deleted"] is True
    assert f"Link <code>{link_id}</code> is cancelled" in chat.last_text()
    [edit] = chat.telegram.sent("editMessageText")
    assert edit["message_id"] == str(link_message["message_id"])
    assert "🚫 Cancelled" in edit["text"] and "reply_markup" not in edit
    record = await store.links.get_link(link_id)
    assert record is not None and record.status is LinkStatus.CANCELLED


async def test_cancel_as_a_reply(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = link_id_of(chat.last_reply())
    await chat.send("/cancel", chat=GROUP, reply_to=chat.last_message())
    assert fake_omise.links[link_id]["deleted"] is True
    assert "is cancelled" in chat.last_text()


async def test_cancel_button(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = link_id_of(chat.last_reply())
    await chat.press(f"cancel:{link_id}", chat.last_message())
    assert fake_omise.links[link_id]["deleted"] is True
    [edit] = chat.telegram.sent("editMessageText")
    assert "🚫 Cancelled" in edit["text"] and "reply_markup" not in edit
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert "is cancelled" in answer["text"]


async def test_cancel_twice(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte")
    link_id = link_id_of(chat.last_reply())
    await chat.send(f"/cancel {link_id}")
    await chat.send(f"/cancel {link_id}")
    assert "was already cancelled" in chat.last_text()
    assert fake_omise.count("DELETE") == 1


async def test_cancel_a_paid_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte")
    link_id = link_id_of(chat.last_reply())
    fake_omise.pay(link_id)
    await chat.send(f"/cancel {link_id}")
    assert "has already been paid" in chat.last_text()
    assert fake_omise.count("DELETE") == 0


async def test_cancel_in_a_group_cannot_reach_other_chats_links(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=OTHER_GROUP)
    link_id = link_id_of(chat.last_reply())
    dashboard_link = fake_omise.add_link()
    for target in (link_id, dashboard_link["id"]):
        await chat.send(f"/cancel {target}", chat=GROUP)
        assert f"No link <code>{target}</code> was created in this chat" in chat.last_text()
        await chat.send(f"/status {target}", chat=GROUP)
        assert "was created in this chat" in chat.last_text()
    assert fake_omise.count("DELETE") == 0 and fake_omise.count("GET /links/") == 0


async def test_cancel_any_account_link_in_private(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    dashboard_link = fake_omise.add_link()
    await chat.send(f"/cancel {dashboard_link['id']}")
    assert "is cancelled" in chat.last_text()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/cancel", "Usage: /cancel"),
        ("/status", "Usage: /status"),
        ("/cancel chrg_test_123", "That is not a link id"),
        ("/cancel link_test_a link_test_b", "That is not a link id"),
        ("/status ../../charges", "That is not a link id"),
    ],
)
async def test_malformed_cancel_and_status(
    chat: Chat, fake_omise: fakes.FakeOmise, command: str, expected: str
) -> None:
    await chat.send(command)
    assert expected in chat.last_text()
    assert fake_omise.requests == []


async def test_cancel_as_a_reply_to_something_else(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/help", chat=GROUP)
    await chat.send("/cancel", chat=GROUP, reply_to=chat.last_message())
    assert "That message is not a link I created" in chat.last_text()
    assert fake_omise.requests == []


async def test_cancel_unknown_link(chat: Chat) -> None:
    await chat.send("/cancel link_test_doesnotexist")
    assert "That link does not exist on this Omise account" in chat.last_text()


# /status


async def test_status_with_payments(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    # In a private chat; a group of customers sees no payments (test_group_takings.py).
    await chat.send("/multilink 150 Donation | For the cat shelter")
    link_id = link_id_of(chat.last_reply())
    first = fake_omise.pay(link_id)
    fake_omise.pay(link_id)
    fake_omise.pay(link_id, status="failed")
    await chat.send("/status", reply_to=chat.last_message())
    text = chat.last_text()
    assert "<b>Donation</b>" in text and "<i>For the cat shelter</i>" in text
    assert "฿150.00 · reusable · active" in text
    assert "Payments: 2 · paid ฿300.00" in text
    assert first["id"] in text


async def test_status_of_a_paid_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte")
    link_id = link_id_of(chat.last_reply())
    fake_omise.pay(link_id)
    await chat.send(f"/status {link_id}")
    assert "฿74.40 · one-time · paid" in chat.last_text()
    assert "Payments: 1 · paid ฿74.40" in chat.last_text()


# Omise failures on the other commands


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500, "times": 10}, "Omise is having trouble"),
        (
            {
                "status": 401,
                "body": {"object": "error", "code": "authentication_failure", "message": "x"},
            },
            "Omise refused the API key",
        ),
        ({"status": 429, "times": 10}, "Omise is busy"),
        ({"delay": 1.0, "times": 10}, "Omise did not answer in time"),
        ({"drop": True, "times": 10}, "I could not reach Omise"),
    ],
)
@pytest.mark.parametrize(
    "command", ["/links", "/status link_test_abc", "/cancel link_test_abc", "/qr link_test_abc"]
)
async def test_omise_failures(
    chat: Chat, fake_omise: fakes.FakeOmise, fault: dict[str, object], expected: str, command: str
) -> None:
    fake_omise.fail("*", **fault)
    await chat.send(command)
    assert expected in chat.last_text()


async def test_omise_failure_on_the_cancel_button(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    fake_omise.fail("*", status=503, times=10)
    await chat.press(f"cancel:{link_id_of(chat.last_reply())}", chat.last_message())
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["show_alert"] is True and "Omise is having trouble" in answer["text"]
    assert "<" not in answer["text"]


# Telegram failures


async def test_reply_lost_to_telegram_keeps_the_link(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    chat.telegram.fail("sendMessage", status=502, times=3)
    with caplog.at_level(logging.ERROR):
        await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    record = await store.links.get_link(link["id"])
    assert record is not None and record.message_id is None
    assert "Error while handling an update" in caplog.text
    await chat.send("/links", chat=GROUP)
    assert "Hot Latte" in chat.last_text()


@pytest.mark.parametrize("fault", [{"status": 502}, {"status": 500}, {"drop": True}])
async def test_a_link_reply_survives_a_telegram_hiccup(
    chat: Chat, fake_omise: fakes.FakeOmise, store: Store, fault: dict[str, object]
) -> None:
    chat.telegram.fail("sendMessage", times=2, **fault)
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    [link] = fake_omise.links.values()
    assert len(chat.telegram.messages) == 1
    assert link["id"] in chat.telegram.messages[0]["text"]
    record = await store.links.get_link(link["id"])
    assert record is not None and record.message_id == chat.telegram.messages[0]["message_id"]


async def test_a_refused_link_reply_is_not_retried(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    chat.telegram.fail(
        "sendMessage",
        status=403,
        body={"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked"},
    )
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    # Not tried again in the group; its creator gets the link privately instead.
    sends = [m["chat_id"] for m in chat.telegram.sent("sendMessage")]
    assert sends == [str(GROUP["id"]), str(MERCHANT)] and len(fake_omise.links) == 1


async def test_stale_button(chat: Chat) -> None:
    await chat.send("/links", chat=GROUP)
    await chat.press("links:x", chat.last_message())
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert "no longer valid" in answer["text"]


async def test_every_reply_is_html_telegram_accepts(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    # The fake refuses what Telegram refuses; make sure no reply was refused.
    await chat.send("/link 20 a<b>c</i>&d | <pre>x")
    await chat.send("/start")
    await chat.send("/links")
    await chat.send(f"/status {link_id_of(chat.telegram.messages[0])}")
    assert len(chat.telegram.messages) == len(chat.replies()) == 4


async def test_an_edited_command_is_answered_and_not_carried_out(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    """Telegram keeps an edit's message id: taken as a repeat, it would go unanswered."""
    command = await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    edited = {
        **command["message"],
        "text": "/link 80 Hot Latte",
        "edit_date": int(command["message"]["date"]) + 5,
    }
    await chat.feed({"update_id": command["update_id"] + 1000, "edited_message": edited})
    assert "do not carry out edited commands" in chat.last_text()
    assert chat.last_reply()["chat_id"] == str(GROUP["id"])
    assert fake_omise.count("POST /links") == 1

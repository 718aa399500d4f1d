"""QR codes for paying in person, and the link message's buttons."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from linkbot.bot.views import cancel_data, qr_data
from linkbot.commands import LINK_ID_MAX_SUFFIX, parse_link_id
from linkbot.qr import qr_png
from linkbot.sandbox import fakes
from tests.conftest import CUSTOMER, GROUP, MERCHANT, Chat

OTHER_GROUP = fakes.group_chat(-1009999999999)
# Telegram refuses a button whose callback data is longer.
CALLBACK_DATA_LIMIT = 64


def decode(png: bytes) -> str:
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text


def photo_of(call: dict[str, Any]) -> bytes:
    photo = call["photo"]
    assert isinstance(photo, dict), "the photo was not uploaded as a file"
    content = photo["content"]
    assert isinstance(content, bytes)
    return content


def test_qr_png_decodes_back_to_the_uri() -> None:
    uri = "https://pm.link/org_test_5yi7bw8s0lxmi8qtnha/test/lc3mkn8o0a0f1q0a7ma"
    png = qr_png(uri)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(png) == uri


def test_a_larger_scale_makes_a_larger_image() -> None:
    uri = "https://pm.link/org_test_5yi7bw8s0lxmi8qtnha/test/lc3mkn8o0a0f1q0a7ma"
    small = Image.open(io.BytesIO(qr_png(uri, scale=2)))
    large = Image.open(io.BytesIO(qr_png(uri, scale=10)))
    assert large.size == (small.size[0] * 5, small.size[1] * 5)
    assert decode(qr_png(uri, scale=2)) == uri


@pytest.mark.parametrize("prefix", ["link_", "link_test_"])
def test_button_data_fits_telegram_for_the_longest_link_ids(prefix: str) -> None:
    longest = parse_link_id(prefix + "z" * LINK_ID_MAX_SUFFIX)
    for data in (qr_data(longest), cancel_data(longest)):
        assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    with pytest.raises(ValueError):
        parse_link_id(prefix + "z" * (LINK_ID_MAX_SUFFIX + 1))


async def make_group_link(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    text: str = "74.40 Hot Latte",
    *,
    command: str = "/link",
    group: dict[str, Any] = GROUP,
) -> dict[str, Any]:
    await chat.send(f"{command} {text}", chat=group)
    return list(fake_omise.links.values())[-1]


async def test_qr_button_sends_the_code_to_the_chat(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    link = await make_group_link(chat, fake_omise)
    link_message = chat.last_message()
    await chat.press(f"qr:{link['id']}", link_message)
    [call] = chat.telegram.sent("sendPhoto")
    assert call["chat_id"] == str(GROUP["id"])
    assert decode(photo_of(call)) == link["payment_uri"]
    assert call["caption"] == "<b>Hot Latte</b> · ฿74.40\nScan to pay."
    assert call["parse_mode"] == "HTML"
    assert call["reply_parameters"]["message_id"] == link_message["message_id"]
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert not answer.get("show_alert")


async def test_qr_by_id(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    link = await make_group_link(chat, fake_omise, "1,250.50 usd Dinner for two")
    await chat.send(f"/qr {link['id']}", chat=GROUP)
    [call] = chat.telegram.sent("sendPhoto")
    assert decode(photo_of(call)) == link["payment_uri"]
    assert call["caption"] == "<b>Dinner for two</b> · $1,250.50\nScan to pay."


async def test_qr_as_a_reply(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    link = await make_group_link(chat, fake_omise)
    await chat.send("/qr", chat=GROUP, reply_to=chat.last_message())
    [call] = chat.telegram.sent("sendPhoto")
    assert decode(photo_of(call)) == link["payment_uri"]


async def test_qr_of_a_reusable_link_after_payments(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    link = await make_group_link(chat, fake_omise, "150 Donation", command="/multilink")
    fake_omise.pay(link["id"])
    await chat.send(f"/qr {link['id']}", chat=GROUP)
    [call] = chat.telegram.sent("sendPhoto")
    assert decode(photo_of(call)) == link["payment_uri"]


async def test_qr_of_any_account_link_in_private(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    dashboard_link = fake_omise.add_link(title="Made on the dashboard")
    await chat.send(f"/qr {dashboard_link['id']}")
    [call] = chat.telegram.sent("sendPhoto")
    assert call["chat_id"] == str(MERCHANT)
    assert decode(photo_of(call)) == dashboard_link["payment_uri"]


async def test_no_qr_for_a_cancelled_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    link = await make_group_link(chat, fake_omise)
    link_message = chat.last_message()
    # Cancelled on the dashboard: the record still says active.
    fake_omise.delete(link["id"])
    await chat.send(f"/qr {link['id']}", chat=GROUP)
    assert f"Link <code>{link['id']}</code> is cancelled, so it has no QR code" in chat.last_text()
    await chat.press(f"qr:{link['id']}", link_message)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["show_alert"] is True and "is cancelled, so it has no QR code" in answer["text"]
    assert chat.telegram.sent("sendPhoto") == []


async def test_no_qr_for_a_paid_one_time_link(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    link = await make_group_link(chat, fake_omise)
    link_message = chat.last_message()
    fake_omise.pay(link["id"])
    await chat.send("/qr", chat=GROUP, reply_to=link_message)
    assert "has already been paid, so it has no QR code" in chat.last_text()
    await chat.press(f"qr:{link['id']}", link_message)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["show_alert"] is True and "already been paid" in answer["text"]
    assert chat.telegram.sent("sendPhoto") == []


async def test_customers_get_no_qr(chat: Chat, fake_omise: fakes.FakeOmise) -> None:
    link = await make_group_link(chat, fake_omise)
    link_message = chat.last_message()
    requests_before = len(fake_omise.requests)
    await chat.send(f"/qr {link['id']}", user_id=CUSTOMER, chat=GROUP)
    assert "Only the merchant's authorized users" in chat.last_text()
    await chat.press(f"qr:{link['id']}", link_message, user_id=CUSTOMER)
    [answer] = chat.telegram.sent("answerCallbackQuery")
    assert answer["show_alert"] is True and "authorized" in answer["text"]
    assert chat.telegram.sent("sendPhoto") == []
    assert len(fake_omise.requests) == requests_before


async def test_a_group_gets_no_qr_of_another_chats_link(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    other = await make_group_link(chat, fake_omise, group=OTHER_GROUP)
    dashboard_link = fake_omise.add_link()
    await make_group_link(chat, fake_omise, "20 Tea")
    own_message = chat.last_message()
    requests_before = len(fake_omise.requests)
    for target in (other["id"], dashboard_link["id"]):
        await chat.send(f"/qr {target}", chat=GROUP)
        assert f"No link <code>{target}</code> was created in this chat" in chat.last_text()
        # A forged press on this group's own message, naming another chat's link.
        await chat.press(f"qr:{target}", own_message)
    answers = chat.telegram.sent("answerCallbackQuery")
    assert len(answers) == 2 and all("no longer valid" in a["text"] for a in answers)
    assert chat.telegram.sent("sendPhoto") == []
    assert len(fake_omise.requests) == requests_before


async def test_a_chat_that_refuses_pictures_gets_a_clear_answer(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    refusal = {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: not enough rights to send photos to the chat",
    }
    chat.telegram.fail("sendPhoto", status=400, body=refusal)
    await chat.send(f"/qr {link_id}", chat=GROUP)
    assert "I could not post the QR code here" in chat.last_text()
    chat.telegram.fail("sendPhoto", status=400, body=refusal)
    await chat.press(f"qr:{link_id}", chat.telegram.messages[0])
    [alert] = chat.telegram.sent("answerCallbackQuery")
    assert "I could not post the QR code here" in alert["text"]


async def test_no_qr_for_a_one_time_link_paid_after_many_declines(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    for _ in range(25):  # past the 20 charges a link embeds
        fake_omise.pay(link_id, status="failed")
    fake_omise.pay(link_id)
    await chat.send(f"/qr {link_id}", chat=GROUP)
    assert "has already been paid, so it has no QR code" in chat.last_text()
    assert chat.telegram.sent("sendPhoto") == []

"""A one-time link paid after more attempts than the link embeds is still paid."""

from __future__ import annotations

from linkbot.sandbox import fakes
from tests.conftest import Chat


def link_id_of(reply: dict[str, object]) -> str:
    markup = reply["reply_markup"]
    assert isinstance(markup, dict)
    data = markup["inline_keyboard"][1][0]["callback_data"]
    assert isinstance(data, str)
    return data.removeprefix("qr:")


async def paid_after_declines(chat: Chat, fake_omise: fakes.FakeOmise) -> str:
    """A one-time link declined 20 times, then paid: the payment is its 21st charge."""
    await chat.send("/link 74.40 Hot Latte")
    link_id = link_id_of(chat.last_reply())
    for _ in range(20):
        fake_omise.pay(link_id, status="failed")
    fake_omise.pay(link_id)
    embedded = fake_omise.links[link_id]["charges"]
    assert embedded["total"] == 21
    return link_id


async def test_cancel_refuses_a_link_paid_past_its_embedded_charges(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    link_id = await paid_after_declines(chat, fake_omise)
    await chat.send(f"/cancel {link_id}")
    assert "has already been paid, so it cannot be cancelled" in chat.last_text()
    assert fake_omise.count("DELETE") == 0
    assert not fake_omise.links[link_id]["deleted"]


async def test_status_shows_a_link_paid_past_its_embedded_charges_paid(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    link_id = await paid_after_declines(chat, fake_omise)
    await chat.send(f"/status {link_id}")
    assert "฿74.40 · one-time · paid" in chat.last_text()
    assert "Payments: 1 · paid ฿74.40" in chat.last_text()

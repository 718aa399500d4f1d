"""Telegram Business with the real linkbot process: the update types it asks for reach it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkbot.sandbox import fakes
from tests.process import BotProcess

MERCHANT = 4242
CUSTOMER = 5353


@pytest.fixture
def servers() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


def test_a_merchant_link_in_their_own_chat(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = servers
    bot = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
    bot.start()
    try:
        telegram.wait_for("setMyCommands")
        telegram.push(telegram.connect_business(MERCHANT))
        telegram.push(telegram.business_message("Hello", sender=CUSTOMER, customer=CUSTOMER))
        command = telegram.business_message(
            "/link 74.40 Hot Latte", sender=MERCHANT, customer=CUSTOMER
        )
        telegram.push(command)
        telegram.wait_for("deleteBusinessMessages")
        sent = [m for m in telegram.sent() if m.get("business_connection_id")]
        assert len(sent) == 1 and sent[0]["chat_id"] == str(CUSTOMER)
        [link] = omise.links.values()
        assert link["payment_uri"] in sent[0]["text"]
        [connected] = [m for m in telegram.sent() if m["chat_id"] == str(MERCHANT)]
        assert "Connected to your Telegram Business" in connected["text"]
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        bot.kill()

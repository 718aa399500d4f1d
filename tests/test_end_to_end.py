"""The real linkbot process against local fake Omise and Bot API servers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from linkbot.bot.app import menus
from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port

MERCHANT = 4242
GROUP = fakes.group_chat()


@pytest.fixture
def servers() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


@pytest.fixture
def bot(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> Iterator[BotProcess]:
    _, _, telegram_url, omise_url = servers
    process = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
    yield process.start()
    process.kill()


def test_link_then_cancel(
    bot: BotProcess, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, _, _ = servers
    telegram.wait_for("setMyCommands")

    telegram.push(
        fakes.command_update(
            f"/link@{fakes.BOT_USERNAME} 74.40 thb Hot Latte", user_id=MERCHANT, chat=GROUP
        )
    )
    [reply] = telegram.wait_for("sendMessage")
    [link] = omise.links.values()
    assert link["amount"] == 7440 and link["currency"] == "THB" and link["title"] == "Hot Latte"
    assert link["payment_uri"] in reply["text"]
    assert f"<code>{link['id']}</code>" in reply["text"]

    telegram.push(
        fakes.command_update("/cancel", user_id=MERCHANT, chat=GROUP, reply_to=telegram.messages[0])
    )
    [edit] = telegram.wait_for("editMessageText")
    assert "Cancelled" in edit["text"] and "reply_markup" not in edit
    replies = telegram.wait_for("sendMessage", 2)
    assert "is cancelled" in replies[1]["text"]
    assert omise.links[link["id"]]["deleted"] is True

    assert bot.stop(signal.SIGTERM) == 0
    log = bot.log()
    assert fakes.BOT_TOKEN not in log and fakes.OMISE_KEY not in log
    assert "Stopped" in log


def test_sigint_stops_cleanly(
    bot: BotProcess, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    servers[0].wait_for("setMyCommands")
    assert bot.stop(signal.SIGINT) == 0


def test_payment_is_announced_once_across_a_restart(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = servers
    interval = 0.5
    process = BotProcess(
        tmp_path,
        telegram_url,
        omise_url,
        LINKBOT_ALLOWED_USERS=str(MERCHANT),
        LINKBOT_POLL_INTERVAL=str(interval),
    )
    try:
        process.start()
        telegram.wait_for("setMyCommands")
        telegram.push(fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP))
        telegram.wait_for("sendMessage")
        [link] = omise.links.values()

        omise.pay(link["id"])
        paid_at = time.monotonic()
        notices = telegram.wait_for("sendMessage", 2, timeout=2 * interval + 2)
        assert time.monotonic() - paid_at < 2 * interval + 0.5
        assert "was paid: ฿74.40" in notices[1]["text"]
        assert any("✅ Paid ฿74.40" in e["text"] for e in telegram.sent("editMessageText"))
        assert process.stop() == 0

        process.start()
        telegram.wait_for("setMyCommands", 2 * len(menus()))
        time.sleep(3 * interval)
        assert process.running
        assert len(telegram.sent("sendMessage")) == 2
    finally:
        process.kill()


def test_payments_made_while_the_bot_was_down(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = servers
    process = BotProcess(
        tmp_path,
        telegram_url,
        omise_url,
        LINKBOT_ALLOWED_USERS=str(MERCHANT),
        LINKBOT_POLL_INTERVAL="30",
    )
    try:
        process.start()
        telegram.push(fakes.command_update("/multilink 150 Donation", user_id=MERCHANT, chat=GROUP))
        telegram.wait_for("sendMessage")
        assert process.stop() == 0
        [link] = omise.links.values()
        omise.pay(link["id"])
        omise.pay(link["id"])
        process.start()  # the first pass runs at start-up, not after 30 seconds
        notices = telegram.wait_for("sendMessage", 3)
        # Each payment told once, as a payment of its own: the group sees no running total.
        assert [n["text"].split(" at ")[0] for n in notices[1:]] == [
            "✅ <b>Donation</b> was paid: ฿150.00"
        ] * 2
    finally:
        process.kill()


def test_webhook_announces_without_waiting_for_a_poll(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = servers
    port = free_port()
    secret = base64.b64encode(b"whsec").decode()
    process = BotProcess(
        tmp_path,
        telegram_url,
        omise_url,
        LINKBOT_ALLOWED_USERS=str(MERCHANT),
        LINKBOT_POLL_INTERVAL="300",
        LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
        OMISE_WEBHOOK_SECRET=secret,
    )
    try:
        process.start()
        telegram.push(fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP))
        telegram.wait_for("sendMessage")
        [link] = omise.links.values()
        charge = omise.pay(link["id"])
        body = json.dumps(
            {
                "object": "event",
                "key": "charge.complete",
                "data": {"object": "charge", "id": charge["id"]},
            }
        ).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(b"whsec", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/healthz").json()["status"] == "ok"
            forged = client.post(
                "/omise/webhook",
                content=body,
                headers={"Omise-Signature": "0" * 64, "Omise-Signature-Timestamp": timestamp},
            )
            assert forged.status_code == 401
            accepted = client.post(
                "/omise/webhook",
                content=body,
                headers={"Omise-Signature": signature, "Omise-Signature-Timestamp": timestamp},
            )
            assert accepted.status_code == 202
        notices = telegram.wait_for("sendMessage", 2, timeout=5)
        assert "was paid" in notices[1]["text"]
        assert process.stop() == 0
    finally:
        process.kill()

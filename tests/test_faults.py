"""Fault injection: the real linkbot process against misbehaving local Omise and Bot API fakes.

For each fault: the merchant gets a clear message, no link is made twice,
no payment goes unannounced, and the process keeps running. Timeouts are
set short so the slow cases stay fast.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkbot.sandbox import fakes
from tests.process import BotProcess, wait_until

MERCHANT = 4242
GROUP = fakes.group_chat()


@dataclass
class Rig:
    telegram: fakes.FakeTelegram
    omise: fakes.FakeOmise
    bot: BotProcess

    def command(self, text: str, *, private: bool = False) -> dict[str, object]:
        chat = fakes.private_chat(MERCHANT) if private else GROUP
        return self.telegram.push(fakes.command_update(text, user_id=MERCHANT, chat=chat))

    def replies(self, count: int, timeout: float = 15.0) -> list[str]:
        return [str(m["text"]) for m in self.telegram.wait_for("sendMessage", count, timeout)]

    def delivered(self) -> list[str]:
        return [str(m["text"]) for m in self.telegram.messages]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=str(MERCHANT),
            LINKBOT_POLL_INTERVAL="0.5",
            OMISE_TIMEOUT="1",
        )
        bot.start()
        telegram.wait_for("setMyCommands")
        try:
            yield Rig(telegram, omise, bot)
        finally:
            bot.kill()


def test_omise_5xx_burst_is_retried(rig: Rig) -> None:
    rig.omise.fail("GET /links", status=503, times=2)
    rig.command("/links", private=True)
    [reply] = rig.replies(1)
    assert "The Omise account has no links yet" in reply
    assert rig.omise.count("GET /links") == 3
    assert rig.bot.running


def test_omise_down_for_longer_gets_a_clear_message(rig: Rig) -> None:
    rig.omise.fail("GET /links/link_test_abc", status=500, times=50)
    rig.command("/status link_test_abc", private=True)
    [reply] = rig.replies(1)
    assert "Omise is having trouble right now" in reply
    assert rig.bot.running


def test_omise_429_with_retry_after(rig: Rig) -> None:
    rig.omise.fail(
        "GET /links",
        status=429,
        headers={"Retry-After": "1"},
        body={"object": "error", "code": "too_many_requests", "message": "slow down"},
    )
    started = time.monotonic()
    rig.command("/links", private=True)
    rig.replies(1)
    assert time.monotonic() - started >= 1.0  # it waited as told
    assert rig.omise.count("GET /links") == 2


def test_create_slower_than_the_timeout_is_adopted(rig: Rig) -> None:
    rig.omise.fail("POST /links", delay=2.0, apply=True, status=200)
    rig.command("/link 74.40 Hot Latte")
    [reply] = rig.replies(1)
    [link] = rig.omise.links.values()
    assert rig.omise.count("POST /links") == 1
    assert link["id"] in reply and link["payment_uri"] in reply


def test_create_slower_than_the_timeout_that_made_nothing(rig: Rig) -> None:
    rig.omise.fail("POST /links", delay=2.0)
    rig.command("/link 74.40 Hot Latte")
    [reply] = rig.replies(1)
    assert "no link was created. It is safe to send the command again" in reply
    assert rig.omise.links == {} and rig.omise.count("POST /links") == 1


@pytest.mark.parametrize("applied", [True, False])
def test_create_connection_dropped(rig: Rig, applied: bool) -> None:
    rig.omise.fail("POST /links", drop=True, apply=applied)
    rig.command("/link 74.40 Hot Latte")
    [reply] = rig.replies(1)
    assert len(rig.omise.links) == (1 if applied else 0)
    assert rig.omise.count("POST /links") == 1
    if applied:
        assert next(iter(rig.omise.links)) in reply
    else:
        assert "no link was created" in reply


def test_reads_with_dropped_connections_are_retried(rig: Rig) -> None:
    rig.command("/link 74.40 Hot Latte")
    rig.replies(1)
    link_id = next(iter(rig.omise.links))
    rig.omise.fail(f"GET /links/{link_id}", drop=True, times=2)
    rig.command(f"/status {link_id}")
    assert "Payments: 0" in rig.replies(2)[1]


def test_telegram_429_is_waited_out(rig: Rig) -> None:
    rig.telegram.fail(
        "sendMessage",
        status=429,
        body=fakes.flood_body(retry_after=1),
    )
    rig.command("/link 74.40 Hot Latte")
    rig.replies(2)
    assert len(rig.delivered()) == 1 and len(rig.omise.links) == 1
    assert rig.bot.running


def test_telegram_5xx_on_a_link_reply(rig: Rig) -> None:
    rig.telegram.fail("sendMessage", status=502, times=2)
    rig.command("/link 74.40 Hot Latte")
    rig.replies(3)
    [reply] = rig.delivered()
    assert next(iter(rig.omise.links)) in reply
    assert rig.bot.running


def test_payment_notice_survives_telegram_trouble(rig: Rig) -> None:
    rig.command("/link 74.40 Hot Latte")
    rig.replies(1)
    # Trouble Telegram says it did nothing about (a 5xx may have posted it, and is not repeated).
    flood = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1"}
    flood["parameters"] = {"retry_after": 1}
    rig.telegram.fail("sendMessage", status=429, body=flood, times=3)
    rig.omise.pay(next(iter(rig.omise.links)))
    deadline = time.monotonic() + 15
    while len(rig.delivered()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # three more passes: nothing more is said
    notices = [t for t in rig.delivered() if "was paid" in t]
    assert len(notices) == 1
    assert rig.bot.running


def test_sigkill_in_the_middle_of_a_command(rig: Rig) -> None:
    rig.omise.fail("POST /links", delay=5.0, apply=True, status=200)
    rig.command("/link 74.40 Hot Latte")
    deadline = time.monotonic() + 10
    while rig.omise.count("POST /links") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    rig.bot.stop(signal.SIGKILL)  # Omise made the link; the bot never heard

    rig.bot.start()
    [reply] = rig.replies(1)
    [link] = rig.omise.links.values()
    assert link["id"] in reply
    time.sleep(1.0)
    assert len(rig.omise.links) == 1 and rig.omise.count("POST /links") == 1
    assert len(rig.delivered()) == 1
    assert rig.bot.running


def test_sigterm_lets_commands_in_flight_finish(rig: Rig, tmp_path: Path) -> None:
    rig.omise.latency = 0.8
    rig.command("/link 74.40 Hot Latte")
    deadline = time.monotonic() + 10
    while rig.omise.count("POST /links") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rig.bot.stop(signal.SIGTERM) == 0
    [reply] = rig.delivered()
    assert next(iter(rig.omise.links)) in reply
    with sqlite3.connect(tmp_path / "linkbot.db") as db:
        states = db.execute("SELECT state FROM commands").fetchall()
        message_ids = db.execute("SELECT message_id FROM links").fetchall()
    assert states == [("done",)] and message_ids[0][0] is not None


# Payments that settle later, and chats that move on (webhooks off: polling alone)


def test_a_promptpay_payment_pending_then_paid(rig: Rig) -> None:
    rig.command("/link 74.40 Hot Latte")
    rig.replies(1)
    link_id = next(iter(rig.omise.links))
    charge = rig.omise.pay(link_id, status="pending")  # the customer scanned the QR code
    time.sleep(1.5)  # three passes see it pending
    assert [t for t in rig.delivered() if "was paid" in t] == []

    rig.omise.settle(charge["id"])  # confirmed in the banking app
    settled = time.monotonic()
    announced = wait_until(lambda: any("was paid" in t for t in rig.delivered()))
    # Two poll intervals (0.5 s each), and a little for the process to be scheduled.
    assert announced - settled < 2 * 0.5 + 0.5
    time.sleep(1.5)
    assert len([t for t in rig.delivered() if "was paid" in t]) == 1
    edits = rig.telegram.sent("editMessageText")
    assert edits and "✅ Paid ฿74.40" in edits[-1]["text"]
    assert rig.bot.running


def test_a_promptpay_payment_that_expires(rig: Rig) -> None:
    rig.command("/link 74.40 Hot Latte")
    rig.replies(1)
    charge = rig.omise.pay(next(iter(rig.omise.links)), status="pending")
    time.sleep(1.0)
    rig.omise.settle(charge["id"], "expired")
    wait_until(lambda: len(rig.delivered()) == 2)
    time.sleep(1.5)
    [_, notice] = rig.delivered()
    assert "expired before it was completed" in notice and "was paid" not in notice


def test_a_link_reply_to_a_command_deleted_meanwhile(rig: Rig) -> None:
    rig.omise.latency = 0.3
    update = rig.command("/link 74.40 Hot Latte")
    message = update["message"]
    assert isinstance(message, dict)
    rig.telegram.delete_message(GROUP["id"], message["message_id"])  # a clean-up bot
    wait_until(lambda: len(rig.delivered()) == 1)
    [reply] = rig.delivered()
    assert next(iter(rig.omise.links)) in reply
    assert len(rig.omise.links) == 1


def test_a_group_that_removed_the_bot(rig: Rig) -> None:
    rig.command("/multilink 150 Donation")
    rig.replies(1)
    rig.telegram.forbid(GROUP["id"])
    link_id = next(iter(rig.omise.links))
    rig.omise.pay(link_id)
    wait_until(lambda: len(rig.delivered()) == 2)
    rig.omise.pay(link_id)
    wait_until(lambda: len(rig.delivered()) == 3)
    time.sleep(2.0)  # four more passes
    private = [m for m in rig.telegram.messages if m["chat"]["id"] == MERCHANT]
    assert len(private) == 2 and "Payment 2" in private[1]["text"]
    group_sends = [m for m in rig.telegram.sent("sendMessage") if m["chat_id"] == str(GROUP["id"])]
    assert len(group_sends) == 2  # the link, and the one notice that met the 403
    assert "removed or blocked there; telling its creator privately" in rig.bot.log()
    assert rig.bot.running

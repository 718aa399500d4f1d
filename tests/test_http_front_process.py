"""The real linkbot process's HTTP front: 150 idle sockets take nothing from the health check
or the webhooks and are closed after the header timeout; 900 forged Omise events cost a few
reads of Omise's events, counted by the fake Omise; a body that is not JSON is a 400."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx

from linkbot.connections import HEADER_TIMEOUT
from linkbot.payments import NUDGE_SPACING
from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port, wait_until_serving

MERCHANT = 4242
IDLE = 150


def forged(number: int) -> bytes:
    event = {
        "object": "event",
        "id": f"evnt_test_forged{number:05d}",
        "key": "charge.complete",
        "data": {"object": "charge", "id": f"chrg_test_forged{number:05d}"},
    }
    return json.dumps(event).encode()


def test_150_idle_sockets_hold_nothing_and_are_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=str(MERCHANT),
            LINKBOT_WEBHOOK_URL=base,
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
            LINKBOT_POLL_INTERVAL="300",
        )
        bot.start()
        idle: list[socket.socket] = []
        try:
            telegram.wait_for("setWebhook", timeout=30)
            wait_until_serving(base, bot)
            opened = time.monotonic()
            idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE)]
            time.sleep(0.5)
            with httpx.Client(base_url=base, timeout=5.0) as client:
                health = client.get("/healthz")
                webhook = client.post("/omise/webhook", content=forged(0))
            update = telegram.push(
                fakes.command_update(
                    "/link 74.40 Hot Latte", user_id=MERCHANT, chat=fakes.group_chat()
                )
            )
            delivery = telegram.wait_delivered(update["update_id"], timeout=5)
            reply = telegram.wait_for("sendMessage", timeout=10)
            # Each idle socket is closed by the server, the header timeout after it opened.
            for sock in idle:
                sock.settimeout(HEADER_TIMEOUT + 5 - (time.monotonic() - opened))
                assert sock.recv(1) == b""
            closed = time.monotonic() - opened
            assert bot.stop() == 0
        finally:
            for sock in idle:
                sock.close()
            bot.kill()
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert webhook.status_code == 202
    assert delivery["delivered"] and delivery["status"] == 200
    assert "Hot Latte" in reply[0]["text"]
    print(f"{IDLE} idle sockets closed {closed:.1f} s after they opened")
    assert HEADER_TIMEOUT <= closed < HEADER_TIMEOUT + 5
    log = bot.log()
    assert "Exceeded concurrency limit" not in log and "Traceback" not in log


def test_900_forged_omise_events_cost_a_few_events_reads(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
            LINKBOT_POLL_INTERVAL="300",
        )
        bot.start()
        try:
            wait_until_serving(base, bot)
            with httpx.Client(base_url=base, timeout=5.0) as client:
                while client.get("/healthz").json()["status"] != "ok":  # the first pass is done
                    time.sleep(0.05)
                asked_before = len(omise.requests)
                started = time.monotonic()
                statuses = {
                    client.post("/omise/webhook", content=forged(n)).status_code for n in range(900)
                }
                took = time.monotonic() - started
                deep = client.post("/omise/webhook", content=b"[" * 200_000)
            time.sleep(2 * NUDGE_SPACING + 0.5)
            asked = omise.requests[asked_before:]
            assert bot.stop() == 0
        finally:
            bot.kill()
    reads = sum(1 for request in asked if request.startswith("GET /events"))
    print(f"900 forged events in {took:.2f} s: {reads} GET /events, {len(asked)} Omise requests")
    assert statuses == {202}
    assert all(request.startswith("GET /events") for request in asked)
    assert 1 <= reads <= 5
    assert deep.status_code == 400 and deep.json() == {"error": "not json"}
    log = bot.log()
    assert "Traceback" not in log
    assert log.count("Refused a webhook whose body is not JSON (RecursionError)") == 1

"""The fake Bot API delivers a webhook's updates as Telegram does: on up to max_connections
connections at once, one chat's updates one at a time; and the bot keeps each chat's order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port, wait_until_serving

MERCHANT = 4242


class SlowReceiver:
    """A webhook that takes ``delay`` seconds to answer, noting what overlaps."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.open = 0
        self.most_open = 0
        self.chat_open: dict[int, int] = {}
        self.overlapping_in_a_chat = False
        self.order: dict[int, list[int]] = {}

    def receive(self, update: dict[str, Any]) -> None:
        chat = update["message"]["chat"]["id"]
        with self.lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            self.chat_open[chat] = self.chat_open.get(chat, 0) + 1
            self.overlapping_in_a_chat |= self.chat_open[chat] > 1
            self.order.setdefault(chat, []).append(update["update_id"])
        time.sleep(self.delay)
        with self.lock:
            self.open -= 1
            self.chat_open[chat] -= 1


@pytest.fixture
def receiver() -> Iterator[tuple[SlowReceiver, str]]:
    slow = SlowReceiver(0.3)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            slow.receive(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield slow, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def set_webhook(telegram_url: str, url: str, **params: Any) -> None:
    answer = httpx.post(
        f"{telegram_url}/bot{fakes.BOT_TOKEN}/setWebhook", json={"url": url, **params}
    )
    assert answer.json()["ok"], answer.text


@pytest.mark.parametrize(("connections", "expected"), [(None, 5), (2, 2)])
def test_updates_go_out_in_parallel_but_one_at_a_time_in_a_chat(
    receiver: tuple[SlowReceiver, str], connections: int | None, expected: int
) -> None:
    slow, url = receiver
    telegram = fakes.FakeTelegram()
    chats = [fakes.group_chat(-1000 - n) for n in range(5)]
    pushed = [
        telegram.push(fakes.command_update(f"/link {n + 1} Tea", user_id=MERCHANT, chat=chat))
        for n in range(3)
        for chat in chats
    ]
    with fakes.serve(telegram) as telegram_url:
        extra = {} if connections is None else {"max_connections": connections}
        started = time.monotonic()
        set_webhook(telegram_url, url, **extra)
        for update in pushed:
            assert telegram.wait_delivered(update["update_id"])["delivered"]
        took = time.monotonic() - started
        telegram.close()
    # 15 updates of 0.3 s: 3 rounds of 5 chats side by side, not 15 one after another.
    assert slow.most_open == expected and telegram.most_connections == expected
    assert not slow.overlapping_in_a_chat
    if connections is None:
        assert took < 15 * 0.3 / 2
    for chat in chats:
        sent = [u["update_id"] for u in pushed if u["message"]["chat"]["id"] == chat["id"]]
        assert slow.order[chat["id"]] == sent


def test_the_bot_answers_each_chat_in_order_from_parallel_deliveries(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=0.1)
    chats = [fakes.group_chat(-2000 - n) for n in range(4)]
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
        try:
            telegram.wait_for("setWebhook", timeout=30)
            wait_until_serving(base, bot)
            commands = [
                telegram.push(
                    fakes.command_update(f"/link {n + 1}.00 Tea {n}", user_id=MERCHANT, chat=chat)
                )
                for n in range(4)
                for chat in chats
            ]
            replies = telegram.wait_for("sendMessage", len(commands), timeout=30)
            assert telegram.most_connections > 1
            assert bot.stop() == 0
        finally:
            bot.kill()
    for chat in chats:
        asked = [
            u["message"]["message_id"] for u in commands if u["message"]["chat"]["id"] == chat["id"]
        ]
        answered = [
            json.loads(r["reply_parameters"])["message_id"]
            if isinstance(r.get("reply_parameters"), str)
            else r["reply_parameters"]["message_id"]
            for r in replies
            if int(r["chat_id"]) == chat["id"]
        ]
        assert answered == asked

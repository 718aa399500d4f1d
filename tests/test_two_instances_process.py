"""Two real ``linkbot`` processes behind one webhook URL, on one PostgreSQL database.

As in a rolling deploy or plain redundancy: a round-robin proxy (the load
balancer) gives each of Telegram's deliveries to either instance, and
answers 502 for one that is down, so Telegram delivers it again. One
instance, the payment watcher's, is killed while it is creating links and
while other commands it acknowledged wait to be handled; the other must
take the watcher over within two poll intervals, finish the commands the
dead one had claimed, handle those it had only acknowledged, and nothing
may happen twice.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from linkbot.sandbox import fakes
from tests.databases import postgresql_database
from tests.process import BotProcess, free_port, wait_until, wait_until_serving

POLL_INTERVAL = 1.0
OMISE_LATENCY = 0.3
MERCHANTS = [4242, 4343, 4444]
CHATS = [fakes.group_chat(-1001000000001), fakes.group_chat(-1001000000002)]
# A chat neither instance has seen: noting it waits while the test holds its row.
HELD_CHAT = fakes.group_chat(-1001000000003)


class RoundRobin:
    """A load balancer: each POST goes to the next instance; 502 when that one is down."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._next = 0
        self._lock = threading.Lock()
        # (backend index, message_id, status) of every forwarded delivery.
        self.forwarded: list[tuple[int, int, int]] = []
        self.on_forwarded: Callable[[int, int, int], None] | None = None

    def choose(self) -> int:
        with self._lock:
            chosen = self._next
            self._next = (self._next + 1) % len(self.backends)
            return chosen

    def forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        chosen = self.choose()
        try:
            answer = httpx.post(
                self.backends[chosen] + path, content=body, headers=headers, timeout=10.0
            )
        except httpx.TransportError:
            return 502, b'{"error": "bad gateway"}'
        message_id = int(json.loads(body).get("message", {}).get("message_id", 0))
        with self._lock:
            self.forwarded.append((chosen, message_id, answer.status_code))
        if self.on_forwarded is not None:
            # Before Telegram hears the answer: it delivers nothing else meanwhile.
            self.on_forwarded(chosen, message_id, answer.status_code)
        return answer.status_code, answer.content


@contextmanager
def serve_proxy(proxy: RoundRobin, port: int) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            passed = {
                name: value
                for name, value in self.headers.items()
                if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")
            }
            status, payload = proxy.forward(self.path, passed, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def health(url: str) -> str:
    try:
        status: str = httpx.get(f"{url}/healthz", timeout=1.0).json()["status"]
    except httpx.TransportError:
        return "down"
    return status


database = postgresql_database


def claimed(database: str, keys: list[str]) -> int:
    """How many of these commands are recorded in the database."""

    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(database, timeout=3)
        try:
            found: int = await conn.fetchval(
                "SELECT count(*) FROM commands WHERE key = ANY($1::text[])", keys
            )
        finally:
            await conn.close()
        return found

    return asyncio.run(count())


def kept(database: str, instance: str) -> list[int]:
    """The update ids this instance keeps in the inbox, not yet handled."""

    import asyncpg

    async def find() -> list[int]:
        conn = await asyncpg.connect(database, timeout=3)
        try:
            rows = await conn.fetch(
                "SELECT update_id FROM inbox WHERE instance_id = $1 AND handled_at IS NULL",
                instance,
            )
        finally:
            await conn.close()
        return [row["update_id"] for row in rows]

    return asyncio.run(find())


@contextmanager
def held_chat_row(database: str, chat_id: int) -> Iterator[None]:
    """Hold the chat's row uncommitted: an instance noting the chat waits until the end.

    So an instance stops between acknowledging a command in that chat and
    claiming it, for as long as the test likes.
    """
    import asyncpg

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)

    conn = run(asyncpg.connect(database, timeout=3))
    try:
        transaction = conn.transaction()
        run(transaction.start())
        run(conn.execute("INSERT INTO chats (chat_id) VALUES ($1)", chat_id))
        try:
            yield
        finally:
            run(transaction.rollback())
    finally:
        run(conn.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


class Traffic:
    """The commands sent and the links paid, with what Telegram saw the bot send."""

    def __init__(self, telegram: fakes.FakeTelegram, omise: fakes.FakeOmise) -> None:
        self.telegram = telegram
        self.omise = omise
        # message_id -> (chat id, title)
        self.commands: dict[int, tuple[int, str]] = {}
        self.paid: list[str] = []  # titles of the links paid

    def send(self, count: int, held: Callable[[int], bool] = lambda i: False) -> list[int]:
        """Send ``count`` commands; the i-th goes to HELD_CHAT where ``held(i)``."""
        sent = []
        for i in range(count):
            n = len(self.commands)
            merchant = MERCHANTS[n % len(MERCHANTS)]
            chat = fakes.private_chat(merchant) if n % 3 == 2 else CHATS[n % len(CHATS)]
            if held(i):
                chat = HELD_CHAT
            title = f"Item {n:03d}"
            message_id = 100_000 + n
            self.commands[message_id] = (chat["id"], title)
            self.telegram.push(
                fakes.command_update(
                    f"/link {20 + n} {title}", user_id=merchant, chat=chat, message_id=message_id
                )
            )
            sent.append(message_id)
        return sent

    def replies(self, message_id: int) -> list[dict[str, Any]]:
        """The link messages sent for a command (in a group, quoting it)."""
        chat_id, title = self.commands[message_id]
        return [
            sent
            for sent in self.telegram.sent("sendMessage")
            if str(sent.get("chat_id")) == str(chat_id)
            and str(sent.get("text")).startswith(f"<b>{title}</b>\n")
        ]

    def answered(self, message_ids: list[int] | None = None) -> bool:
        return all(self.replies(m) for m in (message_ids or list(self.commands)))

    def link(self, title: str) -> dict[str, Any]:
        [link] = [link for link in self.omise.links.values() if link["title"] == title]
        return link

    def pay(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            _, title = self.commands[message_id]
            self.omise.pay(self.link(title)["id"])
            self.paid.append(title)

    def notices(self, title: str) -> list[dict[str, Any]]:
        return [
            sent
            for sent in self.telegram.sent("sendMessage")
            if f"<b>{title}</b> was paid" in str(sent.get("text"))
        ]

    def announced(self) -> bool:
        return all(self.notices(title) for title in self.paid)


def test_two_instances_one_database_one_dies(tmp_path: Path, database: str) -> None:
    started = time.monotonic()
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=OMISE_LATENCY)
    ports = [free_port(), free_port()]
    proxy = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    with (
        fakes.serve(telegram) as telegram_url,
        fakes.serve(omise) as omise_url,
        serve_proxy(proxy, free_port()) as public_url,
    ):
        bots = []
        for name, port in zip(("alpha", "beta"), ports, strict=True):
            workdir = tmp_path / name
            workdir.mkdir()
            bots.append(
                BotProcess(
                    workdir,
                    telegram_url,
                    omise_url,
                    LINKBOT_DATABASE=database,
                    LINKBOT_INSTANCE_ID=name,
                    LINKBOT_ALLOWED_USERS=",".join(map(str, MERCHANTS)),
                    LINKBOT_WEBHOOK_URL=public_url,
                    LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
                    LINKBOT_POLL_INTERVAL=str(POLL_INTERVAL),
                    LINKBOT_LOG_LEVEL="INFO",
                ).start()
            )
        urls = list(proxy.backends)
        try:
            for bot, url in zip(bots, urls, strict=True):
                wait_until_serving(url, bot)
            telegram.wait_for("setWebhook", 2, timeout=30)
            # One watches payments, the other stands by.
            wait_until(
                lambda: sorted(health(url) for url in urls) == ["ok", "standby"],
                10,
                "one watcher and one standby",
            )
            victim = next(i for i, url in enumerate(urls) if health(url) == "ok")
            survivor = 1 - victim
            traffic = Traffic(telegram, omise)

            # Before: both instances take commands, the watcher announces payments.
            before = traffic.send(12)
            wait_until(lambda: traffic.answered(before), 20, "every command answered")
            traffic.pay(before[:4])
            wait_until(traffic.announced, 10, "every payment announced")

            # The watcher's instance dies with commands it acknowledged, claimed and had
            # not finished, and others it acknowledged and had not even claimed yet (in
            # HELD_CHAT, whose row the test holds): Telegram has its 200 for all of them.
            killed = threading.Event()
            taken: list[int] = []
            died = 0.0

            def key(message_id: int) -> str:
                return f"{traffic.commands[message_id][0]}:{message_id}"

            def held(message_id: int) -> bool:
                return traffic.commands[message_id][0] == HELD_CHAT["id"]

            def kill_between(chosen: int, message_id: int, status: int) -> None:
                nonlocal died
                if chosen != victim or status != 200 or killed.is_set():
                    return
                taken.append(message_id)
                claiming = [m for m in taken if not held(m)]
                if len(claiming) < 2 or len(taken) - len(claiming) < 2:
                    return
                keys = [key(m) for m in claiming]
                wait_until(lambda: claimed(database, keys) == len(keys), 10, "the claims")
                bots[victim].proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                died = time.monotonic()
                killed.set()

            with held_chat_row(database, HELD_CHAT["id"]):
                proxy.on_forwarded = kill_between
                # Two of every four in HELD_CHAT: round robin gives the victim one of each pair.
                in_flight = traffic.send(12, held=lambda i: i % 4 < 2)
                assert killed.wait(20), "the instance to kill got no command"
                proxy.on_forwarded = None
                bots[victim].kill()
                unclaimed = [m for m in taken if held(m)]
                # Acknowledged and never claimed: only the inbox still knows of them.
                assert claimed(database, [key(m) for m in unclaimed]) == 0
                assert len(kept(database, bots[victim].env["LINKBOT_INSTANCE_ID"])) >= 2
            assert len(unclaimed) >= 2
            orphaned = [m for m in taken if not traffic.replies(m)]

            # The survivor takes the watcher over within two poll intervals.
            wait_until(lambda: health(urls[survivor]) != "standby", 10, "the take-over")
            took_over = time.monotonic() - died
            assert took_over <= 2 * POLL_INTERVAL + 0.5, took_over

            # After: commands keep coming, payments made before and after the kill.
            traffic.pay(before[4:8])
            after = traffic.send(8)
            wait_until(traffic.answered, 30, "every command answered after the kill")
            traffic.pay(in_flight[:5] + after[:4])
            wait_until(traffic.announced, 15, "every payment announced after the kill")
            time.sleep(2 * POLL_INTERVAL)  # time for anything to happen twice
            assert bots[survivor].running
            assert bots[survivor].stop() == 0
        finally:
            for bot in bots:
                bot.kill()

        logs = "\n".join(bot.log() for bot in bots)
        commands = traffic.commands
        # Commands were in flight at the kill, and still, nothing happened twice.
        assert orphaned, "no command was in flight when the instance died"
        assert "Finishing command" in bots[survivor].log(), logs
        assert "acknowledged by an instance that stopped" in bots[survivor].log(), logs
        # Exactly one link per command: one POST /links each, no link made twice.
        assert omise.count("POST /links") == len(omise.links) == len(commands), logs
        assert sorted(link["title"] for link in omise.links.values()) == sorted(
            title for _, title in commands.values()
        )
        for message_id, (chat_id, title) in commands.items():
            [reply] = traffic.replies(message_id)
            assert traffic.link(title)["payment_uri"] in reply["text"], reply
            if chat_id < 0:
                assert reply["reply_parameters"]["message_id"] == message_id
        # Exactly one notice per payment.
        for title in traffic.paid:
            assert len(traffic.notices(title)) == 1, title
        assert "Traceback" not in logs, logs
        assert fakes.BOT_TOKEN not in logs
    assert time.monotonic() - started < 60

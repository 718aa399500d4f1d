"""How much the bot takes at once, as docs/payments.md promises it: a webhook body still arriving
after 10 s gets 408 and its connection closed, at most 100 requests to each webhook are
served at once (the health check is not counted), and up to 256 updates are handled at once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr
from telegram import Bot, Update

from linkbot import connections, web
from linkbot.bot import build_application
from linkbot.bot.app import PerChatUpdateProcessor
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.web import TELEGRAM_SECRET_HEADER, TelegramWebhook, WebServer, create_app
from tests.conftest import MERCHANT, Queued
from tests.process import free_port

# Short enough to keep the tests quick, long enough that a 408 before it is told apart.
SHORT_TIMEOUT = 0.5
TELEGRAM_SECRET = "capacity_secret"
TELEGRAM_HEADERS = {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}


@pytest.fixture
async def server(watcher: PaymentWatcher) -> AsyncIterator[int]:
    """The real app on the real WebServer at 127.0.0.1, with both webhooks; yields its port."""
    telegram = TelegramWebhook(Queued(), SecretStr(TELEGRAM_SECRET))
    app = create_app(watcher, None, routes=[telegram.route()])
    port = free_port()
    server = WebServer(app, f"127.0.0.1:{port}")
    await server.start()
    try:
        yield port
    finally:
        await server.stop()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The status and headers of one HTTP/1.1 response (the body is left unread)."""
    status_line = await reader.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


def request_head(path: str, length: int, extra: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


ENDPOINTS = [
    pytest.param("/omise/webhook", {}, id="omise"),
    pytest.param("/telegram/webhook", {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}, id="telegram"),
]


def test_the_body_deadline_is_the_documented_ten_seconds() -> None:
    assert web.BODY_TIMEOUT == 10.0


@pytest.mark.parametrize(("path", "headers"), ENDPOINTS)
@pytest.mark.parametrize("dribbling", [False, True], ids=["stalled", "dribbling"])
async def test_a_body_still_arriving_after_the_deadline_gets_408_and_a_closed_connection(
    server: int,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    headers: dict[str, str],
    dribbling: bool,
) -> None:
    monkeypatch.setattr(web, "BODY_TIMEOUT", SHORT_TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    try:
        started = time.monotonic()
        writer.write(request_head(path, 1000, headers) + b'{"key": ')
        await writer.drain()

        async def dribble() -> None:
            # A byte at a time, never pausing as long as the deadline: the whole body is
            # what is timed, not the gap between two pieces of it.
            for _ in range(900):
                await asyncio.sleep(SHORT_TIMEOUT / 10)
                writer.write(b" ")
                await writer.drain()

        sending = asyncio.create_task(dribble()) if dribbling else None
        try:
            async with asyncio.timeout(SHORT_TIMEOUT + 5):
                status, answer = await read_response(reader)
                took = time.monotonic() - started
                # The server hangs up rather than read the rest of the body.
                while await reader.read(65536):
                    pass
        finally:
            if sending is not None:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)
    assert status == 408
    assert answer.get("connection") == "close"
    assert SHORT_TIMEOUT <= took < SHORT_TIMEOUT + 3


async def test_a_body_sent_in_time_is_taken(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same slow start as above, finished before the deadline: the 408 is the deadline's.
    monkeypatch.setattr(web, "BODY_TIMEOUT", SHORT_TIMEOUT * 4)
    body = b'{"key": "ping"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    try:
        writer.write(request_head("/omise/webhook", len(body), {}) + body[:5])
        await writer.drain()
        await asyncio.sleep(SHORT_TIMEOUT)
        writer.write(body[5:])
        await writer.drain()
        async with asyncio.timeout(5):
            status, _ = await read_response(reader)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)
    assert status == 200


def test_the_server_is_configured_for_at_most_100_requests(watcher: PaymentWatcher) -> None:
    assert connections.MAX_REQUESTS == 100
    server = WebServer(create_app(watcher, None), "127.0.0.1:0")
    config = server._server.config
    # uvicorn's own limit would count idle connections too.
    assert config.limit_concurrency is None
    assert isinstance(config.app, connections.RequestLimit) and config.app.limit == 100


async def healthz_status(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            status, _ = await read_response(reader)
        return status
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


async def open_requests(
    port: int, count: int, path: str = "/omise/webhook"
) -> list[asyncio.StreamWriter]:
    """``count`` requests in progress: each head sent, its body not finished."""
    writers = []
    headers = TELEGRAM_HEADERS if path == "/telegram/webhook" else {}
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_head(path, 1000, headers) + b'{"key": ')
        await writer.drain()
        writers.append(writer)
    await asyncio.sleep(0.2)
    return writers


async def request_status(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(5):
            status, _ = await read_response(reader)
        return status
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


def telegram_update(update_id: int) -> bytes:
    body = json.dumps({"update_id": update_id}).encode()
    return request_head("/telegram/webhook", len(body), TELEGRAM_HEADERS) + body


def omise_event() -> bytes:
    body = b'{"key": "ping"}'
    return request_head("/omise/webhook", len(body), {}) + body


@pytest.mark.parametrize(
    ("held", "other"),
    [
        pytest.param("/omise/webhook", telegram_update, id="omise-held"),
        pytest.param("/telegram/webhook", lambda _: omise_event(), id="telegram-held"),
    ],
)
async def test_past_100_requests_in_progress_a_request_is_refused_with_503(
    server: int, held: str, other: Callable[[int], bytes]
) -> None:
    writers = await open_requests(server, 50, held)
    try:
        assert await healthz_status(server) == 200
        writers += await open_requests(server, 50, held)
        # 100 requests to one webhook whose bodies are still coming: its 101st is not served,
        # the health check and the other webhook are.
        headers = TELEGRAM_HEADERS if held == "/telegram/webhook" else {}
        assert await request_status(server, request_head(held, 2, headers) + b"{}") == 503
        assert await healthz_status(server) == 200
        assert await request_status(server, other(1)) == 200
    finally:
        await close_all(writers)
    await asyncio.sleep(0.2)
    assert await request_status(server, other(2)) == 200


# Updates


def update_in_chat(chat_id: int, bot: Bot) -> Update:
    data = fakes.command_update(
        "/links", user_id=MERCHANT, chat=fakes.group_chat(-1_000_000 - chat_id)
    )
    update = Update.de_json({**data, "update_id": 500_000 + chat_id}, bot)
    assert update is not None
    return update


async def test_the_application_handles_up_to_256_updates_at_once(
    settings: Settings, link_service: LinkService
) -> None:
    application = build_application(settings, link_service, rate_limiter=None)
    processor = application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    assert processor.max_concurrent_updates == 256

    release = asyncio.Event()
    started = 0

    async def handle() -> None:
        nonlocal started
        started += 1
        await release.wait()

    # 257 chats, each with one update that takes as long as the test says.
    tasks = [
        asyncio.create_task(processor.process_update(update_in_chat(n, application.bot), handle()))
        for n in range(257)
    ]
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if started >= 256:
                break
        await asyncio.sleep(0.05)
        assert started == 256
        assert processor.current_concurrent_updates == 256
        release.set()
        async with asyncio.timeout(5):
            await asyncio.gather(*tasks)
        assert started == 257
    finally:
        release.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""What the HTTP front holds to after an answer: a connection whose body was never read
gets the head deadline too, closing connections for room and refusing requests are logged
at most once a minute, and the uvicorn internals the front relies on are checked."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator

import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol

from linkbot import connections
from linkbot.web import TELEGRAM_SECRET_HEADER, WebServer, create_app
from tests.test_http_front import (
    TELEGRAM_SECRET,
    Listening,
    close_all,
    hung_up,
    make_app,
    open_sockets,
    raw_request,
    read_answer,
    serving,
)
from tests.test_web import StandIn, client

SHORT_HEADER_TIMEOUT = 0.5


@pytest.fixture
async def front(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Listening]:
    """The real app on the real listener, with a short head deadline."""
    monkeypatch.setattr(connections, "HEADER_TIMEOUT", SHORT_HEADER_TIMEOUT)
    async for listening in serving(None):
        yield listening


UNREAD_BODIES = [
    pytest.param(
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", b"a", id="length"
    ),
    pytest.param(
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"1\r\na\r\n",
        id="chunked",
    ),
    pytest.param(
        b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", b"a", id="404"
    ),
    pytest.param(
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
        b"a",
        id="expect-continue",
    ),
]


@pytest.mark.parametrize(("head", "byte"), UNREAD_BODIES)
async def test_a_connection_answered_before_its_body_was_read_is_closed_in_time(
    front: Listening, head: bytes, byte: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    try:
        writer.write(head)
        await writer.drain()
        await read_answer(reader)
        # A byte of the body stops uvicorn's keep-alive timer; the deadline still runs.
        writer.write(byte)
        await writer.drain()
        assert await hung_up(reader, SHORT_HEADER_TIMEOUT + 3)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def test_the_head_deadline_starts_at_the_answer_even_with_no_byte_after_it(
    front: Listening,
) -> None:
    assert SHORT_HEADER_TIMEOUT < connections.IDLE_TIMEOUT
    reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    try:
        writer.write(raw_request("GET", "/healthz"))
        await writer.drain()
        assert (await read_answer(reader))[0] == 200
        # Closed by the head deadline, well before uvicorn's keep-alive timer.
        assert await hung_up(reader, connections.IDLE_TIMEOUT - 1)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


def test_a_uvicorn_without_the_response_hook_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(H11Protocol, "on_response_complete")
    with pytest.raises(RuntimeError, match="on_response_complete"):
        WebServer(create_app(StandIn(), None), "127.0.0.1:0")


def test_a_uvicorn_whose_protocol_lacks_its_connection_state_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = H11Protocol.__init__

    @functools.wraps(original)
    def without_connections(self: H11Protocol, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        del self.connections

    monkeypatch.setattr(H11Protocol, "__init__", without_connections)
    with pytest.raises(RuntimeError, match="connections"):
        WebServer(create_app(StandIn(), None), "127.0.0.1:0")


def test_the_installed_uvicorn_passes_the_check() -> None:
    server = WebServer(create_app(StandIn(), None), "127.0.0.1:0")
    # Built, and serving through the protocol that gives request heads their deadline.
    assert server._server.config.http is connections.HeadDeadlineProtocol


def test_a_telegram_webhook_under_a_path_of_its_own_is_counted_apart() -> None:
    # LINKBOT_WEBHOOK_URL=https://host/bot: Telegram posts to /bot/telegram/webhook.
    paths = ["/bot/telegram/webhook", "/telegram/webhook"]
    server = WebServer(create_app(StandIn(), None), "127.0.0.1:0", telegram_paths=paths)
    limit = server._server.config.app
    assert isinstance(limit, connections.RequestLimit)
    assert {"/omise/webhook", *paths} <= set(limit.serving)


async def test_connections_closed_for_room_are_logged_once_a_minute(
    front: Listening, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(connections, "MAX_OPEN_CONNECTIONS", 5)
    # A fresh one: an earlier test may have had connections closed for room.
    monkeypatch.setattr(connections, "throttled", connections.ThrottledLog(connections.logger))
    caplog.set_level(logging.WARNING, logger="linkbot")
    idle = await open_sockets(front.port, 12)
    try:
        assert await hung_up(idle[0][0], 5)
    finally:
        await close_all(idle)
    room = [r for r in caplog.records if "to make room" in r.getMessage()]
    assert len(room) == 1, [r.getMessage() for r in room]


async def test_refused_telegram_requests_are_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="linkbot")
    app = make_app(None)
    async with client(app) as http:
        for _ in range(20):
            response = await http.post(
                "/telegram/webhook", content=b"{}", headers={TELEGRAM_SECRET_HEADER: "wrong"}
            )
            assert response.status_code == 403
        assert (await http.post("/omise/webhook", content=b"[")).status_code == 400
        assert (await http.post("/omise/webhook", content=b"{")).status_code == 400
    await app.state.confirmations.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("linkbot")]
    assert len([line for line in lines if "Telegram webhook request" in line]) == 1, lines
    assert len([line for line in lines if "not JSON" in line]) == 1, lines
    assert TELEGRAM_SECRET not in caplog.text


def test_a_throttled_warning_counts_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    from linkbot.connections import ThrottledLog

    now = [1000.0]
    log = ThrottledLog(logging.getLogger("linkbot.test"), clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="linkbot.test")
    for _ in range(5):
        log.warning("room", "Closing connections to make room")
        now[0] += 10
    log.warning("other", "Another kind")
    now[0] += 20  # a minute after the first line
    log.warning("room", "Closing connections to make room")
    assert [r.getMessage() for r in caplog.records] == [
        "Closing connections to make room",
        "Another kind",
        "Closing connections to make room (and 4 more times in the last 60 s)",
    ]

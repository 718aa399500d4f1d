"""The HTTP front holds: idle sockets cannot take the listener, and no unauthenticated
request crashes a handler (a 400 and one log line, never a 500 and a traceback)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.applications import Starlette

from linkbot import connections
from linkbot.web import (
    TELEGRAM_SECRET_HEADER,
    TelegramWebhook,
    WebServer,
    create_app,
    parse_charge_event,
    verify_signature,
)
from tests.conftest import Queued
from tests.process import free_port
from tests.test_web import StandIn, charge_event, sign

TELEGRAM_SECRET = "front_secret"
OMISE_SECRET = base64.b64encode(b"front-signing-secret").decode()
# Long enough for a head sent at once, short enough to keep the tests quick.
SHORT_HEADER_TIMEOUT = 0.5


def make_app(omise_secret: str | None) -> Starlette:
    telegram = TelegramWebhook(Queued(), SecretStr(TELEGRAM_SECRET))
    secret = SecretStr(omise_secret) if omise_secret else None
    return create_app(StandIn(), secret, routes=[telegram.route()])


@dataclass
class Listening:
    port: int
    app: Starlette


async def serving(omise_secret: str | None) -> AsyncIterator[Listening]:
    app = make_app(omise_secret)
    port = free_port()
    server = WebServer(app, f"127.0.0.1:{port}")
    await server.start()
    try:
        yield Listening(port, app)
    finally:
        await server.stop()


@pytest.fixture
async def listener() -> AsyncIterator[Listening]:
    """The real app on the real listener at 127.0.0.1, without an Omise webhook secret."""
    async for listening in serving(None):
        yield listening


@pytest.fixture
async def signed_listener() -> AsyncIterator[Listening]:
    async for listening in serving(OMISE_SECRET):
        yield listening


Socket = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_sockets(port: int, count: int, send: bytes = b"") -> list[Socket]:
    sockets = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if send:
            writer.write(send)
            await writer.drain()
        sockets.append((reader, writer))
    # The server accepts in this same event loop: let it take every connection in.
    await asyncio.sleep(0.2)
    return sockets


async def close_all(sockets: list[Socket]) -> None:
    for _, writer in sockets:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in sockets), return_exceptions=True)


async def hung_up(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the server closes the connection within ``within`` seconds, sending nothing."""
    try:
        async with asyncio.timeout(within):
            return await reader.read(65536) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def raw_request(method: str, path: str, body: bytes = b"", headers: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + headers + b"\r\n" + body


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one answer."""
    async with asyncio.timeout(5):
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
    return int(status_line.split()[1]), body


async def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send one request on a new connection; the answer's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await read_answer(reader)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


def telegram_update(update_id: int) -> bytes:
    return json.dumps({"update_id": update_id}).encode()


# Idle sockets


async def test_150_idle_sockets_leave_health_and_both_webhooks_answering(
    listener: Listening,
) -> None:
    idle = await open_sockets(listener.port, 150)
    # Some that sent half a head and stopped.
    idle += await open_sockets(listener.port, 20, b"POST /omise/webhook HTTP/1.1\r\nHo")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{listener.port}") as http:
            async with asyncio.timeout(5):
                health = await http.get("/healthz")
                omise = await http.post("/omise/webhook", content=charge_event("chrg_test_idle"))
                telegram = await http.post(
                    "/telegram/webhook",
                    content=telegram_update(1),
                    headers={TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET},
                )
    finally:
        await close_all(idle)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert omise.status_code == 202
    assert telegram.status_code == 200 and telegram.json() == {"status": "ok"}


async def test_a_connection_without_a_whole_head_in_time_is_closed(
    listener: Listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "HEADER_TIMEOUT", SHORT_HEADER_TIMEOUT)
    silent = await open_sockets(listener.port, 10)
    partial = await open_sockets(listener.port, 5, b"GET /healthz HTTP/1.1\r\n")
    dribbler = (await open_sockets(listener.port, 1))[0]

    async def dribble() -> None:
        # A header byte at a time, never pausing as long as the deadline: the whole head
        # is what is timed, not the gap between two bytes of it.
        _, writer = dribbler
        writer.write(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        for _ in range(100):
            await asyncio.sleep(SHORT_HEADER_TIMEOUT / 10)
            writer.write(b"a")
            await writer.drain()

    dribbling = asyncio.create_task(dribble())
    try:
        for reader, _ in [*silent, *partial, dribbler]:
            assert await hung_up(reader, SHORT_HEADER_TIMEOUT + 5)
    finally:
        dribbling.cancel()
        await asyncio.gather(dribbling, return_exceptions=True)
        await close_all([*silent, *partial, dribbler])


async def test_a_kept_alive_connection_has_the_same_deadline_for_its_next_head(
    listener: Listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "HEADER_TIMEOUT", SHORT_HEADER_TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    try:
        writer.write(raw_request("GET", "/healthz"))
        await writer.drain()
        assert (await read_answer(reader))[0] == 200
        # A byte of the next request stops uvicorn's keep-alive timer; the head's does not stop.
        writer.write(b"G")
        await writer.drain()
        assert await hung_up(reader, SHORT_HEADER_TIMEOUT + 5)
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def test_a_head_sent_in_time_is_served(
    listener: Listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "HEADER_TIMEOUT", SHORT_HEADER_TIMEOUT * 4)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        await writer.drain()
        await asyncio.sleep(SHORT_HEADER_TIMEOUT)
        writer.write(b"Host: 127.0.0.1\r\n\r\n")
        await writer.drain()
        assert (await read_answer(reader))[0] == 200
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def test_past_the_cap_on_open_connections_the_longest_waiting_makes_room(
    listener: Listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "MAX_OPEN_CONNECTIONS", 20)
    assert connections.max_open_connections() == 20
    idle = await open_sockets(listener.port, 25)
    try:
        status, _ = await exchange(listener.port, raw_request("GET", "/healthz"))
        assert status == 200
        # The 21st to the 26th connection (the health check) each closed the oldest waiting.
        for reader, _ in idle[:6]:
            assert await hung_up(reader, 5)
        for reader, _ in idle[6:]:
            assert not await hung_up(reader, 0.05)
    finally:
        await close_all(idle)


# Unauthenticated input


def one_line_each(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    records = [r for r in caplog.records if r.name.startswith(("linkbot", "uvicorn"))]
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in records), [
        r.getMessage() for r in records
    ]
    assert "Traceback" not in caplog.text
    return records


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b"[" * 200_000, 400, id="200 KB of ["),
        pytest.param(b'{"a":' * 40_000 + b"1" + b"}" * 40_000, 400, id="nested objects"),
        pytest.param(b"\xff\xfe\x00{", 400, id="invalid UTF-8"),
        pytest.param(b"key=charge.complete", 400, id="a form"),
        pytest.param(b"9" * 5000, 400, id="a number too long to read"),
        pytest.param(b'{"key": ["charge.create"]}', 200, id="a key that is a list"),
        pytest.param(b'{"key": {"charge.create": 1}}', 200, id="a key that is an object"),
        pytest.param(b'[{"key": "charge.create"}]', 200, id="a list of events"),
        pytest.param(b'"charge.create"', 200, id="a string"),
    ],
)
async def test_an_omise_body_that_is_not_an_event_is_answered_without_a_crash(
    listener: Listening, caplog: pytest.LogCaptureFixture, body: bytes, status: int
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    form = b"Content-Type: application/x-www-form-urlencoded\r\n"
    answer, content = await exchange(
        listener.port, raw_request("POST", "/omise/webhook", body, form)
    )
    assert answer == status
    expected = {"error": "not json"} if status == 400 else {"status": "ignored"}
    assert json.loads(content) == expected
    records = one_line_each(caplog)
    assert len(records) == (1 if status == 400 else 0)


@pytest.mark.parametrize(
    ("timestamp", "signature", "status"),
    [
        pytest.param(b"\xb2", b"00", 400, id="superscript two"),
        pytest.param("١٢٣".encode(), b"00", 400, id="Arabic-Indic digits, UTF-8"),
        pytest.param(b"9" * 5000, b"00", 400, id="5,000 digits"),
        pytest.param(b"-1", b"00", 400, id="negative"),
        pytest.param(None, b"\xe9" * 64, 401, id="a signature that is not ASCII"),
        pytest.param(None, "ü".encode() * 32, 401, id="a signature in UTF-8"),
    ],
)
async def test_a_malformed_signature_header_is_refused_without_a_crash(
    signed_listener: Listening,
    caplog: pytest.LogCaptureFixture,
    timestamp: bytes | None,
    signature: bytes,
    status: int,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    body = charge_event("chrg_test_malformed")
    stamp = timestamp if timestamp is not None else str(int(time.time())).encode()
    headers = (
        b"Omise-Signature: " + signature + b"\r\nOmise-Signature-Timestamp: " + stamp + b"\r\n"
    )
    answer, content = await exchange(
        signed_listener.port, raw_request("POST", "/omise/webhook", body, headers)
    )
    assert answer == status
    assert json.loads(content) == (
        {"error": "bad timestamp"} if status == 400 else {"error": "bad signature"}
    )
    assert len(one_line_each(caplog)) == 1


@pytest.mark.parametrize(
    "body", [b"[" * 200_000, b"\xff\xfe\x00{", b'{"update_id": 7, "message": {"chat": []}}']
)
async def test_a_telegram_body_that_is_not_an_update_is_a_bad_request(
    listener: Listening, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    headers = f"{TELEGRAM_SECRET_HEADER}: {TELEGRAM_SECRET}\r\n".encode()
    answer, _ = await exchange(
        listener.port, raw_request("POST", "/telegram/webhook", body, headers)
    )
    assert answer == 400
    assert len(one_line_each(caplog)) <= 1


@pytest.mark.parametrize("timestamp", ["²", "١٢٣", "１２３", "𝟗𝟗", "1²", " 1", "1\n", "9" * 5000])
def test_a_timestamp_of_other_digits_is_no_signature(timestamp: str) -> None:
    body = b"{}"
    assert not verify_signature(
        SecretStr(OMISE_SECRET), body, sign(body, 1, OMISE_SECRET), timestamp, now=time.time()
    )


@pytest.mark.parametrize(
    "body", [b"[" * 200_000, b'{"key": []}', b'{"key": "charge.create", "data": {"id": {}}}']
)
def test_parse_charge_event_takes_any_body(body: bytes) -> None:
    assert parse_charge_event(body) is None


header_text = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n\x00"), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: b"[" * depth),
    st.builds(lambda key: json.dumps({"key": key}).encode(), json_values),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda key, charge: json.dumps(
            {"key": key, "data": {"object": "charge", "id": charge}}
        ).encode(),
        st.sampled_from(["charge.create", "charge.complete", "refund.create"]),
        st.text(max_size=70),
    ),
)


# A timestamp of now, so that a signature is compared at all.
timestamps = st.one_of(header_text, st.just(str(int(time.time()))))
# One app each, for every example: creating them is most of an example's cost.
FUZZED = {secret: make_app(OMISE_SECRET if secret else None) for secret in (False, True)}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, timestamp=timestamps, signature=header_text, secret=st.booleans())
async def test_no_omise_webhook_request_crashes_the_handler(
    body: bytes, timestamp: str, signature: str, secret: bool
) -> None:
    app = FUZZED[secret]
    headers = {
        "Omise-Signature": signature.encode("latin-1"),
        "Omise-Signature-Timestamp": timestamp.encode("latin-1"),
    }
    # The ASGI transport raises what the app raises: a crash fails the test.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        response = await http.post("/omise/webhook", content=body, headers=headers)
    assert response.status_code in (200, 202, 400, 401)

"""Telegram's webhook endpoint, in process: who is let in, what is queued, what is refused."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr
from starlette.applications import Starlette
from telegram import Update

from linkbot import metrics
from linkbot.bot import build_application
from linkbot.bot.app import PerChatUpdateProcessor
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.web import MAX_BODY, TELEGRAM_SECRET_HEADER, TelegramWebhook, WebServer, create_app
from tests.conftest import GROUP, MERCHANT, Queued, eventually
from tests.process import free_port

SECRET = "s3cret_Token-for-tests"
PATH = "/telegram/webhook"


def link_update(update_id: int, text: str = "/link 50 Tea") -> dict[str, Any]:
    return {**fakes.command_update(text, user_id=MERCHANT, chat=GROUP), "update_id": update_id}


@pytest.fixture
def queued() -> Queued:
    return Queued()


@pytest.fixture
def backlog() -> PerChatUpdateProcessor:
    return PerChatUpdateProcessor(lambda user: True)


def make_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test")


@pytest.fixture
async def client(
    watcher: PaymentWatcher, queued: Queued, backlog: PerChatUpdateProcessor
) -> AsyncIterator[httpx.AsyncClient]:
    webhook = TelegramWebhook(queued, SecretStr(SECRET), backlog=backlog, max_pending=3)
    app = create_app(watcher, None, routes=[webhook.route()])
    async with make_client(app) as client:
        yield client
    await app.state.confirmations.aclose()


async def post(
    client: httpx.AsyncClient, body: bytes | dict[str, Any], secret: str | None = SECRET
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[TELEGRAM_SECRET_HEADER] = secret
    return await client.post(PATH, content=content, headers=headers)


async def test_an_update_with_the_secret_is_queued_and_answered_at_once(
    client: httpx.AsyncClient, queued: Queued, backlog: PerChatUpdateProcessor
) -> None:
    response = await post(client, link_update(1))
    assert response.status_code == 200
    update = queued.update_queue.get_nowait()
    assert isinstance(update, Update) and update.update_id == 1
    assert update.effective_message is not None
    assert update.effective_message.text == "/link 50 Tea"
    assert backlog.unfinished == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper()])
async def test_a_missing_or_wrong_secret_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient, queued: Queued, secret: str | None
) -> None:
    # A body that would be refused as 400 or 413 if it were read: 403 says it was not.
    for body in (link_update(2), b"not json", b"x" * (MAX_BODY + 10)):
        response = await post(client, body, secret)
        assert response.status_code == 403
    assert queued.update_queue.empty()


async def test_an_oversized_body_is_refused(client: httpx.AsyncClient, queued: Queued) -> None:
    big = link_update(3, "/link 50 " + "T" * MAX_BODY)
    response = await post(client, big)
    assert response.status_code == 413
    assert queued.update_queue.empty()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"update"',
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": true}',
        b'{"update_id": 7, "message": "hello"}',
    ],
)
async def test_what_is_not_an_update_is_a_bad_request(
    client: httpx.AsyncClient, queued: Queued, body: bytes
) -> None:
    response = await post(client, body)
    assert response.status_code == 400
    assert queued.update_queue.empty()


async def test_a_redelivered_update_is_dropped(client: httpx.AsyncClient, queued: Queued) -> None:
    assert (await post(client, link_update(4))).status_code == 200
    again = await post(client, link_update(4))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert queued.update_queue.qsize() == 1


async def test_the_updates_remembered_are_bounded(watcher: PaymentWatcher, queued: Queued) -> None:
    webhook = TelegramWebhook(queued, SecretStr(SECRET), remember=2)
    app = create_app(watcher, None, routes=[webhook.route()])
    async with make_client(app) as client:
        for update_id in (1, 2, 3):
            assert (await post(client, link_update(update_id))).json() == {"status": "ok"}
        assert (await post(client, link_update(3))).json() == {"status": "duplicate"}
        # The oldest is forgotten; a redelivery this late is left to the store's command claim.
        assert (await post(client, link_update(1))).json() == {"status": "ok"}
    await app.state.confirmations.aclose()


async def test_a_backlog_is_answered_503_until_it_is_handled(
    client: httpx.AsyncClient, queued: Queued, backlog: PerChatUpdateProcessor
) -> None:
    for update_id in (10, 11, 12):
        assert (await post(client, link_update(update_id))).status_code == 200
    refused = await post(client, link_update(13))
    assert refused.status_code == 503 and refused.headers["Retry-After"]

    # The updates are handled: room again, and the refused update is welcome when retried.
    handled: list[int] = []

    async def handle(update: Update) -> None:
        handled.append(update.update_id)

    while not queued.update_queue.empty():
        update = queued.update_queue.get_nowait()
        assert isinstance(update, Update)
        await backlog.process_update(update, handle(update))
    assert handled == [10, 11, 12] and backlog.unfinished == 0
    assert (await post(client, link_update(13))).status_code == 200


async def test_a_real_application_answers_a_command_delivered_by_webhook(
    settings: Settings,
    link_service: LinkService,
    watcher: PaymentWatcher,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    fake_omise: fakes.FakeOmise,
) -> None:
    mock_http.route(url__startswith="http://bot.test").pass_through()
    application = build_application(settings, link_service, rate_limiter=None)
    processor = application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    webhook = TelegramWebhook(application, SecretStr(SECRET), backlog=processor)
    app = create_app(watcher, None, routes=[webhook.route()])
    async with application, make_client(app) as client:
        await application.start()
        try:
            assert (await post(client, link_update(20, "/link 74.40 Hot Latte"))).status_code == 200
            assert (await post(client, link_update(21, "/link 20 Tea"))).status_code == 200
            await eventually(
                lambda: len(fake_telegram.sent()) >= 2 and not processor.unfinished,
                within=2,
                poll=0.01,
            )
        finally:
            await application.stop()
            await app.state.confirmations.aclose()
    assert processor.unfinished == 0
    replies = fake_telegram.sent()
    # Created side by side, answered in the chat's order.
    links = {link["title"]: link for link in fake_omise.links.values()}
    assert links["Hot Latte"]["payment_uri"] in replies[0]["text"]
    assert links["Tea"]["payment_uri"] in replies[1]["text"]


async def test_metrics_count_webhook_requests_and_are_off_by_default(
    watcher: PaymentWatcher, queued: Queued
) -> None:
    webhook = TelegramWebhook(queued, SecretStr(SECRET))
    app = create_app(watcher, None, routes=[webhook.route()])
    async with make_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        metrics.enable()
        try:
            await post(client, link_update(30))
            await post(client, link_update(30))
            await post(client, link_update(31), secret="wrong")
            await client.post("/omise/webhook", content=b"{}")
            await post(client, b"x" * (MAX_BODY + 1))
            exposed = await client.get("/metrics")
        finally:
            metrics.disable()
        assert (await client.get("/metrics")).status_code == 404
    await app.state.confirmations.aclose()
    assert exposed.status_code == 200
    assert exposed.headers["content-type"].startswith("text/plain")
    text = exposed.text
    for outcome in ("accepted", "duplicate", "forbidden"):
        line = f'linkbot_webhook_requests_total{{endpoint="telegram",outcome="{outcome}"}} 1.0'
        assert line in text
    assert 'linkbot_webhook_requests_total{endpoint="omise",outcome="ignored"} 1.0' in text
    assert 'linkbot_webhook_requests_total{endpoint="telegram",outcome="too_large"} 1.0' in text


async def test_answers_over_a_kept_alive_connection_wait_for_no_delayed_ack(
    watcher: PaymentWatcher, queued: Queued, mock_http: respx.MockRouter
) -> None:
    # With Nagle's algorithm left on, each answer's last write waited for the
    # client's delayed ACK: 40 ms an update, 8 s for 200 in a row.
    webhook = TelegramWebhook(queued, SecretStr(SECRET))
    app = create_app(watcher, None, routes=[webhook.route()])
    port = free_port()
    mock_http.route(host="127.0.0.1").pass_through()
    server = WebServer(app, f"127.0.0.1:{port}")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            times = []
            for update_id in range(100, 111):
                started = time.perf_counter()
                assert (await post(client, link_update(update_id))).status_code == 200
                times.append(time.perf_counter() - started)
    finally:
        await server.stop()
    assert statistics.median(times[1:]) < 0.025

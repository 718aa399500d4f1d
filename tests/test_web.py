"""Omise webhooks and /healthz: signatures, bounded bodies and confirmations, shutdown."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr
from starlette.applications import Starlette

from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import Health, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import ChargeRecord, LinkRecord, Store
from linkbot.web import (
    CONFIRM_WORKERS,
    MAX_BODY,
    MAX_WAITING,
    Confirmations,
    Offer,
    WebServer,
    create_app,
    parse_charge_event,
    verify_signature,
)
from tests.conftest import OMISE_URL, eventually, make_link
from tests.process import free_port

WEBHOOK_SECRET = base64.b64encode(b"webhook-signing-secret").decode()
BASE_URL = "http://linkbot.local"

_event_ids = itertools.count(1)


def sign(body: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    key = base64.b64decode(secret)
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = timestamp or int(time.time())
    return {"Omise-Signature": sign(body, timestamp), "Omise-Signature-Timestamp": str(timestamp)}


def charge_event(
    charge_id: str, key: str = "charge.complete", *, event_id: str | None = None
) -> bytes:
    """An event as Omise posts it; every call is a new event unless ``event_id`` is given."""
    return json.dumps(
        {
            "object": "event",
            "id": event_id or f"evnt_test_{next(_event_ids):019d}",
            "key": key,
            "livemode": False,
            "created_at": "2026-11-27T10:00:00Z",
            "data": {"object": "charge", "id": charge_id, "status": "successful", "amount": 7440},
        }
    ).encode()


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def post_event(app: Starlette, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """Post one event, then wait until whatever it queued has been confirmed."""
    async with client(app) as http:
        response = await http.post("/omise/webhook", content=body, headers=headers)
    await app.state.confirmations.drained()
    return response


@pytest.fixture
async def webhook_app(watcher: PaymentWatcher) -> AsyncIterator[Starlette]:
    app = create_app(watcher, SecretStr(WEBHOOK_SECRET))
    yield app
    await app.state.confirmations.aclose()


@dataclass
class StandIn:
    """A watcher whose confirmations wait for ``release`` and record how they ended."""

    report: Health = field(default_factory=lambda: Health(True, "ok", datetime.now(UTC)))
    release: asyncio.Event = field(default_factory=asyncio.Event)
    hold: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    nudges: int = 0

    def nudge(self) -> None:
        self.nudges += 1

    async def confirm_charge(self, charge_id: str) -> bool:
        self.started.append(charge_id)
        self.entered.set()
        try:
            if charge_id in self.hold:
                await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(charge_id)
            raise
        self.finished.append(charge_id)
        return True

    def health(self) -> Health:
        return self.report

    async def first_started(self) -> None:
        async with asyncio.timeout(5):
            await self.entered.wait()


def other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


# Signatures


@pytest.mark.parametrize(
    ("signature", "age", "valid"),
    [
        ("good", 0, True),
        ("good", 299, True),
        ("good", 301, False),
        ("good", -301, False),
        ("bad", 0, False),
        ("rotated", 0, True),
        ("none", 0, False),
    ],
)
def test_verify_signature(signature: str, age: int, valid: bool) -> None:
    body, now = b'{"key":"charge.complete"}', time.time()
    timestamp = int(now) - age
    header = {
        "good": sign(body, timestamp),
        "bad": sign(body + b" ", timestamp),
        "rotated": sign(body, timestamp, base64.b64encode(b"old").decode())
        + ", "
        + sign(body, timestamp),
        "none": "",
    }[signature]
    assert (
        verify_signature(SecretStr(WEBHOOK_SECRET), body, header, str(timestamp), now=now) is valid
    )


@pytest.mark.parametrize("problem", ["unsigned", "wrong", "expired"])
async def test_webhook_signature_refused(
    webhook_app: Starlette,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    problem: str,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id)
    body = charge_event(charge["id"])
    headers = {
        "unsigned": {},
        "wrong": {**signed(body), "Omise-Signature": "0" * 64},
        "expired": signed(body, int(time.time()) - 600),
    }[problem]
    response = await post_event(webhook_app, body, headers)
    assert response.status_code == 401
    assert fake_omise.count("GET /charges") == 0 and fake_telegram.messages == []


# Confirming with Omise


async def test_webhook_announces_a_confirmed_charge(
    webhook_app: Starlette,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    mock_http: respx.MockRouter,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id)
    body = charge_event(charge["id"])
    response = await post_event(webhook_app, body, signed(body))
    assert response.status_code == 202 and response.json() == {"status": "accepted"}
    assert fake_omise.count(f"GET /charges/{charge['id']}") == 1
    assert len(fake_telegram.messages) == 1
    # Omise delivers the same event again: dropped without asking Omise.
    again = await post_event(webhook_app, body, signed(body))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert fake_omise.count(f"GET /charges/{charge['id']}") == 1
    # Another event about the same charge is confirmed, and still announced once.
    update = charge_event(charge["id"], "charge.update")
    assert (await post_event(webhook_app, update, signed(update))).status_code == 202
    assert fake_omise.count(f"GET /charges/{charge['id']}") == 2
    assert len(fake_telegram.messages) == 1


async def test_card_charge_announced_on_charge_create(
    webhook_app: Starlette,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id)
    [event] = [e for e in fake_omise.events if e["data"]["id"] == charge["id"]]
    assert event["key"] == "charge.create"
    body = json.dumps(event).encode()
    assert (await post_event(webhook_app, body, signed(body))).status_code == 202
    assert len(fake_telegram.messages) == 1


async def test_pending_charge_announced_when_it_completes(
    webhook_app: Starlette,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="pending")  # PromptPay: paid in the bank app
    created = json.dumps(fake_omise.events[-1]).encode()
    assert (await post_event(webhook_app, created, signed(created))).status_code == 202
    assert fake_telegram.messages == []
    fake_omise.settle(charge["id"])
    completed = json.dumps(fake_omise.events[-1]).encode()
    assert b'"charge.complete"' in completed
    assert (await post_event(webhook_app, completed, signed(completed))).status_code == 202
    assert len(fake_telegram.messages) == 1
    assert fake_omise.count(f"GET /charges/{charge['id']}") == 2


async def test_forged_body_announces_nothing(
    webhook_app: Starlette,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="failed")  # the body says paid; Omise says not
    body = charge_event(charge["id"])
    response = await post_event(webhook_app, body, signed(body))
    assert response.status_code == 202
    assert fake_omise.count(f"GET /charges/{charge['id']}") == 1
    assert fake_telegram.messages == []


async def test_unknown_link_is_ignored(
    webhook_app: Starlette,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    stranger = fake_omise.add_link(title="Made in the dashboard")
    charge = fake_omise.pay(stranger["id"])
    body = charge_event(charge["id"])
    assert (await post_event(webhook_app, body, signed(body))).status_code == 202
    assert fake_telegram.messages == [] and await store.charges.unannounced_charges() == []


async def test_unknown_charge_and_other_events(
    webhook_app: Starlette,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    body = charge_event("chrg_test_doesnotexist")
    assert (await post_event(webhook_app, body, signed(body))).status_code == 202
    others = [
        b'{"key": "link.create", "data": {"object": "link"}}',
        charge_event("chrg_test_abc", "charge.capture"),
        charge_event("chrg_test_abc", "refund.create"),
        b"[]",
    ]
    for other in others:
        response = await post_event(webhook_app, other, signed(other))
        assert response.status_code == 200 and response.json() == {"status": "ignored"}
    response = await post_event(webhook_app, b"not json", signed(b"not json"))
    assert response.status_code == 400 and response.json() == {"error": "not json"}
    assert fake_telegram.messages == []
    assert fake_omise.count("GET /charges") == 1


@pytest.mark.parametrize(
    "charge_id",
    ["chrg_../../links", "chrg_test_abc?x=1", "chrg_" + "a" * 65, "link_test_abc", "", 42, None],
)
def test_only_plain_charge_ids_are_taken(charge_id: object) -> None:
    event = {"key": "charge.complete", "data": {"object": "charge", "id": charge_id}}
    assert parse_charge_event(json.dumps(event).encode()) is None


def test_event_ids_that_are_not_plain_are_not_remembered() -> None:
    event = {"id": "x" * 65, "key": "charge.create", "data": {"object": "charge", "id": "chrg_a"}}
    parsed = parse_charge_event(json.dumps(event).encode())
    assert parsed is not None and parsed.charge_id == "chrg_a" and parsed.event_id is None


async def test_webhook_without_a_secret_only_brings_the_next_pass_forward(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    app = create_app(watcher, None)
    record = await make_link(link_service)
    stop = asyncio.Event()
    watching = asyncio.create_task(watcher.run(300.0, stop))
    try:
        await watcher.caught_up.wait()
        reads = fake_omise.count("GET /events")
        # The body says paid; Omise's events say failed: nothing is announced.
        forged = fake_omise.pay(record.link_id, status="failed")
        async with client(app) as http:
            response = await http.post("/omise/webhook", content=charge_event(forged["id"]))
            assert response.status_code == 202
            await eventually(lambda: fake_omise.count("GET /events") > reads)
            real = fake_omise.pay(record.link_id)
            # Long before the next pass is due (300 s): the webhook brings it forward.
            response = await http.post("/omise/webhook", content=charge_event(real["id"]))
            assert response.status_code == 202
        await eventually(lambda: len(fake_telegram.messages) == 1)
    finally:
        stop.set()
        await watching
    assert "was paid" in fake_telegram.messages[0]["text"]
    # Only the events were read: the charge a body names is not fetched.
    assert fake_omise.count("GET /charges") == 0
    await app.state.confirmations.aclose()


def test_start_up_without_a_secret_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="linkbot.web")
    create_app(StandIn(), SecretStr(WEBHOOK_SECRET))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []

    create_app(StandIn(), None)
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert "OMISE_WEBHOOK_SECRET is not set" in message
    assert "it only makes the bot read Omise's events sooner (at most once a second)" in message
    assert "Set it to the webhook signing secret" in message


async def test_requests_without_a_secret_add_no_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="linkbot.web")
    watcher = StandIn()
    app = create_app(watcher, None)
    for number in range(5):
        assert (await post_event(app, charge_event(f"chrg_test_{number}"), {})).status_code == 202
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert watcher.nudges == 5 and watcher.started == []
    await app.state.confirmations.aclose()


# Bounded bodies


async def counted_body(
    size: int, pulled: list[int], chunk: int = 16 * 1024
) -> AsyncIterator[bytes]:
    for _ in range(size // chunk):
        pulled.append(chunk)
        yield b" " * chunk


async def test_a_declared_oversized_body_is_refused_unread() -> None:
    app = create_app(StandIn(), None)
    pulled: list[int] = []
    async with client(app) as http:
        response = await http.post(
            "/omise/webhook",
            content=counted_body(4 * MAX_BODY, pulled),
            headers={"Content-Length": str(4 * MAX_BODY)},
        )
    assert response.status_code == 413 and response.json() == {"error": "too large"}
    assert response.headers["connection"] == "close"
    assert pulled == []


async def test_a_body_is_read_only_up_to_the_limit() -> None:
    app = create_app(StandIn(), None)
    pulled: list[int] = []
    async with client(app) as http:
        response = await http.post("/omise/webhook", content=counted_body(100 * MAX_BODY, pulled))
    assert response.status_code == 413
    assert MAX_BODY < sum(pulled) <= MAX_BODY + 16 * 1024


async def test_a_body_at_the_limit_is_taken() -> None:
    app = create_app(StandIn(), None)
    async with client(app) as http:
        response = await http.post("/omise/webhook", content=b"{}" + b" " * (MAX_BODY - 2))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}


# Bounded confirmations


class NoAnnouncer:
    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        raise AssertionError("nothing should be announced")

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        raise AssertionError("nothing should be announced")

    async def cancelled(self, record: LinkRecord) -> None:
        raise AssertionError("nothing should be cancelled")


async def test_a_flood_of_events_is_bounded(
    omise: OmiseClient,
    store: Store,
    fake_omise: fakes.FakeOmise,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000 signed events for 1,000 charges, then replays, while Omise is slow to answer."""
    omise_answers = asyncio.Event()
    answer = fakes.respx_handler(fake_omise)

    async def slow_omise(request: httpx.Request) -> httpx.Response:
        await omise_answers.wait()
        return answer(request)

    app = create_app(PaymentWatcher(omise, store, NoAnnouncer()), SecretStr(WEBHOOK_SECRET))
    confirmations: Confirmations = app.state.confirmations
    bodies = [charge_event(f"chrg_test_flood{n:04d}") for n in range(1000)]
    statuses: Counter[int] = Counter()
    peak = 0
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=OMISE_URL).mock(side_effect=slow_omise)
        async with client(app) as http:
            for body in bodies:
                response = await http.post("/omise/webhook", content=body, headers=signed(body))
                statuses[response.status_code] += 1
                peak = max(peak, confirmations.waiting)
            replays: Counter[int] = Counter()
            for body in bodies[:100]:
                response = await http.post("/omise/webhook", content=body, headers=signed(body))
                replays[response.status_code] += 1
            omise_answers.set()
            await confirmations.drained()
            fetched = fake_omise.count("GET /charges/")
            # A refused event is not remembered: Omise's retry of it is taken.
            retried = await http.post(
                "/omise/webhook", content=bodies[-1], headers=signed(bodies[-1])
            )
            await confirmations.drained()
        await confirmations.aclose()

    assert peak <= MAX_WAITING
    assert set(statuses) == {202, 503}
    assert MAX_WAITING <= statuses[202] <= MAX_WAITING + CONFIRM_WORKERS
    assert confirmations.rejected == statuses[503] == 1000 - statuses[202]
    assert replays == {200: 100} and confirmations.duplicates == 100
    assert retried.status_code == 202
    assert fetched == statuses[202] <= MAX_WAITING + CONFIRM_WORKERS
    assert fake_omise.count("GET /charges/") == fetched + 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    full = [r for r in caplog.records if "waiting to be confirmed" in r.getMessage()]
    assert len(full) == 1  # one line for the flood, not one per refusal
    assert other_tasks() == set()


async def test_a_charge_already_waiting_is_queued_once() -> None:
    watcher = StandIn(hold={"chrg_busy"})
    confirmations = Confirmations(watcher, workers=1)
    assert confirmations.offer("chrg_busy", "evnt_1") is Offer.QUEUED
    await watcher.first_started()
    assert watcher.started == ["chrg_busy"]
    for number in range(2, 6):
        assert confirmations.offer("chrg_next", f"evnt_{number}") is Offer.QUEUED
    assert confirmations.waiting == 1
    # The charge in flight may have been fetched before it settled: it is queued again.
    assert confirmations.offer("chrg_busy", "evnt_6") is Offer.QUEUED
    assert confirmations.waiting == 2
    watcher.release.set()
    await confirmations.drained()
    assert watcher.finished == ["chrg_busy", "chrg_next", "chrg_busy"]
    await confirmations.aclose()


async def test_event_ids_are_remembered_within_bounds() -> None:
    confirmations = Confirmations(StandIn(), remember=3)
    for number in range(5):
        assert confirmations.offer(f"chrg_{number}", f"evnt_{number}") is Offer.QUEUED
    assert confirmations.remembered_events == 3
    assert confirmations.offer("chrg_4", "evnt_4") is Offer.DUPLICATE
    assert confirmations.offer("chrg_0", "evnt_0") is Offer.QUEUED  # forgotten: costs one fetch
    await confirmations.drained()
    await confirmations.aclose()


async def test_a_full_queue_answers_503_and_takes_the_retry_later() -> None:
    watcher = StandIn(hold={"chrg_a", "chrg_b"})
    app = create_app(
        watcher,
        SecretStr(WEBHOOK_SECRET),
        confirmations=Confirmations(watcher, workers=1, max_waiting=1),
    )
    async with client(app) as http:
        for charge_id in ("chrg_a", "chrg_b"):
            body = charge_event(charge_id)
            response = await http.post("/omise/webhook", content=body, headers=signed(body))
            assert response.status_code == 202
            await watcher.first_started()
        refused = charge_event("chrg_c")
        response = await http.post("/omise/webhook", content=refused, headers=signed(refused))
        assert response.status_code == 503 and response.json() == {"error": "busy"}
        watcher.release.set()
        await app.state.confirmations.drained()
        again = await http.post("/omise/webhook", content=refused, headers=signed(refused))
        assert again.status_code == 202
        await app.state.confirmations.drained()
    assert watcher.finished == ["chrg_a", "chrg_b", "chrg_c"]
    await app.state.confirmations.aclose()


# Stopping


async def test_stop_drops_waiting_charges_and_refuses_new_ones() -> None:
    watcher = StandIn(hold={"chrg_a"})
    confirmations = Confirmations(watcher, workers=1)
    confirmations.offer("chrg_a")
    await watcher.first_started()
    confirmations.offer("chrg_b")
    assert confirmations.waiting == 1
    closing = asyncio.create_task(confirmations.aclose(grace=5.0))
    await asyncio.sleep(0)  # aclose runs up to its wait for the charge in flight
    assert confirmations.waiting == 0
    assert confirmations.offer("chrg_c") is Offer.CLOSED
    watcher.release.set()  # the one in flight finishes within its grace
    await closing
    assert watcher.started == ["chrg_a"] and watcher.finished == ["chrg_a"]
    assert watcher.cancelled == []
    await confirmations.drained()
    assert other_tasks() == set()


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("linkbot.web.STOP_GRACE", 0.2)
    yield


async def test_stop_cancels_a_confirmation_stuck_on_a_slow_omise(
    short_grace: None, omise: OmiseClient, store: Store, fake_omise: fakes.FakeOmise
) -> None:
    asked, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck(request: httpx.Request) -> httpx.Response:
        asked.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("Omise never answers")

    app = create_app(PaymentWatcher(omise, store, NoAnnouncer()), SecretStr(WEBHOOK_SECRET))
    port = free_port()
    web = WebServer(app, f"127.0.0.1:{port}")
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(url__startswith=OMISE_URL).mock(side_effect=stuck)
        await web.start()
        body = charge_event("chrg_test_stuck")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            response = await http.post("/omise/webhook", content=body, headers=signed(body))
        assert response.status_code == 202
        async with asyncio.timeout(5):
            await asked.wait()
        await web.stop()
    assert cancelled.is_set()
    assert other_tasks() == set()
    # No longer listening, and a second stop is harmless.
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await http.get("/healthz")
    await web.stop()


# Health


NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("report", "status", "body"),
    [
        (
            Health(True, "ok", NOW),
            200,
            {"status": "ok", "last_payment_pass": NOW.isoformat()},
        ),
        (
            Health(True, "starting", None),
            200,
            {"status": "starting", "last_payment_pass": None},
        ),
        (
            Health(False, "watcher stalled: last pass 75 s ago", NOW),
            503,
            {
                "status": "unhealthy",
                "reason": "watcher stalled: last pass 75 s ago",
                "last_payment_pass": NOW.isoformat(),
            },
        ),
        (
            Health(False, "Omise refused the secret key", None),
            503,
            {
                "status": "unhealthy",
                "reason": "Omise refused the secret key",
                "last_payment_pass": None,
            },
        ),
    ],
)
async def test_healthz_reports_the_watcher(
    report: Health, status: int, body: dict[str, object]
) -> None:
    app = create_app(StandIn(report=report), SecretStr(WEBHOOK_SECRET))
    async with client(app) as http:
        response = await http.get("/healthz")
    assert response.status_code == status and response.json() == body
    assert fakes.OMISE_KEY not in response.text and WEBHOOK_SECRET not in response.text


async def test_healthz(webhook_app: Starlette, watcher: PaymentWatcher) -> None:
    async with client(webhook_app) as http:
        before = await http.get("/healthz")
        await watcher.run_pass()
        after = await http.get("/healthz")
    assert before.status_code == 200
    assert before.json() == {"status": "starting", "last_payment_pass": None}
    assert after.status_code == 200 and after.json()["status"] == "ok"
    assert after.json()["last_payment_pass"] is not None

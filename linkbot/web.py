"""The optional HTTP side: Omise and Telegram webhooks, a health check, metrics.

An ASGI app (Starlette) served by uvicorn in the bot's own event loop. An
Omise webhook body is never believed: a signed one only names a charge,
which the watcher fetches from Omise; an unsigned one (no webhook secret
set) only nudges the watcher to read Omise's events sooner. A Telegram
update is taken only with the secret header Telegram was given, and handed
to the Application's own update queue, so it meets the same handlers and
per-chat order as in polling.

Everything a caller can make this side do is bounded: a request head must
come in time and requests, not connections, are counted (see
:mod:`linkbot.connections`), a body is read up to :data:`MAX_BODY` and no
further, what is not JSON is a 400, and the charges waiting to be confirmed
are a short queue worked by a fixed number of tasks. What is refused is
not lost, because the watcher's polling finds every payment on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import logging
import math
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from linkbot import metrics
from linkbot.config import WEBHOOK_PATH
from linkbot.connections import (
    IDLE_TIMEOUT,
    HeadDeadlineProtocol,
    RequestLimit,
    ThrottledLog,
    check_uvicorn,
)
from linkbot.inbox import Application as UpdateQueue
from linkbot.inbox import Backlog
from linkbot.omise import NotFoundError, OmiseError
from linkbot.payments import Health
from linkbot.recent import RecentIds
from linkbot.webhook_input import NUMBER as _NUMBER
from linkbot.webhook_input import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NotJson,
    charge_event_of,
    load_json,
    verify_signature,
)
from linkbot.webhook_input import parse_charge_event as parse_charge_event

logger = logging.getLogger(__name__)

OMISE_PATH = "/omise/webhook"
MAX_BODY = 256 * 1024
# A body this small arrives in well under a second; a client dribbling it
# slower is holding a connection open, not delivering an event.
BODY_TIMEOUT = 10.0

MAX_WAITING = 100
CONFIRM_WORKERS = 2
# Omise redelivers an event it thinks was missed; a signed replay is only
# accepted within MAX_SIGNATURE_AGE, so a few minutes of events is enough.
REMEMBERED_EVENTS = 10_000
STOP_GRACE = 2.0

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates taken but not yet handled; past this Telegram is told 503 and
# retries later, rather than this process growing without bound.
MAX_PENDING_UPDATES = 1000
# Telegram redelivers an update whose answer was slow or lost, soon after.
REMEMBERED_UPDATES = 10_000


class Watcher(Protocol):
    """What the HTTP side needs of :class:`linkbot.payments.PaymentWatcher`."""

    async def confirm_charge(self, charge_id: str) -> bool: ...

    def nudge(self) -> None: ...

    def health(self) -> Health: ...


class Offer(enum.Enum):
    QUEUED = "queued"  # new, or the same charge is already waiting
    DUPLICATE = "duplicate"  # this event was taken before
    FULL = "full"
    CLOSED = "closed"


class Confirmations:
    """Charges named by webhooks, waiting to be confirmed with Omise.

    At most ``max_waiting`` charges wait, each once, and ``workers`` tasks
    confirm them, so a flood of events (forged ones too, when no webhook
    secret is set) costs Omise at most ``workers`` requests at a time and
    this process a fixed amount of memory.
    """

    def __init__(
        self,
        watcher: Watcher,
        *,
        workers: int = CONFIRM_WORKERS,
        max_waiting: int = MAX_WAITING,
        remember: int = REMEMBERED_EVENTS,
    ) -> None:
        self._watcher = watcher
        self._worker_count = workers
        self._queue: asyncio.Queue[str] = asyncio.Queue(max_waiting)
        self._waiting: set[str] = set()
        self._events: RecentIds[str] = RecentIds(remember)
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[int] = set()
        self._closed = False
        self._refusing = False
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    @property
    def remembered_events(self) -> int:
        return len(self._events)

    def offer(self, charge_id: str, event_id: str | None = None) -> Offer:
        if self._closed:
            return Offer.CLOSED
        if event_id is not None and event_id in self._events:
            self.duplicates += 1
            return Offer.DUPLICATE
        if charge_id not in self._waiting:
            if self._queue.full():
                self.rejected += 1
                if not self._refusing:
                    self._refusing = True
                    logger.warning(
                        "%d charges are already waiting to be confirmed: refusing webhooks "
                        "with 503 until they are; the payment watcher finds those payments",
                        self._queue.qsize(),
                    )
                return Offer.FULL
            self._queue.put_nowait(charge_id)
            self._waiting.add(charge_id)
            self._refusing = False  # the queue drained: a new flood gets a new log line
            self._start()
        if event_id is not None:
            # Remembered only once taken: a refused event must be welcome when Omise retries it.
            self._events.add(event_id)
        self.accepted += 1
        return Offer.QUEUED

    async def drained(self) -> None:
        """Wait until every charge offered so far has been confirmed (or dropped)."""
        await self._queue.join()

    async def aclose(self, grace: float | None = None) -> None:
        """Take no more charges, drop those waiting, give those in flight ``grace`` seconds.

        Whatever is dropped or cancelled here the watcher finds at its
        next pass, which the next start runs at once.
        """
        if self._closed and not self._workers:
            return
        self._closed = True
        dropped = 0
        while not self._queue.empty():
            self._waiting.discard(self._queue.get_nowait())
            self._queue.task_done()
            dropped += 1
        workers, self._workers = self._workers, []
        for index, worker in enumerate(workers):
            if index not in self._busy:
                worker.cancel()
        late: set[asyncio.Task[None]] = set()
        if workers:
            _, late = await asyncio.wait(workers, timeout=STOP_GRACE if grace is None else grace)
            for worker in late:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if dropped or late:
            logger.info(
                "Stopped confirming webhooks: %d waiting dropped, %d cancelled in flight; "
                "the next payment pass picks them up",
                dropped,
                len(late),
            )

    def _start(self) -> None:
        # Started on first use, inside the server's event loop.
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(index), name=f"linkbot-confirm-{index}")
                for index in range(self._worker_count)
            ]

    async def _work(self, index: int) -> None:
        while not self._closed:
            charge_id = await self._queue.get()
            self._waiting.discard(charge_id)
            self._busy.add(index)
            try:
                await _confirm(self._watcher, charge_id)
            finally:
                self._busy.discard(index)
                self._queue.task_done()


async def _confirm(watcher: Watcher, charge_id: str) -> None:
    try:
        await watcher.confirm_charge(charge_id)
    except NotFoundError:
        logger.info("A webhook named charge %s, which Omise does not know", charge_id)
    except OmiseError as exc:
        logger.warning("Could not confirm charge %s with Omise: %s", charge_id, exc.message)
    except Exception:
        logger.exception("Could not confirm charge %s", charge_id)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    """The body, read no further than :data:`MAX_BODY`; raises :class:`_TooLarge` past it."""
    declared = request.headers.get("content-length", "")
    if _NUMBER.fullmatch(declared) and int(declared) > MAX_BODY:
        raise _TooLarge
    body = bytearray()
    # The declared length is not believed: the bytes are counted as they come.
    async with contextlib.aclosing(request.stream()) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > MAX_BODY:
                raise _TooLarge
    return bytes(body)


class Inbox(Protocol):
    """Keeps an update before it is acknowledged (see :mod:`linkbot.inbox`)."""

    async def keep(self, update_id: int, body: bytes) -> bool: ...


class TelegramWebhook:
    """``POST /telegram/webhook``: updates from Telegram onto the Application's update queue.

    Nothing of a request is read before its secret header matches. The
    answer comes as soon as the update is queued, not once it is handled:
    Telegram delivers again what it does not see answered 2xx, and a
    command waiting on Omise would keep it waiting. Updates delivered again
    are recognised by their ``update_id`` and dropped; ``backlog`` counts
    the updates taken but not yet handled, so past ``max_pending`` of them
    Telegram is answered 503 and retries later. With an ``inbox``, an update
    is kept in the store before it is acknowledged (one kept already, by
    any instance, is a duplicate), so it outlives this process.
    """

    def __init__(
        self,
        application: UpdateQueue,
        secret: SecretStr,
        *,
        backlog: Backlog | None = None,
        max_pending: int = MAX_PENDING_UPDATES,
        remember: int = REMEMBERED_UPDATES,
        inbox: Inbox | None = None,
    ) -> None:
        self._application = application
        self._inbox = inbox
        self._secret = secret.get_secret_value().encode()
        self._backlog = backlog
        self._max_pending = max_pending
        self._seen: RecentIds[int] = RecentIds(remember)
        self._refusing = False
        # Anyone can send a refused request: a flood of them is a line a minute.
        self._refusals = ThrottledLog(logger)
        self.accepted = 0

    def route(self, path: str = WEBHOOK_PATH) -> Route:
        return Route(path, self.endpoint, methods=["POST"])

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "").encode()
        return hmac.compare_digest(given, self._secret)

    async def endpoint(self, request: Request) -> Response:
        outcome, response = await self._handle(request)
        metrics.recorder().webhook_request("telegram", outcome)
        return response

    async def _handle(self, request: Request) -> tuple[str, Response]:
        if not self._authorized(request):
            self._refusals.warning(
                "telegram secret",
                "Refused a Telegram webhook request with a missing or wrong secret",
            )
            return "forbidden", JSONResponse(
                {"error": "forbidden"}, status_code=403, headers={"Connection": "close"}
            )
        body = await _read_limited(request)
        if isinstance(body, tuple):
            return body
        update = self._parse(body)
        if update is None:
            return "bad_request", JSONResponse({"error": "not an update"}, status_code=400)
        if update.update_id in self._seen:
            return "duplicate", JSONResponse({"status": "duplicate"})
        queue = self._application.update_queue
        pending = queue.qsize() if self._backlog is None else self._backlog.unfinished
        if pending >= self._max_pending:
            if not self._refusing:
                self._refusing = True
                logger.warning(
                    "%d updates are waiting to be handled: answering Telegram 503 until they "
                    "are; it delivers them again",
                    pending,
                )
            return "busy", JSONResponse(
                {"error": "busy"}, status_code=503, headers={"Retry-After": "5"}
            )
        self._refusing = False
        if self._inbox is not None:
            try:
                kept = await self._inbox.keep(update.update_id, body)
            except Exception as exc:
                # Not kept, so not acknowledged: Telegram delivers it again.
                logger.warning("Could not keep a Telegram update (%s)", type(exc).__name__)
                return "unavailable", JSONResponse(
                    {"error": "unavailable"}, status_code=503, headers={"Retry-After": "5"}
                )
            if not kept:
                # Another instance (or this one, a moment ago) took it first.
                return "duplicate", JSONResponse({"status": "duplicate"})
        if self._backlog is not None:
            self._backlog.expect(update)
        queue.put_nowait(update)
        # Remembered only once queued: a refused update must be welcome when Telegram retries.
        self._seen.add(update.update_id)
        self.accepted += 1
        return "accepted", JSONResponse({"status": "ok"})

    def _parse(self, body: bytes) -> Update | None:
        try:
            data = load_json(body)
        except NotJson:
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("update_id"), int)
            or isinstance(data.get("update_id"), bool)
        ):
            return None
        try:
            return Update.de_json(data, self._application.bot)
        except Exception as exc:
            logger.info(
                "Refused a Telegram webhook body that is not an update (%s)", type(exc).__name__
            )
            return None


async def _read_limited(request: Request) -> bytes | tuple[str, Response]:
    """The body, or why it was not read (an outcome for the metrics) and the answer."""
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            return await _read_body(request)
    except _TooLarge:
        # Closing the connection keeps the server from reading the rest of the body.
        return "too_large", JSONResponse(
            {"error": "too large"}, status_code=413, headers={"Connection": "close"}
        )
    except TimeoutError:
        return "too_slow", JSONResponse(
            {"error": "body too slow"}, status_code=408, headers={"Connection": "close"}
        )
    except ClientDisconnect:
        return "disconnected", Response(status_code=400)


async def metrics_endpoint(request: Request) -> Response:
    try:
        body, content_type = metrics.recorder().exposition()
    except LookupError:
        return Response(status_code=404)
    return Response(body, headers={"Content-Type": content_type})


def create_app(
    watcher: Watcher,
    webhook_secret: SecretStr | None,
    *,
    confirmations: Confirmations | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    if webhook_secret is None:
        logger.warning(
            "OMISE_WEBHOOK_SECRET is not set: a webhook cannot be verified, so it only makes "
            "the bot read Omise's events sooner (at most once a second) instead of fetching the "
            "charge it names. Set it to the webhook signing secret from the Omise dashboard "
            "(Webhooks)."
        )
    queue = confirmations if confirmations is not None else Confirmations(watcher)
    # Anyone can send a refused webhook: a flood of them is a line a minute.
    refusals = ThrottledLog(logger)

    async def omise_webhook(request: Request) -> Response:
        outcome, response = await handle_omise(request)
        metrics.recorder().webhook_request("omise", outcome)
        return response

    async def handle_omise(request: Request) -> tuple[str, Response]:
        body = await _read_limited(request)
        if isinstance(body, tuple):
            return body
        if webhook_secret is not None:
            timestamp = request.headers.get(TIMESTAMP_HEADER)
            if timestamp is not None and not _NUMBER.fullmatch(timestamp):
                refusals.warning(
                    "timestamp", "Refused a webhook whose signature timestamp is not a number"
                )
                return "bad_request", JSONResponse({"error": "bad timestamp"}, status_code=400)
            if not verify_signature(
                webhook_secret,
                body,
                request.headers.get(SIGNATURE_HEADER),
                timestamp,
                now=time.time(),
            ):
                refusals.warning("signature", "Refused a webhook with a missing or wrong signature")
                return "bad_signature", JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            event = charge_event_of(load_json(body))
        except NotJson as exc:
            refusals.warning("not json", "Refused a webhook whose body is not JSON (%s)", exc)
            return "bad_request", JSONResponse({"error": "not json"}, status_code=400)
        if event is None:
            return "ignored", JSONResponse({"status": "ignored"})
        if webhook_secret is None:
            # Anyone may have sent it: it only tells the watcher to read Omise's
            # events soon, which many such webhooks together do once.
            watcher.nudge()
            return "nudged", JSONResponse({"status": "accepted"}, status_code=202)
        offer = queue.offer(event.charge_id, event.event_id)
        if offer is Offer.DUPLICATE:
            return "duplicate", JSONResponse({"status": "duplicate"})
        if offer is not Offer.QUEUED:
            busy = offer is Offer.FULL
            return "busy" if busy else "stopping", JSONResponse(
                {"error": "busy" if busy else "stopping"},
                status_code=503,
                headers={"Retry-After": "60"},
            )
        # Answered at once: Omise gives up on slow endpoints, and confirming takes a round trip.
        return "accepted", JSONResponse({"status": "accepted"}, status_code=202)

    async def healthz(request: Request) -> Response:
        health = watcher.health()
        last = health.last_pass.isoformat() if health.last_pass else None
        if not health.ok:
            return JSONResponse(
                {"status": "unhealthy", "reason": health.reason, "last_payment_pass": last},
                status_code=503,
            )
        # A standby instance is healthy: another one watches payments.
        status = health.reason if health.reason in ("starting", "standby") else "ok"
        return JSONResponse({"status": status, "last_payment_pass": last})

    app = Starlette(
        routes=[
            Route(OMISE_PATH, omise_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *routes,
        ]
    )
    app.state.confirmations = queue
    return app


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the bot owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    def __init__(
        self, app: Starlette, listen: str, *, telegram_paths: Sequence[str] = (WEBHOOK_PATH,)
    ) -> None:
        self._listen = listen
        host, _, port = listen.rpartition(":")
        self._address = (host.strip("[]"), int(port))
        config = uvicorn.Config(
            # Each webhook path has its requests counted apart (telegram_paths: a
            # LINKBOT_WEBHOOK_URL with a path of its own is served under it too).
            RequestLimit(app, separate=(OMISE_PATH, *telegram_paths)),
            host=self._address[0],
            port=self._address[1],
            log_level="warning",
            # uvicorn's own handlers would write past the JSON format and the redaction.
            log_config=None,
            lifespan="off",
            access_log=False,
            # Deadlines for request heads, and a cap on requests rather than on
            # connections (see linkbot.connections): idle sockets cannot hold the listener.
            http=HeadDeadlineProtocol,
            timeout_keep_alive=IDLE_TIMEOUT,
            timeout_graceful_shutdown=math.ceil(STOP_GRACE),
        )
        check_uvicorn(config)
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None
        confirmations = getattr(app.state, "confirmations", None)
        self._confirmations = confirmations if isinstance(confirmations, Confirmations) else None

    async def start(self) -> None:
        """Start serving; raises :class:`OSError` when the address cannot be listened on."""
        # Bound here, not by uvicorn, which would exit the whole process on a taken port.
        try:
            listening = socket.create_server(
                self._address, family=socket.AF_INET6 if ":" in self._address[0] else socket.AF_INET
            )
        except OSError as exc:
            raise OSError(f"could not listen on {self._listen}: {exc.strerror}") from None
        # asyncio turns Nagle off only on sockets it knows as TCP, and create_server's
        # are not (proto 0); left on, each answer waits 40 ms for the client's delayed ACK.
        # Accepted connections inherit the option.
        listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._task = asyncio.create_task(self._server.serve(sockets=[listening]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise RuntimeError("the HTTP server stopped at start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop taking requests, then settle the confirmations, all before the store closes.

        Safe to call more than once.
        """
        task, self._task = self._task, None
        if task is not None:
            self._server.should_exit = True
            await task
        if self._confirmations is not None:
            await self._confirmations.aclose()

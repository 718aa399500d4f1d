"""The optional HTTP side: Omise webhooks and a health check.

An ASGI app (Starlette) served by uvicorn in the bot's own event loop, so a
Telegram webhook endpoint can join it later. A webhook body is never
believed: it only names a charge, which the watcher fetches from Omise.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from linkbot.omise import OmiseError
from linkbot.payments import PaymentWatcher

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Omise-Signature"
TIMESTAMP_HEADER = "Omise-Signature-Timestamp"
MAX_SIGNATURE_AGE = 300
MAX_BODY = 256 * 1024


def verify_signature(
    secret: SecretStr, body: bytes, signatures: str | None, timestamp: str | None, *, now: float
) -> bool:
    """Check ``Omise-Signature``: hex HMAC-SHA256 of ``"{timestamp}.{body}"``.

    The key is the base64-decoded webhook secret. During a secret rotation
    the header holds two comma-separated signatures; either may match.
    Timestamps more than five minutes away from ``now`` are refused, so a
    captured request cannot be replayed later.
    """
    if not signatures or not timestamp or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > MAX_SIGNATURE_AGE:
        return False
    try:
        key = base64.b64decode(secret.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        key = secret.get_secret_value().encode()
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, candidate.strip().lower())
        for candidate in signatures.split(",")
    )


def create_app(watcher: PaymentWatcher, webhook_secret: SecretStr | None) -> Starlette:
    tasks: set[asyncio.Task[None]] = set()

    async def omise_webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "too large"}, status_code=413)
        if webhook_secret is not None and not verify_signature(
            webhook_secret,
            body,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            now=time.time(),
        ):
            logger.warning("Refused a webhook with a missing or wrong signature")
            return JSONResponse({"error": "bad signature"}, status_code=401)
        charge_id = _completed_charge(body)
        if charge_id is None:
            return JSONResponse({"status": "ignored"})
        # Answer at once; Omise retries slow endpoints. The watcher heals a lost task.
        task = asyncio.create_task(_confirm(watcher, charge_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"status": "accepted"}, status_code=202)

    async def healthz(request: Request) -> Response:
        last = watcher.last_pass_at
        return JSONResponse(
            {"status": "ok", "last_payment_pass": last.isoformat() if last else None}
        )

    app = Starlette(
        routes=[
            Route("/omise/webhook", omise_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    app.state.confirmations = tasks
    return app


def _completed_charge(body: bytes) -> str | None:
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("key") != "charge.complete":
        return None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("object") != "charge":
        return None
    charge_id = data.get("id")
    return charge_id if isinstance(charge_id, str) and charge_id.startswith("chrg_") else None


async def _confirm(watcher: PaymentWatcher, charge_id: str) -> None:
    try:
        await watcher.confirm_charge(charge_id)
    except OmiseError as exc:
        logger.warning("Could not confirm charge %s with Omise: %s", charge_id, exc.message)
    except Exception:
        logger.exception("Could not confirm charge %s", charge_id)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the bot owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    def __init__(self, app: Starlette, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        config = uvicorn.Config(
            app,
            host=host.strip("[]"),
            port=int(port),
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise RuntimeError("the HTTP server stopped at start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task

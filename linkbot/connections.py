"""HTTP connections that cannot hold the listener: a deadline for every request head.

uvicorn's h11 protocol waits for a new connection's first request without
any limit, and its keep-alive timeout ends at the first byte of the next
one; its ``limit_concurrency`` counts open connections, not requests. So a
hundred sockets that never send a byte would make every request, the
health check's too, a 503 for as long as they stay open. Here a connection
has :data:`HEADER_TIMEOUT` seconds for each request head (from its opening,
or from the answer before), the requests served at once are counted rather
than the connections (each webhook on its own, the health check and metrics
not at all), and past :data:`max_open_connections` the connection that has
waited longest for a head makes room for the newcomer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import resource
import time
from collections.abc import Callable, Iterable
from typing import Any

import h11
import uvicorn
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

logger = logging.getLogger(__name__)

# Time for a whole request head, however it is dribbled: a real client
# sends one in a single packet, so only a socket held open waits this long.
HEADER_TIMEOUT = 10.0
# A kept-alive connection that sends nothing is closed after this (uvicorn's own timer).
IDLE_TIMEOUT = 5
# Requests served at once to each endpoint that reads a body (and to all
# the rest together); each may hold a body of up to 256 KiB in memory.
MAX_REQUESTS = 100
# Paths that read no body and answer at once: never refused for the limit.
UNLIMITED_PATHS = ("/healthz", "/metrics")
# A warning that anyone can cause is written at most this often, per kind.
WARNING_INTERVAL = 60.0
# Open connections, whatever they do: each holds a file descriptor, which the
# database and the connections to Telegram and Omise need as well.
MAX_OPEN_CONNECTIONS = 1000


def max_open_connections() -> int:
    """:data:`MAX_OPEN_CONNECTIONS`, or half the process's file descriptors if that is fewer."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_OPEN_CONNECTIONS
    return max(1, min(MAX_OPEN_CONNECTIONS, soft // 2))


class ThrottledLog:
    """Warnings, at most one a :data:`WARNING_INTERVAL` per kind, saying how many it held back."""

    def __init__(self, log: logging.Logger, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._clock = clock
        self._kinds: dict[str, tuple[float, int]] = {}  # kind: (last written, held back since)

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = self._clock()
        last = self._kinds.get(kind)
        if last is not None and now - last[0] < WARNING_INTERVAL:
            self._kinds[kind] = (last[0], last[1] + 1)
            return
        if last is not None and last[1]:
            message += f" (and {last[1]} more times in the last {WARNING_INTERVAL:.0f} s)"
        self._log.warning(message, *args)
        self._kinds[kind] = (now, 0)


throttled = ThrottledLog(logger)

# What HeadDeadlineProtocol takes from uvicorn's H11Protocol, which documents none of it.
_HOOKS = ("connection_made", "data_received", "connection_lost", "on_response_complete")
_INIT_PARAMETERS = ("config", "server_state", "app_state", "_loop")
_STATE = {"conn": h11.Connection, "connections": set, "loop": asyncio.AbstractEventLoop}


def check_uvicorn(config: Config) -> None:
    """Raise :class:`RuntimeError` unless this uvicorn has what the deadlines rely on.

    Its protocol's hooks and constructor are looked at on the class, and
    its per-connection state on a protocol made (and dropped) without a
    connection, so a uvicorn that changed them stops the start rather than
    leaving connections without a deadline.
    """
    missing = [name for name in _HOOKS if not callable(getattr(H11Protocol, name, None))]
    parameters = inspect.signature(H11Protocol.__init__).parameters
    missing += [f"__init__({name})" for name in _INIT_PARAMETERS if name not in parameters]
    if not missing:
        loop = asyncio.new_event_loop()
        try:
            probe = H11Protocol(config, ServerState(), {}, _loop=loop)
            missing = [
                name
                for name, kind in _STATE.items()
                if not isinstance(getattr(probe, name, None), kind)
            ]
            missing += [] if hasattr(probe, "transport") else ["transport"]
        finally:
            loop.close()
    if missing:
        raise RuntimeError(
            f"uvicorn {uvicorn.__version__} lacks what the HTTP front relies on in "
            f"H11Protocol: {', '.join(missing)}; install a uvicorn this release was tested with"
        )


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is late.

    The deadline runs while no request is being served: from the moment
    the connection opens or the last answer is sent until a complete head
    has arrived; bytes that trickle in do not move it. An answer given
    before its request's body was read (a health check sent with a body,
    an unknown path) starts it too: uvicorn throws the rest of that body
    away as it comes, and its own keep-alive timer ends at the first byte.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_deadline: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > max_open_connections():
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        served = self.conn.their_state is h11.IDLE or self.conn.our_state is h11.DONE
        waiting = served and not self.transport.is_closing()
        if not waiting:
            self._stop_waiting()
        elif self._head_deadline is None:
            self.waiting_since = time.monotonic()
            self._head_deadline = self.loop.call_later(HEADER_TIMEOUT, self._head_too_late)

    def _stop_waiting(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.waiting_since = None

    def _head_too_late(self) -> None:
        self._head_deadline = self.waiting_since = None
        # Not logged: a line per idle socket would let anyone flood the log.
        self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a head; this one if none waits."""
        waiting = [
            connection
            for connection in self.connections
            if isinstance(connection, HeadDeadlineProtocol)
            and connection is not self
            and connection.waiting_since is not None
        ]
        oldest = min(waiting, key=lambda c: c.waiting_since or 0.0, default=self)
        throttled.warning(
            "room",
            "%d connections are open: closing those waiting longest for a request to make room",
            len(self.connections),
        )
        oldest._stop_waiting()
        oldest.transport.close()


class RequestLimit:
    """At most ``limit`` requests served at once to each of ``separate`` paths, and to all
    other paths together; past it 503, with a log line a minute.

    Unlike uvicorn's ``limit_concurrency`` this counts requests, not open
    connections, so sockets waiting for a head take nothing from a webhook
    or the health check. Each webhook has a limit of its own, so bodies
    stalled on one (forged Omise events, say) never refuse the other, and
    the ``unlimited`` paths, which read no body, are never refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_REQUESTS,
        *,
        separate: Iterable[str] = (),
        unlimited: Iterable[str] = UNLIMITED_PATHS,
    ) -> None:
        self.app = app
        self.limit = limit
        self._unlimited = frozenset(unlimited)
        self.serving = dict.fromkeys(separate, 0)
        self.serving[""] = 0  # every other path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in self._unlimited:
            await self.app(scope, receive, send)
            return
        key = path if path in self.serving else ""
        if self.serving[key] >= self.limit:
            throttled.warning(
                f"busy {key}",
                "%d HTTP requests to %s are being served: answering 503 until fewer are",
                self.serving[key],
                key or "other paths",
            )
            busy = JSONResponse(
                {"error": "busy"},
                status_code=503,
                headers={"Retry-After": "5", "Connection": "close"},
            )
            await busy(scope, receive, send)
            return
        self.serving[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.serving[key] -= 1

"""HTTP connections that cannot hold the listener: a deadline for every request head.

uvicorn's h11 protocol waits for a new connection's first request without
any limit, and its keep-alive timeout ends at the first byte of the next
one; its ``limit_concurrency`` counts open connections, not requests. So a
hundred sockets that never send a byte would make every request, the
health check's too, a 503 for as long as they stay open. Here a connection
has :data:`HEADER_TIMEOUT` seconds for each request head (from its opening,
or from the answer before), the requests served at once are counted rather
than the connections, and past :data:`max_open_connections` the connection
that has waited longest for a head makes room for the newcomer.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
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
# Requests served at once; each may hold a body of up to 256 KiB in memory.
MAX_REQUESTS = 100
# Open connections, whatever they do: each holds a file descriptor, which the
# database and the connections to Telegram and Omise need as well.
MAX_OPEN_CONNECTIONS = 1000


def max_open_connections() -> int:
    """:data:`MAX_OPEN_CONNECTIONS`, or half the process's file descriptors if that is fewer."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_OPEN_CONNECTIONS
    return max(1, min(MAX_OPEN_CONNECTIONS, soft // 2))


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is late.

    The deadline runs while the client is between requests (h11's IDLE
    state), from the moment the connection opens or the last answer is
    sent until a complete head has arrived; bytes that trickle in do not
    move it.
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
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
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
        oldest._stop_waiting()
        oldest.transport.close()


class RequestLimit:
    """At most ``limit`` requests served at once; past it 503, with one log line a flood.

    Unlike uvicorn's ``limit_concurrency`` this counts requests, not open
    connections, so sockets waiting for a head take nothing from a webhook
    or the health check.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUESTS) -> None:
        self.app = app
        self.limit = limit
        self.serving = 0
        self._refusing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.serving >= self.limit:
            if not self._refusing:
                self._refusing = True
                logger.warning(
                    "%d HTTP requests are being served: answering 503 until fewer are", self.serving
                )
            busy = JSONResponse(
                {"error": "busy"},
                status_code=503,
                headers={"Retry-After": "5", "Connection": "close"},
            )
            await busy(scope, receive, send)
            return
        self._refusing = False
        self.serving += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.serving -= 1

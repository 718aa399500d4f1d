"""A fake served two ways: as a respx side effect, or as an HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from linkbot.sandbox.fakes.omise import FakeOmise
from linkbot.sandbox.fakes.telegram import FakeTelegram

# As a respx side effect


def respx_handler(fake: FakeOmise | FakeTelegram) -> Callable[[httpx.Request], httpx.Response]:
    def side_effect(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = fake.handle(request.method, target, headers, request.read())
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if answer.delay:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(answer.status, json=answer.body, headers=answer.headers)

    return side_effect


# As a real HTTP server on 127.0.0.1


@contextmanager
def serve(fake: FakeOmise | FakeTelegram) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 on a free port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without this, delayed ACKs add 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake.serving():
                answer = fake.handle(self.command, self.path, headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if isinstance(fake, FakeTelegram):
            fake.close()
        server.shutdown()
        server.server_close()

"""Run the real ``linkbot`` process against the local fakes."""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from linkbot.sandbox import fakes


def clean_environment() -> dict[str, str]:
    """This environment without any setting of the bot's, so only what a test gives counts."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINKBOT_", "OMISE_", "TELEGRAM_"))
        and k not in ("PORT", "DATABASE_URL")
    }


def wait_until(
    condition: Callable[[], object],
    timeout: float = 10.0,
    what: str = "the condition",
    poll: float = 0.02,
) -> float:
    """Wait for ``condition()`` to hold; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(poll)
    return time.monotonic()


# Ports for the servers tests start: below Linux's ephemeral range (32768 and up),
# which outgoing connections are given theirs from, and a range for each test worker.
_FIRST_PORT = 12000
_PORTS_PER_WORKER = 2000
_offset = random.randrange(_PORTS_PER_WORKER)


def free_port() -> int:
    """A port nothing listens on, for a server a test is about to start.

    Taken from this worker's own range rather than asked of the kernel, so
    that neither another worker's server nor an outgoing connection is
    handed it between this check and the server binding it.
    """
    global _offset
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = _FIRST_PORT + (int(worker) % 8 if worker.isdigit() else 0) * _PORTS_PER_WORKER
    for _ in range(_PORTS_PER_WORKER):
        port = first + _offset % _PORTS_PER_WORKER
        _offset += 1
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in this test worker's range")


class BotProcess:
    def __init__(
        self,
        workdir: Path,
        telegram_url: str,
        omise_url: str,
        python: str = sys.executable,
        **env: str,
    ) -> None:
        self.workdir = workdir
        self.python = python
        self.env = {
            **clean_environment(),
            "TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN,
            "OMISE_SECRET_KEY": fakes.OMISE_KEY,
            "TELEGRAM_API_URL": telegram_url,
            "OMISE_API_URL": omise_url,
            "LINKBOT_DATABASE": str(workdir / "linkbot.db"),
            "LINKBOT_LOG_LEVEL": "DEBUG",
            **env,
        }
        self.log_path = workdir / "linkbot.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [self.python, "-m", "linkbot"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until_serving(url: str, bot: BotProcess, timeout: float = 30.0, poll: float = 0.1) -> None:
    """Until ``url``/healthz answers at all, whatever its status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert bot.running, bot.log()
        # urllib, not httpx: an httpx client costs milliseconds to make, and the
        # process benchmark counts this wait in its start-up figure.
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1.0):
                return
        except urllib.error.HTTPError:
            return
        except (OSError, http.client.HTTPException):
            time.sleep(poll)
    raise AssertionError(f"/healthz never answered\n{bot.log()}")

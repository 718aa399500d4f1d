"""What the fakes share: an answer, the faults queued instead of one, requests counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    # "drop": close the connection without an answer, after the request was read.
    drop: bool = False
    delay: float = 0.0


@dataclass
class Fault:
    """What to do instead of answering the next matching request."""

    match: str  # "POST /links", "GET /links", "sendMessage", ... ("*" for any)
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    # Whether the request still takes effect (a create whose answer is lost).
    apply: bool = False
    times: int = 1


class _Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, key: str) -> Fault | None:
        for fault in self._faults:
            if fault.match in (key, "*") or key.startswith(fault.match + " "):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


class _Concurrency:
    """Counts requests being served at once (through :func:`serve`)."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self._count_lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[None]:
        with self._count_lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            yield
        finally:
            with self._count_lock:
                self.active -= 1

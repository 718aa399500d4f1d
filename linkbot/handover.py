"""Whether a notice being announced may already have reached its chat.

The watcher gives each announcement a deadline, and a shutdown may cancel
it. Cut off while its message is on the way to Telegram, the notice may
have been shown and must not be sent again; cut off while it still waits
for its turn (the rate limiter, a pause before another try), it surely
was not, and is tried again. The sending side marks the moment a message
is handed to Telegram (:func:`posting`); the watcher reads the mark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar


class Handover:
    """What one announcement has handed to Telegram so far."""

    def __init__(self) -> None:
        # A message may have reached the chat (its request went out, and no
        # answer said otherwise).
        self.out = False


_current: ContextVar[Handover | None] = ContextVar("handover", default=None)


@contextlib.contextmanager
def watching() -> Iterator[Handover]:
    """Follow what is handed to Telegram within (the same task), for one announcement."""
    handover = Handover()
    token = _current.set(handover)
    try:
        yield handover
    finally:
        _current.reset(token)


@contextlib.contextmanager
def posting(may_have_arrived: Callable[[Exception], bool]) -> Iterator[None]:
    """Around the request that posts a message: from its start, the message may arrive.

    A failure that ``may_have_arrived`` says Telegram surely did not act on
    takes the mark back; a cancellation or deadline in flight leaves it.
    """
    handover = _current.get()
    if handover is None:
        yield
        return
    before, handover.out = handover.out, True
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, TimeoutError) and not may_have_arrived(exc):
            handover.out = before
        raise

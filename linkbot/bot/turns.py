"""Answers in the order commands were sent, while the slow part of each overlaps.

A merchant at a busy counter sends ``/link`` after ``/link``; each waits
about as long as Omise takes to create a link. Handled strictly one after
the other, the tenth waits for nine round trips. Instead, the chat's queue
(:class:`linkbot.bot.app.PerChatUpdateProcessor`) lets link commands start
at once and has each one wait for :func:`my_turn` just before it answers:
the links are created side by side, and the answers still come in the
order the commands were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# What the update being handled waits for before it answers: every earlier
# update of its chat answered. Set per update task by the chat's queue.
_earlier: ContextVar[asyncio.Future[None] | None] = ContextVar("linkbot_earlier", default=None)


@contextlib.contextmanager
def overlapping(earlier: asyncio.Future[None] | None) -> Iterator[None]:
    """Within this block, :func:`my_turn` waits for ``earlier``."""
    token = _earlier.set(earlier)
    try:
        yield
    finally:
        _earlier.reset(token)


async def my_turn() -> None:
    """Wait until the chat's earlier updates are answered (at once outside an overlap)."""
    earlier = _earlier.get()
    if earlier is not None and not earlier.done():
        # Shielded: a cancelled handler must not cancel the chat's chain.
        await asyncio.shield(earlier)

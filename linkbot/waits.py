"""Waiting for whichever comes first: a stop, a signal, or the end of a pause."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class Stopped(Exception):
    """The stop came first."""


async def first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``waits`` is done; cancel the rest."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Also when the waiting itself is cancelled: no waiter is left behind.
        for task in tasks:
            task.cancel()


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile, so stopping is prompt."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def unless_stopped(stop: asyncio.Event, work: Awaitable[_T]) -> _T:
    """``work``'s result, or :class:`Stopped` as soon as ``stop`` is set (``work`` cancelled).

    Only for work that may be cut short at any point: reads, waits, and the
    store's calls (see :func:`uninterrupted`). Returns once ``work`` has
    ended, so nothing of it goes on behind the caller.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
    if task in done:
        return task.result()
    if not task.cancelled():
        task.exception()  # seen: whatever it was, the stop came first
    raise Stopped


def uninterrupted(
    operation: Callable[_P, Coroutine[Any, Any, _T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """``operation`` run to its end even when its caller is cancelled meanwhile.

    The caller's cancellation goes on once the operation is over. For the
    store's calls on SQLite: one cancelled while the database works on it
    may leave its connection inside the transaction with the file's write
    lock held, so that every later write (the sign-off at shutdown among
    them) waits out the 30 s busy timeout. Each call is short; its
    transaction is committed or rolled back, never left open.
    """

    @functools.wraps(operation)
    async def run_to_end(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        task = asyncio.ensure_future(operation(*args, **kwargs))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            while not task.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # seen: the caller is cancelled whatever it was
            raise

    return run_to_end

"""The webhook's inbox: no update Telegram was answered 200 for is lost with its instance.

In webhook mode Telegram hears 200 as soon as an update is queued, long
before it is handled, and never delivers it again. So the update is kept
in the store first (one INSERT, which also tells a redelivery to another
instance from a new update), marked handled once the bot has handled it
(one UPDATE), and purged later. An instance that dies leaves its unhandled
updates behind; the instance watching payments adopts them, one winner
each, and handles them as if Telegram had delivered them to it. A command
the dead instance had already claimed is settled through its claim, so it
still makes one link at most.

Polling needs none of this: an update is fetched again until the next
``getUpdates`` confirms it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from telegram import Update

from linkbot.instances import ended_here
from linkbot.store import Store

logger = logging.getLogger(__name__)

# Telegram delivers again soon after a lost answer; handled updates are
# remembered this long so a redelivery to another instance is dropped.
KEEP_HANDLED = timedelta(hours=1)
# An update never marked handled (its mark failed to be written) is dropped
# after this long; its commands' own records have long been settled.
KEEP_UNHANDLED = timedelta(days=1)
PURGE_EVERY = 600.0


class Application(Protocol):
    """What the inbox needs of the bot: a bot to read updates with, the queue they go on."""

    @property
    def bot(self) -> Any: ...

    @property
    def update_queue(self) -> asyncio.Queue[object]: ...


class Backlog(Protocol):
    """Counts the updates queued until they are handled (the webhook's backpressure)."""

    def expect(self, update: object) -> None: ...

    @property
    def unfinished(self) -> int: ...


class Inbox:
    """Webhook updates, kept from their 200 until handled, adopted from dead instances."""

    def __init__(
        self,
        store: Store,
        application: Application,
        backlog: Backlog,
        *,
        max_pending: int,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._inbox = store.inbox
        self._application = application
        self._backlog = backlog
        self._max_pending = max_pending
        self._now = now or (lambda: datetime.now(UTC))
        # Heartbeats are judged on the database's clock, unless a test set the time.
        self._judge_at = now
        self._purged_at: float | None = None
        # Updates handled whose mark could not be written: written again later,
        # never left for a survivor to handle a second time after a clean stop.
        self._unmarked: dict[int, datetime] = {}

    async def keep(self, update_id: int, body: bytes) -> bool:
        """Keep an update before it is acknowledged; False when one is kept already.

        Raises what the store raises: an update that could not be kept must
        not be acknowledged.
        """
        try:
            text = body.decode()
        except UnicodeDecodeError:
            # JSON may come in UTF-16 or 32; Telegram's is UTF-8, this is only a fallback.
            text = json.dumps(json.loads(body))
        return await self._inbox.save_update(update_id, text, self._now())

    async def handled(self, update: object) -> None:
        """The bot has handled ``update``: it needs no adopting if this instance dies."""
        if not isinstance(update, Update):
            return
        at = self._now()
        if not await self._mark(update.update_id, at):
            # Marked again at the next pass and before this instance signs off.
            self._unmarked[update.update_id] = at

    async def mark_again(self) -> None:
        """Write the handled marks that failed before; they stay pending if it fails again."""
        for update_id, at in list(self._unmarked.items()):
            if not await self._mark(update_id, at):
                return
            del self._unmarked[update_id]

    async def _mark(self, update_id: int, at: datetime) -> bool:
        """Record ``update_id`` handled at ``at``; False, with a warning, if the store failed."""
        try:
            await self._inbox.update_handled(update_id, at)
        except Exception as exc:
            logger.warning("Could not mark update %d handled (%s)", update_id, type(exc).__name__)
            return False
        return True

    async def adopt(self) -> int:
        """Handle the unhandled updates of instances that died; returns how many were taken.

        No more are taken than the backlog has room for: the rest wait for
        the next call.
        """
        await self.mark_again()
        room = self._max_pending - self._backlog.unfinished
        judged_at = self._judge_at() if self._judge_at is not None else None
        adopted = await self._inbox.adopt_updates(judged_at, room, ended=ended_here)
        if adopted:
            logger.warning(
                "Handling %d update(s) acknowledged by an instance that stopped", len(adopted)
            )
        self._feed(adopted)
        await self._purge_when_due()
        return len(adopted)

    async def resume(self, before: datetime) -> int:
        """Handle the updates an earlier run of this instance acknowledged and never handled.

        Called before the webhook listens, so they go ahead of anything new;
        those of instances already known to be gone are taken along.
        """
        leftovers = await self._inbox.leftover_updates(before)
        if leftovers:
            logger.info("Handling %d update(s) acknowledged before a restart", len(leftovers))
        self._feed(leftovers)
        return len(leftovers) + await self.adopt()

    def _feed(self, rows: list[tuple[int, str]]) -> None:
        # Oldest first, as Telegram would have delivered them: each chat keeps its order.
        for update_id, body in rows:
            try:
                update = Update.de_json(json.loads(body), self._application.bot)
            except Exception:
                logger.exception("Update %d in the inbox cannot be read; dropped", update_id)
                continue
            self._backlog.expect(update)
            self._application.update_queue.put_nowait(update)

    async def _purge_when_due(self) -> None:
        started = time.monotonic()
        if self._purged_at is not None and started - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = started
        now = self._now()
        purged = await self._inbox.purge_updates(now - KEEP_HANDLED, now - KEEP_UNHANDLED)
        if purged:
            logger.debug("Purged %d update(s) from the inbox", purged)

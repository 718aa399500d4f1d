"""Webhook updates from their 200 until handled (see ``schema.inbox``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from linkbot.store.engine import Database, Queries, insert_unless_present
from linkbot.store.leases import LeaseQueries
from linkbot.store.schema import inbox


class InboxQueries(Queries):
    """The webhook updates kept until handled."""

    def __init__(self, db: Database, leases: LeaseQueries) -> None:
        super().__init__(db)
        # An instance's updates are adopted once it is no longer alive.
        self._leases = leases

    async def save_update(self, update_id: int, body: str, now: datetime) -> bool:
        """Keep an update this instance is about to acknowledge; False if one is kept already.

        One statement: of two instances given the same update, one keeps it.
        """
        values = {
            "update_id": update_id,
            "body": body,
            "instance_id": self.instance_id,
            "received_at": now,
        }
        async with self._write() as conn:
            return await insert_unless_present(conn, inbox, values)

    async def update_handled(self, update_id: int, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(inbox).where(inbox.c.update_id == update_id).values(handled_at=now)
            )

    async def adopt_updates(
        self,
        now: datetime | None,
        limit: int,
        *,
        ended: Callable[[str], bool] = lambda instance_id: False,
    ) -> list[tuple[int, str]]:
        """Take over up to ``limit`` unhandled updates of instances no longer alive.

        An instance is alive while its heartbeat lasts at ``now`` (None: the
        database's clock, which wrote it), unless ``ended`` knows better.
        Returns (update_id, body) of those this instance has now, oldest
        first. Each is taken by a conditional UPDATE that still names the
        dead instance, so of two instances adopting at once only one gets it.
        """
        if limit <= 0:
            return []
        c = inbox.c
        unhandled = c.handled_at.is_(None)
        query = select(c.instance_id).where(unhandled, c.instance_id != self.instance_id)
        async with self._engine.connect() as conn:
            holders = set((await conn.execute(query.distinct())).scalars())
        adopted: list[tuple[int, str]] = []
        for holder in sorted(holders):
            if len(adopted) >= limit or (
                not ended(holder) and await self._leases.alive(holder, now)
            ):
                continue
            oldest = (
                select(c.update_id)
                .where(unhandled, c.instance_id == holder)
                .order_by(c.update_id)
                .limit(limit - len(adopted))
            )
            statement = (
                update(inbox)
                .where(c.update_id.in_(oldest.scalar_subquery()))
                .where(c.instance_id == holder, unhandled)
                .values(instance_id=self.instance_id)
                .returning(c.update_id, c.body)
            )
            async with self._write() as conn:
                adopted.extend((row.update_id, row.body) for row in await conn.execute(statement))
        return sorted(adopted)

    async def leftover_updates(self, before: datetime) -> list[tuple[int, str]]:
        """This instance's updates an earlier run of it received and never handled."""
        c = inbox.c
        query = (
            select(c.update_id, c.body)
            .where(c.instance_id == self.instance_id, c.handled_at.is_(None))
            .where(c.received_at < before)
            .order_by(c.update_id)
        )
        async with self._engine.connect() as conn:
            return [(row.update_id, row.body) for row in await conn.execute(query)]

    async def purge_updates(self, handled_before: datetime, received_before: datetime) -> int:
        """Forget updates handled before ``handled_before``, and any received before the other."""
        c = inbox.c
        async with self._write() as conn:
            purged = await conn.execute(
                delete(inbox).where(
                    or_(c.handled_at < handled_before, c.received_at < received_before)
                )
            )
        return int(purged.rowcount)

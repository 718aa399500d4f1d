"""Leases, for work that runs on one instance at a time, and each instance's heartbeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from linkbot.store.engine import Queries, insert_for, plus
from linkbot.store.schema import leases


class LeaseQueries(Queries):
    """Leases, and the heartbeats that say which instances are alive."""

    async def acquire_lease(self, name: str, now: datetime | None, ttl: timedelta) -> bool:
        """Take or renew the lease ``name`` for this instance until ``now + ttl``.

        Returns whether this instance holds it now: it did already, nobody
        did, or the holder let it expire. One statement, so two instances
        asking at once cannot both win. ``now`` None is the database's clock,
        which every instance shares.
        """
        return await self._take_lease(name, self.instance_id, self._clock(now), ttl)

    async def release_lease(self, name: str) -> None:
        """Give a lease up (on a clean shutdown), so a standby takes over at once."""
        await self._drop_lease(name, self.instance_id)

    async def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """The instance holding lease ``name`` unexpired at ``now`` (None: the database's clock)."""
        c = leases.c
        query = select(c.holder).where(c.name == name, c.expires_at > self._clock(now))
        async with self._engine.connect() as conn:
            holder: str | None = (await conn.execute(query)).scalar_one_or_none()
        return holder

    async def alive(self, instance_id: str, now: datetime | None = None) -> bool:
        """Whether an instance has shown a sign of life recently (see :meth:`heartbeat`).

        Judged on the database's clock unless ``now`` is given, so that
        instances on hosts whose clocks differ agree.
        """
        return await self.lease_holder(_instance_lease(instance_id), now) is not None

    async def heartbeat(self, now: datetime | None, ttl: timedelta) -> bool:
        """Show other instances that this one is alive for ``ttl`` from ``now``.

        ``now`` None is the database's clock. Returns False, and changes
        nothing, when another process with this instance id has a live
        heartbeat (the two must not share claims): see :meth:`heartbeat_of`.
        """
        return await self._take_lease(
            _instance_lease(self.instance_id), self._heartbeat_holder, self._clock(now), ttl
        )

    async def heartbeat_of(self, instance_id: str) -> tuple[str, datetime] | None:
        """The heartbeat recorded for an instance id: (holder, expires at), live or not."""
        query = select(leases.c.holder, leases.c.expires_at).where(
            leases.c.name == _instance_lease(instance_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.holder, row.expires_at)

    async def take_over_heartbeat(self, holder: str, expires_at: datetime, ttl: timedelta) -> bool:
        """Replace a heartbeat left by an earlier run with this id, if it has not moved since."""
        c = leases.c
        statement = (
            update(leases)
            .where(
                c.name == _instance_lease(self.instance_id),
                c.holder == holder,
                c.expires_at == expires_at,
            )
            .values(holder=self._heartbeat_holder, expires_at=plus(self._clock(None), ttl))
        )
        async with self._write() as conn:
            return (await conn.execute(statement)).rowcount == 1

    async def sign_off(self) -> None:
        """This instance is stopping: claims it still holds are free to settle.

        Only this process's own heartbeat goes, never one of another process
        that has the same instance id.
        """
        await self._drop_lease(_instance_lease(self.instance_id), self._heartbeat_holder)

    async def _take_lease(self, name: str, holder: str, clock: Any, ttl: timedelta) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``clock + ttl``.

        One statement, so two holders asking at once cannot both win; it
        succeeds when ``holder`` has the lease already, nobody does, or the
        lease expired by ``clock`` (a datetime or the database's clock).
        """
        expires_at, c = plus(clock, ttl), leases.c
        statement = insert_for(self.dialect, leases).values(
            name=name, holder=holder, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[c.name],
            set_={"holder": holder, "expires_at": expires_at},
            where=(c.holder == holder) | (c.expires_at <= clock),
        ).returning(c.holder)
        async with self._write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def _drop_lease(self, name: str, holder: str) -> None:
        """Delete lease ``name`` if ``holder`` has it, and never another's."""
        async with self._write() as conn:
            await conn.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )

    @property
    def _heartbeat_holder(self) -> str:
        return f"{self.instance_id}#{self.db.nonce}"


def _instance_lease(instance_id: str) -> str:
    return f"instance:{instance_id}"

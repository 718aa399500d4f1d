"""The charges of the links, and their announcements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from linkbot.omise import FINAL_STATUSES
from linkbot.store.engine import Queries, plus
from linkbot.store.records import (
    ChargeRecord,
    LinkStatus,
    Notice,
    Recorded,
    charge_from,
    charge_values,
)
from linkbot.store.schema import charges, links


class ChargeQueries(Queries):
    """The charges of the links, their totals, and their announcements."""

    async def record_charge(self, charge: ChargeRecord) -> Recorded:
        """Record a charge's status; count a payment in its link's totals once.

        A charge is first recorded in whatever status it has; a pending one
        may later settle. Once settled, a charge never changes again here, so
        an old status read late (an event replayed, a slow listing) cannot
        undo a newer one. Everything happens in one transaction.
        """
        for _ in range(3):
            try:
                async with self._write() as conn:
                    return await _record_charge(conn, charge)
            except IntegrityError:
                continue  # another process recorded it first: read what it wrote
        raise RuntimeError(f"could not record charge {charge.charge_id}")

    async def pending_charge_links(self) -> set[str]:
        """Links with a charge that has not settled yet: the sweep looks at them again."""
        query = (
            select(charges.c.link_id)
            .where(charges.c.status.not_in(sorted(FINAL_STATUSES)))
            .distinct()
        )
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def get_charge(self, charge_id: str) -> ChargeRecord | None:
        query = select(charges).where(charges.c.charge_id == charge_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return charge_from(row._mapping) if row else None

    async def link_charges(self, link_id: str) -> list[ChargeRecord]:
        query = (
            select(charges)
            .where(charges.c.link_id == link_id)
            .order_by(charges.c.created_at, charges.c.charge_id)
        )
        async with self._engine.connect() as conn:
            return [charge_from(r._mapping) for r in (await conn.execute(query)).all()]

    async def unannounced_charges(self) -> list[ChargeRecord]:
        query = (
            select(charges)
            .where(charges.c.announced_at.is_(None), charges.c.notice.is_not(None))
            .order_by(charges.c.link_id, charges.c.position, charges.c.created_at)
        )
        async with self._engine.connect() as conn:
            return [charge_from(r._mapping) for r in (await conn.execute(query)).all()]

    async def claim_announcement(
        self, charge_id: str, now: datetime | None, lease: timedelta
    ) -> bool:
        """Claim the right to announce a charge; only one claimant wins.

        A claim older than ``lease`` is taken to belong to a process that
        died before it could announce, and can be claimed again. Its age is
        judged at ``now``; None is the database's clock, so that instances
        on hosts whose clocks differ agree on it.
        """
        c, clock = charges.c, self._clock(now)
        async with self._write() as conn:
            result = await conn.execute(
                update(charges)
                .where(c.charge_id == charge_id, c.announced_at.is_(None))
                .where(c.claimed_at.is_(None) | (c.claimed_at < plus(clock, -lease)))
                .values(claimed_at=clock)
            )
            return bool(result.rowcount)

    async def release_announcement(
        self, charge_id: str, now: datetime, *, refused: bool = False
    ) -> tuple[int, datetime]:
        """Give a claim back after a failed attempt.

        Returns how often the notice was refused so far, and since when it has been failing.
        """
        c = charges.c
        async with self._write() as conn:
            await conn.execute(
                update(charges)
                .where(c.charge_id == charge_id)
                .values(
                    claimed_at=None,
                    attempts=c.attempts + (1 if refused else 0),
                    failing_since=func.coalesce(c.failing_since, now),
                )
            )
            query = select(c.attempts, c.failing_since).where(c.charge_id == charge_id)
            attempts, since = (await conn.execute(query)).one()
            return int(attempts), since

    async def mark_announced(self, charge_id: str, announced_at: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(charges)
                .where(charges.c.charge_id == charge_id)
                .values(announced_at=announced_at, claimed_at=None)
            )

    async def known_charge_ids(self, charge_ids: Sequence[str]) -> set[str]:
        if not charge_ids:
            return set()
        query = select(charges.c.charge_id).where(charges.c.charge_id.in_(set(charge_ids)))
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())


_SETTLED_WITHOUT_PAYMENT = ("failed", "expired", "reversed")


async def _record_charge(conn: AsyncConnection, charge: ChargeRecord) -> Recorded:
    c = charges.c
    # Locked until the end of the transaction: two processes that saw the
    # same charge settle must not both count it (SQLite's write lock already
    # serializes them, and ignores FOR UPDATE).
    row = (
        await conn.execute(
            select(c.status).where(c.charge_id == charge.charge_id).with_for_update()
        )
    ).first()
    if row is None:
        await conn.execute(
            charges.insert().values(**charge_values(replace(charge, notice=None, position=0)))
        )
        if charge.status == "successful":
            await _count_payment(conn, charge)
            return Recorded.PAID
        if charge.status not in FINAL_STATUSES:
            return Recorded.PENDING
        if charge.status == "expired":
            # Only a charge that was pending can expire: the customer walked away
            # from a QR code or a bank app, and the merchant may be waiting for it.
            await _queue_failure_notice(conn, charge.charge_id)
        # A card declined at once was seen failing by the customer on the payment page.
        return Recorded.FAILED if charge.status in _SETTLED_WITHOUT_PAYMENT else Recorded.UNCHANGED
    if row.status in FINAL_STATUSES or charge.status not in FINAL_STATUSES:
        await _update_amounts(conn, charge)
        return Recorded.UNCHANGED
    await conn.execute(
        update(charges)
        .where(c.charge_id == charge.charge_id)
        .values(status=charge.status, paid_at=charge.paid_at)
    )
    await _update_amounts(conn, charge)
    if charge.status == "successful":
        await _count_payment(conn, charge)
        return Recorded.PAID
    if charge.status in _SETTLED_WITHOUT_PAYMENT:
        await _queue_failure_notice(conn, charge.charge_id)
        return Recorded.FAILED
    return Recorded.UNCHANGED


async def _queue_failure_notice(conn: AsyncConnection, charge_id: str) -> None:
    await conn.execute(
        update(charges).where(charges.c.charge_id == charge_id).values(notice=Notice.FAILED.value)
    )


async def _update_amounts(conn: AsyncConnection, charge: ChargeRecord) -> None:
    """Keep fees and refunds current; an older snapshot read late never lowers a refund."""
    c = charges.c
    values: dict[str, Any] = {
        "refunded": case((c.refunded > charge.refunded, c.refunded), else_=charge.refunded)
    }
    if charge.status == "successful":
        values.update(
            {
                name: value
                for name, value in (
                    ("fee", charge.fee),
                    ("fee_vat", charge.fee_vat),
                    ("net", charge.net),
                )
                if value is not None
            }
        )
    await conn.execute(update(charges).where(c.charge_id == charge.charge_id).values(**values))


async def _count_payment(conn: AsyncConnection, charge: ChargeRecord) -> None:
    """Add a successful charge to its link's totals and queue its announcement."""
    link = links.c
    paid_at = charge.paid_at or charge.created_at
    values: dict[str, Any] = {
        "paid_count": link.paid_count + 1,
        "paid_total": link.paid_total + charge.amount,
        "paid_at": func.coalesce(link.paid_at, paid_at),
    }
    await conn.execute(update(links).where(link.link_id == charge.link_id).values(**values))
    totals = select(link.paid_count, link.paid_total).where(link.link_id == charge.link_id)
    position, running_total = (await conn.execute(totals)).one()
    await conn.execute(
        update(charges)
        .where(charges.c.charge_id == charge.charge_id)
        .values(
            position=position,
            running_total=running_total,
            paid_at=paid_at,
            notice=Notice.PAID.value,
        )
    )
    await conn.execute(
        update(links)
        .where(link.link_id == charge.link_id, link.multiple.is_(False))
        .values(status=LinkStatus.PAID.value)
    )

"""What reports read: payments and figures by period, and the daily summaries' claims."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select

from linkbot.store.engine import Queries, insert_unless_present
from linkbot.store.records import LinkStatus, PaymentRow
from linkbot.store.schema import (
    charges,
    chats,
    daily_private_reports,
    daily_reports,
    daily_subscribers,
    links,
    report_groups,
)


class ReportQueries(Queries):
    """Payments and figures by period, and who gets which summary."""

    async def payments(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> AsyncGenerator[PaymentRow, None]:
        """Successful charges paid in ``[start, end)``, oldest first, streamed from the store.

        Only the links of one chat when ``chat_id`` is given. Streams run one
        at a time: a second waits for the first to end.
        """
        c, link = charges.c, links.c
        query = (
            select(
                c.charge_id,
                c.link_id,
                link.title,
                link.description,
                c.amount,
                c.currency,
                c.status,
                c.paid_at,
                c.fee,
                c.fee_vat,
                c.net,
                c.refunded,
                link.chat_id,
                chats.c.title.label("chat_title"),
            )
            .join(links, link.link_id == c.link_id)
            .outerjoin(chats, chats.c.chat_id == link.chat_id)
            .where(*_paid_between(start, end))
            .order_by(c.paid_at, c.charge_id)
        )
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self.db.streams, self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=500))
            async for row in result:
                yield PaymentRow(**row._mapping)

    # Reports: figures summed by the database, so a busy month costs one pass over an index

    async def payment_totals(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> list[tuple[str, int, int, int, int, int, int, int]]:
        """Per currency, successful charges paid in ``[start, end)``, by currency code.

        Each row: currency, payments, gross, fee, fee VAT, refunded, net, and
        how many payments have no fee on record; net is Omise's, or the amount
        less the fees when Omise did not say, less what was refunded. Only the
        links of one chat when ``chat_id`` is given.
        """
        c = charges.c
        fee, fee_vat = func.coalesce(c.fee, 0), func.coalesce(c.fee_vat, 0)
        net = func.coalesce(c.net, c.amount - fee - fee_vat) - c.refunded
        query = (
            select(
                c.currency,
                func.count(),
                func.sum(c.amount),
                func.sum(fee),
                func.sum(fee_vat),
                func.sum(c.refunded),
                func.sum(net),
                func.count(c.charge_id).filter(c.fee.is_(None)),
            )
            .where(*_paid_between(start, end))
            .group_by(c.currency)
            .order_by(c.currency)
        )
        if chat_id is not None:
            query = query.join(links, links.c.link_id == c.link_id).where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            # A group has at least one row, and no summed value is NULL.
            (str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]))
            for r in rows
        ]

    async def best_sellers(
        self, start: datetime, end: datetime, *, chat_id: int | None = None, limit: int = 3
    ) -> list[tuple[str, int]]:
        """Link titles by how many payments they had in ``[start, end)``, most first."""
        c, link = charges.c, links.c
        count = func.count().label("payments")
        query = (
            select(link.title, count)
            .select_from(charges.join(links, link.link_id == c.link_id))
            .where(*_paid_between(start, end))
            .group_by(link.title)
            .order_by(count.desc(), link.title)
            .limit(limit)
        )
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(str(title), int(payments)) for title, payments in rows]

    async def link_counts(
        self, start: datetime, end: datetime, *, chat_id: int | None = None
    ) -> tuple[int, int, int, int]:
        """Links created in ``[start, end)``: how many, and of those paid, still open, cancelled.

        A reusable link stays active once paid, so it can count as both paid and open.
        """
        link = links.c
        paid = (link.status == LinkStatus.PAID.value) | (link.multiple & (link.paid_count > 0))
        query = select(
            func.count(),
            func.sum(case((paid, 1), else_=0)),
            func.sum(case((link.status == LinkStatus.ACTIVE.value, 1), else_=0)),
            func.sum(case((link.status == LinkStatus.CANCELLED.value, 1), else_=0)),
        ).where(link.created_at >= start, link.created_at < end)
        if chat_id is not None:
            query = query.where(_in_chat(chat_id))
        async with self._engine.connect() as conn:
            created, paid_links, active, cancelled = (await conn.execute(query)).one()
        return int(created), int(paid_links or 0), int(active or 0), int(cancelled or 0)

    async def chats_with_payments(self, start: datetime, end: datetime) -> list[int]:
        """The chats whose links had a successful charge paid in ``[start, end)``.

        Business chats are left out: they are the customers' own.
        """
        c, link = charges.c, links.c
        query = (
            select(link.chat_id)
            .select_from(charges.join(links, link.link_id == c.link_id))
            .where(*_paid_between(start, end))
            # A business chat is a customer's: its sales are in the merchant's whole report.
            .where(link.business_connection_id.is_(None))
            .group_by(link.chat_id)
            .order_by(link.chat_id)
        )
        async with self._engine.connect() as conn:
            return [int(chat_id) for chat_id in (await conn.execute(query)).scalars()]

    # Daily summaries

    async def set_daily_subscription(self, user_id: int, subscribed: bool, at: datetime) -> bool:
        """Start or stop a user's daily summary; returns whether anything changed."""
        async with self._write() as conn:
            if not subscribed:
                result = await conn.execute(
                    delete(daily_subscribers).where(daily_subscribers.c.user_id == user_id)
                )
                return bool(result.rowcount)
            return await insert_unless_present(
                conn, daily_subscribers, {"user_id": user_id, "since": at}
            )

    async def daily_subscribers(self) -> list[int]:
        query = select(daily_subscribers.c.user_id).order_by(daily_subscribers.c.user_id)
        async with self._engine.connect() as conn:
            return [int(user_id) for user_id in (await conn.execute(query)).scalars()]

    async def claim_daily_report(self, chat_id: int, day: date, at: datetime) -> bool:
        """Claim the day's summary for a chat; only the first claim ever wins."""
        async with self._write() as conn:
            return await insert_unless_present(
                conn, daily_reports, {"chat_id": chat_id, "day": day, "claimed_at": at}
            )

    async def claim_private_daily_report(
        self, user_id: int, chat_id: int, day: date, at: datetime
    ) -> bool:
        """Claim the day's summary of a group for one user's private chat; the first wins."""
        values = {"user_id": user_id, "chat_id": chat_id, "day": day, "claimed_at": at}
        async with self._write() as conn:
            return await insert_unless_present(conn, daily_private_reports, values)

    async def release_daily_report(self, chat_id: int, day: date) -> None:
        """Give back a day's summary claim of a chat whose summary surely never left."""
        query = delete(daily_reports).where(
            daily_reports.c.chat_id == chat_id, daily_reports.c.day == day
        )
        async with self._write() as conn:
            await conn.execute(query)

    async def release_private_daily_report(self, user_id: int, chat_id: int, day: date) -> None:
        """Give back a claim of :meth:`claim_private_daily_report` whose summary never left."""
        table = daily_private_reports
        query = delete(table).where(
            table.c.user_id == user_id, table.c.chat_id == chat_id, table.c.day == day
        )
        async with self._write() as conn:
            await conn.execute(query)

    async def set_reports_here(self, chat_id: int, here: bool, at: datetime) -> bool:
        """Post a group's reports in it, or (``here`` False) privately; whether that changed."""
        async with self._write() as conn:
            if not here:
                result = await conn.execute(
                    delete(report_groups).where(report_groups.c.chat_id == chat_id)
                )
                return bool(result.rowcount)
            return await insert_unless_present(
                conn, report_groups, {"chat_id": chat_id, "since": at}
            )

    async def report_groups(self) -> set[int]:
        """The groups whose reports are posted in the group itself."""
        async with self._engine.connect() as conn:
            return set((await conn.execute(select(report_groups.c.chat_id))).scalars())


def _paid_between(start: datetime, end: datetime) -> tuple[Any, ...]:
    """Successful charges paid in ``[start, end)``, found through the paid_at index.

    ``status || ''`` keeps the planner off the status index: an equality
    looks cheaper to it than a range, but would walk every payment ever made.
    """
    c = charges.c
    return (c.paid_at >= start, c.paid_at < end, (c.status + "") == "successful")


def _in_chat(chat_id: int) -> Any:
    """The links of one chat, without the chat_id index.

    Through that index a report would read all the chat's links ever made;
    through the time index (paid_at, created_at) only the period's.
    """
    return (links.c.chat_id + 0) == chat_id

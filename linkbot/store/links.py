"""The links: recorded once made, found by their message, changed as they are paid or cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from linkbot.store.engine import Queries
from linkbot.store.records import LinkRecord, LinkStatus, OpenLink, link_from, link_values
from linkbot.store.schema import links


class LinkQueries(Queries):
    """The links the bot made."""

    async def add_link(self, record: LinkRecord) -> None:
        async with self._write() as conn:
            await conn.execute(links.insert().values(**link_values(record)))

    async def get_link(self, link_id: str) -> LinkRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(links).where(links.c.link_id == link_id))).first()
        return link_from(row._mapping) if row else None

    async def find_by_message(
        self, chat_id: int, message_id: int, *, business_connection_id: str | None = None
    ) -> LinkRecord | None:
        """The link a message shows; in a business chat, one sent through that connection.

        Elsewhere, the link whose message is in ``chat_id``: a business link
        that Telegram would not post for the merchant is in their private
        chat with the bot. A business chat's message ids are the merchant's,
        so a link posted in one never answers for the customer's own chat
        with the bot, which has the same chat id.
        """
        c = links.c
        if business_connection_id is not None:
            through = _through(business_connection_id)
        else:
            through = or_(c.business_connection_id.is_(None), c.message_chat_id != c.chat_id)
        query = select(links).where(
            func.coalesce(c.message_chat_id, c.chat_id) == chat_id,
            c.message_id == message_id,
            through,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return link_from(row._mapping) if row else None

    async def business_connections_of_chat(self, chat_id: int) -> list[str]:
        """The business connections links in ``chat_id`` were sent through."""
        column = links.c.business_connection_id
        query = select(column).where(links.c.chat_id == chat_id, column.is_not(None)).distinct()
        async with self._engine.connect() as conn:
            return [row[0] for row in (await conn.execute(query)).all()]

    async def chat_links(
        self,
        chat_id: int,
        *,
        offset: int,
        limit: int,
        business_connection_id: str | None = None,
    ) -> tuple[list[LinkRecord], int]:
        """A chat's links, newest first, and how many it has in all.

        A merchant's business chat has the customer's id, as the customer's
        own chat with the bot does: the connection tells them apart.
        """
        where = (links.c.chat_id == chat_id, _through(business_connection_id))
        query = (
            select(links)
            .where(*where)
            .order_by(links.c.recorded_at.desc())
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count()).select_from(links).where(*where)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(count)).scalar_one()
        return [link_from(r._mapping) for r in rows], total

    async def known_link_ids(self, link_ids: Sequence[str]) -> set[str]:
        if not link_ids:
            return set()
        query = select(links.c.link_id).where(links.c.link_id.in_(set(link_ids)))
        async with self._engine.connect() as conn:
            return set((await conn.execute(query)).scalars())

    async def links_by_payment_uri(self, uris: Sequence[str]) -> dict[str, str]:
        """Link ids by payment URI, for charges in the older shape that name only that."""
        if not uris:
            return {}
        query = select(links.c.payment_uri, links.c.link_id).where(
            links.c.payment_uri.in_(set(uris))
        )
        async with self._engine.connect() as conn:
            return {uri: link_id for uri, link_id in (await conn.execute(query)).all()}

    async def open_links(self, since: datetime) -> list[OpenLink]:
        """Links still payable (active, or reusable and not cancelled) created since ``since``.

        Only what the payment watcher compares, oldest first: it runs every
        pass over every open link, so it reads no more than it needs.
        """
        c = links.c
        query = (
            select(c.link_id, c.created_at, c.status, c.charges_seen)
            .where(c.status != LinkStatus.CANCELLED.value)
            .where((c.status == LinkStatus.ACTIVE.value) | c.multiple)
            .where(c.created_at >= since)
            .order_by(c.created_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [OpenLink(row[0], row[1], LinkStatus(row[2]), row[3]) for row in rows]

    async def set_message(self, link_id: str, chat_id: int, message_id: int) -> None:
        await self._update_link(link_id, message_chat_id=chat_id, message_id=message_id)

    async def set_inline_message(self, link_id: str, inline_message_id: str) -> None:
        await self._update_link(link_id, inline_message_id=inline_message_id)

    async def mark_cancelled(self, link_id: str) -> bool:
        """Mark a link cancelled, unless a payment made it a paid one-time link meanwhile.

        Returns whether it is cancelled now.
        """
        c = links.c
        async with self._write() as conn:
            result = await conn.execute(
                update(links)
                .where(c.link_id == link_id)
                .where((c.status != LinkStatus.PAID.value) | c.multiple)
                .values(status=LinkStatus.CANCELLED.value)
            )
            return bool(result.rowcount)

    async def _update_link(self, link_id: str, **values: object) -> None:
        async with self._write() as conn:
            await conn.execute(update(links).where(links.c.link_id == link_id).values(**values))

    async def set_charges_seen(self, link_id: str, count: int) -> None:
        await self._update_link(link_id, charges_seen=count)


def _through(business_connection_id: str | None) -> Any:
    """Links sent through a business connection, or (None) through none."""
    column = links.c.business_connection_id
    if business_connection_id is None:
        return column.is_(None)
    return column == business_connection_id

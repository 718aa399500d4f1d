"""The merchants' Telegram Business connections."""

from __future__ import annotations

from sqlalchemy import select

from linkbot.store.engine import Queries, upsert
from linkbot.store.records import BusinessConnectionRecord
from linkbot.store.schema import business_connections


class BusinessQueries(Queries):
    """The business connections, as Telegram last told them."""

    async def save_business_connection(self, connection: BusinessConnectionRecord) -> None:
        values = {name: getattr(connection, name) for name in BusinessConnectionRecord.__slots__}
        key = {"connection_id": values.pop("connection_id")}
        async with self._write() as conn:
            await upsert(conn, business_connections, key, values)

    async def business_connection(self, connection_id: str) -> BusinessConnectionRecord | None:
        query = select(business_connections).where(
            business_connections.c.connection_id == connection_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return BusinessConnectionRecord(**row._mapping) if row else None

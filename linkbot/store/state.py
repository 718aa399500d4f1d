"""Small named values kept across restarts (the event cursor)."""

from __future__ import annotations

from sqlalchemy import select

from linkbot.store.engine import Queries, upsert
from linkbot.store.schema import state


class StateQueries(Queries):
    """Small named values kept across restarts."""

    async def get_value(self, key: str) -> str | None:
        async with self._engine.connect() as conn:
            query = select(state.c.value).where(state.c.key == key)
            value: str | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    async def set_value(self, key: str, value: str) -> None:
        async with self._write() as conn:
            await upsert(conn, state, {"key": key}, {"value": value})

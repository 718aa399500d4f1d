"""The chats the bot writes to, and the languages of its users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from linkbot.store.engine import Queries, insert_unless_present, upsert
from linkbot.store.schema import (
    chats,
    commands,
    daily_private_reports,
    daily_reports,
    links,
    report_groups,
    users,
)


class ChatQueries(Queries):
    """The chats, as the bot last saw them, and the languages of its users."""

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: its links and commands now belong to the new id.

        Link messages stay where they were (the old group), so they are no
        longer edited or quoted. Returns how many links moved.
        """
        c = links.c
        async with self._write() as conn:
            moved = await conn.execute(
                update(links)
                .where(c.chat_id == old_chat_id)
                .values(
                    chat_id=new_chat_id,
                    message_chat_id=func.coalesce(c.message_chat_id, old_chat_id),
                )
            )
            await conn.execute(
                update(commands)
                .where(commands.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            # A staff group's choice to see its reports follows it.
            here = report_groups.c.chat_id == old_chat_id
            since = (await conn.execute(select(report_groups.c.since).where(here))).scalar()
            if since is not None:
                await conn.execute(delete(report_groups).where(here))
                values = {"chat_id": new_chat_id, "since": since}
                await insert_unless_present(conn, report_groups, values)
            # So do the day's summaries already claimed: not claimed again under the new id.
            for table in (daily_reports, daily_private_reports):
                await _move_rows(conn, table, old_chat_id, new_chat_id)
            await _upsert_chat(conn, old_chat_id, migrated_to=new_chat_id)
            return int(moved.rowcount)

    async def migrated_to(self, chat_id: int) -> int | None:
        query = select(chats.c.migrated_to).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return None if value is None else int(value)

    async def set_forbidden(self, chat_id: int, at: datetime | None) -> None:
        """Record that the bot cannot write to a chat (403), or, with None, that it can again."""
        async with self._write() as conn:
            await _upsert_chat(conn, chat_id, forbidden_at=at)

    async def note_chat(self, chat_id: int, title: str | None) -> None:
        """Someone used the bot in this chat: it can be written to, and this is its title."""
        query = select(chats.c.forbidden_at, chats.c.title).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is not None and row.forbidden_at is None and row.title == title:
            return  # the usual case: nothing to write
        async with self._write() as conn:
            await _upsert_chat(conn, chat_id, forbidden_at=None, title=title)

    async def note_visit(
        self, user_id: int, language: str, at: datetime, chat: tuple[int, str | None] | None
    ) -> None:
        """A manager used the bot: remember their language, and :meth:`note_chat` for
        ``chat`` (its id and title) unless None.

        Asked on every update: one SELECT in the usual case, where both are
        known as they are, and one transaction for what changed.
        """
        known_language = select(users.c.language).where(users.c.user_id == user_id)
        columns = [known_language.scalar_subquery()]
        if chat is not None:
            chat_id, title = chat
            chat_as_is = select(chats.c.chat_id).where(
                chats.c.chat_id == chat_id,
                chats.c.forbidden_at.is_(None),
                chats.c.title.is_not_distinct_from(title),
            )
            columns.append(chat_as_is.scalar_subquery())
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(*columns))).one()
        language_known = row[0] == language
        chat_known = chat is None or row[1] is not None
        if language_known and chat_known:
            return
        async with self._write() as conn:
            if not language_known:
                # One statement: two commands of a new user handled at once both write it.
                await upsert(
                    conn, users, {"user_id": user_id}, {"language": language, "updated_at": at}
                )
            if chat is not None and not chat_known:
                await _upsert_chat(conn, chat[0], forbidden_at=None, title=chat[1])

    async def forbidden_since(self, chat_id: int) -> datetime | None:
        query = select(chats.c.forbidden_at).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return value

    async def chat_title(self, chat_id: int) -> str | None:
        """A chat's title as the bot last saw it."""
        query = select(chats.c.title).where(chats.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            title: str | None = (await conn.execute(query)).scalar_one_or_none()
        return title

    async def note_language(self, user_id: int, language: str, at: datetime) -> None:
        """Remember ``user_id``'s language; written only when it changed."""
        await self.note_visit(user_id, language, at, None)

    async def user_language(self, user_id: int) -> str | None:
        async with self._engine.connect() as conn:
            query = select(users.c.language).where(users.c.user_id == user_id)
            language: str | None = (await conn.execute(query)).scalar_one_or_none()
        return language

    async def chat_language(self, chat_id: int) -> str | None:
        """The language of whoever made the chat's latest link (a group's merchant)."""
        query = (
            select(users.c.language)
            .join(links, links.c.creator_id == users.c.user_id)
            .where(links.c.chat_id == chat_id)
            .order_by(links.c.recorded_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            language: str | None = (await conn.execute(query)).scalar_one_or_none()
        return language


async def _upsert_chat(conn: AsyncConnection, chat_id: int, **values: object) -> None:
    await upsert(conn, chats, {"chat_id": chat_id}, values)


async def _move_rows(
    conn: AsyncConnection, table: Table, old_chat_id: int, new_chat_id: int
) -> None:
    """Give ``table``'s rows of one chat to another; a row the new chat has already stays."""
    old = table.c.chat_id == old_chat_id
    rows = (await conn.execute(select(table).where(old))).mappings().all()
    await conn.execute(delete(table).where(old))
    for row in rows:
        await insert_unless_present(conn, table, {**row, "chat_id": new_chat_id})

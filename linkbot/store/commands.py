"""The requests for a link, recorded before Omise is asked (see ``schema.commands``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from linkbot.store.engine import Queries, insert_unless_present
from linkbot.store.records import (
    CommandRecord,
    CommandState,
    LinkRecord,
    LinkTaken,
    command_from,
    link_from,
    link_values,
)
from linkbot.store.schema import commands, links


class CommandQueries(Queries):
    """The requests for a link, and their claims."""

    async def claim_command(self, command: CommandRecord) -> CommandRecord | None:
        """Record a command before acting on it.

        Returns None the first time; for a repeat, the command as recorded
        by the first delivery.
        """
        command = replace(command, claimed_by=self.instance_id)
        values = {name: getattr(command, name) for name in CommandRecord.__slots__}
        async with self._write() as conn:
            # The key is the claim: the first delivery's row stays.
            if await insert_unless_present(conn, commands, values):
                return None
            query = select(commands).where(commands.c.key == command.key)
            return command_from((await conn.execute(query)).one()._mapping)

    async def get_command(self, key: str) -> CommandRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(commands).where(commands.c.key == key))).first()
        return command_from(row._mapping) if row else None

    async def finish_command(self, key: str, record: LinkRecord) -> None:
        """Store the command's link and mark the command done, in one transaction.

        Raises :class:`LinkTaken`, and changes nothing, when the link is
        already recorded (another command adopted it first).
        """
        try:
            async with self._write() as conn:
                await conn.execute(links.insert().values(**link_values(record)))
                await conn.execute(
                    update(commands)
                    .where(commands.c.key == key)
                    .values(state=CommandState.DONE.value, link_id=record.link_id)
                )
        except IntegrityError:
            raise LinkTaken(record.link_id) from None

    async def fail_command(self, key: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(commands)
                .where(commands.c.key == key, commands.c.state == CommandState.PENDING.value)
                .values(state=CommandState.FAILED.value)
            )

    async def adopt_command(self, command: CommandRecord) -> bool:
        """Take over a command from the instance that claimed it (and died).

        Returns whether this instance has it now: the claim still names the
        holder and the state it was read with. One conditional UPDATE, so of
        several instances adopting it at once only one wins.
        """
        c = commands.c
        same_holder = c.claimed_by.is_not_distinct_from(command.claimed_by)
        async with self._write() as conn:
            changed = await conn.execute(
                update(commands)
                .where(c.key == command.key, c.state == command.state.value, same_holder)
                .values(claimed_by=self.instance_id)
            )
        return bool(changed.rowcount)

    async def pending_commands(self, since: datetime) -> list[CommandRecord]:
        """Commands a previous process started and never finished."""
        query = (
            select(commands)
            .where(commands.c.state == CommandState.PENDING.value)
            .where(commands.c.received_at >= since)
            .order_by(commands.c.received_at)
        )
        async with self._engine.connect() as conn:
            return [command_from(r._mapping) for r in (await conn.execute(query)).all()]

    async def unanswered_links(self, since: datetime) -> list[tuple[CommandRecord, LinkRecord]]:
        """Links made for a command whose reply never reached the chat."""
        query = (
            select(commands, links)
            .join(links, links.c.link_id == commands.c.link_id)
            .where(commands.c.state == CommandState.DONE.value)
            .where(links.c.message_id.is_(None), links.c.inline_message_id.is_(None))
            .where(commands.c.received_at >= since)
            .order_by(commands.c.received_at)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        command_columns = len(commands.c)
        return [
            (
                command_from(dict(zip(commands.c.keys(), row[:command_columns], strict=True))),
                link_from(dict(zip(links.c.keys(), row[command_columns:], strict=True))),
            )
            for row in rows
        ]

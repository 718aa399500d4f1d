"""What the in-place upgrade to 0001 needs for files of the earliest releases.

The first releases kept a command as its key, its link and when it came
(no request, no state), and a charge without its place among the link's
payments. Their commands become settled ones of revision 0001: a command
whose link was recorded is done, with the request read back from that link;
one that never got a link kept no request, so it cannot be settled against
Omise now, and is failed, so that a repeat of it is ignored rather than
risk a second link.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table, select, text

# Where the earliest commands wait while the table of 0001 is made.
OLD_COMMANDS = "commands_before_requests"


def set_commands_aside(conn: Connection, indexes: list[Any]) -> None:
    """Rename a commands table without a ``state`` so that 0001's can be made beside it."""
    for reflected in indexes:
        conn.execute(text(f'DROP INDEX "{reflected["name"]}"'))
    conn.execute(text(f"ALTER TABLE commands RENAME TO {OLD_COMMANDS}"))


def settle_old_commands(conn: Connection, release: MetaData) -> None:
    """Copy the commands set aside into 0001's table, each done or failed; drop the old one."""
    old = Table(
        OLD_COMMANDS,
        MetaData(),
        Column("key", String(64), primary_key=True),
        Column("link_id", String(64)),
        Column("received_at", DateTime, nullable=False),
    )
    links, commands = release.tables["links"], release.tables["commands"]
    query = select(old, links).outerjoin(links, links.c.link_id == old.c.link_id)
    rows = [_settled(row._mapping, old, links) for row in conn.execute(query)]
    if rows:
        conn.execute(commands.insert(), rows)
    conn.execute(text(f"DROP TABLE {OLD_COMMANDS}"))


def _settled(row: Any, old: Table, links: Table) -> dict[str, Any]:
    # The key was "<chat id>:<command message id>".
    chat, _, message = str(row[old.c.key]).rpartition(":")
    values: dict[str, Any] = {
        "key": row[old.c.key],
        "chat_id": _integer(chat) or 0,
        "message_id": _integer(message) or 0,
        "link_id": row[old.c.link_id],
        "received_at": row[old.c.received_at],
    }
    if row[links.c.link_id] is None:
        request = {"user_id": 0, "amount": 0, "currency": "", "title": "", "description": ""}
        return {**values, **request, "multiple": False, "state": "failed"}
    return {
        **values,
        "chat_id": row[links.c.chat_id],
        "user_id": row[links.c.creator_id],
        "amount": row[links.c.amount],
        "currency": row[links.c.currency],
        "title": row[links.c.title],
        "description": row[links.c.description],
        "multiple": row[links.c.multiple],
        "state": "done",
    }


def _integer(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


# Charges of the first release, which kept no place among the link's payments:
# their place and running total are counted again, in the order they were paid.
CHARGES_WITHOUT_PLACE = (
    "INSERT INTO charges (charge_id, link_id, amount, currency, status, created_at,"
    " paid_at, refunded, position, running_total, notice, claimed_at, announced_at,"
    " attempts) SELECT charge_id, link_id, amount, currency, 'successful', paid_at,"
    " paid_at, 0, ROW_NUMBER() OVER (PARTITION BY link_id ORDER BY paid_at, charge_id),"
    " SUM(amount) OVER (PARTITION BY link_id ORDER BY paid_at, charge_id"
    " ROWS UNBOUNDED PRECEDING), 'paid', NULL, announced_at, 0"
    " FROM charges_before_status"
)

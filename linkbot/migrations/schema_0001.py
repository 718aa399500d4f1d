"""The schema of the last release before migrations, frozen: revision 0001.

Both revision 0001 (a new database) and the in-place upgrade of a file
that release or an earlier one made build exactly these tables, so every
database reaches 0001 the same way before the later revisions run. Never
change it: later schema changes are revisions of their own.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)


def build() -> MetaData:
    metadata = MetaData()
    Table(
        "links",
        metadata,
        Column("link_id", String(64), primary_key=True),
        Column("chat_id", BigInteger, nullable=False, index=True),
        Column("message_id", BigInteger),
        Column("message_chat_id", BigInteger),
        Column("creator_id", BigInteger, nullable=False),
        Column("amount", BigInteger, nullable=False),
        Column("currency", String(3), nullable=False),
        Column("title", Text, nullable=False),
        Column("description", Text, nullable=False),
        Column("multiple", Boolean, nullable=False),
        Column("payment_uri", Text, nullable=False),
        Column("created_at", DateTime, nullable=False, index=True),
        Column("recorded_at", DateTime, nullable=False, index=True),
        Column("status", String(16), nullable=False, index=True),
        Column("paid_at", DateTime),
        Column("paid_count", Integer, nullable=False),
        Column("paid_total", BigInteger, nullable=False),
        Column("charges_seen", Integer, nullable=False),
    )
    Table(
        "commands",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("chat_id", BigInteger, nullable=False),
        Column("message_id", BigInteger, nullable=False),
        Column("user_id", BigInteger, nullable=False),
        Column("amount", BigInteger, nullable=False),
        Column("currency", String(3), nullable=False),
        Column("title", Text, nullable=False),
        Column("description", Text, nullable=False),
        Column("multiple", Boolean, nullable=False),
        Column("state", String(16), nullable=False, index=True),
        Column("link_id", String(64)),
        Column("received_at", DateTime, nullable=False),
    )
    Table(
        "charges",
        metadata,
        Column("charge_id", String(64), primary_key=True),
        Column("link_id", String(64), nullable=False, index=True),
        Column("amount", BigInteger, nullable=False),
        Column("currency", String(3), nullable=False),
        Column("status", String(16), nullable=False, index=True),
        Column("created_at", DateTime),
        Column("paid_at", DateTime, index=True),
        Column("fee", BigInteger),
        Column("fee_vat", BigInteger),
        Column("net", BigInteger),
        Column("refunded", BigInteger, nullable=False),
        Column("position", Integer, nullable=False),
        Column("running_total", BigInteger, nullable=False),
        Column("notice", String(16)),
        Column("claimed_at", DateTime),
        Column("announced_at", DateTime, index=True),
        Column("attempts", Integer, nullable=False),
        Column("failing_since", DateTime),
    )
    Table(
        "chats",
        metadata,
        Column("chat_id", BigInteger, primary_key=True),
        Column("forbidden_at", DateTime),
        Column("migrated_to", BigInteger),
        Column("title", Text),
    )
    Table(
        "state",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    Table(
        "daily_subscribers",
        metadata,
        Column("user_id", BigInteger, primary_key=True),
        Column("since", DateTime, nullable=False),
    )
    Table(
        "daily_reports",
        metadata,
        Column("chat_id", BigInteger, primary_key=True),
        Column("day", Date, primary_key=True),
        Column("claimed_at", DateTime, nullable=False),
    )
    return metadata

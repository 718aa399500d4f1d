"""Inline mode, Telegram Business and the users' languages.

A request for a link may come from an inline result (no command message,
a longer key), and a link may live in an inline message or in a merchant's
own chat with a customer; merchants' languages are kept for what the bot
says on its own.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("links", sa.Column("inline_message_id", sa.String(255)))
    op.add_column("links", sa.Column("business_connection_id", sa.String(255)))
    with op.batch_alter_table("commands") as batch:
        batch.alter_column(
            "key", existing_type=sa.String(64), type_=sa.String(128), existing_nullable=False
        )
        batch.alter_column("message_id", existing_type=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("inline_message_id", sa.String(255)))
        batch.add_column(sa.Column("business_connection_id", sa.String(255)))
    op.create_table(
        "business_connections",
        sa.Column("connection_id", sa.String(255), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("user_chat_id", sa.BigInteger, nullable=False),
        sa.Column("is_enabled", sa.Boolean, nullable=False),
        sa.Column("can_reply", sa.Boolean, nullable=False),
        sa.Column("can_delete_sent_messages", sa.Boolean, nullable=False),
        sa.Column("can_delete_all_messages", sa.Boolean, nullable=False),
        sa.Column("date", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_business_connections_user_id", "business_connections", ["user_id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )

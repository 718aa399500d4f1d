"""Reports out of groups: the groups that see their own, and each user's private summaries.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_private_reports",
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("chat_id", sa.BigInteger, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "report_groups",
        sa.Column("chat_id", sa.BigInteger, primary_key=True),
        sa.Column("since", sa.DateTime, nullable=False),
    )

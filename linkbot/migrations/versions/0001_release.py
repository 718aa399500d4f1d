"""The schema of the last release before migrations.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from alembic import op

from linkbot.migrations import schema_0001

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema_0001.build().create_all(op.get_bind())

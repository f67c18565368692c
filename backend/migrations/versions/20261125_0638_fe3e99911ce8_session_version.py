"""Agents' session version: logging out voids the tokens issued before.

Revision ID: fe3e99911ce8
Revises: 8f71ac3de020
Create Date: 2026-11-25 06:38:43.731628+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fe3e99911ce8"
down_revision: str | None = "8f71ac3de020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("session_version")

"""presence and event sequence

Revision ID: 8f71ac3de020
Revises: a61986f3d27e
Create Date: 2026-11-25 02:55:52.476907+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8f71ac3de020"
down_revision: str | None = "a61986f3d27e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("call_legs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event_sequence", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_legs", schema=None) as batch_op:
        batch_op.drop_column("event_sequence")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")

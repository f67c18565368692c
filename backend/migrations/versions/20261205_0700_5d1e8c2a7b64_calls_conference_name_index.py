"""Calls: a unique index on the conference name (callbacks find their call by it).

Revision ID: 5d1e8c2a7b64
Revises: 3b7c2e1d9a40
Create Date: 2026-12-05 07:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d1e8c2a7b64"
down_revision: str | None = "3b7c2e1d9a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_calls_conference_name", "calls", ["conference_name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_calls_conference_name", table_name="calls")

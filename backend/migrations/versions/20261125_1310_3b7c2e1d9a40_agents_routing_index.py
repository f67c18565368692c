"""Agents: an index in routing order (available, longest idle first).

Revision ID: 3b7c2e1d9a40
Revises: fe3e99911ce8
Create Date: 2026-11-25 13:10:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3b7c2e1d9a40"
down_revision: str | None = "fe3e99911ce8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_agents_availability_idle_since",
        "agents",
        ["availability", "idle_since", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_agents_availability_idle_since", table_name="agents")

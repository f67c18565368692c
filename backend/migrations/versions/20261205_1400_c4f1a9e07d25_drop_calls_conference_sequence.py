"""Calls: drop conference_sequence, written by every conference callback and never read.

Hold and mute are ordered per leg (call_legs.event_sequence) and every callback's sequence
number is kept in the call's timeline (call_events); the call-level copy only cost an UPDATE
of the call's row per callback.

Revision ID: c4f1a9e07d25
Revises: 5d1e8c2a7b64
Create Date: 2026-12-05 14:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4f1a9e07d25"
down_revision: str | None = "5d1e8c2a7b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ has it): no copy of the calls table.
    op.drop_column("calls", "conference_sequence")


def downgrade() -> None:
    op.add_column(
        "calls",
        sa.Column("conference_sequence", sa.Integer(), server_default="0", nullable=False),
    )

"""An agent's console counts as online while it was heard from within the grace (presence itself
is worked out by the database: agents.repository)."""

from __future__ import annotations

from datetime import datetime, timedelta

from warm_transfer.db import utcnow


def online_since(grace_seconds: int, *, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(seconds=grace_seconds)

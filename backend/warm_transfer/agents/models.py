from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from warm_transfer.db import Base, enum_column, utcnow


class Availability(StrEnum):
    """What the agent chose in the console."""

    available = "available"
    away = "away"


class Agent(Base):
    __tablename__ = "agents"

    # The id is also the Voice SDK identity (`client:<id>`), so it stays short and URL-safe.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    availability: Mapped[Availability] = mapped_column(
        enum_column(Availability), default=Availability.away
    )
    # When the agent last became free to take a call: routing offers the longest idle first.
    idle_since: Mapped[datetime] = mapped_column(default=utcnow)
    # Last sign of the agent's console (its event stream); presence turns offline after a grace.
    last_seen_at: Mapped[datetime | None]
    # Carried in every access token; logging out bumps it so tokens issued before stop working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Routing's "longest idle available agent" walks this index in order and stops at the first
    # free one, instead of sorting every agent for each offer.
    __table_args__ = (
        Index("ix_agents_availability_idle_since", "availability", "idle_since", "id"),
    )

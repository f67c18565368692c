from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warm_transfer.db import Base, enum_column, utcnow
from warm_transfer.transfers.models import Transfer


class CallStatus(StrEnum):
    queued = "queued"  # the customer waits with music; no agent is being offered the call
    ringing = "ringing"  # an agent is being offered the call
    in_progress = "in_progress"  # an agent is talking with the customer
    completed = "completed"


class LegRole(StrEnum):
    customer = "customer"
    agent = "agent"
    external = "external"


class LegStatus(StrEnum):
    dialing = "dialing"  # decided, the REST request to Twilio not yet answered
    queued = "queued"
    ringing = "ringing"
    in_progress = "in_progress"
    completed = "completed"
    busy = "busy"
    no_answer = "no_answer"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_LEG_STATUSES


FINAL_LEG_STATUSES = frozenset(
    {LegStatus.completed, LegStatus.busy, LegStatus.no_answer, LegStatus.failed, LegStatus.canceled}
)


class Call(Base):
    """The customer's call, keyed by its CallSid; its conference is named after that SID."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    conference_name: Mapped[str] = mapped_column(String(64))
    conference_sid: Mapped[str | None] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[CallStatus] = mapped_column(enum_column(CallStatus), default=CallStatus.queued)
    owner_agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    ended_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="call", lazy="raise", order_by="CallLeg.id"
    )
    transfers: Mapped[list[Transfer]] = relationship(lazy="raise", order_by="Transfer.id")

    __table_args__ = (
        Index("ix_calls_status_created_at", "status", "created_at"),
        # Every conference callback and agent connect webhook finds its call by it: without an
        # index each would scan the whole call history.
        Index("ix_calls_conference_name", "conference_name", unique=True),
    )


class CallLeg(Base):
    """One participant's leg of a call: the customer, an agent or an external number."""

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    role: Mapped[LegRole] = mapped_column(enum_column(LegRole))
    agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[LegStatus] = mapped_column(enum_column(LegStatus), default=LegStatus.dialing)
    on_hold: Mapped[bool] = mapped_column(default=False)
    muted: Mapped[bool] = mapped_column(default=False)
    # SequenceNumber of the last conference event applied to hold/mute: older ones are stale.
    event_sequence: Mapped[int] = mapped_column(default=0)
    end_conference_on_exit: Mapped[bool] = mapped_column(default=False)
    # Set to the agent's id while the leg is live (dialing, ringing or connected), NULL after:
    # the unique constraint makes "an agent is never offered two calls at once" a database fact.
    active_agent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship(back_populates="legs", lazy="raise")

    @property
    def label(self) -> str:
        """Conference participant label (unique per conference), usable instead of the CallSid."""
        return "customer" if self.role is LegRole.customer else f"leg-{self.id}"


class CallEvent(Base):
    """Every Twilio callback received for a call, in arrival order: the call's timeline."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    sequence_number: Mapped[int | None]
    # I-Twilio-Idempotency-Token, or the event's identity when Twilio sent none.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from warm_transfer.db import Base, enum_column, utcnow


class TransferMode(StrEnum):
    warm = "warm"
    cold = "cold"


class TransferStatus(StrEnum):
    dialing = "dialing"
    ringing = "ringing"
    consulting = "consulting"
    completed = "completed"
    canceled = "canceled"
    declined = "declined"
    no_answer = "no_answer"
    busy = "busy"
    failed = "failed"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_TRANSFER_STATUSES


ACTIVE_TRANSFER_STATUSES = frozenset(
    {TransferStatus.dialing, TransferStatus.ringing, TransferStatus.consulting}
)


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    from_agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    to_agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    to_number: Mapped[str | None] = mapped_column(String(32))
    mode: Mapped[TransferMode] = mapped_column(enum_column(TransferMode), default=TransferMode.warm)
    status: Mapped[TransferStatus] = mapped_column(
        enum_column(TransferStatus), default=TransferStatus.dialing
    )
    hold_customer: Mapped[bool] = mapped_column(default=True)
    target_leg_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_legs.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(String(200))
    # The call's id while this transfer is under way, NULL once it ended: at most one per call.
    active_call_id: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warm_transfer.calls.models import CallStatus, LegRole, LegStatus
from warm_transfer.transfers.schemas import TRANSFER_EXAMPLE, TransferOut

LEG_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "call_sid": "CA0123456789abcdef0123456789abcdef",
    "role": "agent",
    "agent_id": "agent1",
    "number": None,
    "status": "in_progress",
    "on_hold": False,
    "muted": False,
    "created_at": "2026-11-25T12:00:00Z",
    "joined_at": "2026-11-25T12:00:03Z",
    "ended_at": None,
}
CALL_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "call_sid": "CAfedcba9876543210fedcba9876543210",
    "from_number": "+15551230000",
    "to_number": "+15559870000",
    "status": "in_progress",
    "owner_agent_id": "agent1",
    "ended_by": None,
    "created_at": "2026-11-25T12:00:00Z",
    "answered_at": "2026-11-25T12:00:03Z",
    "ended_at": None,
    "legs": [LEG_EXAMPLE],
    "transfers": [TRANSFER_EXAMPLE],
}


class LegOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [LEG_EXAMPLE]})

    id: int
    call_sid: str | None = Field(description="Twilio's CallSid of this leg, once known.")
    role: LegRole
    agent_id: str | None
    number: str | None
    status: LegStatus
    on_hold: bool
    muted: bool
    created_at: datetime
    joined_at: datetime | None = Field(description="When the leg joined the conference.")
    ended_at: datetime | None


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [CALL_EXAMPLE]})

    id: int
    call_sid: str = Field(description="The customer's CallSid; also the conference's name.")
    from_number: str
    to_number: str
    status: CallStatus
    owner_agent_id: str | None = Field(description="The agent who has the call now.")
    ended_by: str | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    legs: list[LegOut]
    transfers: list[TransferOut]


class CallPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [CALL_EXAMPLE], "next_cursor": "42"}]}
    )

    items: list[CallOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

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
    ended_by: str | None = Field(
        description="Who hung up first: `customer`, `agent:<agent id>` or `external:<number>`; "
        "null while the call goes on or when Twilio did not say.",
        examples=["customer"],
    )
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    legs: list[LegOut]
    transfers: list[TransferOut]

    @computed_field(description="Agents who talked with the customer, in order.")  # type: ignore[prop-decorator]
    @property
    def handled_by(self) -> list[str]:
        seen: list[str] = []
        for leg in self.legs:
            if leg.agent_id and leg.joined_at and leg.agent_id not in seen:
                seen.append(leg.agent_id)
        return seen

    @computed_field(description="Seconds the customer waited for the first agent.")  # type: ignore[prop-decorator]
    @property
    def wait_seconds(self) -> float | None:
        end = self.answered_at or self.ended_at
        return None if end is None else round((end - self.created_at).total_seconds(), 1)

    @computed_field(description="Seconds from the first agent's answer to the end.")  # type: ignore[prop-decorator]
    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 1)


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"hold": True}]})

    # Strict: JSON true or false, as documented, not 0, 1 or "yes" coerced.
    hold: bool = Field(
        strict=True, description="true: hold the customer with music; false: resume."
    )


class CallEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str = Field(description="`call` (a leg's status) or `conference`.", examples=["call"])
    name: str = Field(description="Twilio's CallStatus or StatusCallbackEvent.")
    call_sid: str | None
    sequence_number: int | None
    received_at: datetime


class CallPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [CALL_EXAMPLE], "next_cursor": "42"}]}
    )

    items: list[CallOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")

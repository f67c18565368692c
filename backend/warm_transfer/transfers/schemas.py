from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from warm_transfer.agents.schemas import AgentId
from warm_transfer.transfers.models import TransferMode, TransferStatus

TRANSFER_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "call_id": 42,
    "from_agent_id": "agent1",
    "to_agent_id": "agent2",
    "to_number": None,
    "mode": "warm",
    "status": "ringing",
    "hold_customer": True,
    "reason": None,
    "created_at": "2026-11-25T12:00:05Z",
    "answered_at": None,
    "ended_at": None,
}


class TransferIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to_agent_id": "agent2"}]}
    )

    to_agent_id: AgentId = Field(description="The colleague to dial into the conference.")


class TransferOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [TRANSFER_EXAMPLE]}
    )

    id: int
    call_id: int
    from_agent_id: str | None
    to_agent_id: str | None
    to_number: str | None
    mode: TransferMode
    status: TransferStatus
    hold_customer: bool = Field(description="Whether the customer is held during the consult.")
    reason: str | None = Field(description="Why the transfer ended as it did, in words.")
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None

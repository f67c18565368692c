from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from warm_transfer.agents.schemas import AgentId
from warm_transfer.transfers.models import TransferMode, TransferStatus

E164 = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", examples=["+442071234567"])]

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
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"to_agent_id": "agent2"},
                {"to_agent_id": "agent2", "hold_customer": False},
                {"to_agent_id": "agent3", "mode": "cold"},
                {"to_number": "+442071234567"},
            ],
            # Exactly one target (checked by `_one_target`), so clients and fuzzers see the rule.
            "oneOf": [
                {"required": ["to_agent_id"], "properties": {"to_agent_id": {"type": "string"}}},
                {"required": ["to_number"], "properties": {"to_number": {"type": "string"}}},
            ],
        },
    )

    to_agent_id: AgentId | None = Field(
        default=None, description="The colleague to dial into the conference."
    )
    to_number: E164 | None = Field(
        default=None,
        description="An outside number (E.164) instead of an agent; it must match the "
        "configured allow-list (TRANSFER_ALLOWED_NUMBERS).",
    )
    mode: TransferMode = Field(
        default=TransferMode.warm,
        description="`warm`: consult first, then complete. `cold`: you leave at once; the "
        "customer hears music until the target answers, and goes back to the queue if they don't.",
    )
    hold_customer: bool = Field(
        default=True,
        strict=True,  # JSON true or false, as documented, not 0, 1 or "yes" coerced
        description="Hold the customer (music) during the consult; false keeps a three-way call. "
        "A cold transfer always holds.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.to_agent_id is None) == (self.to_number is None):
            raise ValueError("give exactly one of to_agent_id and to_number")
        return self


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

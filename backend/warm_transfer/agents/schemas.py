from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from warm_transfer.agents.models import Availability

# The id doubles as the Twilio client identity: `client:<id>` must stay short and plain.
AGENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
AgentId = Annotated[str, Field(pattern=AGENT_ID_PATTERN, examples=["agent1"])]


def is_valid_agent_id(value: str) -> bool:
    return re.fullmatch(AGENT_ID_PATTERN, value) is not None


class Presence(StrEnum):
    """What other agents see: the agent's choice, overridden by being on a call."""

    available = "available"
    away = "away"
    busy = "busy"
    offline = "offline"


class AgentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "agent1",
                    "name": "Ada Agent",
                    "availability": "available",
                    "presence": "busy",
                    "on_call": True,
                }
            ]
        }
    )

    id: str = Field(description="Agent id; also the softphone identity `client:<id>`.")
    name: str
    availability: Availability = Field(description="What the agent chose.")
    presence: Presence = Field(description="What the directory shows.")
    on_call: bool = Field(description="On a call or being offered one right now.")


class AvailabilityIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"availability": "available"}]})

    availability: Availability


class LoginOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs…",
                    "token_type": "bearer",
                    "expires_at": "2026-11-25T14:00:00Z",
                    "agent": AgentOut.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime
    agent: AgentOut


class VoiceTokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0…",
                    "identity": "agent1",
                    "expires_at": "2026-11-25T13:00:00Z",
                }
            ]
        }
    )

    token: str = Field(
        description="Twilio Access Token with a VoiceGrant, for `new Device(token)`."
    )
    identity: str = Field(description="The client identity the token is for.")
    expires_at: datetime = Field(description="Refresh the Device's token before this instant.")

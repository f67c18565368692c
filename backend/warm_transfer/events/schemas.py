from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, RootModel

from warm_transfer.agents.schemas import AgentOut
from warm_transfer.calls.schemas import CallOut


class TicketOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ticket": "eyJhbGciOi…", "expires_in": 60}]}
    )

    ticket: str = Field(description="Open `GET /api/events?ticket=<ticket>` within a minute.")
    expires_in: int = Field(description="Seconds the ticket stays valid.")


class HelloEvent(BaseModel):
    """First event of a stream: who you are, as the directory shows you."""

    me: AgentOut


class DirectoryEvent(BaseModel):
    """The whole directory: when the stream opens, every 15 s, and when changes would not do."""

    agents: list[AgentOut]


class AgentsEvent(BaseModel):
    """The agents whose directory entries changed (presence, availability, name) since the
    last `directory` or `agents` event: each replaces the entry with its id (a new id is added)."""

    agents: list[AgentOut]


class QueueEvent(BaseModel):
    """Calls waiting for an agent now, oldest first."""

    calls: list[CallOut]


class CallEvent(BaseModel):
    """One of your calls (offered, live, or just ended) as it is now: legs, holds, transfers."""

    call: CallOut


class StreamEventData(
    RootModel[HelloEvent | DirectoryEvent | AgentsEvent | QueueEvent | CallEvent]
):
    """The JSON `data` of a stream event, by event name: `hello`, `directory`, `agents`,
    `queue`, `call`."""

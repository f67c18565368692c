"""What other agents see of an agent: their choice, unless on a call or their console is gone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from warm_transfer.agents.models import Availability
from warm_transfer.agents.schemas import AgentOut, Presence
from warm_transfer.db import utcnow


def online_since(grace_seconds: int, *, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(seconds=grace_seconds)


class Presentable(Protocol):
    """What presence needs of an agent: the model, or a row of just these columns."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def availability(self) -> Availability: ...
    @property
    def last_seen_at(self) -> datetime | None: ...


def present(agent: Presentable, *, on_call: bool, online_since: datetime) -> AgentOut:
    if on_call:
        presence = Presence.busy
    elif agent.last_seen_at is None or agent.last_seen_at < online_since:
        presence = Presence.offline
    else:
        presence = Presence(agent.availability.value)
    return AgentOut(
        id=agent.id,
        name=agent.name,
        availability=agent.availability,
        presence=presence,
        on_call=on_call,
    )

"""What an agent's console is told: snapshots read after the commit, as stream events."""

from __future__ import annotations

from typing import Any

from fastapi.sse import ServerSentEvent
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import repository as agents_repository
from warm_transfer.agents import service as agents
from warm_transfer.calls import repository as calls
from warm_transfer.calls.models import Call
from warm_transfer.calls.schemas import CallOut
from warm_transfer.events.schemas import CallEvent, HelloEvent, QueueEvent

QUEUE_LIMIT = 50


def _event(name: str, payload: BaseModel) -> ServerSentEvent:
    return ServerSentEvent(event=name, raw_data=payload.model_dump_json())


async def opening(
    session: AsyncSession, *, agent_id: str, grace_seconds: int
) -> list[ServerSentEvent]:
    """A stream starts with everything the console shows: no gap between load and live."""
    agent = await agents_repository.get(session, agent_id)
    if agent is None:
        return []
    me = await agents.describe(session, agent=agent, grace_seconds=grace_seconds)
    events = [_event("hello", HelloEvent(me=me))]
    events.append(await directory(session, grace_seconds=grace_seconds))
    events.append(await queue(session))
    events.extend(call_event(call) for call in await calls.live_involving(session, agent_id))
    return events


async def directory(session: AsyncSession, *, grace_seconds: int) -> ServerSentEvent:
    return directory_event(await agents.directory(session, grace_seconds=grace_seconds))


def directory_event(listing: list[dict[str, Any]]) -> ServerSentEvent:
    """A DirectoryEvent, serialized from the rows as they are: a model per agent would double
    the cost of every presence change seen by a thousand-agent contact center."""
    return ServerSentEvent(event="directory", raw_data=to_json({"agents": listing}).decode())


def agents_event(changed: list[dict[str, Any]]) -> ServerSentEvent:
    """An AgentsEvent: the directory entries that changed, as `directory_event` has them."""
    return ServerSentEvent(event="agents", raw_data=to_json({"agents": changed}).decode())


async def queue(session: AsyncSession) -> ServerSentEvent:
    waiting = await calls.waiting(session, limit=QUEUE_LIMIT)
    return _event("queue", QueueEvent(calls=[CallOut.model_validate(c) for c in waiting]))


def call_event(call: Call) -> ServerSentEvent:
    return _event("call", CallEvent(call=CallOut.model_validate(call)))

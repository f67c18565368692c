from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    case,
    exists,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents.models import Agent, Availability
from warm_transfer.agents.schemas import Presence
from warm_transfer.calls.models import CallLeg


def _on_a_call() -> Exists:
    return exists().where(CallLeg.active_agent_id == Agent.id)


async def get(session: AsyncSession, agent_id: str) -> Agent | None:
    return await session.get(Agent, agent_id)


async def list_all(session: AsyncSession) -> Sequence[Agent]:
    return list(await session.scalars(select(Agent).order_by(Agent.id)))


_AVAILABILITY = type_coerce(Agent.availability, String)  # its value, as the directory shows it


def _presence(online_since: datetime) -> ColumnElement[str]:
    """What other agents see: busy on a call, offline once the console has been quiet since
    before `online_since`, else what the agent chose."""
    return case(
        (_on_a_call(), Presence.busy.value),
        (
            or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < online_since),
            Presence.offline.value,
        ),
        else_=_AVAILABILITY,
    )


async def directory_rows(
    session: AsyncSession, *, online_since: datetime, agent_id: str | None = None
) -> list[dict[str, Any]]:
    """Agents as the directory shows them (AgentOut's fields), every one or just `agent_id`.
    Plain dicts, presence worked out by the database: a console's stream re-reads this on
    presence changes, and with a thousand agents, objects and datetimes cost 3x the query."""
    query = select(
        Agent.id,
        Agent.name,
        _AVAILABILITY.label("availability"),
        _presence(online_since).label("presence"),
        _on_a_call().label("on_call"),
    ).order_by(Agent.id)
    if agent_id is not None:
        query = query.where(Agent.id == agent_id)
    result = await session.execute(query)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


async def is_on_a_call(session: AsyncSession, agent_id: str) -> bool:
    on_call = await session.scalar(select(exists().where(CallLeg.active_agent_id == agent_id)))
    return bool(on_call)


# Routing runs these several times per call, so they are built once, with bind parameters:
# building a statement costs more than SQLite takes to run it. `online_since` is a parameter.
ONLINE_SINCE = "online_since"
_FREE = (
    Agent.availability == Availability.available,
    Agent.last_seen_at >= bindparam(ONLINE_SINCE),
    ~_on_a_call(),
)
# Whether an agent is free, locked by another transaction or not (a clause to select); the
# free agents' ids (a select).
ANY_FREE: Exists = exists().where(*_FREE)
FREE: Select[str] = select(Agent.id).where(*_FREE)
_FREE_AGENTS = (
    select(Agent)
    .where(*_FREE)
    .order_by(Agent.idle_since, Agent.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True, of=Agent)
)


async def free_agents(
    session: AsyncSession, *, online_since: datetime, limit: int, exclude: Sequence[str] = ()
) -> Sequence[Agent]:
    """Available agents with a live console and no call, longest idle first, row-locked where
    the database can (PostgreSQL: SKIP LOCKED, so concurrent offers pick different agents)."""
    query = _FREE_AGENTS.where(Agent.id.not_in(exclude)) if exclude else _FREE_AGENTS
    return list(await session.scalars(query, {ONLINE_SINCE: online_since, "limit": limit}))


async def next_free_agent(
    session: AsyncSession, *, online_since: datetime, exclude: Sequence[str] = ()
) -> Agent | None:
    """The longest-idle free agent (see `free_agents`)."""
    found = await free_agents(session, online_since=online_since, limit=1, exclude=exclude)
    return found[0] if found else None


async def touch(
    session: AsyncSession,
    agent_id: str,
    *,
    seen_at: datetime,
    if_seen_since: datetime | None = None,
) -> bool:
    """Record a heartbeat without loading the row (it is frequent and changes no presence);
    with `if_seen_since`, only if the agent was seen since then. Whether a row was touched."""
    query = update(Agent).where(Agent.id == agent_id).values(last_seen_at=seen_at)
    if if_seen_since is not None:
        query = query.where(Agent.last_seen_at >= if_seen_since)
    result = await session.execute(query)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Core, built once: every call's end runs it, and the ORM's UPDATE path (a flush first, then
# matching the agent among the session's objects) cost several times the statement. Only SQL
# reads idle_since (routing's order), so an Agent loaded in the session may keep the old value.
_AGENTS = cast(Table, Agent.__table__)
_MARK_IDLE = (
    update(_AGENTS)
    .where(_AGENTS.c.id == bindparam("agent_id"))
    .values(idle_since=bindparam("since", type_=_AGENTS.c.idle_since.type))
)


async def mark_idle(session: AsyncSession, agent_id: str, *, since: datetime) -> None:
    """Restart the agent's idle time without loading the row (every call's end does this)."""
    await session.execute(_MARK_IDLE, {"agent_id": agent_id, "since": since})


def add(session: AsyncSession, agent: Agent) -> None:
    session.add(agent)


async def delete(session: AsyncSession, agent: Agent) -> None:
    await session.delete(agent)

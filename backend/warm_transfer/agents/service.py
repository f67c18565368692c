from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import repository
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.agents.presence import online_since
from warm_transfer.agents.schemas import AgentOut, is_valid_agent_id
from warm_transfer.agents.security import (
    hash_password,
    verify_password,
    verify_unknown_agent_password,
)
from warm_transfer.db import utcnow
from warm_transfer.errors import Conflict, NotFound, Unauthorized
from warm_transfer.routing import service as routing
from warm_transfer.telephony.voice import Voice


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    description = "Unknown agent or wrong password"


class AgentNotFound(NotFound):
    code = "agent_not_found"
    description = "No such agent"


class AgentExists(Conflict):
    code = "agent_exists"
    description = "An agent with this id already exists"


async def authenticate(session: AsyncSession, *, agent_id: str, password: str) -> Agent:
    # A username that cannot be an agent id (a NUL, say) is unknown without asking the database.
    agent = await repository.get(session, agent_id) if is_valid_agent_id(agent_id) else None
    if agent is None:
        verify_unknown_agent_password(password)
        raise InvalidCredentials
    if not verify_password(password, agent.password_hash):
        raise InvalidCredentials
    return agent


def log_out(*, agent: Agent) -> None:
    agent.session_version += 1


async def describe(session: AsyncSession, *, agent: Agent, grace_seconds: int) -> AgentOut:
    rows = await repository.directory_rows(
        session, online_since=online_since(grace_seconds), agent_id=agent.id
    )
    return AgentOut.model_validate(rows[0])


async def directory(session: AsyncSession, *, grace_seconds: int) -> list[dict[str, Any]]:
    """Every agent as AgentOut's fields (plain dicts: the event stream serializes them as they
    are, without a model per agent)."""
    return await repository.directory_rows(session, online_since=online_since(grace_seconds))


async def set_availability(
    session: AsyncSession, *, agent: Agent, availability: Availability, voice: Voice
) -> AgentOut:
    if agent.availability is not availability:
        agent.availability = availability
        if availability is Availability.available:
            agent.idle_since = utcnow()
        await session.flush()
        if availability is Availability.available:
            await routing.offer_waiting_calls(session, voice=voice)
    return await describe(session, agent=agent, grace_seconds=voice.settings.presence_grace_seconds)


async def console_connected(session: AsyncSession, *, agent_id: str, voice: Voice) -> None:
    """The agent's console opened its event stream: online now (others see it change). An
    available agent coming back online is free: the calls that waited are offered."""
    agent = await repository.get(session, agent_id)
    if agent is None:
        return
    since = online_since(voice.settings.presence_grace_seconds)
    if agent.last_seen_at is not None and agent.last_seen_at >= since:
        await repository.touch(session, agent_id, seen_at=utcnow())
        return
    agent.last_seen_at = utcnow()  # an ORM change, so the directory update goes out
    await session.flush()
    if agent.availability is Availability.available:
        await routing.offer_waiting_calls(session, voice=voice)


async def console_heartbeat(session: AsyncSession, *, agent_id: str, voice: Voice) -> None:
    """The stream is still open. One statement while the agent is online; if the console was
    gone longer than the grace (a laptop asleep), it comes back as if it had just connected."""
    since = online_since(voice.settings.presence_grace_seconds)
    if not await repository.touch(session, agent_id, seen_at=utcnow(), if_seen_since=since):
        await console_connected(session, agent_id=agent_id, voice=voice)


async def create_agent(
    session: AsyncSession,
    *,
    agent_id: str,
    name: str,
    password: str,
    availability: Availability = Availability.away,
) -> Agent:
    if await repository.get(session, agent_id) is not None:
        raise AgentExists(f"Agent {agent_id!r} already exists")
    agent = Agent(
        id=agent_id,
        name=name,
        password_hash=hash_password(password),
        availability=availability,
    )
    repository.add(session, agent)
    await session.flush()
    return agent


async def remove_agent(session: AsyncSession, *, agent_id: str) -> None:
    agent = await repository.get(session, agent_id)
    if agent is None:
        raise AgentNotFound(f"Agent {agent_id!r} not found")
    await repository.delete(session, agent)
    await session.flush()


async def list_agents(session: AsyncSession) -> Sequence[Agent]:
    return await repository.list_all(session)

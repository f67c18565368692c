"""Loading a call to act on it, shared by the calls and transfers services: the checks an agent's
action starts with, and re-reading the call after waiting on Twilio."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents.models import Agent
from warm_transfer.calls import repository
from warm_transfer.calls.errors import CallEnded, CallNotFound, NotOnCall
from warm_transfer.calls.models import Call, CallLeg, CallStatus


async def live_call(session: AsyncSession, call_id: int) -> Call:
    """The call, if it exists (404) and has not ended (409)."""
    call = await repository.get(session, call_id)
    if call is None:
        raise CallNotFound(f"Call {call_id} not found")
    if call.status is CallStatus.completed:
        raise CallEnded(f"Call {call_id} has ended")
    return call


def connected_leg(call: Call, agent: Agent) -> CallLeg:
    """The agent's leg on the call, connected (403 otherwise: agents act only on their calls)."""
    leg = repository.connected_agent_leg(call, agent.id)
    if leg is None:
        raise NotOnCall(f"You are not connected to call {call.id}")
    return leg


async def reload(session: AsyncSession, call_id: int) -> Call:
    """The call as the database has it now: another request may have changed it meanwhile."""
    call = await repository.get(session, call_id, fresh=True)
    assert call is not None  # noqa: S101 - calls are never deleted while in use
    return call


def same_leg(call: Call, leg: CallLeg) -> CallLeg:
    """`leg` as loaded with a reloaded `call`."""
    fresh = repository.leg_by_id(call, leg.id)
    assert fresh is not None  # noqa: S101 - legs are never deleted
    return fresh

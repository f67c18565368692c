from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple, cast

from sqlalchemy import Exists, Integer, Select, Table, bindparam, case, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from warm_transfer.calls.models import (
    Call,
    CallEvent,
    CallLeg,
    CallStatus,
    LegRole,
    LegStatus,
)
from warm_transfer.transfers.models import Transfer

_WITH_DETAILS = (selectinload(Call.legs), selectinload(Call.transfers))
# One call: legs and transfers joined into the same query (a few rows; one round trip, not three).
_ONE_WITH_DETAILS = (joinedload(Call.legs), joinedload(Call.transfers))


# One call by its id, CallSid or conference: each webhook looks one up, so the statements are
# built once (building one costs more than SQLite takes to run it).
_BY_ID, _BY_SID, _BY_CONFERENCE = (
    select(Call).where(column == bindparam("key")).options(*_ONE_WITH_DETAILS)
    for column in (Call.id, Call.call_sid, Call.conference_name)
)


async def _one(
    session: AsyncSession, query: Select[Call], key: object, *, fresh: bool = False
) -> Call | None:
    options = {"populate_existing": True} if fresh else {}
    rows = await session.scalars(query, {"key": key}, execution_options=options)
    return rows.unique().one_or_none()


async def get(session: AsyncSession, call_id: int, *, fresh: bool = False) -> Call | None:
    """The call with its legs and transfers; `fresh` re-reads rows already in the session (after
    a commit and a wait on Twilio, another request may have changed them)."""
    return await _one(session, _BY_ID, call_id, fresh=fresh)


async def get_by_sid(session: AsyncSession, call_sid: str) -> Call | None:
    return await _one(session, _BY_SID, call_sid)


async def get_by_conference(session: AsyncSession, conference_name: str) -> Call | None:
    return await _one(session, _BY_CONFERENCE, conference_name)


async def get_leg(session: AsyncSession, leg_id: int) -> CallLeg | None:
    return (await legs_by_id(session, [leg_id])).get(leg_id)


# The job worker and routing run these for every call: built once, with bind parameters
# (building a statement costs more than SQLite takes to run it).
_LEGS_BY_ID = (
    select(CallLeg)
    .where(CallLeg.id.in_(bindparam("leg_ids", expanding=True)))
    .options(joinedload(CallLeg.call))
)
# The calls waiting for an agent, locked by another transaction or not (a select of their ids);
# whether one recorded before the `created_before` parameter waits (a clause).
WAITING: Select[int] = select(Call.id).where(Call.status == CallStatus.queued)
CREATED_BEFORE = "created_before"
ANY_WAITING_BEFORE: Exists = exists().where(
    Call.status == CallStatus.queued, Call.created_at < bindparam(CREATED_BEFORE)
)
_OLDEST_WAITING = (
    select(Call)
    .where(Call.status == CallStatus.queued)
    .order_by(Call.created_at, Call.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)


# A dialed leg given Twilio's CallSid: as it was, then updated. Core, built once (every dial
# runs them): loading the leg with its call and flushing it cost several times the statements.
_LEGS = cast(Table, CallLeg.__table__)
_LEG_BEFORE_DIAL = select(_LEGS.c.call_id, _LEGS.c.status, _LEGS.c.call_sid).where(
    _LEGS.c.id == bindparam("leg_id")
)
_DIALED = (
    update(_LEGS)
    .where(_LEGS.c.id == bindparam("leg_id"))
    .values(
        call_sid=bindparam("call_sid"),
        # Still dialing: placed, so queued at Twilio. A callback may have moved it on already.
        status=case((_LEGS.c.status == LegStatus.dialing, LegStatus.queued), else_=_LEGS.c.status),
    )
)


class LegBeforeDial(NamedTuple):
    call_id: int
    status: LegStatus
    call_sid: str | None


async def leg_dialed(session: AsyncSession, *, leg_id: int, call_sid: str) -> LegBeforeDial | None:
    """Give a dialed leg the CallSid Twilio created for it; the leg as it was before, or None
    when there is no such leg."""
    row = (await session.execute(_LEG_BEFORE_DIAL, {"leg_id": leg_id})).one_or_none()
    if row is None:
        return None
    await session.execute(_DIALED, {"leg_id": leg_id, "call_sid": call_sid})
    return LegBeforeDial(*row)


async def legs_by_id(session: AsyncSession, leg_ids: Sequence[int]) -> dict[int, CallLeg]:
    """Legs with their calls, in one query."""
    rows = await session.scalars(_LEGS_BY_ID, {"leg_ids": list(leg_ids)})
    return {leg.id: leg for leg in rows}


async def oldest_waiting(session: AsyncSession, *, limit: int) -> Sequence[Call]:
    return list(await session.scalars(_OLDEST_WAITING, {"limit": limit}))


async def waiting(session: AsyncSession, *, limit: int) -> Sequence[Call]:
    """Calls waiting for an agent, oldest first (what the queue panel shows)."""
    rows = await session.scalars(
        select(Call)
        .where(Call.status == CallStatus.queued)
        .options(*_WITH_DETAILS)
        .order_by(Call.created_at, Call.id)
        .limit(limit)
    )
    return list(rows)


async def with_details(session: AsyncSession, call_ids: Sequence[int]) -> Sequence[Call]:
    query = select(Call).where(Call.id.in_(call_ids)).options(*_WITH_DETAILS).order_by(Call.id)
    return list(await session.scalars(query))


# Which agents have a leg on each of some calls: Core rows, no objects loaded.
_AGENTS_ON = select(CallLeg.call_id, CallLeg.agent_id).where(
    CallLeg.call_id.in_(bindparam("call_ids", expanding=True)), CallLeg.agent_id.is_not(None)
)


async def involving_any(
    session: AsyncSession, call_ids: Sequence[int], agent_ids: Collection[str]
) -> list[int]:
    """Which of the calls any of the agents has a leg on, in id order."""
    rows = await session.execute(_AGENTS_ON, {"call_ids": list(call_ids)})
    return sorted({call_id for call_id, agent_id in rows if agent_id in agent_ids})


async def live_involving(session: AsyncSession, agent_id: str) -> Sequence[Call]:
    """Calls not yet ended that the agent has a leg on."""
    query = (
        select(Call)
        .where(
            Call.id.in_(select(CallLeg.call_id).where(CallLeg.agent_id == agent_id)),
            Call.status != CallStatus.completed,
        )
        .options(*_WITH_DETAILS)
        .order_by(Call.id)
    )
    return list(await session.scalars(query))


async def page(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None,
    status: CallStatus | None,
    agent_id: str | None,
) -> Sequence[Call]:
    query = select(Call).options(*_WITH_DETAILS).order_by(Call.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Call.id < before_id)
    if status is not None:
        query = query.where(Call.status == status)
    if agent_id is not None:
        took_part = select(CallLeg.call_id).where(
            CallLeg.agent_id == agent_id, CallLeg.role == LegRole.agent
        )
        query = query.where(Call.id.in_(took_part))
    return list(await session.scalars(query))


async def events(session: AsyncSession, call_id: int) -> Sequence[CallEvent]:
    rows = await session.scalars(
        select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
    )
    return list(rows)


def live_agent_leg(call: Call, agent_id: str) -> CallLeg | None:
    """The agent's leg on this call that is still up (dialing, ringing or connected)."""
    for leg in call.legs:
        if leg.agent_id == agent_id and leg.active_agent_id is not None:
            return leg
    return None


def connected_agent_leg(call: Call, agent_id: str) -> CallLeg | None:
    leg = live_agent_leg(call, agent_id)
    return leg if leg is not None and leg.status is LegStatus.in_progress else None


def customer_leg(call: Call) -> CallLeg:
    return next(leg for leg in call.legs if leg.role is LegRole.customer)


def active_transfer(call: Call) -> Transfer | None:
    return next((transfer for transfer in call.transfers if transfer.status.is_active), None)


def leg_by_id(call: Call, leg_id: int | None) -> CallLeg | None:
    return next((leg for leg in call.legs if leg.id == leg_id), None)


def leg_by_sid(call: Call, call_sid: str | None) -> CallLeg | None:
    return next((leg for leg in call.legs if call_sid and leg.call_sid == call_sid), None)


def transfer_for_leg(call: Call, leg: CallLeg) -> Transfer | None:
    return next((t for t in call.transfers if t.target_leg_id == leg.id), None)


def connected_agents(call: Call) -> list[CallLeg]:
    return [
        leg
        for leg in call.legs
        if leg.role is not LegRole.customer and leg.status is LegStatus.in_progress
    ]

"""Who gets a call: offer it to one free agent at a time, longest idle first, else let it wait."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ScalarSelect, Select, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from warm_transfer.agents import repository as agents
from warm_transfer.agents.models import Agent
from warm_transfer.agents.presence import online_since
from warm_transfer.calls import repository as calls
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole, LegStatus
from warm_transfer.db import insert_unless_exists, utcnow
from warm_transfer.events.bus import note_changes
from warm_transfer.telephony.voice import Voice

logger = logging.getLogger(__name__)

DIAL_AGENT = "dial_agent"
OFFER_WAITING_CALLS = "offer_waiting_calls"
WAITING_BATCH = 20  # waiting calls read at a time


def _count_up_to_a_batch(query: Select[Any]) -> ScalarSelect[int]:
    return select(func.count()).select_from(query.limit(WAITING_BATCH).subquery()).scalar_subquery()


# How many calls wait and how many agents are free, each counted no further than a batch.
_PAIRABLE = select(_count_up_to_a_batch(calls.WAITING), _count_up_to_a_batch(agents.FREE))
# After it, whether a call that waited before it began and a free agent are still apart.
_LEFT_APART = select(calls.ANY_WAITING_BEFORE & agents.ANY_FREE)
# How soon to look again at a call and an agent that row locks kept apart (the locks are short).
LOCKED_OUT_RETRY = timedelta(seconds=0.1)


# Passes take turns on PostgreSQL (a transaction-scoped advisory lock; the key is arbitrary
# but fixed). Without it, a pass in a transaction freeing an agent and the dispatcher's pass for
# a call just recorded can each miss the other's uncommitted change and leave both waiting.
ROUTING_LOCK_KEY = 0x5752_5455  # "WRTU"


def _writers_overlap(session: AsyncSession) -> bool:
    """Whether transactions can write at once (PostgreSQL): passes may then overlap and skip
    each other's locked rows. SQLite writes one transaction at a time."""
    return session.get_bind().dialect.name != "sqlite"


async def _take_routing_turn(session: AsyncSession) -> None:
    """Wait for passes in other transactions to commit (once per transaction)."""
    if not _writers_overlap(session):
        return
    transaction = session.sync_session.get_transaction()
    if session.info.get("routing_turn") is not transaction:
        await session.execute(select(func.pg_advisory_xact_lock(ROUTING_LOCK_KEY)))
        session.info["routing_turn"] = transaction


# An offer's writes, on the tables and built once: every offer runs them, and the ORM's flush
# of new legs and changed calls cost several times the statements. A leg for an agent another
# transaction (another replica) has just offered a call is not stored (an agent's active leg is
# unique): no savepoint to wrap the insert in, and no error to recover from.
_LEGS = cast(Table, CallLeg.__table__)
_CALLS = cast(Table, Call.__table__)
_NEW_AGENT_LEGS = insert_unless_exists(
    _LEGS, _LEGS.c.call_id, _LEGS.c.id, unique=_LEGS.c.active_agent_id.name
)
_RINGING = (
    update(_CALLS)
    .where(_CALLS.c.id.in_(bindparam("call_ids", expanding=True)))
    .values(status=CallStatus.ringing)
)


def _agent_leg(call: Call, agent_id: str) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "role": LegRole.agent,
        "agent_id": agent_id,
        "status": LegStatus.dialing,
        "active_agent_id": agent_id,
        # The only agent on the call ends it by leaving (DESIGN §5.6).
        "end_conference_on_exit": True,
    }


async def _offer(
    session: AsyncSession, *, pairs: Sequence[tuple[Call, str]], voice: Voice
) -> dict[int, int]:
    """Offer each call to its agent: the legs (in one statement: on PostgreSQL each is a round
    trip), the calls ringing, a durable dial job each; the new legs' ids by call id. A call
    whose agent another transaction (another replica) offered a call first is left as it was."""
    insert_legs = _NEW_AGENT_LEGS[session.get_bind().dialect.name]
    rows = await session.execute(
        insert_legs, [_agent_leg(call, agent_id) for call, agent_id in pairs]
    )
    leg_ids: dict[int, int] = dict(rows.all())
    offered = [(call, agent_id) for call, agent_id in pairs if call.id in leg_ids]
    if not offered:
        return leg_ids
    await session.execute(_RINGING, {"call_ids": [call.id for call, _ in offered]})
    for call, agent_id in offered:
        set_committed_value(call, "status", CallStatus.ringing)  # as the UPDATE just left it
        voice.jobs.enqueue(session, kind=DIAL_AGENT, payload={"leg_id": leg_ids[call.id]})
        logger.info("offering call %s to agent %s", call.id, agent_id)
    note_changes(session, calls=[call.id for call, _ in offered], agents=True)
    return leg_ids


async def offer_call(
    session: AsyncSession, *, call: Call, voice: Voice, exclude: Sequence[str] = ()
) -> int | None:
    """Offer `call` to the next free agent (a leg plus a durable dial job), or leave it queued;
    the offer's leg id."""
    if call.status is CallStatus.completed:
        return None
    await _take_routing_turn(session)
    tried = list(exclude)
    since = online_since(voice.settings.presence_grace_seconds)
    while agent := await agents.next_free_agent(session, online_since=since, exclude=tried):
        if leg_ids := await _offer(session, pairs=[(call, agent.id)], voice=voice):
            return leg_ids[call.id]
        tried.append(agent.id)  # another transaction (another replica) offered them a call first
    call.status = CallStatus.queued
    return None


async def offer_waiting_calls(session: AsyncSession, *, voice: Voice) -> int:
    """Offer waiting calls, oldest first, to the free agents, longest idle first, for as long as
    there are both; returns how many were offered.

    One statement first counts both: mostly one or the other is none (a quiet queue, or every
    agent busy under load), and then that is the whole pass. Otherwise the pass reads (and on
    PostgreSQL locks) only as many calls and agents as can be paired: a call's end frees one
    agent, and reading twenty waiting calls for it locked nineteen for nothing."""
    await _take_routing_turn(session)
    started = utcnow()
    since = online_since(voice.settings.presence_grace_seconds)
    counts = {agents.ONLINE_SINCE: since}
    pairable = min((await session.execute(_PAIRABLE, counts)).one())
    if not pairable:
        return 0
    offered = 0
    while pairable:
        waiting = await calls.oldest_waiting(session, limit=pairable)
        free = await agents.free_agents(session, online_since=since, limit=pairable)
        pairs = list(zip(waiting, free, strict=False))
        if pairs:
            offered += await _offer_pairs(session, pairs=pairs, voice=voice)
        if len(pairs) < pairable or pairable < WAITING_BATCH:
            break  # all there were are paired, or the rest are locked by other transactions
        pairable = min((await session.execute(_PAIRABLE, counts)).one())
    await _look_again_if_locked_out(session, voice=voice, since=since, started=started)
    return offered


async def _offer_pairs(
    session: AsyncSession, *, pairs: Sequence[tuple[Call, Agent]], voice: Voice
) -> int:
    """Offer each call to its agent, all at once; returns how many were offered."""
    leg_ids = await _offer(session, pairs=[(call, agent.id) for call, agent in pairs], voice=voice)
    offered = len(leg_ids)
    # Another replica offered some of these agents a call meanwhile: their calls one at a time.
    for call in (call for call, _ in pairs if call.id not in leg_ids):
        if await offer_call(session, call=call, voice=voice) is None:
            break
        offered += 1
    return offered


async def _look_again_if_locked_out(
    session: AsyncSession, *, voice: Voice, since: datetime, started: datetime
) -> None:
    """On PostgreSQL a pass skips the rows other transactions hold: an agent's (a console's
    heartbeat, a login), a waiting call's (the conference callback of the customer joining).
    If a call that waited before the pass began and a free agent are left, nothing else may
    wake routing for them: leave a job to look again shortly. (Calls recorded since will wake
    routing themselves.)"""
    if not _writers_overlap(session):
        return
    left_apart = {agents.ONLINE_SINCE: since, calls.CREATED_BEFORE: started}
    if await session.scalar(_LEFT_APART, left_apart):
        voice.jobs.enqueue(
            session,
            kind=OFFER_WAITING_CALLS,
            payload={},
            run_after=utcnow() + LOCKED_OUT_RETRY,
        )


async def release_agent_leg(session: AsyncSession, *, leg: CallLeg, status: LegStatus) -> None:
    """End an agent's leg: the agent is free again from now (idle time restarts)."""
    leg.status = status
    leg.ended_at = leg.ended_at or utcnow()
    if leg.active_agent_id is not None:
        leg.active_agent_id = None
        if leg.agent_id is not None:
            await agents.mark_idle(session, leg.agent_id, since=utcnow())
    await session.flush()

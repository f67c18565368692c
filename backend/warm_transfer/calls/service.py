"""The call's state, driven by Twilio's webhooks and status callbacks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.calls import repository
from warm_transfer.calls.models import (
    Call,
    CallEvent,
    CallLeg,
    CallStatus,
    LegRole,
    LegStatus,
)
from warm_transfer.calls.schemas import CallOut, CallPage
from warm_transfer.db import utcnow
from warm_transfer.errors import NotFound
from warm_transfer.routing import service as routing
from warm_transfer.routing.jobs import JobQueue
from warm_transfer.transfers import service as transfers

logger = logging.getLogger(__name__)

# Twilio's CallStatus values, as our leg states.
_LEG_STATUS = {
    "queued": LegStatus.queued,
    "initiated": LegStatus.queued,
    "ringing": LegStatus.ringing,
    "in-progress": LegStatus.in_progress,
    "answered": LegStatus.in_progress,
    "completed": LegStatus.completed,
    "busy": LegStatus.busy,
    "no-answer": LegStatus.no_answer,
    "failed": LegStatus.failed,
    "canceled": LegStatus.canceled,
}
_PROGRESS_ORDER = [LegStatus.dialing, LegStatus.queued, LegStatus.ringing, LegStatus.in_progress]


class CallNotFound(NotFound):
    code = "call_not_found"
    description = "No such call"


class LegNotFound(NotFound):
    code = "leg_not_found"
    description = "No such call leg"


async def get_call(session: AsyncSession, *, call_id: int) -> Call:
    call = await repository.get(session, call_id)
    if call is None:
        raise CallNotFound(f"Call {call_id} not found")
    return call


async def history(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    status: CallStatus | None,
    agent_id: str | None,
) -> CallPage:
    before_id = int(cursor) if cursor and cursor.isdigit() else None
    rows: Sequence[Call] = await repository.page(
        session, limit=limit + 1, before_id=before_id, status=status, agent_id=agent_id
    )
    items = list(rows[:limit])
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return CallPage(items=[CallOut.model_validate(call) for call in items], next_cursor=next_cursor)


async def record_event(
    session: AsyncSession,
    *,
    call: Call | None,
    source: str,
    name: str,
    dedupe_key: str,
    payload: dict[str, Any],
    call_sid: str | None = None,
    sequence_number: int | None = None,
) -> bool:
    """Keep a callback on the call's timeline; False when it was already received (a retry)."""
    event = CallEvent(
        call_id=call.id if call else None,
        source=source,
        name=name,
        call_sid=call_sid,
        sequence_number=sequence_number,
        dedupe_key=dedupe_key[:200],
        payload=payload,
    )
    try:
        async with session.begin_nested():
            session.add(event)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def receive_inbound_call(
    session: AsyncSession, *, call_sid: str, from_number: str, to_number: str, jobs: JobQueue
) -> Call:
    """Record a customer's call once (Twilio may retry the webhook) and offer it to an agent."""
    existing = await repository.get_by_sid(session, call_sid)
    if existing is not None:
        return existing
    call = Call(
        call_sid=call_sid,
        conference_name=call_sid,
        from_number=from_number,
        to_number=to_number,
        status=CallStatus.queued,
    )
    try:
        async with session.begin_nested():
            session.add(call)
            await session.flush()
    except IntegrityError:
        # The same webhook, delivered twice at once, won the race in another transaction.
        raced = await repository.get_by_sid(session, call_sid)
        assert raced is not None  # noqa: S101 - the unique constraint just said it exists
        return raced
    session.add(
        CallLeg(
            call_id=call.id,
            role=LegRole.customer,
            call_sid=call_sid,
            number=from_number,
            status=LegStatus.in_progress,
            end_conference_on_exit=True,
        )
    )
    await session.flush()
    await routing.offer_call(session, call=call, jobs=jobs)
    return call


async def connect_agent(
    session: AsyncSession, *, conference_id: str, agent_id: str, call_sid: str
) -> CallLeg | None:
    """The agent's leg answering its offer; None when it should not join (offer withdrawn)."""
    call = await repository.get_by_conference(session, conference_id)
    if call is None or call.status is CallStatus.completed:
        return None
    leg = repository.live_agent_leg(call, agent_id)
    if leg is None:
        return None
    if leg.call_sid is None:
        leg.call_sid = call_sid  # Twilio may ask for TwiML before the create request returned
    elif leg.call_sid != call_sid:
        return None  # a stale leg from an earlier, abandoned dial
    return leg


async def apply_leg_status(
    session: AsyncSession,
    *,
    leg_id: int,
    call_sid: str,
    call_status: str,
    sequence_number: int | None,
    payload: dict[str, Any],
    dedupe_key: str,
    jobs: JobQueue,
) -> None:
    leg = await repository.get_leg(session, leg_id)
    if leg is None or (leg.call_sid is not None and leg.call_sid != call_sid):
        raise LegNotFound(f"Leg {leg_id} with CallSid {call_sid} not found")
    new_status = _LEG_STATUS.get(call_status)
    fresh = await record_event(
        session,
        call=leg.call,
        source="call",
        name=call_status,
        call_sid=call_sid,
        sequence_number=sequence_number,
        dedupe_key=dedupe_key,
        payload=payload,
    )
    if not fresh or new_status is None or leg.status.is_final:
        return
    leg.call_sid = leg.call_sid or call_sid
    if not new_status.is_final:
        # Callbacks arrive out of order: never move a leg backwards.
        if _PROGRESS_ORDER.index(new_status) > _PROGRESS_ORDER.index(leg.status):
            leg.status = new_status
            if new_status is LegStatus.in_progress:
                leg.answered_at = leg.answered_at or utcnow()
            await transfers.on_target_progress(session, leg=leg)
        return
    await _end_leg(session, leg=leg, status=new_status, jobs=jobs)


async def _end_leg(
    session: AsyncSession, *, leg: CallLeg, status: LegStatus, jobs: JobQueue
) -> None:
    call = await repository.get(session, leg.call_id)
    assert call is not None  # noqa: S101 - legs cascade with their call
    was_connected = leg.answered_at is not None
    await routing.release_agent_leg(session, leg=leg, status=status)
    if await transfers.on_target_ended(session, call=call, leg=leg):
        return
    if call.status is CallStatus.ringing and not was_connected:
        # The offered agent missed, declined or was busy: offer the next one.
        exclude = [leg.agent_id] if leg.agent_id else []
        await routing.offer_call(session, call=call, jobs=jobs, exclude=exclude)
    elif was_connected:
        await routing.offer_waiting_calls(session, jobs=jobs)


async def apply_conference_event(
    session: AsyncSession,
    *,
    conference_name: str,
    conference_sid: str,
    event: str,
    sequence_number: int,
    call_sid: str | None,
    hold: bool | None,
    muted: bool | None,
    call_sid_ending_conference: str | None,
    payload: dict[str, Any],
    dedupe_key: str,
    jobs: JobQueue,
) -> None:
    call = await repository.get_by_conference(session, conference_name)
    if call is None:
        raise CallNotFound(f"No call has the conference {conference_name!r}")
    fresh = await record_event(
        session,
        call=call,
        source="conference",
        name=event,
        call_sid=call_sid,
        sequence_number=sequence_number,
        dedupe_key=dedupe_key,
        payload=payload,
    )
    if not fresh:
        return
    call.conference_sid = call.conference_sid or conference_sid
    call.conference_sequence = max(call.conference_sequence, sequence_number)
    leg = next((leg for leg in call.legs if call_sid and leg.call_sid == call_sid), None)
    if event == "participant-join" and leg is not None:
        await _on_join(session, call=call, leg=leg)
    elif event == "participant-leave" and leg is not None:
        if leg.role is LegRole.customer:
            await _end_call(session, call=call, ended_by=call_sid, jobs=jobs)
        elif not leg.status.is_final:
            await _end_leg(session, leg=leg, status=LegStatus.completed, jobs=jobs)
    elif event in ("participant-hold", "participant-unhold") and leg is not None:
        leg.on_hold = event == "participant-hold" if hold is None else hold
    elif event in ("participant-mute", "participant-unmute") and leg is not None:
        leg.muted = event == "participant-mute" if muted is None else muted
    elif event == "conference-end":
        await _end_call(session, call=call, ended_by=call_sid_ending_conference, jobs=jobs)


async def _on_join(session: AsyncSession, *, call: Call, leg: CallLeg) -> None:
    leg.joined_at = leg.joined_at or utcnow()
    if not leg.status.is_final:
        leg.status = LegStatus.in_progress
        leg.answered_at = leg.answered_at or utcnow()
    if leg.role is LegRole.agent and call.answered_at is None:
        call.status = CallStatus.in_progress
        call.answered_at = utcnow()
        call.owner_agent_id = leg.agent_id
    await transfers.on_target_progress(session, leg=leg)


async def _end_call(
    session: AsyncSession, *, call: Call, ended_by: str | None, jobs: JobQueue
) -> None:
    """The conference is over: every leg ends, and offers still ringing are withdrawn."""
    if call.status is CallStatus.completed:
        return
    call.status = CallStatus.completed
    call.ended_at = utcnow()
    call.ended_by = _who(call, ended_by)
    for leg in call.legs:
        if leg.status.is_final:
            continue
        if leg.role is LegRole.customer:
            leg.status = LegStatus.completed
            leg.ended_at = utcnow()
            continue
        ringing = leg.status is not LegStatus.in_progress
        if ringing and leg.call_sid is not None:
            jobs.enqueue(session, kind=routing.HANG_UP, payload={"call_sid": leg.call_sid})
        await routing.release_agent_leg(
            session, leg=leg, status=LegStatus.canceled if ringing else LegStatus.completed
        )
    await transfers.on_call_ended(session, call=call)
    await routing.offer_waiting_calls(session, jobs=jobs)


def _who(call: Call, call_sid: str | None) -> str | None:
    leg = next((leg for leg in call.legs if call_sid and leg.call_sid == call_sid), None)
    if leg is None:
        return None
    return "customer" if leg.role is LegRole.customer else f"agent:{leg.agent_id}"

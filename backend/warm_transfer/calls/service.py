"""The call's state, driven by Twilio's callbacks, and what agents do to their calls.

Callbacks may be retried, duplicated and reordered: each is kept once on the call's timeline
(deduplicated), leg states only move forward, ended legs and calls stay ended, and hold/mute
follow the highest conference SequenceNumber seen for the leg.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import repository as agents
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.calls import access, repository
from warm_transfer.calls.errors import (
    CallNotFound,
    ConferenceNotReady,
    LegNotFound,
)
from warm_transfer.calls.models import Call, CallEvent, CallLeg, CallStatus, LegRole, LegStatus
from warm_transfer.calls.schemas import CallOut, CallPage
from warm_transfer.db import MAX_ROW_ID, insert_unless_exists, utcnow
from warm_transfer.routing import service as routing
from warm_transfer.telephony import ops
from warm_transfer.telephony.voice import Voice
from warm_transfer.transfers import service as transfers
from warm_transfer.transfers.models import TransferStatus

logger = logging.getLogger(__name__)

# A callback on the call's timeline, unless a retry of one already there.
_EVENTS = cast(Table, CallEvent.__table__)
_RECORD_EVENT = insert_unless_exists(_EVENTS, _EVENTS.c.id, unique="dedupe_key")

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


# --- reading -----------------------------------------------------------------------------------


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
    before_id = min(int(cursor), MAX_ROW_ID) if cursor and cursor.isdigit() else None
    rows: Sequence[Call] = await repository.page(
        session, limit=limit + 1, before_id=before_id, status=status, agent_id=agent_id
    )
    items = list(rows[:limit])
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return CallPage(items=[CallOut.model_validate(call) for call in items], next_cursor=next_cursor)


async def timeline(session: AsyncSession, *, call_id: int) -> Sequence[CallEvent]:
    await get_call(session, call_id=call_id)
    return await repository.events(session, call_id)


# --- what agents do ----------------------------------------------------------------------------


async def hold_customer(
    session: AsyncSession, *, call_id: int, agent: Agent, hold: bool, voice: Voice
) -> Call:
    call = await access.live_call(session, call_id)
    access.connected_leg(call, agent)
    if call.conference_sid is None:
        raise ConferenceNotReady
    customer = repository.customer_leg(call)
    if customer.on_hold is not hold:
        await session.commit()  # no transaction stays open while Twilio answers
        step = ops.hold(call.conference_sid, customer.label, on=hold, hold_url=voice.urls.hold())
        await voice.now([step])
        call = await access.reload(session, call_id)
        repository.customer_leg(call).on_hold = hold
        await session.flush()
    return call


async def leave_call(session: AsyncSession, *, call_id: int, agent: Agent, voice: Voice) -> Call:
    """The agent hangs up from the console; the customer is never left alone in silence."""
    call = await access.live_call(session, call_id)
    leg = access.connected_leg(call, agent)
    assert leg.call_sid is not None  # noqa: S101 - a connected leg has its CallSid
    transfer = repository.active_transfer(call)
    if transfer is not None and transfer.from_agent_id == agent.id:
        if transfer.status is TransferStatus.consulting:
            await transfers.complete_transfer(
                session, call_id=call_id, transfer_id=transfer.id, agent=agent, voice=voice
            )
            return await access.reload(session, call_id)
        # The target still rings: the customer holds for them (a cold transfer from here on).
        await session.commit()
        customer = repository.customer_leg(call)
        steps = [ops.end_call(leg.call_sid)]
        if not customer.on_hold and call.conference_sid:
            music = voice.urls.hold()
            steps.insert(0, ops.hold(call.conference_sid, customer.label, on=True, hold_url=music))
        await voice.now(steps)
        call = await access.reload(session, call_id)
        repository.customer_leg(call).on_hold = call.conference_sid is not None
        await routing.release_agent_leg(
            session, leg=access.same_leg(call, leg), status=LegStatus.completed
        )
        return call
    sole = call.owner_agent_id == agent.id and transfer is None
    await session.commit()
    if sole and call.conference_sid:
        await voice.now([ops.end_conference(call.conference_sid)])
    else:
        await voice.now([ops.end_call(leg.call_sid)])
    call = await access.reload(session, call_id)
    if sole:
        await _end_call(session, call=call, ended_by=leg.call_sid, voice=voice)
    else:
        await _end_leg(
            session, leg=access.same_leg(call, leg), status=LegStatus.completed, voice=voice
        )
    return call


# --- what Twilio reports -----------------------------------------------------------------------


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
    recorded = await session.scalar(
        _RECORD_EVENT[session.get_bind().dialect.name],
        {
            "call_id": call.id if call else None,
            "source": source,
            "name": name,
            "call_sid": call_sid,
            "sequence_number": sequence_number,
            "dedupe_key": dedupe_key[:200],
            "payload": payload,
        },
    )
    return recorded is not None


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
    call_duration: int | None,
    payload: dict[str, Any],
    dedupe_key: str,
    voice: Voice,
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
    if not fresh or new_status is None:
        return
    if leg.status.is_final:
        if leg.status is LegStatus.canceled and new_status is LegStatus.completed and call_duration:
            # We had guessed "never answered" when the conference ended first; Twilio knows better.
            leg.status = LegStatus.completed
            leg.answered_at = leg.answered_at or utcnow()
        elif leg.call_sid is None and not new_status.is_final:
            # The request placing this call failed (a lost answer, a 5xx) and the leg was given
            # up, yet Twilio placed it: hang it up, so it rings no one and joins nothing.
            leg.call_sid = call_sid
            voice.later(session, [ops.end_call(call_sid)])
        return
    leg.call_sid = leg.call_sid or call_sid
    if new_status.is_final:
        # A completed call with a duration was answered, even if that callback comes late.
        if new_status is LegStatus.completed and call_duration:
            leg.answered_at = leg.answered_at or utcnow()
        await _end_leg(session, leg=leg, status=new_status, voice=voice)
        return
    # Callbacks arrive out of order: never move a leg backwards.
    if _PROGRESS_ORDER.index(new_status) > _PROGRESS_ORDER.index(leg.status):
        leg.status = new_status
        if new_status is LegStatus.in_progress:
            leg.answered_at = leg.answered_at or utcnow()
        call = await repository.get(session, leg.call_id)
        assert call is not None  # noqa: S101 - legs cascade with their call
        await transfers.on_target_progress(session, call=call, leg=leg, voice=voice)


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
    voice: Voice,
    participant_call_status: str | None = None,
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
    if call.conference_sid is None:  # set once: assigning it again would put the call in the flush
        call.conference_sid = conference_sid
    leg = repository.leg_by_sid(call, call_sid)
    if event == "participant-join" and leg is not None:
        await _on_join(session, call=call, leg=leg, voice=voice)
    elif event == "participant-leave" and leg is not None:
        if leg.role is LegRole.customer:
            await _end_call(session, call=call, ended_by=call_sid, voice=voice)
        elif not leg.status.is_final:
            # A participant that never joined "leaves" with its call's outcome (busy, no-answer…);
            # without one, its own status callback will tell.
            status = _LEG_STATUS.get(participant_call_status or "")
            if leg.joined_at is not None:
                await _end_leg(session, leg=leg, status=status or LegStatus.completed, voice=voice)
            elif status is not None and status.is_final:
                await _end_leg(session, leg=leg, status=status, voice=voice)
    elif (
        event.startswith(
            ("participant-hold", "participant-unhold", "participant-mute", "participant-unmute")
        )
        and leg is not None
    ):
        _apply_flags(leg, event=event, hold=hold, muted=muted, sequence_number=sequence_number)
    elif event == "conference-end":
        await _end_call(session, call=call, ended_by=call_sid_ending_conference, voice=voice)
        # Twilio names who ended the conference: that beats our guess from leave events.
        call.ended_by = _who(call, call_sid_ending_conference) or call.ended_by


def _apply_flags(
    leg: CallLeg, *, event: str, hold: bool | None, muted: bool | None, sequence_number: int
) -> None:
    """Hold and mute as of the newest event: an older one arriving late changes nothing."""
    if sequence_number < leg.event_sequence:
        return
    leg.event_sequence = sequence_number
    if event in ("participant-hold", "participant-unhold"):
        leg.on_hold = event == "participant-hold" if hold is None else hold
    else:
        leg.muted = event == "participant-mute" if muted is None else muted


async def _on_join(session: AsyncSession, *, call: Call, leg: CallLeg, voice: Voice) -> None:
    leg.joined_at = leg.joined_at or utcnow()
    leg.answered_at = leg.answered_at or utcnow()
    offer_answered = leg.role is LegRole.agent and repository.transfer_for_leg(call, leg) is None
    if offer_answered and call.answered_at is None:
        call.answered_at = utcnow()  # history, even when the join is reported after the end
        call.owner_agent_id = leg.agent_id
    if leg.status.is_final or call.status is CallStatus.completed:
        return  # its end was reported first: the join is history only
    leg.status = LegStatus.in_progress
    if offer_answered:
        # An offered agent answered: the call is theirs.
        call.owner_agent_id = leg.agent_id
        call.status = CallStatus.in_progress
        customer = repository.customer_leg(call)
        if customer.on_hold and call.conference_sid:
            # Back from a failed cold transfer: the customer held while the call was re-offered.
            hold_off = ops.hold(call.conference_sid, customer.label, on=False, hold_url="")
            voice.later(session, [hold_off])
            customer.on_hold = False
    await transfers.on_target_progress(session, call=call, leg=leg, voice=voice)


async def _end_leg(session: AsyncSession, *, leg: CallLeg, status: LegStatus, voice: Voice) -> None:
    call = await repository.get(session, leg.call_id)
    assert call is not None  # noqa: S101 - legs cascade with their call
    was_connected = leg.answered_at is not None or leg.joined_at is not None
    was_owner = was_connected and leg.agent_id is not None and leg.agent_id == call.owner_agent_id
    await routing.release_agent_leg(session, leg=leg, status=status)
    if await transfers.on_target_ended(session, call=call, leg=leg, voice=voice):
        return
    if call.status is CallStatus.completed:
        return
    if was_owner:
        left_alone = not repository.connected_agents(call)
        handed_on = await transfers.on_owner_left(session, call=call, leg=leg, voice=voice)
        if not handed_on and left_alone and call.conference_sid:
            # Twilio ends it by the agent's end-on-exit already; this covers the moment a
            # restored flag had not reached Twilio yet. Ending an ended conference is a no-op.
            voice.later(session, [ops.end_conference(call.conference_sid)])
    elif call.status is CallStatus.ringing and not was_connected and leg.role is LegRole.agent:
        await _missed_offer(session, call=call, leg=leg, voice=voice)
    if was_connected:
        await routing.offer_waiting_calls(session, voice=voice)


async def _missed_offer(session: AsyncSession, *, call: Call, leg: CallLeg, voice: Voice) -> None:
    """The offered agent let it ring out, declined or was busy: offer the next one. One who let
    it ring out is set away, as contact centers do, so calls stop going to an empty desk."""
    if leg.status is LegStatus.no_answer and leg.agent_id:
        agent = await agents.get(session, leg.agent_id)
        if agent is not None:
            agent.availability = Availability.away
    exclude = [leg.agent_id] if leg.agent_id else []
    await routing.offer_call(session, call=call, voice=voice, exclude=exclude)


async def _end_call(
    session: AsyncSession, *, call: Call, ended_by: str | None, voice: Voice
) -> None:
    """The conference is over: every leg ends, and offers still ringing are withdrawn."""
    if call.status is CallStatus.completed:
        return
    call.status = CallStatus.completed
    call.ended_at = utcnow()
    call.ended_by = _who(call, ended_by)
    hang_up = []
    for leg in call.legs:
        if leg.status.is_final:
            continue
        if leg.role is LegRole.customer:
            leg.status = LegStatus.completed
            leg.ended_at = utcnow()
            continue
        ringing = leg.status is not LegStatus.in_progress
        if ringing and leg.call_sid is not None:
            hang_up.append(ops.end_call(leg.call_sid))
        await routing.release_agent_leg(
            session, leg=leg, status=LegStatus.canceled if ringing else LegStatus.completed
        )
    voice.later(session, hang_up)
    transfers.on_call_ended(call)
    await routing.offer_waiting_calls(session, voice=voice)


def _who(call: Call, call_sid: str | None) -> str | None:
    leg = repository.leg_by_sid(call, call_sid)
    if leg is None:
        return None
    if leg.role is LegRole.customer:
        return "customer"
    return f"agent:{leg.agent_id}" if leg.agent_id else f"external:{leg.number}"


# --- helpers -----------------------------------------------------------------------------------

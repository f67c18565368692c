"""Warm transfers: dial a colleague into the customer's conference and follow the outcome."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import repository as agents
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.calls import repository as calls
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole, LegStatus
from warm_transfer.config import Settings
from warm_transfer.db import utcnow
from warm_transfer.errors import Conflict, Forbidden, NotFound, UpstreamError
from warm_transfer.routing.service import release_agent_leg
from warm_transfer.telephony.gateway import ParticipantRequest, TelephonyError, TelephonyGateway
from warm_transfer.telephony.urls import CallbackUrls
from warm_transfer.transfers.models import Transfer, TransferStatus

logger = logging.getLogger(__name__)


class NotOnCall(Forbidden):
    code = "not_on_call"
    description = "You are not connected to this call"


class TransferTargetNotFound(NotFound):
    code = "agent_not_found"
    description = "No such agent"


class TransferInProgress(Conflict):
    code = "transfer_in_progress"
    description = "This call already has a transfer under way"


class TargetUnavailable(Conflict):
    code = "target_unavailable"
    description = "The target agent is away, offline or on another call"


class TransferToSelf(Conflict):
    code = "transfer_to_self"
    description = "You cannot transfer a call to yourself"


class CallEnded(Conflict):
    code = "call_ended"
    description = "The call has already ended"


# How a target's leg ended, as the transfer's outcome. A browser that rejects shows up as busy.
_OUTCOME = {
    LegStatus.busy: (TransferStatus.declined, "declined the call"),
    LegStatus.no_answer: (TransferStatus.no_answer, "did not answer"),
    LegStatus.failed: (TransferStatus.failed, "could not be reached"),
    LegStatus.canceled: (TransferStatus.canceled, "was no longer rung"),
    LegStatus.completed: (TransferStatus.canceled, "hung up during the consult"),
}


async def start_transfer(
    session: AsyncSession,
    *,
    call_id: int,
    agent: Agent,
    to_agent_id: str,
    gateway: TelephonyGateway,
    settings: Settings,
) -> Transfer:
    call = await calls.get(session, call_id)
    if call is None:
        raise NotFound(f"Call {call_id} not found", code="call_not_found")
    if call.status is CallStatus.completed:
        raise CallEnded(f"Call {call_id} has ended")
    if calls.connected_agent_leg(call, agent.id) is None:
        raise NotOnCall(f"You are not connected to call {call_id}")
    if to_agent_id == agent.id:
        raise TransferToSelf
    target = await agents.get(session, to_agent_id)
    if target is None:
        raise TransferTargetNotFound(f"Agent {to_agent_id!r} not found")
    if any(transfer.status.is_active for transfer in call.transfers):
        raise TransferInProgress(f"Call {call_id} already has a transfer under way")
    if target.availability is not Availability.available or await agents.is_on_a_call(
        session, target.id
    ):
        raise TargetUnavailable(f"Agent {to_agent_id!r} cannot take a call right now")

    leg, transfer = await _reserve(session, call=call, agent=agent, target=target)
    # Commit the reservation before the call-creating request, so a concurrent request sees it
    # (and gets a 409) and no database lock is held while Twilio answers.
    await session.commit()
    urls = CallbackUrls(settings.public_base_url)
    try:
        call_sid = await gateway.add_participant(
            ParticipantRequest(
                conference=call.conference_name,
                to=f"client:{target.id}",
                from_=settings.caller_id,
                label=leg.label,
                status_callback=urls.leg_status(leg_id=leg.id),
                timeout=settings.agent_ring_timeout,
                start_conference_on_enter=True,
                end_conference_on_exit=False,
            )
        )
    except TelephonyError as exc:
        await session.refresh(leg)
        await session.refresh(transfer)
        await release_agent_leg(session, leg=leg, status=LegStatus.failed)
        _finish(transfer, TransferStatus.failed, "Twilio could not dial the target")
        await session.commit()
        raise UpstreamError(str(exc)) from exc
    await session.refresh(leg)
    leg.call_sid = leg.call_sid or call_sid
    if leg.status is LegStatus.dialing:
        leg.status = LegStatus.queued
    await session.flush()
    await session.refresh(transfer)
    return transfer


async def _reserve(
    session: AsyncSession, *, call: Call, agent: Agent, target: Agent
) -> tuple[CallLeg, Transfer]:
    leg = CallLeg(
        call_id=call.id,
        role=LegRole.agent,
        agent_id=target.id,
        status=LegStatus.dialing,
        active_agent_id=target.id,
        # The consulted agent hanging up must not end the customer's call (DESIGN §5.5).
        end_conference_on_exit=False,
    )
    try:
        async with session.begin_nested():
            session.add(leg)
            await session.flush()
            transfer = Transfer(
                call_id=call.id,
                from_agent_id=agent.id,
                to_agent_id=target.id,
                status=TransferStatus.dialing,
                hold_customer=False,
                target_leg_id=leg.id,
                active_call_id=call.id,
            )
            session.add(transfer)
            await session.flush()
    except IntegrityError as exc:
        # Lost a race: another request started a transfer or offered the target a call first.
        if await agents.is_on_a_call(session, target.id):
            raise TargetUnavailable(f"Agent {target.id!r} cannot take a call right now") from exc
        raise TransferInProgress(f"Call {call.id} already has a transfer under way") from exc
    return leg, transfer


async def _transfer_for_leg(session: AsyncSession, leg: CallLeg) -> Transfer | None:
    if leg.role is LegRole.customer:
        return None
    return await session.scalar(select(Transfer).where(Transfer.target_leg_id == leg.id))


async def on_target_progress(session: AsyncSession, *, leg: CallLeg) -> None:
    """The target's leg rang or joined: the transfer follows."""
    transfer = await _transfer_for_leg(session, leg)
    if transfer is None or not transfer.status.is_active:
        return
    if leg.joined_at is not None or leg.status is LegStatus.in_progress:
        transfer.status = TransferStatus.consulting
        transfer.answered_at = transfer.answered_at or utcnow()
    elif leg.status is LegStatus.ringing and transfer.status is TransferStatus.dialing:
        transfer.status = TransferStatus.ringing


async def on_target_ended(session: AsyncSession, *, call: Call, leg: CallLeg) -> bool:
    """The target's leg ended; True when the leg belonged to a transfer."""
    transfer = await _transfer_for_leg(session, leg)
    if transfer is None:
        return False
    if transfer.status.is_active:
        status, words = _OUTCOME.get(leg.status, (TransferStatus.failed, "could not be reached"))
        _finish(transfer, status, f"{leg.agent_id or leg.number} {words}")
    return True


async def on_call_ended(session: AsyncSession, *, call: Call) -> None:
    for transfer in call.transfers:
        if transfer.status.is_active:
            _finish(transfer, TransferStatus.canceled, "the call ended before the transfer did")


def _finish(transfer: Transfer, status: TransferStatus, reason: str) -> None:
    transfer.status = status
    transfer.reason = reason
    transfer.ended_at = utcnow()
    transfer.active_call_id = None

"""Transfers: dial a colleague (or an outside number) into the customer's conference, consult,
then hand the call over, or cancel; and react to what Twilio reports about the target.

Conference flags carry the safety rules (DESIGN §5): the customer always ends the call by
leaving; the agent who owns the call does too, except while a transfer is under way (so their
hanging up mid-transfer never drops the customer); a consulted target does not, until the call is
handed to them. Twilio ignores an end-on-exit change on a held participant, so un-hold first.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import repository as agents
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.agents.presence import online_since
from warm_transfer.calls import access
from warm_transfer.calls import repository as calls
from warm_transfer.calls.errors import ConferenceNotReady
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole, LegStatus
from warm_transfer.db import utcnow
from warm_transfer.errors import Conflict, Forbidden, NotFound, UpstreamError
from warm_transfer.routing import service as routing
from warm_transfer.telephony import ops
from warm_transfer.telephony.gateway import ParticipantRequest, TelephonyError
from warm_transfer.telephony.voice import Voice
from warm_transfer.transfers.models import Transfer, TransferMode, TransferStatus
from warm_transfer.transfers.schemas import TransferIn

logger = logging.getLogger(__name__)

HAND_OVER = "hand_over"
HAND_OVER_GRACE = timedelta(seconds=2)


class TransferNotFound(NotFound):
    code = "transfer_not_found"
    description = "No such transfer on this call"


class TransferTargetNotFound(NotFound):
    code = "agent_not_found"
    description = "No such agent"


class TransferInProgress(Conflict):
    code = "transfer_in_progress"
    description = "This call already has a transfer under way"


class TransferNotActive(Conflict):
    code = "transfer_not_active"
    description = "The transfer has already ended"


class TargetNotConnected(Conflict):
    code = "target_not_connected"
    description = "The target has not answered yet: cancel, or wait until they join"


class TargetUnavailable(Conflict):
    code = "target_unavailable"
    description = "The target agent is away, offline or on another call"


class TransferToSelf(Conflict):
    code = "transfer_to_self"
    description = "You cannot transfer a call to yourself"


class NumberNotAllowed(Forbidden):
    code = "number_not_allowed"
    description = "Transfers to this number are not allowed (TRANSFER_ALLOWED_NUMBERS)"


class NotTransferring(Forbidden):
    code = "not_transferring"
    description = "Only the agent who started the transfer, still on the call, may do this"


# How a target's leg ended, as the transfer's outcome. A browser that rejects shows up as busy.
_OUTCOME = {
    LegStatus.busy: (TransferStatus.declined, "declined the call"),
    LegStatus.no_answer: (TransferStatus.no_answer, "did not answer"),
    LegStatus.failed: (TransferStatus.failed, "could not be reached"),
    LegStatus.canceled: (TransferStatus.canceled, "was no longer rung"),
    LegStatus.completed: (TransferStatus.canceled, "hung up during the consult"),
}
_EXTERNAL_OUTCOME = {**_OUTCOME, LegStatus.busy: (TransferStatus.busy, "was busy")}


def number_allowed(number: str, allowed: list[str]) -> bool:
    return any(prefix == "*" or number.startswith(prefix) for prefix in allowed)


# --- API: start, cancel, complete --------------------------------------------------------------


async def start_transfer(
    session: AsyncSession, *, call_id: int, agent: Agent, request: TransferIn, voice: Voice
) -> Transfer:
    call = await access.live_call(session, call_id)
    owner = access.connected_leg(call, agent)
    if call.conference_sid is None or owner.call_sid is None:
        raise ConferenceNotReady
    if calls.active_transfer(call) is not None:
        raise TransferInProgress(f"Call {call_id} already has a transfer under way")
    target_agent = await _check_target(session, agent=agent, request=request, voice=voice)
    hold_customer = request.hold_customer or request.mode is TransferMode.cold
    leg, transfer = await _reserve(
        session, call=call, agent=agent, target=target_agent, request=request, hold=hold_customer
    )
    # Commit the reservation before the call-creating request, so a concurrent request sees it
    # (and gets a 409) and no database lock is held while Twilio answers.
    await session.commit()

    customer = calls.customer_leg(call)
    conference = call.conference_sid
    prepare = [ops.end_on_exit(conference, owner.call_sid, on=False)]
    if hold_customer and not customer.on_hold:
        prepare.append(ops.hold(conference, customer.label, on=True, hold_url=voice.urls.hold()))
    try:
        await voice.now(prepare)
        target_sid = await voice.gateway.add_participant(
            ParticipantRequest(
                conference=call.conference_name,
                to=f"client:{target_agent.id}" if target_agent else str(request.to_number),
                from_=voice.settings.caller_id,
                label=leg.label,
                status_callback=voice.urls.leg_status(leg_id=leg.id),
                timeout=voice.settings.agent_ring_timeout,
                start_conference_on_enter=True,
                end_conference_on_exit=False,
            )
        )
    except (TelephonyError, UpstreamError) as exc:
        undo = []
        if hold_customer and not customer.on_hold:
            undo.append(ops.hold(conference, customer.label, on=False, hold_url=voice.urls.hold()))
        undo.append(ops.end_on_exit(conference, owner.call_sid, on=True))
        await voice.now_or_never(undo)
        call = await access.reload(session, call_id)
        leg, transfer = access.same_leg(call, leg), _same_transfer(call, transfer)
        # Not release_agent_leg: the target took no call, so keeps their place in the queue.
        leg.status, leg.ended_at, leg.active_agent_id = LegStatus.failed, utcnow(), None
        _finish(transfer, TransferStatus.failed, "Twilio could not dial the target")
        await session.commit()
        raise UpstreamError(str(exc)) from exc

    call = await access.reload(session, call_id)
    leg, transfer = access.same_leg(call, leg), _same_transfer(call, transfer)
    leg.call_sid = leg.call_sid or target_sid
    if leg.status is LegStatus.dialing:
        leg.status = LegStatus.queued
    access.same_leg(call, owner).end_conference_on_exit = False
    if hold_customer:
        calls.customer_leg(call).on_hold = True
    if not transfer.status.is_active:
        voice.later(session, [ops.end_call(target_sid)])  # canceled while Twilio was dialing
    elif request.mode is TransferMode.cold:
        voice.later(session, [ops.end_call(owner.call_sid)])  # the transferring agent leaves now
    await session.flush()
    return transfer


async def cancel_transfer(
    session: AsyncSession, *, call_id: int, transfer_id: int, agent: Agent, voice: Voice
) -> Transfer:
    call, transfer, owner, target = await _under_way(session, call_id, transfer_id, agent)
    await session.commit()  # no transaction stays open while Twilio answers
    hang_up = [ops.end_call(target.call_sid)] if target and target.call_sid else []
    await voice.now([*hang_up, *_give_back_ops(call, owner)])

    call = await access.reload(session, call_id)
    transfer = _same_transfer(call, transfer)
    if transfer.status.is_active:
        _finish(transfer, TransferStatus.canceled, f"canceled by {agent.id}")
        if target is not None and not (target := access.same_leg(call, target)).status.is_final:
            await routing.release_agent_leg(session, leg=target, status=LegStatus.canceled)
        _give_back(call, access.same_leg(call, owner))
    await session.flush()
    return transfer


async def complete_transfer(
    session: AsyncSession, *, call_id: int, transfer_id: int, agent: Agent, voice: Voice
) -> Transfer:
    call, transfer, owner, target = await _under_way(session, call_id, transfer_id, agent)
    if transfer.status is not TransferStatus.consulting or target is None or not target.call_sid:
        raise TargetNotConnected
    assert owner.call_sid is not None  # noqa: S101 - a connected leg has its CallSid
    await session.commit()  # no transaction stays open while Twilio answers
    await voice.now([*_hand_over_ops(call, target), ops.end_call(owner.call_sid)])

    call = await access.reload(session, call_id)
    transfer = _same_transfer(call, transfer)
    if transfer.status.is_active:
        _hand_over(
            call, transfer, access.same_leg(call, target), f"{agent.id} handed the call over"
        )
        await routing.release_agent_leg(
            session, leg=access.same_leg(call, owner), status=LegStatus.completed
        )
    await session.flush()
    return transfer


# --- what Twilio reports -------------------------------------------------------------------------


async def on_target_progress(
    session: AsyncSession, *, call: Call, leg: CallLeg, voice: Voice
) -> None:
    """The target's leg rang or joined: the transfer follows; with nobody left to hand over (a
    cold transfer, or the first agent hung up), answering hands the call to the target."""
    transfer = calls.transfer_for_leg(call, leg)
    if transfer is None or not transfer.status.is_active:
        return
    if leg.joined_at is not None or leg.status is LegStatus.in_progress:
        transfer.status = TransferStatus.consulting
        transfer.answered_at = transfer.answered_at or utcnow()
        if leg.joined_at is not None and _live_leg(call, transfer.from_agent_id) is None:
            voice.later(session, _hand_over_ops(call, leg))
            _hand_over(call, transfer, leg, "the target answered after the first agent left")
    elif leg.status is LegStatus.ringing and transfer.status is TransferStatus.dialing:
        transfer.status = TransferStatus.ringing


async def on_target_ended(session: AsyncSession, *, call: Call, leg: CallLeg, voice: Voice) -> bool:
    """The target's leg ended; True when the leg was a transfer's. The customer is never dropped:
    back to the first agent, un-held; or, if that agent has left, back to the queue."""
    transfer = calls.transfer_for_leg(call, leg)
    if transfer is None:
        return False
    if not transfer.status.is_active or call.status is CallStatus.completed:
        return True
    outcomes = _EXTERNAL_OUTCOME if leg.role is LegRole.external else _OUTCOME
    status, words = outcomes.get(leg.status, (TransferStatus.failed, "could not be reached"))
    _finish(transfer, status, f"{leg.agent_id or leg.number} {words}")
    owner = _live_leg(call, transfer.from_agent_id)
    if owner is not None:
        voice.later(session, _give_back_ops(call, owner))
        _give_back(call, owner)
    else:
        logger.info("transfer of call %s failed after the first agent left: re-queued", call.id)
        call.owner_agent_id = None
        exclude = [leg.agent_id] if leg.agent_id else []
        await routing.offer_call(session, call=call, voice=voice, exclude=exclude)
    return True


async def on_owner_left(session: AsyncSession, *, call: Call, leg: CallLeg, voice: Voice) -> bool:
    """The agent who started a transfer hung up; True when a transfer was under way. A target in
    the consult gets the call; one still ringing gets it on answer, the customer holding."""
    transfer = calls.active_transfer(call)
    if transfer is None or transfer.from_agent_id != leg.agent_id:
        return False
    target = calls.leg_by_id(call, transfer.target_leg_id)
    if transfer.status is TransferStatus.consulting and target is not None and target.call_sid:
        # Not at once: Twilio reports each call's end on its own, so the customer's hang-up
        # that ended everything may arrive just after this. Hand over only if it does not.
        voice.jobs.enqueue(
            session,
            kind=HAND_OVER,
            payload={
                "transfer_id": transfer.id,
                "reason": f"{leg.agent_id} hung up during the consult",
            },
            run_after=utcnow() + HAND_OVER_GRACE,
        )
        return True
    customer = calls.customer_leg(call)
    if not customer.on_hold and call.conference_sid:
        voice.later(
            session,
            [ops.hold(call.conference_sid, customer.label, on=True, hold_url=voice.urls.hold())],
        )
        customer.on_hold = True
    return True


async def hand_over_after_owner_left(
    session: AsyncSession, *, transfer_id: int, reason: str, voice: Voice
) -> None:
    """HAND_OVER_GRACE after the owner hung up mid-consult: the target gets the call, unless it
    ended meanwhile (then the transfer was already closed as canceled) or the consult did."""
    transfer = await session.get(Transfer, transfer_id)
    if transfer is None or transfer.status is not TransferStatus.consulting:
        return
    call = await calls.get(session, transfer.call_id, fresh=True)
    if call is None or call.status is CallStatus.completed:
        return
    target = calls.leg_by_id(call, transfer.target_leg_id)
    if target is None or target.call_sid is None or target.status.is_final:
        return
    transfer = _same_transfer(call, transfer)
    voice.later(session, _hand_over_ops(call, target))
    _hand_over(call, transfer, target, reason)


def on_call_ended(call: Call) -> None:
    for transfer in call.transfers:
        if transfer.status.is_active:
            who = "the customer hung up" if call.ended_by == "customer" else "the call ended"
            _finish(transfer, TransferStatus.canceled, f"{who} before the transfer completed")


# --- helpers -------------------------------------------------------------------------------------


def _same_transfer(call: Call, transfer: Transfer) -> Transfer:
    return next(t for t in call.transfers if t.id == transfer.id)


def _live_leg(call: Call, agent_id: str | None) -> CallLeg | None:
    return calls.connected_agent_leg(call, agent_id) if agent_id else None


def _transfer(call: Call, transfer_id: int) -> Transfer:
    transfer = next((t for t in call.transfers if t.id == transfer_id), None)
    if transfer is None:
        raise TransferNotFound(f"Transfer {transfer_id} not found on call {call.id}")
    return transfer


async def _under_way(
    session: AsyncSession, call_id: int, transfer_id: int, agent: Agent
) -> tuple[Call, Transfer, CallLeg, CallLeg | None]:
    """A transfer the agent started and may still act on: the call, it, their leg, the target's."""
    call = await access.live_call(session, call_id)
    transfer = _transfer(call, transfer_id)
    owner = _transferring_leg(call, transfer, agent)
    return call, transfer, owner, calls.leg_by_id(call, transfer.target_leg_id)


def _transferring_leg(call: Call, transfer: Transfer, agent: Agent) -> CallLeg:
    leg = _live_leg(call, agent.id)
    if transfer.from_agent_id != agent.id or leg is None:
        raise NotTransferring
    if not transfer.status.is_active:
        raise TransferNotActive(f"Transfer {transfer.id} is {transfer.status.value}")
    return leg


async def _check_target(
    session: AsyncSession, *, agent: Agent, request: TransferIn, voice: Voice
) -> Agent | None:
    if request.to_number is not None:
        if not number_allowed(request.to_number, voice.settings.transfer_allowed_numbers):
            raise NumberNotAllowed(f"Transfers to {request.to_number[:5]}… are not allowed")
        return None
    if request.to_agent_id == agent.id:
        raise TransferToSelf
    target = await agents.get(session, str(request.to_agent_id))
    if target is None:
        raise TransferTargetNotFound(f"Agent {request.to_agent_id!r} not found")
    since = online_since(voice.settings.presence_grace_seconds)
    if (
        target.availability is not Availability.available
        or target.last_seen_at is None
        or target.last_seen_at < since
        or await agents.is_on_a_call(session, target.id)
    ):
        raise TargetUnavailable(f"Agent {target.id!r} cannot take a call right now")
    return target


async def _reserve(
    session: AsyncSession,
    *,
    call: Call,
    agent: Agent,
    target: Agent | None,
    request: TransferIn,
    hold: bool,
) -> tuple[CallLeg, Transfer]:
    leg = CallLeg(
        call_id=call.id,
        role=LegRole.agent if target else LegRole.external,
        agent_id=target.id if target else None,
        number=request.to_number,
        status=LegStatus.dialing,
        active_agent_id=target.id if target else None,
        end_conference_on_exit=False,  # the consulted party hanging up never drops the customer
    )
    try:
        async with session.begin_nested():
            session.add(leg)
            await session.flush()
            transfer = Transfer(
                call_id=call.id,
                from_agent_id=agent.id,
                to_agent_id=target.id if target else None,
                to_number=request.to_number,
                mode=request.mode,
                status=TransferStatus.dialing,
                hold_customer=hold,
                target_leg_id=leg.id,
                active_call_id=call.id,
            )
            session.add(transfer)
            await session.flush()
    except IntegrityError as exc:
        # Lost a race: another request started a transfer or offered the target a call first.
        if target is not None and await agents.is_on_a_call(session, target.id):
            raise TargetUnavailable(f"Agent {target.id!r} cannot take a call right now") from exc
        raise TransferInProgress(f"Call {call.id} already has a transfer under way") from exc
    return leg, transfer


def _give_back_ops(call: Call, owner: CallLeg) -> list[ops.ConferenceOp]:
    """The transfer is off: the customer back to the first agent, who ends the call by leaving."""
    assert call.conference_sid is not None  # noqa: S101 - checked when the transfer started
    assert owner.call_sid is not None  # noqa: S101 - a connected leg has its CallSid
    customer = calls.customer_leg(call)
    steps = []
    if customer.on_hold:
        steps.append(ops.hold(call.conference_sid, customer.label, on=False, hold_url=""))
    steps.append(ops.end_on_exit(call.conference_sid, owner.call_sid, on=True))
    return steps


def _give_back(call: Call, owner: CallLeg) -> None:
    calls.customer_leg(call).on_hold = False
    owner.end_conference_on_exit = True


def _hand_over_ops(call: Call, target: CallLeg) -> list[ops.ConferenceOp]:
    """The target keeps the call: un-hold the customer first, then the target ends it by leaving."""
    assert call.conference_sid is not None  # noqa: S101 - checked when the transfer started
    assert target.call_sid is not None  # noqa: S101 - the target has joined
    customer = calls.customer_leg(call)
    steps = []
    if customer.on_hold:
        steps.append(ops.hold(call.conference_sid, customer.label, on=False, hold_url=""))
    steps.append(ops.end_on_exit(call.conference_sid, target.call_sid, on=True))
    return steps


def _hand_over(call: Call, transfer: Transfer, target: CallLeg, reason: str) -> None:
    calls.customer_leg(call).on_hold = False
    target.end_conference_on_exit = True
    call.owner_agent_id = target.agent_id
    _finish(transfer, TransferStatus.completed, reason)


def _finish(transfer: Transfer, status: TransferStatus, reason: str) -> None:
    transfer.status = status
    transfer.reason = reason
    transfer.ended_at = utcnow()
    transfer.active_call_id = None

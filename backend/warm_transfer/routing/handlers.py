"""The durable jobs' handlers: each runs one Twilio REST request after a webhook has answered."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.calls import repository as calls
from warm_transfer.calls.models import CallLeg, CallStatus, LegStatus
from warm_transfer.db import utcnow
from warm_transfer.events.bus import note_changes
from warm_transfer.jobs.queue import JobHandler
from warm_transfer.routing.service import (
    DIAL_AGENT,
    OFFER_WAITING_CALLS,
    offer_call,
    offer_waiting_calls,
    release_agent_leg,
)
from warm_transfer.telephony.gateway import DialRequest
from warm_transfer.telephony.ops import ConferenceOp, end_call, run_ops
from warm_transfer.telephony.voice import CONFERENCE_OPS, Voice
from warm_transfer.transfers import service as transfers

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedDial:
    leg_id: int
    request: DialRequest


class DialAgentHandler:
    """The `dial_agent` job: ring the offered agent's softphone through Twilio's REST API."""

    idempotent = False  # creating a call twice rings the agent twice

    def __init__(self, *, voice: Voice) -> None:
        self._voice = voice

    async def prepare(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> list[PreparedDial | None]:
        legs = await calls.legs_by_id(session, [int(payload["leg_id"]) for payload in payloads])
        return [self._dial(legs.get(int(payload["leg_id"]))) for payload in payloads]

    def _dial(self, leg: CallLeg | None) -> PreparedDial | None:
        if leg is None or leg.status is not LegStatus.dialing or leg.agent_id is None:
            return None  # the offer was withdrawn (the customer hung up, the leg was canceled)
        request = DialRequest(
            to=f"client:{leg.agent_id}",
            from_=self._voice.settings.caller_id,
            url=self._voice.urls.agent_connect(
                conference_id=leg.call.conference_name, agent_id=leg.agent_id
            ),
            status_callback=self._voice.urls.leg_status(leg_id=leg.id),
            timeout=self._voice.settings.agent_ring_timeout,
        )
        return PreparedDial(leg_id=leg.id, request=request)

    async def perform(self, prepared: PreparedDial) -> str:
        return await self._voice.gateway.create_call(prepared.request)

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: PreparedDial, result: str
    ) -> None:
        leg = await calls.leg_dialed(session, leg_id=prepared.leg_id, call_sid=result)
        if leg is None or (leg.status.is_final and leg.call_sid is None):
            # The offer was withdrawn (the customer hung up) while Twilio was placing the call,
            # and nothing has hung it up: do, or it rings an agent who may get the next call.
            self._voice.later(session, [end_call(result)])
        if leg is not None:
            note_changes(session, calls=[leg.call_id])

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        leg = await calls.get_leg(session, int(payload["leg_id"]))
        if leg is None or leg.status.is_final:
            return
        logger.warning("dialing agent %s for call %s failed: %s", leg.agent_id, leg.call_id, reason)
        await release_agent_leg(session, leg=leg, status=LegStatus.failed)
        call = await calls.get(session, leg.call_id)
        if call is not None and call.status is CallStatus.ringing:
            exclude = [leg.agent_id] if leg.agent_id else []
            if await offer_call(session, call=call, voice=self._voice, exclude=exclude) is None:
                # Nobody else is free: the call waits. Offer it again (to this agent too) once
                # a call that may have been placed anyway has rung out; Twilio adds ~5 s.
                ring_out = timedelta(seconds=self._voice.settings.agent_ring_timeout + 5)
                self._voice.jobs.enqueue(
                    session,
                    kind=OFFER_WAITING_CALLS,
                    payload={"call_id": call.id},
                    run_after=utcnow() + ring_out,
                )


class OfferWaitingCallsHandler:
    """The `offer_waiting_calls` job: offer the waiting calls to the agents free by now."""

    idempotent = True

    def __init__(self, *, voice: Voice) -> None:
        self._voice = voice

    async def prepare(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> list[bool]:
        return [True] * len(payloads)

    async def perform(self, prepared: bool) -> None:
        return None  # nothing to send: the offers queue their own dials

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: bool, result: None
    ) -> None:
        await offer_waiting_calls(session, voice=self._voice)

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        return None


class HandOverHandler:
    """The `hand_over` job: the call goes to the consulted target, the owner having hung up."""

    idempotent = True

    def __init__(self, *, voice: Voice) -> None:
        self._voice = voice

    async def prepare(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> list[bool]:
        return [True] * len(payloads)

    async def perform(self, prepared: bool) -> None:
        return None  # the hand-over queues its own conference changes

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: bool, result: None
    ) -> None:
        await transfers.hand_over_after_owner_left(
            session, transfer_id=payload["transfer_id"], reason=payload["reason"], voice=self._voice
        )

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        return None


class ConferenceOpsHandler:
    """The `conference_ops` job: conference changes a webhook decided on, run in order.

    They are idempotent updates, so unlike a call-creating request they are safe to retry.
    """

    idempotent = True

    def __init__(self, *, voice: Voice) -> None:
        self._voice = voice

    async def prepare(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> list[list[ConferenceOp]]:
        return [[ConferenceOp.from_dict(op) for op in payload["ops"]] for payload in payloads]

    async def perform(self, ops: list[ConferenceOp]) -> None:
        await run_ops(self._voice.gateway, ops)

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: object, result: None
    ) -> None:
        return None

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        logger.error("conference ops %s failed for good: %s", payload["ops"], reason)


def job_handlers(*, voice: Voice) -> dict[str, JobHandler]:
    return {
        DIAL_AGENT: DialAgentHandler(voice=voice),
        CONFERENCE_OPS: ConferenceOpsHandler(voice=voice),
        transfers.HAND_OVER: HandOverHandler(voice=voice),
        OFFER_WAITING_CALLS: OfferWaitingCallsHandler(voice=voice),
    }

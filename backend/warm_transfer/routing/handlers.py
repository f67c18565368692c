"""The durable jobs' handlers: each runs one Twilio REST request after a webhook has answered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.calls import repository as calls
from warm_transfer.calls.models import CallStatus, LegStatus
from warm_transfer.config import Settings
from warm_transfer.routing.jobs import JobHandler, JobQueue
from warm_transfer.routing.service import DIAL_AGENT, HANG_UP, offer_call, release_agent_leg
from warm_transfer.telephony.gateway import DialRequest, TelephonyGateway
from warm_transfer.telephony.urls import CallbackUrls

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedDial:
    leg_id: int
    request: DialRequest


class DialAgentHandler:
    """The `dial_agent` job: ring the offered agent's softphone through Twilio's REST API."""

    def __init__(self, *, gateway: TelephonyGateway, settings: Settings, jobs: JobQueue) -> None:
        self._gateway = gateway
        self._settings = settings
        self._jobs = jobs
        self._urls = CallbackUrls(settings.public_base_url)

    async def prepare(self, session: AsyncSession, payload: dict[str, Any]) -> PreparedDial | None:
        leg = await calls.get_leg(session, int(payload["leg_id"]))
        if leg is None or leg.status is not LegStatus.dialing or leg.agent_id is None:
            return None  # the offer was withdrawn (the customer hung up, the leg was canceled)
        request = DialRequest(
            to=f"client:{leg.agent_id}",
            from_=self._settings.caller_id,
            url=self._urls.agent_connect(
                conference_id=leg.call.conference_name, agent_id=leg.agent_id
            ),
            status_callback=self._urls.leg_status(leg_id=leg.id),
            timeout=self._settings.agent_ring_timeout,
        )
        return PreparedDial(leg_id=leg.id, request=request)

    async def perform(self, prepared: PreparedDial) -> str:
        return await self._gateway.create_call(prepared.request)

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: PreparedDial, result: str
    ) -> None:
        leg = await calls.get_leg(session, prepared.leg_id)
        if leg is None:
            return
        leg.call_sid = result
        if leg.status is LegStatus.dialing:
            leg.status = LegStatus.queued

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        leg = await calls.get_leg(session, int(payload["leg_id"]))
        if leg is None or leg.status.is_final:
            return
        logger.warning("dialing agent %s for call %s failed: %s", leg.agent_id, leg.call_id, reason)
        await release_agent_leg(session, leg=leg, status=LegStatus.failed)
        call = await calls.get(session, leg.call_id)
        if call is not None and call.status is CallStatus.ringing:
            exclude = [leg.agent_id] if leg.agent_id else []
            await offer_call(session, call=call, jobs=self._jobs, exclude=exclude)


class HangUpHandler:
    """The `hang_up` job: end a leg that must not go on (an offer withdrawn while it rings)."""

    def __init__(self, *, gateway: TelephonyGateway) -> None:
        self._gateway = gateway

    async def prepare(self, session: AsyncSession, payload: dict[str, Any]) -> str:
        return str(payload["call_sid"])

    async def perform(self, call_sid: str) -> None:
        await self._gateway.end_call(call_sid=call_sid)

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: str, result: None
    ) -> None:
        return None

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        # Usually the leg had already ended by itself; nothing depends on this request.
        logger.info("hanging up %s failed: %s", payload.get("call_sid"), reason)


def job_handlers(
    *, gateway: TelephonyGateway, settings: Settings, jobs: JobQueue
) -> dict[str, JobHandler]:
    return {
        DIAL_AGENT: DialAgentHandler(gateway=gateway, settings=settings, jobs=jobs),
        HANG_UP: HangUpHandler(gateway=gateway),
    }

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.agents.schemas import AGENT_ID_PATTERN
from warm_transfer.calls import service
from warm_transfer.calls.errors import CallEnded, CallNotFound, ConferenceNotReady, NotOnCall
from warm_transfer.calls.models import CallStatus
from warm_transfer.calls.schemas import CallEventOut, CallOut, CallPage, HoldIn
from warm_transfer.db import RowId, SessionDep
from warm_transfer.dependencies import VoiceDep
from warm_transfer.errors import (
    DATABASE_UNAVAILABLE,
    VALIDATION_ERROR,
    Unauthorized,
    UpstreamError,
    responses,
)

router = APIRouter(prefix="/api/calls", tags=["calls"], responses=DATABASE_UNAVAILABLE)
_ACTION_ERRORS = {
    **responses(
        Unauthorized, NotOnCall, CallNotFound, CallEnded, ConferenceNotReady, UpstreamError
    ),
    **VALIDATION_ERROR,
}


@router.get(
    "",
    summary="Call history, newest first",
    description="Cursor-paginated: pass the previous page's `next_cursor` as `cursor`. "
    "`status=queued` lists the calls waiting for an agent now.",
    response_model=CallPage,
    responses={**responses(Unauthorized), **VALIDATION_ERROR},
)
async def list_calls(
    _agent: CurrentAgent,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,10}$")] = None,
    status: CallStatus | None = None,
    agent_id: Annotated[
        str | None,
        Query(pattern=AGENT_ID_PATTERN, description="Only calls this agent took part in"),
    ] = None,
) -> CallPage:
    return await service.history(
        session, limit=limit, cursor=cursor, status=status, agent_id=agent_id
    )


@router.get(
    "/{call_id}",
    summary="One call with its legs and transfers",
    response_model=CallOut,
    responses={**responses(Unauthorized, CallNotFound), **VALIDATION_ERROR},
)
async def get_call(call_id: RowId, _agent: CurrentAgent, session: SessionDep) -> CallOut:
    return CallOut.model_validate(await service.get_call(session, call_id=call_id))


@router.get(
    "/{call_id}/events",
    summary="The call's timeline: every Twilio callback received, in order",
    response_model=list[CallEventOut],
    responses={**responses(Unauthorized, CallNotFound), **VALIDATION_ERROR},
)
async def call_events(
    call_id: RowId, _agent: CurrentAgent, session: SessionDep
) -> list[CallEventOut]:
    return [
        CallEventOut.model_validate(event)
        for event in await service.timeline(session, call_id=call_id)
    ]


@router.post(
    "/{call_id}/hold",
    summary="Hold or resume the customer",
    description="The customer hears hold music and can neither hear nor be heard while held.",
    response_model=CallOut,
    responses=_ACTION_ERRORS,
)
async def hold(
    call_id: RowId, body: HoldIn, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> CallOut:
    call = await service.hold_customer(
        session, call_id=call_id, agent=agent, hold=body.hold, voice=voice
    )
    return CallOut.model_validate(call)


@router.post(
    "/{call_id}/leave",
    summary="Hang up: leave the call",
    description="The only agent on the call ends it. The agent transferring the call hands it "
    "to the consulted target, or, while the target still rings, leaves the customer holding "
    "for them. A consulted target leaving cancels the transfer.",
    response_model=CallOut,
    responses=_ACTION_ERRORS,
)
async def leave(
    call_id: RowId, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> CallOut:
    return CallOut.model_validate(
        await service.leave_call(session, call_id=call_id, agent=agent, voice=voice)
    )

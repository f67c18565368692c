from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.calls import service
from warm_transfer.calls.models import CallStatus
from warm_transfer.calls.schemas import CallOut, CallPage
from warm_transfer.db import SessionDep
from warm_transfer.errors import VALIDATION_ERROR, Unauthorized, responses

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.get(
    "",
    summary="Call history, newest first",
    description="Cursor-paginated: pass the previous page's `next_cursor` as `cursor`.",
    response_model=CallPage,
    responses={**responses(Unauthorized), **VALIDATION_ERROR},
)
async def list_calls(
    _agent: CurrentAgent,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
    status: CallStatus | None = None,
    agent_id: Annotated[str | None, Query(description="Only calls this agent took part in")] = None,
) -> CallPage:
    return await service.history(
        session, limit=limit, cursor=cursor, status=status, agent_id=agent_id
    )


@router.get(
    "/{call_id}",
    summary="One call with its legs and transfers",
    response_model=CallOut,
    responses={**responses(Unauthorized, service.CallNotFound), **VALIDATION_ERROR},
)
async def get_call(call_id: int, _agent: CurrentAgent, session: SessionDep) -> CallOut:
    return CallOut.model_validate(await service.get_call(session, call_id=call_id))

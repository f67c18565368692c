from __future__ import annotations

from fastapi import APIRouter, status

from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.db import SessionDep
from warm_transfer.dependencies import GatewayDep, SettingsDep
from warm_transfer.errors import VALIDATION_ERROR, NotFound, Unauthorized, UpstreamError, responses
from warm_transfer.transfers import service
from warm_transfer.transfers.schemas import TransferIn, TransferOut

router = APIRouter(prefix="/api/calls/{call_id}/transfers", tags=["transfers"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a warm transfer: dial a colleague into the call",
    description="The target agent's softphone rings; when they answer they join the customer's "
    "conference for a consult. Only an agent connected to the call may transfer it, one "
    "transfer at a time, to an available colleague.",
    response_model=TransferOut,
    responses={
        **responses(
            Unauthorized,
            service.NotOnCall,
            NotFound,
            service.TransferInProgress,
            service.TargetUnavailable,
            service.TransferToSelf,
            service.CallEnded,
            UpstreamError,
        ),
        **VALIDATION_ERROR,
    },
)
async def start_transfer(
    call_id: int,
    body: TransferIn,
    agent: CurrentAgent,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
) -> TransferOut:
    transfer = await service.start_transfer(
        session,
        call_id=call_id,
        agent=agent,
        to_agent_id=body.to_agent_id,
        gateway=gateway,
        settings=settings,
    )
    return TransferOut.model_validate(transfer)

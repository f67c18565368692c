from __future__ import annotations

from fastapi import APIRouter, status

from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.calls.errors import CallEnded, CallNotFound, ConferenceNotReady, NotOnCall
from warm_transfer.db import RowId, SessionDep
from warm_transfer.dependencies import VoiceDep
from warm_transfer.errors import (
    DATABASE_UNAVAILABLE,
    VALIDATION_ERROR,
    Unauthorized,
    UpstreamError,
    responses,
)
from warm_transfer.transfers import service
from warm_transfer.transfers.schemas import TransferIn, TransferOut

router = APIRouter(
    prefix="/api/calls/{call_id}/transfers", tags=["transfers"], responses=DATABASE_UNAVAILABLE
)
_ACTION_ERRORS = (
    Unauthorized,
    service.NotTransferring,
    CallNotFound,
    service.TransferNotFound,
    CallEnded,
    service.TransferNotActive,
    UpstreamError,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a transfer: dial a colleague (or an allowed number) into the call",
    description="The target's phone rings; when they answer they join the customer's conference. "
    "Warm (default): the customer holds with music during the consult (`hold_customer: false` "
    "keeps a three-way call); then complete or cancel. Cold: you leave at once and the customer "
    "holds until the target answers, or goes back to the queue. Only an agent connected to the "
    "call may transfer it, one transfer at a time, to an available colleague.",
    response_model=TransferOut,
    responses={
        **responses(
            Unauthorized,
            NotOnCall,
            service.NumberNotAllowed,
            CallNotFound,
            service.TransferTargetNotFound,
            CallEnded,
            ConferenceNotReady,
            service.TransferInProgress,
            service.TargetUnavailable,
            service.TransferToSelf,
            UpstreamError,
        ),
        **VALIDATION_ERROR,
    },
)
async def start_transfer(
    call_id: RowId, body: TransferIn, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> TransferOut:
    transfer = await service.start_transfer(
        session, call_id=call_id, agent=agent, request=body, voice=voice
    )
    return TransferOut.model_validate(transfer)


@router.post(
    "/{transfer_id}/cancel",
    summary="Cancel: hang up the target (ringing or consulting), resume the customer",
    response_model=TransferOut,
    responses={**responses(*_ACTION_ERRORS), **VALIDATION_ERROR},
)
async def cancel_transfer(
    call_id: RowId, transfer_id: RowId, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> TransferOut:
    transfer = await service.cancel_transfer(
        session, call_id=call_id, transfer_id=transfer_id, agent=agent, voice=voice
    )
    return TransferOut.model_validate(transfer)


@router.post(
    "/{transfer_id}/complete",
    summary="Complete: resume the customer, hand the call to the target, leave",
    description="Only once the target has joined (status `consulting`); 409 while it rings.",
    response_model=TransferOut,
    responses={**responses(*_ACTION_ERRORS, service.TargetNotConnected), **VALIDATION_ERROR},
)
async def complete_transfer(
    call_id: RowId, transfer_id: RowId, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> TransferOut:
    transfer = await service.complete_transfer(
        session, call_id=call_id, transfer_id=transfer_id, agent=agent, voice=voice
    )
    return TransferOut.model_validate(transfer)

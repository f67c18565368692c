"""Twilio's webhooks: signed form POSTs in, TwiML (or 204) out. Thin: parse, call, answer."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from warm_transfer.agents.schemas import AGENT_ID_PATTERN
from warm_transfer.calls import service as calls
from warm_transfer.calls.inbound import InboundCall
from warm_transfer.db import RowId, SessionDep
from warm_transfer.dependencies import InboundCallsDep, SettingsDep, VoiceDep
from warm_transfer.errors import DATABASE_UNAVAILABLE, ErrorBody
from warm_transfer.telephony import twiml
from warm_transfer.telephony.urls import (
    AGENT_CONNECT_PATH,
    CONFERENCE_STATUS_PATH,
    HOLD_PATH,
    LEG_STATUS_PATH,
    VOICE_PATH,
    WAIT_PATH,
    CallbackUrls,
)
from warm_transfer.webhooks.forms import (
    CALL_SID_PATTERN,
    AgentConnectForm,
    CallStatusForm,
    ConferenceEventForm,
    TwilioForm,
    VoiceForm,
)
from warm_transfer.webhooks.signature import (
    SIGNATURE_PARAMETER,
    VerifiedForm,
    dedupe_key,
)

FormT = TypeVar("FormT", bound=BaseModel)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not a form"},
    403: {"model": ErrorBody, "description": "Missing or wrong X-Twilio-Signature"},
    409: {"model": ErrorBody, "description": "The CallSid is already one of another call's legs"},
    413: {"model": ErrorBody, "description": "The body is larger than any form Twilio sends"},
    422: {"model": ErrorBody, "description": "A required Twilio field is missing or malformed"},
    **DATABASE_UNAVAILABLE,
}
_TWIML = {"content": {"application/xml": {"example": "<Response>…</Response>"}}}

# Every route takes a `VerifiedForm` (tests/test_webhooks.py holds each to it): as a router-wide
# dependency too, it would be solved twice a request.
router = APIRouter(tags=["Twilio webhooks"], responses=_ERRORS)


def _documented(form: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI: the form fields Twilio posts to this webhook, and its signature header."""
    schema = form.model_json_schema(by_alias=True)
    return {
        "parameters": [SIGNATURE_PARAMETER],
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        },
    }


def _parse(model: type[FormT], form: FormData) -> FormT:
    try:
        return model.model_validate(dict(form))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def _xml(body: str) -> Response:
    return Response(content=body, media_type="application/xml")


@router.post(
    VOICE_PATH,
    summary="A customer calls: queue them in their own conference",
    description="Set this URL as the phone number's Voice webhook (HTTP POST). Records the call "
    "once per `CallSid`, offers it to an available agent, and answers TwiML that puts the "
    "customer in the conference named after their `CallSid`, hearing the wait music until an "
    "agent joins. Retries get the same TwiML and cause no second dial.",
    response_class=Response,
    responses={200: _TWIML},
    openapi_extra=_documented(VoiceForm),
)
async def customer_call(
    form: VerifiedForm, settings: SettingsDep, inbound: InboundCallsDep
) -> Response:
    call = _parse(VoiceForm, form)
    await inbound.record(
        InboundCall(call_sid=call.call_sid, from_number=call.from_, to_number=call.to)
    )
    urls = CallbackUrls(settings.public_base_url)
    return _xml(
        twiml.customer_conference(
            conference_name=call.call_sid,
            wait_url=urls.wait(),
            status_callback=urls.conference_status(),
        )
    )


@router.post(
    WAIT_PATH,
    summary="Wait music for a customer no agent has joined yet",
    description="The conference's `waitUrl`: a welcome message, then hold music that loops.",
    response_class=Response,
    responses={200: _TWIML},
    openapi_extra=_documented(TwilioForm),
)
async def wait_music(form: VerifiedForm, settings: SettingsDep) -> Response:
    return _xml(twiml.wait_music(music_url=settings.hold_music_url))


@router.post(
    HOLD_PATH,
    summary="Hold music for a participant on hold",
    response_class=Response,
    responses={200: _TWIML},
    openapi_extra=_documented(TwilioForm),
)
async def hold_music(form: VerifiedForm, settings: SettingsDep) -> Response:
    return _xml(twiml.hold_music(music_url=settings.hold_music_url))


@router.post(
    AGENT_CONNECT_PATH,
    summary="An agent answered: join them to the customer's conference",
    description="Twilio fetches this when the agent's softphone answers the call the app placed. "
    "Joins the conference (starting it); an offer that was withdrawn meanwhile gets a short "
    "message and a hang-up instead.",
    response_class=Response,
    responses={200: _TWIML},
    openapi_extra=_documented(AgentConnectForm),
)
async def agent_connect(
    conference_id: Annotated[str, Path(pattern=CALL_SID_PATTERN)],
    agent_id: Annotated[str, Path(pattern=AGENT_ID_PATTERN)],
    form: VerifiedForm,
    session: SessionDep,
) -> Response:
    answered = _parse(AgentConnectForm, form)
    leg = await calls.connect_agent(
        session, conference_id=conference_id, agent_id=agent_id, call_sid=answered.call_sid
    )
    if leg is None:
        return _xml(twiml.unavailable())
    return _xml(
        twiml.agent_conference(
            conference_name=conference_id,
            participant_label=leg.label,
            end_conference_on_exit=leg.end_conference_on_exit,
        )
    )


@router.post(
    CONFERENCE_STATUS_PATH,
    summary="Conference status callback",
    description="Conference events (`conference-start`, `participant-join`, `participant-leave`, "
    "`participant-hold`, `conference-end`, …). Retries and duplicates change nothing.",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorBody, "description": "No call has this conference"}},
    openapi_extra=_documented(ConferenceEventForm),
)
async def conference_status(
    request: Request, form: VerifiedForm, session: SessionDep, voice: VoiceDep
) -> Response:
    event = _parse(ConferenceEventForm, form)
    await calls.apply_conference_event(
        session,
        conference_name=event.friendly_name,
        conference_sid=event.conference_sid,
        event=event.event,
        sequence_number=event.sequence_number,
        call_sid=event.call_sid,
        hold=event.hold,
        muted=event.muted,
        call_sid_ending_conference=event.call_sid_ending_conference,
        participant_call_status=event.participant_call_status,
        payload={key: str(value) for key, value in form.items()},
        dedupe_key=dedupe_key(
            request, f"conference:{event.conference_sid}:{event.sequence_number}:{event.event}"
        ),
        voice=voice,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    LEG_STATUS_PATH,
    summary="Call status callback for one leg the app dialed",
    description="Call progress (`initiated`, `ringing`, `in-progress`, `completed`, `busy`, "
    "`no-answer`, `failed`, `canceled`) of an agent's or external party's leg.",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorBody, "description": "No such leg"}},
    openapi_extra=_documented(CallStatusForm),
)
async def leg_status(
    leg_id: RowId, request: Request, form: VerifiedForm, session: SessionDep, voice: VoiceDep
) -> Response:
    update = _parse(CallStatusForm, form)
    await calls.apply_leg_status(
        session,
        leg_id=leg_id,
        call_sid=update.call_sid,
        call_status=update.call_status,
        sequence_number=update.sequence_number,
        call_duration=update.call_duration,
        payload={key: str(value) for key, value in form.items()},
        dedupe_key=dedupe_key(
            request, f"call:{update.call_sid}:{update.sequence_number}:{update.call_status}"
        ),
        voice=voice,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

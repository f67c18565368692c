"""Simulated customers: call the support number, hear what Twilio would play them, hang up.

Starting a call makes Twilio's request to the number's Voice URL (`/conference/connect/client`,
signed, `Direction=inbound`) and follows the TwiML the app answers, conference and all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from warm_transfer.simulator.conferences import ConferenceStatus, ParticipantStatus
from warm_transfer.simulator.errors import SimulatorError, SimulatorRoute, documented
from warm_transfer.simulator.simulator import Simulator, SimulatorDep
from warm_transfer.simulator.state import Call

# The support number's Voice URL, as it would be configured in Twilio's console.
VOICE_PATH = "/conference/connect/client"
E164 = r"^\+[1-9]\d{1,14}$"

Hearing = Literal["ringing", "message", "waiting", "conference", "hold", "silence", "ended"]

router = APIRouter(prefix="/customers", route_class=SimulatorRoute)


class CustomerCallIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "+15551230000"}]},
    )

    from_: str = Field(alias="from", pattern=E164, description="The customer's number (E.164).")
    to: str | None = Field(
        default=None, pattern=E164, description="The number dialed; the app's number by default."
    )


class AudioOut(BaseModel):
    verb: Literal["Say", "Play", "Pause"]
    text: str | None = None
    url: str | None = None
    loop: int | None = Field(default=None, description="0: repeats until something else happens.")
    length: int | None = None


class ConferenceOut(BaseModel):
    sid: str
    friendly_name: str
    status: str = Field(description="`init` (not started), `in-progress` or `completed`.")
    others: list[str] = Field(
        description="Who the customer hears: the other connected participants not on hold."
    )
    on_hold: bool
    muted: bool


class CustomerCallOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    call_sid: str
    from_: str = Field(alias="from")
    to: str
    status: str = Field(description="Twilio's CallStatus.")
    hearing: Hearing = Field(
        description="`ringing` (the app has not answered yet), `message` (TwiML speaking), "
        "`waiting` (conference not started: the wait URL), `conference` (talking), `hold` "
        "(hold music), `silence`, `ended`."
    )
    audio: AudioOut | None = Field(description="What plays to the customer now, if anything.")
    conference: ConferenceOut | None
    heard: list[AudioOut] = Field(
        description="What was played to the customer, oldest first (the last 50)."
    )
    created_at: datetime
    ended_at: datetime | None


def describe(call: Call) -> CustomerCallOut:
    participant = call.participant
    conference: ConferenceOut | None = None
    hearing: Hearing
    if call.status.is_final:
        hearing = "ended"
    elif call.status.is_unanswered:
        hearing = "ringing"
    elif participant is not None and participant.status is ParticipantStatus.connected:
        others = [
            p.call.party
            for p in participant.conference.connected
            if p is not participant and not p.hold
        ]
        conference = ConferenceOut(
            sid=participant.conference.sid,
            friendly_name=participant.conference.friendly_name,
            status=participant.conference.status.value,
            others=others,
            on_hold=participant.hold,
            muted=participant.muted,
        )
        if participant.hold:
            hearing = "hold"
        elif participant.conference.status is ConferenceStatus.init:
            hearing = "waiting"
        else:
            hearing = "conference"
    else:
        hearing = "message" if call.audio is not None else "silence"
    return CustomerCallOut(
        call_sid=call.sid,
        from_=call.from_,
        to=call.to,
        status=call.status.value,
        hearing=hearing,
        audio=_audio(call.audio.as_dict()) if call.audio is not None else None,
        conference=conference,
        heard=[_audio(audio.as_dict()) for audio in call.heard],
        created_at=call.created_at,
        ended_at=call.ended_at,
    )


def _audio(fields: dict[str, Any]) -> AudioOut:
    return AudioOut.model_validate(fields)


def _customer_call(simulator: Simulator, call_sid: str) -> Call:
    call = simulator.engine.calls.get(call_sid)
    if call is None or call.direction != "inbound":
        raise SimulatorError(404, "call_not_found", f"No customer call {call_sid}")
    return call


_NOT_FOUND = documented({404: "No such customer call"})


@router.post(
    "/calls",
    status_code=status.HTTP_201_CREATED,
    summary="A simulated customer calls the support number",
    description="Twilio's voice webhook goes to the app (signed, as Twilio sends it) and the "
    "customer follows the TwiML it answers.",
    response_model=CustomerCallOut,
)
async def start_call(body: CustomerCallIn, simulator: SimulatorDep) -> CustomerCallOut:
    settings = simulator.settings
    call = simulator.engine.receive_call(
        from_=body.from_,
        to=body.to or settings.caller_id,
        voice_url=settings.public_base_url + VOICE_PATH,
    )
    return describe(call)


@router.get(
    "/calls",
    summary="Simulated customer calls, newest first, with what each customer hears",
    response_model=list[CustomerCallOut],
)
async def list_calls(simulator: SimulatorDep) -> list[CustomerCallOut]:
    return [
        describe(call)
        for call in reversed(simulator.engine.calls.values())
        if call.direction == "inbound"
    ]


@router.get(
    "/calls/{call_sid}",
    summary="One simulated customer call",
    response_model=CustomerCallOut,
    responses=_NOT_FOUND,
)
async def get_call(call_sid: str, simulator: SimulatorDep) -> CustomerCallOut:
    return describe(_customer_call(simulator, call_sid))


@router.post(
    "/calls/{call_sid}/hangup",
    summary="The customer hangs up",
    response_model=CustomerCallOut,
    responses=documented({404: "No such customer call", 409: "The call has already ended"}),
)
async def hang_up(call_sid: str, simulator: SimulatorDep) -> CustomerCallOut:
    call = _customer_call(simulator, call_sid)
    simulator.engine.customer_hangs_up(call)
    return describe(call)

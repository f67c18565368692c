"""The subset of Twilio's v2010 REST API the app uses, with Twilio's auth, validation and bodies.

Calls: create, fetch, update (`Status=completed|canceled`). Conferences: list, fetch, update
(`Status=completed`). Participants: create (by the conference's friendly name or CF SID), list,
fetch, update (`Hold`, `HoldUrl`, `HoldMethod`, `Muted`, `EndConferenceOnExit`) and delete, by
call SID or label (update, fetch and delete need the CF SID, as on Twilio). As Twilio does, fields
the simulator does not implement are ignored; a feature it cannot fake is refused with a 400.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from warm_transfer.simulator.conferences import Conference, ConferenceStatus, Participant
from warm_transfer.simulator.errors import (
    SimulatorRoute,
    TwilioApiError,
    TwilioErrorOut,
    documented,
)
from warm_transfer.simulator.simulator import Simulator, SimulatorDep
from warm_transfer.simulator.state import API_VERSION, Call, Callback, CallStatus, Source, rfc2822

# Twilio's error codes. 20001 stands in wherever Twilio's exact code for a bad value is not known.
AUTHENTICATE = 20003
NOT_FOUND = 20404
INVALID_PARAMETER = 20001
MISSING_TO = 21201
INVALID_URL = 21205
INVALID_TO = 21211
INVALID_FROM = 21212
MISSING_FROM = 21213
INVALID_STATUS_CALLBACK = 21609

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
CLIENT = re.compile(r"^client:[A-Za-z0-9_.@-]{1,121}(\?.*)?$")
CF_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")
CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
CONFERENCE_EVENTS = frozenset(
    {"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"}
)
PREFIX = "/twilio"


def _missing(request: Request) -> TwilioApiError:
    path = request.url.path.split(PREFIX, 1)[-1]
    return TwilioApiError(404, NOT_FOUND, f"The requested resource {path} was not found")


async def authenticate(account_sid: str, request: Request, simulator: SimulatorDep) -> None:
    """HTTP Basic with the account SID and auth token, for this account only."""
    settings = simulator.settings
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        username = password = ""
    if not (
        scheme.lower() == "basic"
        and secrets.compare_digest(username, settings.account_sid)
        and secrets.compare_digest(password.encode(), settings.auth_token.encode())
    ):
        raise TwilioApiError(401, AUTHENTICATE, "Authenticate")
    if account_sid != settings.account_sid:
        raise _missing(request)


router = APIRouter(
    prefix=PREFIX + f"/{API_VERSION}/Accounts/{{account_sid}}",
    route_class=SimulatorRoute,
    dependencies=[Depends(authenticate)],
    responses=documented(
        {
            400: "Twilio would refuse the request",
            401: "Not the account SID and auth token (Twilio error 20003)",
            404: "No such resource (Twilio error 20404)",
        },
        TwilioErrorOut,
    ),
)


class TwilioForm:
    """A REST request's form fields, read as Twilio reads them."""

    def __init__(self, form: FormData) -> None:
        self._form = form

    def text(self, name: str) -> str | None:
        value = self._form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    def flag(self, name: str) -> bool | None:
        # Twilio: any value other than `true` is false.
        value = self.text(name)
        return None if value is None else value.lower() == "true"

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            raise TwilioApiError(
                400, INVALID_PARAMETER, f"{name} must be an integer from {low} to {high}"
            )
        return int(value)

    def url(self, name: str, *, code: int = INVALID_URL) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TwilioApiError(400, code, f"{name} is not a valid URL: {value}")
        return value

    def method(self, name: str, default: str = "POST") -> str:
        value = (self.text(name) or default).upper()
        if value not in ("GET", "POST"):
            raise TwilioApiError(400, INVALID_PARAMETER, f"{name} must be GET or POST")
        return value

    def events(self, name: str, allowed: frozenset[str], default: frozenset[str]) -> frozenset[str]:
        # Repeated fields (the SDK's way) or one space-separated value (the docs' way).
        words = {word for value in self._form.getlist(name) for word in str(value).split()}
        if not words:
            return default
        if unknown := words - allowed:
            raise TwilioApiError(400, INVALID_PARAMETER, f"Invalid {name}: {sorted(unknown)}")
        return frozenset(words)

    def callback(
        self, prefix: str, allowed: frozenset[str], default: frozenset[str]
    ) -> Callback | None:
        url = self.url(prefix, code=INVALID_STATUS_CALLBACK)
        events = self.events(prefix + "Event", allowed, default)
        method = self.method(prefix + "Method")
        return Callback(url, method, events) if url else None

    def to(self) -> str:
        to = self.text("To")
        if to is None:
            raise TwilioApiError(400, MISSING_TO, "No 'To' number is specified")
        if not (E164.match(to) or CLIENT.match(to)):
            raise TwilioApiError(
                400,
                INVALID_TO,
                f"Invalid 'To' Phone Number: {to} (the simulator dials client:<identity> and "
                "E.164 numbers)",
            )
        return to

    def from_(self) -> str:
        from_ = self.text("From")
        if from_ is None:
            raise TwilioApiError(400, MISSING_FROM, "No 'From' number is specified")
        if not (E164.match(from_) or CLIENT.match(from_)):
            raise TwilioApiError(400, INVALID_FROM, f"Invalid 'From' Phone Number: {from_}")
        return from_


async def _form(request: Request) -> TwilioForm:
    return TwilioForm(await request.form())


FormDep = Annotated[TwilioForm, Depends(_form)]


# --- bodies ---------------------------------------------------------------------------------------


def call_body(call: Call, simulator: Simulator) -> dict[str, Any]:
    duration = (
        simulator.clock.seconds_between(call.answered_at, call.ended_at)
        if call.answered_at and call.ended_at
        else None
    )
    updated = call.ended_at or call.answered_at or call.created_at
    base = call.uri.removesuffix(".json")
    return {
        "sid": call.sid,
        "date_created": rfc2822(call.created_at),
        "date_updated": rfc2822(updated),
        "parent_call_sid": None,
        "account_sid": call.account_sid,
        "to": call.to,
        "to_formatted": call.to,
        "from": call.from_,
        "from_formatted": call.from_,
        "phone_number_sid": None,
        "status": call.status.value,
        "start_time": rfc2822(call.created_at),
        "end_time": rfc2822(call.ended_at) if call.ended_at else None,
        "duration": str(duration) if duration is not None else None,
        "price": None,
        "price_unit": "USD",
        "direction": call.direction,
        "answered_by": None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": call.uri,
        "subresource_uris": {
            "events": f"{base}/Events.json",
            "notifications": f"{base}/Notifications.json",
            "recordings": f"{base}/Recordings.json",
        },
    }


def conference_body(conference: Conference) -> dict[str, Any]:
    base = conference.uri.removesuffix(".json")
    return {
        "account_sid": conference.account_sid,
        "date_created": rfc2822(conference.created_at),
        "date_updated": rfc2822(conference.updated_at),
        "api_version": API_VERSION,
        "friendly_name": conference.friendly_name,
        "region": "us1",
        "sid": conference.sid,
        "status": conference.status.value,
        "uri": conference.uri,
        "subresource_uris": {
            "participants": f"{base}/Participants.json",
            "recordings": f"{base}/Recordings.json",
        },
        "reason_conference_ended": conference.reason_ended,
        "call_sid_ending_conference": conference.call_sid_ending,
    }


def participant_body(participant: Participant) -> dict[str, Any]:
    return {
        "account_sid": participant.conference.account_sid,
        "call_sid": participant.call.sid,
        "label": participant.label,
        "call_sid_to_coach": None,
        "coaching": participant.coaching,
        "conference_sid": participant.conference.sid,
        "date_created": rfc2822(participant.created_at),
        "date_updated": rfc2822(participant.updated_at),
        "end_conference_on_exit": participant.end_conference_on_exit,
        "muted": participant.muted,
        "hold": participant.hold,
        "start_conference_on_enter": participant.start_conference_on_enter,
        "status": participant.status.value,
        "queue_time": "0",
        "uri": participant.uri,
    }


def _page(key: str, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    uri = request.url.path.split(PREFIX, 1)[-1]
    return {
        key: items,
        "start": 0,
        "end": max(len(items) - 1, 0),
        "page": 0,
        "page_size": max(len(items), 50),
        "uri": uri,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
    }


# --- lookups --------------------------------------------------------------------------------------


def _call(simulator: Simulator, call_sid: str, request: Request) -> Call:
    call = simulator.engine.calls.get(call_sid)
    if call is None:
        raise _missing(request)
    return call


def _conference(simulator: Simulator, conference_sid: str, request: Request) -> Conference:
    conference = simulator.engine.conferences.get(conference_sid)
    if conference is None:
        raise _missing(request)
    return conference


def _live_conference(simulator: Simulator, conference_sid: str, request: Request) -> Conference:
    """Participants exist only in conferences not yet over, and only by CF SID."""
    conference = _conference(simulator, conference_sid, request)
    if conference.status is ConferenceStatus.completed:
        raise _missing(request)
    return conference


def _participant(
    simulator: Simulator, conference_sid: str, participant: str, request: Request
) -> Participant:
    found = _live_conference(simulator, conference_sid, request).find(participant)
    if found is None:
        raise _missing(request)
    return found


# --- calls ----------------------------------------------------------------------------------------


@router.post(
    "/Calls.json",
    status_code=status.HTTP_201_CREATED,
    summary="Twilio: place a call",
    description="Form fields `To` (`client:<identity>` rings that identity's simulated devices; "
    "an E.164 number rings out), `From`, `Url` (+ `Method`) or `Twiml`, `StatusCallback` "
    "(+ `StatusCallbackEvent`, `StatusCallbackMethod`), `Timeout`.",
)
async def create_call(form: FormDep, simulator: SimulatorDep) -> JSONResponse:
    to, from_ = form.to(), form.from_()
    if form.text("ApplicationSid"):
        raise TwilioApiError(
            400, INVALID_PARAMETER, "ApplicationSid is not supported by the simulator: send Url"
        )
    url, document = form.url("Url"), form.text("Twiml")
    if url is None and document is None:
        raise TwilioApiError(
            400,
            INVALID_URL,
            "Url parameter is required. Please provide a Url or a Twiml parameter.",
        )
    call = simulator.engine.place_call(
        to=to,
        from_=from_,
        answer_url=Source(url, form.method("Method")) if url else None,
        answer_twiml=None if url else document,
        status_callback=form.callback("StatusCallback", CALL_EVENTS, frozenset({"completed"})),
        timeout=form.integer("Timeout", low=1, high=600) or 60,
    )
    return JSONResponse(call_body(call, simulator), status_code=status.HTTP_201_CREATED)


@router.get("/Calls/{call_sid}.json", summary="Twilio: fetch a call")
async def fetch_call(call_sid: str, request: Request, simulator: SimulatorDep) -> JSONResponse:
    return JSONResponse(call_body(_call(simulator, call_sid, request), simulator))


@router.post(
    "/Calls/{call_sid}.json",
    summary="Twilio: end a call",
    description="`Status=canceled` ends a call still queued or ringing (an answered one goes on); "
    "`Status=completed` ends it in any state. Redirecting (`Url`, `Twiml`) is not simulated.",
)
async def update_call(
    call_sid: str, request: Request, form: FormDep, simulator: SimulatorDep
) -> JSONResponse:
    call = _call(simulator, call_sid, request)
    if form.text("Url") or form.text("Twiml"):
        raise TwilioApiError(400, INVALID_PARAMETER, "The simulator does not redirect calls")
    wanted = form.text("Status")
    if wanted not in (None, CallStatus.completed, CallStatus.canceled):
        raise TwilioApiError(400, INVALID_PARAMETER, "Status must be canceled or completed")
    if wanted is not None:
        simulator.engine.hang_up(call, CallStatus(wanted))
    return JSONResponse(call_body(call, simulator))


# --- conferences ----------------------------------------------------------------------------------


@router.get(
    "/Conferences.json",
    summary="Twilio: list conferences",
    description="Filters: `FriendlyName`, `Status` (`init`, `in-progress`, `completed`).",
)
async def list_conferences(request: Request, simulator: SimulatorDep) -> JSONResponse:
    name, wanted = request.query_params.get("FriendlyName"), request.query_params.get("Status")
    items = [
        conference_body(conference)
        for conference in reversed(simulator.engine.conferences.values())
        if name in (None, conference.friendly_name) and wanted in (None, conference.status)
    ]
    return JSONResponse(_page("conferences", items, request))


@router.get("/Conferences/{conference_sid}.json", summary="Twilio: fetch a conference")
async def fetch_conference(
    conference_sid: str, request: Request, simulator: SimulatorDep
) -> JSONResponse:
    return JSONResponse(conference_body(_conference(simulator, conference_sid, request)))


@router.post(
    "/Conferences/{conference_sid}.json",
    summary="Twilio: end a conference",
    description="`Status=completed` ends it: every participant leaves, `conference-end` is "
    "reported with `ReasonConferenceEnded=conference-ended-via-api`.",
)
async def update_conference(
    conference_sid: str, request: Request, form: FormDep, simulator: SimulatorDep
) -> JSONResponse:
    conference = _conference(simulator, conference_sid, request)
    wanted = form.text("Status")
    if wanted not in (None, ConferenceStatus.completed):
        raise TwilioApiError(400, INVALID_PARAMETER, "Status must be completed")
    if wanted is not None:
        simulator.engine.end_conference(conference)
    return JSONResponse(conference_body(conference))


# --- participants ---------------------------------------------------------------------------------


@router.post(
    "/Conferences/{conference}/Participants.json",
    status_code=status.HTTP_201_CREATED,
    summary="Twilio: dial a participant into a conference",
    description="By the conference's friendly name (made if needed) or CF SID. Form fields "
    "`From`, `To`, `Label` (unique in the conference), `Timeout` (5-600), `StatusCallback` "
    "(+ `Event`, `Method`), `StartConferenceOnEnter`, `EndConferenceOnExit`, `Muted`, "
    "`WaitUrl` (+ `WaitMethod`), `ConferenceStatusCallback` (+ `Event`, `Method`).",
)
async def create_participant(
    conference: str, request: Request, form: FormDep, simulator: SimulatorDep
) -> JSONResponse:
    to, from_ = form.to(), form.from_()
    label = form.text("Label")
    if label is not None and len(label) > 128:
        raise TwilioApiError(400, INVALID_PARAMETER, "Label must be at most 128 characters")
    if CF_SID.match(conference):
        target = _live_conference(simulator, conference, request)
    else:
        target = simulator.engine.open_conference(conference)
    if target.label_taken(label):
        raise TwilioApiError(
            400, INVALID_PARAMETER, f"Label {label!r} is already used in conference {target.sid}"
        )
    wait_url = form.url("WaitUrl")
    participant = simulator.engine.dial_participant(
        target,
        to=to,
        from_=from_,
        label=label,
        timeout=form.integer("Timeout", low=5, high=600) or 60,
        status_callback=form.callback("StatusCallback", CALL_EVENTS, frozenset({"completed"})),
        start_conference_on_enter=form.flag("StartConferenceOnEnter") is not False,
        end_conference_on_exit=form.flag("EndConferenceOnExit") is True,
        muted=form.flag("Muted") is True,
        wait=Source(wait_url, form.method("WaitMethod")) if wait_url else None,
        conference_callback=form.callback(
            "ConferenceStatusCallback", CONFERENCE_EVENTS, frozenset({"start", "end"})
        ),
    )
    return JSONResponse(participant_body(participant), status_code=status.HTTP_201_CREATED)


@router.get(
    "/Conferences/{conference}/Participants.json",
    summary="Twilio: list a conference's participants",
)
async def list_participants(
    conference: str, request: Request, simulator: SimulatorDep
) -> JSONResponse:
    """Listing needs the CF SID."""
    found = _live_conference(simulator, conference, request)
    items = [participant_body(p) for p in found.participants.values()]
    return JSONResponse(_page("participants", items, request))


@router.get(
    "/Conferences/{conference_sid}/Participants/{participant}.json",
    summary="Twilio: fetch a participant (by call SID or label)",
)
async def fetch_participant(
    conference_sid: str, participant: str, request: Request, simulator: SimulatorDep
) -> JSONResponse:
    found = _participant(simulator, conference_sid, participant, request)
    return JSONResponse(participant_body(found))


@router.post(
    "/Conferences/{conference_sid}/Participants/{participant}.json",
    summary="Twilio: hold, mute or change a participant (by call SID or label)",
    description="`Hold` (+ `HoldUrl`, `HoldMethod`: default GET; the held participant hears it), "
    "`Muted`, `EndConferenceOnExit`. As on Twilio, changing `EndConferenceOnExit` while the "
    "participant is on hold does not take effect (and no error says so): un-hold first.",
)
async def update_participant(
    conference_sid: str,
    participant: str,
    request: Request,
    form: FormDep,
    simulator: SimulatorDep,
) -> JSONResponse:
    found = _participant(simulator, conference_sid, participant, request)
    hold_url = form.url("HoldUrl")
    simulator.engine.update_participant(
        found,
        hold=form.flag("Hold"),
        hold_music=Source(hold_url, form.method("HoldMethod", "GET")) if hold_url else None,
        muted=form.flag("Muted"),
        end_conference_on_exit=form.flag("EndConferenceOnExit"),
    )
    return JSONResponse(participant_body(found))


@router.delete(
    "/Conferences/{conference_sid}/Participants/{participant}.json",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Twilio: remove a participant (by call SID or label)",
    description="The participant leaves (`participant-leave`, `ReasonParticipantLeft="
    "participant_kicked`); a leg that joined by TwiML goes on with what follows its `<Dial>` "
    "(nothing, here: it hangs up). One still ringing is canceled.",
)
async def remove_participant(
    conference_sid: str, participant: str, request: Request, simulator: SimulatorDep
) -> Response:
    simulator.engine.remove_participant(
        _participant(simulator, conference_sid, participant, request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

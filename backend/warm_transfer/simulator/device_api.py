"""The simulated softphone's API, for the console's `VoiceDevice` in simulated mode.

Authenticated like Twilio's Voice SDK: `Authorization: Bearer <Voice access token>` (from the app's
`POST /api/voice/token`). `GET /simulator/devices/stream` registers a device for the token's
identity while it is open and carries its events as Server-Sent Events; the other routes act on
one call (only on calls that rang that identity).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from warm_transfer.simulator.devices import (
    Device,
    InvalidVoiceToken,
    VoiceGrant,
    read_voice_token,
)
from warm_transfer.simulator.errors import SimulatorError, SimulatorRoute, documented
from warm_transfer.simulator.simulator import Simulator, SimulatorDep
from warm_transfer.simulator.state import Call

voice_token = HTTPBearer(
    scheme_name="VoiceAccessToken",
    description="A Voice access token from `POST /api/voice/token`.",
    auto_error=False,
)


async def voice_grant(
    simulator: SimulatorDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(voice_token)],
) -> VoiceGrant:
    if credentials is None:
        raise SimulatorError(401, "not_authenticated", "Send 'Authorization: Bearer <Voice token>'")
    settings = simulator.settings
    try:
        return read_voice_token(
            credentials.credentials,
            account_sid=settings.account_sid,
            api_key=settings.api_key,
            api_secret=settings.api_secret,
        )
    except InvalidVoiceToken as exc:
        raise SimulatorError(401, "invalid_voice_token", str(exc)) from exc


GrantDep = Annotated[VoiceGrant, Depends(voice_grant)]

_ERRORS = documented(
    {
        401: "Missing, invalid or expired Voice access token",
        403: "The call did not ring this identity (`not_your_call`)",
        404: "No such call (`call_not_found`)",
        409: "The call is not in a state for this (`not_ringing`, `not_connected`, "
        "`device_not_registered`)",
    }
)

router = APIRouter(prefix="/devices", route_class=SimulatorRoute)


class DeviceCallOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    call_sid: str
    from_: str = Field(alias="from", description="The caller (the app's caller id).")
    to: str = Field(description="`client:<identity>`.")
    status: str = Field(description="Twilio's CallStatus: `ringing`, `in-progress`, `busy`, …")
    device_id: str | None = Field(description="The device that answered, once answered.")
    muted: bool = Field(description="The answering device's microphone is muted.")

    @classmethod
    def of(cls, call: Call) -> DeviceCallOut:
        return cls(
            call_sid=call.sid,
            from_=call.from_,
            to=call.to,
            status=call.status.value,
            device_id=call.accepted_by,
            muted=call.device_muted,
        )


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(description="The answering device: its `registered` event's id.")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str | None = Field(
        default=None, description="The rejecting device (it gets no `canceled` of its own)."
    )


class DeviceOut(BaseModel):
    device_id: str
    identity: str
    expires_at: datetime = Field(description="When the device unregisters unless given a token.")


class MuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    muted: bool


STREAM_DESCRIPTION = """
Registers a device for the token's identity for as long as the response is read (with `fetch`,
so the `Authorization` header can be sent). Events, each `data` a JSON object:

* `registered` `{device_id, identity}`: first; the device id to accept calls with.
* `incoming` `{call_sid, from, to, params}`: a call rings this identity (every open device rings;
  also sent on registering for calls already ringing). `params`: custom parameters, if any.
* `canceled` `{call_sid, reason}`: stopped ringing before this device answered: the caller gave up
  or the app hung up (`canceled`), it rang out (`no-answer`), another device answered
  (`answered_elsewhere`) or rejected it (`busy`).
* `accepted` `{call_sid}`: this device answered the call.
* `disconnected` `{call_sid, status}`: the call this device answered has ended (either side).
* `muted` `{call_sid, muted}`: this device's microphone was muted or unmuted.
* `unregistered` `{reason: "token_expired"}`: last, when the token ran out before a fresh one
  was given (`POST /simulator/devices/{device_id}/token`, the SDK's `updateToken`).

Comment lines (`: heartbeat`) keep the connection alive. Closing the stream unregisters the device
and hangs up the call it answered, as closing the browser tab would.
"""


@router.get(
    "/stream",
    summary="Register a simulated device and receive its events (SSE)",
    description=STREAM_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: _ERRORS[401]},
)
async def stream(grant: GrantDep, simulator: SimulatorDep) -> StreamingResponse:
    device = simulator.devices.register(grant)
    # Queued at once, so a call ringing meanwhile is announced once, after `registered`.
    simulator.devices.send(
        device, "registered", {"device_id": device.id, "identity": grant.identity}
    )
    simulator.engine.device_registered(device)
    return StreamingResponse(
        _events(simulator, device),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Also runs when the client goes away mid-stream (the generator may never resume).
        background=BackgroundTask(_closed, simulator, device),
    )


async def _closed(simulator: Simulator, device: Device) -> None:
    # A coroutine, so Starlette runs it on the event loop (a plain function goes to a thread).
    _unregister(simulator, device)


def _unregister(simulator: Simulator, device: Device) -> None:
    if simulator.devices.unregister(device):
        simulator.engine.device_unregistered(device)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def _events(simulator: Simulator, device: Device) -> AsyncIterator[str]:
    try:
        while True:
            left = (device.expires_at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                yield _sse("unregistered", {"reason": "token_expired"})
                return
            try:
                async with asyncio.timeout(min(left, simulator.heartbeat_seconds)):
                    event, data = await device.events.get()
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            yield _sse(event, data)
    finally:
        _unregister(simulator, device)


@router.post(
    "/{device_id}/token",
    summary="Give a registered device a fresh Voice token (the SDK's `updateToken`)",
    description="Send the new token as the bearer; the device (and its calls) carry on.",
    response_model=DeviceOut,
    responses={
        401: _ERRORS[401],
        **documented(
            {
                403: "The device belongs to another identity",
                404: "No such device registered (its stream has closed)",
            }
        ),
    },
)
async def update_token(device_id: str, grant: GrantDep, simulator: SimulatorDep) -> DeviceOut:
    device = simulator.devices.get(device_id)
    if device is None:
        raise SimulatorError(404, "device_not_found", f"No device {device_id} is registered")
    if device.identity != grant.identity:
        raise SimulatorError(403, "not_your_device", f"Device {device_id} is not {grant.identity}")
    device.expires_at = grant.expires_at
    return DeviceOut(device_id=device.id, identity=device.identity, expires_at=device.expires_at)


@router.get(
    "/calls",
    summary="The calls ringing or connected to this identity",
    response_model=list[DeviceCallOut],
    responses={401: _ERRORS[401]},
)
async def calls(grant: GrantDep, simulator: SimulatorDep) -> list[DeviceCallOut]:
    return [DeviceCallOut.of(call) for call in simulator.engine.calls_to(grant.identity)]


@router.post(
    "/calls/{call_sid}/accept",
    summary="Answer a ringing call from a registered device",
    description="The call is answered (`in-progress`); Twilio then fetches its TwiML from the "
    "app. This device gets `accepted`, the identity's other devices `canceled`.",
    response_model=DeviceCallOut,
    responses=_ERRORS,
)
async def accept(
    call_sid: str, body: AcceptIn, grant: GrantDep, simulator: SimulatorDep
) -> DeviceCallOut:
    call = simulator.engine.accept(call_sid, identity=grant.identity, device_id=body.device_id)
    return DeviceCallOut.of(call)


@router.post(
    "/calls/{call_sid}/reject",
    summary="Reject a ringing call",
    description="As with a real browser client, the call ends `busy`.",
    response_model=DeviceCallOut,
    responses=_ERRORS,
)
async def reject(
    call_sid: str, grant: GrantDep, simulator: SimulatorDep, body: RejectIn | None = None
) -> DeviceCallOut:
    device_id = body.device_id if body else None
    call = simulator.engine.reject(call_sid, identity=grant.identity, device_id=device_id)
    return DeviceCallOut.of(call)


@router.post(
    "/calls/{call_sid}/hangup",
    summary="Hang up an answered call",
    response_model=DeviceCallOut,
    responses=_ERRORS,
)
async def hang_up(call_sid: str, grant: GrantDep, simulator: SimulatorDep) -> DeviceCallOut:
    return DeviceCallOut.of(simulator.engine.device_hangs_up(call_sid, identity=grant.identity))


@router.post(
    "/calls/{call_sid}/mute",
    summary="Mute or unmute the answering device's microphone",
    description="Local to the device, as in the Voice SDK: the conference is not told.",
    response_model=DeviceCallOut,
    responses=_ERRORS,
)
async def mute(
    call_sid: str, body: MuteIn, grant: GrantDep, simulator: SimulatorDep
) -> DeviceCallOut:
    call = simulator.engine.device_mutes(call_sid, identity=grant.identity, muted=body.muted)
    return DeviceCallOut.of(call)

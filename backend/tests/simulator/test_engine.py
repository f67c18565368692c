"""The simulator against Twilio's documented behaviour, with a stand-in app serving TwiML and
recording every request; REST requests go through the app's own client (the twilio SDK)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL
from tests.simulator.helpers import FakeApp, eventually
from warm_transfer.config import Settings
from warm_transfer.simulator import Simulator
from warm_transfer.simulator.conferences import Conference, ConferenceStatus
from warm_transfer.simulator.devices import Device, VoiceGrant
from warm_transfer.simulator.engine import APPLICATION_ERROR, TWILIO_MUSIC
from warm_transfer.simulator.state import Call, CallStatus
from warm_transfer.telephony import twiml as app_twiml
from warm_transfer.telephony.gateway import (
    CALL_PROGRESS_EVENTS,
    DialRequest,
    ParticipantRequest,
    TwilioGateway,
)

VOICE = "/conference/connect/client"
MUSIC = "https://cdn.example.test/music.mp3"
HOLD_MUSIC = "https://cdn.example.test/hold.mp3"


def url(path: str) -> str:
    return PUBLIC_BASE_URL + path


@pytest.fixture(autouse=True)
def app_twiml_served(fake: FakeApp) -> None:
    """The stand-in app answers as the real one does (its conference named 'room')."""
    fake.documents.update(
        {
            VOICE: app_twiml.customer_conference(
                conference_name="room",
                wait_url=url("/wait"),
                status_callback=url("/conference"),
            ),
            "/wait": app_twiml.wait_music(music_url=MUSIC),
            "/hold": app_twiml.hold_music(music_url=HOLD_MUSIC),
            "/agent": app_twiml.agent_conference(
                conference_name="room", participant_label="agent", end_conference_on_exit=True
            ),
        }
    )


def device(simulator: Simulator, identity: str) -> Device:
    registered = simulator.devices.register(
        VoiceGrant(identity=identity, expires_at=datetime.now(UTC) + timedelta(hours=1))
    )
    simulator.engine.device_registered(registered)
    return registered


async def event(device: Device, name: str) -> dict[str, Any]:
    """The device's next event of that name (earlier ones of other names are passed over)."""
    async with asyncio.timeout(5):
        while True:
            got, data = await device.events.get()
            if got == name:
                return data


def customer(simulator: Simulator) -> Call:
    return simulator.engine.receive_call(
        from_="+15551230000", to="+15550001111", voice_url=url(VOICE)
    )


async def dial_agent(gateway: TwilioGateway, identity: str = "agent1", timeout: int = 20) -> str:
    return await gateway.create_call(
        DialRequest(
            to=f"client:{identity}",
            from_="+15550001111",
            url=url("/agent"),
            status_callback=url(f"/legs/{identity}"),
            timeout=timeout,
        )
    )


def room(simulator: Simulator) -> Conference:
    conference = simulator.engine.active_conference("room")
    assert conference is not None
    return conference


async def connected(simulator: Simulator, gateway: TwilioGateway) -> tuple[Call, Call, Device]:
    """A customer waiting in 'room', then agent1 answers: (customer, agent's call, device)."""
    phone = device(simulator, "agent1")
    caller = customer(simulator)
    agent_sid = await dial_agent(gateway)
    invite = await event(phone, "incoming")
    assert invite["call_sid"] == agent_sid
    simulator.engine.accept(agent_sid, identity="agent1", device_id=phone.id)
    await eventually(lambda: room(simulator).status is ConferenceStatus.in_progress)
    return caller, simulator.engine.calls[agent_sid], phone


async def test_every_request_is_signed_as_twilio_signs_it(
    simulator: Simulator, fake: FakeApp, settings: Settings
) -> None:
    caller = customer(simulator)
    [voice] = await eventually(lambda: fake.to(VOICE), what="the voice webhook")

    signature = voice.headers["X-Twilio-Signature"]
    assert RequestValidator(settings.auth_token).validate(url(VOICE), voice.form, signature)
    assert not RequestValidator("another-token").validate(url(VOICE), voice.form, signature)
    assert voice.form == {
        "AccountSid": settings.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": caller.sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": "+15551230000",
        "To": "+15550001111",
        "Caller": "+15551230000",
        "Called": "+15550001111",
    }
    await eventually(lambda: fake.to("/wait"), what="the wait URL")
    await eventually(lambda: fake.to("/conference"), what="a conference callback")
    assert all(request.signed for request in fake.requests)
    tokens = [request.headers["I-Twilio-Idempotency-Token"] for request in fake.requests]
    assert len(set(tokens)) == len(tokens)


async def test_the_wait_url_plays_until_the_conference_starts(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    caller = customer(simulator)
    # The welcome, then the music, looping: the caller is never left in silence.
    await eventually(lambda: caller.audio and caller.audio.verb == "Play", what="wait music")
    assert caller.audio is not None and (caller.audio.url, caller.audio.loop) == (MUSIC, 0)
    assert [audio.verb for audio in caller.heard] == ["Say", "Play"]
    assert caller.heard[0].text == app_twiml.WAIT_MESSAGE
    [wait] = fake.to("/wait")
    assert wait.method == "POST" and wait.signed and wait.form["CallSid"] == caller.sid
    assert room(simulator).status is ConferenceStatus.init

    phone = device(simulator, "agent1")
    agent_sid = await dial_agent(gateway)
    await event(phone, "incoming")
    simulator.engine.accept(agent_sid, identity="agent1", device_id=phone.id)
    await eventually(lambda: room(simulator).status is ConferenceStatus.in_progress)
    assert caller.audio is None  # the music stops: the conference has started
    [fetch] = fake.to("/agent")
    assert fetch.form["CallSid"] == agent_sid and fetch.form["CallStatus"] == "in-progress"
    assert fetch.form["Direction"] == "outbound-api" and fetch.form["To"] == "client:agent1"
    # Callbacks are delivered after the fact: wait for them, then check their order.
    await eventually(lambda: len(fake.events("/conference")) >= 3, what="conference events")
    assert fake.events("/conference") == [
        "participant-join",
        "participant-join",
        "conference-start",
    ]


async def test_callbacks_carry_twilios_fields_and_increasing_sequence_numbers(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway, settings: Settings
) -> None:
    caller, agent, phone = await connected(simulator, gateway)
    simulator.engine.device_hangs_up(agent.sid, identity="agent1")  # it ends the conference
    await eventually(lambda: caller.status is CallStatus.completed)
    await eventually(lambda: "conference-end" in fake.events("/conference"))

    await eventually(lambda: len(fake.to("/legs/agent1")) == 4, what="four progress events")
    progress = fake.to("/legs/agent1")
    assert [(r.form["CallStatus"], r.form["SequenceNumber"]) for r in progress] == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]
    for request in progress:
        assert request.form["CallSid"] == agent.sid
        assert request.form["CallbackSource"] == "call-progress-events"
        assert request.form["AccountSid"] == settings.account_sid
        assert request.form["Timestamp"].endswith("+0000")
    assert progress[-1].form["CallDuration"].isdigit()

    conference = fake.to("/conference")
    numbers = [int(request.form["SequenceNumber"]) for request in conference]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [r.form["StatusCallbackEvent"] for r in conference] == [
        "participant-join",
        "participant-join",
        "conference-start",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    join = conference[1].form
    assert join["CallSid"] == agent.sid and join["ParticipantLabel"] == "agent"
    assert (join["Hold"], join["Muted"], join["Coaching"]) == ("false", "false", "false")
    assert (join["StartConferenceOnEnter"], join["EndConferenceOnExit"]) == ("true", "true")
    assert join["ConferenceSid"].startswith("CF") and join["FriendlyName"] == "room"
    leave = conference[3].form
    assert leave["ReasonParticipantLeft"] == "participant_hung_up"
    end = conference[-1].form
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end["CallSidEndingConference"] == agent.sid
    assert (await event(phone, "disconnected"))["call_sid"] == agent.sid


async def test_hold_plays_the_hold_url_and_unhold_returns_to_the_conference(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    caller, _, _ = await connected(simulator, gateway)
    conference_sid = room(simulator).sid

    await gateway.update_participant(
        conference_sid=conference_sid, participant="customer", hold=True, hold_url=url("/hold")
    )
    await eventually(lambda: caller.audio and caller.audio.url == HOLD_MUSIC, what="hold music")
    [hold] = fake.to("/hold")
    assert hold.method == "POST" and hold.signed
    await eventually(lambda: "participant-hold" in fake.events("/conference"))
    held = fake.to("/conference")[-1].form
    assert (held["CallSid"], held["Hold"]) == (caller.sid, "true")

    await gateway.update_participant(
        conference_sid=conference_sid, participant="customer", hold=False
    )
    await eventually(lambda: caller.audio is None, what="back in the conference")
    await eventually(lambda: "participant-unhold" in fake.events("/conference"))


async def test_hold_without_a_url_plays_twilios_music_and_get_is_signed_too(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway, rest: httpx.AsyncClient
) -> None:
    caller, _, _ = await connected(simulator, gateway)
    path = f"Conferences/{room(simulator).sid}/Participants/customer.json"

    assert (await rest.post(path, data={"Hold": "true"})).json()["hold"] is True
    await eventually(lambda: caller.audio and caller.audio.url == TWILIO_MUSIC)
    await rest.post(path, data={"Hold": "false"})
    # HoldMethod defaults to GET: the parameters go in the query string, signed with the URL.
    await rest.post(path, data={"Hold": "true", "HoldUrl": url("/hold")})
    [hold] = await eventually(lambda: fake.to("/hold"))
    assert hold.method == "GET" and hold.signed and hold.form == {}


async def test_end_on_exit_changed_while_held_does_not_take_effect(
    simulator: Simulator, gateway: TwilioGateway, rest: httpx.AsyncClient
) -> None:
    await connected(simulator, gateway)
    path = f"Conferences/{room(simulator).sid}/Participants/agent.json"

    await rest.post(path, data={"Hold": "true"})
    body = (await rest.post(path, data={"EndConferenceOnExit": "false"})).json()
    assert body["end_conference_on_exit"] is True  # Twilio's trap: silently ignored
    body = (await rest.post(path, data={"Hold": "false", "EndConferenceOnExit": "false"})).json()
    assert body["end_conference_on_exit"] is True  # still held when the request came in
    body = (await rest.post(path, data={"EndConferenceOnExit": "false"})).json()
    assert body["end_conference_on_exit"] is False


async def test_an_unanswered_call_rings_out_as_no_answer(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    phone = device(simulator, "agent1")
    agent_sid = await dial_agent(gateway, timeout=5)
    await event(phone, "incoming")
    canceled = await event(phone, "canceled")
    assert canceled == {"call_sid": agent_sid, "reason": "no-answer"}
    assert simulator.engine.calls[agent_sid].status is CallStatus.no_answer
    await eventually(lambda: len(fake.to("/legs/agent1")) == 3)
    assert [r.form["CallStatus"] for r in fake.to("/legs/agent1")] == [
        "initiated",
        "ringing",
        "no-answer",
    ]
    assert fake.to("/legs/agent1")[-1].form["CallDuration"] == "0"
    assert not fake.to("/agent")  # never answered: its TwiML was never asked for


async def test_a_client_with_no_device_rings_out_too(
    simulator: Simulator, gateway: TwilioGateway
) -> None:
    agent_sid = await dial_agent(gateway, identity="nobody", timeout=5)
    call = simulator.engine.calls[agent_sid]
    await eventually(lambda: call.status is CallStatus.no_answer, timeout=3)


async def test_rejecting_is_busy_and_quiet_on_the_rejecting_device(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    tab1, tab2 = device(simulator, "agent1"), device(simulator, "agent1")
    agent_sid = await dial_agent(gateway)
    await event(tab1, "incoming")
    await event(tab2, "incoming")
    simulator.engine.reject(agent_sid, identity="agent1", device_id=tab1.id)
    assert simulator.engine.calls[agent_sid].status is CallStatus.busy
    assert await event(tab2, "canceled") == {"call_sid": agent_sid, "reason": "busy"}
    assert tab1.events.empty()
    await eventually(
        lambda: [r.form["CallStatus"] for r in fake.to("/legs/agent1")][-1:] == ["busy"]
    )


async def test_canceling_through_the_api_stops_the_ringing(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    phone = device(simulator, "agent1")
    agent_sid = await dial_agent(gateway)
    await event(phone, "incoming")
    await gateway.end_call(call_sid=agent_sid)  # Status=completed on a ringing call
    assert await event(phone, "canceled") == {"call_sid": agent_sid, "reason": "canceled"}
    assert simulator.engine.calls[agent_sid].status is CallStatus.canceled


async def test_the_participants_api_dials_into_the_conference_by_name(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway, rest: httpx.AsyncClient
) -> None:
    caller, _, _ = await connected(simulator, gateway)
    phone = device(simulator, "agent2")
    request = ParticipantRequest(
        conference="room",
        to="client:agent2",
        from_="+15550001111",
        label="leg-9",
        status_callback=url("/legs/agent2"),
        timeout=20,
        start_conference_on_enter=True,
        end_conference_on_exit=False,
    )
    target_sid = await gateway.add_participant(request)
    listed = (await rest.get(f"Conferences/{room(simulator).sid}/Participants.json")).json()
    assert [(p["label"], p["status"]) for p in listed["participants"]] == [
        ("customer", "connected"),
        ("agent", "connected"),
        ("leg-9", "queued"),
    ]
    again = await rest.post(
        "Conferences/room/Participants.json",
        data={"From": "+15550001111", "To": "client:agent3", "Label": "leg-9"},
    )
    assert again.status_code == 400  # labels are unique in a conference

    await event(phone, "incoming")
    simulator.engine.accept(target_sid, identity="agent2", device_id=phone.id)
    await eventually(lambda: len(room(simulator).connected) == 3)
    # Joined straight in: no TwiML was asked for, only its progress was reported.
    asked = {r.path for r in fake.requests if r.form.get("CallSid") == target_sid}
    assert asked <= {"/legs/agent2", "/conference"}

    # Removed by label: it leaves (kicked), and with nothing after its <Dial> the call ends.
    removed = await rest.delete(f"Conferences/{room(simulator).sid}/Participants/leg-9.json")
    assert removed.status_code == 204
    await eventually(lambda: simulator.engine.calls[target_sid].status is CallStatus.completed)

    def kicked() -> dict[str, str] | None:
        return next(
            (
                r.form
                for r in fake.to("/conference")
                if r.form["StatusCallbackEvent"] == "participant-leave"
                and r.form["CallSid"] == target_sid
            ),
            None,
        )

    assert (await eventually(kicked))["ReasonParticipantLeft"] == "participant_kicked"
    assert room(simulator).status is ConferenceStatus.in_progress
    assert caller.status is CallStatus.in_progress


async def test_a_dialed_participant_that_declines_is_reported_as_leaving(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway, rest: httpx.AsyncClient
) -> None:
    await connected(simulator, gateway)
    phone = device(simulator, "agent2")
    created = await rest.post(
        "Conferences/room/Participants.json",
        data={
            "From": "+15550001111",
            "To": "client:agent2",
            "StatusCallback": url("/legs/agent2"),
            "StatusCallbackEvent": list(CALL_PROGRESS_EVENTS),
        },
    )
    assert created.status_code == 201, created.text
    target_sid = created.json()["call_sid"]
    await event(phone, "incoming")
    simulator.engine.reject(target_sid, identity="agent2", device_id=phone.id)

    await eventually(lambda: fake.events("/conference")[-1] == "participant-leave")
    leave = fake.to("/conference")[-1].form
    assert (leave["CallSid"], leave["ParticipantCallStatus"]) == (target_sid, "busy")
    # The leg's own callback came first: it ended, then it "left".
    assert fake.to("/legs/agent2")[-1].form["CallStatus"] == "busy"
    assert fake.requests.index(fake.to("/legs/agent2")[-1]) < fake.requests.index(
        fake.to("/conference")[-1]
    )


async def test_ending_the_conference_through_the_api_ends_every_twiml_leg(
    simulator: Simulator, fake: FakeApp, gateway: TwilioGateway
) -> None:
    caller, agent, phone = await connected(simulator, gateway)
    conference_sid = room(simulator).sid
    await gateway.end_conference(conference_sid=conference_sid)
    await eventually(lambda: caller.status is CallStatus.completed)
    await eventually(lambda: agent.status is CallStatus.completed)
    await event(phone, "disconnected")
    await eventually(lambda: fake.events("/conference")[-1] == "conference-end")
    assert fake.to("/conference")[-1].form["ReasonConferenceEnded"] == "conference-ended-via-api"
    await gateway.end_conference(conference_sid=conference_sid)  # already over: no error


async def test_twiml_that_cannot_be_had_is_an_application_error(
    simulator: Simulator, fake: FakeApp
) -> None:
    del fake.documents[VOICE]  # the app answers 204, no TwiML
    caller = customer(simulator)
    await eventually(lambda: caller.status is CallStatus.completed)
    assert [audio.text for audio in caller.heard] == [APPLICATION_ERROR]

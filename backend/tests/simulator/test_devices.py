"""The simulated softphone API the console's VoiceDevice uses: Voice-token auth, the event stream,
and accept / reject / hang up / mute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.conftest import PUBLIC_BASE_URL
from tests.simulator.helpers import FakeApp, Softphone, eventually
from tests.simulator.streaming import StreamingASGITransport
from warm_transfer.config import Settings
from warm_transfer.simulator import Simulator
from warm_transfer.simulator.state import CallStatus
from warm_transfer.telephony.tokens import issue_voice_token

CALL = {"To": "client:agent1", "From": "+15550001111", "Url": "https://warm.example.test/agent"}


def voice_token(settings: Settings, identity: str = "agent1", **overrides: object) -> str:
    values: dict[str, object] = {
        "account_sid": settings.account_sid,
        "api_key": settings.api_key,
        "api_secret": settings.api_secret,
        "identity": identity,
        "ttl_seconds": 3600,
        **overrides,
    }
    return issue_voice_token(**values).token  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def answered_calls_play_music(fake: FakeApp) -> None:
    fake.documents["/agent"] = '<Response><Play loop="0">https://cdn.test/m.mp3</Play></Response>'


@pytest.fixture
async def http(host: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=StreamingASGITransport(host), base_url=PUBLIC_BASE_URL
    ) as client:
        yield client


@pytest.fixture
async def phones() -> AsyncIterator[list[Softphone]]:
    opened: list[Softphone] = []
    yield opened
    for phone in opened:
        await phone.close()


async def open_phone(
    http: httpx.AsyncClient, settings: Settings, phones: list[Softphone], identity: str = "agent1"
) -> Softphone:
    phone = await Softphone.open(http, identity, voice_token(settings, identity))
    phones.append(phone)
    return phone


async def ring(rest: httpx.AsyncClient, **form: str) -> str:
    response = await rest.post("Calls.json", data={**CALL, **form})
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


async def test_registering_ringing_and_answering(
    http: httpx.AsyncClient,
    rest: httpx.AsyncClient,
    settings: Settings,
    simulator: Simulator,
    phones: list[Softphone],
) -> None:
    phone = await open_phone(http, settings, phones)
    assert phone.named("registered") == [{"device_id": phone.device_id, "identity": "agent1"}]
    await eventually(lambda: phone.comments > 0, what="a heartbeat")

    sid = await ring(rest, To="client:agent1?ticket=42")
    invite = await phone.wait_for("incoming", sid)
    assert invite == {
        "call_sid": sid,
        "from": "+15550001111",
        "to": "client:agent1?ticket=42",
        "params": {"ticket": "42"},
    }
    listed = await http.get(
        "/simulator/devices/calls", headers={"Authorization": f"Bearer {phone.token}"}
    )
    assert [(c["call_sid"], c["status"]) for c in listed.json()] == [(sid, "ringing")]

    answered = await phone.act(sid, "accept", device_id=phone.device_id)
    assert answered.status_code == 200
    assert answered.json() == {
        "call_sid": sid,
        "from": "+15550001111",
        "to": "client:agent1?ticket=42",
        "status": "in-progress",
        "device_id": phone.device_id,
        "muted": False,
    }
    await phone.wait_for("accepted", sid)

    muted = await phone.act(sid, "mute", muted=True)
    assert muted.json()["muted"] is True
    assert (await phone.wait_for("muted", sid))["muted"] is True
    assert (await phone.act(sid, "hangup")).json()["status"] == "completed"
    assert (await phone.wait_for("disconnected", sid))["status"] == "completed"
    assert simulator.engine.calls[sid].status is CallStatus.completed


async def test_a_device_that_registers_while_a_call_rings_rings_too(
    http: httpx.AsyncClient, rest: httpx.AsyncClient, settings: Settings, phones: list[Softphone]
) -> None:
    sid = await ring(rest)
    phone = await open_phone(http, settings, phones)
    assert [event for event, _ in phone.events[:1]] == ["registered"]
    await phone.wait_for("incoming", sid)


async def test_who_may_do_what(
    http: httpx.AsyncClient, rest: httpx.AsyncClient, settings: Settings, phones: list[Softphone]
) -> None:
    agent1 = await open_phone(http, settings, phones)
    agent2 = await open_phone(http, settings, phones, identity="agent2")
    sid = await ring(rest)
    await agent1.wait_for("incoming", sid)

    assert (await agent2.act(sid, "accept", device_id=agent2.device_id)).status_code == 403
    assert (await agent2.act(sid, "reject")).json()["error"] == "not_your_call"
    assert (await agent1.act("CA" + "0" * 32, "reject")).status_code == 404
    # Only from a registered device of this identity.
    wrong = await agent1.act(sid, "accept", device_id=agent2.device_id)
    assert (wrong.status_code, wrong.json()["error"]) == (409, "device_not_registered")
    assert (await agent1.act(sid, "hangup")).json()["error"] == "not_connected"
    assert (await agent1.act(sid, "mute", muted=True)).status_code == 409
    assert (await agent1.act(sid, "reject", device_id=agent1.device_id)).json()["status"] == "busy"
    assert (await agent1.act(sid, "accept", device_id=agent1.device_id)).status_code == 409


async def test_closing_the_stream_unregisters_and_drops_the_answered_call(
    http: httpx.AsyncClient,
    rest: httpx.AsyncClient,
    settings: Settings,
    simulator: Simulator,
    phones: list[Softphone],
) -> None:
    phone = await open_phone(http, settings, phones)
    sid = await ring(rest)
    await phone.wait_for("incoming", sid)
    await phone.act(sid, "accept", device_id=phone.device_id)

    await phone.close()
    phones.remove(phone)
    assert simulator.devices.of("agent1") == []
    await eventually(lambda: simulator.engine.calls[sid].status is CallStatus.completed)


async def test_the_stream_ends_when_the_token_expires(
    http: httpx.AsyncClient, settings: Settings, simulator: Simulator, phones: list[Softphone]
) -> None:
    # Issued a minute ago for 63 seconds: about three seconds left (enough to register on a
    # loaded machine, where one second was not).
    token = voice_token(settings, ttl_seconds=63, now=datetime.now(UTC) - timedelta(seconds=60))
    phone = await Softphone.open(http, "agent1", token)
    phones.append(phone)
    assert await phone.wait_for("unregistered", timeout=10) == {"reason": "token_expired"}
    await eventually(lambda: simulator.devices.of("agent1") == [], what="the device gone")


@pytest.mark.parametrize(
    "token",
    [
        lambda s: None,
        lambda s: "not-a-jwt",
        lambda s: voice_token(s, api_secret="another-secret-of-32-characters!!"),
        lambda s: voice_token(s, api_key="SK" + "9" * 32),
        lambda s: voice_token(s, account_sid="AC" + "9" * 32),
        lambda s: voice_token(s, ttl_seconds=60, now=datetime.now(UTC) - timedelta(hours=1)),
        lambda s: jwt.encode(
            {
                "iss": s.api_key,
                "sub": s.account_sid,
                "exp": 9999999999,
                "grants": {"identity": "x"},
            },
            s.api_secret,
            algorithm="HS256",
        ),
    ],
    ids=["none", "garbage", "other-secret", "other-key", "other-account", "expired", "no-voice"],
)
async def test_only_the_apps_voice_tokens_register(
    http: httpx.AsyncClient, settings: Settings, token: object
) -> None:
    value = token(settings)  # type: ignore[operator]
    headers = {"Authorization": f"Bearer {value}"} if value else {}
    response = await http.get("/simulator/devices/calls", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] in ("not_authenticated", "invalid_voice_token")


async def test_a_fresh_token_keeps_the_device_and_its_call(
    http: httpx.AsyncClient,
    rest: httpx.AsyncClient,
    settings: Settings,
    simulator: Simulator,
    phones: list[Softphone],
) -> None:
    # Expires in 3 s: time enough to answer and renew even on a busy machine.
    short_expiry = datetime.now(UTC) + timedelta(seconds=3)
    short = voice_token(settings, ttl_seconds=63, now=short_expiry - timedelta(seconds=63))
    phone = await Softphone.open(http, "agent1", short)
    phones.append(phone)
    sid = await ring(rest)
    await phone.wait_for("incoming", sid)
    await phone.act(sid, "accept", device_id=phone.device_id)

    fresh = voice_token(settings)
    renewed = await http.post(
        f"/simulator/devices/{phone.device_id}/token", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["identity"] == "agent1"
    # Past the first token's expiry: still registered, still on the call.
    await asyncio.sleep((short_expiry - datetime.now(UTC)).total_seconds() + 0.5)
    assert not phone.named("unregistered")
    assert simulator.engine.calls[sid].status is CallStatus.in_progress

    other = await http.post(
        f"/simulator/devices/{phone.device_id}/token",
        headers={"Authorization": f"Bearer {voice_token(settings, 'agent2')}"},
    )
    assert other.status_code == 403
    gone = await http.post(
        "/simulator/devices/DV0/token", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert gone.status_code == 404

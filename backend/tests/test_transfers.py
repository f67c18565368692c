"""Starting a warm transfer: who may, to whom, and the REST request that dials the target."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import PUBLIC_BASE_URL
from tests.factories import AgentFactory
from tests.twilio import TwilioDouble, form_of, sid
from warm_transfer.agents.models import Availability
from warm_transfer.calls.models import Call, CallLeg, LegStatus
from warm_transfer.transfers.models import Transfer, TransferStatus


async def call_id_of(app: FastAPI, call_sid: str) -> int:
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == call_sid))
        assert call is not None
        return call.id


async def transfers_of(app: FastAPI, call_id: int) -> list[Transfer]:
    async with app.state.session_factory() as session:
        return list(await session.scalars(select(Transfer).where(Transfer.call_id == call_id)))


@pytest.fixture
async def connected(twilio: TwilioDouble, agents: AgentFactory, app: FastAPI) -> int:
    """agent1 is talking with a customer; agent2 is available. Returns the call's id."""
    await agents.create("agent1")
    customer_sid, _, _ = await twilio.connected_call()
    await agents.create("agent2")
    return await call_id_of(app, customer_sid)


async def test_transfer_dials_the_target_into_the_conference(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["from_agent_id"] == "agent1"
    assert body["to_agent_id"] == "agent2"
    assert body["mode"] == "warm"
    assert body["status"] == "dialing"
    route = twilio.participants_create
    assert route.call_count == 1
    request = route.calls.last.request
    async with app.state.session_factory() as session:
        call = await session.get_one(Call, connected)
        leg = await session.scalar(
            select(CallLeg).where(CallLeg.agent_id == "agent2", CallLeg.call_id == connected)
        )
    assert leg is not None
    assert f"/Conferences/{call.conference_name}/Participants.json" in str(request.url)
    form = form_of(request)
    assert form["To"] == ["client:agent2"]
    assert form["From"] == [twilio.settings.twilio_number]
    assert form["Label"] == [f"leg-{leg.id}"]
    assert form["StartConferenceOnEnter"] == ["true"]
    assert form["EndConferenceOnExit"] == ["false"]
    assert form["StatusCallback"] == [f"{PUBLIC_BASE_URL}/conference/legs/{leg.id}/status"]
    assert form["Timeout"] == ["20"]
    assert leg.call_sid == route.calls.last.response.json()["call_sid"]


async def test_transfer_follows_the_target_ringing_and_joining(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    target_sid = twilio.participants_create.calls.last.response.json()["call_sid"]
    async with app.state.session_factory() as session:
        call = await session.get_one(Call, connected)
        leg = await session.scalar(select(CallLeg).where(CallLeg.call_sid == target_sid))
    assert leg is not None

    await twilio.leg_status(leg.id, target_sid, "ringing")
    [transfer] = await transfers_of(app, connected)
    assert transfer.status is TransferStatus.ringing

    await twilio.conference(call.conference_name, "participant-join", target_sid)
    response = await twilio.client.get(
        f"/api/calls/{connected}", headers=await agents.headers("agent1")
    )
    body = response.json()
    assert body["transfers"][0]["status"] == "consulting"
    live = [
        (leg["role"], leg["agent_id"]) for leg in body["legs"] if leg["status"] == "in_progress"
    ]
    assert live == [("customer", None), ("agent", "agent1"), ("agent", "agent2")]


@pytest.mark.parametrize(
    ("twilio_status", "outcome"),
    [("busy", "declined"), ("no-answer", "no_answer"), ("failed", "failed")],
)
async def test_target_not_answering_ends_the_transfer_and_frees_the_target(
    connected: int,
    twilio: TwilioDouble,
    agents: AgentFactory,
    app: FastAPI,
    twilio_status: str,
    outcome: str,
) -> None:
    await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    target_sid = twilio.participants_create.calls.last.response.json()["call_sid"]
    async with app.state.session_factory() as session:
        leg = await session.scalar(select(CallLeg).where(CallLeg.call_sid == target_sid))
    assert leg is not None
    await twilio.leg_status(leg.id, target_sid, "ringing")
    await twilio.leg_status(leg.id, target_sid, twilio_status)

    [transfer] = await transfers_of(app, connected)
    assert transfer.status.value == outcome
    assert transfer.ended_at is not None
    directory = await twilio.client.get("/api/agents", headers=await agents.headers("agent1"))
    presence = {agent["id"]: agent["presence"] for agent in directory.json()}
    assert presence == {"agent1": "busy", "agent2": "available"}
    # A new transfer can start now.
    again = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    assert again.status_code == 201


async def test_unknown_call_is_404(
    connected: int, twilio: TwilioDouble, agents: AgentFactory
) -> None:
    response = await twilio.client.post(
        "/api/calls/9999/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 404
    assert response.json()["error"] == "call_not_found"
    assert twilio.participants_create.call_count == 0


async def test_unknown_target_is_404(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "ghost"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 404
    assert response.json()["error"] == "agent_not_found"
    assert await transfers_of(app, connected) == []


async def test_an_agent_not_on_the_call_is_403(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent3")
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent3"},
        headers=await agents.headers("agent2"),
    )
    assert response.status_code == 403
    assert response.json()["error"] == "not_on_call"
    assert await transfers_of(app, connected) == []
    assert twilio.participants_create.call_count == 0


async def test_a_second_transfer_while_one_is_under_way_is_409(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent3")
    headers = await agents.headers("agent1")
    first = await twilio.client.post(
        f"/api/calls/{connected}/transfers", json={"to_agent_id": "agent2"}, headers=headers
    )
    second = await twilio.client.post(
        f"/api/calls/{connected}/transfers", json={"to_agent_id": "agent3"}, headers=headers
    )
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "transfer_in_progress"
    assert len(await transfers_of(app, connected)) == 1
    assert twilio.participants_create.call_count == 1


@pytest.mark.parametrize("reason", ["away", "on_a_call"])
async def test_a_busy_or_away_target_is_409(
    connected: int,
    twilio: TwilioDouble,
    agents: AgentFactory,
    app: FastAPI,
    reason: str,
) -> None:
    if reason == "away":
        await agents.create("agent3", availability=Availability.away)
    else:
        await agents.create("agent3")
        await twilio.connected_call()  # agent3 (or agent2) takes another customer
        await twilio.client.put(
            "/api/agents/me/availability",
            json={"availability": "away"},
            headers=await agents.headers("agent2"),
        )
    target = "agent3" if reason == "away" else _busy_agent(await _directory(twilio, agents))
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": target},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 409
    assert response.json()["error"] == "target_unavailable"
    assert await transfers_of(app, connected) == []


async def _directory(twilio: TwilioDouble, agents: AgentFactory) -> list[dict[str, object]]:
    response = await twilio.client.get("/api/agents", headers=await agents.headers("agent1"))
    return list(response.json())


def _busy_agent(directory: list[dict[str, object]]) -> str:
    return next(str(a["id"]) for a in directory if a["on_call"] and a["id"] != "agent1")


async def test_transferring_to_yourself_is_409(
    connected: int, twilio: TwilioDouble, agents: AgentFactory
) -> None:
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent1"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 409
    assert response.json()["error"] == "transfer_to_self"


@pytest.mark.parametrize(
    "body", [{}, {"to_agent_id": ""}, {"to_agent_id": "bad id!"}, {"to_agent_id": 5, "x": 1}]
)
async def test_malformed_transfer_requests_are_422(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, body: dict[str, object]
) -> None:
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers", json=body, headers=await agents.headers("agent1")
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(
            500, json={"code": 20500, "message": "Internal Server Error", "status": 500}
        ),
        httpx.Response(
            400, json={"code": 21210, "message": "Caller id not verified", "status": 400}
        ),
        httpx.ConnectError("refused"),
    ],
)
async def test_twilio_failing_is_a_502_and_leaves_the_call_as_it_was(
    connected: int,
    twilio: TwilioDouble,
    agents: AgentFactory,
    app: FastAPI,
    failure: httpx.Response | Exception,
) -> None:
    twilio.participants_create.side_effect = failure
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 502
    assert response.json()["error"] == "twilio_error"
    [transfer] = await transfers_of(app, connected)
    assert transfer.status is TransferStatus.failed
    assert transfer.active_call_id is None
    directory = {a["id"]: a["presence"] for a in await _directory(twilio, agents)}
    assert directory["agent2"] == "available"
    async with app.state.session_factory() as session:
        target_leg = await session.scalar(select(CallLeg).where(CallLeg.agent_id == "agent2"))
    assert target_leg is not None and target_leg.status is LegStatus.failed


async def test_transfer_on_an_ended_call_is_409(
    connected: int, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    async with app.state.session_factory() as session:
        call = await session.get_one(Call, connected)
    await twilio.conference(call.conference_name, "conference-end", ReasonConferenceEnded="x")
    response = await twilio.client.post(
        f"/api/calls/{connected}/transfers",
        json={"to_agent_id": "agent2"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 409
    assert response.json()["error"] == "call_ended"


async def test_unknown_sid_in_target_callback_changes_nothing(
    connected: int, twilio: TwilioDouble, app: FastAPI
) -> None:
    response = await twilio.leg_status(1, sid("CA"), "completed")
    assert response.status_code == 404

"""Call history and the call's state as the status callbacks move it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import AgentFactory
from tests.twilio import CUSTOMER_NUMBER, TwilioDouble
from warm_transfer.agents.models import Availability
from warm_transfer.calls.models import Call, CallEvent


async def test_history_is_newest_first_with_a_cursor(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1", availability=Availability.away)
    sids = [(await twilio.customer_calls())[1] for _ in range(5)]
    headers = await agents.headers("agent1")

    first = (await twilio.client.get("/api/calls?limit=2", headers=headers)).json()
    second = (
        await twilio.client.get(
            f"/api/calls?limit=2&cursor={first['next_cursor']}", headers=headers
        )
    ).json()
    third = (
        await twilio.client.get(
            f"/api/calls?limit=2&cursor={second['next_cursor']}", headers=headers
        )
    ).json()

    seen = [call["call_sid"] for page in (first, second, third) for call in page["items"]]
    assert seen == list(reversed(sids))
    assert third["next_cursor"] is None
    assert first["items"][0]["from_number"] == CUSTOMER_NUMBER
    assert first["items"][0]["status"] == "queued"


async def test_history_filters_by_status_and_agent(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    handled, _, _ = await twilio.connected_call()
    await twilio.customer_calls()  # waits: agent1 is busy
    headers = await agents.headers("agent1")

    mine = (await twilio.client.get("/api/calls?agent_id=agent1", headers=headers)).json()
    waiting = (await twilio.client.get("/api/calls?status=queued", headers=headers)).json()

    assert [call["call_sid"] for call in mine["items"]] == [handled]
    assert len(waiting["items"]) == 1 and waiting["items"][0]["call_sid"] != handled


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=abc", "status=bogus", "limit=x"])
async def test_bad_history_queries_are_422(
    client: httpx.AsyncClient, agents: AgentFactory, query: str
) -> None:
    await agents.create("agent1")
    response = await client.get(f"/api/calls?{query}", headers=await agents.headers("agent1"))
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_one_call_with_its_legs(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    customer_sid, leg_id, agent_sid = await twilio.connected_call()
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == customer_sid))
    assert call is not None

    response = await twilio.client.get(
        f"/api/calls/{call.id}", headers=await agents.headers("agent1")
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress"
    assert body["owner_agent_id"] == "agent1"
    assert body["answered_at"] is not None
    assert [(leg["role"], leg["call_sid"], leg["status"]) for leg in body["legs"]] == [
        ("customer", customer_sid, "in_progress"),
        ("agent", agent_sid, "in_progress"),
    ]
    assert body["legs"][1]["id"] == leg_id


async def test_unknown_call_is_404(client: httpx.AsyncClient, agents: AgentFactory) -> None:
    await agents.create("agent1")
    response = await client.get("/api/calls/12345", headers=await agents.headers("agent1"))
    assert response.status_code == 404
    assert response.json() == {"error": "call_not_found", "detail": "Call 12345 not found"}


async def test_customer_hanging_up_ends_the_call_for_everyone(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    customer_sid, _, _ = await twilio.connected_call()

    await twilio.conference(customer_sid, "participant-leave", customer_sid)
    await twilio.conference(
        customer_sid,
        "conference-end",
        ReasonConferenceEnded="participant-with-end-conference-on-exit-left",
        CallSidEndingConference=customer_sid,
    )

    headers = await agents.headers("agent1")
    [call] = (await twilio.client.get("/api/calls", headers=headers)).json()["items"]
    assert call["status"] == "completed"
    assert call["ended_by"] == "customer"
    assert {leg["status"] for leg in call["legs"]} == {"completed"}
    me = (await twilio.client.get("/api/me", headers=headers)).json()
    assert me["presence"] == "available"


async def test_customer_hanging_up_while_an_agent_rings_withdraws_the_offer(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    _, customer_sid = await twilio.customer_calls()
    await twilio.conference(customer_sid, "participant-join", customer_sid)
    await twilio.drain()
    _, leg_id, agent_sid = twilio.dialed()
    await twilio.leg_status(leg_id, agent_sid, "ringing")

    await twilio.conference(customer_sid, "participant-leave", customer_sid)
    await twilio.drain()

    assert twilio.call_update.call_count == 1
    assert str(twilio.call_update.calls.last.request.url).endswith(f"/Calls/{agent_sid}.json")
    assert "Status=completed" in twilio.call_update.calls.last.request.content.decode()


async def test_every_callback_is_kept_once_on_the_timeline(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    _customer_sid, leg_id, agent_sid = await twilio.connected_call()
    retry = {"I-Twilio-Idempotency-Token": "token-123"}
    params = {
        "AccountSid": twilio.settings.account_sid,
        "CallSid": agent_sid,
        "CallStatus": "completed",
        "SequenceNumber": "99",
    }
    for _ in range(3):
        response = await twilio.post(f"/conference/legs/{leg_id}/status", params, headers=retry)
        assert response.status_code == 204

    async with app.state.session_factory() as session:
        events = list(await session.scalars(select(CallEvent).order_by(CallEvent.id)))
    names = [(event.source, event.name) for event in events]
    assert names.count(("call", "completed")) == 1
    assert ("conference", "participant-join") in names
    assert all(event.call_id is not None for event in events)


async def test_callbacks_find_their_call_by_an_index_not_by_scanning_the_history(
    app: FastAPI,
) -> None:
    """Conference callbacks and agent connect webhooks look their call up by conference name:
    with a year of history a scan would cost every webhook milliseconds more."""
    query = select(Call.id).where(Call.conference_name == "CA" + "0" * 32)
    async with app.state.engine.connect() as connection:
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")  # the table is tiny
            plan = [row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {sql}")]
        else:
            plan = [row[3] for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert any("ix_calls_conference_name" in line for line in plan), plan

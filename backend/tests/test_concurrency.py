"""Many webhooks and requests at once: nothing lost, nobody offered two calls, one transfer."""

from __future__ import annotations

import asyncio
import random

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import AgentFactory
from tests.twilio import TwilioDouble, sid
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole


async def test_fifty_calls_at_once_with_two_agents(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    await agents.create("agent2")
    sids = [sid("CA") for _ in range(50)]

    responses = await asyncio.gather(*(twilio.customer_calls(call_sid) for call_sid in sids))
    await twilio.drain()

    assert all(response.status_code == 200 for response, _ in responses)
    async with app.state.session_factory() as session:
        calls = list(await session.scalars(select(Call).order_by(Call.id)))
        offers = list(await session.scalars(select(CallLeg).where(CallLeg.role == LegRole.agent)))
    assert sorted(call.call_sid for call in calls) == sorted(sids)
    assert [call.status for call in calls].count(CallStatus.ringing) == 2
    assert sorted(leg.agent_id for leg in offers) == ["agent1", "agent2"]
    assert twilio.calls_create.call_count == 2
    waiting = sorted(
        (call for call in calls if call.status is CallStatus.queued),
        key=lambda call: (call.created_at, call.id),
    )
    assert len(waiting) == 48
    response = await twilio.client.get(
        "/api/calls?status=queued&limit=100", headers=await agents.headers("agent1")
    )
    assert len(response.json()["items"]) == 48

    # The queue is served in arrival order: as the two offered customers hang up, the two
    # oldest waiting calls are offered next.
    for call in calls:
        if call.status is CallStatus.ringing:
            await twilio.conference(call.call_sid, "participant-leave", call.call_sid)
    await twilio.drain()
    offered_next = {twilio.dialed(i)[0]["Url"][0].split("/")[-2] for i in (-1, -2)}
    assert offered_next == {waiting[0].call_sid, waiting[1].call_sid}


async def test_duplicated_webhooks_at_once_store_one_call(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    call_sid = sid("CA")
    await asyncio.gather(*(twilio.customer_calls(call_sid) for _ in range(10)))
    await twilio.drain()
    async with app.state.session_factory() as session:
        assert len(list(await session.scalars(select(Call)))) == 1
    assert twilio.calls_create.call_count == 1


async def test_two_transfers_at_once_one_wins(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    customer_sid, _, _ = await twilio.connected_call()
    await agents.create("agent2")
    await agents.create("agent3")
    headers = await agents.headers("agent1")
    call_id = (await twilio.client.get("/api/calls", headers=headers)).json()["items"][0]["id"]

    first, second = await asyncio.gather(
        *(
            twilio.client.post(
                f"/api/calls/{call_id}/transfers", json={"to_agent_id": target}, headers=headers
            )
            for target in ("agent2", "agent3")
        )
    )

    assert sorted([first.status_code, second.status_code]) == [201, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"] == "transfer_in_progress"
    assert twilio.participants_create.call_count == 1
    assert customer_sid


async def test_a_whole_flow_delivered_twice_and_shuffled_ends_the_same(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """Every callback of a call (offer, answer, talk, hang-up) re-delivered twice in a random
    order after the real run changes nothing; and the same callbacks, shuffled from the start
    on a second call, reach the same final state."""
    await agents.create("agent1")
    recorded: list[tuple[str, dict[str, str]]] = []
    original_post = twilio.post

    async def recording_post(path: str, params: dict[str, str], **kwargs: object) -> object:
        if path.startswith("/conference/") and "/connect/" not in path:
            recorded.append((path, dict(params)))
        return await original_post(path, params, **kwargs)  # type: ignore[arg-type]

    twilio.post = recording_post  # type: ignore[method-assign]
    customer_sid, agent_leg, agent_sid = await twilio.connected_call()
    await twilio.conference(customer_sid, "participant-leave", agent_sid)
    await twilio.leg_status(agent_leg, agent_sid, "completed", CallDuration="30")
    await twilio.conference(
        customer_sid,
        "conference-end",
        ReasonConferenceEnded="participant-with-end-conference-on-exit-left",
        CallSidEndingConference=agent_sid,
    )
    await twilio.drain()
    twilio.post = original_post  # type: ignore[method-assign]
    before = await _state(app)

    replay = recorded * 2
    random.Random(7).shuffle(replay)
    for path, params in replay:
        response = await twilio.post(path, params)
        assert response.status_code in (200, 204), response.text
    await twilio.drain()

    assert await _state(app) == before
    assert before[0][1:] == ("completed", "agent1", "agent:agent1")


async def _state(app: FastAPI) -> list[tuple[object, ...]]:
    async with app.state.session_factory() as session:
        calls = list(await session.scalars(select(Call).order_by(Call.id)))
        legs = list(await session.scalars(select(CallLeg).order_by(CallLeg.id)))
    return [
        *((c.call_sid, c.status.value, c.owner_agent_id, c.ended_by) for c in calls),
        *((leg.call_sid, leg.status.value, leg.on_hold, leg.active_agent_id) for leg in legs),
    ]


@pytest.mark.parametrize("seed", [1, 4, 7, 11, 23])
async def test_a_whole_flow_shuffled_from_the_start_ends_as_in_order(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI, seed: int
) -> None:
    await agents.create("agent1")
    _, customer_sid = await twilio.customer_calls()
    await twilio.drain()
    _, leg_id, agent_sid = twilio.dialed()
    account = twilio.settings.account_sid
    conference_sid = sid("CF")

    def conference(
        event: str, seq: int, call_sid: str | None = None, **extra: str
    ) -> tuple[str, dict[str, str]]:
        params = {
            "AccountSid": account,
            "ConferenceSid": conference_sid,
            "FriendlyName": customer_sid,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(seq),
            **extra,
        }
        if call_sid:
            params["CallSid"] = call_sid
        return "/conference/status", params

    def leg(status: str, seq: int, **extra: str) -> tuple[str, dict[str, str]]:
        return f"/conference/legs/{leg_id}/status", {
            "AccountSid": account,
            "CallSid": agent_sid,
            "CallStatus": status,
            "SequenceNumber": str(seq),
            **extra,
        }

    callbacks = [
        conference("participant-join", 1, customer_sid),
        leg("initiated", 0),
        leg("ringing", 1),
        leg("in-progress", 2),
        conference("participant-join", 2, agent_sid),
        conference("conference-start", 3),
        conference("participant-leave", 4, agent_sid),
        leg("completed", 3, CallDuration="30"),
        conference("participant-leave", 5, customer_sid),
        conference(
            "conference-end",
            6,
            CallSidEndingConference=agent_sid,
            ReasonConferenceEnded="participant-with-end-conference-on-exit-left",
        ),
    ]
    random.Random(seed).shuffle(callbacks)
    for path, params in callbacks * 2:
        response = await twilio.post(path, params)
        assert response.status_code == 204, response.text
    await twilio.drain()

    [call, *_] = await _state(app)
    assert call[1:] == ("completed", "agent1", "agent:agent1")
    async with app.state.session_factory() as session:
        legs = list(await session.scalars(select(CallLeg).order_by(CallLeg.id)))
    assert [(leg.role.value, leg.status.value, leg.active_agent_id) for leg in legs] == [
        ("customer", "completed", None),
        ("agent", "completed", None),
    ]
    assert twilio.calls_create.call_count == 1  # nobody else was offered the call

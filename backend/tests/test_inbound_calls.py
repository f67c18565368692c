"""The voice webhook under concurrency: calls arriving together are recorded together (one
transaction for many), each exactly once, in the order recorded, each webhook told its own
outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from defusedxml import ElementTree
from fastapi import FastAPI
from sqlalchemy import event, select

from tests.factories import AgentFactory
from tests.twilio import TwilioDouble, sid
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole


@pytest.fixture
def commits(app: FastAPI) -> Iterator[list[None]]:
    """Every transaction committed on the app's writer engine."""
    seen: list[None] = []
    engine = app.state.engine.sync_engine

    def committed(_connection: object) -> None:
        seen.append(None)

    event.listen(engine, "commit", committed)
    yield seen
    event.remove(engine, "commit", committed)


async def calls_in_order(app: FastAPI) -> list[Call]:
    async with app.state.session_factory() as session:
        return list(await session.scalars(select(Call).order_by(Call.created_at, Call.id)))


async def test_calls_arriving_together_share_transactions_and_each_is_recorded_once(
    twilio: TwilioDouble, app: FastAPI, commits: list[None]
) -> None:
    sids = [sid("CA") for _ in range(40)]
    answers = await asyncio.gather(*(twilio.customer_calls(s) for s in sids))

    for (response, call_sid), expected in zip(answers, sids, strict=True):
        assert response.status_code == 200
        conference = ElementTree.fromstring(response.text).find("Dial/Conference")
        assert conference is not None and conference.text == expected == call_sid
    calls = await calls_in_order(app)
    assert sorted(call.call_sid for call in calls) == sorted(sids)
    # The queue's order (created_at) is the order the calls were recorded in (their ids).
    assert [call.id for call in calls] == sorted(call.id for call in calls)
    assert {call.status for call in calls} == {CallStatus.queued}
    async with app.state.session_factory() as session:
        legs = list(await session.scalars(select(CallLeg)))
    assert sorted((leg.call_sid, leg.role) for leg in legs) == sorted(
        (s, LegRole.customer) for s in sids
    )
    assert len(commits) < len(sids)  # group commits, not one transaction per webhook


async def test_the_same_call_posted_twice_at_once_is_one_call(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    call_sid = sid("CA")
    answers = await asyncio.gather(*(twilio.customer_calls(call_sid) for _ in range(5)))
    await twilio.drain()

    assert {response.status_code for response, _ in answers} == {200}
    assert len({response.text for response, _ in answers}) == 1
    assert [call.call_sid for call in await calls_in_order(app)] == [call_sid]
    assert twilio.calls_create.call_count == 1


async def test_one_of_our_own_legs_among_calls_arriving_together_is_refused_alone(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """An agent's leg posted to the number's webhook is a 409; the customers beside it are not
    held up or lost with it."""
    await agents.create("agent1")
    first_customer = sid("CA")
    await twilio.customer_calls(first_customer)
    await twilio.drain()
    _, _, agent_sid = twilio.dialed()

    customers = [sid("CA") for _ in range(6)]
    sids = [*customers[:3], agent_sid, *customers[3:]]
    answers = await asyncio.gather(*(twilio.customer_calls(s) for s in sids))

    statuses = {call_sid: response.status_code for response, call_sid in answers}
    assert statuses.pop(agent_sid) == 409
    assert set(statuses.values()) == {200}
    refused = next(response for response, call_sid in answers if call_sid == agent_sid)
    assert refused.json()["error"] == "call_sid_in_use"
    calls = [call.call_sid for call in await calls_in_order(app)]
    assert calls[0] == first_customer
    assert sorted(calls[1:]) == sorted(customers)


async def test_an_offer_follows_the_recording_without_the_webhook_waiting_for_it(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """Calls queued while agents were busy are offered oldest first once the dispatcher runs."""
    await agents.create("agent1")
    await agents.create("agent2")
    sids = [sid("CA") for _ in range(3)]
    for call_sid in sids:
        await twilio.customer_calls(call_sid)
    assert {call.status for call in await calls_in_order(app)} == {CallStatus.queued}

    await twilio.route()

    by_sid = {call.call_sid: call.status for call in await calls_in_order(app)}
    assert [by_sid[s] for s in sids] == [CallStatus.ringing, CallStatus.ringing, CallStatus.queued]

"""Five hundred customers calling at once with three agents: every call stored once, waiting
calls served in arrival order, and never two offers to one agent."""

from __future__ import annotations

import asyncio
from collections import Counter

from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import AgentFactory
from tests.twilio import TwilioDouble, form_of, sid
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole

CALLS = 500
AGENTS = ("agent1", "agent2", "agent3")


async def stored(app: FastAPI) -> tuple[list[Call], list[CallLeg]]:
    async with app.state.session_factory() as session:
        calls = list(await session.scalars(select(Call).order_by(Call.created_at, Call.id)))
        offers = list(await session.scalars(select(CallLeg).where(CallLeg.role == LegRole.agent)))
    return calls, offers


def assert_no_agent_offered_twice(offers: list[CallLeg]) -> None:
    """An agent's offer stays theirs (`active_agent_id`) until withdrawn or over."""
    live = Counter(leg.active_agent_id for leg in offers if leg.active_agent_id is not None)
    assert sorted(live) == sorted(AGENTS)
    assert set(live.values()) == {1}, live


async def test_500_calls_at_once_with_3_agents_all_stored_served_in_order_none_offered_twice(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    for agent_id in AGENTS:
        await agents.create(agent_id)
    sids = [sid("CA") for _ in range(CALLS)]

    responses = await asyncio.gather(*(twilio.customer_calls(call_sid) for call_sid in sids))
    await twilio.drain()

    assert {response.status_code for response, _ in responses} == {200}
    calls, offers = await stored(app)
    assert sorted(call.call_sid for call in calls) == sorted(sids)  # each stored, once
    assert sorted(leg.agent_id for leg in offers) == sorted(AGENTS)
    assert twilio.calls_create.call_count == len(AGENTS)
    waiting = [call for call in calls if call.status is CallStatus.queued]
    assert len(waiting) == CALLS - len(AGENTS)

    # The history's view of the queue: every waiting call once, newest first, across pages.
    headers = await agents.headers("agent1")
    listed: list[str] = []
    cursor: str | None = None
    while True:
        page = await twilio.client.get(
            "/api/calls",
            params={"status": "queued", "limit": 100, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert page.status_code == 200, page.text
        listed += [item["call_sid"] for item in page.json()["items"]]
        cursor = page.json().get("next_cursor")
        if not cursor:
            break
    assert listed == [call.call_sid for call in sorted(waiting, key=lambda c: -c.id)]

    # Three rounds of the offered customers hanging up: each time the three oldest waiting
    # calls are offered next, one to each agent.
    for round_ in range(3):
        ringing = [call for call in calls if call.status is CallStatus.ringing]
        assert len(ringing) == len(AGENTS)
        sent = twilio.calls_create.call_count
        for call in ringing:
            await twilio.conference(call.call_sid, "participant-leave", call.call_sid)
        await twilio.drain()
        dialed = [form_of(c.request) for c in twilio.calls_create.calls[sent:]]
        offered = {form["Url"][0].split("/")[-2] for form in dialed}
        oldest = waiting[round_ * 3 : round_ * 3 + 3]
        assert offered == {call.call_sid for call in oldest}
        assert sorted(form["To"][0] for form in dialed) == [f"client:{a}" for a in AGENTS]
        calls, offers = await stored(app)
        assert_no_agent_offered_twice(offers)

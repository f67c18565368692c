"""The console's event stream: who may open it, what it says, in what order."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.factories import AgentFactory
from tests.sse import serve, stream
from tests.twilio import CUSTOMER_NUMBER, TwilioDouble
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.agents.schemas import AgentOut
from warm_transfer.calls.models import Call, CallLeg, LegRole
from warm_transfer.db import utcnow
from warm_transfer.events.bus import INBOX_SIZE, Changes, EventBus
from warm_transfer.events.feed import DirectoryRead, SnapshotFeed


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url


async def test_a_ticket_is_needed_and_only_a_ticket_works(
    server: str, agents: AgentFactory, client: httpx.AsyncClient
) -> None:
    await agents.create("agent1")
    access_token = await agents.login("agent1")
    assert (await client.post("/api/events/ticket")).status_code == 401
    async with httpx.AsyncClient(base_url=server) as http:
        missing = await http.get("/api/events")
        forged = await http.get("/api/events", params={"ticket": "not-a-ticket"})
        login_token = await http.get("/api/events", params={"ticket": access_token})
    assert missing.status_code == 422
    assert (forged.status_code, forged.json()["error"]) == (401, "not_authenticated")
    assert login_token.status_code == 401  # the long-lived token is refused in a URL


async def test_the_stream_opens_with_a_snapshot_and_brings_the_agent_online(
    server: str, agents: AgentFactory
) -> None:
    await agents.create("agent1", online=False)
    await agents.create("agent2", online=False)
    async with stream(server, agents, "agent1") as events:
        hello = await events.next()
        directory = await events.next()
        queue = await events.next()
    assert (hello.name, hello.id) == ("hello", "1")
    assert hello.data["me"]["id"] == "agent1"
    assert directory.name == "directory"
    presence = {agent["id"]: agent["presence"] for agent in directory.data["agents"]}
    assert presence == {"agent1": "available", "agent2": "offline"}
    # Serialized from rows, not models: still exactly what the schema documents (the same keys,
    # values and JSON types: `on_call` a boolean, not SQLite's 0 or 1).
    for agent in directory.data["agents"]:
        documented = AgentOut.model_validate(agent).model_dump(mode="json")
        assert [(key, value, type(value)) for key, value in agent.items()] == [
            (key, value, type(value)) for key, value in documented.items()
        ]
    assert (queue.name, queue.data) == ("queue", {"calls": []})


async def test_an_offer_and_its_progress_reach_the_agent_in_order(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    await agents.create("agent1")
    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        _, customer_sid = await twilio.customer_calls()
        await twilio.route()
        offered = await events.until("call")
        assert offered.data["call"]["status"] == "ringing"
        assert offered.data["call"]["from_number"] == CUSTOMER_NUMBER
        assert offered.data["call"]["legs"][1]["agent_id"] == "agent1"

        await twilio.conference(customer_sid, "participant-join", customer_sid)
        await twilio.drain()
        await twilio.agent_answers(customer_sid)
        answered = await events.until("call", lambda d: d["call"]["status"] == "in_progress")
        assert int(answered.id or 0) > int(offered.id or 0)
        assert answered.data["call"]["owner_agent_id"] == "agent1"

        await twilio.conference(customer_sid, "participant-leave", customer_sid)
        ended = await events.until("call", lambda d: d["call"]["status"] == "completed")
        assert ended.data["call"]["ended_by"] == "customer"


async def test_the_offered_agent_sees_the_dial_placed_before_any_callback(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    """Twilio's answer to the dial names the call it placed: the agent's leg has its CallSid and
    is queued at Twilio, and the console hears so without waiting for a status callback."""
    await agents.create("agent1")
    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        await twilio.customer_calls()
        await twilio.route()
        await events.until("call")  # offered: dialing
        await twilio.drain()
        _, _, placed = twilio.dialed()

        def agent_leg_placed(data: Any) -> bool:
            leg = data["call"]["legs"][1]
            return bool(leg["call_sid"] == placed and leg["status"] == "queued")

        await events.until("call", agent_leg_placed)


async def test_the_target_sees_who_is_transferring_to_them(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    await agents.create("agent1")
    _customer_sid, _, _ = await twilio.connected_call()
    await agents.create("agent2")
    call_id = (
        await twilio.client.get("/api/calls", headers=await agents.headers("agent1"))
    ).json()["items"][0]["id"]
    async with stream(server, agents, "agent2") as events:
        await events.until("queue")
        response = await twilio.client.post(
            f"/api/calls/{call_id}/transfers",
            json={"to_agent_id": "agent2"},
            headers=await agents.headers("agent1"),
        )
        assert response.status_code == 201
        offered = await events.until("call", lambda d: bool(d["call"]["transfers"]))
    transfer = offered.data["call"]["transfers"][0]
    assert (transfer["from_agent_id"], transfer["to_agent_id"]) == ("agent1", "agent2")
    assert offered.data["call"]["from_number"] == CUSTOMER_NUMBER


async def test_others_see_availability_change_and_waiting_calls(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    await agents.create("agent1", availability=Availability.away)
    await agents.create("agent2", availability=Availability.away)
    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        for availability in ("available", "away"):
            await twilio.client.put(
                "/api/agents/me/availability",
                json={"availability": availability},
                headers=await agents.headers("agent2"),
            )
            await events.until_directory(
                lambda agents, want=availability: agents["agent2"]["presence"] == want
            )
        await twilio.customer_calls()  # nobody is available: it waits
        queue = await events.until("queue", lambda d: bool(d["calls"]))
    assert queue.data["calls"][0]["from_number"] == CUSTOMER_NUMBER
    assert queue.data["calls"][0]["status"] == "queued"


async def test_others_see_an_agent_busy_once_offered_a_call_and_free_after_it(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    await agents.create("agent1")
    await agents.create("agent2", availability=Availability.away)

    def presence_of_agent1(is_: str) -> Any:
        return lambda agents: agents["agent1"]["presence"] == is_

    async with stream(server, agents, "agent2") as events:
        await events.until_directory(presence_of_agent1("available"))
        _, customer_sid = await twilio.customer_calls()
        await twilio.route()  # offered (the dial not even sent yet): agent1 is taken
        await events.until_directory(presence_of_agent1("busy"))
        await twilio.conference(customer_sid, "conference-end")
        await events.until_directory(presence_of_agent1("available"))


async def test_a_change_is_read_once_however_many_streams_are_open(
    server: str, agents: AgentFactory, twilio: TwilioDouble, app: FastAPI
) -> None:
    for agent_id in ("agent1", "agent2", "agent3", "agent4"):
        await agents.create(agent_id, availability=Availability.away)
    async with contextlib.AsyncExitStack() as streams:
        watchers = [
            await streams.enter_async_context(stream(server, agents, agent_id))
            for agent_id in ("agent1", "agent2", "agent3")
        ]
        for events in watchers:
            await events.until("queue")
        reads = app.state.snapshot_feed.reads

        await twilio.client.put(
            "/api/agents/me/availability",
            json={"availability": "available"},
            headers=await agents.headers("agent4"),
        )
        for events in watchers:
            await events.until_directory(lambda agents: agents["agent4"]["presence"] == "available")
    assert app.state.snapshot_feed.reads == reads + 1


async def test_after_the_first_directory_a_presence_change_sends_only_the_agents_changed(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    """A thousand-agent directory is not sent to every console for each change: once a stream
    has a directory the feed's changes are relative to, it gets the changed entries alone."""
    for agent_id in ("agent1", "agent2", "agent3", "agent4"):
        await agents.create(agent_id, availability=Availability.away)

    async def choose(agent_id: str, availability: str) -> None:
        response = await twilio.client.put(
            "/api/agents/me/availability",
            json={"availability": availability},
            headers=await agents.headers(agent_id),
        )
        assert response.status_code == 200

    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        await choose("agent2", "available")  # whole or not: the stream opened with its own read
        await events.until_directory(lambda agents: agents["agent2"]["presence"] == "available")
        whole = dict(events.directory)
        await choose("agent3", "available")
        changed = await events.next()
        while changed.name not in ("directory", "agents"):
            changed = await events.next()
        assert changed.name == "agents"
        # Exactly AgentOut's fields, as the whole directory has them.
        assert changed.data["agents"] == [
            {**whole["agent3"], "availability": "available", "presence": "available"}
        ]
        await choose("agent3", "away")
        await choose("agent4", "available")
        directory = await events.until_directory(
            lambda agents: (
                agents["agent3"]["presence"] == "away"
                and agents["agent4"]["presence"] == "available"
            )
        )
    assert {agent_id: entry["presence"] for agent_id, entry in directory.items()} == {
        "agent1": "away",
        "agent2": "available",
        "agent3": "away",
        "agent4": "available",
    }


def test_a_stream_gets_the_changes_only_from_the_directory_they_are_relative_to() -> None:
    """The changes hold since the feed's read before; a stream that showed another directory
    (its own opening read, a reconnect) would miss a change undone in between: it gets the
    whole directory, and the changes from then on."""
    entry = {
        "id": "agent1",
        "name": "A",
        "availability": "away",
        "presence": "away",
        "on_call": False,
    }
    first = DirectoryRead(version=1, listing=[entry], before=None)
    back = {**entry, "availability": "available", "presence": "available"}
    second = DirectoryRead(version=2, listing=[back, {**entry, "id": "agent2"}], before=first)
    unchanged = DirectoryRead(version=3, listing=[back, {**entry, "id": "agent2"}], before=second)
    gone = DirectoryRead(version=4, listing=[back], before=unchanged)

    assert first.event_after(None) is first.whole  # no read before: whole for everyone
    assert second.event_after(1) is second.changed  # agent1 changed, agent2 new
    assert json.loads(second.changed.raw_data or "")["agents"] == [back, {**entry, "id": "agent2"}]
    for shown in (None, 0, 2):  # an own read, an older one, a newer one
        assert second.event_after(shown) is second.whole
    assert unchanged.event_after(2) is None  # nothing changed: nothing sent
    assert gone.event_after(3) is gone.whole  # an agent gone: only the whole can say it
    assert json.loads(gone.whole.raw_data or "")["agents"] == [back]


async def test_an_available_agent_whose_console_comes_back_is_offered_the_waiting_call(
    server: str, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    """Available, but the console was closed: a call waits rather than ring an empty desk.
    When the console opens its stream again, the agent is free and the call is offered."""
    await agents.create("agent1", online=False)
    await twilio.customer_calls()
    await twilio.drain()
    assert twilio.calls_create.calls.call_count == 0
    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        await twilio.drain()
    form, _, _ = twilio.dialed()
    assert (twilio.calls_create.calls.call_count, form["To"]) == (1, ["client:agent1"])


async def test_a_console_heard_from_again_after_the_grace_is_offered_the_waiting_call(
    server: str,
    agents: AgentFactory,
    twilio: TwilioDouble,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stream stayed open but the console went quiet past the grace (a laptop asleep), so
    a call waits; the next heartbeat brings the agent back online and the call is offered."""
    from warm_transfer.events import router

    monkeypatch.setattr(router, "HEARTBEAT_SECONDS", 0.2)
    await agents.create("agent1")
    async with stream(server, agents, "agent1") as events:
        await events.until("queue")
        async with app.state.session_factory() as session, session.begin():
            asleep = utcnow() - timedelta(hours=1)
            await session.execute(update(Agent).values(last_seen_at=asleep))
        await twilio.customer_calls()
        await twilio.drain()
        assert twilio.calls_create.calls.call_count == 0
        # The heartbeat offered the call: the directory shows the agent busy with it.
        await events.until_directory(lambda agents: agents["agent1"]["presence"] == "busy")
        await twilio.drain()
    form, _, _ = twilio.dialed()
    assert (twilio.calls_create.calls.call_count, form["To"]) == (1, ["client:agent1"])


async def test_a_changed_call_is_read_only_for_the_agents_watching_it(
    app: FastAPI, agents: AgentFactory
) -> None:
    """A burst of customers mostly queues: calls no open stream's agent is on are not read (the
    queue's event shows them); a call a watching agent is on still reaches that agent."""
    for agent_id in ("agent1", "agent2"):
        await agents.create(agent_id)
    async with app.state.session_factory() as session, session.begin():
        calls = [
            Call(call_sid=sid, conference_name=sid, from_number=CUSTOMER_NUMBER, to_number="+1")
            for sid in ("CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32)
        ]
        session.add_all(calls)
        await session.flush()
        watched, unwatched, queued = calls
        session.add_all(
            CallLeg(call_id=call.id, role=LegRole.agent, agent_id=agent_id)
            for call, agent_id in ((watched, "agent1"), (unwatched, "agent2"))
        )
    bus = EventBus()
    feed = SnapshotFeed(bus=bus, sessions=app.state.read_session_factory, grace_seconds=60)
    running = asyncio.create_task(feed.run())
    try:
        async with feed.watch("agent1") as inbox:
            await asyncio.sleep(0)  # the feed subscribes to the bus
            bus.publish(Changes(calls=frozenset(call.id for call in calls)))
            update = await asyncio.wait_for(inbox.get(), 5)
    finally:
        running.cancel()
    assert [call.agent_ids for call in update.calls] == [{"agent1"}]
    [call_event] = [
        e for e in update.events_for("agent1", directory_shown=None) if e.event == "call"
    ]
    assert json.loads(call_event.raw_data or "")["call"]["id"] == watched.id
    assert update.queue is not None
    queue = json.loads(update.queue.raw_data or "")
    assert [c["id"] for c in queue["calls"]] == [watched.id, unwatched.id, queued.id]


async def test_a_backlog_of_change_notices_folds_into_one_naming_them_all() -> None:
    """A reader behind under a burst of commits reads each changed call once; no stream has to
    start over (which re-read everything for every console, and made the burst worse)."""
    bus = EventBus()
    async with bus.subscribe() as inbox:
        for call_id in range(1, INBOX_SIZE + 2):
            bus.publish(Changes(calls=frozenset({call_id}), agents=call_id == 7))
        assert inbox.qsize() == 1
        backlog = inbox.get_nowait()
    assert backlog == Changes(calls=frozenset(range(1, INBOX_SIZE + 2)), agents=True)

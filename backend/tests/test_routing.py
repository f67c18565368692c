"""Who is offered a new call, and the durable dial behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, update

from tests.conftest import TEST_DATABASE_URL, make_settings
from tests.factories import AgentFactory
from tests.twilio import TwilioDouble, form_of
from warm_transfer.agents import service as agents_service
from warm_transfer.agents.models import Agent, Availability
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegStatus
from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job, JobStatus
from warm_transfer.main import create_app
from warm_transfer.routing.service import offer_waiting_calls


async def dialed_agents(twilio: TwilioDouble) -> list[str]:
    return [form_of(call.request)["To"][0] for call in twilio.calls_create.calls]


async def idle_for(app: FastAPI, minutes: dict[str, int], **values: Any) -> None:
    """Each agent idle for so many minutes (and any other column set as given)."""
    async with app.state.session_factory() as session, session.begin():
        now = utcnow()
        for agent_id, idle in minutes.items():
            await session.execute(
                update(Agent)
                .where(Agent.id == agent_id)
                .values(idle_since=now - timedelta(minutes=idle), **values)
            )


async def status_of(app: FastAPI, call_sid: str) -> CallStatus | None:
    async with app.state.session_factory() as session:
        return await session.scalar(select(Call.status).where(Call.call_sid == call_sid))


@contextmanager
def statements_run(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block, whitespace collapsed."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_longest_idle_available_agent_is_offered_first(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    for agent_id in ("agent1", "agent2", "agent3"):
        await agents.create(agent_id)
    await idle_for(app, {"agent1": 5, "agent2": 30, "agent3": 10})
    await twilio.customer_calls()
    await twilio.drain()
    assert await dialed_agents(twilio) == ["client:agent2"]


async def test_an_agent_whose_call_ended_is_idle_from_then_and_waits_behind_the_others(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """agent1 has been idle longest and takes the first call; once it ends, agent1's idle time
    starts over, so the next call goes to agent2, idle for a minute all along."""
    for agent_id in ("agent1", "agent2"):
        await agents.create(agent_id)
    await idle_for(app, {"agent1": 30, "agent2": 1})
    customer_sid, _, _ = await twilio.connected_call()
    assert await dialed_agents(twilio) == ["client:agent1"]
    await twilio.conference(customer_sid, "conference-end", CallSidEndingConference=customer_sid)
    await twilio.drain()
    async with app.state.session_factory() as session:
        idle = dict((await session.execute(select(Agent.id, Agent.idle_since))).all())
    assert idle["agent1"] > idle["agent2"] + timedelta(seconds=59)

    await twilio.customer_calls()
    await twilio.drain()
    assert await dialed_agents(twilio) == ["client:agent1", "client:agent2"]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL only")
async def test_a_pass_for_one_free_agent_leaves_the_other_waiting_calls_unlocked(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """One agent frees up while five calls wait: the pass offers the oldest and locks no other,
    so their own callbacks (the customer joining, hanging up) do not wait for it to commit."""
    await agents.create("agent1", availability=Availability.away)
    sids = [(await twilio.customer_calls())[1] for _ in range(5)]
    await twilio.route()
    await idle_for(app, {"agent1": 5}, availability=Availability.available)
    async with app.state.session_factory() as routing, routing.begin():
        assert await offer_waiting_calls(routing, voice=app.state.voice) == 1
        async with app.state.engine.connect() as callback:
            for call_sid in sids[1:]:  # held by the uncommitted pass, this would fail at once
                await callback.execute(
                    select(Call.id).where(Call.call_sid == call_sid).with_for_update(nowait=True)
                )
    assert [await status_of(app, call_sid) for call_sid in sids] == [
        CallStatus.ringing,
        *[CallStatus.queued] * 4,
    ]


async def test_waiting_calls_are_offered_as_a_batch_oldest_call_to_longest_idle_agent(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """Five calls wait, three agents turn free: one pass pairs them in order and stores the
    three legs together; the two youngest calls keep waiting."""
    for agent_id in ("agent1", "agent2", "agent3"):
        await agents.create(agent_id, availability=Availability.away)
    sids = [(await twilio.customer_calls())[1] for _ in range(5)]
    await twilio.route()
    await idle_for(
        app, {"agent1": 5, "agent2": 30, "agent3": 10}, availability=Availability.available
    )
    with statements_run(app) as statements:
        app.state.dispatcher.wake()
        assert await app.state.dispatcher.run_pending() == 3
    leg_inserts = [s for s in statements if s.startswith("INSERT INTO call_legs")]
    assert len(leg_inserts) == 1

    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(Call.call_sid, Call.status, CallLeg.agent_id)
            .outerjoin(CallLeg, (CallLeg.call_id == Call.id) & (CallLeg.agent_id.is_not(None)))
            .order_by(Call.id)
        )
        offers = [(call_sid, status, agent_id) for call_sid, status, agent_id in rows]
    assert offers == [
        (sids[0], CallStatus.ringing, "agent2"),
        (sids[1], CallStatus.ringing, "agent3"),
        (sids[2], CallStatus.ringing, "agent1"),
        (sids[3], CallStatus.queued, None),
        (sids[4], CallStatus.queued, None),
    ]
    await twilio.drain()
    assert await dialed_agents(twilio) == ["client:agent2", "client:agent3", "client:agent1"]


async def test_dial_jobs_claimed_together_read_their_legs_in_one_query(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """Three offers, three dial jobs: the worker's claim reads the three legs (and calls) at once
    instead of one query per job, and still dials each agent once."""
    for agent_id in ("agent1", "agent2", "agent3"):
        await agents.create(agent_id)
    for _ in range(3):
        await twilio.customer_calls()
    await twilio.route()
    with statements_run(app) as statements:
        assert await app.state.job_worker.run_once() == 3
    leg_reads = [s for s in statements if s.startswith("SELECT") and "FROM call_legs" in s]
    assert len(leg_reads) == 1
    await twilio.drain()
    assert sorted(await dialed_agents(twilio)) == [
        "client:agent1",
        "client:agent2",
        "client:agent3",
    ]


async def test_an_agent_taken_by_another_replica_mid_batch_falls_back_to_one_call_at_a_time(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between reading the free agents and storing the legs, another replica offered agent1 a
    call: that offer is not stored, the rest of the batch is, and its call is offered on its own
    to who is free."""
    from warm_transfer.agents import repository as agents_repository

    for agent_id in ("agent1", "agent2", "agent3"):
        await agents.create(agent_id)
    await twilio.connected_call()  # agent1 (longest idle) is on a call
    for _ in range(2):
        await twilio.customer_calls()
    real_free_agents = agents_repository.free_agents
    stale: list[bool] = []

    async def free_agents_read_before_the_other_offer(session: Any, **kwargs: Any) -> Any:
        found = list(await real_free_agents(session, **kwargs))
        if not stale and kwargs["limit"] > 1:
            stale.append(True)
            found.insert(0, await session.get(Agent, "agent1"))  # as it was a moment ago
        return found

    monkeypatch.setattr(agents_repository, "free_agents", free_agents_read_before_the_other_offer)
    await twilio.drain()

    assert stale == [True]
    assert sorted(await dialed_agents(twilio)) == [
        "client:agent1",
        "client:agent2",
        "client:agent3",
    ]
    async with app.state.session_factory() as session:
        statuses = list(await session.scalars(select(Call.status).order_by(Call.id)))
    assert statuses == [CallStatus.in_progress, CallStatus.ringing, CallStatus.ringing]


@pytest.mark.parametrize("held", ["agent", "call"])
async def test_a_call_and_agent_kept_apart_by_a_row_lock_are_paired_once_it_is_released(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI, held: str
) -> None:
    """PostgreSQL: a pass skips rows another transaction holds. A call waits beside a free
    agent, but one of the two rows is held by a transaction that has not committed (the
    agent's: a console's heartbeat; the call's: the conference callback of the customer
    joining). The pass offers nothing, and nothing else would wake routing: it leaves a job
    that looks again and offers the call."""
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: no pass skips a locked row")
    await agents.create("agent1", availability=Availability.away)
    _, sid = await twilio.customer_calls()
    await twilio.route()
    await idle_for(app, {"agent1": 5}, availability=Availability.available)

    async with app.state.session_factory() as other, other.begin():
        if held == "agent":
            hold = update(Agent).where(Agent.id == "agent1").values(last_seen_at=utcnow())
        else:
            hold = update(Call).where(Call.call_sid == sid).values(conference_sid=sid)
        await other.execute(hold)
        app.state.dispatcher.wake()
        assert await app.state.dispatcher.run_pending() == 0
        async with app.state.session_factory() as session:
            retries = list(
                await session.scalars(select(Job).where(Job.kind == "offer_waiting_calls"))
            )
        assert [(job.status, job.run_after > utcnow()) for job in retries] == [
            (JobStatus.pending, True)
        ]

    await twilio.drain_later()
    assert await dialed_agents(twilio) == ["client:agent1"]
    assert await status_of(app, sid) is CallStatus.ringing


async def test_a_call_recorded_while_an_agent_turns_free_is_offered_whichever_commits_first(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """PostgreSQL: agent1 goes available, and that transaction's pass finds no call; before it
    commits, a call is recorded and the dispatcher's pass runs. Neither saw the other's change:
    without passes taking turns, the call would wait beside a free agent with nothing to wake
    routing. The dispatcher's pass waits for the other to commit, then offers the call."""

    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: passes cannot overlap")
    await agents.create("agent1", availability=Availability.away)
    async with app.state.session_factory() as going_available, going_available.begin():
        agent = await going_available.get(Agent, "agent1")
        assert agent is not None
        await agents_service.set_availability(
            going_available,
            agent=agent,
            availability=Availability.available,
            voice=app.state.voice,
        )
        await twilio.customer_calls()
        dispatcher_pass = asyncio.create_task(app.state.dispatcher.run_pending())
        await asyncio.sleep(0.3)
    assert await dispatcher_pass == 1
    await twilio.drain()
    assert await dialed_agents(twilio) == ["client:agent1"]


async def test_a_pass_that_pairs_everything_it_can_leaves_no_retry(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """The look-again job is for locks only: agents left with no call, or calls left waiting for
    want of agents, leave none, or a busy contact center would run a pass every tenth of a
    second."""

    async def look_again_jobs() -> int:
        async with app.state.session_factory() as session:
            kinds = list(await session.scalars(select(Job.kind)))
        return kinds.count("offer_waiting_calls")

    await agents.create("agent1")
    await agents.create("agent2")
    await twilio.customer_calls()
    await twilio.drain()  # one call, two free agents: one is left free
    assert len(await dialed_agents(twilio)) == 1
    assert await look_again_jobs() == 0

    for _ in range(2):
        await twilio.customer_calls()
    await twilio.drain()  # two calls, one free agent: one call is left waiting
    assert sorted(await dialed_agents(twilio)) == ["client:agent1", "client:agent2"]
    assert await look_again_jobs() == 0


async def test_away_and_busy_agents_are_not_offered_calls(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1", availability=Availability.away)
    await agents.create("agent2")
    await twilio.connected_call()  # agent2 takes it
    _, waiting_sid = await twilio.customer_calls()
    await twilio.drain()

    assert await dialed_agents(twilio) == ["client:agent2"]
    assert await status_of(app, waiting_sid) is CallStatus.queued


async def test_a_missed_offer_moves_to_the_next_agent(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    await agents.create("agent2")
    await twilio.customer_calls()
    await twilio.drain()
    _, leg_id, agent_sid = twilio.dialed()
    first = (await dialed_agents(twilio))[0]

    await twilio.leg_status(leg_id, agent_sid, "ringing")
    await twilio.leg_status(leg_id, agent_sid, "no-answer")
    await twilio.drain()

    dialed = await dialed_agents(twilio)
    assert len(dialed) == 2
    assert dialed[1] != first
    # Who let it ring out is set away, so calls stop going to an empty desk.
    missed = first.removeprefix("client:")
    me = await twilio.client.get("/api/me", headers=await agents.headers(missed))
    assert me.json()["availability"] == "away"


async def test_a_declined_offer_moves_on_and_the_agent_stays_available(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    await agents.create("agent2")
    await twilio.customer_calls()
    await twilio.drain()
    _, leg_id, agent_sid = twilio.dialed()
    first = (await dialed_agents(twilio))[0].removeprefix("client:")

    await twilio.leg_status(leg_id, agent_sid, "busy")  # the browser rejected the invite
    await twilio.drain()

    assert len(await dialed_agents(twilio)) == 2
    me = await twilio.client.get("/api/me", headers=await agents.headers(first))
    assert me.json()["presence"] == "available"


async def test_going_available_offers_the_oldest_waiting_call(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1", availability=Availability.away)
    _, oldest = await twilio.customer_calls()
    await twilio.customer_calls()

    response = await twilio.client.put(
        "/api/agents/me/availability",
        json={"availability": "available"},
        headers=await agents.headers("agent1"),
    )
    await twilio.drain()

    assert response.status_code == 200
    assert response.json()["presence"] == "busy"
    form, _, _ = twilio.dialed()
    assert twilio.calls_create.call_count == 1
    assert form["Url"][0].endswith(f"/conference/connect/{oldest}/agent1")


async def test_bad_availability_is_422(twilio: TwilioDouble, agents: AgentFactory) -> None:
    await agents.create("agent1")
    response = await twilio.client.put(
        "/api/agents/me/availability",
        json={"availability": "on-vacation"},
        headers=await agents.headers("agent1"),
    )
    assert response.status_code == 422


async def test_finishing_a_call_offers_the_next_waiting_one(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    customer_sid, _leg_id, agent_sid = await twilio.connected_call()
    _, waiting_sid = await twilio.customer_calls()
    await twilio.conference(customer_sid, "participant-leave", agent_sid)
    await twilio.drain()

    assert twilio.calls_create.call_count == 2
    form, _, _ = twilio.dialed()
    assert form["Url"][0].endswith(f"/conference/connect/{waiting_sid}/agent1")


async def test_a_failed_dial_is_offered_to_the_next_agent(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    await agents.create("agent2")
    responses = iter([400, 201])

    original = twilio.calls_create.side_effect

    def first_fails(request: httpx.Request) -> httpx.Response:
        if next(responses) == 400:
            return httpx.Response(400, json={"code": 21217, "message": "bad"})
        return original(request)

    twilio.calls_create.side_effect = first_fails
    await twilio.customer_calls()
    await twilio.drain()

    dialed = await dialed_agents(twilio)
    assert len(dialed) == 2 and dialed[0] != dialed[1]
    async with app.state.session_factory() as session:
        statuses = [
            leg.status for leg in await session.scalars(select(CallLeg).order_by(CallLeg.id))
        ]
    assert statuses == [LegStatus.in_progress, LegStatus.failed, LegStatus.queued]


async def test_rate_limited_dial_is_retried_and_sent_once(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """A 429 means Twilio placed no call: retrying is safe (unlike after a 5xx)."""
    await agents.create("agent1")
    original = twilio.calls_create.side_effect
    attempts = iter([429, 201])

    def limited(request: httpx.Request) -> httpx.Response:
        if next(attempts) == 429:
            return httpx.Response(429, json={"code": 20429, "message": "Too Many"})
        return original(request)

    twilio.calls_create.side_effect = limited
    await twilio.customer_calls()
    await twilio.drain()
    async with app.state.session_factory() as session, session.begin():
        await session.execute(update(Job).values(run_after=utcnow()))  # skip the backoff wait
    await twilio.drain()

    assert twilio.calls_create.call_count == 2
    async with app.state.session_factory() as session:
        [job] = list(await session.scalars(select(Job)))
        [leg] = list(await session.scalars(select(CallLeg).where(CallLeg.agent_id == "agent1")))
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    assert leg.status is LegStatus.queued


async def test_a_5xx_on_dial_is_never_retried(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    twilio.calls_create.side_effect = None
    twilio.calls_create.respond(503, json={"code": 20503, "message": "Unavailable"})
    await twilio.customer_calls()
    await twilio.drain()
    await twilio.drain()

    assert twilio.calls_create.call_count == 1
    async with app.state.session_factory() as session:
        [job] = list(await session.scalars(select(Job).where(Job.kind == "dial_agent")))
    assert job.status is JobStatus.failed


async def test_a_dial_queued_before_a_restart_is_sent_after_it(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI, tmp_path: Path
) -> None:
    """The process stops after the call was offered but before the dial went out."""
    await agents.create("agent1")
    await twilio.customer_calls()
    await twilio.route()
    assert twilio.calls_create.call_count == 0  # nothing sent yet; the job is in the database

    restarted = create_app(make_settings(tmp_path), run_worker=True)
    async with restarted.router.lifespan_context(restarted):
        await restarted.state.job_worker.drain()

    assert twilio.calls_create.call_count == 1
    assert form_of(twilio.calls_create.calls.last.request)["To"] == ["client:agent1"]


async def test_a_call_recorded_but_not_yet_offered_before_a_restart_is_offered_after_it(
    twilio: TwilioDouble, agents: AgentFactory, tmp_path: Path
) -> None:
    """The process stops after the webhook answered but before the dispatcher's pass."""
    await agents.create("agent1")
    await twilio.customer_calls()

    restarted = create_app(make_settings(tmp_path), run_worker=False)
    async with restarted.router.lifespan_context(restarted):
        assert await restarted.state.dispatcher.run_pending() == 1  # its pass at start-up
        assert await restarted.state.dispatcher.run_pending() == 0  # and nothing else woke it
        await restarted.state.job_worker.drain()

    assert twilio.calls_create.call_count == 1
    assert form_of(twilio.calls_create.calls.last.request)["To"] == ["client:agent1"]


async def test_a_dial_interrupted_mid_request_is_failed_over_not_resent(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    """A worker died after claiming a dial: Twilio may have placed it, so it is not sent again;
    the offer is withdrawn and the call offered anew."""
    await agents.create("agent1")
    await agents.create("agent2")
    await twilio.customer_calls()
    await twilio.route()
    async with app.state.session_factory() as session, session.begin():
        await session.execute(
            update(Job).values(status=JobStatus.running, claimed_at=utcnow() - timedelta(hours=1))
        )

    await app.state.job_worker.reclaim_expired()
    await twilio.drain()

    async with app.state.session_factory() as session:
        legs = list(await session.scalars(select(CallLeg).where(CallLeg.agent_id.is_not(None))))
    assert [leg.status for leg in legs] == [LegStatus.failed, LegStatus.queued]
    assert twilio.calls_create.call_count == 1
    assert form_of(twilio.calls_create.calls.last.request)["To"] == [f"client:{legs[1].agent_id}"]

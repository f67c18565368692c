"""Two backend processes on one PostgreSQL database, as behind a load balancer: live events
cross replicas, and queued work is claimed by exactly one of them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL, scratch_database
from tests.processes import (
    FakeTwilio,
    customer_calls,
    login,
    migrate,
    server_environment,
    start_server,
    wait_ready,
)
from tests.sse import EventReader, serve
from tests.twilio import sid

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (make test does)"
)


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with scratch_database("wt_replicas") as url:
        yield url


@pytest.fixture
async def twilio_api() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
async def replicas(database: str, twilio_api: tuple[FakeTwilio, str]) -> AsyncIterator[list[str]]:
    environment = server_environment(database, twilio_api[1])
    migrate(environment)
    servers = [start_server(environment) for _ in range(2)]
    try:
        for _, url in servers:
            await wait_ready(url)
        yield [url for _, url in servers]
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(timeout=30)


@contextlib.asynccontextmanager
async def _stream(url: str, headers: dict[str, str]) -> AsyncIterator[EventReader]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ticket = (await http.post("/api/events/ticket", headers=headers)).json()["ticket"]
        async with http.stream("GET", "/api/events", params={"ticket": ticket}) as response:
            assert response.status_code == 200
            yield EventReader(response)


async def test_a_webhook_on_one_replica_reaches_a_stream_on_the_other(
    replicas: list[str], twilio_api: tuple[FakeTwilio, str]
) -> None:
    replica_a, replica_b = replicas
    async with httpx.AsyncClient(base_url=replica_a) as a:
        headers = await login(a, "agent1")
        await a.put(
            "/api/agents/me/availability", json={"availability": "available"}, headers=headers
        )
        async with _stream(replica_b, headers) as events:
            await events.until("queue")
            call_sid = sid("CA")
            assert (await customer_calls(a, call_sid)).status_code == 200
            offered = await events.until(
                "call", lambda d: d["call"]["call_sid"] == call_sid, timeout=10
            )
    assert offered.data["call"]["status"] == "ringing"
    assert offered.data["call"]["legs"][1]["agent_id"] == "agent1"


async def test_a_hundred_calls_across_replicas_two_agents_each_offered_once(
    replicas: list[str], twilio_api: tuple[FakeTwilio, str], database: str
) -> None:
    fake = twilio_api[0]
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for url in replicas
        ]
        for agent, http in zip(("agent1", "agent2"), clients, strict=True):
            headers = await login(http, agent)
            await http.put(
                "/api/agents/me/availability", json={"availability": "available"}, headers=headers
            )
            events = await stack.enter_async_context(_stream(http.base_url.__str__(), headers))
            await events.until("queue")  # the console is open: the agent is online
        sids = [sid("CA") for _ in range(100)]
        responses = await asyncio.gather(
            *(
                customer_calls(http, call_sid)
                for http, call_sid in zip(itertools.cycle(clients), sids, strict=False)
            )
        )
        assert {response.status_code for response in responses} == {200}
        for _ in range(100):  # the dials are queued work: wait for both to go out
            if len(fake.created) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # and give a duplicate the chance to show up

    engine = create_async_engine(database)
    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT count(DISTINCT call_sid) FROM calls"))
        rows = await connection.scalar(text("SELECT count(*) FROM calls"))
        offers = (
            (await connection.execute(text("SELECT agent_id FROM call_legs WHERE role = 'agent'")))
            .scalars()
            .all()
        )
    await engine.dispose()
    assert (stored, rows) == (100, 100)
    assert sorted(offers) == ["agent1", "agent2"]
    assert sorted(form["To"] for form in fake.created) == ["client:agent1", "client:agent2"]

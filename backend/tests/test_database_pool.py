"""The app's PostgreSQL connections: a fixed pool, kept through bursts, and statements planned
with their parameters' values however often a connection has run them."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from tests.conftest import TEST_DATABASE_URL, make_settings
from tests.factories import AgentFactory
from tests.sse import serve, stream
from tests.twilio import TwilioDouble
from warm_transfer.calls.models import CallStatus
from warm_transfer.config import Settings
from warm_transfer.db import create_engine

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (make test does)"
)


POOL_SIZE = 2


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_pool_size=POOL_SIZE)


async def test_a_burst_beyond_the_pool_waits_for_its_connections_and_opens_or_closes_none(
    app: FastAPI,
) -> None:
    pool = app.state.engine.sync_engine.pool
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(pool, "connect", lambda connection, _record: opened.append(connection))
    event.listen(pool, "close", lambda connection, _record: closed.append(connection))

    async def transaction() -> int:
        async with app.state.session_factory() as session, session.begin():
            await session.execute(text("SELECT pg_sleep(0.05)"))
            return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)

    for _ in range(2):  # two bursts of five times the pool
        backends = await asyncio.gather(*(transaction() for _ in range(5 * POOL_SIZE)))
        assert len(set(backends)) <= POOL_SIZE
    assert len(opened) <= POOL_SIZE
    assert closed == []


async def test_open_event_streams_hold_no_connection_while_they_wait(
    app: FastAPI, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    """More consoles streaming than the pool has connections: webhooks and requests still run."""
    ids = [f"agent{i}" for i in range(1, 2 * POOL_SIZE + 2)]
    for agent_id in ids:
        await agents.create(agent_id)
    async with serve(app) as server, contextlib.AsyncExitStack() as streams:
        for agent_id in ids:
            events = await streams.enter_async_context(stream(server, agents, agent_id))
            await events.until("queue")
        async with asyncio.timeout(10):
            response, _ = await twilio.customer_calls()
            assert response.status_code == 200
            await twilio.drain()  # offered to an agent and dialed
            me = await twilio.client.get("/api/me", headers=await agents.headers(ids[0]))
        assert me.status_code == 200
        dial, _, _ = twilio.dialed()
        assert dial["To"][0] in {f"client:{agent_id}" for agent_id in ids}


async def test_a_statement_run_many_times_on_a_connection_is_planned_with_its_values(
    app: FastAPI,  # the tables
) -> None:
    """PostgreSQL switches a prepared statement to a generic plan (blind to the status asked
    for) after five runs unless told not to: EXPLAIN shows `$1` where the value should be."""
    engine = create_engine(TEST_DATABASE_URL or "", pool_size=1)
    try:
        for _ in range(3):  # the same connection each time: its setting outlives a rollback
            async with engine.connect() as connection:
                assert await connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        async with engine.connect() as connection:
            await connection.execute(
                text("PREPARE waiting(varchar) AS SELECT count(*) FROM calls WHERE status = $1")
            )
            for _ in range(8):
                await connection.execute(text(f"EXECUTE waiting('{CallStatus.queued}')"))
            explained = await connection.execute(
                text(f"EXPLAIN EXECUTE waiting('{CallStatus.queued}')")
            )
            plan = "\n".join(explained.scalars().all())
    finally:
        await engine.dispose()
    assert f"'{CallStatus.queued}'" in plan
    assert "$1" not in plan

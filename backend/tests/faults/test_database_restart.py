"""The database restarts (or fails over) under a running server: every pooled connection is
closed by the server. The next webhooks and API requests must not fail on a dead connection."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL
from tests.factories import AgentFactory
from tests.twilio import TwilioDouble

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (make test does)"
)


async def drop_every_other_connection() -> int:
    """What a restart does to the app's connections: the server ends each one."""
    admin = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    return int(ended or 0)


async def test_requests_after_the_database_dropped_every_connection_succeed(
    app: FastAPI, agents: AgentFactory, twilio: TwilioDouble
) -> None:
    await agents.create("agent1")
    headers = await agents.headers("agent1")
    response, _ = await twilio.customer_calls()  # the pool holds an open connection now
    assert response.status_code == 200

    assert await drop_every_other_connection() >= 1
    await asyncio.sleep(0.2)  # the server's goodbye reaches the app's idle connections

    for _ in range(3):  # more requests than the pool has idle connections
        response, _ = await twilio.customer_calls()
        assert response.status_code == 200, response.text
        me = await twilio.client.get("/api/me", headers=headers)
        assert me.status_code == 200, me.text
    await twilio.drain()
    history = await twilio.client.get("/api/calls", headers=headers)
    assert history.status_code == 200

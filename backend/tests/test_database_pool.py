"""The app's PostgreSQL connections: a fixed pool, kept through bursts, and statements planned
with their parameters' values however often a connection has run them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from tests.conftest import TEST_DATABASE_URL, make_settings
from warm_transfer.calls.models import CallStatus
from warm_transfer.main import create_app

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (make test does)"
)


async def test_a_burst_beyond_the_pool_waits_for_its_connections_and_opens_or_closes_none(
    tmp_path: Path,
) -> None:
    app = create_app(make_settings(tmp_path, database_pool_size=3), run_worker=False)
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        opened: list[Any] = []
        closed: list[Any] = []
        event.listen(engine.sync_engine.pool, "connect", lambda conn, _record: opened.append(conn))
        event.listen(engine.sync_engine.pool, "close", lambda conn, _record: closed.append(conn))

        async def transaction() -> int:
            async with app.state.session_factory() as session, session.begin():
                await session.execute(text("SELECT pg_sleep(0.05)"))
                return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)

        for _ in range(2):  # two bursts of four times the pool
            backends = await asyncio.gather(*(transaction() for _ in range(12)))
            assert len(set(backends)) == 3
        assert len(opened) == 3
        assert closed == []


async def test_a_statement_run_many_times_on_a_connection_is_planned_with_its_values(
    app: FastAPI,
) -> None:
    """PostgreSQL switches a prepared statement to a generic plan (blind to the status asked
    for) after five runs unless told not to: EXPLAIN shows `$1` where the value should be."""
    async with app.state.engine.connect() as connection:
        await connection.execute(
            text("PREPARE waiting(varchar) AS SELECT count(*) FROM calls WHERE status = $1")
        )
        for _ in range(8):
            await connection.execute(text(f"EXECUTE waiting('{CallStatus.queued}')"))
        plan = "\n".join(
            (await connection.execute(text(f"EXPLAIN EXECUTE waiting('{CallStatus.queued}')")))
            .scalars()
            .all()
        )
        assert f"'{CallStatus.queued}'" in plan
        assert "$1" not in plan

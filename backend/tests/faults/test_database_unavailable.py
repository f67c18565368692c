"""The database is out of reach (every connection busy past the pool's timeout, or it cannot be
opened at all): webhooks and API requests answer 503 `database_unavailable` with `Retry-After`,
in the one error shape, not a 500; nothing is written; the log says why without the statement's
parameters; once it is back, requests succeed again."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import make_url, select, text

from tests.conftest import PUBLIC_BASE_URL, TEST_DATABASE_URL, make_settings
from tests.factories import AgentFactory
from tests.twilio import CUSTOMER_NUMBER, TwilioDouble
from warm_transfer.calls.models import Call
from warm_transfer.config import Settings
from warm_transfer.errors import install_error_handlers
from warm_transfer.main import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # One connection (SQLite's writer has one anyway), given up on quickly.
    return make_settings(tmp_path, database_pool_size=1, database_pool_timeout_seconds=0.2)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {
        "error": "database_unavailable",
        "detail": "The database is unavailable; try again shortly",
    }
    assert response.headers["Retry-After"] == "1"


async def test_requests_that_find_no_free_connection_are_503s_and_write_nothing(
    app: FastAPI,
    agents: AgentFactory,
    twilio: TwilioDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await agents.create("agent1")
    headers = await agents.headers("agent1")

    async with app.state.engine.connect() as held:  # a long transaction holds every connection
        await held.execute(text("SELECT 1"))
        with caplog.at_level(logging.ERROR):
            webhook, _ = await twilio.customer_calls()
            me = await twilio.client.get("/api/me", headers=headers)
    assert_unavailable(webhook)
    assert_unavailable(me)
    assert "database unavailable" in caplog.text
    assert CUSTOMER_NUMBER not in caplog.text

    again, call_sid = await twilio.customer_calls()  # released: Twilio's next call gets in
    assert again.status_code == 200
    assert (await twilio.client.get("/api/me", headers=headers)).status_code == 200
    async with app.state.session_factory() as session:
        recorded = await session.scalars(select(Call.call_sid))
        assert list(recorded) == [call_sid]


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="another process's lock on a SQLite file")
async def test_a_sqlite_write_lock_held_elsewhere_is_a_503_within_the_pool_timeout(
    app: FastAPI, settings: Settings, twilio: TwilioDouble
) -> None:
    """Another process (a `warm-transfer` command, a second server) holding SQLite's write lock:
    the webhook waits for it only as long as it would for a connection, then is a 503, well
    before the 15 s Twilio waits (the bound below)."""
    other = sqlite3.connect(make_url(settings.database_url).database or "", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, until it commits
        webhook, _ = await asyncio.wait_for(twilio.customer_calls(), timeout=10)
        assert_unavailable(webhook)
        other.execute("COMMIT")
    finally:
        other.close()

    again, call_sid = await twilio.customer_calls()
    assert again.status_code == 200
    async with app.state.session_factory() as session:
        recorded = await session.scalars(select(Call.call_sid))
        assert list(recorded) == [call_sid]


@pytest.fixture
async def unopenable(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app whose SQLite database cannot be opened (its path is a directory)."""
    database = tmp_path / "database"
    database.mkdir()
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{database}")
    application = create_app(settings, run_worker=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="opens a SQLite file that cannot be opened")
async def test_a_database_that_cannot_be_opened_is_a_503_not_a_500(
    unopenable: FastAPI, twilio_api: respx.MockRouter
) -> None:
    transport = httpx.ASGITransport(app=unopenable)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as client:
        twilio = TwilioDouble(
            app=unopenable, client=client, api=twilio_api, settings=unopenable.state.settings
        )
        webhook, _ = await twilio.customer_calls()
        login = await client.post(
            "/api/auth/login", data={"username": "agent1", "password": "agent1-password"}
        )
        ready = await client.get("/readyz")
    assert_unavailable(webhook)
    assert_unavailable(login)
    assert ready.status_code == 503
    assert twilio.calls_create.calls.call_count == 0


async def test_a_database_refusing_connections_is_a_503() -> None:
    """asyncpg raises the socket's own error when PostgreSQL refuses to connect (it is down or
    restarting): the same 503 as the rest, through the app's error handlers."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/reads")
    async def reads() -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as client:
        assert_unavailable(await client.get("/reads"))

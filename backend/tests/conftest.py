"""Fixtures: a fresh database and app per test, Twilio replaced at the HTTP level with respx."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.factories import AgentFactory
from tests.twilio import TWILIO_API, TwilioDouble, TwilioTransportMocker
from warm_transfer.config import AppEnv, Settings, VoiceMode
from warm_transfer.main import create_app
from warm_transfer.models import Base

PUBLIC_BASE_URL = "https://warm.example.test"
# Set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/warm_transfer_test) to run the whole
# suite on PostgreSQL instead of a SQLite file per test; `make test` runs both.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": AppEnv.development,
        "database_url": TEST_DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "public_base_url": PUBLIC_BASE_URL,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "twilio_account_sid": "AC" + "a" * 32,
        "twilio_auth_token": "test-auth-token",
        "twilio_api_key": "SK" + "b" * 32,
        "twilio_api_secret": "test-api-secret-of-32-characters",
        "twilio_number": "+15550001111",
        "twilio_api_base_url": TWILIO_API,
        "voice_mode": VoiceMode.twilio,
        "agent_ring_timeout": 20,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def _ensure_database(url: str) -> None:
    """Create the PostgreSQL test database when it is missing (trust auth, as CI runs it)."""
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database beside TEST_DATABASE_URL's, dropped afterwards."""
    assert TEST_DATABASE_URL is not None
    url = make_url(TEST_DATABASE_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


_schema_ready = False


async def _empty_database(connection: AsyncConnection) -> None:
    """PostgreSQL runs share one database: build the schema once, then empty it per test."""
    global _schema_ready
    if not _schema_ready:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
        _schema_ready = True
        return
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session", autouse=True)
def _postgres_database() -> None:
    if TEST_DATABASE_URL:
        asyncio.run(_ensure_database(TEST_DATABASE_URL))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    # The worker does not run by itself in tests: each test drains it when it means to, so it
    # can look at the state between a webhook's answer and the dial that follows.
    application = create_app(settings, run_worker=False)
    async with application.router.lifespan_context(application):
        async with application.state.engine.begin() as connection:
            if TEST_DATABASE_URL:
                await _empty_database(connection)
            else:
                await connection.run_sync(Base.metadata.create_all)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
        yield http


@pytest.fixture
def twilio_api() -> Iterator[respx.MockRouter]:
    """Twilio's REST API: every request the app sends is captured; unmocked ones fail the test."""
    with respx.mock(assert_all_called=False, using=TwilioTransportMocker.name) as router:
        yield router


@pytest.fixture
def twilio(
    app: FastAPI, client: httpx.AsyncClient, twilio_api: respx.MockRouter, settings: Settings
) -> TwilioDouble:
    return TwilioDouble(app=app, client=client, api=twilio_api, settings=settings)


@pytest.fixture
def agents(app: FastAPI, client: httpx.AsyncClient) -> AgentFactory:
    return AgentFactory(app=app, client=client)

"""Fixtures: a fresh database and app per test, Twilio replaced at the HTTP level with respx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI

from tests.factories import AgentFactory
from tests.twilio import TWILIO_API, TwilioDouble
from warm_transfer.config import AppEnv, Settings, VoiceMode
from warm_transfer.main import create_app
from warm_transfer.models import Base

PUBLIC_BASE_URL = "https://warm.example.test"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": AppEnv.development,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
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
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()  # the tests' own live server
        yield router


@pytest.fixture
def twilio(
    app: FastAPI, client: httpx.AsyncClient, twilio_api: respx.MockRouter, settings: Settings
) -> TwilioDouble:
    return TwilioDouble(app=app, client=client, api=twilio_api, settings=settings)


@pytest.fixture
def agents(app: FastAPI, client: httpx.AsyncClient) -> AgentFactory:
    return AgentFactory(app=app, client=client)

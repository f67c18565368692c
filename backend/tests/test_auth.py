"""Logging in, bearer tokens, and the Voice access token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from tests.factories import AgentFactory
from warm_transfer.agents import service
from warm_transfer.agents.security import issue_access_token
from warm_transfer.config import Settings


async def test_login_returns_a_bearer_token_and_the_agent(
    client: httpx.AsyncClient, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    response = await client.post(
        "/api/auth/login", data={"username": "agent1", "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["agent"]["id"] == "agent1"
    assert "password" not in response.text and "hash" not in response.text

    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == "agent1"


@pytest.mark.parametrize(
    ("username", "password"), [("agent1", "wrong-password"), ("nobody", "correct-horse-battery")]
)
async def test_login_with_bad_credentials_is_401(
    client: httpx.AsyncClient, agents: AgentFactory, username: str, password: str
) -> None:
    await agents.create("agent1")
    response = await client.post(
        "/api/auth/login", data={"username": username, "password": password}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_credentials",
        "detail": "Unknown agent or wrong password",
    }


async def test_login_without_a_form_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"username": "agent1"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def _token(settings: Settings, agent_id: str, *, issued: datetime, ttl: int = 60) -> str:
    return issue_access_token(
        agent_id=agent_id,
        secret_key=settings.secret_key.get_secret_value(),
        ttl_seconds=ttl,
        now=issued,
    ).token


async def test_protected_endpoints_refuse_missing_expired_and_forged_tokens(
    client: httpx.AsyncClient, agents: AgentFactory, settings: Settings
) -> None:
    await agents.create("agent1")
    expired = _token(settings, "agent1", issued=datetime.now(UTC) - timedelta(hours=2))
    forged = issue_access_token(
        agent_id="agent1", secret_key="not-the-server-secret-key-0123456789", ttl_seconds=60
    ).token
    for headers in (
        {},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer garbage"},
    ):
        for method, path in (
            ("GET", "/api/me"),
            ("GET", "/api/agents"),
            ("GET", "/api/calls"),
            ("GET", "/api/calls/1"),
            ("POST", "/api/voice/token"),
            ("PUT", "/api/agents/me/availability"),
            ("POST", "/api/calls/1/transfers"),
        ):
            response = await client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert response.json()["error"] == "not_authenticated"
            assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_a_removed_agent_is_refused(
    client: httpx.AsyncClient, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    headers = await agents.headers("agent1")
    async with agents.app.state.session_factory() as session, session.begin():
        await service.remove_agent(session, agent_id="agent1")
    assert (await client.get("/api/me", headers=headers)).status_code == 401


async def test_public_endpoints_need_no_token(client: httpx.AsyncClient) -> None:
    config = await client.get("/api/config")
    assert config.status_code == 200
    assert config.json()["voice_mode"] == "twilio"
    assert config.json()["transfer_to_numbers"] is False
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


async def test_voice_token_is_for_the_agents_own_identity(
    client: httpx.AsyncClient, agents: AgentFactory, settings: Settings
) -> None:
    await agents.create("agent1")
    before = datetime.now(UTC).replace(microsecond=0)
    response = await client.post("/api/voice/token", headers=await agents.headers("agent1"))
    assert response.status_code == 200
    body = response.json()
    assert body["identity"] == "agent1"

    assert settings.twilio_api_secret is not None
    claims = jwt.decode(
        body["token"], settings.twilio_api_secret.get_secret_value(), algorithms=["HS256"]
    )
    assert claims["iss"] == settings.twilio_api_key
    assert claims["sub"] == settings.twilio_account_sid
    assert claims["grants"]["identity"] == "agent1"
    assert claims["grants"]["voice"]["incoming"] == {"allow": True}
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert claims["exp"] == int(expires_at.timestamp())
    assert before + timedelta(seconds=settings.voice_token_ttl_seconds) <= expires_at
    assert expires_at <= datetime.now(UTC) + timedelta(seconds=settings.voice_token_ttl_seconds)


async def test_voice_token_carries_the_twiml_app_when_configured(
    agents: AgentFactory, settings: Settings, client: httpx.AsyncClient
) -> None:
    settings.twilio_twiml_app_sid = "AP" + "c" * 32
    await agents.create("agent1")
    response = await client.post("/api/voice/token", headers=await agents.headers("agent1"))
    assert settings.twilio_api_secret is not None
    claims = jwt.decode(
        response.json()["token"],
        settings.twilio_api_secret.get_secret_value(),
        algorithms=["HS256"],
    )
    assert claims["grants"]["voice"]["outgoing"] == {"application_sid": "AP" + "c" * 32}

"""Auth abuse: every protected route refuses bad tokens, agents act only on their own calls,
logging out voids captured tokens, failed logins are rate limited, CORS stays closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.conftest import PUBLIC_BASE_URL, make_settings
from tests.factories import AgentFactory
from tests.test_call_control import Scenario
from tests.test_call_control import scenario as scenario  # the fixture
from warm_transfer.agents.security import issue_access_token, issue_stream_ticket
from warm_transfer.config import Settings
from warm_transfer.main import create_app
from warm_transfer.models import Base

# Open to anyone: logging in, the console's public configuration, health checks; the event
# stream takes a ticket in its URL instead (tested below).
PUBLIC_ROUTES = {"/api/auth/login", "/api/config", "/healthz", "/readyz", "/api/events"}


def protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every JSON API operation the app documents, but the public ones, with ids filled in."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/api") or path in PUBLIC_ROUTES:
            continue
        concrete = path.replace("{call_id}", "1").replace("{transfer_id}", "1")
        routes.extend((method.upper(), concrete) for method in sorted(operations))
    return routes


def bad_tokens(settings: Settings) -> dict[str, str]:
    secret = settings.secret_key.get_secret_value()
    now = datetime.now(UTC)
    claims = {
        "sub": "agent1",
        "aud": "warm-transfer-console",
        "iat": now,
        "exp": now + timedelta(1),
    }
    return {
        "expired": issue_access_token(
            agent_id="agent1", secret_key=secret, ttl_seconds=60, now=now - timedelta(hours=2)
        ).token,
        "signed with another key": issue_access_token(
            agent_id="agent1", secret_key="not-the-server-secret-key-0123456789", ttl_seconds=60
        ).token,
        "unsigned (alg none)": jwt.encode(claims, key=None, algorithm="none"),
        "a stream ticket": issue_stream_ticket(agent_id="agent1", secret_key=secret).token,
        "for another audience": jwt.encode({**claims, "aud": "someone-else"}, secret),
        "without a subject": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, secret),
        "for an unknown agent": issue_access_token(
            agent_id="ghost", secret_key=secret, ttl_seconds=60
        ).token,
        "garbage": "not.a.jwt",
    }


async def row_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.session_factory() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def test_every_protected_route_refuses_missing_expired_forged_and_foreign_tokens(
    app: FastAPI, client: httpx.AsyncClient, agents: AgentFactory, settings: Settings
) -> None:
    await agents.create("agent1")
    routes = protected_routes(app)
    assert ("POST", "/api/calls/1/transfers/1/complete") in routes  # the walk found the API
    before = await row_counts(app)
    for label, token in {"no token": "", **bad_tokens(settings)}.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in routes:
            response = await client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (label, method, path, response.text)
            assert response.json()["error"] == "not_authenticated", (label, path)
            assert response.headers["www-authenticate"] == "Bearer"
    assert await row_counts(app) == before


async def test_the_event_stream_takes_only_a_ticket_and_a_ticket_opens_nothing_else(
    client: httpx.AsyncClient, agents: AgentFactory, settings: Settings
) -> None:
    await agents.create("agent1")
    login_token = (await agents.headers("agent1"))["Authorization"].removeprefix("Bearer ")
    response = await client.get("/api/events", params={"ticket": login_token})
    assert response.status_code == 401
    ticket = issue_stream_ticket(
        agent_id="agent1", secret_key=settings.secret_key.get_secret_value()
    ).token
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {ticket}"})
    assert response.status_code == 401


async def test_an_agent_cannot_act_on_another_agents_call_and_nothing_changes(
    scenario: Scenario,
) -> None:
    s = scenario
    transfer = await s.transfer(to_agent_id="agent2")
    before = await row_counts(s.app)
    sent_before = len(s.twilio.api.calls)
    for method, path, body in (
        ("POST", "/hold", {"hold": True}),
        ("POST", "/hold", {"hold": False}),
        ("POST", "/leave", None),
        ("POST", "/transfers", {"to_agent_id": "agent3"}),
        ("POST", "/transfers", {"to_number": "+15550009999"}),
        ("POST", f"/transfers/{transfer['id']}/cancel", None),
        ("POST", f"/transfers/{transfer['id']}/complete", None),
    ):
        response = await s.api("agent3", method, path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] in {"not_on_call", "not_transferring"}
    assert await row_counts(s.app) == before
    assert len(s.twilio.api.calls) == sent_before  # nothing was sent to Twilio either
    call = await s.call()
    assert call["transfers"][-1]["status"] == "dialing"


async def test_a_captured_token_is_refused_after_its_agent_logs_out_everywhere(
    client: httpx.AsyncClient, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    laptop = await agents.login("agent1")
    phone = await agents.login("agent1")

    response = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {laptop}"})
    assert response.status_code == 204

    for token in (laptop, phone):  # replayed by whoever captured them
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert "logged out" in response.json()["detail"]
    fresh = await agents.login("agent1")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {fresh}"})
    assert response.status_code == 200


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL)


async def login(http: httpx.AsyncClient, agent_id: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", data={"username": agent_id, "password": password})


class TestLoginRateLimit:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path, login_rate_limit="3/minute")

    async def test_replayed_failed_logins_for_one_agent_are_limited_even_from_new_addresses(
        self, app: FastAPI, agents: AgentFactory
    ) -> None:
        await agents.create("agent1")
        for attempt in range(3):
            async with client_from(app, f"10.0.0.{attempt}") as http:
                assert (await login(http, "agent1", "guess")).status_code == 401

        async with client_from(app, "10.0.0.99") as http:
            refused = await login(http, "agent1", "correct-horse-battery")  # even the right one
            other = await login(http, "agent2", "guess")
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert other.status_code == 401  # another agent's count is its own

    async def test_one_address_guessing_many_agents_is_limited_and_others_still_log_in(
        self, app: FastAPI, agents: AgentFactory
    ) -> None:
        for agent_id in ("agent1", "agent2", "agent3", "agent4"):
            await agents.create(agent_id)
        async with client_from(app, "203.0.113.7") as guesser:
            for agent_id in ("agent1", "agent2", "agent3"):
                assert (await login(guesser, agent_id, "Winter2026!")).status_code == 401
            assert (await login(guesser, "agent4", "correct-horse-battery")).status_code == 429
        async with client_from(app, "198.51.100.1") as office:
            assert (await login(office, "agent4", "correct-horse-battery")).status_code == 200

    async def test_a_successful_login_resets_the_agents_failure_count(
        self, app: FastAPI, agents: AgentFactory
    ) -> None:
        await agents.create("agent1")
        for address in ("10.0.0.1", "10.0.0.2"):
            async with client_from(app, address) as http:
                assert (await login(http, "agent1", "typo")).status_code == 401
                assert (await login(http, "agent1", "correct-horse-battery")).status_code == 200
        async with client_from(app, "10.0.0.3") as http:
            assert (await login(http, "agent1", "typo")).status_code == 401
            assert (await login(http, "agent1", "typo")).status_code == 401
            assert (await login(http, "agent1", "correct-horse-battery")).status_code == 200


async def test_cors_is_closed_to_every_origin_by_default(client: httpx.AsyncClient) -> None:
    evil = {"Origin": "https://evil.example"}
    response = await client.get("/api/config", headers=evil)
    assert "access-control-allow-origin" not in response.headers
    preflight = await client.options(
        "/api/me",
        headers={**evil, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_admits_only_the_configured_console_origin(tmp_path: Path) -> None:
    console = "https://console.example.com"
    application = create_app(make_settings(tmp_path, cors_origins=[console]), run_worker=False)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url=PUBLIC_BASE_URL
        ) as http,
    ):

        async def preflight(origin: str) -> httpx.Response:
            return await http.options(
                "/api/me",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "Authorization",
                },
            )

        allowed = await preflight(console)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == console
        assert "access-control-allow-credentials" not in allowed.headers  # bearer, no cookies

        for origin in ("https://evil.example", "https://console.example.com.evil.example"):
            refused = await preflight(origin)
            assert refused.status_code == 400
            assert "access-control-allow-origin" not in refused.headers
            simple = await http.get("/api/config", headers={"Origin": origin})
            assert "access-control-allow-origin" not in simple.headers

"""Schemathesis over the JSON API, in-process: no operation answers 5xx, and every answer (status
code, content type, headers, body) is one the app's own OpenAPI documents.

Schemathesis generates the requests (valid and deliberately invalid ones, from `app.openapi()`);
they go through httpx's ASGI transport, not schemathesis' own (which would start another copy of
the app in a thread of its own), so the app keeps the database, job queue and Twilio double
(respx: no network) that the fixtures set up, and the state seeded first (a call in progress, a
transfer under way, another agent available) is what the fuzzed requests act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import select

from tests.conftest import PUBLIC_BASE_URL, make_settings
from tests.factories import AgentFactory
from tests.faults.fuzzing import DETERMINISTIC
from tests.faults.test_webhook_fuzz import PostgresGuard
from tests.faults.test_webhook_fuzz import postgres_guard as postgres_guard  # the fixture
from tests.twilio import TwilioDouble
from warm_transfer.agents.models import Availability
from warm_transfer.agents.security import issue_access_token, issue_stream_ticket
from warm_transfer.calls.models import Call
from warm_transfer.config import Settings
from warm_transfer.main import create_app

# Per operation, with a fresh app and database for each; the unauthenticated requests all go to
# one app (they change nothing), spread over every protected operation.
EXAMPLES_PER_OPERATION = 60
UNAUTHENTICATED_EXAMPLES = 300

FUZZ_SETTINGS = settings(
    DETERMINISTIC,
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=[*DETERMINISTIC.suppress_health_check, HealthCheck.filter_too_much],
)

# Only response checks that judge the answer in hand. Left out: `ignored_auth` (it re-sends the
# request through schemathesis' own transport, outside this loop; the unauthenticated test below
# covers the same ground), `use_after_free` and `ensure_resource_availability` (stateful runs
# only: they need schemathesis' recorder of earlier responses), `max_response_time` (timings
# are for benchmarks, never assertions).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

# Not fuzzed here:
# - GET /api/events is a Server-Sent Events stream that never ends while the ticket is valid.
# - The Twilio webhooks (/conference/...) are signed form posts, not the JSON API: fuzzing them
#   needs valid signatures, which tests/faults/test_webhook_fuzz.py computes.
# - The simulator's routes exist only in simulated voice mode, never in these settings.
EXCLUDED_PATHS = {"/api/events"}
EXCLUDED_PREFIXES = ("/conference/", "/simulator")


def _api_schema() -> OpenApiSchema:
    # Built once, at collection, from an app that is never started: only its routes are read.
    app = create_app(make_settings(Path("unused")), run_worker=False)
    return schemathesis.openapi.from_dict(app.openapi(), config=schemathesis.Config())


SCHEMA = _api_schema()


def _fuzzed_operations() -> Iterator[tuple[str, str, bool]]:
    """(method, path, whether it needs a bearer token) of every JSON API operation fuzzed."""
    for path, methods in SCHEMA.raw_schema["paths"].items():
        if path in EXCLUDED_PATHS or path.startswith(EXCLUDED_PREFIXES):
            continue
        for method, operation in methods.items():
            yield method.upper(), path, bool(operation.get("security"))


OPERATIONS = sorted(_fuzzed_operations(), key=lambda item: (item[1], item[0]))
PROTECTED = [(method, path) for method, path, secured in OPERATIONS if secured]


@dataclass
class Seeded:
    """What the database holds before the fuzzing starts."""

    agent_id: str  # on the call, and the one whose token is sent
    other_agent_id: str  # available: a transfer target
    call_id: int
    transfer_id: int | None


@pytest.fixture
async def seeded(
    request: pytest.FixtureRequest, twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> Seeded:
    """agent1 talks with a customer; agent2 is available, agent3 away; for the operations on a
    transfer, agent1 is consulting agent2 (the target has answered)."""
    await agents.create("agent1")
    customer_sid, _, _ = await twilio.connected_call()
    await agents.create("agent2")
    await agents.create("agent3", availability=Availability.away)
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == customer_sid))
    assert call is not None
    transfer_id = None
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or "{transfer_id}" in callspec.params["operation"][1]:
        response = await twilio.client.post(
            f"/api/calls/{call.id}/transfers",
            json={"to_agent_id": "agent2"},
            headers=await agents.headers("agent1"),
        )
        assert response.status_code == 201, response.text
        transfer_id = response.json()["id"]
        await twilio.target_answers(customer_sid)
    await agents.login("agent1")
    return Seeded("agent1", "agent2", call.id, transfer_id)


async def send(
    client: httpx.AsyncClient, case: schemathesis.Case[Any], authorization: str | None
) -> httpx.Response:
    """The case's request as schemathesis' own transport would build it (requests prepares the
    URL and body), sent into the app in-process."""
    kwargs = case.as_transport_kwargs(base_url=PUBLIC_BASE_URL)
    headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    kwargs["headers"] = headers
    known = {"method", "url", "headers", "params", "data", "json", "files", "cookies"}
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in known}).prepare()
    assert prepared.method is not None
    assert prepared.url is not None
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    assert body is None or isinstance(body, bytes)
    headers = {
        name: value if isinstance(value, str) else value.decode("latin-1")
        for name, value in prepared.headers.items()
    }
    return await client.request(prepared.method, prepared.url, headers=headers, content=body)


def _strategies(
    method: str, path: str, seeded: Seeded
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """Valid and invalid requests with generated ids, and (more often) aimed at the live call and
    its transfer, so the fuzz gets past "not found" into the call and transfer logic."""
    operation = SCHEMA[path][method]
    options = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if "{call_id}" in path:
        ids = {"call_id": seeded.call_id}
        if seeded.transfer_id is not None:
            ids["transfer_id"] = seeded.transfer_id
        live = [
            operation.as_strategy(generation_mode=mode, path_parameters=ids)
            for mode in GenerationMode
        ]
        options += [*live, live[0]]  # positive twice: GenerationMode lists POSITIVE first
        if path.endswith("/transfers"):
            options += [
                operation.as_strategy(
                    path_parameters=ids, body={"to_agent_id": seeded.other_agent_id, **extra}
                )
                for extra in ({}, {"mode": "cold"}, {"hold_customer": False})
            ]
    return st.one_of(options)


def _describe(case: schemathesis.Case[Any], response: httpx.Response) -> str:
    return (
        f"{case.as_curl_command(base_url=PUBLIC_BASE_URL)}\n"
        f"-> {response.status_code} {response.headers.get('content-type')}: {response.text[:500]}"
    )


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[f"{method} {path}" for method, path, _ in OPERATIONS]
)
@FUZZ_SETTINGS
@given(data=st.data())
async def test_api_operation_never_fails_with_5xx_and_answers_as_documented(
    operation: tuple[str, str, bool],
    seeded: Seeded,
    client: httpx.AsyncClient,
    agents: AgentFactory,
    twilio: TwilioDouble,
    postgres_guard: PostgresGuard,
    data: st.DataObject,
) -> None:
    method, path, secured = operation
    case = data.draw(_strategies(method, path, seeded), label="case")
    token = agents.tokens[seeded.agent_id]
    response = await send(client, case, f"Bearer {token}" if secured else None)

    case.validate_response(response, checks=CHECKS)
    postgres_guard.check(_describe(case, response))
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "detail"}, _describe(case, response)
    if path == "/api/auth/logout" and response.status_code == 204:
        await agents.login(seeded.agent_id)  # that token is void now
    await twilio.drain()  # the dials and hang-ups the request queued go out too


@pytest.fixture
def bad_credentials(settings: Settings) -> list[str | None]:
    """Authorization headers that must not get anyone in (agent1 exists and is logged in)."""
    key = settings.secret_key.get_secret_value()
    week_ago = datetime.now(UTC) - timedelta(days=7)
    return [
        None,
        "",
        "Bearer",
        "Bearer not-a-token",
        "Basic YWdlbnQxOmNvcnJlY3QtaG9yc2UtYmF0dGVyeQ==",  # agent1's password, as Basic auth
        "Bearer "
        + issue_access_token(agent_id="agent1", secret_key="x" * 48, ttl_seconds=60).token,
        "Bearer "
        + issue_access_token(agent_id="agent1", secret_key=key, ttl_seconds=60, now=week_ago).token,
        "Bearer " + issue_access_token(agent_id="nobody", secret_key=key, ttl_seconds=60).token,
        "Bearer "
        + issue_access_token(
            agent_id="agent1", secret_key=key, ttl_seconds=60, session_version=99
        ).token,
        "Bearer " + issue_stream_ticket(agent_id="agent1", secret_key=key).token,
    ]


@settings(FUZZ_SETTINGS, max_examples=UNAUTHENTICATED_EXAMPLES)
@given(data=st.data())
async def test_every_protected_operation_without_a_valid_token_is_401_in_the_error_shape(
    seeded: Seeded,
    client: httpx.AsyncClient,
    bad_credentials: list[str | None],
    postgres_guard: PostgresGuard,
    data: st.DataObject,
) -> None:
    """No token, a garbled one, another scheme, or a token forged (another key), expired, of an
    unknown agent, of a logged-out session or meant for the event stream: always 401, whatever
    the request's parameters and body (even one the app cannot parse)."""
    method, path = data.draw(st.sampled_from(PROTECTED), label="operation")
    case = data.draw(_strategies(method, path, seeded), label="case")
    authorization = data.draw(st.sampled_from(bad_credentials), label="authorization")

    response = await send(client, case, authorization)

    assert response.status_code == 401, _describe(case, response)
    assert response.headers["content-type"] == "application/json", _describe(case, response)
    body = response.json()
    assert set(body) == {"error", "detail"}, _describe(case, response)
    assert isinstance(body["error"], str)
    assert isinstance(body["detail"], str)
    assert response.headers.get("www-authenticate") == "Bearer"
    case.validate_response(response, checks=CHECKS)
    postgres_guard.check(_describe(case, response))


async def test_login_with_a_nul_in_the_username_never_queries_the_database(
    client: httpx.AsyncClient, postgres_guard: PostgresGuard
) -> None:
    response = await client.post(
        "/api/auth/login", data={"username": "agent1\x00", "password": "correct-horse-battery"}
    )
    assert response.status_code == 401
    postgres_guard.check("POST /api/auth/login username='agent1\\x00'")

"""Schemathesis over the whole JSON API, generated from the app's own OpenAPI description: as an
agent on a live call, and without credentials. No 5xx, ever; every answer is one the description
documents (status, content type, headers, body schema)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PUBLIC_BASE_URL, make_settings
from tests.test_call_control import Scenario
from tests.test_call_control import scenario as scenario  # the fixture
from warm_transfer.main import create_app

# Public, or not JSON: logging in is fuzzed too, but the event stream never ends (it has tests
# of its own), and the webhooks take Twilio's signed forms (tests/faults/test_webhook_fuzz.py).
NOT_FUZZED = {"/api/events"}
PUBLIC = {"/api/auth/login", "/api/config", "/healthz", "/readyz"}

_schema = schemathesis.openapi.from_dict(
    create_app(make_settings(Path(tempfile.gettempdir())), run_worker=False).openapi()
)
_operations = [
    result.ok()
    for result in _schema.get_all_operations()
    if result.ok().path.startswith(("/api", "/healthz", "/readyz"))
    and result.ok().path not in NOT_FUZZED
]
API_CASES = st.one_of([operation.as_strategy() for operation in _operations])
PROTECTED_CASES = st.one_of(
    [operation.as_strategy() for operation in _operations if operation.path not in PUBLIC]
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def send(
    client: httpx.AsyncClient, case: schemathesis.Case, headers: dict[str, str]
) -> httpx.Response:
    request: dict[str, Any] = case.as_transport_kwargs(base_url=PUBLIC_BASE_URL)
    request.pop("cookies", None)
    request["headers"] = {**request["headers"], **headers}
    return await client.request(**request)


def test_every_json_operation_is_fuzzed() -> None:
    fuzzed = {(operation.method.upper(), operation.path) for operation in _operations}
    assert ("POST", "/api/calls/{call_id}/transfers/{transfer_id}/complete") in fuzzed
    assert ("POST", "/api/auth/login") in fuzzed
    assert len(fuzzed) == 18


@FUZZ
@given(case=API_CASES, real_ids=st.booleans())
async def test_the_api_never_answers_5xx_and_always_as_documented_for_an_agent_on_a_call(
    scenario: Scenario, case: schemathesis.Case, real_ids: bool
) -> None:
    s = scenario
    if real_ids and case.path_parameters:
        # Half the time aim at the live call (and its transfers), not at an id that is unknown.
        call = await s.call()
        transfers = call["transfers"]
        if "call_id" in case.path_parameters:
            case.path_parameters["call_id"] = s.call_id
        if "transfer_id" in case.path_parameters and transfers:
            case.path_parameters["transfer_id"] = transfers[-1]["id"]
    response = await send(s.twilio.client, case, await s.agents.headers("agent1"))
    if case.path == "/api/auth/logout" and response.status_code == 204:
        s.agents.tokens.pop("agent1")  # that token is void now: log in again next time
    case.validate_response(response, checks=CHECKS)


@FUZZ
@given(case=PROTECTED_CASES)
async def test_without_a_token_every_protected_operation_is_a_documented_401(
    scenario: Scenario, case: schemathesis.Case
) -> None:
    response = await send(scenario.twilio.client, case, {})
    assert response.status_code == 401, (case.method, case.formatted_path, response.text)
    assert set(response.json()) == {"error", "detail"}
    case.validate_response(response, checks=CHECKS)

"""Logs an operator can follow: request id, CallSid and agent id on every line; no secrets."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import AgentFactory
from tests.twilio import CUSTOMER_NUMBER, TwilioDouble
from warm_transfer.agents.models import Availability
from warm_transfer.logging import ContextFilter, JsonFormatter


@pytest.fixture
def json_lines() -> list[str]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


async def test_webhook_lines_carry_the_request_id_and_call_sid(
    twilio: TwilioDouble, agents: AgentFactory, json_lines: list[str]
) -> None:
    await agents.create("agent1")
    response, call_sid = await twilio.customer_calls()
    entries = [json.loads(line) for line in json_lines]
    queued = next(e for e in entries if e["message"].endswith(" queued"))
    assert queued["call_sid"] == call_sid
    assert queued["request_id"] == response.headers["x-request-id"]
    assert all("+1555" not in line for line in json_lines)  # no phone numbers at info level


async def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(
    twilio: TwilioDouble,
) -> None:
    kept = await twilio.client.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"})
    replaced = await twilio.client.get("/healthz", headers={"X-Request-ID": "bad id\n!"})
    assert kept.headers["x-request-id"] == "edge-1234abcd"
    assert replaced.headers["x-request-id"] != "bad id\n!"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_agent_id_is_on_lines_logged_for_an_agent(
    twilio: TwilioDouble, agents: AgentFactory, json_lines: list[str]
) -> None:
    await agents.create("agent1", availability=Availability.away)
    await twilio.customer_calls()  # waits: nobody is available
    await twilio.client.put(
        "/api/agents/me/availability",
        json={"availability": "available"},
        headers=await agents.headers("agent1"),
    )
    entries = [json.loads(line) for line in json_lines]
    offering = next(e for e in entries if e["message"].startswith("offering call"))
    assert offering["agent_id"] == "agent1"
    assert "call_sid" not in offering  # the agent's request, not a webhook
    logging.getLogger("warm_transfer.test").info("marker")  # outside a request: no context
    assert "agent_id" not in json.loads(json_lines[-1])


def test_stream_tickets_are_cut_from_access_logs() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/events?ticket=eyJsecret.part.here", "1.1", 200),
        None,
    )
    ContextFilter().filter(record)
    assert "eyJsecret" not in record.getMessage()
    assert "/api/events?ticket=…" in record.getMessage()


async def test_a_failed_statement_names_no_parameter_in_its_error(app: FastAPI) -> None:
    """A database error, logged with its traceback, would otherwise carry the statement's
    parameters: callers' numbers, password hashes."""
    with pytest.raises(DBAPIError) as failed:
        async with app.state.session_factory() as session:
            await session.execute(
                text("SELECT id FROM no_such_table WHERE number = :number"),
                {"number": CUSTOMER_NUMBER},
            )
    assert "no_such_table" in str(failed.value)
    assert CUSTOMER_NUMBER not in str(failed.value)

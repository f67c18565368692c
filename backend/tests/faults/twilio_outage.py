"""Twilio's REST API failing on purpose: the ways it fails, an outage on one route of the
TwilioDouble, the database rows a failure must leave alone, and the job queue's clock."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import AgentFactory
from tests.twilio import due_now as due_now
from warm_transfer.agents import service as agent_service
from warm_transfer.agents.models import Agent
from warm_transfer.agents.security import hash_password, issue_access_token
from warm_transfer.calls.models import Call, CallLeg
from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job, JobStatus
from warm_transfer.transfers.models import Transfer


@dataclass(frozen=True)
class Failure:
    """One way a REST request fails. `safe_to_retry`: Twilio surely did nothing (documented for
    429; a refused connection never reached it). The others may have acted before failing."""

    name: str
    make: Callable[[httpx.Request], httpx.Response]
    safe_to_retry: bool

    def __str__(self) -> str:
        return self.name


def _response(status: int, **kwargs: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, request=request, **kwargs)


def _raise(error: type[httpx.TransportError], message: str) -> Callable[..., httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error(message, request=request)

    return fail


RETRY_AFTER_SECONDS = 1
FAILURES = [
    Failure(
        "500",
        _response(500, json={"code": 20500, "message": "Internal Server Error", "status": 500}),
        safe_to_retry=False,
    ),
    # A load balancer's answer: no Twilio JSON body at all.
    Failure("503", _response(503, text="<html>Service Unavailable</html>"), safe_to_retry=False),
    Failure(
        "429",
        _response(
            429,
            json={"code": 20429, "message": "Too Many Requests", "status": 429},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ),
        safe_to_retry=True,
    ),
    # The request went out and the answer was lost: Twilio may have acted on it.
    Failure("read-timeout", _raise(httpx.ReadTimeout, "timed out"), safe_to_retry=False),
    Failure(
        "refused", _raise(httpx.ConnectError, "[Errno 111] Connection refused"), safe_to_retry=True
    ),
]
FAILURE_IDS = [failure.name for failure in FAILURES]
UNSAFE = [failure for failure in FAILURES if not failure.safe_to_retry]
SAFE = [failure for failure in FAILURES if failure.safe_to_retry]


class Outage:
    """Makes one route of the double fail (`times` requests, or until `recover()`), then answer as
    it did before. Failed requests stay in the route's `calls`, with no response."""

    def __init__(self, route: respx.Route, failure: Failure, *, times: int | None = None) -> None:
        self.route = route
        self.failure = failure
        self.remaining = times
        self.failed = 0
        self._healthy = route.side_effect
        route.side_effect = self._answer

    def recover(self) -> None:
        self.remaining = 0

    def _answer(self, request: httpx.Request, **context: Any) -> httpx.Response:
        if self.remaining is None or self.remaining > 0:
            self.failed += 1
            if self.remaining is not None:
                self.remaining -= 1
            return self.failure.make(request)
        if callable(self._healthy):
            response = self._healthy(request, **context)
            assert isinstance(response, httpx.Response)
            return response
        assert self.route.return_value is not None
        return self.route.return_value


# --- the database ------------------------------------------------------------------------------

_COLUMNS: dict[type[Any], tuple[str, ...] | None] = {
    Call: None,
    CallLeg: None,
    Transfer: None,
    Job: None,
    # An agent's heartbeat moves with every API request: only what routing depends on.
    Agent: ("id", "availability", "idle_since", "session_version"),
}
Snapshot = dict[str, dict[Any, dict[str, Any]]]


async def snapshot(app: FastAPI) -> Snapshot:
    """Every row of the tables a call's state lives in, by table and primary key."""
    rows: Snapshot = {}
    async with app.state.session_factory() as session:
        for model, wanted in _COLUMNS.items():
            columns = wanted or tuple(column.key for column in model.__table__.columns)
            table: dict[Any, dict[str, Any]] = {}
            for row in await session.scalars(select(model)):
                table[row.id] = {column: getattr(row, column) for column in columns}
            rows[model.__tablename__] = table
    return rows


async def jobs(app: FastAPI) -> list[Job]:
    async with app.state.session_factory() as session:
        return list(await session.scalars(select(Job).order_by(Job.id)))


async def failed_attempt(app: FastAPI, job_id: int) -> tuple[Job, datetime, datetime]:
    """Drain the worker once: the job, and the clock just before and after its failed attempt."""
    before = utcnow()
    await app.state.job_worker.drain()
    after = utcnow()
    async with app.state.session_factory() as session:
        job = await session.get_one(Job, job_id)
    return job, before, after


def assert_backed_off(job: Job, before: datetime, after: datetime, seconds: float) -> None:
    """The job waits `seconds` after its failed attempt, which ran between before and after."""
    assert job.status is JobStatus.pending, (job.status, job.last_error)
    delay = timedelta(seconds=seconds)
    assert before + delay <= job.run_after <= after + delay, (job.run_after - after, seconds)


# --- agents, fast ------------------------------------------------------------------------------


@functools.cache
def _cached_hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture
def fast_agents(
    agents: AgentFactory, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> AgentFactory:
    """The AgentFactory, without Argon2 per agent and per login (it dominates these tests' time):
    one hash for the shared password, tokens issued as a login would."""
    monkeypatch.setattr(agent_service, "hash_password", _cached_hash)
    original_create = agents.create

    async def create(agent_id: str, **kwargs: Any) -> str:
        await original_create(agent_id, **kwargs)
        agents.tokens[agent_id] = issue_access_token(
            agent_id=agent_id,
            secret_key=app.state.settings.secret_key.get_secret_value(),
            ttl_seconds=3600,
        ).token
        return agent_id

    monkeypatch.setattr(agents, "create", create)
    return agents

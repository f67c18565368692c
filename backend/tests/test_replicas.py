"""Two backend processes on one PostgreSQL database, as behind a load balancer: live events
cross replicas, and queued work is claimed by exactly one of them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL, scratch_database
from tests.sse import EventReader, serve
from tests.twilio import sid, sign

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (make test does)"
)

BACKEND = Path(__file__).resolve().parents[1]
PUBLIC_BASE_URL = "https://replicas.example.test"
AUTH_TOKEN = "replica-test-auth-token"
ACCOUNT_SID = "AC" + "c" * 32


class FakeTwilio:
    """Twilio's REST API on loopback, recording every call the replicas create."""

    def __init__(self) -> None:
        self.created: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.post("/2010-04-01/Accounts/{account}/Calls.json")(self.create_call)

    async def create_call(self, request: Request) -> JSONResponse:
        form = dict((await request.form()).items())
        self.created.append({key: str(value) for key, value in form.items()})
        return JSONResponse({"sid": sid("CA"), "status": "queued"}, status_code=201)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with scratch_database("wt_replicas") as url:
        yield url


@pytest.fixture
async def twilio_api() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with serve(fake.app) as url:
        yield fake, url


CLI = str(Path(sys.executable).parent / "warm-transfer")


@pytest.fixture
async def replicas(database: str, twilio_api: tuple[FakeTwilio, str]) -> AsyncIterator[list[str]]:
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SECRET_KEY": "replica-test-secret-key-0123456789abcdef",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_KEY": "SK" + "d" * 32,
        "TWILIO_API_SECRET": "replica-test-api-secret-0123456789",
        "TWILIO_NUMBER": "+15550001111",
        "TWILIO_API_BASE_URL": twilio_api[1],
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [CLI, "migrate"],
        cwd=BACKEND,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    processes, urls = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(
                [CLI, "serve", "--port", str(port)],
                cwd=BACKEND,
                env=environment,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            await _wait_ready(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def _wait_ready(url: str) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not become ready")


async def _login(http: httpx.AsyncClient, agent: str) -> dict[str, str]:
    response = await http.post(
        "/api/auth/login", data={"username": agent, "password": f"{agent}-dev-password"}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextlib.asynccontextmanager
async def _stream(url: str, headers: dict[str, str]) -> AsyncIterator[EventReader]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ticket = (await http.post("/api/events/ticket", headers=headers)).json()["ticket"]
        async with http.stream("GET", "/api/events", params={"ticket": ticket}) as response:
            assert response.status_code == 200
            yield EventReader(response)


async def _customer_calls(http: httpx.AsyncClient, call_sid: str) -> httpx.Response:
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "From": "+15551230000",
        "To": "+15559870000",
    }
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + "/conference/connect/client", params)
    return await http.post(
        "/conference/connect/client", data=params, headers={"X-Twilio-Signature": signature}
    )


async def test_a_webhook_on_one_replica_reaches_a_stream_on_the_other(
    replicas: list[str], twilio_api: tuple[FakeTwilio, str]
) -> None:
    replica_a, replica_b = replicas
    async with httpx.AsyncClient(base_url=replica_a) as a:
        headers = await _login(a, "agent1")
        await a.put(
            "/api/agents/me/availability", json={"availability": "available"}, headers=headers
        )
        async with _stream(replica_b, headers) as events:
            await events.until("queue")
            call_sid = sid("CA")
            assert (await _customer_calls(a, call_sid)).status_code == 200
            offered = await events.until(
                "call", lambda d: d["call"]["call_sid"] == call_sid, timeout=10
            )
    assert offered.data["call"]["status"] == "ringing"
    assert offered.data["call"]["legs"][1]["agent_id"] == "agent1"


async def test_a_hundred_calls_across_replicas_two_agents_each_offered_once(
    replicas: list[str], twilio_api: tuple[FakeTwilio, str], database: str
) -> None:
    fake = twilio_api[0]
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for url in replicas
        ]
        for agent, http in zip(("agent1", "agent2"), clients, strict=True):
            headers = await _login(http, agent)
            await http.put(
                "/api/agents/me/availability", json={"availability": "available"}, headers=headers
            )
            events = await stack.enter_async_context(_stream(http.base_url.__str__(), headers))
            await events.until("queue")  # the console is open: the agent is online
        sids = [sid("CA") for _ in range(100)]
        responses = await asyncio.gather(
            *(
                _customer_calls(http, call_sid)
                for http, call_sid in zip(itertools.cycle(clients), sids, strict=False)
            )
        )
        assert {response.status_code for response in responses} == {200}
        for _ in range(100):  # the dials are queued work: wait for both to go out
            if len(fake.created) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # and give a duplicate the chance to show up

    engine = create_async_engine(database)
    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT count(DISTINCT call_sid) FROM calls"))
        rows = await connection.scalar(text("SELECT count(*) FROM calls"))
        offers = (
            (await connection.execute(text("SELECT agent_id FROM call_legs WHERE role = 'agent'")))
            .scalars()
            .all()
        )
    await engine.dispose()
    assert (stored, rows) == (100, 100)
    assert sorted(offers) == ["agent1", "agent2"]
    assert sorted(form["To"] for form in fake.created) == ["client:agent1", "client:agent2"]

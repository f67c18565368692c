"""Real backend processes (`warm-transfer serve`) for tests that need them: replicas, signals,
crashes. Twilio's REST API is played by a small FastAPI app on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.twilio import sid, sign

BACKEND = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "warm-transfer")
PUBLIC_BASE_URL = "https://processes.example.test"
AUTH_TOKEN = "process-test-auth-token"
ACCOUNT_SID = "AC" + "c" * 32


class FakeTwilio:
    """Twilio's REST API on loopback, recording every call the servers create."""

    def __init__(self) -> None:
        self.created: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.post("/2010-04-01/Accounts/{account}/Calls.json")(self.create_call)

    async def create_call(self, request: Request) -> JSONResponse:
        form = dict((await request.form()).items())
        self.created.append({key: str(value) for key, value in form.items()})
        return JSONResponse({"sid": sid("CA"), "status": "queued"}, status_code=201)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(database_url: str, twilio_api_url: str) -> dict[str, str]:
    """A development server in Twilio mode (so dials go to `twilio_api_url`)."""
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SECRET_KEY": "process-test-secret-key-0123456789abcdef",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_KEY": "SK" + "d" * 32,
        "TWILIO_API_SECRET": "process-test-api-secret-0123456789",
        "TWILIO_NUMBER": "+15550001111",
        "TWILIO_API_BASE_URL": twilio_api_url,
        "LOG_LEVEL": "WARNING",
    }


def migrate(environment: dict[str, str]) -> None:
    """Migrates and, in development, seeds agent1 and agent2 (`agentN-dev-password`)."""
    subprocess.run(
        [CLI, "migrate"], cwd=BACKEND, env=environment, check=True, capture_output=True, timeout=120
    )


def start_server(environment: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], cwd=BACKEND, env=environment)
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not become ready")


async def login(http: httpx.AsyncClient, agent: str) -> dict[str, str]:
    response = await http.post(
        "/api/auth/login", data={"username": agent, "password": f"{agent}-dev-password"}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def customer_calls(http: httpx.AsyncClient, call_sid: str) -> httpx.Response:
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

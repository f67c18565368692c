"""`warm-transfer simulate`: a customer played from the command line against a running server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from tests.factories import AgentFactory
from tests.simulator.helpers import eventually
from tests.sse import serve
from warm_transfer.agents.models import Availability
from warm_transfer.cli import app as cli
from warm_transfer.config import Settings, get_settings

TWILIO_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET")


@pytest.fixture
def environment(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The CLI reads the same settings as the server it talks to."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (*TWILIO_ENV, "TWILIO_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("VOICE_MODE", "simulated")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key.get_secret_value())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def run(*args: str) -> Result:
    # In a thread: the command blocks, and the server it talks to runs on this event loop.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


@pytest.mark.usefixtures("environment")
async def test_a_customer_calls_waits_and_hangs_up(app: FastAPI, agents: AgentFactory) -> None:
    await agents.create("agent1", availability=Availability.away)  # nobody to answer
    async with serve(app) as url:
        called = await run("simulate", "call", "--from", "+15551230000", "--url", url)
        assert called.exit_code == 0, called.output
        sid, number, status, _ = called.output.strip().split("\t")
        assert sid.startswith("CA") and (number, status) == ("+15551230000", "ringing")

        async def waiting() -> str | None:
            listed = await run("simulate", "list", "--url", url)
            assert listed.exit_code == 0, listed.output
            line = listed.output.splitlines()[0]
            return line if "waiting for an agent: music" in line else None

        assert (await eventually(waiting)).startswith(sid)
        hung_up = await run("simulate", "hangup", sid, "--url", url, "--as", "agent1")
        assert hung_up.exit_code == 0, hung_up.output
        assert hung_up.output.strip().endswith("completed\tended")
        again = await run("simulate", "hangup", sid, "--url", url)
        assert again.exit_code == 1 and "already ended" in again.output


@pytest.mark.usefixtures("environment")
async def test_it_needs_an_agent_and_a_server(app: FastAPI, agents: AgentFactory) -> None:
    nobody = await run("simulate", "list", "--url", "http://127.0.0.1:9")
    assert nobody.exit_code == 1 and "No agents yet" in nobody.output
    await agents.create("agent1")
    unknown = await run("simulate", "list", "--url", "http://127.0.0.1:9", "--as", "agent7")
    assert unknown.exit_code == 1 and "not found" in unknown.output
    down = await run("simulate", "list", "--url", "http://127.0.0.1:9")
    assert down.exit_code == 1 and "no server answers" in down.output


def test_it_refuses_outside_simulated_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in TWILIO_ENV:
        monkeypatch.setenv(name, "AC" + "a" * 32 if name == "TWILIO_ACCOUNT_SID" else "x" * 32)
    monkeypatch.setenv("TWILIO_NUMBER", "+15550001111")
    monkeypatch.setenv("VOICE_MODE", "twilio")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["simulate", "call", "--from", "+15551230000"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "simulated voice mode" in result.output

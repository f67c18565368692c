"""Where the simulator is (simulated mode only) and is not (production), and what it may import."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from tests.conftest import make_settings
from tests.simulator.conftest import World
from tests.simulator.helpers import eventually
from warm_transfer.config import AppEnv, Settings, VoiceMode
from warm_transfer.main import create_app

PACKAGE = Path(__file__).resolve().parents[2] / "warm_transfer"
PRODUCTION = {
    "app_env": AppEnv.production,
    "public_base_url": "https://support.example.com",
    "secret_key": "a-long-random-production-secret-0123456789",
}


def simulator_paths(app: FastAPI) -> list[str]:
    return [path for path in app.openapi()["paths"] if path.startswith("/simulator")]


def test_production_refuses_simulated_mode(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="VOICE_MODE"):
        make_settings(tmp_path, **PRODUCTION, voice_mode=VoiceMode.simulated)


async def test_production_and_twilio_mode_have_no_simulator_routes(tmp_path: Path) -> None:
    for settings in (make_settings(tmp_path, **PRODUCTION), make_settings(tmp_path)):
        assert settings.voice_mode is VoiceMode.twilio
        app = create_app(settings, run_worker=False)
        assert simulator_paths(app) == []
        assert "simulator" not in {tag["name"] for tag in app.openapi().get("tags", [])}
        transport = httpx.ASGITransport(app=app)
        calls = f"/simulator/twilio/2010-04-01/Accounts/{settings.account_sid}/Calls.json"
        async with httpx.AsyncClient(
            transport=transport, base_url=settings.public_base_url
        ) as http:
            for method, path in (
                ("POST", calls),
                ("GET", "/simulator/devices/stream"),
                ("POST", "/simulator/customers/calls"),
            ):
                # 405 where only the console's catch-all GET route matches the path.
                assert (await http.request(method, path)).status_code in (404, 405), path


def test_simulated_mode_documents_every_simulator_route(settings: Settings) -> None:
    paths = create_app(settings, run_worker=False).openapi()["paths"]
    assert set(simulator_paths_of(paths)) >= {
        "/simulator/twilio/2010-04-01/Accounts/{account_sid}/Calls.json",
        "/simulator/twilio/2010-04-01/Accounts/{account_sid}/Conferences/{conference}/"
        "Participants.json",
        "/simulator/devices/stream",
        "/simulator/devices/calls/{call_sid}/accept",
        "/simulator/customers/calls",
    }
    for path in simulator_paths_of(paths):
        for operation in paths[path].values():
            assert operation["tags"] == ["simulator"] and operation["summary"], path


def simulator_paths_of(paths: dict[str, object]) -> list[str]:
    return [path for path in paths if path.startswith("/simulator")]


async def test_customer_controls_need_a_console_login(world: World) -> None:
    response = await world.client.post("/simulator/customers/calls", json={"from": "+15551230000"})
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    await world.agents.create("agent1")
    bad = await world.api("POST", "/simulator/customers/calls", json={"from": "0800 CALL ME"})
    assert bad.status_code == 422
    unknown = await world.api("POST", f"/simulator/customers/calls/CA{'0' * 32}/hangup")
    assert unknown.status_code == 404


async def test_the_apps_rest_requests_reach_the_simulator_in_process(world: World) -> None:
    """The gateway's base URL is the simulator's; no port, no network."""
    await world.agents.create("agent1")
    sid = await world.customer_calls()
    # The dial job's Calls.json request created the agent's call in the simulator.
    [agent_call] = await eventually(lambda: world.simulator.engine.calls_to("agent1"))
    assert (agent_call.direction, agent_call.from_) == ("outbound-api", world.settings.caller_id)
    assert (await world.customer(sid))["hearing"] in ("ringing", "waiting")


def test_the_simulator_imports_only_the_apps_settings() -> None:
    """DESIGN §7: it plays Twilio over HTTP and TwiML, never through the app's domain code; and
    nothing in the app but main.py (the wiring) imports it."""
    for path in (PACKAGE / "simulator").glob("*.py"):
        for module in _imports(path):
            if module.startswith("warm_transfer"):
                assert module == "warm_transfer.config" or module.startswith(
                    "warm_transfer.simulator"
                ), f"{path.name} imports {module}"
    importers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "simulator" not in path.parts
        and any(m.startswith("warm_transfer.simulator") for m in _imports(path))
    }
    assert importers == {"main.py"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found

"""Fixtures: the simulator alone against a stand-in app, and the real app in simulated mode.

Simulated time runs fast (TIME_SCALE), so a 5-second ring timeout plus Twilio's 5-second buffer
rings out in half a second; tests wait for outcomes by polling, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import PUBLIC_BASE_URL, make_settings
from tests.factories import AgentFactory
from tests.simulator.helpers import FakeApp, Softphone, eventually
from tests.simulator.streaming import StreamingASGITransport
from warm_transfer.config import Settings, VoiceMode
from warm_transfer.db import create_engine
from warm_transfer.main import create_app
from warm_transfer.models import Base
from warm_transfer.simulator import Simulator, simulator_router
from warm_transfer.simulator.state import Call, CallStatus
from warm_transfer.telephony.gateway import TwilioGateway

TIME_SCALE = 0.05
CUSTOMER = "+15551230000"


def simulated_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """As the main suite's settings, but simulated: no Twilio credentials at all (the app derives
    the auth token and API secret from SECRET_KEY)."""
    values: dict[str, Any] = {
        "voice_mode": VoiceMode.simulated,
        "twilio_account_sid": None,
        "twilio_auth_token": None,
        "twilio_api_key": None,
        "twilio_api_secret": None,
        "twilio_number": None,
        "twilio_api_base_url": "https://api.twilio.com",
        "agent_ring_timeout": 5,
        **overrides,
    }
    return make_settings(tmp_path, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return simulated_settings(tmp_path)


# --- the simulator alone ------------------------------------------------------------------------


@pytest.fixture
def fake(settings: Settings) -> FakeApp:
    return FakeApp(settings)


@pytest.fixture
async def simulator(settings: Settings, fake: FakeApp) -> AsyncIterator[Simulator]:
    simulator = Simulator(
        settings=settings,
        app_transport=httpx.ASGITransport(app=fake.asgi),
        time_scale=TIME_SCALE,
        heartbeat_seconds=0.05,
    )
    yield simulator
    await simulator.aclose()


@pytest.fixture
def host(simulator: Simulator) -> FastAPI:
    """The simulator's routes alone (customer routes open: no console login here)."""
    host = FastAPI()
    host.include_router(simulator_router(console_auth=lambda: None))
    host.state.simulator = simulator
    return host


@pytest.fixture
async def rest(host: FastAPI, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Twilio's REST API as a raw HTTP client sees it, authenticated."""
    base = f"{PUBLIC_BASE_URL}/simulator/twilio/2010-04-01/Accounts/{settings.account_sid}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=host),
        base_url=base,
        auth=(settings.account_sid, settings.auth_token),
    ) as client:
        yield client


@pytest.fixture
async def gateway(host: FastAPI, settings: Settings) -> AsyncIterator[TwilioGateway]:
    """The app's own Twilio client (the twilio SDK), pointed at the simulator."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host)) as http:
        yield TwilioGateway(
            account_sid=settings.account_sid,
            auth_token=settings.auth_token,
            http=http,
            base_url=f"{PUBLIC_BASE_URL}/simulator/twilio",
        )


# --- the app in simulated mode ------------------------------------------------------------------


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    engine = create_engine(settings.database_url)
    async with engine.begin() as connection:
        # From empty, also when TEST_DATABASE_URL points the suite at one shared database.
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()
    application = create_app(settings, run_worker=True)
    async with application.router.lifespan_context(application):
        # The lifespan's simulator runs in real time; tests swap in a fast one.
        await application.state.simulator.aclose()
        application.state.simulator = Simulator(
            settings=settings,
            app_transport=httpx.ASGITransport(app=application),
            time_scale=TIME_SCALE,
        )
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE_URL
    ) as http:
        yield http


@dataclass
class World:
    """The app in simulated mode, driven only as its users and Twilio would: consoles over the
    API, softphones and customers over the simulator's HTTP API."""

    app: FastAPI
    client: httpx.AsyncClient
    streams: httpx.AsyncClient
    agents: AgentFactory
    phones: list[Softphone] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    @property
    def simulator(self) -> Simulator:
        simulator: Simulator = self.app.state.simulator
        return simulator

    async def agent(self, agent_id: str, *, phone: bool = True) -> Softphone | None:
        """An available agent, with their console's softphone registered."""
        await self.agents.create(agent_id)
        return await self.phone(agent_id) if phone else None

    async def phone(self, agent_id: str) -> Softphone:
        response = await self.client.post(
            "/api/voice/token", headers=await self.agents.headers(agent_id)
        )
        assert response.status_code == 200, response.text
        phone = await Softphone.open(self.streams, agent_id, response.json()["token"])
        self.phones.append(phone)
        return phone

    async def api(
        self, method: str, path: str, *, as_: str = "agent1", **kw: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=await self.agents.headers(as_), **kw)

    async def customer_calls(self, from_: str = CUSTOMER) -> str:
        response = await self.api("POST", "/simulator/customers/calls", json={"from": from_})
        assert response.status_code == 201, response.text
        return str(response.json()["call_sid"])

    async def customer(self, call_sid: str) -> dict[str, Any]:
        response = await self.api("GET", f"/simulator/customers/calls/{call_sid}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def hearing(self, call_sid: str, wanted: str, **conditions: Any) -> dict[str, Any]:
        """Wait until the customer hears `wanted` (and the view matches `conditions`)."""

        async def check() -> dict[str, Any] | None:
            view = await self.customer(call_sid)
            matches = view["hearing"] == wanted and all(
                _pick(view, key) == value for key, value in conditions.items()
            )
            return view if matches else None

        return await eventually(check, what=f"the customer hearing {wanted} {conditions}")

    async def customer_hangs_up(self, call_sid: str) -> None:
        response = await self.api("POST", f"/simulator/customers/calls/{call_sid}/hangup")
        assert response.status_code == 200, response.text

    async def call(self, customer_sid: str) -> dict[str, Any]:
        """The app's own view: `GET /api/calls/{id}` of the call with this customer CallSid."""
        call = await self._find_call(customer_sid)
        assert call is not None, f"the app has no call {customer_sid}"
        return call

    async def _find_call(self, customer_sid: str) -> dict[str, Any] | None:
        page = (await self.api("GET", "/api/calls")).json()
        ids = [item["id"] for item in page["items"] if item["call_sid"] == customer_sid]
        if not ids:
            return None  # its voice webhook has not reached the app yet
        response = await self.api("GET", f"/api/calls/{ids[0]}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def call_where(self, customer_sid: str, what: str, test: Any) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            call = await self._find_call(customer_sid)
            return call if call is not None and test(call) else None

        return await eventually(check, what=what)

    def sim_call(self, call_sid: str) -> Call:
        return self.simulator.engine.calls[call_sid]

    async def sim_status(self, call_sid: str, status: CallStatus) -> Call:
        call = self.sim_call(call_sid)
        return await eventually(
            lambda: call if call.status is status else None, what=f"{call_sid} {status}"
        )


def _pick(view: dict[str, Any], dotted: str) -> Any:
    value: Any = view
    for key in dotted.split("__"):
        value = value.get(key) if isinstance(value, dict) else None
    return value


@pytest.fixture
async def world(
    app: FastAPI, client: httpx.AsyncClient, agents: AgentFactory
) -> AsyncIterator[World]:
    async with httpx.AsyncClient(
        transport=StreamingASGITransport(app), base_url=PUBLIC_BASE_URL
    ) as streams:
        world = World(app=app, client=client, streams=streams, agents=agents)
        yield world
        for phone in world.phones:
            await phone.close()

"""The simulator as the app holds it: built in the lifespan, closed on shutdown."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from warm_transfer.config import Settings
from warm_transfer.simulator.devices import DeviceHub
from warm_transfer.simulator.engine import Engine
from warm_transfer.simulator.state import Clock
from warm_transfer.simulator.tasks import TaskSet
from warm_transfer.simulator.webhooks import WebhookSender

SHUTDOWN_GRACE = 5.0  # seconds the requests in flight get to finish on shutdown


class Simulator:
    """Twilio's part, played over HTTP and TwiML against the app behind `app_transport`.

    `time_scale` multiplies every simulated delay and timeout (ringing, speech, music), so tests
    can run a 20-second ring timeout in a fraction of a second.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        app_transport: httpx.AsyncBaseTransport,
        time_scale: float = 1.0,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self.settings = settings
        self.heartbeat_seconds = heartbeat_seconds
        self.clock = Clock(time_scale)
        self.devices = DeviceHub()
        self._tasks = TaskSet()
        self._requests = TaskSet()  # requests to the app, in flight
        self._client = httpx.AsyncClient(transport=app_transport, base_url=settings.public_base_url)
        self.webhooks = WebhookSender(
            client=self._client,
            auth_token=settings.auth_token,
            public_base_url=settings.public_base_url,
            tasks=self._requests,
        )
        self.engine = Engine(
            account_sid=settings.account_sid,
            sender=self.webhooks,
            devices=self.devices,
            clock=self.clock,
            tasks=self._tasks,
        )

    async def aclose(self) -> None:
        await self._tasks.aclose()
        # Requests already sent run inside the app (in-process): cancelling one midway would
        # abandon its database transaction, so they get a moment to finish, as a server's would.
        await self._requests.aclose(grace=SHUTDOWN_GRACE)
        await self._client.aclose()


async def get_simulator(request: Request) -> Simulator:
    # async: FastAPI would run a plain function in a worker thread.
    simulator: Simulator = request.app.state.simulator
    return simulator


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]

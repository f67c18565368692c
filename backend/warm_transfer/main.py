"""The application factory: settings, logging, lifespan (database, Twilio gateway, job worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from warm_transfer import __version__
from warm_transfer.agents.dependencies import current_agent
from warm_transfer.agents.router import router as agents_router
from warm_transfer.agents.throttle import LoginThrottle
from warm_transfer.calls.inbound import InboundCalls
from warm_transfer.calls.router import router as calls_router
from warm_transfer.config import AppEnv, Settings, get_settings
from warm_transfer.db import create_engine, create_read_engine, create_session_factory
from warm_transfer.errors import NotFound, install_error_handlers
from warm_transfer.events.bus import EventBus
from warm_transfer.events.feed import SnapshotFeed
from warm_transfer.events.relay import PostgresRelay
from warm_transfer.events.router import router as events_router
from warm_transfer.jobs.queue import JobQueue, JobWorker
from warm_transfer.logging import RequestContextMiddleware, configure_logging
from warm_transfer.routing.dispatcher import Dispatcher
from warm_transfer.routing.handlers import job_handlers
from warm_transfer.simulator import Simulator, simulator_router
from warm_transfer.system.router import router as system_router
from warm_transfer.telephony.aiohttp_transport import AiohttpTransport
from warm_transfer.telephony.gateway import TwilioGateway
from warm_transfer.telephony.voice import Voice
from warm_transfer.transfers.router import router as transfers_router
from warm_transfer.webhooks.router import router as webhooks_router

logger = logging.getLogger(__name__)

CONSOLE_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"

DESCRIPTION = """
Hand a live Twilio Voice call to a colleague without dropping the customer.

* **Agents** log in (`POST /api/auth/login`, or the **Authorize** button), go available, and get
  calls on their browser softphone (`POST /api/voice/token`).
* **Twilio** calls the webhooks under `/conference/…`; every one is signature-checked.
* Errors always have the shape `{"error": "<code>", "detail": "<message>"}`.
"""


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.app_env is AppEnv.production)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_seconds,
        )
        read_engine = create_read_engine(engine)
        session_factory = create_session_factory(engine)
        read_session_factory = create_session_factory(read_engine)
        event_bus = EventBus()
        event_bus.watch(session_factory)
        feed = SnapshotFeed(
            bus=event_bus,
            sessions=read_session_factory,
            grace_seconds=settings.presence_grace_seconds,
        )
        relay: PostgresRelay | None = None
        if engine.dialect.name == "postgresql":  # several replicas may share this database
            relay = PostgresRelay(database_url=settings.database_url, deliver=event_bus.publish)
            await relay.start()
            event_bus.relay = relay.send
        simulator: Simulator | None = None
        api_base_url = settings.twilio_api_base_url
        api_transport: httpx.AsyncBaseTransport | None = None
        if settings.is_simulated:
            # Twilio's part is played in-process: REST requests reach the simulator's routes and
            # its webhooks reach the app through the app itself, no port needed.
            simulator = Simulator(settings=settings, app_transport=httpx.ASGITransport(app=app))
            app.state.simulator = simulator
            api_base_url = settings.public_base_url + "/simulator/twilio"
            api_transport = httpx.ASGITransport(app=app)
        http = httpx.AsyncClient(
            transport=api_transport or AiohttpTransport(max_connections=100),
            timeout=httpx.Timeout(settings.twilio_http_timeout_seconds, connect=5.0),
        )
        gateway = TwilioGateway(
            account_sid=settings.account_sid,
            auth_token=settings.auth_token,
            http=http,
            base_url=api_base_url,
        )
        queue = JobQueue()
        voice = Voice(gateway=gateway, jobs=queue, settings=settings)
        worker = JobWorker(
            session_factory=session_factory, queue=queue, handlers=job_handlers(voice=voice)
        )
        dispatcher = Dispatcher(session_factory=session_factory, voice=voice)
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = session_factory
        app.state.read_session_factory = read_session_factory
        app.state.snapshot_feed = feed
        app.state.event_bus = event_bus
        app.state.gateway = gateway
        app.state.job_queue = queue
        app.state.job_worker = worker
        app.state.voice = voice
        app.state.dispatcher = dispatcher
        app.state.inbound_calls = InboundCalls(
            session_factory=session_factory, recorded=dispatcher.wake
        )
        worker_task = asyncio.create_task(worker.run()) if run_worker else None
        dispatcher_task = asyncio.create_task(dispatcher.run()) if run_worker else None
        feed_task = asyncio.create_task(feed.run())
        logger.info(
            "warm transfer %s ready: %s voice, public URL %s",
            __version__,
            settings.voice_mode,
            settings.public_base_url,
        )
        try:
            yield
        finally:
            for task in (worker_task, dispatcher_task, feed_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await worker.close()
            if simulator is not None:
                await simulator.aclose()
            await http.aclose()
            if relay is not None:
                await relay.close()
            await engine.dispose()
            if read_engine is not engine:
                await read_engine.dispose()

    app = FastAPI(
        title="Warm Transfer",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "auth", "description": "Agent login."},
            {"name": "agents", "description": "The logged-in agent, the directory, presence."},
            {"name": "calls", "description": "Calls with their legs and transfers."},
            {"name": "transfers", "description": "Warm transfers between agents."},
            {"name": "events", "description": "The console's live feed (Server-Sent Events)."},
            {"name": "Twilio webhooks", "description": "Called by Twilio, signed."},
            {"name": "system", "description": "Configuration and health."},
            *(
                [{"name": "simulator", "description": "The built-in Twilio simulator."}]
                if settings.is_simulated
                else []
            ),
        ],
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle(settings.login_rate_limit)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Routes are matched in order: Twilio's webhooks, most of the traffic, are tried first.
    for router in (
        webhooks_router,
        system_router,
        agents_router,
        calls_router,
        transfers_router,
        events_router,
    ):
        app.include_router(router)
    if settings.is_simulated:
        app.include_router(simulator_router(console_auth=current_agent))
    mount_console(app, CONSOLE_DIST)
    return app


def mount_console(app: FastAPI, dist: Path) -> None:
    """Serve the built console at `/` (client-side routes fall back to index.html)."""
    index = dist / "index.html"
    if not index.is_file():
        return
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    # Top-level files of the build (favicon, robots.txt): listed once, never joined from a path.
    files = {item.name: item for item in dist.iterdir() if item.is_file()}

    @app.get("/{path:path}", include_in_schema=False)
    async def console(path: str) -> FileResponse:
        if path.split("/", 1)[0] in ("api", "conference", "simulator"):
            raise NotFound(f"No route GET /{path}")
        return FileResponse(files.get(path, index))

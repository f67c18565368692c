"""`warm-transfer`: serve the app, migrate the database, manage agents, simulate customers."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import service as agents
from warm_transfer.agents.models import Availability
from warm_transfer.agents.schemas import is_valid_agent_id
from warm_transfer.agents.security import issue_access_token
from warm_transfer.config import AppEnv, get_settings
from warm_transfer.db import create_engine, create_session_factory
from warm_transfer.errors import AppError

T = TypeVar("T")
BACKEND_DIR = Path(__file__).resolve().parent.parent
# Dev-only logins, seeded in development (as in Twilio's tutorial) and printed by `make run`.
DEV_AGENTS = (
    ("agent1", "Agent One", "agent1-dev-password"),
    ("agent2", "Agent Two", "agent2-dev-password"),
)

GRACEFUL_SHUTDOWN_SECONDS = 5

app = typer.Typer(help="Warm Transfer: warm transfers on Twilio Voice.", no_args_is_help=True)
agents_app = typer.Typer(help="Manage agents.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
simulate_app = typer.Typer(
    help="Simulated customers, through a running server's built-in Twilio simulator "
    "(simulated voice mode only).",
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BACKEND_DIR / "migrations"))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.secho(exc.detail, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema (and seed the dev agents in development)."""
    command.upgrade(alembic_config(), "head")
    if get_settings().app_env is AppEnv.development:
        seeded = _in_session(_seed_dev_agents)
        for agent_id in seeded:
            typer.echo(f"seeded dev agent {agent_id}")


async def _seed_dev_agents(session: AsyncSession) -> list[str]:
    seeded = []
    for agent_id, name, password in DEV_AGENTS:
        if agent_id not in {agent.id for agent in await agents.list_agents(session)}:
            await agents.create_agent(
                session,
                agent_id=agent_id,
                name=name,
                password=password,
                availability=Availability.away,
            )
            seeded.append(agent_id)
    return seeded


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the API, the docs (/docs), the webhooks and the built console on one port."""
    import uvicorn

    get_settings()  # fail fast, with the settings' own message, on unsafe configuration
    if not reload:
        _freeze_the_heap()
    uvicorn.run(
        "warm_transfer.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=True,
        log_config=None,
        # On SIGTERM: stop accepting, let in-flight webhooks finish, then cut long-lived
        # event streams (consoles reconnect to another replica) and shut down.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def _freeze_the_heap() -> None:
    """Move what lives as long as the process (modules, schemas, mappers: ~170,000 objects) out
    of the garbage collector's way. A full collection walks every tracked object, and under load
    that stalled all requests for 60-70 ms every few seconds (measured); frozen, ~4 ms."""
    import warm_transfer.main  # noqa: F401  (the app's modules and what they import)

    gc.collect()
    gc.freeze()


@agents_app.command("add")
def add_agent(
    agent_id: Annotated[str, typer.Argument(metavar="ID", help="Letters, digits, - and _.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Login password."
        ),
    ],
) -> None:
    """Add an agent who can log in to the console."""
    if not is_valid_agent_id(agent_id):
        typer.secho("ID must be 1-64 letters, digits, '-' or '_'", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    if len(password) < 8:
        typer.secho("the password needs at least 8 characters", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)

    async def work(session: AsyncSession) -> None:
        await agents.create_agent(session, agent_id=agent_id, name=name, password=password)

    _in_session(work)
    typer.echo(f"added agent {agent_id}")


@agents_app.command("list")
def list_agents() -> None:
    """List agents with their availability."""

    async def work(session: AsyncSession) -> list[tuple[str, str, str]]:
        return [
            (agent.id, agent.name, agent.availability.value)
            for agent in await agents.list_agents(session)
        ]

    for agent_id, name, availability in _in_session(work):
        typer.echo(f"{agent_id}\t{name}\t{availability}")


@agents_app.command("remove")
def remove_agent(agent_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove an agent."""

    async def work(session: AsyncSession) -> None:
        await agents.remove_agent(session, agent_id=agent_id)

    _in_session(work)
    typer.echo(f"removed agent {agent_id}")


# --- simulate: a customer against a running server's simulator ----------------------------------

ServerUrl = Annotated[str, typer.Option("--url", help="The running server (warm-transfer serve).")]
AsAgent = Annotated[
    str | None,
    typer.Option("--as", metavar="AGENT", help="Act with this agent's login (default: the first)."),
]
DEFAULT_URL = "http://127.0.0.1:8000"


@simulate_app.command("call")
def simulate_call(
    from_: Annotated[
        str, typer.Option("--from", metavar="NUMBER", help="The customer's number (E.164).")
    ],
    to: Annotated[
        str | None, typer.Option(metavar="NUMBER", help="The number dialed (default: the app's).")
    ] = None,
    url: ServerUrl = DEFAULT_URL,
    as_agent: AsAgent = None,
) -> None:
    """A customer calls the support number: Twilio's voice webhook goes to the app."""
    body = {"from": from_, **({"to": to} if to else {})}
    call = _simulator("POST", "/simulator/customers/calls", url=url, as_agent=as_agent, body=body)
    typer.echo(_customer_line(call))


@simulate_app.command("list")
def simulate_list(url: ServerUrl = DEFAULT_URL, as_agent: AsAgent = None) -> None:
    """Customer calls, newest first, with what each customer hears now."""
    for call in _simulator("GET", "/simulator/customers/calls", url=url, as_agent=as_agent):
        typer.echo(_customer_line(call))


@simulate_app.command("hangup")
def simulate_hangup(
    call_sid: Annotated[str, typer.Argument(metavar="CALL_SID")],
    url: ServerUrl = DEFAULT_URL,
    as_agent: AsAgent = None,
) -> None:
    """The customer hangs up."""
    path = f"/simulator/customers/calls/{call_sid}/hangup"
    typer.echo(_customer_line(_simulator("POST", path, url=url, as_agent=as_agent)))


def _simulator(
    method: str, path: str, *, url: str, as_agent: str | None, body: dict[str, str] | None = None
) -> Any:
    """Call the server's simulator as a logged-in console would, with a short-lived login."""
    settings = get_settings()
    if not settings.is_simulated:
        typer.secho(
            "the simulator runs only in simulated voice mode (VOICE_MODE=simulated)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)

    async def acting_agent(session: AsyncSession) -> tuple[str, int]:
        known = {agent.id: agent.session_version for agent in await agents.list_agents(session)}
        if as_agent is not None and as_agent not in known:
            raise agents.AgentNotFound(f"Agent {as_agent!r} not found")
        if not known:
            raise agents.AgentNotFound("No agents yet: run `warm-transfer migrate` (development)")
        agent_id = as_agent or next(iter(known))
        return agent_id, known[agent_id]

    agent_id, session_version = _in_session(acting_agent)
    token = issue_access_token(
        agent_id=agent_id,
        session_version=session_version,
        secret_key=settings.secret_key.get_secret_value(),
        ttl_seconds=60,
    )
    try:
        response = httpx.request(
            method,
            url.rstrip("/") + path,
            json=body,
            headers={"Authorization": f"Bearer {token.token}"},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        typer.secho(f"no server answers at {url} ({exc})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        typer.secho(f"{response.status_code}: {detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    return response.json()


def _customer_line(call: dict[str, Any]) -> str:
    return f"{call['call_sid']}\t{call['from']}\t{call['status']}\t{_hears(call)}"


def _hears(call: dict[str, Any]) -> str:
    """What the customer hears, in words."""
    audio = call.get("audio") or {}
    playing = (
        f'"{audio["text"]}"'
        if audio.get("verb") == "Say"
        else f"music {audio['url']}"
        if audio.get("verb") == "Play"
        else "silence"
    )
    match call["hearing"]:
        case "conference":
            others = ", ".join(call["conference"]["others"]) or "nobody"
            return f"talking with {others}"
        case "waiting":
            return f"waiting for an agent: {playing}"
        case "hold":
            return f"on hold: {playing}"
        case "message":
            return playing
        case "ringing":
            return "ringing (the app has not answered yet)"
        case hearing:
            return str(hearing)

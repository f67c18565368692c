"""`warm-transfer`: serve the app, migrate the database, manage agents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.agents import service as agents
from warm_transfer.agents.models import Availability
from warm_transfer.agents.schemas import is_valid_agent_id
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

app = typer.Typer(help="Warm Transfer: warm transfers on Twilio Voice.", no_args_is_help=True)
agents_app = typer.Typer(help="Manage agents.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")


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
    uvicorn.run(
        "warm_transfer.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=True,
        log_config=None,
    )


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

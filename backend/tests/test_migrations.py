"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from tests.conftest import TEST_DATABASE_URL, scratch_database
from warm_transfer.cli import alembic_config
from warm_transfer.db import create_engine
from warm_transfer.models import Base

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (make test sets it)"
        ),
    ),
]


@contextlib.asynccontextmanager
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        return
    async with scratch_database("wt_migrations") as url:
        yield url


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    action = command.downgrade if down else command.upgrade
    await asyncio.to_thread(action, config, revision)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return tables


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_to_head_matches_the_models(backend: str, tmp_path: Path) -> None:
    async with empty_database(backend, tmp_path) as url:
        await _migrate(url, "head")
        engine = create_engine(url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
        await engine.dispose()
        tables = await _tables(url)
    assert {"agents", "calls", "call_legs", "call_events", "transfers", "jobs"} <= tables


@pytest.mark.parametrize("backend", BACKENDS)
async def test_downgrade_to_base_removes_everything(backend: str, tmp_path: Path) -> None:
    async with empty_database(backend, tmp_path) as url:
        await _migrate(url, "head")
        await _migrate(url, "base", down=True)
        assert await _tables(url) == {"alembic_version"}

"""SQLite connections as the app opens them: the writer runs statements on the event loop, but
never waits for another process's lock there; readers see what it committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from warm_transfer import sqlite_connection
from warm_transfer.db import create_engine, create_read_engine


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return path


async def test_writes_read_back_with_ids_rowcounts_and_returning(database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    readers = create_read_engine(engine)
    try:
        async with engine.begin() as connection:
            inserted = await connection.execute(
                text("INSERT INTO notes (body) VALUES (:body) RETURNING id"),
                [{"body": "first"}],
            )
            assert inserted.scalar_one() == 1
            many = await connection.execute(
                text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "a"}, {"body": "b"}]
            )
            assert many.rowcount == 2
            updated = await connection.execute(text("UPDATE notes SET body = 'x' WHERE id > 1"))
            assert updated.rowcount == 2
        async with readers.connect() as connection:
            rows = (await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [(1, "first"), (2, "x"), (3, "x")]
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_a_rolled_back_transaction_leaves_nothing(database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:

        async def failing_request() -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
                raise RuntimeError("the request failed")

        with pytest.raises(RuntimeError):
            await failing_request()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 0
    finally:
        await engine.dispose()


async def test_another_processs_write_lock_is_waited_for_off_the_event_loop(
    database: Path,
) -> None:
    """A `warm-transfer` command holding the write lock for a while: the app's transaction
    waits for it and then succeeds, and the event loop keeps serving meanwhile."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    locked, release = threading.Event(), threading.Event()

    def other_process() -> None:
        with sqlite3.connect(database, isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO notes (body) VALUES ('theirs')")
            locked.set()
            release.wait(5)
            other.execute("COMMIT")

    holder = threading.Thread(target=other_process)
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async def write() -> float:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes (body) VALUES ('ours')"))
            return time.monotonic()

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # still waiting for the lock...
        assert ticks >= 10  # ...and not on the event loop, which kept running
        released = time.monotonic()
        release.set()
        assert await asyncio.wait_for(writing, 10) >= released
        ticking.cancel()
        async with engine.connect() as connection:
            bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).all()
        assert [row.body for row in bodies] == ["theirs", "ours"]
    finally:
        release.set()
        holder.join()
        await engine.dispose()


async def test_a_read_sees_one_snapshot_across_its_statements(database: Path) -> None:
    """The event feed reads a call, then its legs: a commit between the two must not show it
    half (a call still queued beside the agent leg that made it ringing)."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    readers = create_read_engine(engine)
    try:
        async with readers.connect() as reader, reader.begin():
            count = text("SELECT count(*) FROM notes")
            before = (await reader.execute(count)).scalar()
            async with engine.begin() as writer:
                await writer.execute(text("INSERT INTO notes (body) VALUES ('meanwhile')"))
            assert (await reader.execute(count)).scalar() == before == 0
        async with readers.connect() as reader:
            assert (await reader.execute(text("SELECT count(*) FROM notes"))).scalar() == 1
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_an_extended_busy_code_is_waited_out_like_a_plain_one(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLITE_BUSY_RECOVERY (a first read while another connection rebuilds the WAL index) is
    "database is locked" too: the statement is retried in the thread, not raised (a CI run's
    `warm-transfer simulate list` failed on it beside a running server)."""
    inline_run, failures = sqlite_connection._run, []

    def busy_once(connection: sqlite3.Connection, statement: Any) -> Any:
        if not failures:
            failures.append(threading.current_thread())
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = 5 | (1 << 8)  # SQLITE_BUSY_RECOVERY
            raise error
        return inline_run(connection, statement)

    monkeypatch.setattr(sqlite_connection, "_run", busy_once)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT body FROM notes"))).scalar() == "kept"
        assert failures == [threading.main_thread()]  # the inline attempt, then the retry
    finally:
        await engine.dispose()

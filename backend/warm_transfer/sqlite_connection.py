"""SQLite for the event loop: statements on the loop itself, or one trip to aiosqlite's thread.

aiosqlite runs SQLite in a thread of its own, and SQLAlchemy's adapter makes four trips to it per
statement (create a cursor, execute, fetch the rows, close). Each trip ends on the event loop's
next turn, which under load means after every other request's ready work, and the transaction
(with SQLite's one write lock) stays open all that time: the database idles while requests queue.

The writer runs each statement on the loop (`inline`): a local SQLite statement takes tens of
microseconds, far less than one turn of a busy loop, and its transaction never waits for the
loop. It never waits for a lock there: its busy timeout is zero, and a statement that finds the
database locked (by another process: `warm-transfer` commands, a second server) is retried in
the thread, waiting up to `busy_timeout` as usual. Readers (the event streams' snapshots, which
may read more) make one trip to the thread per statement, rows included.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite

_Outcome = tuple[Any, int, int | None, list[Any]]  # description, rowcount, lastrowid, rows


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses, results buffered (no server-side cursor)."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        return await self._run(lambda cursor: cursor.execute(sql, parameters or ()))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        return await self._run(lambda cursor: cursor.executemany(sql, parameters))

    async def _run(self, statement: Callable[[sqlite3.Cursor], object]) -> OneTripCursor:
        connection = self._connection
        if connection.inline:
            try:
                outcome = _run(connection._conn, statement)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                outcome = await connection._execute(  # type: ignore[no-untyped-call]
                    _run_waiting, connection._conn, statement, connection.busy_timeout
                )
        else:
            outcome = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, statement
            )
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._rows = []


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included: a connection's first read of a
    WAL database another connection is writing can fail with SQLITE_BUSY_RECOVERY, which a
    busy timeout would have waited out."""
    primary = (exc.sqlite_errorcode or 0) & 0xFF
    return primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _run(connection: sqlite3.Connection, statement: Callable[[sqlite3.Cursor], object]) -> _Outcome:
    cursor = connection.cursor()
    try:
        statement(cursor)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_waiting(
    connection: sqlite3.Connection,
    statement: Callable[[sqlite3.Cursor], object],
    busy_timeout: float,
) -> _Outcome:
    """`_run`, waiting up to `busy_timeout` seconds for the lock (in the thread: it sleeps)."""
    connection.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    try:
        return _run(connection, statement)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


class OneTripConnection(aiosqlite.Connection):
    def __init__(
        self, connector: Callable[[], sqlite3.Connection], *, inline: bool, busy_timeout: float
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self.inline = inline
        self.busy_timeout = busy_timeout

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self.inline:
            self._conn.commit()  # WAL: a commit takes no lock beyond the transaction's own
        else:
            await super().commit()

    async def rollback(self) -> None:
        if self.inline:
            self._conn.rollback()
        else:
            await super().rollback()


def one_trip_connector(
    database: str, *, inline: bool, busy_timeout: float, **kwargs: Any
) -> Callable[[], Awaitable[OneTripConnection]]:
    """An `async_creator` for SQLAlchemy, with the arguments its dialect would pass sqlite3.

    `inline` needs a connection usable from the loop's thread (`check_same_thread=False`,
    which SQLAlchemy passes for a database file)."""
    inline = inline and kwargs.get("check_same_thread") is False
    timeout = 0.0 if inline else busy_timeout

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(
            lambda: sqlite3.connect(database, timeout=timeout, **kwargs),
            inline=inline,
            busy_timeout=busy_timeout,
        )
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own
        await connection
        return connection

    return connect

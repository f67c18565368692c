"""aiosqlite, one trip to the connection's thread per statement.

aiosqlite runs SQLite in a thread of its own, and SQLAlchemy's adapter makes four trips to it per
statement (create a cursor, execute, fetch the rows, close). Each trip ends on the event loop's
next turn, which under load means after every other request's ready work, and the transaction
(with SQLite's one write lock) stays open all that time. The cursor here does the four in one trip:
the statement's rows are read in the thread and handed back with it.
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
        outcome: _Outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            _in_thread, self._connection, statement
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


def _in_thread(
    connection: OneTripConnection, statement: Callable[[sqlite3.Cursor], object]
) -> _Outcome:
    cursor = connection._conn.cursor()
    try:
        statement(cursor)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


def one_trip_connector(*args: Any, **kwargs: Any) -> Callable[[], Awaitable[OneTripConnection]]:
    """An `async_creator` for SQLAlchemy, with the arguments its dialect would pass sqlite3."""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(lambda: sqlite3.connect(*args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own
        await connection
        return connection

    return connect

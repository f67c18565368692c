"""Database engine, declarative base and the request-scoped session (one commit per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from fastapi import Path as PathParam
from sqlalchemy import ColumnElement, DateTime, MetaData, Table, TypeDecorator, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.dml import ReturningInsert

from warm_transfer.sqlite_connection import OneTripConnection, one_trip_connector

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


DEFAULT_POOL_SIZE = 10  # PostgreSQL connections per process (DATABASE_POOL_SIZE)
# Seconds a request waits for the database (DATABASE_POOL_TIMEOUT_SECONDS: for a pooled
# connection, and on SQLite for another process's write lock too) before it is answered 503:
# Twilio waits 15 s for a webhook, so a longer wait would only time out there. (On SQLite a
# request queued for the one writer connection behind a statement waiting for that lock may
# wait for both.)
DEFAULT_POOL_TIMEOUT = 10.0

# Row ids fit PostgreSQL's INTEGER: a larger id in a URL is a 422, never a database error.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def create_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> AsyncEngine:
    url = make_url(database_url)
    # Statement parameters stay out of error messages (and so out of logs): they hold callers'
    # numbers and password hashes.
    common: dict[str, Any] = {"pool_timeout": pool_timeout, "hide_parameters": True}
    if url.get_backend_name() != "sqlite":
        # A fixed set of connections, kept: SQLAlchemy's default (5, and 10 more opened for a
        # burst and closed after it) opened ~250 connections in ten seconds of the bench's
        # 100 calls a second, each a handshake and a cold statement cache. A request beyond the
        # pool waits for a connection instead.
        asyncpg = url.get_driver_name() == "asyncpg"
        # A driver that cannot tell whether the server closed a connection is pinged.
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=0, pool_pre_ping=not asyncpg, **common
        )
        _plan_with_values(engine)
        if asyncpg:
            _discard_closed_connections(engine)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # One connection: SQLite has one writer anyway, and waiting for the pool is an asyncio wait,
    # where waiting for SQLite's lock is a sleep-and-retry loop that makes latency spiky.
    engine = create_async_engine(
        url,
        async_creator=_sqlite_connector(url, inline=True, busy_timeout=pool_timeout),
        pool_size=1,
        max_overflow=0,
        **common,
    )
    _configure_sqlite(engine)
    return engine


def _plan_with_values(engine: AsyncEngine) -> None:
    """asyncpg prepares every statement, and after five runs on a connection PostgreSQL may switch
    to a generic plan, made without the parameters' values. Ours filter on statuses whose share
    swings with the load (a few calls waiting among thousands ringing, a few agents free among
    many busy): planned blind, the routing pass's queries scanned (p99 60 ms against 5 ms planned
    with the values) and dials waited behind them. Planning every run costs far less. A session
    setting, outside any transaction (a rollback would undo it); not a startup parameter, which
    a connection pooler such as PgBouncer may refuse."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute("SET plan_cache_mode = force_custom_plan")
        cursor.close()
        dbapi_connection.autocommit = autocommit


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """Never hand out a pooled asyncpg connection the server has closed (a restarted or
    failed-over database): it is discarded and another opened. asyncpg notices the server's
    goodbye on the event loop, so asking it costs no round trip, where SQLAlchemy's `pool_pre_ping`
    costs three (BEGIN, a ping, ROLLBACK) before each transaction: about a third of the CPU of a
    one-statement transaction."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the database closed this connection")


def create_read_engine(engine: AsyncEngine) -> AsyncEngine:
    """Where snapshots for the event streams are read. On SQLite, connections of their own that
    read the last committed state (WAL) beside the writer instead of queueing for its one
    connection and its write lock; elsewhere the same engine."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    timeout: float = engine.pool.timeout()  # type: ignore[attr-defined]
    readers = create_async_engine(
        url,
        async_creator=_sqlite_connector(url, inline=False, busy_timeout=timeout),
        pool_size=2,
        max_overflow=0,
        pool_timeout=timeout,
        hide_parameters=True,
    )
    _configure_sqlite(readers, read_only=True)
    return readers


def _sqlite_connector(
    url: URL, *, inline: bool, busy_timeout: float
) -> Callable[[], Awaitable[OneTripConnection]]:
    """Connections that keep SQLite's statements off the event loop's queue (see
    `sqlite_connection`), opened with what SQLAlchemy's own dialect would pass. A statement
    waits for another process's write lock as long as a request waits for a connection."""
    [database], kwargs = url.get_dialect()().create_connect_args(url)
    return one_trip_connector(database, inline=inline, busy_timeout=busy_timeout, **kwargs)


def _configure_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so we can open them IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if read_only:
            # A plain (deferred) transaction: one snapshot for all of a read's statements (a
            # call and then its legs), where the driver would run each in a snapshot of its own.
            connection.exec_driver_sql("BEGIN")
            return
        # BEGIN IMMEDIATE takes the write lock up front: concurrent requests queue for it instead
        # of reading a stale snapshot and failing to upgrade (SQLite's single writer, made honest).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A Session class of this factory's own, so session event listeners stay with this app.
    session_class = type("AppSession", (Session,), {})
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once after the handler, rolled back on error."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so whatever a client (or
# Twilio) is told has happened is already durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def insert_unless_exists(
    table: Table, *returning: ColumnElement[Any], unique: str
) -> dict[str, ReturningInsert[Any]]:
    """`INSERT … ON CONFLICT (unique) DO NOTHING RETURNING …` for each dialect, by name: one
    round trip where a check, a savepoint and the insert would take four; a row that conflicts
    returns nothing. Built once, the rows' values given at execution: building a statement
    around its values costs more than running it."""
    return {
        "postgresql": postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(*returning),
        "sqlite": sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(*returning),
    }


def enum_column(enum_cls: type[StrEnum]) -> SAEnum:
    """A StrEnum stored as its value in a VARCHAR: portable, and new values need no ALTER TYPE."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )

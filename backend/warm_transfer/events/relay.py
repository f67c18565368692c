"""Carry committed changes between replicas: PostgreSQL LISTEN/NOTIFY.

With several backend processes a webhook handled by one must reach an agent streaming from
another. Each replica NOTIFYs what it committed and LISTENs for everyone's (its own included),
then fans it out locally. Notices hold only ids, far below NOTIFY's 8000-byte payload limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import make_url

from warm_transfer.events.bus import RESYNC, Changes

logger = logging.getLogger(__name__)

CHANNEL = "warm_transfer_events"
RECONNECT_SECONDS = (0.5, 1, 2, 5)


def encode(changes: Changes) -> str:
    return json.dumps({"calls": sorted(changes.calls), "agents": changes.agents})


def decode(payload: str) -> Changes:
    data = json.loads(payload)
    return Changes(calls=frozenset(int(i) for i in data["calls"]), agents=bool(data["agents"]))


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresRelay:
    def __init__(self, *, database_url: str, deliver: Callable[[Changes], None]) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._deliver = deliver
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="events-listen"),
            asyncio.create_task(self._send(), name="events-notify"),
        ]
        await asyncio.wait_for(self.listening.wait(), 10)

    def send(self, changes: Changes) -> None:
        self._outbox.put_nowait(encode(changes))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _received(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._deliver(decode(payload))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed event notice")

    async def _listen(self) -> None:
        attempt = 0
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                await self._backoff(attempt, "listen", exc)
                attempt += 1
                continue
            attempt = 0
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
            try:
                await connection.add_listener(CHANNEL, self._received)
                self.listening.set()
                # A reconnect may have missed notices: streams re-read what they show.
                self._deliver(RESYNC)
                await lost.wait()
                logger.warning("event listener connection lost; reconnecting")
            finally:
                self.listening.clear()
                if not connection.is_closed():
                    await connection.close()

    async def _send(self) -> None:
        connection: asyncpg.Connection | None = None
        attempt = 0
        while True:
            payload = await self._outbox.get()
            while True:
                try:
                    if connection is None or connection.is_closed():
                        connection = await asyncpg.connect(self._dsn)
                    await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                    attempt = 0
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    connection = None
                    await self._backoff(attempt, "notify", exc)
                    attempt += 1

    @staticmethod
    async def _backoff(attempt: int, what: str, exc: BaseException) -> None:
        delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
        logger.warning("event %s connection failed (%s); retrying in %ss", what, exc, delay)
        await asyncio.sleep(delay)

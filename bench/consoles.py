"""Agents' consoles as the browser runs them: log in, get a stream ticket, keep the event stream
open (Server-Sent Events), note when each `call` event arrives and count the bytes received."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

Predicate = Callable[[dict[str, Any]], bool]


class Console:
    def __init__(self, http: aiohttp.ClientSession, server_url: str, agent_id: str, password: str):
        self.http = http
        self.server_url = server_url
        self.agent_id = agent_id
        self.password = password
        self.events = 0
        self.received = 0  # bytes of the event stream, as the browser would download them
        self.opened = asyncio.Event()
        self._waiters: dict[str, tuple[Predicate, asyncio.Future[float]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        async with self.http.post(
            self.server_url + "/api/auth/login",
            data={"username": self.agent_id, "password": self.password},
        ) as response:
            response.raise_for_status()
            token = (await response.json())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with self.http.put(
            self.server_url + "/api/agents/me/availability",
            json={"availability": "available"},
            headers=auth,
        ) as response:
            response.raise_for_status()
        async with self.http.post(self.server_url + "/api/events/ticket", headers=auth) as response:
            response.raise_for_status()
            ticket = (await response.json())["ticket"]
        self._task = asyncio.create_task(self._read(ticket))
        await asyncio.wait_for(self.opened.wait(), 10)

    async def _read(self, ticket: str) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self.http.get(
            self.server_url + "/api/events", params={"ticket": ticket}, timeout=timeout
        ) as response:
            response.raise_for_status()
            name, data = "message", []
            async for raw in response.content:
                self.received += len(raw)
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif line == "":
                    if data:
                        self._dispatch(name, "\n".join(data))
                    name, data = "message", []

    def _dispatch(self, name: str, data: str) -> None:
        arrived = time.monotonic()
        self.events += 1
        if name == "hello":
            self.opened.set()
        if name != "call" or not self._waiters:
            return
        call = json.loads(data)["call"]
        waiter = self._waiters.get(call["call_sid"])
        if waiter and waiter[0](call) and not waiter[1].done():
            waiter[1].set_result(arrived)

    def expect(self, call_sid: str, predicate: Predicate) -> asyncio.Future[float]:
        """A future for the arrival time of the next `call` event for this call that matches."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[call_sid] = (predicate, future)

        def forget(done: asyncio.Future[float]) -> None:
            if self._waiters.get(call_sid, (None, None))[1] is done:
                del self._waiters[call_sid]

        future.add_done_callback(forget)
        return future

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

"""A real server on a loopback port, an agent's event stream on it, and a reader for its
Server-Sent Events (httpx's in-process transport waits for a response to finish, which an event
stream never does)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.factories import AgentFactory


@contextlib.asynccontextmanager
async def serve(app: FastAPI, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs (on `sock` when given); yields its base URL."""
    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@dataclass(frozen=True)
class Event:
    id: str | None
    name: str
    data: Any


class EventReader:
    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        # The directory as a console keeps it: `directory` replaces it, `agents` updates entries.
        self.directory: dict[str, dict[str, Any]] = {}

    async def until_directory(
        self, where: Callable[[dict[str, dict[str, Any]]], bool], timeout: float = 5.0
    ) -> dict[str, dict[str, Any]]:
        """Read until the directory, as `directory` and `agents` events leave it, passes `where`
        (agent entries by id)."""
        async with asyncio.timeout(timeout):
            while not (self.directory and where(self.directory)):
                await self._read()
        return self.directory

    def _keep(self, event: Event) -> Event:
        if event.name == "directory":
            self.directory = {agent["id"]: agent for agent in event.data["agents"]}
        elif event.name == "agents":
            self.directory.update((agent["id"], agent) for agent in event.data["agents"])
        return event

    async def next(self, timeout: float = 5.0) -> Event:
        return await asyncio.wait_for(self._read(), timeout)

    async def until(self, name: str, where: Any = None, timeout: float = 5.0) -> Event:
        """Skip events until one named `name` (whose data passes `where`, if given)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self._read()
                if event.name == name and (where is None or where(event.data)):
                    return event

    async def _read(self) -> Event:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if not line:
                if "data" in fields:
                    return self._keep(
                        Event(
                            fields.get("id"),
                            fields.get("event", "message"),
                            json.loads(fields["data"]),
                        )
                    )
                continue
            if line.startswith(":"):
                continue  # keep-alive comment
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")
        raise EOFError("the stream ended")


@contextlib.asynccontextmanager
async def stream(server: str, agents: AgentFactory, agent_id: str) -> AsyncIterator[EventReader]:
    ticket = await agents.client.post("/api/events/ticket", headers=await agents.headers(agent_id))
    assert ticket.status_code == 200
    async with (
        httpx.AsyncClient(base_url=server, timeout=10) as http,
        http.stream("GET", "/api/events", params={"ticket": ticket.json()["ticket"]}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)

"""A server process killed outright (SIGKILL: no shutdown, no cleanup) after a webhook was
answered but before its dial reached Twilio: the restarted server sends that dial, once."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from pathlib import Path

import httpx

from tests.processes import (
    FakeTwilio,
    customer_calls,
    login,
    migrate,
    server_environment,
    start_server,
    wait_ready,
)
from tests.sse import serve
from tests.twilio import sid


def dial_job(database: Path) -> tuple[str, int, str | None] | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT status, attempts, last_error FROM jobs WHERE kind = 'dial_agent'"
        ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


async def test_a_server_killed_between_a_webhook_and_its_dial_sends_the_dial_once_after_restart(
    tmp_path: Path,
) -> None:
    database = tmp_path / "crash.db"
    # Twilio's address is reserved but not listening yet: the first server's dial is refused
    # (so it surely never reached Twilio) and waits to be retried when the server is killed.
    twilio_socket = socket.socket()
    twilio_socket.bind(("127.0.0.1", 0))
    twilio_url = f"http://127.0.0.1:{twilio_socket.getsockname()[1]}"
    environment = server_environment(f"sqlite+aiosqlite:///{database}", twilio_url)
    migrate(environment)

    first, url = start_server(environment)
    try:
        await wait_ready(url)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            headers = await login(http, "agent1")
            await http.put(
                "/api/agents/me/availability", json={"availability": "available"}, headers=headers
            )
            ticket = (await http.post("/api/events/ticket", headers=headers)).json()["ticket"]
            async with http.stream("GET", "/api/events", params={"ticket": ticket}) as stream:
                await anext(stream.aiter_lines())  # the console is open: agent1 is online
            call_sid = sid("CA")
            answered = await customer_calls(http, call_sid)
        assert answered.status_code == 200
        assert "<Conference" in answered.text
        for _ in range(500):
            job = dial_job(database)
            if job is not None and job[1] >= 1 and job[0] == "pending":
                break
            await asyncio.sleep(0.01)
        assert job is not None
        assert job[0] == "pending"  # refused, waiting for its retry
        first.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(first.wait, 10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()

    fake = FakeTwilio()
    async with serve(fake.app, twilio_socket):
        second, url = start_server(environment)
        try:
            await wait_ready(url)
            for _ in range(200):
                if dial_job(database)[0] == "done":  # type: ignore[index]
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, if there were one
        finally:
            second.terminate()
            await asyncio.to_thread(second.wait, 30)

    assert [form["To"] for form in fake.created] == ["client:agent1"]
    assert fake.created[0]["Url"].endswith(f"/conference/connect/{call_sid}/agent1")
    assert dial_job(database)[0] == "done"  # type: ignore[index]

"""A real server told to stop (SIGTERM, as Docker and systemd do) lets requests finish, closes
its event streams, and exits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.processes import BACKEND, CLI, free_port, wait_ready


async def test_sigterm_closes_event_streams_and_exits(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shutdown.db'}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("TWILIO_ACCOUNT_SID", None)
    subprocess.run([CLI, "migrate"], cwd=BACKEND, env=environment, check=True, capture_output=True)
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], cwd=BACKEND, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            login = await http.post(
                "/api/auth/login", data={"username": "agent1", "password": "agent1-dev-password"}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            ticket = (await http.post("/api/events/ticket", headers=headers)).json()["ticket"]
            async with http.stream("GET", "/api/events", params={"ticket": ticket}) as stream:
                lines = stream.aiter_lines()
                assert (await anext(lines)).startswith("event: hello")
                started = time.monotonic()
                server.send_signal(signal.SIGTERM)
                with contextlib.suppress(httpx.HTTPError):
                    async with asyncio.timeout(20):
                        async for _ in lines:
                            pass  # drains until the server closes the stream
                closed_after = time.monotonic() - started
        exit_code = await asyncio.to_thread(server.wait, 20)
    finally:
        if server.poll() is None:
            server.kill()
    # Uvicorn re-raises the signal once it has shut down cleanly.
    assert exit_code in (0, -signal.SIGTERM)
    assert closed_after < 10  # the streams are cut after the graceful window, not left hanging

"""The processes under test: the app as in production, the bare ceiling app, the Twilio double;
scratch databases; peak memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent  # the backend's venv
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-" + "0" * 15
SECRET_KEY = "bench-secret-key-" + "x" * 32
PUBLIC_BASE_URL = "https://warm-transfer.bench.invalid"
AGENT_PASSWORD = "bench-agent-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of the process's resident memory (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler:
    """psutil RSS sampled every 100 ms (VmHWM, read before the process stops, is the exact peak)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        try:
            import psutil

            proc = psutil.Process(self.pid)
            while True:
                self.peak = max(self.peak, proc.memory_info().rss / 2**20)
                await asyncio.sleep(0.1)
        except Exception:
            return

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> float:
        if self._task:
            self._task.cancel()
        hwm = peak_rss_mb(self.pid)
        return max(self.peak, hwm or 0.0)


# --- databases -------------------------------------------------------------------------------


async def postgres_available() -> bool:
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN_DSN), 3)
    except Exception:
        return False
    await conn.close()
    return True


@dataclass
class Database:
    """One scratch database per server start: every phase group begins from the same state."""

    kind: str  # sqlite | postgres
    workdir: Path
    created: list[str] = field(default_factory=list)
    _n: int = 0

    async def fresh(self) -> str:
        self._n += 1
        if self.kind == "sqlite":
            path = self.workdir / f"bench-{self._n}.db"
            return f"sqlite+aiosqlite:///{path}"
        import asyncpg

        name = f"wt_bench_{os.getpid()}_{self._n}"
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"

    async def drop_all(self) -> None:
        if self.kind != "postgres" or not self.created:
            return
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        self.created.clear()


def app_env(*, database_url: str, twilio_url: str) -> dict[str, str]:
    """Production settings, every secret fake, Twilio's REST API on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_"))}
    env.update(
        APP_ENV="production",
        DATABASE_URL=database_url,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        SECRET_KEY=SECRET_KEY,
        VOICE_MODE="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_KEY="SK" + "be" * 16,
        TWILIO_API_SECRET="bench-api-secret",
        TWILIO_NUMBER="+15005550006",
        TWILIO_TWIML_APP_SID="AP" + "be" * 16,
        TWILIO_API_BASE_URL=twilio_url,
        LOG_LEVEL="WARNING",
        # Agents seeded as seen a moment ago stay online for the whole run (only some keep a
        # stream open: see run.py).
        PRESENCE_GRACE_SECONDS="3600",
        CORS_ORIGINS="[]",
    )
    return env


async def seed_agents(database_url: str, count: int) -> list[str]:
    """`count` available agents, online, longest idle first in id order (bench000 first).
    Seeded through the app's models with one password hash (Argon2 is slow on purpose)."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from warm_transfer.agents.models import Agent, Availability
    from warm_transfer.agents.security import hash_password
    from warm_transfer.db import create_session_factory

    engine = create_async_engine(database_url)
    password_hash = hash_password(AGENT_PASSWORD)
    now = datetime.now(UTC)
    ids = [f"bench{i:03d}" for i in range(count)]
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for i, agent_id in enumerate(ids):
                session.add(
                    Agent(
                        id=agent_id,
                        name=f"Bench Agent {i}",
                        password_hash=password_hash,
                        availability=Availability.available,
                        idle_since=now - timedelta(hours=1) + timedelta(milliseconds=i),
                        last_seen_at=now,
                    )
                )
    finally:
        await engine.dispose()
    return ids


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


async def start_app(*, database_url: str, twilio_url: str, workdir: Path, agents: int) -> Proc:
    env = app_env(database_url=database_url, twilio_url=twilio_url)
    cwd = workdir  # no stray .env in the working directory
    subprocess.run([str(BIN / "warm-transfer"), "migrate"], env=env, cwd=cwd, check=True, capture_output=True)
    await seed_agents(database_url, agents)
    port = free_port()
    log = workdir / f"server-{port}.log"
    proc = subprocess.Popen(
        [str(BIN / "warm-transfer"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url + "/readyz", proc)
    return Proc(proc, url, log)


async def start_bare(workdir: Path) -> Proc:
    port = free_port()
    log = workdir / f"bare-{port}.log"
    proc = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "bare_app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=BENCH_DIR,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url + "/healthz", proc)
    return Proc(proc, url, log)


async def start_double(workdir: Path) -> Proc:
    port = free_port()
    log = workdir / f"double-{port}.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BENCH_DIR / "twilio_double.py"),
            "--port",
            str(port),
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
            "--public-base-url",
            PUBLIC_BASE_URL,
            "--server-url",
            "http://127.0.0.1:1",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url + "/_bench/stats", proc)
    return Proc(proc, url, log)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="warm-transfer-bench-"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

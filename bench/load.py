"""Load generation (aiohttp, loopback only, bounded in time and count) and the figures it yields."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

# A request to send: (path, form fields, extra headers); the signing happens in `Target`.
Build = Callable[[int], tuple[str, dict[str, str], dict[str, str]]]
MAX_REQUESTS = 500_000  # a hard bound on any single phase, whatever its duration
TIMEOUT = aiohttp.ClientTimeout(total=15)  # Twilio's own patience for a webhook


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Result:
    label: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    elapsed: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)  # CallSid -> monotonic send time
    answered: int = 0  # every answer, warm-up included (what the server's CPU was spent on)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


class Target:
    """Where the requests go, and how they are signed (against PUBLIC_BASE_URL + path)."""

    def __init__(
        self,
        *,
        server_url: str,
        public_base_url: str,
        sign: Callable[[str, dict[str, str]], str] | None,
    ):
        self.server_url = server_url.rstrip("/")
        self.public_base_url = public_base_url.rstrip("/")
        self.sign = sign

    def prepare(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        all_headers = dict(headers)
        if self.sign is not None:
            all_headers["X-Twilio-Signature"] = self.sign(self.public_base_url + path, params)
        return self.server_url + path, all_headers


async def _send(
    http: aiohttp.ClientSession,
    target: Target,
    build: Build,
    i: int,
    result: Result,
    started: float | None = None,
) -> None:
    path, params, headers = build(i)
    url, all_headers = target.prepare(path, params, headers)
    sent = time.monotonic()
    if "CallSid" in params and path.endswith("/client"):
        result.sent_at[params["CallSid"]] = sent
    began = started if started is not None else sent
    try:
        async with http.post(url, data=params, headers=all_headers) as response:
            await response.read()
            status = response.status
    except Exception:
        result.errors += 1
        return
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status >= 300:
        result.errors += 1
        return
    result.latencies.append(time.monotonic() - began)


async def closed_loop(
    target: Target, build: Build, *, concurrency: int, duration: float, warmup: float, label: str
) -> Result:
    """`concurrency` callers, each sending its next request as soon as the last one answered."""
    result = Result(label)
    counter = iter(range(MAX_REQUESTS))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        start = time.monotonic()
        measure_from = start + warmup
        stop = measure_from + duration
        warm = Result(label)

        async def caller() -> None:
            while time.monotonic() < stop:
                i = next(counter, None)
                if i is None:
                    return
                await _send(http, target, build, i, warm if time.monotonic() < measure_from else result)

        await asyncio.gather(*(caller() for _ in range(concurrency)))
        result.elapsed = time.monotonic() - measure_from
    result.answered = sum(sum(r.statuses.values()) for r in (warm, result))
    return result


async def open_loop(target: Target, build: Build, *, rate: float, duration: float, label: str) -> Result:
    """Requests at a steady offered rate, whatever the answers do (no coordinated omission:
    latency counts from the moment each request was due)."""
    result = Result(label)
    count = min(int(rate * duration), MAX_REQUESTS)
    connector = aiohttp.TCPConnector(limit=1000)
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        start = time.monotonic() + 0.05
        for i in range(count):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_send(http, target, build, i, result, started=due)))
        await asyncio.gather(*tasks)
        result.elapsed = count / rate
    return result

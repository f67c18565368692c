"""`make bench`: Warm Transfer's webhooks under load, on loopback, as the app runs in production.

    python bench/run.py [--twilio-latency-ms 300] [--duration 5] [--database sqlite|postgres|both]
                        [--quick] [--agents 100] [--streams 10] [--rate 100]

Starts `warm-transfer serve` (APP_ENV=production, one uvicorn worker, LOG_LEVEL=WARNING) on a
scratch database for each group of measurements, a local Twilio double (twilio_double.py) whose
REST latency is a parameter, and a bare FastAPI endpoint as the ceiling; drives bounded load and
prints one markdown table. Figures are printed, never asserted: the exit code says only whether
the bench ran.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import platform
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from twilio.request_validator import RequestValidator

from consoles import Console
from load import Result, Target, closed_loop, open_loop, percentile
from server import (
    ACCOUNT_SID,
    AGENT_PASSWORD,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    Database,
    Proc,
    RssSampler,
    cpu_seconds,
    postgres_available,
    remove,
    scratch_dir,
    start_app,
    start_bare,
    start_double,
    stop,
)

VOICE = "/conference/connect/client"
STATUS = "/conference/status"
SUPPORT_NUMBER = "+15559870000"
_validator = RequestValidator(AUTH_TOKEN)


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sign(url: str, params: dict[str, str]) -> str:
    return str(_validator.compute_signature(url, params))


def ms(seconds: float) -> float:
    return seconds * 1000


# --- webhooks as Twilio sends them -------------------------------------------------------------


def voice_request(_i: int) -> tuple[str, dict[str, str], dict[str, str]]:
    caller = f"+1555{random.randrange(10**7):07d}"
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid("CA"),  # every request is a new customer call
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "Caller": caller,
        "To": SUPPORT_NUMBER,
        "Called": SUPPORT_NUMBER,
    }
    return VOICE, params, {"I-Twilio-Idempotency-Token": secrets.token_hex(16)}


@dataclass
class LiveCall:
    """A customer call offered to an agent: what Twilio would know about it."""

    customer_sid: str
    agent_id: str
    agent_sid: str
    conference_sid: str = field(default_factory=lambda: sid("CF"))


def agent_connect_request(calls: list[LiveCall]):  # type: ignore[no-untyped-def]
    def build(i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        call = calls[i % len(calls)]
        path = f"/conference/connect/{call.customer_sid}/{call.agent_id}"
        return path, {"AccountSid": ACCOUNT_SID, "CallSid": call.agent_sid}, {}

    return build


def conference_event(call: LiveCall, sequence: int, event: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ConferenceSid": call.conference_sid,
        "FriendlyName": call.customer_sid,
        "StatusCallbackEvent": event,
        "SequenceNumber": str(sequence),
        "Timestamp": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        "CallSid": call.customer_sid,
        "Hold": "false",
        "Muted": "false",
        "Coaching": "false",
        "EndConferenceOnExit": "true",
        "StartConferenceOnEnter": "false",
        **extra,
    }


def conference_status_request(calls: list[LiveCall], sequence: itertools.count[int]):  # type: ignore[no-untyped-def]
    """Mute / unmute of the customer's leg: a fresh event each time (deduplicated, recorded,
    applied, announced to the consoles), never ending the call."""

    def build(i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        call = calls[i % len(calls)]
        seq = next(sequence)
        muted = seq % 2 == 0
        event = "participant-mute" if muted else "participant-unmute"
        params = conference_event(call, seq, event, Muted="true" if muted else "false")
        return STATUS, params, {"I-Twilio-Idempotency-Token": secrets.token_hex(16)}

    return build


@dataclass
class ServerCost:
    """What a closed loop cost the server: CPU per answer, and the share of a core it used (well
    under 100%: the load generator, not the server, set the pace)."""

    per_answer_us: float
    share: float

    def __str__(self) -> str:
        return f"server {self.per_answer_us:,.0f} µs CPU a request, {self.share:.0%} of a core"


async def closed_loop_with_cpu(server: Proc, target: Target, **kwargs: Any) -> tuple[Result, ServerCost]:
    """A closed loop of voice webhooks and its `ServerCost`, counted over the warm-up too (with
    its answers)."""
    cpu_before, started = cpu_seconds(server.proc.pid), time.monotonic()
    result = await closed_loop(target, voice_request, **kwargs)
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    return result, ServerCost(cpu / max(1, result.answered) * 1e6, cpu / (time.monotonic() - started))


# --- the report --------------------------------------------------------------------------------


@dataclass
class Row:
    database: str
    what: str
    load: str
    rate: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int | None = None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def add(self, database: str, what: str, result: Result, load: str, note: str = "") -> Row:
        row = Row(
            database,
            what,
            load,
            result.rate,
            result.p(50),
            result.p(95),
            result.p(99),
            result.errors,
            note,
        )
        self.rows.append(row)
        return row

    def print(self, header: str) -> None:
        def f(value: float | None, digits: int = 1) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return "–"
            return f"{value:,.{digits}f}"

        print()
        print(header)
        print()
        print("| db | measurement | load | req/s | p50 ms | p95 ms | p99 ms | errors | notes |")
        print("|---|---|---|---:|---:|---:|---:|---:|---|")
        for r in self.rows:
            rate = f(r.rate, 0) if r.rate is not None else "–"
            errors = str(r.errors) if r.errors is not None else "–"
            print(
                f"| {r.database} | {r.what} | {r.load} | {rate} | {f(r.p50)} | {f(r.p95)} | "
                f"{f(r.p99)} | {errors} | {r.note} |"
            )
        if self.summary:
            print()
            print("Against the issue's targets (printed, not asserted):")
            print()
            for line in self.summary:
                print(f"- {line}")


# --- the run -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.levels = [10, 50] if args.quick else [1, 10, 50, 200]
        self.duration = args.duration if args.duration else (1.5 if args.quick else 5.0)
        self.warmup = 0.3 if args.quick else 1.0
        self.open_duration = 3.0 if args.quick else max(10.0, 2 * self.duration)
        self.report = Report()
        self.workdir = scratch_dir()
        self.double: Proc | None = None
        self.bare_app: Proc | None = None  # up for the whole run: voice_closed measures it too
        self.peak_rss: dict[str, float] = {}

    async def double_config(self, **config: Any) -> None:
        assert self.double is not None
        async with aiohttp.ClientSession() as http:
            async with http.post(self.double.url + "/_bench/config", json=config) as r:
                r.raise_for_status()
            if config.pop("reset", True):
                async with http.post(self.double.url + "/_bench/reset") as r:
                    r.raise_for_status()

    async def double_get(self, what: str) -> Any:
        assert self.double is not None
        async with aiohttp.ClientSession() as http, http.get(self.double.url + "/_bench/" + what) as r:
            return await r.json()

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # --- one server, fresh database --------------------------------------------------------

    async def with_app(
        self, db: Database, *, latency_ms: float, lifecycle: bool, work: Any, agents: int | None = None
    ) -> Any:
        app = await start_app(
            database_url=await db.fresh(),
            twilio_url=self.double.url if self.double else "",
            workdir=self.workdir,
            agents=agents or self.args.agents,
        )
        await self.double_config(server_url=app.url, latency_ms=latency_ms, lifecycle=lifecycle)
        rss = RssSampler(app.proc.pid)
        rss.start()
        consoles: list[Console] = []
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            for i in range(self.args.streams):
                console = Console(http, app.url, f"bench{i:03d}", AGENT_PASSWORD)
                await console.open()
                consoles.append(console)
            return await work(app, consoles)
        except Exception:
            self.log("server log tail:\n" + app.tail())
            raise
        finally:
            for console in consoles:
                await console.close()
            await http.close()
            peak = rss.stop()
            self.peak_rss[db.kind] = max(self.peak_rss.get(db.kind, 0.0), peak)
            stop(app.proc)

    def target(self, app: Proc) -> Target:
        return Target(server_url=app.url, public_base_url=PUBLIC_BASE_URL, sign=sign)

    async def wait_for_dials(self, expected: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        dials: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            dials = await self.double_get("dials")
            if len(dials) >= expected:
                break
            await asyncio.sleep(0.2)
        return dials

    # --- groups ----------------------------------------------------------------------------

    def bare_target(self) -> Target:
        assert self.bare_app is not None
        return Target(server_url=self.bare_app.url, public_base_url=PUBLIC_BASE_URL, sign=None)

    async def bare_closed(self, concurrency: int) -> tuple[Result, ServerCost]:
        assert self.bare_app is not None
        return await closed_loop_with_cpu(
            self.bare_app,
            self.bare_target(),
            concurrency=concurrency,
            duration=self.duration,
            warmup=self.warmup,
            label="bare",
        )

    async def bare(self) -> None:
        self.log("bare FastAPI endpoint (the ceiling)")
        for c in self.levels:
            result, cpu = await self.bare_closed(c)
            self.report.add("–", "bare FastAPI endpoint (fixed TwiML)", result, f"{c} concurrent", str(cpu))
        if self.quick:
            return
        result = await open_loop(
            self.bare_target(),
            voice_request,
            rate=self.args.rate,
            duration=self.open_duration,
            label="bare",
        )
        self.report.add(
            "–",
            "bare FastAPI endpoint (fixed TwiML)",
            result,
            f"open loop {self.args.rate:g}/s",
        )

    async def voice_closed(self, db: Database) -> None:
        """The voice webhook at each level, each right after the bare endpoint at the same level:
        the VM's speed drifts by tens of percent within minutes, so the ratio compares runs a
        few seconds apart, not the bare group's from minutes before."""
        self.log(f"[{db.kind}] voice webhook, closed loop (each level after the bare endpoint's)")

        async def work(app: Proc, consoles: list[Console]) -> None:
            target = self.target(app)
            for c in self.levels:
                bare, bare_cpu = await self.bare_closed(c)
                ceiling = bare.rate
                result, cpu = await closed_loop_with_cpu(
                    app, target, concurrency=c, duration=self.duration, warmup=self.warmup, label="voice"
                )
                ratio = result.rate / ceiling if ceiling else 0.0
                note = f"{ratio:.0%} of the bare endpoint's {ceiling:,.0f} just before ({bare_cpu}); {cpu}"
                self.report.add(db.kind, "voice webhook", result, f"{c} concurrent", note)
                if c == 50:
                    self.report.summary.append(
                        f"[{db.kind}] voice webhook at 50 concurrent: {result.rate:,.0f} req/s = "
                        f"{ratio:.0%} of the bare endpoint's {ceiling:,.0f} measured just before "
                        f"(target ≥ 50%); the server's CPU a request {cpu.per_answer_us:,.0f} µs "
                        f"against the bare endpoint's {bare_cpu.per_answer_us:,.0f} µs, which used "
                        f"{bare_cpu.share:.0%} of a core"
                    )
            dials = await self.double_get("dials")
            self.report.rows[-1].note += f"; {len(dials)} of the calls reached a free agent, the rest queued"

        await self.with_app(db, latency_ms=self.args.twilio_latency_ms, lifecycle=False, work=work)

    async def callbacks(self, db: Database) -> None:
        """Agent connect webhook and conference status callback (closed loop), SSE latency."""
        self.log(f"[{db.kind}] agent connect + conference status callback, SSE latency")
        live = min(self.args.agents, 20 if self.quick else 50)

        async def work(app: Proc, consoles: list[Console]) -> None:
            target = self.target(app)
            # Customers call, one at a time: each is offered to the longest-idle agent (the
            # agents with an open console come first) and dialed through the double.
            sids = []
            async with aiohttp.ClientSession() as http:
                for i in range(live):
                    path, params, headers = voice_request(i)
                    url, all_headers = target.prepare(path, params, headers)
                    async with http.post(url, data=params, headers=all_headers) as r:
                        r.raise_for_status()
                    sids.append(params["CallSid"])
            dials = await self.wait_for_dials(live, timeout=30)
            await asyncio.sleep(self.args.twilio_latency_ms / 1000 + 0.5)  # dial jobs recorded
            by_conference = {d["conference"]: d for d in dials}
            calls = [
                LiveCall(s, by_conference[s]["agent"], by_conference[s]["sid"]) for s in sids if s in by_conference
            ]
            if not calls:
                raise RuntimeError("no call was dialed: check the server log")
            sequence = itertools.count(10)
            await self.sse_latency(db, target, calls, consoles, sequence)
            for c in self.levels:
                result = await closed_loop(
                    target,
                    agent_connect_request(calls),
                    concurrency=c,
                    duration=self.duration,
                    warmup=self.warmup,
                    label="connect",
                )
                self.report.add(db.kind, "agent connect webhook", result, f"{c} concurrent")
            for c in self.levels:
                result = await closed_loop(
                    target,
                    conference_status_request(calls, sequence),
                    concurrency=c,
                    duration=self.duration,
                    warmup=self.warmup,
                    label="status",
                )
                self.report.add(db.kind, "conference status callback", result, f"{c} concurrent")

        await self.with_app(db, latency_ms=self.args.twilio_latency_ms, lifecycle=False, work=work)

    async def sse_latency(
        self,
        db: Database,
        target: Target,
        calls: list[LiveCall],
        consoles: list[Console],
        sequence: itertools.count[int],
    ) -> None:
        """Hold / unhold the customer of each console's call, one event in flight per console;
        time from sending the callback to the matching `call` event on that agent's stream."""
        by_agent = {c.agent_id: c for c in calls}
        pairs = [(console, by_agent[console.agent_id]) for console in consoles if console.agent_id in by_agent]
        if not pairs:
            return
        latencies: list[float] = []
        webhook: list[float] = []
        errors = 0
        deadline = time.monotonic() + (3.0 if self.quick else max(5.0, self.duration))

        async def toggle(http: aiohttp.ClientSession, console: Console, call: LiveCall) -> None:
            nonlocal errors
            hold = False
            while time.monotonic() < deadline:
                hold = not hold
                seq = next(sequence)
                params = conference_event(
                    call,
                    seq,
                    "participant-hold" if hold else "participant-unhold",
                    Hold="true" if hold else "false",
                )
                url, headers = target.prepare(STATUS, params, {"I-Twilio-Idempotency-Token": secrets.token_hex(16)})

                def customer_hold(c: dict[str, Any], want: bool = hold) -> bool:
                    return any(leg["role"] == "customer" and leg["on_hold"] is want for leg in c["legs"])

                arrival = console.expect(call.customer_sid, customer_hold)
                sent = time.monotonic()
                async with http.post(url, data=params, headers=headers) as r:
                    await r.read()
                    if r.status >= 300:
                        errors += 1
                        arrival.cancel()
                        continue
                webhook.append(time.monotonic() - sent)
                try:
                    latencies.append(await asyncio.wait_for(arrival, 5) - sent)
                except TimeoutError:
                    errors += 1
                await asyncio.sleep(random.uniform(0.05, 0.15))

        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(toggle(http, console, call) for console, call in pairs))
        result = Result("sse", latencies=latencies, errors=errors, elapsed=0)
        row = self.report.add(
            db.kind,
            "status callback → agent's SSE stream",
            result,
            f"{len(pairs)} consoles, 1 event in flight each",
            f"{len(latencies)} events; {self.args.streams} streams open, {self.args.agents} agents",
        )
        row.rate = None

    async def open_loop_voice(self, db: Database, latency_ms: float, *, lifecycle: bool) -> None:
        """Customers call at a steady rate. With `lifecycle`, the double plays each dialed call
        through (the agent answers, joins, the customer hangs up: four more webhooks and the
        agent free again), on the usual agents. Without, the agent's phone rings through the run
        and one agent per call is online: the webhook → dial path alone, as the target states it."""
        what = "whole call" if lifecycle else "ringing only"
        self.log(f"[{db.kind}] voice webhook, open loop at {self.args.rate:g}/s, Twilio {latency_ms:g} ms, {what}")
        agents = None if lifecycle else math.ceil(self.args.rate * self.open_duration * 1.2) + 10

        async def work(app: Proc, consoles: list[Console]) -> None:
            cpu_before = cpu_seconds(app.proc.pid)
            received_before = sum(console.received for console in consoles)
            result = await open_loop(
                self.target(app),
                voice_request,
                rate=self.args.rate,
                duration=self.open_duration,
                label="open",
            )
            total = len(result.sent_at)
            dials = await self.wait_for_dials(total, timeout=3.0 if self.quick else 15.0)
            delays = [d["t"] - result.sent_at[d["conference"]] for d in dials if d["conference"] in result.sent_at]
            cpu_per_call = (cpu_seconds(app.proc.pid) - cpu_before) / max(1, total)
            received = sum(console.received for console in consoles) - received_before
            per_console = received / max(1, len(consoles)) / self.open_duration / 1024
            stats = await self.double_get("stats")
            failed = sum(v for k, v in stats["counts"].items() if k.endswith("failed"))
            load = f"open loop {self.args.rate:g}/s, Twilio {latency_ms:g} ms, {what}"
            if lifecycle:
                played = "each dialed call answered after 50 ms, ended after 100 ms more"
            else:
                played = f"agents' phones ring through the run, {agents} agents online"
            self.report.add(
                db.kind,
                "voice webhook",
                result,
                load,
                f"{total} calls; {played}; server CPU {ms(cpu_per_call):.1f} ms per call; "
                f"each console's stream {per_console:,.0f} KB/s",
            )
            dial = Result("dial", latencies=delays, elapsed=0)
            row = self.report.add(
                db.kind,
                "voice webhook → dial request at the Twilio double",
                dial,
                load,
                f"{len(delays)}/{total} dialed within the run + drain"
                + (f"; {failed} lifecycle callbacks failed" if failed else ""),
            )
            row.rate = None
            row.errors = total - len(delays)
            self.report.summary.append(
                f"[{db.kind}] at {self.args.rate:g} calls/s with a {latency_ms:g} ms Twilio, {what}: voice webhook "
                f"p99 {result.p(99):.1f} ms (target < 50), dial request p50 "
                f"{ms(percentile(delays, 50)):.1f} ms (target < 50), "
                f"{len(delays)}/{total} dialed"
            )

        await self.with_app(db, latency_ms=latency_ms, lifecycle=lifecycle, work=work, agents=agents)

    async def run(self) -> int:
        started = time.monotonic()
        kinds = ["sqlite", "postgres"] if self.args.database == "both" else [self.args.database]
        if "postgres" in kinds and not await postgres_available():
            self.log("PostgreSQL is not reachable on 127.0.0.1:5432: skipped")
            kinds.remove("postgres")
        load_before = os.getloadavg()
        self.double = await start_double(self.workdir)
        self.bare_app = await start_bare(self.workdir)
        databases = [Database(kind, self.workdir) for kind in kinds]
        try:
            await self.bare()
            for db in databases:
                try:
                    await self.voice_closed(db)
                    await self.callbacks(db)
                    latencies = [self.args.twilio_latency_ms]
                    if not self.quick:
                        latencies = sorted({10.0, self.args.twilio_latency_ms, 300.0})
                    for lifecycle in (False, True):
                        for latency in latencies:
                            await self.open_loop_voice(db, latency, lifecycle=lifecycle)
                finally:
                    await db.drop_all()
        finally:
            stop(self.bare_app.proc)
            stop(self.double.proc)
            remove(self.workdir)
        for kind, peak in self.peak_rss.items():
            self.report.rows.append(Row(kind, "server peak RSS (VmHWM)", "whole run", note=f"**{peak:.0f} MB**"))
            self.report.summary.append(f"[{kind}] server peak RSS {peak:.0f} MB (target < 200 MB)")
        header = (
            f"## Warm Transfer bench — {platform.node()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, load average before {load_before[0]:.2f}, "
            f"after {os.getloadavg()[0]:.2f}, {time.monotonic() - started:.0f} s\n\n"
            f"Twilio double REST latency {self.args.twilio_latency_ms:g} ms (closed-loop groups); "
            f"{self.args.agents} agents online, {self.args.streams} with an open event stream; "
            f"closed loop: {self.duration:g} s per level after {self.warmup:g} s warm-up; "
            f"open loop: {self.open_duration:g} s. Load generator, server, double share the machine."
        )
        self.report.print(header)
        return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twilio-latency-ms", type=float, default=300.0, help="the double's REST latency")
    parser.add_argument("--duration", type=float, default=None, help="seconds per closed-loop level")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres", "both"],
        default=None,
        help="default: both (PostgreSQL when reachable); sqlite with --quick",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--agents", type=int, default=100, help="agents seeded online and available")
    parser.add_argument("--streams", type=int, default=10, help="agents keeping a console stream open")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop calls per second")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    if args.database is None:
        args.database = "sqlite" if args.quick else "both"
    if args.streams > args.agents:
        args.streams = args.agents
    return asyncio.run(Bench(args).run())


if __name__ == "__main__":
    sys.exit(main())

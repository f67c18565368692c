"""A local Twilio double for the benchmark: Twilio's REST API on loopback, answering after a set
latency, and (optionally) playing Twilio's part of each dialed call.

Run as its own process (`python twilio_double.py --port … --server-url …`) so its bookkeeping
never shares an event loop with the load generator or the app. Arrival times are recorded with
`time.monotonic()` (CLOCK_MONOTONIC, the same clock in every process on Linux), so the bench can
compare them with the moment it sent a voice webhook.

Control endpoints (loopback only, used by run.py):
  POST /_bench/config  {"latency_ms": 300, "lifecycle": true, "ring_ms": 50, "talk_ms": 100}
  GET  /_bench/dials   every Calls.json create received: arrival time, conference, agent, sid
  GET  /_bench/stats   request counts, lifecycle callbacks sent and their failures
  POST /_bench/reset   forget what was recorded
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import time
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlparse

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class Double:
    def __init__(self, *, account_sid: str, auth_token: str, public_base_url: str, server_url: str):
        self.account_sid = account_sid
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/")
        self.server_url = server_url.rstrip("/")
        self.latency = 0.3
        self.lifecycle = False
        self.ring = 0.05
        self.talk = 0.1
        self.dials: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.lifecycle_latencies: dict[str, list[float]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200),
                timeout=aiohttp.ClientTimeout(total=15),
            )
        return self._http

    # --- REST API ----------------------------------------------------------------------------

    async def create_call(self, request: Request) -> Response:
        arrived = time.monotonic()
        form = await request.form()
        url = str(form.get("Url", ""))
        # .../conference/connect/{conference_id}/{agent_id}
        parts = urlparse(url).path.rstrip("/").split("/")
        conference, agent = unquote(parts[-2]), unquote(parts[-1])
        call_sid = sid("CA")
        self.dials.append({"t": arrived, "conference": conference, "agent": agent, "sid": call_sid})
        self.counts["calls.create"] += 1
        await asyncio.sleep(self.latency)
        if self.lifecycle:
            task = asyncio.create_task(self._play_call(url, conference, call_sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return JSONResponse(
            {
                "sid": call_sid,
                "account_sid": self.account_sid,
                "status": "queued",
                "to": form.get("To"),
                "from": form.get("From"),
            },
            status_code=201,
        )

    async def other(self, request: Request) -> Response:
        """Participant / conference / call updates: answered after the same latency."""
        await request.body()
        kind = request.url.path.split("/")[-2]
        self.counts[f"{request.method} {kind}"] += 1
        await asyncio.sleep(self.latency)
        if request.method == "DELETE":
            return Response(status_code=204)
        return JSONResponse(
            {
                "sid": sid("CA"),
                "call_sid": sid("CA"),
                "conference_sid": sid("CF"),
                "account_sid": self.account_sid,
                "status": "completed",
            },
            status_code=201 if request.url.path.endswith("Participants.json") else 200,
        )

    # --- Twilio's part of a dialed call -------------------------------------------------------

    async def _post(self, kind: str, path: str, params: dict[str, str]) -> None:
        url = self.public_base_url + path
        signature = self.validator.compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": sid("")}
        started = time.monotonic()
        try:
            http = await self.http()
            async with http.post(self.server_url + path, data=params, headers=headers) as resp:
                await resp.read()
                ok = resp.status < 300
        except Exception:
            ok = False
        self.lifecycle_latencies.setdefault(kind, []).append(time.monotonic() - started)
        self.counts[f"lifecycle {kind} {'ok' if ok else 'failed'}"] += 1

    async def _play_call(self, agent_url: str, conference: str, agent_sid: str) -> None:
        """The agent answers after `ring`, Twilio fetches the agent's TwiML, the agent joins the
        conference, and after `talk` the customer hangs up (the conference ends). No REST
        request follows from the app, and the agent is free again."""
        conference_sid = sid("CF")
        await asyncio.sleep(self.ring)
        await self._post(
            "agent_connect",
            urlparse(agent_url).path,
            {"AccountSid": self.account_sid, "CallSid": agent_sid},
        )
        base = {
            "AccountSid": self.account_sid,
            "ConferenceSid": conference_sid,
            "FriendlyName": conference,
            "Timestamp": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        }
        await self._post(
            "conference_join",
            "/conference/status",
            {
                **base,
                "StatusCallbackEvent": "participant-join",
                "SequenceNumber": "1",
                "CallSid": agent_sid,
                "Hold": "false",
                "Muted": "false",
                "Coaching": "false",
                "EndConferenceOnExit": "true",
                "StartConferenceOnEnter": "true",
            },
        )
        await asyncio.sleep(self.talk)
        await self._post(
            "conference_end",
            "/conference/status",
            {
                **base,
                "StatusCallbackEvent": "conference-end",
                "SequenceNumber": "2",
                "ReasonConferenceEnded": "participant-with-end-conference-on-exit-left",
                "CallSidEndingConference": conference,
            },
        )

    # --- control ------------------------------------------------------------------------------

    async def config(self, request: Request) -> Response:
        body = await request.json()
        if "latency_ms" in body:
            self.latency = float(body["latency_ms"]) / 1000
        if "lifecycle" in body:
            self.lifecycle = bool(body["lifecycle"])
        if "ring_ms" in body:
            self.ring = float(body["ring_ms"]) / 1000
        if "server_url" in body:
            self.server_url = str(body["server_url"]).rstrip("/")
        if "talk_ms" in body:
            self.talk = float(body["talk_ms"]) / 1000
        return JSONResponse({"ok": True})

    async def get_dials(self, request: Request) -> Response:
        return JSONResponse(self.dials)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(
            {
                "counts": dict(self.counts),
                "in_flight_lifecycles": len(self._tasks),
                "lifecycle_latencies": self.lifecycle_latencies,
            }
        )

    async def reset(self, request: Request) -> Response:
        self.dials.clear()
        self.counts.clear()
        self.lifecycle_latencies.clear()
        return JSONResponse({"ok": True})

    def app(self) -> Starlette:
        account = "/2010-04-01/Accounts/{account}"
        return Starlette(
            routes=[
                Route(account + "/Calls.json", self.create_call, methods=["POST"]),
                Route(account + "/{rest:path}", self.other, methods=["POST", "DELETE", "GET"]),
                Route("/_bench/config", self.config, methods=["POST"]),
                Route("/_bench/dials", self.get_dials, methods=["GET"]),
                Route("/_bench/stats", self.stats, methods=["GET"]),
                Route("/_bench/reset", self.reset, methods=["POST"]),
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--public-base-url", required=True)
    parser.add_argument("--server-url", required=True)
    args = parser.parse_args()
    double = Double(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        public_base_url=args.public_base_url,
        server_url=args.server_url,
    )
    logging.basicConfig(level=logging.WARNING)
    uvicorn.run(double.app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""Prism serving Twilio's OpenAPI description, and the httpx transport the gateway uses to reach it.

The description is Twilio's own (`@twilio/cli-core`, installed by `npm ci` next to this file).
Prism validates each request against it and answers 422 when Twilio would reject it (401 without
Basic auth).

Prism 5.x cannot validate an array sent in a form body as repeated keys (`A=x&A=y`), which is how
OpenAPI's default form encoding, Twilio and the SDK send one: it keeps the last value and reports
"must be array" (stoplightio/prism#2473, fix proposed in #2654). `SpecCheckingTransport` therefore
checks those fields itself against the description and leaves them out of what Prism sees;
`test_prism_still_rejects_repeated_form_keys` fails once Prism learns them, so this can be removed.
It also checks what Prism does not: that every form field is one the operation declares (Twilio
silently ignores unknown ones, so a misspelt field would otherwise pass).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from warm_transfer.telephony.aiohttp_transport import AiohttpTransport

CONTRACT_DIR = Path(__file__).resolve().parent
NODE_MODULES = CONTRACT_DIR / "node_modules"
PRISM_BIN = NODE_MODULES / ".bin" / "prism"
TWILIO_SPEC = NODE_MODULES / "@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json"
INSTALL_HINT = "run `npm ci --prefix backend/tests/contract` (from the repository root) first"

FORM = "application/x-www-form-urlencoded"
READY_TIMEOUT = 30.0  # seconds for Prism to load the 1.9 MB description and listen


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    operation_id: str
    form_fields: dict[str, dict[str, Any]]  # name -> schema, for a form body

    def array_fields(self) -> frozenset[str]:
        return frozenset(n for n, s in self.form_fields.items() if s.get("type") == "array")


class TwilioSpec:
    """Twilio's v2010 description, indexed by method and path template."""

    def __init__(self, path: Path) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self._operations: list[tuple[re.Pattern[str], Operation]] = []
        for template, item in self.document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                content = op.get("requestBody", {}).get("content", {})
                schema = content.get(FORM, {}).get("schema", {})
                operation = Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op["operationId"],
                    form_fields=schema.get("properties", {}),
                )
                self._operations.append((pattern, operation))
        # A literal segment wins over a parameter: `Calls/FeedbackSummary.json`, `Calls/{Sid}.json`.
        self._operations.sort(key=lambda entry: entry[1].template.count("{"))

    def operation(self, method: str, path: str) -> Operation:
        for pattern, operation in self._operations:
            if operation.method == method and pattern.match(path):
                return operation
        raise LookupError(f"Twilio's description has no operation {method} {path}")


@dataclass(slots=True)
class Exchange:
    """One request the gateway sent (as the SDK encoded it) and Prism's answer."""

    method: str
    path: str
    operation_id: str
    headers: httpx.Headers
    form: list[tuple[str, str]]
    status: int = 0
    body: Any = None
    violations: str | None = None  # Prism's `sl-violations` header: warnings it let through

    def fields(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name, value in self.form:
            grouped.setdefault(name, []).append(value)
        return grouped


@dataclass(slots=True)
class SpecCheckingTransport(httpx.AsyncBaseTransport):
    """Records every exchange, checks form fields against the spec, works around Prism's arrays."""

    spec: TwilioSpec
    # The app's own transport to Twilio: the contract is checked through what production sends.
    inner: httpx.AsyncBaseTransport = field(
        default_factory=lambda: AiohttpTransport(max_connections=10)
    )
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        operation = self.spec.operation(request.method, request.url.path)
        content = await request.aread()
        is_form = request.headers.get("content-type", "").startswith(FORM)
        form = parse_qsl(content.decode(), keep_blank_values=True) if is_form else []
        exchange = Exchange(
            method=request.method,
            path=request.url.path,
            operation_id=operation.operation_id,
            headers=request.headers,
            form=form,
        )
        self.exchanges.append(exchange)
        _check_form(operation, exchange)

        if is_form:
            arrays = operation.array_fields()
            headers = [(k, v) for k, v in request.headers.multi_items() if k != "content-length"]
            request = httpx.Request(
                request.method,
                request.url,
                headers=headers,
                content=urlencode([(k, v) for k, v in form if k not in arrays]).encode(),
                extensions=request.extensions,
            )
        response = await self.inner.handle_async_request(request)
        await response.aread()
        exchange.status = response.status_code
        exchange.violations = response.headers.get("sl-violations")
        exchange.body = response.json() if response.content else None
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _check_form(operation: Operation, exchange: Exchange) -> None:
    """What Prism cannot see: unknown fields, and repeated keys only for array fields."""
    fields = exchange.fields()
    unknown = sorted(set(fields) - set(operation.form_fields))
    if unknown:
        raise AssertionError(
            f"{operation.operation_id} sent fields Twilio's description does not declare "
            f"(Twilio ignores them silently): {unknown}"
        )
    for name, values in fields.items():
        schema = operation.form_fields[name]
        if schema.get("type") == "array":
            item_type = schema.get("items", {}).get("type")
            if item_type != "string":  # every array field in v2010 is an array of strings
                raise AssertionError(f"{name}: cannot check items of type {item_type!r}")
        elif len(values) > 1:
            raise AssertionError(f"{operation.operation_id} repeated scalar field {name}: {values}")


@dataclass(frozen=True, slots=True)
class PrismServer:
    base_url: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_prism(log_dir: Path, attempts: int = 3) -> Iterator[PrismServer]:
    """Start `prism mock` on a free loopback port, wait until it answers, stop it afterwards."""
    for attempt in range(1, attempts + 1):
        port = _free_port()
        log = log_dir / f"prism-{port}.log"
        # A request Twilio would reject gets a 422 anyway; --errors also turns an answer that breaks
        # Twilio's response schema into an error, so the SDK only ever parses conforming answers.
        command = [str(PRISM_BIN), "mock", str(TWILIO_SPEC), "-h", "127.0.0.1", "-p", str(port)]
        command.append("--errors")
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=CONTRACT_DIR,
                env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            if _wait_ready(process, base_url):
                yield PrismServer(base_url=base_url, log=log)
                return
            if process.poll() is None:
                raise RuntimeError(
                    f"Prism did not answer within {READY_TIMEOUT:.0f}s:\n{_tail(log)}"
                )
            if attempt == attempts or "EADDRINUSE" not in log.read_text(errors="replace"):
                raise RuntimeError(f"Prism exited with {process.returncode}:\n{_tail(log)}")
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], base_url: str) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            # Any HTTP answer means it listens; an unknown path gets Prism's 404.
            httpx.get(f"{base_url}/ready", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)

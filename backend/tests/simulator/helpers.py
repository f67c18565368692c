"""Waiting without sleeping, a simulated softphone driven over HTTP, and a stand-in for the app."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

from warm_transfer.config import Settings

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | None] | Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 5.0,
    what: str = "the condition",
) -> T:
    """Poll `check` until it returns something truthy (and return that), at most `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last saw {value!r}")
        await asyncio.sleep(0.01)


@dataclass
class Softphone:
    """A console's simulated `VoiceDevice`: the event stream open, actions over HTTP."""

    identity: str
    token: str
    client: httpx.AsyncClient
    response: httpx.Response
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    comments: int = 0
    device_id: str = ""
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, client: httpx.AsyncClient, identity: str, token: str) -> Softphone:
        request = client.build_request(
            "GET", "/simulator/devices/stream", headers={"Authorization": f"Bearer {token}"}
        )
        response = await client.send(request, stream=True)
        assert response.status_code == 200, (await response.aread()).decode()
        phone = cls(identity=identity, token=token, client=client, response=response)
        phone._reader = asyncio.create_task(phone._read())
        phone.device_id = (await phone.wait_for("registered"))["device_id"]
        return phone

    async def _read(self) -> None:
        event, data = "", ""
        async for line in self.response.aiter_lines():
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif not line and event:
                self.events.append((event, json.loads(data)))
                event, data = "", ""

    def named(self, name: str, call_sid: str | None = None) -> list[dict[str, Any]]:
        return [
            data
            for event, data in self.events
            if event == name and call_sid in (None, data.get("call_sid"))
        ]

    async def wait_for(
        self, name: str, call_sid: str | None = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        found = await eventually(
            lambda: self.named(name, call_sid),
            timeout=timeout,
            what=f"{name!r} on {self.identity}'s phone (events: {self.events})",
        )
        return found[0]

    async def act(self, call_sid: str, action: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/simulator/devices/calls/{call_sid}/{action}",
            json=body or None,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    async def answer(self, *, timeout: float = 5.0) -> str:
        """Wait for the next call to ring, accept it; its CallSid."""
        taken = {data["call_sid"] for data in self.named("accepted")}
        invite = await eventually(
            lambda: next((d for d in self.named("incoming") if d["call_sid"] not in taken), None),
            timeout=timeout,
            what=f"a call ringing {self.identity}",
        )
        response = await self.act(invite["call_sid"], "accept", device_id=self.device_id)
        assert response.status_code == 200, response.text
        return str(invite["call_sid"])

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.response.aclose()


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, str]
    headers: httpx.Headers
    signed: bool


class FakeApp:
    """The app's side of Twilio, for the simulator's own tests: TwiML by path, every request kept
    (and its signature checked as the app checks it)."""

    def __init__(self, settings: Settings) -> None:
        self.documents: dict[str, str] = {}
        self.requests: list[Received] = []
        self.asgi = FastAPI()
        validator = RequestValidator(settings.auth_token)

        @self.asgi.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything(path: str, request: Request) -> Response:
            form = await request.form()
            query = request.url.query
            url = settings.public_base_url + request.url.path + (f"?{query}" if query else "")
            signature = request.headers.get("X-Twilio-Signature", "")
            self.requests.append(
                Received(
                    method=request.method,
                    path=request.url.path,
                    form={key: str(value) for key, value in form.items()},
                    headers=httpx.Headers(request.headers.raw),
                    signed=validator.validate(url, form, signature),
                )
            )
            document = self.documents.get(request.url.path)
            if document is None:
                return Response(status_code=204)
            return Response(document, media_type="application/xml")

    def to(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]

    def events(self, path: str, key: str = "StatusCallbackEvent") -> list[str]:
        return [request.form[key] for request in self.to(path)]

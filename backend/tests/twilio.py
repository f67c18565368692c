"""Playing Twilio's part at the HTTP level: signed webhooks in, REST requests captured by respx."""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import httpx
import respx
from fastapi import FastAPI
from respx.mocks import AbstractRequestMocker
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from warm_transfer.config import Settings
from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job, JobStatus

TWILIO_API = "https://api.twilio.test"
CUSTOMER_NUMBER = "+15551230000"
SUPPORT_NUMBER = "+15559870000"


class TwilioTransportMocker(AbstractRequestMocker):  # type: ignore[misc]  # respx is untyped here
    """respx, in place of the app's transport to Twilio (aiohttp's pool under httpx): requests
    are matched by the router as they leave the gateway's httpx client, and what the router
    answers (or raises: a refused connection, a timeout) is what the client gets back."""

    name = "warm-transfer-twilio"
    targets: ClassVar[list[str]] = [
        "warm_transfer.telephony.aiohttp_transport.AiohttpTransport",
    ]
    target_methods: ClassVar[list[str]] = ["handle_async_request"]

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        request: httpx.Request = kwargs["request"]
        return request

    @classmethod
    async def from_async_httpx_response(
        cls, httpx_response: httpx.Response, target: object, **kwargs: Any
    ) -> httpx.Response:
        return httpx_response


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def form_of(request: httpx.Request) -> dict[str, list[str]]:
    """A captured REST request's form body, every field with all its values."""
    return parse_qs(request.content.decode(), keep_blank_values=True)


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, dict(params))


async def due_now(app: FastAPI, kind: str | None = None) -> None:
    """Skip the waiting: what is pending (of `kind`) is due now; production timings are kept."""
    query = select(Job).where(Job.status == JobStatus.pending)
    if kind is not None:
        query = query.where(Job.kind == kind)
    async with app.state.session_factory() as session, session.begin():
        for job in await session.scalars(query):
            job.run_after = utcnow()


@dataclass
class TwilioDouble:
    app: FastAPI
    client: httpx.AsyncClient
    api: respx.MockRouter
    settings: Settings
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    conference_sids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        account = f"{TWILIO_API}/2010-04-01/Accounts/{self.settings.twilio_account_sid}"
        self.calls_create = self.api.post(f"{account}/Calls.json", name="calls_create")
        self.calls_create.side_effect = self._created_call
        self.participants_create = self.api.post(
            url__regex=rf"{account}/Conferences/(?P<name>CA\w+)/Participants\.json$",
            name="participants_create",
        )
        self.participants_create.side_effect = self._created_participant
        self.participant_update = self.api.post(
            url__regex=rf"{account}/Conferences/CF\w+/Participants/[^/]+\.json$",
            name="participant_update",
        ).respond(200, json={"call_sid": sid("CA")})
        self.call_update = self.api.post(
            url__regex=rf"{account}/Calls/CA\w+\.json$", name="call_update"
        ).respond(200, json={"sid": sid("CA"), "status": "completed"})
        self.conference_update = self.api.post(
            url__regex=rf"{account}/Conferences/CF\w+\.json$", name="conference_update"
        ).respond(200, json={"sid": sid("CF"), "status": "completed"})

    # --- REST API responses -------------------------------------------------------------------

    def _created_call(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        return httpx.Response(
            201,
            json={
                "sid": sid("CA"),
                "status": "queued",
                "to": form["To"][0],
                "from": form["From"][0],
                "account_sid": self.settings.twilio_account_sid,
            },
        )

    def _created_participant(self, request: httpx.Request, name: str) -> httpx.Response:
        form = form_of(request)
        return httpx.Response(
            201,
            json={
                "call_sid": sid("CA"),
                "conference_sid": self.conference_sids.get(name, sid("CF")),
                "label": form.get("Label", [None])[0],
                "status": "queued",
                "account_sid": self.settings.twilio_account_sid,
            },
        )

    # --- webhooks -----------------------------------------------------------------------------

    async def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        signed_url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = signed_url or self.settings.public_base_url + path
        all_headers = {"X-Twilio-Signature": signature or sign(self.auth_token, url, params)}
        all_headers.update(headers or {})
        return await self.client.post(path, data=dict(params), headers=all_headers)

    @property
    def auth_token(self) -> str:
        return self.settings.auth_token

    def voice_params(self, call_sid: str, from_: str = CUSTOMER_NUMBER) -> dict[str, str]:
        return {
            "AccountSid": self.settings.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "From": from_,
            "Caller": from_,
            "To": SUPPORT_NUMBER,
            "Called": SUPPORT_NUMBER,
        }

    async def customer_calls(
        self, call_sid: str | None = None, from_: str = CUSTOMER_NUMBER
    ) -> tuple[httpx.Response, str]:
        call_sid = call_sid or sid("CA")
        response = await self.post("/conference/connect/client", self.voice_params(call_sid, from_))
        return response, call_sid

    async def leg_status(
        self, leg_id: int, call_sid: str, status: str, **extra: str
    ) -> httpx.Response:
        params = {
            "AccountSid": self.settings.account_sid,
            "CallSid": call_sid,
            "CallStatus": status,
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(next(self.sequence)),
            "Timestamp": "Wed, 25 Nov 2026 12:00:00 +0000",
            **extra,
        }
        return await self.post(f"/conference/legs/{leg_id}/status", params)

    async def conference(
        self, conference_name: str, event: str, call_sid: str | None = None, **extra: str
    ) -> httpx.Response:
        conference_sid = self.conference_sids.setdefault(conference_name, sid("CF"))
        params = {
            "AccountSid": self.settings.account_sid,
            "ConferenceSid": conference_sid,
            "FriendlyName": conference_name,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(next(self.sequence)),
            "Timestamp": "Wed, 25 Nov 2026 12:00:00 +0000",
        }
        if call_sid is not None:
            params.update(CallSid=call_sid, Hold="false", Muted="false", Coaching="false")
        params.update(extra)
        return await self.post("/conference/status", params)

    async def drain(self) -> None:
        """Let the app route waiting calls and its job worker send what it queued (dials,
        hang-ups): what its background tasks do in production."""
        await self.route()
        await self.app.state.job_worker.drain()

    async def route(self) -> None:
        """Let the app offer the calls it recorded to free agents (its dispatcher's pass)."""
        await self.app.state.dispatcher.run_pending()

    async def drain_later(self) -> None:
        """As `drain`, after the jobs waiting for later (a back-off, a deferred hand-over)."""
        await due_now(self.app)
        await self.drain()

    # --- whole steps of a call ----------------------------------------------------------------

    def dialed(self, index: int = -1) -> tuple[dict[str, list[str]], int, str]:
        """The form of a Calls.create request, the leg id its callback names, the SID returned."""
        call = self.calls_create.calls[index]
        form = form_of(call.request)
        leg_id = int(re.search(r"/legs/(\d+)/status", form["StatusCallback"][0]).group(1))  # type: ignore[union-attr]
        return form, leg_id, json.loads(call.response.content)["sid"]

    async def agent_answers(self, customer_sid: str, index: int = -1) -> tuple[int, str]:
        """The offered agent picks up: ringing, answered, TwiML fetched, joined the conference."""
        form, leg_id, agent_sid = self.dialed(index)
        await self.leg_status(leg_id, agent_sid, "ringing")
        await self.leg_status(leg_id, agent_sid, "in-progress")
        connect_path = urlparse(form["Url"][0]).path
        response = await self.post(
            connect_path, {"AccountSid": self.settings.account_sid, "CallSid": agent_sid}
        )
        assert response.status_code == 200, response.text
        await self.conference(customer_sid, "participant-join", agent_sid)
        await self.conference(customer_sid, "conference-start")
        return leg_id, agent_sid

    def participant_added(self, index: int = -1) -> tuple[dict[str, list[str]], int, str]:
        """A Participants.create request's form, the leg id its callback names, the SID returned."""
        call = self.participants_create.calls[index]
        form = form_of(call.request)
        leg_id = int(re.search(r"/legs/(\d+)/status", form["StatusCallback"][0]).group(1))  # type: ignore[union-attr]
        return form, leg_id, json.loads(call.response.content)["call_sid"]

    async def target_answers(self, customer_sid: str, index: int = -1) -> tuple[int, str]:
        """The transfer's target picks up and joins the conference (no TwiML: REST-created)."""
        _, leg_id, target_sid = self.participant_added(index)
        await self.leg_status(leg_id, target_sid, "ringing")
        await self.leg_status(leg_id, target_sid, "in-progress")
        await self.conference(customer_sid, "participant-join", target_sid)
        return leg_id, target_sid

    def changes(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every REST request but the creates, in the order sent: (method, resource, form).

        The resource is the URL's last two segments, e.g. `Participants/customer.json`."""
        sent = []
        for call in self.api.calls:
            request = call.request
            path = request.url.path
            if path.endswith(("/Calls.json", "/Participants.json")):
                continue
            form = {key: values[-1] for key, values in form_of(request).items()}
            sent.append((request.method, "/".join(path.split("/")[-2:]), form))
        return sent

    async def connected_call(self, *, customer_sid: str | None = None) -> tuple[str, int, str]:
        """A customer calls, the first agent answers: (customer sid, agent leg id, agent sid)."""
        response, customer_sid = await self.customer_calls(customer_sid)
        assert response.status_code == 200, response.text
        await self.conference(customer_sid, "participant-join", customer_sid)
        await self.drain()
        leg_id, agent_sid = await self.agent_answers(customer_sid)
        return customer_sid, leg_id, agent_sid

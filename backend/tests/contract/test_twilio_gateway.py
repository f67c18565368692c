"""Contract: every request TwilioGateway sends is one Twilio's own OpenAPI description accepts.

Prism validates each request (path, auth, form body) and answers 422 for one Twilio would reject,
which the gateway turns into TelephonyError; the answers are Twilio's documented examples.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import pytest

from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.contract.prism import PrismServer, SpecCheckingTransport
from warm_transfer.telephony.gateway import (
    CALL_PROGRESS_EVENTS,
    DialRequest,
    ParticipantRequest,
    TelephonyError,
    TwilioGateway,
)

T = TypeVar("T")

CALL_SID = re.compile(r"^CA[0-9a-f]{32}$", re.IGNORECASE)
CUSTOMER_CALL = "CA" + "0f" * 16  # the conference's friendly name is the customer's CallSid
CONFERENCE_SID = "CF" + "1e" * 16
AGENT_CALL = "CA" + "2d" * 16
PUBLIC = "https://warm.example.test"
TWILIO_NUMBER = "+15550001111"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"


async def accepted(transport: SpecCheckingTransport, request: Awaitable[T]) -> T:
    """Await a gateway call; if Twilio's description rejects it, fail with Prism's reasons."""
    try:
        return await request
    except TelephonyError as exc:
        last = transport.exchanges[-1] if transport.exchanges else None
        reasons = last.body.get("validation", last.body) if last and last.body else None
        detail = f"{last.operation_id}: HTTP {last.status} {reasons}" if last else str(exc)
        pytest.fail(f"Twilio's OpenAPI description rejects {detail}", pytrace=False)


def only_exchange(transport: SpecCheckingTransport, operation_id: str, status: int) -> Any:
    assert [(e.operation_id, e.status) for e in transport.exchanges] == [(operation_id, status)]
    exchange = transport.exchanges[0]
    assert exchange.violations is None, exchange.violations
    scheme, _, credentials = exchange.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    return exchange


def test_every_gateway_method_has_a_contract_test() -> None:
    methods = {n for n, v in vars(TwilioGateway).items() if callable(v) and not n.startswith("_")}
    assert methods == {
        "create_call",
        "add_participant",
        "update_participant",
        "end_call",
        "end_conference",
    }, "a new TwilioGateway method needs a contract test here"


@pytest.mark.parametrize("to", ["client:agent_7", "+15557654321"])
async def test_create_call(
    gateway: TwilioGateway, transport: SpecCheckingTransport, to: str
) -> None:
    request = DialRequest(
        to=to,
        from_=TWILIO_NUMBER,
        url=f"{PUBLIC}/twilio/voice/agent?transfer=7",
        status_callback=f"{PUBLIC}/twilio/status/call?transfer=7",
        timeout=20,
    )

    sid = await accepted(transport, gateway.create_call(request))

    exchange = only_exchange(transport, "CreateCall", 201)
    assert CALL_SID.match(sid)
    assert sid == exchange.body["sid"]
    assert exchange.fields() == {
        "To": [to],
        "From": [TWILIO_NUMBER],
        "Url": [request.url],
        "Method": ["POST"],
        "StatusCallback": [request.status_callback],
        "StatusCallbackMethod": ["POST"],
        # Repeated form keys, as Twilio reads an array (Prism cannot check these: see prism.py).
        "StatusCallbackEvent": list(CALL_PROGRESS_EVENTS),
        "Timeout": ["20"],
    }


@pytest.mark.parametrize("end_conference_on_exit", [False, True])
async def test_add_participant_to_conference_named_by_customer_call(
    gateway: TwilioGateway, transport: SpecCheckingTransport, end_conference_on_exit: bool
) -> None:
    request = ParticipantRequest(
        conference=CUSTOMER_CALL,
        to="client:agent_7",
        from_=TWILIO_NUMBER,
        label="agent-7",
        status_callback=f"{PUBLIC}/twilio/status/participant?transfer=7",
        timeout=20,
        end_conference_on_exit=end_conference_on_exit,
    )

    call_sid = await accepted(transport, gateway.add_participant(request))

    exchange = only_exchange(transport, "CreateParticipant", 201)
    assert exchange.path == (
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences/{CUSTOMER_CALL}/Participants.json"
    )
    # The new leg's CallSid, not the conference's SID the answer also carries.
    assert CALL_SID.match(call_sid)
    assert call_sid == exchange.body["call_sid"]
    assert exchange.body["conference_sid"].startswith("CF")
    assert exchange.fields() == {
        "From": [TWILIO_NUMBER],
        "To": ["client:agent_7"],
        "Label": ["agent-7"],
        "Timeout": ["20"],
        "StatusCallback": [request.status_callback],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": list(CALL_PROGRESS_EVENTS),
        "StartConferenceOnEnter": ["true"],
        "EndConferenceOnExit": [str(end_conference_on_exit).lower()],
        "Beep": ["false"],
    }


@pytest.mark.parametrize("participant", [AGENT_CALL, "agent-7"], ids=["by-call-sid", "by-label"])
@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param(
            {"hold": True, "hold_url": f"{PUBLIC}/twilio/hold-music"},
            {"Hold": ["true"], "HoldUrl": [f"{PUBLIC}/twilio/hold-music"], "HoldMethod": ["POST"]},
            id="hold",
        ),
        pytest.param({"hold": False}, {"Hold": ["false"]}, id="unhold"),
        pytest.param(
            {"end_conference_on_exit": True}, {"EndConferenceOnExit": ["true"]}, id="end-on-exit"
        ),
        pytest.param(
            {"end_conference_on_exit": False},
            {"EndConferenceOnExit": ["false"]},
            id="stay-on-exit",
        ),
    ],
)
async def test_update_participant(
    gateway: TwilioGateway,
    transport: SpecCheckingTransport,
    participant: str,
    changes: dict[str, Any],
    fields: dict[str, list[str]],
) -> None:
    await accepted(
        transport,
        gateway.update_participant(
            conference_sid=CONFERENCE_SID, participant=participant, **changes
        ),
    )

    exchange = only_exchange(transport, "UpdateParticipant", 200)
    assert exchange.path == (
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences/{CONFERENCE_SID}"
        f"/Participants/{participant}.json"
    )
    assert exchange.fields() == fields
    assert exchange.body["conference_sid"].startswith("CF")


async def test_end_call(gateway: TwilioGateway, transport: SpecCheckingTransport) -> None:
    await accepted(transport, gateway.end_call(call_sid=AGENT_CALL))

    exchange = only_exchange(transport, "UpdateCall", 200)
    assert exchange.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{AGENT_CALL}.json"
    assert exchange.fields() == {"Status": ["completed"]}
    assert CALL_SID.match(exchange.body["sid"])


async def test_end_conference(gateway: TwilioGateway, transport: SpecCheckingTransport) -> None:
    await accepted(transport, gateway.end_conference(conference_sid=CONFERENCE_SID))

    exchange = only_exchange(transport, "UpdateConference", 200)
    assert exchange.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences/{CONFERENCE_SID}.json"
    assert exchange.fields() == {"Status": ["completed"]}
    assert exchange.body["sid"].startswith("CF")


# Prism really validates: without these, the tests above could pass against any server.


async def test_prism_rejects_a_call_without_to(prism: PrismServer) -> None:
    async with httpx.AsyncClient(base_url=prism.base_url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as raw:
        response = await raw.post(CALLS, data={"From": TWILIO_NUMBER, "Url": f"{PUBLIC}/x"})

    assert response.status_code == 422
    assert {"location": ["body"], "code": "required"}.items() <= (
        response.json()["validation"][0].items()
    )
    assert "'To'" in response.json()["validation"][0]["message"]


async def test_prism_requires_basic_auth(prism: PrismServer) -> None:
    data = {"To": "client:agent_7", "From": TWILIO_NUMBER, "Url": f"{PUBLIC}/x"}
    async with httpx.AsyncClient(base_url=prism.base_url) as raw:
        response = await raw.post(CALLS, data=data)

    assert response.status_code == 401


async def test_gateway_raises_telephony_error_when_twilio_would_reject(
    gateway: TwilioGateway, transport: SpecCheckingTransport
) -> None:
    # Updating a participant needs the conference's CF SID; its friendly name is refused.
    with pytest.raises(TelephonyError) as raised:
        await gateway.update_participant(
            conference_sid=CUSTOMER_CALL, participant=AGENT_CALL, hold=False
        )

    assert raised.value.status == 422
    assert not raised.value.safe_to_retry
    exchange = transport.exchanges[-1]
    assert exchange.status == 422
    # Prism lower-cases the parameter's name in its report.
    assert exchange.body["validation"][0]["location"] == ["path", "conferencesid"]


async def test_prism_still_rejects_repeated_form_keys(prism: PrismServer) -> None:
    """Canary for the workaround in prism.py: when this fails, Prism reads repeated keys as an
    array; drop the array-stripping from SpecCheckingTransport and this test."""
    data = {
        "To": "client:agent_7",
        "From": TWILIO_NUMBER,
        "Url": f"{PUBLIC}/x",
        "StatusCallbackEvent": ["initiated", "ringing"],
    }
    async with httpx.AsyncClient(base_url=prism.base_url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as raw:
        response = await raw.post(CALLS, data=data)

    assert response.status_code == 422
    assert response.json()["validation"][0]["location"] == ["body", "StatusCallbackEvent"]


async def test_fields_twilio_does_not_declare_fail_the_test(
    prism: PrismServer, http: httpx.AsyncClient
) -> None:
    """Twilio ignores an unknown field (a misspelt one) silently and Prism lets it through; the
    transport under the gateway catches it."""
    url = f"{prism.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences/{CONFERENCE_SID}"
    with pytest.raises(AssertionError, match="HoldMethd"):
        await http.post(
            f"{url}/Participants/{AGENT_CALL}.json",
            data={"Hold": "true", "HoldMethd": "POST"},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
        )

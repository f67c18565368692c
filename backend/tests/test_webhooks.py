"""The webhooks as Twilio sees them: signed form POSTs answered with TwiML."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL
from tests.factories import AgentFactory
from tests.twilio import CUSTOMER_NUMBER, SUPPORT_NUMBER, TwilioDouble, form_of, sid, sign
from warm_transfer.calls.models import Call, CallEvent, CallLeg, CallStatus, LegStatus
from warm_transfer.jobs.models import Job
from warm_transfer.webhooks.router import router as webhooks_router
from warm_transfer.webhooks.signature import MAX_BODY_BYTES, MAX_FIELDS, verified_form


async def count(app: FastAPI, model: type) -> int:
    async with app.state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_customer_call_answers_conference_twiml_and_records_the_call(
    twilio: TwilioDouble, app: FastAPI
) -> None:
    response, call_sid = await twilio.customer_calls()

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    conference = root.find("Dial/Conference")
    assert conference is not None
    assert conference.text == call_sid
    assert conference.attrib["startConferenceOnEnter"] == "false"
    assert conference.attrib["endConferenceOnExit"] == "true"
    assert conference.attrib["waitUrl"] == f"{PUBLIC_BASE_URL}/conference/wait"
    assert conference.attrib["statusCallback"] == f"{PUBLIC_BASE_URL}/conference/status"
    assert set(conference.attrib["statusCallbackEvent"].split()) >= {
        "start",
        "end",
        "join",
        "leave",
    }
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == call_sid))
    assert call is not None
    assert (call.from_number, call.to_number) == (CUSTOMER_NUMBER, SUPPORT_NUMBER)
    assert call.conference_name == call_sid
    assert call.status is CallStatus.queued  # nobody is available


async def test_wait_url_plays_the_welcome_and_music_that_does_not_stop(
    twilio: TwilioDouble,
) -> None:
    response = await twilio.post("/conference/wait", {"AccountSid": twilio.settings.account_sid})
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    assert [child.tag for child in root] == ["Say", "Play"]
    assert "An agent will be with you shortly." in (root[0].text or "")
    assert root[1].attrib["loop"] == "0"
    assert root[1].text == twilio.settings.hold_music_url


async def test_same_call_posted_three_times_is_one_call_and_one_dial(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI
) -> None:
    await agents.create("agent1")
    call_sid = sid("CA")
    answers = [(await twilio.customer_calls(call_sid))[0] for _ in range(3)]
    await twilio.drain()

    assert {response.text for response in answers} == {answers[0].text}
    assert await count(app, Call) == 1
    assert twilio.calls_create.call_count == 1


async def test_webhook_answers_before_dialing_and_the_dial_follows(
    twilio: TwilioDouble, agents: AgentFactory, app: FastAPI, settings: object
) -> None:
    await agents.create("agent1")
    response, call_sid = await twilio.customer_calls()

    assert response.status_code == 200
    # The webhook recorded the call, and waited for neither routing nor Twilio.
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == call_sid))
        assert call is not None and call.status is CallStatus.queued
        assert await session.scalar(select(func.count()).select_from(CallLeg)) == 1  # customer
        assert await session.scalar(select(func.count()).select_from(Job)) == 0

    await twilio.route()

    assert twilio.calls_create.call_count == 0
    async with app.state.session_factory() as session:
        leg = await session.scalar(select(CallLeg).where(CallLeg.agent_id == "agent1"))
        assert leg is not None and leg.status is LegStatus.dialing
        assert await session.scalar(select(func.count()).select_from(Job)) == 1

    await twilio.drain()

    form, leg_id, agent_sid = twilio.dialed()
    assert form["To"] == ["client:agent1"]
    assert form["From"] == [twilio.settings.twilio_number]
    assert form["Url"] == [f"{PUBLIC_BASE_URL}/conference/connect/{call_sid}/agent1"]
    assert form["StatusCallback"] == [f"{PUBLIC_BASE_URL}/conference/legs/{leg_id}/status"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert form["Timeout"] == ["20"]
    async with app.state.session_factory() as session:
        leg = await session.get_one(CallLeg, leg_id)
        assert leg.call_sid == agent_sid
        assert leg.status is LegStatus.queued


async def test_agent_connect_joins_the_conference_and_starts_it(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    _, call_sid = await twilio.customer_calls()
    await twilio.drain()
    _form, _, agent_sid = twilio.dialed()

    response = await twilio.post(
        f"/conference/connect/{call_sid}/agent1",
        {"AccountSid": twilio.settings.account_sid, "CallSid": agent_sid},
    )

    assert response.status_code == 200
    conference = ElementTree.fromstring(response.text).find("Dial/Conference")
    assert conference is not None and conference.text == call_sid
    assert conference.attrib["startConferenceOnEnter"] == "true"
    # The only agent on the call ends it by leaving (nobody is left in a silent conference).
    assert conference.attrib["endConferenceOnExit"] == "true"


async def test_agent_connect_for_a_withdrawn_offer_hangs_up(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1")
    await agents.create("agent2")
    _, call_sid = await twilio.customer_calls()
    await twilio.drain()

    response = await twilio.post(
        f"/conference/connect/{call_sid}/agent2",
        {"AccountSid": twilio.settings.account_sid, "CallSid": sid("CA")},
    )

    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    assert [child.tag for child in root] == ["Say", "Hangup"]


async def test_agent_connect_for_an_unknown_conference_hangs_up(twilio: TwilioDouble) -> None:
    response = await twilio.post(
        f"/conference/connect/{sid('CA')}/agent1",
        {"AccountSid": twilio.settings.account_sid, "CallSid": sid("CA")},
    )
    assert [child.tag for child in ElementTree.fromstring(response.text)] == ["Say", "Hangup"]


WEBHOOKS = [
    "/conference/connect/client",
    "/conference/wait",
    "/conference/hold",
    f"/conference/connect/{'CA' + '1' * 32}/agent1",
    "/conference/status",
    "/conference/legs/1/status",
]


def test_every_webhook_route_checks_the_signature_and_is_tested_for_it() -> None:
    """A route added without a `VerifiedForm` would answer unsigned requests."""
    for route in webhooks_router.routes:
        assert isinstance(route, APIRoute)
        assert verified_form in [dependency.call for dependency in route.dependant.dependencies]
        assert any(route.path_regex.match(path) for path in WEBHOOKS), route.path


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("problem", ["missing", "wrong", "wrong_url", "other_token"])
async def test_every_webhook_refuses_a_bad_signature_and_changes_nothing(
    twilio: TwilioDouble, app: FastAPI, path: str, problem: str
) -> None:
    params = twilio.voice_params(sid("CA"))
    params.update(StatusCallbackEvent="conference-end", ConferenceSid=sid("CF"), SequenceNumber="1")
    params["FriendlyName"] = params["CallSid"]
    url = twilio.settings.public_base_url + path
    headers: dict[str, str] = {}
    if problem == "missing":
        response = await twilio.client.post(path, data=params)
    else:
        token, signed_url = twilio.auth_token, url
        if problem == "wrong":
            headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
        elif problem == "wrong_url":
            signed_url = "https://attacker.example" + path
        else:
            token = "some-other-auth-token"
        signature = headers.get("X-Twilio-Signature") or sign(token, signed_url, params)
        response = await twilio.client.post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    assert await count(app, Call) == 0
    assert await count(app, CallEvent) == 0


async def test_signature_covers_the_form_fields(twilio: TwilioDouble, app: FastAPI) -> None:
    params = twilio.voice_params(sid("CA"))
    signature = sign(twilio.auth_token, PUBLIC_BASE_URL + "/conference/connect/client", params)
    params["From"] = "+15550009999"  # tampered after signing
    response = await twilio.client.post(
        "/conference/connect/client", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert await count(app, Call) == 0


async def test_signature_is_checked_against_the_public_url_behind_a_proxy(
    twilio: TwilioDouble,
) -> None:
    """The app is reached at http://internal but Twilio signed the public https URL."""
    params = {"AccountSid": twilio.settings.account_sid}
    response = await twilio.client.post(
        "http://internal:8000/conference/wait",
        data=params,
        headers={"X-Twilio-Signature": await _public_signature(twilio, "/conference/wait", params)},
    )
    assert response.status_code == 200


async def test_a_signature_over_the_url_with_its_default_port_is_accepted(
    twilio: TwilioDouble, app: FastAPI
) -> None:
    """Twilio is inconsistent about signing https URLs with ":443": both forms are Twilio's."""
    params = twilio.voice_params(sid("CA"))
    signature = sign(
        twilio.auth_token, "https://warm.example.test:443/conference/connect/client", params
    )
    response = await twilio.client.post(
        "/conference/connect/client", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    assert await count(app, Call) == 1


async def test_form_fields_are_read_as_twilio_signed_them(
    twilio: TwilioDouble, app: FastAPI
) -> None:
    """Percent-escaped UTF-8, "+" for a space, a field sent twice, a field with no value."""
    call_sid = sid("CA")
    params = twilio.voice_params(call_sid)
    body = (
        urlencode([(key, value) for key, value in params.items() if key != "From"])
        + "&From=%2B1+555+caf%C3%A9&Extra=1&Extra=2&Empty="
    )
    signed = [*((k, v) for k, v in params.items() if k != "From")]
    signed += [("From", "+1 555 café"), ("Extra", "1"), ("Extra", "2"), ("Empty", "")]
    signature = RequestValidator(twilio.auth_token).compute_signature(
        PUBLIC_BASE_URL + "/conference/connect/client", FormData(signed)
    )
    response = await twilio.client.post(
        "/conference/connect/client",
        content=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert response.status_code == 200
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == call_sid))
    assert call is not None and call.from_number == "+1 555 café"


async def test_a_form_with_more_fields_than_twilio_ever_sends_is_a_400(
    twilio: TwilioDouble, app: FastAPI
) -> None:
    params = twilio.voice_params(sid("CA"))
    body = urlencode([*params.items(), *((f"F{i}", "x") for i in range(MAX_FIELDS))])
    response = await twilio.client.post(
        "/conference/connect/client",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_form"
    assert await count(app, Call) == 0


def _multipart(params: dict[str, str], boundary: str = "wt-boundary") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in params.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_larger_than_any_twilio_form_is_a_413(
    twilio: TwilioDouble, app: FastAPI, framing: str, encoding: str
) -> None:
    """Signed or not, a body of that size is refused before it is parsed: by its declared length
    or, chunked, as soon as it grows past the limit."""
    params = {**twilio.voice_params(sid("CA")), "Padding": "x" * MAX_BODY_BYTES}
    if encoding == "urlencoded":
        body, content_type = urlencode(params).encode(), "application/x-www-form-urlencoded"
    else:
        body, content_type = _multipart(params), "multipart/form-data; boundary=wt-boundary"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = await twilio.client.post(
        "/conference/connect/client",
        content=body if framing == "content-length" else chunks(),
        headers={
            "Content-Type": content_type,
            "X-Twilio-Signature": sign(
                twilio.auth_token, PUBLIC_BASE_URL + "/conference/connect/client", params
            ),
        },
    )
    assert response.status_code == 413
    assert response.json()["error"] == "form_too_large"
    assert await count(app, Call) == 0


async def _public_signature(twilio: TwilioDouble, path: str, params: dict[str, str]) -> str:
    return sign(twilio.auth_token, PUBLIC_BASE_URL + path, params)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"AccountSid": "AC" + "a" * 32}, 422),
        ({"AccountSid": "AC" + "a" * 32, "CallSid": "not-a-call-sid"}, 422),
        ({"AccountSid": "short", "CallSid": "CA" + "1" * 32}, 422),
    ],
)
async def test_malformed_voice_forms_get_4xx_and_change_nothing(
    twilio: TwilioDouble, app: FastAPI, params: dict[str, str], status: int
) -> None:
    response = await twilio.post("/conference/connect/client", params)
    assert response.status_code == status
    assert response.json()["error"] == "validation_error"
    assert await count(app, Call) == 0


async def test_a_garbled_multipart_body_is_a_400(twilio: TwilioDouble, app: FastAPI) -> None:
    response = await twilio.client.post(
        "/conference/connect/client",
        content=b"--x\r\nnot really multipart",
        headers={"Content-Type": "multipart/form-data; boundary=x", "X-Twilio-Signature": "x"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_form"
    assert await count(app, Call) == 0


async def test_a_multipart_form_with_a_file_is_checked_like_any_other(
    twilio: TwilioDouble, app: FastAPI
) -> None:
    """Not what Twilio sends, but a forged one must be a 403, never a crash."""
    response = await twilio.client.post(
        "/conference/connect/client",
        data=twilio.voice_params(sid("CA")),
        files={"Recording": ("a.wav", b"RIFF....", "audio/wav")},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    assert await count(app, Call) == 0


async def test_status_callback_for_an_unknown_leg_is_a_404(twilio: TwilioDouble) -> None:
    response = await twilio.leg_status(999, sid("CA"), "ringing")
    assert response.status_code == 404
    assert response.json()["error"] == "leg_not_found"


async def test_conference_event_for_an_unknown_conference_is_a_404(twilio: TwilioDouble) -> None:
    response = await twilio.conference(sid("CA"), "conference-start")
    assert response.status_code == 404


async def test_rest_request_form_is_what_twilio_expects(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    """Basic auth with the account SID, form-encoded, on the account's Calls resource."""
    await agents.create("agent1")
    await twilio.customer_calls()
    await twilio.drain()
    request = twilio.calls_create.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"].startswith("Basic ")
    assert form_of(request)["Method"] == ["POST"]

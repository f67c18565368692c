"""The simulator's REST API: Twilio's auth, Twilio's errors, bodies shaped as Twilio's own
(checked against Twilio's OpenAPI description, the one the contract tests use)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.contract.prism import INSTALL_HINT, TWILIO_SPEC
from tests.simulator.helpers import eventually
from warm_transfer.config import Settings
from warm_transfer.simulator import Simulator

JSON_TYPES = {"string": str, "boolean": bool, "integer": int, "object": dict, "array": list}
CALL = {"To": "client:agent1", "From": "+15550001111", "Url": "https://warm.example.test/agent"}


@cache
def twilio_schemas() -> dict[str, Any]:
    if not TWILIO_SPEC.exists():
        pytest.fail(f"Twilio's OpenAPI description is missing: {INSTALL_HINT}", pytrace=False)
    schemas: dict[str, Any] = json.loads(TWILIO_SPEC.read_text())["components"]["schemas"]
    return schemas


def assert_shaped_like(body: dict[str, Any], schema_name: str) -> None:
    """Exactly the properties Twilio's description lists, each of its type (or null)."""
    schemas = twilio_schemas()
    properties = schemas[schema_name]["properties"]
    assert set(body) == set(properties)
    for key, spec in properties.items():
        # OpenAPI 3.0 cannot mark a $ref nullable; Twilio sends null for an unset enum.
        nullable = "$ref" in spec or spec.get("nullable")
        if "$ref" in spec:
            spec = schemas[spec["$ref"].rsplit("/", 1)[-1]]
        value = body[key]
        if value is None:
            assert nullable, key
            continue
        assert isinstance(value, JSON_TYPES[spec["type"]]), (key, value)
        if "enum" in spec:
            assert value in spec["enum"], (key, value)


async def test_bodies_are_shaped_as_twilios(rest: httpx.AsyncClient) -> None:
    created = await rest.post("Calls.json", data=CALL)
    assert created.status_code == 201
    call = created.json()
    assert_shaped_like(call, "api.v2010.account.call")
    assert call["status"] == "queued" and call["direction"] == "outbound-api"
    assert call["uri"] == f"/2010-04-01/Accounts/{call['account_sid']}/Calls/{call['sid']}.json"
    assert_shaped_like(
        (await rest.get(f"Calls/{call['sid']}.json")).json(), "api.v2010.account.call"
    )

    created = await rest.post(
        "Conferences/support-room/Participants.json",
        data={"From": "+15550001111", "To": "client:agent2", "Label": "leg-1"},
    )
    assert created.status_code == 201
    participant = created.json()
    assert_shaped_like(participant, "api.v2010.account.conference.participant")
    assert participant["label"] == "leg-1" and participant["status"] == "queued"
    conference = (await rest.get(f"Conferences/{participant['conference_sid']}.json")).json()
    assert_shaped_like(conference, "api.v2010.account.conference")
    assert (conference["friendly_name"], conference["status"]) == ("support-room", "init")

    listed = (await rest.get("Conferences.json", params={"FriendlyName": "support-room"})).json()
    assert [c["sid"] for c in listed["conferences"]] == [conference["sid"]]
    assert listed["next_page_uri"] is None
    none = (await rest.get("Conferences.json", params={"Status": "in-progress"})).json()
    assert none["conferences"] == []


async def test_basic_auth_with_the_account_sid_and_auth_token(
    host: FastAPI, settings: Settings
) -> None:
    base = f"https://sim.test/simulator/twilio/2010-04-01/Accounts/{settings.account_sid}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url=base) as http:
        for auth in (None, (settings.account_sid, "wrong"), ("AC" + "1" * 32, settings.auth_token)):
            response = await http.post("/Calls.json", data=CALL, auth=auth)  # type: ignore[arg-type]
            assert response.status_code == 401
            assert response.json() == {
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            }
            assert response.headers["WWW-Authenticate"].startswith("Basic")
        other = "AC" + "2" * 32
        response = await http.post(
            f"https://sim.test/simulator/twilio/2010-04-01/Accounts/{other}/Calls.json",
            data=CALL,
            auth=(settings.account_sid, settings.auth_token),
        )
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("form", "code", "words"),
    [
        ({"From": "+15550001111", "Url": CALL["Url"]}, 21201, "No 'To' number"),
        ({"To": "client:agent1", "Url": CALL["Url"]}, 21213, "No 'From' number"),
        ({"To": "client:agent1", "From": "+15550001111"}, 21205, "Url parameter is required"),
        ({**CALL, "Url": "not a url"}, 21205, "not a valid URL"),
        ({**CALL, "To": "sip:alice@example.com"}, 21211, "Invalid 'To'"),
        ({**CALL, "From": "alice"}, 21212, "Invalid 'From'"),
        ({**CALL, "Timeout": "forever"}, 20001, "Timeout"),
        ({**CALL, "StatusCallback": "nope"}, 21609, "StatusCallback"),
        ({**CALL, "StatusCallbackEvent": "exploded"}, 20001, "StatusCallbackEvent"),
    ],
)
async def test_requests_twilio_would_refuse(
    rest: httpx.AsyncClient, form: dict[str, str], code: int, words: str
) -> None:
    response = await rest.post("Calls.json", data=form)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["status"]) == (code, 400)
    assert words in body["message"]
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


async def test_unknown_resources_are_twilios_404(
    rest: httpx.AsyncClient, simulator: Simulator
) -> None:
    unknown = "CA" + "f" * 32
    response = await rest.post(f"Calls/{unknown}.json", data={"Status": "completed"})
    assert response.status_code == 404
    assert response.json()["code"] == 20404
    assert f"/Calls/{unknown}.json was not found" in response.json()["message"]

    created = await rest.post(
        "Conferences/room/Participants.json", data={"From": "+15550001111", "To": "client:a"}
    )
    conference_sid, call_sid = created.json()["conference_sid"], created.json()["call_sid"]
    # Update and delete need the CF SID, as on Twilio: the friendly name is not enough.
    assert (await rest.post(f"Conferences/room/Participants/{call_sid}.json")).status_code == 404
    path = f"Conferences/{conference_sid}/Participants/{call_sid}.json"
    assert (await rest.post(path, data={"Muted": "true"})).json()["muted"] is True
    assert (await rest.delete(path)).status_code == 204
    # A participant still ringing is canceled by the delete; then it is gone.
    call = simulator.engine.calls[call_sid]
    await eventually(lambda: call.status.value == "canceled")
    assert (await rest.delete(path)).status_code == 404


async def test_updating_a_call(rest: httpx.AsyncClient, simulator: Simulator) -> None:
    sid = (await rest.post("Calls.json", data=CALL)).json()["sid"]
    bad = await rest.post(f"Calls/{sid}.json", data={"Status": "paused"})
    assert bad.status_code == 400
    redirect = await rest.post(f"Calls/{sid}.json", data={"Url": CALL["Url"]})
    assert redirect.status_code == 400 and "redirect" in redirect.json()["message"]
    ended = await rest.post(f"Calls/{sid}.json", data={"Status": "canceled"})
    assert ended.json()["status"] == "canceled"
    assert ended.json()["end_time"] is not None
    again = await rest.post(f"Calls/{sid}.json", data={"Status": "completed"})
    assert again.status_code == 200 and again.json()["status"] == "canceled"

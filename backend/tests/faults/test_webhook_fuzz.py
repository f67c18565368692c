"""Hypothesis over every Twilio webhook. Correctly signed but random or malformed forms (missing
and unknown fields, wrong types, huge and non-ASCII values, repeated keys, unknown ids, bodies
that are not forms) get a 4xx in the app's error shape, or the TwiML / 204 a valid form earns —
never a 5xx. Wrongly signed ones get 403 and write nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL
from tests.faults.test_auth_abuse import row_counts
from tests.test_call_control import Scenario
from tests.test_call_control import scenario as scenario  # the fixture

WEBHOOKS = (
    "/conference/connect/client",
    "/conference/wait",
    "/conference/hold",
    "/conference/connect/{conference_id}/{agent_id}",
    "/conference/status",
    "/conference/legs/{leg_id}/status",
)
FIELDS = (
    "AccountSid",
    "CallSid",
    "CallStatus",
    "From",
    "To",
    "Caller",
    "Called",
    "Direction",
    "ConferenceSid",
    "FriendlyName",
    "StatusCallbackEvent",
    "SequenceNumber",
    "Timestamp",
    "Hold",
    "Muted",
    "Coaching",
    "EndConferenceOnExit",
    "CallbackSource",
    "CallDuration",
    "ReasonConferenceEnded",
    "CallSidEndingConference",
    "SipResponseCode",
)
PLAUSIBLE = (
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
    "participant-join",
    "participant-leave",
    "participant-hold",
    "participant-mute",
    "conference-start",
    "conference-end",
    "true",
    "false",
    "0",
    "-1",
    "99999999999999999999999",
    "+15551230000",
    "client:agent2",
    "Wed, 25 Nov 2026 12:00:00 +0000",
    "",
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).map(lambda h: "CA" + h),
    st.integers().map(str),
    st.text(min_size=2000, max_size=6000, alphabet="xyz\u00e9\U0001f4de"),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=20))
forms = st.lists(st.tuples(keys, values), max_size=14)
ids = st.one_of(
    st.integers(min_value=-5, max_value=10).map(str),
    st.integers(min_value=2**31, max_value=2**70).map(str),
    st.text(min_size=1, max_size=30),
)


def sign(auth_token: str, url: str, pairs: list[tuple[str, str]]) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, MultiDict(pairs)))


@st.composite
def webhook_paths(draw: st.DrawFn, scenario: Scenario) -> str:
    """A webhook URL, its ids sometimes real (the live call, its legs), sometimes not."""
    path = draw(st.sampled_from(WEBHOOKS))
    real = draw(st.booleans())
    replacements = {
        "{conference_id}": scenario.customer_sid if real else draw(ids),
        "{agent_id}": draw(st.sampled_from(["agent1", "agent2"])) if real else draw(ids),
        "{leg_id}": str(draw(st.integers(1, 4))) if real else draw(ids),
    }
    for placeholder, value in replacements.items():
        path = path.replace(placeholder, quote(value, safe=""))
    return path


def fill_in(scenario: Scenario, pairs: list[tuple[str, str]], data: st.DataObject) -> None:
    """Sometimes name the live call, so the fuzz reaches past "unknown call" into the logic."""
    if data.draw(st.booleans()):
        pairs.append(("AccountSid", scenario.twilio.settings.account_sid))
        pairs.append(
            ("CallSid", data.draw(st.sampled_from([scenario.customer_sid, scenario.agent1_sid])))
        )
        pairs.append(("FriendlyName", scenario.customer_sid))


@FUZZ
@given(data=st.data())
async def test_signed_random_webhooks_get_a_4xx_or_a_valid_answer_never_a_5xx(
    scenario: Scenario, data: st.DataObject
) -> None:
    s = scenario
    path = data.draw(webhook_paths(s))
    pairs = data.draw(forms)
    fill_in(s, pairs, data)
    url = PUBLIC_BASE_URL + path
    request: dict[str, Any]
    body_kind = data.draw(st.sampled_from(["form", "form", "form", "json", "garbage"]))
    if body_kind == "form":
        request = {
            "content": urlencode(pairs).encode(),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
        signed_pairs = pairs
    elif body_kind == "json":
        request = {"json": dict(pairs)}
        signed_pairs = []
    else:
        request = {
            "content": data.draw(st.binary(max_size=300)),
            "headers": {"Content-Type": "multipart/form-data; boundary=xyz"},
        }
        signed_pairs = []
    headers = {
        **request.pop("headers", {}),
        "X-Twilio-Signature": sign(s.twilio.auth_token, url, signed_pairs),
    }

    response = await s.twilio.client.post(path, headers=headers, **request)

    assert response.status_code < 500, (path, pairs, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "detail"}, body
    elif response.status_code == 200:
        assert response.headers["content-type"].startswith("application/xml")
        assert response.text.startswith("<?xml") or response.text.startswith("<Response")


@st.composite
def forged(draw: st.DrawFn, auth_token: str, url: str, pairs: list[tuple[str, str]]) -> str | None:
    kind = draw(st.sampled_from(["missing", "random", "other url", "other token", "tampered"]))
    if kind == "missing":
        return None
    if kind == "random":
        return draw(
            st.text(
                alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40
            )
        )
    if kind == "other url":
        return sign(auth_token, url.replace(PUBLIC_BASE_URL, "https://attacker.example"), pairs)
    if kind == "other token":
        return sign("not-the-auth-token", url, pairs)
    return sign(auth_token, url, [*pairs, ("CallStatus", "completed")])  # then one field is dropped


@FUZZ
@given(data=st.data())
async def test_wrongly_signed_webhooks_are_403_and_write_nothing(
    scenario: Scenario, data: st.DataObject
) -> None:
    s = scenario
    path = data.draw(webhook_paths(s))
    pairs = data.draw(forms)
    fill_in(s, pairs, data)
    url = PUBLIC_BASE_URL + path
    signature = data.draw(forged(s.twilio.auth_token, url, pairs))
    assume(signature is None or signature != sign(s.twilio.auth_token, url, pairs))
    before = await row_counts(s.app)
    sent_before = len(s.twilio.api.calls)

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = await s.twilio.client.post(path, content=urlencode(pairs).encode(), headers=headers)

    if response.status_code == 422:
        # A path id out of range is refused before anything is read; still nothing written.
        assert response.json()["error"] == "validation_error"
    else:
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] == "invalid_signature"
    await s.twilio.drain()
    assert await row_counts(s.app) == before
    assert len(s.twilio.api.calls) == sent_before


async def test_a_correctly_signed_form_is_accepted(scenario: Scenario) -> None:
    """The fuzz's own signing is right: the same helper signs a form the app accepts."""
    s = scenario
    pairs = [("AccountSid", s.twilio.settings.account_sid), ("CallSid", s.customer_sid)]
    url = PUBLIC_BASE_URL + "/conference/wait"
    response = await s.twilio.client.post(
        "/conference/wait",
        content=urlencode(pairs).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(s.twilio.auth_token, url, pairs),
        },
    )
    assert response.status_code == 200


async def test_a_voice_webhook_naming_one_of_our_own_legs_is_409_and_writes_nothing(
    scenario: Scenario,
) -> None:
    """Found by the fuzz: the agent's CallSid posted to the number's webhook was a 500."""
    s = scenario
    before = await row_counts(s.app)
    response, _ = await s.twilio.customer_calls(s.agent1_sid)
    assert response.status_code == 409
    assert response.json()["error"] == "call_sid_in_use"
    assert await row_counts(s.app) == before

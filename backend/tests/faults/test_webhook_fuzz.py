"""Hypothesis over every Twilio webhook (every POST route under /conference/, read from the app).

Correctly signed but random or malformed requests (missing and unknown fields, wrong types, huge
and non-ASCII values, unknown SIDs, repeated keys, random path ids, query strings, bodies that
are not forms) never get a 5xx: a 4xx in the app's JSON error shape, or the TwiML / 204 that a
valid form earns, always a status the route documents, and never 403 for a good signature.
Wrongly signed ones (missing, random, for another URL or another auth token, a field tampered
with) get exactly 403 and write nothing: no row in any table, no request to Twilio.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from defusedxml import ElementTree
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, event, func, select
from starlette.datastructures import MultiDict
from starlette.routing import BaseRoute
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL, make_settings
from tests.factories import AgentFactory
from tests.faults.fuzzing import DETERMINISTIC
from tests.twilio import TwilioDouble
from warm_transfer.main import create_app
from warm_transfer.models import Base


def post_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    """The path of every POST route, however deep the routers are included."""
    for route in routes:
        # FastAPI keeps an included router nested, with its include-time prefix, as one route.
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from post_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute) and "POST" in (route.methods or ()):
            yield prefix + route.path


def webhook_routes(app: FastAPI) -> set[str]:
    return {path for path in post_routes(app.routes) if path.startswith("/conference/")}


def _webhooks() -> dict[str, set[int]]:
    """Every webhook route, with the statuses its OpenAPI documents (from an app never started)."""
    app = create_app(make_settings(Path("unused")), run_worker=False)
    documented = app.openapi()["paths"]
    return {
        path: {int(code) for code in documented[path]["post"]["responses"]}
        for path in webhook_routes(app)
    }


WEBHOOKS = _webhooks()
ROUTES = sorted(WEBHOOKS)

# Per route (each with its own app, database and live call), and over all routes at once.
SIGNED_EXAMPLES = 150
FORGED_EXAMPLES = 250
FUZZ = settings(
    DETERMINISTIC,
    suppress_health_check=[*DETERMINISTIC.suppress_health_check, HealthCheck.data_too_large],
)

FIELDS = (
    "AccountSid",
    "ApiVersion",
    "CallSid",
    "CallStatus",
    "CallDuration",
    "CallbackSource",
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
    "StartConferenceOnEnter",
    "ParticipantLabel",
    "ParticipantCallStatus",
    "ReasonConferenceEnded",
    "CallSidEndingConference",
)
WORDS = (
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
    "participant-unhold",
    "participant-mute",
    "conference-start",
    "conference-end",
    "last-participant-left",
    "true",
    "false",
    "yes",
    "null",
    "0",
    "-1",
    "1.5",
    "1e400",
    "NaN",
    "+15551230000",
    "client:agent2",
    "customer",
    "leg-1",
    "Wed, 25 Nov 2026 12:00:00 +0000",
    "",
    " ",
)
# Printable text without lone surrogates (they cannot be sent); NUL and controls are included.
unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
huge_text = st.builds(
    lambda char, size: char * size,
    st.sampled_from(["x", "9", "\u00e9", "\U0001f4de", "\x00", "%"]),
    st.integers(1_000, 20_000),
)
# Path ids: anything a URL segment can hold (no "/", not only dots, which URLs fold away), but
# NUL: see test_agent_connect_with_a_nul_in_a_path_id_never_queries_the_database below.
segment = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"), min_size=1)
hex_32 = st.text("0123456789abcdef", min_size=32, max_size=32)
unknown_call_sids = hex_32.map(lambda digits: "CA" + digits)
unknown_conference_sids = hex_32.map(lambda digits: "CF" + digits)
odd_ids = st.one_of(
    segment.filter(lambda text: text.strip(".") != ""),
    st.integers(-(2**70), 2**70).map(str),
    unknown_call_sids,
    st.just("x" * 3000),
)


@dataclass
class Live:
    """A customer talking with agent1; agent2 available."""

    customer_sid: str
    conference_sid: str
    agent_leg_id: int
    agent_sid: str


@pytest.fixture
async def live(twilio: TwilioDouble, agents: AgentFactory) -> Live:
    await agents.create("agent1")
    customer_sid, leg_id, agent_sid = await twilio.connected_call()
    await agents.create("agent2")
    return Live(customer_sid, twilio.conference_sids[customer_sid], leg_id, agent_sid)


def signature_of(auth_token: str, url: str, pairs: Sequence[tuple[str, str]]) -> str:
    """X-Twilio-Signature as Twilio computes it (repeated keys included)."""
    return str(RequestValidator(auth_token).compute_signature(url, MultiDict(list(pairs))))


async def row_counts(app: FastAPI) -> dict[str, int]:
    """The number of rows in every table, in one query."""
    tables = Base.metadata.sorted_tables
    counts = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    async with app.state.session_factory() as session:
        row = (await session.execute(counts)).one()
    return {table.name: int(count) for table, count in zip(tables, row, strict=True)}


@dataclass
class PostgresGuard:
    """Statement parameters PostgreSQL would refuse, caught on SQLite (which takes them all): a
    text holding a NUL, an integer beyond a 32-bit INTEGER. On PostgreSQL each is a 500."""

    refused: list[str] = field(default_factory=list)

    def __call__(self, *args: Any) -> None:  # before_cursor_execute(conn, cursor, sql, params, …)
        statement, parameters = args[2], args[3]
        rows = parameters if isinstance(parameters, list) else [parameters]
        for row in rows:
            for value in (row.values() if isinstance(row, dict) else row) or ():
                if isinstance(value, str) and "\x00" in value:
                    self.refused.append(f"NUL in {value[:40]!r}: {statement[:100]}")
                elif isinstance(value, int) and not -(2**31) <= value < 2**31:
                    self.refused.append(f"{value} beyond INTEGER: {statement[:100]}")

    def check(self, request: object = "") -> None:
        refused, self.refused = self.refused, []
        assert not refused, f"{request}\nPostgreSQL would refuse: " + "; ".join(refused)


@pytest.fixture
def postgres_guard(app: FastAPI) -> Iterator[PostgresGuard]:
    guard = PostgresGuard()
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", guard)
    yield guard
    event.remove(engine, "before_cursor_execute", guard)


async def assert_fits_postgresql(app: FastAPI) -> None:
    """What the webhooks stored would also fit PostgreSQL, which, unlike SQLite, refuses a
    string longer than its VARCHAR(n) or holding a NUL: these tests run on SQLite by default."""
    async with app.state.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String)]
            if not columns:
                continue
            for row in (await session.execute(select(*columns))).all():
                for column, value in zip(columns, row, strict=True):
                    if not isinstance(value, str):
                        continue
                    length = getattr(column.type, "length", None)
                    assert length is None or len(value) <= length, (str(column), value[:80])
                    assert "\x00" not in value, (str(column), value[:80])


def valid_form(path: str, live: Live, account_sid: str, sequence: int) -> list[tuple[str, str]]:
    """A form Twilio could send to this route about the live call: the fuzz's starting point."""
    base = [("AccountSid", account_sid), ("ApiVersion", "2010-04-01")]
    if path == "/conference/connect/client":
        return [
            *base,
            ("CallSid", f"CA{sequence:032x}"),  # a new customer's call
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", "+15551230000"),
            ("To", "+15559870000"),
        ]
    if path == "/conference/connect/{conference_id}/{agent_id}":
        return [*base, ("CallSid", live.agent_sid), ("CallStatus", "in-progress")]
    if path == "/conference/status":
        return [
            *base,
            ("ConferenceSid", live.conference_sid),
            ("FriendlyName", live.customer_sid),
            ("StatusCallbackEvent", "participant-hold"),
            ("SequenceNumber", str(sequence)),
            ("CallSid", live.agent_sid),
            ("Hold", "true"),
            ("Muted", "false"),
            ("Timestamp", "Wed, 25 Nov 2026 12:00:00 +0000"),
        ]
    if path == "/conference/legs/{leg_id}/status":
        return [
            *base,
            ("CallSid", live.agent_sid),
            ("CallStatus", "in-progress"),
            ("CallbackSource", "call-progress-events"),
            ("SequenceNumber", str(sequence)),
        ]
    return base  # wait and hold music: nothing but the account


def live_ids(live: Live) -> dict[str, str]:
    return {
        "conference_id": live.customer_sid,
        "agent_id": "agent1",
        "leg_id": str(live.agent_leg_id),
    }


def with_ids(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: quote(ids[match.group(1)], safe=""), path)


@st.composite
def webhook_paths(draw: st.DrawFn, route: str, live: Live) -> str:
    """The route's URL path: mostly the live call's ids, else any others, in its parameters."""
    ids = {
        name: draw(
            st.one_of(
                st.just(value),
                st.just(value),
                st.sampled_from(["agent2", "ghost", "1", "0"]),
                odd_ids,
            )
        )
        for name, value in live_ids(live).items()
    }
    return with_ids(route, ids)


# Header values travel as visible ASCII; Twilio's own are short, these need not be.
idempotency_tokens = st.one_of(
    st.sampled_from(["idem-1", "x" * 500]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300),
)
# Where integers stop fitting: a database INTEGER, then a 64-bit one.
BOUNDARIES = (
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 40,
)
values = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(BOUNDARIES),
    unicode_text,
    unknown_call_sids,
    unknown_conference_sids,
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    huge_text,
)
keys = st.one_of(st.sampled_from(FIELDS), unicode_text)
# Twilio keeps a query string in the URL it calls (and signs it); huge values would not fit a URL.
queries = st.dictionaries(keys, st.one_of(st.sampled_from(WORDS), unicode_text), max_size=2).map(
    urlencode
)


@st.composite
def mutated_forms(draw: st.DrawFn, start: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The valid form with fields dropped, replaced by odd values, repeated, or added."""
    pairs = [pair for pair in start if draw(st.integers(0, 9)) > 0]  # each dropped 1 time in 10
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.one_of(st.sampled_from([k for k, _ in start] or ["AccountSid"]), keys))
        action = draw(st.sampled_from(["replace", "repeat", "add"]))
        if action == "replace":
            pairs = [(k, v) for k, v in pairs if k != key]
        pairs.append((key, draw(values)))
    return pairs


@dataclass
class Body:
    content: bytes
    content_type: str | None
    signed_pairs: list[tuple[str, str]]  # what the app reads as the form, so what is signed
    exact: bool = True  # False when the app might read the bytes otherwise than as signed


@st.composite
def bodies(draw: st.DrawFn, start: list[tuple[str, str]]) -> Body:
    kinds = ["form"] * 6 + ["random form", "multipart", "json", "text", "bytes", "none"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("form", "random form"):
        pairs = draw(mutated_forms(start) if kind == "form" else st.lists(st.tuples(keys, values)))
        return Body(urlencode(pairs).encode(), "application/x-www-form-urlencoded", pairs)
    if kind == "multipart":
        # Not what Twilio sends; with a file part, the file cannot be signed as Twilio would.
        pairs = draw(mutated_forms(start))
        parts = [
            f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in pairs
        ]
        if draw(st.booleans()):
            parts.append(
                b'--b\r\nContent-Disposition: form-data; name="Media"; filename="a.wav"\r\n'
                b"Content-Type: audio/wav\r\n\r\nRIFF\r\n"
            )
        content = b"".join(parts) + b"--b--\r\n"
        return Body(content, "multipart/form-data; boundary=b", pairs, exact=False)
    if kind == "json":
        return Body(json.dumps(dict(draw(mutated_forms(start)))).encode(), "application/json", [])
    if kind == "text":
        return Body(draw(unicode_text).encode(), "text/plain", [])
    if kind == "bytes":
        # Raw bytes sent as a form: signed over the fields they parse as, as Twilio would.
        raw = draw(st.binary(max_size=200))
        fields = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        return Body(raw, "application/x-www-form-urlencoded", fields, exact=False)
    return Body(b"", None, [])


def documented(route: str, response: httpx.Response) -> str:
    return (
        f"POST {response.request.url} -> {response.status_code} "
        f"{response.headers.get('content-type')}: {response.text[:300]}\n"
        f"documented for {route}: {sorted(WEBHOOKS[route])}"
    )


def assert_error_shape(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json", response.text[:300]
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str)
    assert isinstance(body["detail"], str)


def assert_answer(route: str, response: httpx.Response, *, signed: bool) -> None:
    """What a webhook may answer a correctly signed request: never a 5xx, only a status the
    route documents, a 4xx in the error shape, TwiML, or an empty 204."""
    assert response.status_code < 500, documented(route, response)
    assert response.status_code in WEBHOOKS[route], documented(route, response)
    if response.status_code >= 400:
        assert_error_shape(response)
        if signed:
            # Signed as Twilio signs: the signature is never what the app objects to.
            assert response.json()["error"] != "invalid_signature", documented(route, response)
    elif response.status_code == 200:
        assert response.headers["content-type"].startswith("application/xml")
        assert ElementTree.fromstring(response.text).tag == "Response"
    else:
        assert response.status_code == 204, documented(route, response)
        assert response.content == b""


async def post_signed(
    twilio: TwilioDouble,
    url_path: str,
    pairs: list[tuple[str, str]],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    signature = signature_of(twilio.auth_token, PUBLIC_BASE_URL + url_path, pairs)
    return await twilio.client.post(
        url_path,
        content=urlencode(pairs).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            **(headers or {}),
        },
    )


async def test_fuzz_covers_every_webhook_route(app: FastAPI) -> None:
    routes = webhook_routes(app)
    documented = {path for path in app.openapi()["paths"] if path.startswith("/conference/")}
    assert set(ROUTES) == routes == documented
    assert {
        "/conference/connect/client",
        "/conference/wait",
        "/conference/connect/{conference_id}/{agent_id}",
        "/conference/status",
        "/conference/legs/{leg_id}/status",
    } <= routes


async def test_the_fuzz_signs_as_twilio_does_so_its_starting_forms_are_accepted(
    live: Live, twilio: TwilioDouble
) -> None:
    """The fuzz's own signing and starting forms are right: what it mutates below is a request
    the app accepts, and what it forges is a signature the app would otherwise take."""
    for route in ROUTES:
        pairs = valid_form(route, live, twilio.settings.account_sid, sequence=1000)
        response = await post_signed(twilio, with_ids(route, live_ids(live)), pairs)
        assert response.status_code in (200, 204), (route, response.text)


# Every one of these in place of each field in turn (the rest of the form valid), and as each
# path id: wrong types, integer edges, NUL, huge, non-ASCII, unknown SIDs.
ODD_VALUES = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "null",
    "true",
    "-1",
    "1.5",
    "NaN",
    "1e400",
    *BOUNDARIES,
    "\u00e9\u4e2d\U0001f4de",
    "\u202e\ufeff",
    "x" * 20_000,
    "CA" + "0" * 32,
    "CF" + "0" * 32,
    "<Response><Hangup/></Response>",
    "'; DROP TABLE calls; --",
)


@pytest.mark.parametrize("route", ROUTES)
async def test_signed_webhook_with_any_one_field_or_id_missing_odd_or_repeated_is_never_5xx(
    route: str, live: Live, twilio: TwilioDouble, postgres_guard: PostgresGuard
) -> None:
    """The systematic sweep under the random fuzz below: each field of a valid form dropped,
    repeated, or replaced by each odd value, each path id replaced by each odd value, and
    idempotency tokens of every length."""
    start = valid_form(route, live, twilio.settings.account_sid, sequence=5000)
    ids = live_ids(live)
    url_path = with_ids(route, ids)
    requests: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
    for index, (key, value) in enumerate(start):
        others = start[:index] + start[index + 1 :]
        requests.append((url_path, others, {}))
        requests.append((url_path, [*start, (key, value + "0")], {}))
        requests += [(url_path, [*others, (key, odd)], {}) for odd in ODD_VALUES]
    for name in re.findall(r"\{(\w+)\}", route):
        requests += [
            (with_ids(route, {**ids, name: odd}), start, {})
            for odd in ODD_VALUES
            # A path segment holds neither "/" nor nothing, and a URL not that much; NUL: see
            # test_agent_connect_with_a_nul_in_a_path_id_never_queries_the_database.
            if odd.strip(".") and "/" not in odd and "\x00" not in odd and len(odd) < 5000
        ]
    for size in (1, 64, 199, 200, 1000):  # Twilio's retry token, stored with the event
        fresh = valid_form(route, live, twilio.settings.account_sid, sequence=6000 + size)
        requests.append((url_path, fresh, {"I-Twilio-Idempotency-Token": "t" * size}))
    for url_path, pairs, headers in requests:
        response = await post_signed(twilio, url_path, pairs, headers)
        await twilio.drain()
        assert_answer(route, response, signed=True)
        postgres_guard.check((url_path, [(k, v[:40]) for k, v in pairs]))
    await assert_fits_postgresql(twilio.app)


@pytest.mark.parametrize("route", ROUTES)
@settings(FUZZ, max_examples=SIGNED_EXAMPLES)
@given(data=st.data())
async def test_signed_webhook_never_gets_a_5xx_only_a_documented_4xx_or_a_valid_answer(
    route: str,
    live: Live,
    twilio: TwilioDouble,
    postgres_guard: PostgresGuard,
    data: st.DataObject,
) -> None:
    path = data.draw(webhook_paths(route, live), label="path")
    query = data.draw(st.one_of(st.just(""), queries), label="query")
    url_path = f"{path}?{query}" if query else path
    start = valid_form(
        route, live, twilio.settings.account_sid, sequence=data.draw(st.integers(1, 10**6))
    )
    body = data.draw(bodies(start), label="body")
    headers = {
        "X-Twilio-Signature": signature_of(
            twilio.auth_token, PUBLIC_BASE_URL + url_path, body.signed_pairs
        )
    }
    if body.content_type is not None:
        headers["Content-Type"] = body.content_type
    token = data.draw(st.one_of(st.none(), idempotency_tokens), label="idempotency token")
    if token is not None:
        headers["I-Twilio-Idempotency-Token"] = token

    response = await twilio.client.post(url_path, content=body.content, headers=headers)
    await twilio.drain()  # the dials and hang-ups the webhook queued go out too

    assert_answer(route, response, signed=body.exact)
    postgres_guard.check()
    await assert_fits_postgresql(twilio.app)


@dataclass
class Forgery:
    how: str
    signature: str | None  # the X-Twilio-Signature sent, if any
    url_path: str  # where it is sent
    pairs: list[tuple[str, str]]  # the form sent


@st.composite
def forgeries(
    draw: st.DrawFn, auth_token: str, url_path: str, pairs: list[tuple[str, str]]
) -> Forgery:
    """A request Twilio never signed: its signature is missing, wrong or for something else."""
    url = PUBLIC_BASE_URL + url_path
    how = draw(
        st.sampled_from(
            [
                "missing",
                "empty",
                "random",
                "other host",
                "plain http",
                "other path",
                "query added after signing",
                "query dropped after signing",
                "other auth token",
                "field changed",
                "field added",
                "field dropped",
                "truncated",
            ]
        )
    )
    sent = list(pairs)
    signature: str | None = signature_of(auth_token, url, pairs)
    if how == "missing":
        signature = None
    elif how == "empty":
        signature = ""
    elif how == "random":
        signature = draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1))
    elif how == "other host":
        signature = signature_of(
            auth_token, url.replace(PUBLIC_BASE_URL, "https://evil.example"), pairs
        )
    elif how == "plain http":
        signature = signature_of(auth_token, url.replace("https://", "http://"), pairs)
    elif how == "other path":
        signature = signature_of(auth_token, PUBLIC_BASE_URL + "/conference/wait", pairs)
    elif how == "query added after signing":
        url_path += ("&" if "?" in url_path else "?") + "To=%2B15550009999"
    elif how == "query dropped after signing":
        signature = signature_of(auth_token, url + ("&" if "?" in url else "?") + "x=1", pairs)
    elif how == "other auth token":
        signature = signature_of(
            draw(st.sampled_from(["", "x", auth_token + "x", auth_token.upper()])), url, pairs
        )
    elif how == "field changed" and sent:
        index = draw(st.integers(0, len(sent) - 1))
        sent[index] = (
            sent[index][0],
            sent[index][1] + draw(st.sampled_from(["0", " x", "\u00e9"])),
        )
    elif how == "field dropped" and sent:
        del sent[draw(st.integers(0, len(sent) - 1))]
    elif how == "truncated":
        assert signature is not None
        signature = signature[: draw(st.integers(0, len(signature) - 1))]
    else:  # field added (or a change to an empty form)
        sent.append((draw(st.sampled_from(FIELDS)), draw(st.sampled_from(WORDS[:10]))))
    return Forgery(how, signature, url_path, sent)


@settings(FUZZ, max_examples=FORGED_EXAMPLES)
@given(data=st.data())
async def test_wrongly_signed_webhooks_are_exactly_403_and_write_nothing(
    live: Live, twilio: TwilioDouble, app: FastAPI, data: st.DataObject
) -> None:
    route = data.draw(st.sampled_from(ROUTES), label="route")
    path = data.draw(webhook_paths(route, live), label="path")
    # Forms that would change things if accepted: a new call, a new event, a leg's progress.
    pairs = valid_form(
        route, live, twilio.settings.account_sid, sequence=data.draw(st.integers(1, 10**6))
    )
    pairs = data.draw(st.one_of(st.just(pairs), mutated_forms(pairs)), label="form")
    if route == "/conference/legs/{leg_id}/status":
        pairs = [(k, v) for k, v in pairs if k != "CallStatus"] + [("CallStatus", "completed")]
    query = data.draw(st.sampled_from(["", "?a=1"]))
    forgery = data.draw(forgeries(twilio.auth_token, path + query, pairs), label="forgery")
    url = PUBLIC_BASE_URL + forgery.url_path
    assume(forgery.signature != signature_of(twilio.auth_token, url, forgery.pairs))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if forgery.signature is not None:
        headers["X-Twilio-Signature"] = forgery.signature
    before = await row_counts(app)
    sent_to_twilio = len(twilio.api.calls)

    response = await twilio.client.post(
        forgery.url_path, content=urlencode(forgery.pairs).encode(), headers=headers
    )
    await twilio.drain()

    assert response.status_code == 403, (forgery.how, documented(route, response))
    assert_error_shape(response)
    assert response.json()["error"] == "invalid_signature"
    assert await row_counts(app) == before, forgery.how
    assert len(twilio.api.calls) == sent_to_twilio, forgery.how


async def test_agent_connect_with_a_nul_in_a_path_id_never_queries_the_database(
    live: Live, twilio: TwilioDouble, postgres_guard: PostgresGuard
) -> None:
    route = "/conference/connect/{conference_id}/{agent_id}"
    url_path = with_ids(route, {**live_ids(live), "conference_id": "a\x00b"})
    response = await post_signed(
        twilio, url_path, valid_form(route, live, twilio.settings.account_sid, sequence=1)
    )
    assert_answer(route, response, signed=True)
    postgres_guard.check(url_path)


async def test_a_voice_webhook_naming_one_of_our_own_legs_is_409_and_writes_nothing(
    live: Live, twilio: TwilioDouble, app: FastAPI
) -> None:
    """Found by the fuzz: the agent's CallSid posted to the number's webhook was a 500."""
    before = await row_counts(app)
    response, _ = await twilio.customer_calls(live.agent_sid)
    assert response.status_code == 409
    assert response.json()["error"] == "call_sid_in_use"
    assert await row_counts(app) == before

"""Twilio's REST API failing (5xx, 429 with Retry-After, a lost answer, a refused connection) on
each request the app sends, triggered as the product triggers it:

- from an API action (hold, transfer, cancel, complete, leave): a 502 in the app's error shape,
  the database exactly as it was, webhooks still answered, and the same action working once
  Twilio recovers;
- from a webhook's queued reaction: the webhook answers at once; the job backs off (0.5 s, 1 s,
  2 s, at least Retry-After) and is done once Twilio recovers, or gives up after four attempts;
- dialing an agent (Calls.create, not idempotent): a request that may have reached Twilio is
  never sent again and the call goes to the next agent; one that surely did nothing is retried
  and the call placed exactly once; with no other agent free, the call is offered again once a
  call that may have been placed would have rung out; such a call is hung up when it reports.

The REST requests the app sends (telephony/gateway.py), and who sends them:
  Calls.create                    the dial_agent job (an offer)
  Conferences/{name}/Participants.create   POST /transfers (to an agent or a number)
  Participants/{sid|label} update  hold, transfers (end-on-exit, hold), webhook reactions
  Calls/{sid} update (completed)   cancel, complete, leave; jobs: hang up a ringing offer, cold
  Conferences/{CF} update (completed)  leave as the only agent; job: the last agent hung up
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import AgentFactory
from tests.faults.twilio_outage import (
    FAILURE_IDS,
    FAILURES,
    RETRY_AFTER_SECONDS,
    SAFE,
    UNSAFE,
    Failure,
    Outage,
    assert_backed_off,
    due_now,
    failed_attempt,
    jobs,
    snapshot,
)
from tests.faults.twilio_outage import fast_agents as fast_agents  # the fixture
from tests.test_call_control import CUSTOMER, Scenario
from tests.twilio import TwilioDouble, form_of, sid
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegStatus
from warm_transfer.jobs.models import Job, JobStatus
from warm_transfer.jobs.queue import RetryPolicy
from warm_transfer.telephony.http_client import parse_retry_after
from warm_transfer.transfers.models import TransferStatus

POLICY = RetryPolicy()  # the production defaults: four attempts, 0.5 s doubling


def backoff(failure: Failure, attempt: int) -> float:
    """How long a job waits after its `attempt`-th failure: Retry-After is a floor."""
    seconds = POLICY.delay(attempt).total_seconds()
    return max(seconds, RETRY_AFTER_SECONDS) if failure.name == "429" else seconds


@pytest.fixture
async def call(twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI) -> Scenario:
    """A customer talking with agent1; agent2 and agent3 available."""
    await fast_agents.create("agent1")
    customer_sid, leg_id, agent_sid = await twilio.connected_call()
    await fast_agents.create("agent2")
    await fast_agents.create("agent3")
    async with app.state.session_factory() as session:
        call_id = await session.scalar(select(Call.id).where(Call.call_sid == customer_sid))
    assert call_id is not None
    return Scenario(twilio, fast_agents, app, customer_sid, call_id, leg_id, agent_sid)


async def webhooks_answer(s: Scenario) -> None:
    """Twilio's next callbacks are answered as ever: a conference event, and the customer's
    call webhook retried (the same TwiML, no second call)."""
    event = await s.twilio.conference(
        s.customer_sid, "participant-unmute", s.customer_sid, Muted="false"
    )
    assert event.status_code == 204, event.text
    calls_before = await _count_calls(s.app)
    retried, _ = await s.twilio.customer_calls(s.customer_sid)
    assert retried.status_code == 200, retried.text
    assert f">{s.customer_sid}</Conference>" in retried.text
    assert await _count_calls(s.app) == calls_before


async def _count_calls(app: FastAPI) -> int:
    async with app.state.session_factory() as session:
        return len(list(await session.scalars(select(Call.id))))


def sent_to(route_calls: Any) -> list[str]:
    return [form_of(call.request)["To"][0] for call in route_calls]


# --- API actions: 502, nothing changed ---------------------------------------------------------

ApiRequest = tuple[str, str, dict[str, Any] | None]  # the acting agent, path, JSON body


async def _hold(s: Scenario) -> ApiRequest:
    return "agent1", "/hold", {"hold": True}


async def _resume(s: Scenario) -> ApiRequest:
    held = await s.api("agent1", "POST", "/hold", json={"hold": True})
    assert held.status_code == 200, held.text
    await s.twilio.conference(s.customer_sid, "participant-hold", s.customer_sid, Hold="true")
    return "agent1", "/hold", {"hold": False}


async def _transfer_to_agent(s: Scenario) -> ApiRequest:
    return "agent1", "/transfers", {"to_agent_id": "agent2"}


async def _transfer_to_number(s: Scenario) -> ApiRequest:
    s.twilio.settings.transfer_allowed_numbers = ["+4420"]
    return "agent1", "/transfers", {"to_number": "+442071234567"}


async def _ringing_transfer(s: Scenario, **body: Any) -> int:
    transfer = await s.transfer(to_agent_id="agent2", **body)
    _, target_leg, target_sid = s.twilio.participant_added()
    await s.twilio.leg_status(target_leg, target_sid, "ringing")
    return int(transfer["id"])


async def _consulting_transfer(s: Scenario) -> int:
    transfer = await s.transfer(to_agent_id="agent2")
    await s.twilio.conference(s.customer_sid, "participant-hold", s.customer_sid, Hold="true")
    await s.twilio.target_answers(s.customer_sid)
    return int(transfer["id"])


async def _cancel(s: Scenario) -> ApiRequest:
    return "agent1", f"/transfers/{await _ringing_transfer(s)}/cancel", None


async def _complete(s: Scenario) -> ApiRequest:
    return "agent1", f"/transfers/{await _consulting_transfer(s)}/complete", None


async def _leave_mid_consult(s: Scenario) -> ApiRequest:
    await _consulting_transfer(s)
    return "agent1", "/leave", None


async def _leave_alone(s: Scenario) -> ApiRequest:
    return "agent1", "/leave", None


async def _leave_while_the_target_rings(s: Scenario) -> ApiRequest:
    await _ringing_transfer(s, hold_customer=False)
    return "agent1", "/leave", None


async def _target_leaves_the_consult(s: Scenario) -> ApiRequest:
    await _consulting_transfer(s)
    return "agent2", "/leave", None


@dataclass(frozen=True)
class ApiAction:
    name: str
    route: str  # the TwilioDouble route that fails
    prepare: Callable[[Scenario], Awaitable[ApiRequest]]
    starts_transfer: bool = False

    def __str__(self) -> str:
        return self.name


API_ACTIONS = [
    ApiAction("hold", "participant_update", _hold),
    ApiAction("resume", "participant_update", _resume),
    ApiAction(
        "transfer-agent-end-on-exit", "participant_update", _transfer_to_agent, starts_transfer=True
    ),
    ApiAction(
        "transfer-agent-dial", "participants_create", _transfer_to_agent, starts_transfer=True
    ),
    ApiAction(
        "transfer-number-dial", "participants_create", _transfer_to_number, starts_transfer=True
    ),
    ApiAction("cancel-hang-up-target", "call_update", _cancel),
    ApiAction("cancel-give-back", "participant_update", _cancel),
    ApiAction("complete-hand-over", "participant_update", _complete),
    ApiAction("complete-end-own-call", "call_update", _complete),
    ApiAction("leave-mid-consult-hand-over", "participant_update", _leave_mid_consult),
    ApiAction("leave-alone-end-conference", "conference_update", _leave_alone),
    ApiAction("leave-target-ringing-hold", "participant_update", _leave_while_the_target_rings),
    ApiAction("leave-target-ringing-end-own-call", "call_update", _leave_while_the_target_rings),
    ApiAction("target-leaves-consult-end-own-call", "call_update", _target_leaves_the_consult),
]


def _without_the_failed_transfer(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A failed start keeps its record: one new transfer and its leg, both over; nothing else."""
    [transfer_id] = set(after["transfers"]) - set(before["transfers"])
    transfer = after["transfers"].pop(transfer_id)
    assert transfer["status"] is TransferStatus.failed
    assert (transfer["active_call_id"], transfer["ended_at"] is None) == (None, False)
    [leg_id] = set(after["call_legs"]) - set(before["call_legs"])
    leg = after["call_legs"].pop(leg_id)
    assert transfer["target_leg_id"] == leg_id
    assert (leg["status"], leg["active_agent_id"]) == (LegStatus.failed, None)


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
@pytest.mark.parametrize("action", API_ACTIONS, ids=str)
async def test_api_action_is_a_502_and_changes_nothing_when_twilio_fails(
    call: Scenario, action: ApiAction, failure: Failure
) -> None:
    s, twilio = call, call.twilio
    agent, path, body = await action.prepare(s)
    await twilio.drain()
    route = getattr(twilio, action.route)
    already_sent = route.call_count
    before = await snapshot(s.app)
    outage = Outage(route, failure)

    response = await s.api(agent, "POST", path, json=body)

    assert response.status_code == 502, response.text
    error = response.json()
    assert set(error) == {"error", "detail"}
    assert error["error"] == "twilio_error"
    assert error["detail"].startswith("Twilio ")
    assert twilio.settings.account_sid not in error["detail"]
    assert outage.failed >= 1 and route.call_count > already_sent
    after = await snapshot(s.app)
    if action.starts_transfer:
        _without_the_failed_transfer(before, after)
    assert after == before
    await webhooks_answer(s)

    outage.recover()
    again = await s.api(agent, "POST", path, json=body)
    assert again.status_code in (200, 201), again.text


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
async def test_a_cancel_that_failed_half_way_is_finished_by_twilios_callbacks(
    call: Scenario, failure: Failure
) -> None:
    """The target was hung up, then giving the customer back failed: a 502, the transfer still
    shown under way. Twilio's report of the target's end finishes it, the customer given back."""
    s, twilio = call, call.twilio
    transfer_id = await _ringing_transfer(s)
    _, target_leg, target_sid = twilio.participant_added()
    outage = Outage(twilio.participant_update, failure)
    failed = await s.api("agent1", "POST", f"/transfers/{transfer_id}/cancel")
    assert failed.status_code == 502
    assert twilio.changes()[2] == ("POST", f"Calls/{target_sid}.json", {"Status": "completed"})
    assert (await s.call())["transfers"][0]["status"] == "ringing"
    outage.recover()

    answer = await twilio.leg_status(target_leg, target_sid, "canceled")
    assert answer.status_code == 204
    await twilio.drain()

    call_now = await s.call()
    assert call_now["transfers"][0]["status"] == "canceled"
    assert call_now["legs"][0]["on_hold"] is False
    assert s.live(call_now) == [("customer", None), ("agent", "agent1")]
    assert twilio.changes()[-2:] == _as_changes(_given_back(s, {}))


def _as_changes(sends: list[tuple[str, dict[str, str]]]) -> list[tuple[str, str, dict[str, str]]]:
    return [("POST", resource, form) for resource, form in sends]


# --- webhook reactions: answered at once, retried with backoff ---------------------------------


@dataclass(frozen=True)
class Reaction:
    """A webhook (or API request) whose Twilio work is queued: set up, then trigger it."""

    name: str
    route: str
    prepare: Callable[[Scenario], Awaitable[dict[str, Any]]]
    trigger: Callable[[Scenario, dict[str, Any]], Awaitable[list[httpx.Response]]]
    # The requests the job sends on `route` once Twilio answers: (resource, form).
    sends: Callable[[Scenario, dict[str, Any]], list[tuple[str, dict[str, str]]]]

    def __str__(self) -> str:
        return self.name


async def _target_ringing(s: Scenario) -> dict[str, Any]:
    await _ringing_transfer(s)
    await s.twilio.conference(s.customer_sid, "participant-hold", s.customer_sid, Hold="true")
    _, target_leg, target_sid = s.twilio.participant_added()
    return {"target_leg": target_leg, "target_sid": target_sid}


async def _target_declines(s: Scenario, ctx: dict[str, Any]) -> list[httpx.Response]:
    return [await s.twilio.leg_status(ctx["target_leg"], ctx["target_sid"], "busy")]


def _given_back(s: Scenario, ctx: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [
        (CUSTOMER, {"Hold": "false"}),
        (f"Participants/{s.agent1_sid}.json", {"EndConferenceOnExit": "true"}),
    ]


async def _nothing(s: Scenario) -> dict[str, Any]:
    return {}


async def _only_agent_hangs_up(s: Scenario, ctx: dict[str, Any]) -> list[httpx.Response]:
    return [await s.twilio.conference(s.customer_sid, "participant-leave", s.agent1_sid)]


def _conference_ended(s: Scenario, ctx: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [(f"Conferences/{s.conference_sid}.json", {"Status": "completed"})]


async def _second_customer_offered(s: Scenario) -> dict[str, Any]:
    response, customer_sid = await s.twilio.customer_calls()
    assert response.status_code == 200
    await s.twilio.conference(customer_sid, "participant-join", customer_sid)
    await s.twilio.drain()
    _, leg_id, agent_sid = s.twilio.dialed()
    await s.twilio.leg_status(leg_id, agent_sid, "ringing")
    return {"customer_sid": customer_sid, "agent_sid": agent_sid}


async def _second_customer_hangs_up(s: Scenario, ctx: dict[str, Any]) -> list[httpx.Response]:
    customer_sid = ctx["customer_sid"]
    return [
        await s.twilio.conference(customer_sid, "participant-leave", customer_sid),
        await s.twilio.conference(
            customer_sid, "conference-end", ReasonConferenceEnded="last-participant-left"
        ),
    ]


def _offer_hung_up(s: Scenario, ctx: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [(f"Calls/{ctx['agent_sid']}.json", {"Status": "completed"})]


async def _cold_transfer(s: Scenario, ctx: dict[str, Any]) -> list[httpx.Response]:
    return [
        await s.api("agent1", "POST", "/transfers", json={"to_agent_id": "agent2", "mode": "cold"})
    ]


def _first_agent_hung_up(s: Scenario, ctx: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [(f"Calls/{s.agent1_sid}.json", {"Status": "completed"})]


REACTIONS = [
    Reaction(
        "target-declines-give-back",
        "participant_update",
        _target_ringing,
        _target_declines,
        _given_back,
    ),
    Reaction(
        "only-agent-hangs-up-end-conference",
        "conference_update",
        _nothing,
        _only_agent_hangs_up,
        _conference_ended,
    ),
    Reaction(
        "customer-hangs-up-end-ringing-offer",
        "call_update",
        _second_customer_offered,
        _second_customer_hangs_up,
        _offer_hung_up,
    ),
    Reaction(
        "cold-transfer-end-first-agent",
        "call_update",
        _nothing,
        _cold_transfer,
        _first_agent_hung_up,
    ),
]


def _requests_since(route: Any, start: int) -> list[tuple[str, dict[str, str]]]:
    sent = []
    for route_call in list(route.calls)[start:]:
        path = route_call.request.url.path
        form = {key: values[-1] for key, values in form_of(route_call.request).items()}
        sent.append(("/".join(path.split("/")[-2:]), form))
    return sent


@dataclass
class Queued:
    route: Any
    already_sent: int
    outage: Outage
    job_id: int
    sends: list[tuple[str, dict[str, str]]]


async def _queued(s: Scenario, reaction: Reaction, failure: Failure) -> Queued:
    """Set up, fail the route, trigger: the webhook is answered and its work queued."""
    ctx = await reaction.prepare(s)
    await s.twilio.drain()
    route = getattr(s.twilio, reaction.route)
    already_sent = route.call_count
    known = {job.id for job in await jobs(s.app)}
    outage = Outage(route, failure)

    answers = await reaction.trigger(s, ctx)

    assert [answer.status_code // 100 for answer in answers] == [2] * len(answers)
    assert route.call_count == already_sent  # answered without waiting on Twilio
    [job] = [
        job for job in await jobs(s.app) if job.id not in known and job.kind == "conference_ops"
    ]
    assert job.status is JobStatus.pending
    return Queued(route, already_sent, outage, job.id, reaction.sends(s, ctx))


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
@pytest.mark.parametrize("reaction", REACTIONS, ids=str)
async def test_webhook_reaction_backs_off_and_is_done_once_twilio_recovers(
    call: Scenario, reaction: Reaction, failure: Failure
) -> None:
    s = call
    queued = await _queued(s, reaction, failure)

    for attempt in range(1, POLICY.max_attempts):
        job, started, ended = await failed_attempt(s.app, queued.job_id)
        assert job.attempts == attempt
        assert_backed_off(job, started, ended, backoff(failure, attempt))
        assert job.last_error and job.last_error.startswith("Twilio ")
        await webhooks_answer(s)
        await due_now(s.app)
    queued.outage.recover()
    await s.twilio.drain()

    async with s.app.state.session_factory() as session:
        job = await session.get_one(Job, queued.job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.done, POLICY.max_attempts, None)
    failing = POLICY.max_attempts - 1
    assert queued.outage.failed == failing
    # Each failed attempt stopped at the first request; the last one sent them all, in order.
    expected = queued.sends
    assert _requests_since(queued.route, queued.already_sent) == [expected[0]] * failing + expected


async def test_webhook_reaction_failing_half_way_is_resent_whole_and_in_order(
    call: Scenario,
) -> None:
    """The un-hold went through, the answer to the end-on-exit change was lost: the retry sends
    both again, un-hold first (Twilio ignores an end-on-exit change on a held participant)."""
    s, twilio = call, call.twilio
    ctx = await _target_ringing(s)
    await twilio.drain()
    already_sent = twilio.participant_update.call_count
    ok = httpx.Response(200, json={"call_sid": sid("CA")})
    twilio.participant_update.side_effect = [ok, httpx.ReadTimeout("timed out"), ok, ok]
    await _target_declines(s, ctx)

    job, started, ended = await failed_attempt(s.app, (await jobs(s.app))[-1].id)
    assert_backed_off(job, started, ended, POLICY.delay(1).total_seconds())
    await due_now(s.app)
    await twilio.drain()

    given_back = _given_back(s, ctx)
    assert _requests_since(twilio.participant_update, already_sent) == given_back + given_back
    async with s.app.state.session_factory() as session:
        assert (await session.get_one(Job, job.id)).status is JobStatus.done


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        ("soon", None),
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str, seconds: float | None) -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_retry_after_sets_a_floor_on_the_backoff_and_has_a_ceiling() -> None:
    assert POLICY.delay(1, retry_after=3).total_seconds() == 3
    assert POLICY.delay(3, retry_after=1).total_seconds() == 2
    assert POLICY.delay(1, retry_after=3600).total_seconds() == POLICY.max_retry_after


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
@pytest.mark.parametrize("reaction", REACTIONS[:2], ids=str)
async def test_webhook_reaction_gives_up_after_the_retry_budget(
    call: Scenario, reaction: Reaction, failure: Failure
) -> None:
    s = call
    queued = await _queued(s, reaction, failure)
    for _ in range(POLICY.max_attempts):
        await s.twilio.drain()
        await due_now(s.app)
    await s.twilio.drain()

    async with s.app.state.session_factory() as session:
        job = await session.get_one(Job, queued.job_id)
    assert (job.status, job.attempts) == (JobStatus.failed, POLICY.max_attempts)
    assert job.finished_at is not None and job.last_error
    sent = queued.route.call_count - queued.already_sent
    assert sent == queued.outage.failed == POLICY.max_attempts
    await webhooks_answer(s)


# --- dialing an agent: Calls.create is not idempotent -----------------------------------------


async def _waiting_customer(twilio: TwilioDouble) -> str:
    response, customer_sid = await twilio.customer_calls()
    assert response.status_code == 200
    await twilio.route()  # offered, when an agent is free: its dial is a pending job
    await twilio.conference(customer_sid, "participant-join", customer_sid)
    return customer_sid


async def _agent_legs(app: FastAPI) -> list[CallLeg]:
    async with app.state.session_factory() as session:
        return list(
            await session.scalars(
                select(CallLeg).where(CallLeg.agent_id.is_not(None)).order_by(CallLeg.id)
            )
        )


async def _call_status(app: FastAPI, customer_sid: str) -> CallStatus:
    async with app.state.session_factory() as session:
        call = await session.scalar(select(Call).where(Call.call_sid == customer_sid))
    assert call is not None
    return CallStatus(call.status)


async def _no_more_dials(twilio: TwilioDouble, app: FastAPI, expected: int) -> None:
    """Time passes, leases expire, the worker runs again: nothing more is sent."""
    await due_now(app)
    await app.state.job_worker.reclaim_expired()
    await twilio.drain()
    assert twilio.calls_create.call_count == expected


@pytest.mark.parametrize("failure", UNSAFE, ids=str)
async def test_dial_that_may_have_reached_twilio_is_never_resent_and_goes_to_the_next_agent(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI, failure: Failure
) -> None:
    await fast_agents.create("agent1")
    await fast_agents.create("agent2")
    customer_sid = await _waiting_customer(twilio)
    outage = Outage(twilio.calls_create, failure, times=1)

    await twilio.drain()

    assert outage.failed == 1
    first, second = sent_to(twilio.calls_create.calls)
    assert first != second and {first, second} == {"client:agent1", "client:agent2"}
    legs = await _agent_legs(app)
    assert [(leg.agent_id, leg.status) for leg in legs] == [
        (first.removeprefix("client:"), LegStatus.failed),
        (second.removeprefix("client:"), LegStatus.queued),
    ]
    assert legs[0].active_agent_id is None and legs[0].call_sid is None
    assert legs[1].call_sid == twilio.calls_create.calls.last.response.json()["sid"]
    assert [(job.kind, job.status, job.attempts) for job in await jobs(app)] == [
        ("dial_agent", JobStatus.failed, 1),
        ("dial_agent", JobStatus.done, 1),
    ]
    assert await _call_status(app, customer_sid) is CallStatus.ringing
    await _no_more_dials(twilio, app, expected=2)
    await twilio.agent_answers(customer_sid)
    assert await _call_status(app, customer_sid) is CallStatus.in_progress


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
async def test_dial_failing_with_no_other_agent_waits_then_is_offered_again(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI, failure: Failure
) -> None:
    """The only agent's dial failed for good: the call waits in the queue (hold music), and is
    offered again once a call that may have been placed would have rung out."""
    await fast_agents.create("agent1")
    customer_sid = await _waiting_customer(twilio)
    outage = Outage(twilio.calls_create, failure)
    await twilio.drain()
    if failure.safe_to_retry:  # retried to the end of the budget first
        for _ in range(POLICY.max_attempts - 1):
            await due_now(app, "dial_agent")
            await twilio.drain()
    assert twilio.calls_create.call_count == outage.failed
    assert outage.failed == (POLICY.max_attempts if failure.safe_to_retry else 1)
    assert await _call_status(app, customer_sid) is CallStatus.queued
    outage.recover()

    pending = [job for job in await jobs(app) if job.status is JobStatus.pending]
    assert len(pending) == 1, [(job.kind, job.status) for job in await jobs(app)]
    ring_out = timedelta(seconds=twilio.settings.agent_ring_timeout)
    assert pending[0].run_after - pending[0].created_at >= ring_out
    await twilio.drain()
    assert twilio.calls_create.call_count == outage.failed  # not before the ring would be over

    await due_now(app)
    await twilio.drain()

    assert sent_to(twilio.calls_create.calls) == ["client:agent1"] * (outage.failed + 1)
    assert await _call_status(app, customer_sid) is CallStatus.ringing
    await twilio.agent_answers(customer_sid)
    assert await _call_status(app, customer_sid) is CallStatus.in_progress


@pytest.mark.parametrize("failure", SAFE, ids=str)
async def test_dial_that_surely_did_nothing_is_retried_with_backoff_and_placed_once(
    call: Scenario, failure: Failure
) -> None:
    """agent1 is on a call; a second customer is offered to agent2, whose dial is refused or
    rate limited three times: it is sent again, to the same agent, and placed exactly once."""
    s, twilio = call, call.twilio
    already_sent = twilio.calls_create.call_count
    outage = Outage(twilio.calls_create, failure, times=POLICY.max_attempts - 1)
    second_customer = await _waiting_customer(twilio)
    [job] = [job for job in await jobs(s.app) if job.status is JobStatus.pending]

    for attempt in range(1, POLICY.max_attempts):
        job, started, ended = await failed_attempt(s.app, job.id)
        assert job.attempts == attempt
        assert_backed_off(job, started, ended, backoff(failure, attempt))
        await webhooks_answer(s)
        await due_now(s.app)
    await twilio.drain()

    dials = list(twilio.calls_create.calls)[already_sent:]
    assert sent_to(dials) == ["client:agent2"] * POLICY.max_attempts
    assert outage.failed == POLICY.max_attempts - 1
    answered = [dial.optional_response for dial in dials]
    placed = [response for response in answered if response is not None and response.is_success]
    assert len(placed) == 1 and placed[0] is answered[-1]
    async with s.app.state.session_factory() as session:
        job = await session.get_one(Job, job.id)
        leg = await session.scalar(select(CallLeg).where(CallLeg.agent_id == "agent2"))
    assert (job.status, job.attempts) == (JobStatus.done, POLICY.max_attempts)
    assert leg is not None and leg.status is LegStatus.queued
    assert leg.call_sid == placed[0].json()["sid"]
    await _no_more_dials(twilio, s.app, expected=already_sent + POLICY.max_attempts)
    await twilio.agent_answers(second_customer)
    assert await _call_status(s.app, second_customer) is CallStatus.in_progress


@pytest.mark.parametrize("failure", SAFE, ids=str)
async def test_dial_refused_past_the_retry_budget_goes_to_the_next_agent(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI, failure: Failure
) -> None:
    await fast_agents.create("agent1")
    await fast_agents.create("agent2")
    await _waiting_customer(twilio)
    outage = Outage(twilio.calls_create, failure, times=POLICY.max_attempts)
    for _ in range(POLICY.max_attempts):
        await twilio.drain()
        await due_now(app)
    await twilio.drain()

    dialed = sent_to(twilio.calls_create.calls)
    assert outage.failed == POLICY.max_attempts
    assert len(dialed) == POLICY.max_attempts + 1
    assert len(set(dialed[:-1])) == 1 and dialed[-1] not in dialed[:-1]
    assert [leg.status for leg in await _agent_legs(app)] == [LegStatus.failed, LegStatus.queued]
    await _no_more_dials(twilio, app, expected=POLICY.max_attempts + 1)


# --- calls Twilio placed that the app no longer wants ------------------------------------------


async def test_a_dial_answered_after_the_offer_was_withdrawn_is_hung_up(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI
) -> None:
    """Twilio is slow to answer Calls.create; meanwhile the customer hangs up. The call it then
    reports placed is hung up, not left ringing the agent."""
    await fast_agents.create("agent1")
    customer_sid = await _waiting_customer(twilio)
    healthy = twilio.calls_create.side_effect
    assert callable(healthy)

    async def slow(request: httpx.Request) -> httpx.Response:
        await twilio.conference(customer_sid, "participant-leave", customer_sid)
        response = healthy(request)
        assert isinstance(response, httpx.Response)
        return response

    twilio.calls_create.side_effect = slow
    await twilio.drain()

    placed = twilio.calls_create.calls.last.response.json()["sid"]
    assert ("POST", f"Calls/{placed}.json", {"Status": "completed"}) in twilio.changes()
    [leg] = await _agent_legs(app)
    assert (leg.status, leg.call_sid, leg.active_agent_id) == (LegStatus.canceled, placed, None)
    assert await _call_status(app, customer_sid) is CallStatus.completed
    assert twilio.calls_create.call_count == 1


async def test_a_dial_that_ended_before_its_answer_arrived_is_not_hung_up_again(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI
) -> None:
    """Twilio is slow to answer Calls.create, and the call's own callback says it ended (busy)
    first, naming its CallSid: it is over at Twilio, so the late answer sends no hang-up."""
    await fast_agents.create("agent1")
    await _waiting_customer(twilio)
    healthy = twilio.calls_create.side_effect
    assert callable(healthy)

    async def slow(request: httpx.Request) -> httpx.Response:
        response = healthy(request)
        assert isinstance(response, httpx.Response)
        callback = form_of(request)["StatusCallback"][0]
        leg_id = int(re.search(r"/legs/(\d+)/status", callback).group(1))  # type: ignore[union-attr]
        busy = await twilio.leg_status(leg_id, response.json()["sid"], "busy")
        assert busy.status_code == 204
        return response

    twilio.calls_create.side_effect = slow
    await twilio.drain()

    placed = twilio.calls_create.calls.last.response.json()["sid"]
    [leg] = await _agent_legs(app)
    assert (leg.status, leg.call_sid, leg.active_agent_id) == (LegStatus.busy, placed, None)
    assert not [change for change in twilio.changes() if change[1] == f"Calls/{placed}.json"]


async def test_an_agent_dial_that_timed_out_but_was_placed_is_hung_up(
    twilio: TwilioDouble, fast_agents: AgentFactory, app: FastAPI
) -> None:
    """Twilio placed the call whose answer was lost: its first callback names the leg the app
    gave up on. Hang it up, so it rings no one (agent1 may be offered another call meanwhile)."""
    await fast_agents.create("agent1")
    await fast_agents.create("agent2")
    await _waiting_customer(twilio)
    Outage(twilio.calls_create, next(f for f in FAILURES if f.name == "read-timeout"), times=1)
    await twilio.drain()
    [given_up, _] = await _agent_legs(app)
    ghost = sid("CA")

    answer = await twilio.leg_status(given_up.id, ghost, "ringing")

    assert answer.status_code == 204
    await twilio.drain()
    assert ("POST", f"Calls/{ghost}.json", {"Status": "completed"}) in twilio.changes()


async def test_a_transfer_dial_that_timed_out_but_was_placed_is_hung_up(call: Scenario) -> None:
    s, twilio = call, call.twilio
    Outage(twilio.participants_create, next(f for f in FAILURES if f.name == "read-timeout"))
    failed = await s.api("agent1", "POST", "/transfers", json={"to_agent_id": "agent2"})
    assert failed.status_code == 502
    form = form_of(twilio.participants_create.calls.last.request)
    leg_id = int(re.search(r"/legs/(\d+)/status", form["StatusCallback"][0]).group(1))  # type: ignore[union-attr]
    ghost = sid("CA")

    answer = await twilio.leg_status(leg_id, ghost, "ringing")

    assert answer.status_code == 204
    await twilio.drain()
    assert ("POST", f"Calls/{ghost}.json", {"Status": "completed"}) in twilio.changes()

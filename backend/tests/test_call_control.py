"""Call control scenarios, Twilio played at the HTTP level: signed callbacks in a realistic order,
every REST request the app sends captured and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.factories import AgentFactory
from tests.twilio import TwilioDouble
from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job

CUSTOMER = "Participants/customer.json"


@dataclass
class Scenario:
    """A customer on a call with agent1; agent2 and agent3 available."""

    twilio: TwilioDouble
    agents: AgentFactory
    app: FastAPI
    customer_sid: str
    call_id: int
    agent1_leg: int
    agent1_sid: str

    @property
    def conference_sid(self) -> str:
        return self.twilio.conference_sids[self.customer_sid]

    async def api(self, agent: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = await self.agents.headers(agent)
        return await self.twilio.client.request(
            method, f"/api/calls/{self.call_id}{path}", headers=headers, **kwargs
        )

    async def call(self, agent: str = "agent1") -> dict[str, Any]:
        response = await self.api(agent, "GET", "")
        assert response.status_code == 200
        return dict(response.json())

    async def transfer(self, agent: str = "agent1", **body: Any) -> dict[str, Any]:
        response = await self.api(agent, "POST", "/transfers", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def live(self, call: dict[str, Any]) -> list[tuple[str, str | None]]:
        return [
            (leg["role"], leg["agent_id"] or (leg["number"] if leg["role"] == "external" else None))
            for leg in call["legs"]
            if leg["status"] == "in_progress"
        ]

    async def customer_hangs_up(self) -> None:
        await self.twilio.conference(self.customer_sid, "participant-leave", self.customer_sid)
        await self.twilio.conference(
            self.customer_sid,
            "conference-end",
            ReasonConferenceEnded="participant-with-end-conference-on-exit-left",
            CallSidEndingConference=self.customer_sid,
        )

    async def leaves(self, leg_id: int, call_sid: str) -> None:
        """A participant hangs up their softphone: Twilio reports the leave, then the call."""
        await self.twilio.conference(self.customer_sid, "participant-leave", call_sid)
        await self.twilio.leg_status(leg_id, call_sid, "completed", CallDuration="42")


@pytest.fixture
async def scenario(twilio: TwilioDouble, agents: AgentFactory, app: FastAPI) -> Scenario:
    await agents.create("agent1")
    customer_sid, leg_id, agent_sid = await twilio.connected_call()
    await agents.create("agent2")
    await agents.create("agent3")
    listed = await twilio.client.get("/api/calls", headers=await agents.headers("agent1"))
    call_id = listed.json()["items"][0]["id"]
    return Scenario(twilio, agents, app, customer_sid, call_id, leg_id, agent_sid)


async def test_tutorial_flow_consult_with_hold_then_complete(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2")
    assert (transfer["status"], transfer["hold_customer"]) == ("dialing", True)
    # Before dialing: agent1 no longer ends the call by leaving, the customer holds with music.
    assert twilio.changes() == [
        (
            "POST",
            f"Participants/{s.agent1_sid}.json",
            {"EndConferenceOnExit": "false"},
        ),
        (
            "POST",
            CUSTOMER,
            {
                "Hold": "true",
                "HoldUrl": f"{twilio.settings.public_base_url}/conference/hold",
                "HoldMethod": "POST",
            },
        ),
    ]
    await twilio.conference(s.customer_sid, "participant-hold", s.customer_sid, Hold="true")
    target_leg, target_sid = await twilio.target_answers(s.customer_sid)
    call = await s.call()
    assert call["transfers"][0]["status"] == "consulting"
    assert s.live(call) == [("customer", None), ("agent", "agent1"), ("agent", "agent2")]
    assert call["legs"][0]["on_hold"] is True

    done = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/complete")

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert twilio.changes()[2:] == [
        ("POST", CUSTOMER, {"Hold": "false"}),
        ("POST", f"Participants/{target_sid}.json", {"EndConferenceOnExit": "true"}),
        ("POST", f"Calls/{s.agent1_sid}.json", {"Status": "completed"}),
    ]
    call = await s.call("agent2")
    assert call["owner_agent_id"] == "agent2"
    assert s.live(call) == [("customer", None), ("agent", "agent2")]
    assert call["legs"][0]["on_hold"] is False
    # agent1 is free again; the customer and agent2 talk until one hangs up.
    me = (await twilio.client.get("/api/me", headers=await s.agents.headers("agent1"))).json()
    assert me["presence"] == "available"
    await s.leaves(s.agent1_leg, s.agent1_sid)  # Twilio's own report of agent1 leaving
    assert (await s.call())["status"] == "in_progress"
    await s.customer_hangs_up()
    call = await s.call()
    assert (call["status"], call["ended_by"]) == ("completed", "customer")
    assert call["handled_by"] == ["agent1", "agent2"]
    assert target_leg


async def test_three_way_call_keeps_the_customer_listening(scenario: Scenario) -> None:
    await scenario.transfer(to_agent_id="agent2", hold_customer=False)
    assert [change[1] for change in scenario.twilio.changes()] == [
        f"Participants/{scenario.agent1_sid}.json"
    ]


async def test_cancel_while_the_target_rings(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2")
    _, target_leg, target_sid = twilio.participant_added()
    await twilio.leg_status(target_leg, target_sid, "ringing")

    canceled = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/cancel")

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert twilio.changes()[2:] == [
        ("POST", f"Calls/{target_sid}.json", {"Status": "completed"}),
        ("POST", CUSTOMER, {"Hold": "false"}),
        ("POST", f"Participants/{s.agent1_sid}.json", {"EndConferenceOnExit": "true"}),
    ]
    await twilio.leg_status(target_leg, target_sid, "canceled")  # Twilio confirms: no change
    call = await s.call()
    assert call["transfers"][0]["status"] == "canceled"
    assert call["legs"][0]["on_hold"] is False
    assert s.live(call) == [("customer", None), ("agent", "agent1")]
    again = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"] == "transfer_not_active"


async def test_cancel_during_the_consult(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2")
    _, target_sid = await twilio.target_answers(s.customer_sid)
    response = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/cancel")
    assert response.json()["status"] == "canceled"
    assert ("POST", f"Calls/{target_sid}.json", {"Status": "completed"}) in twilio.changes()
    call = await s.call()
    assert s.live(call) == [("customer", None), ("agent", "agent1")]
    assert call["owner_agent_id"] == "agent1"


@pytest.mark.parametrize(
    ("twilio_status", "outcome", "words"),
    [
        ("no-answer", "no_answer", "agent2 did not answer"),
        ("busy", "declined", "agent2 declined the call"),
        ("failed", "failed", "agent2 could not be reached"),
    ],
)
async def test_target_not_answering_gives_the_customer_back(
    scenario: Scenario, twilio_status: str, outcome: str, words: str
) -> None:
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    _, target_leg, target_sid = twilio.participant_added()
    await twilio.leg_status(target_leg, target_sid, "ringing")
    await twilio.leg_status(target_leg, target_sid, twilio_status)
    await twilio.drain()

    assert twilio.changes()[2:] == [
        ("POST", CUSTOMER, {"Hold": "false"}),
        ("POST", f"Participants/{s.agent1_sid}.json", {"EndConferenceOnExit": "true"}),
    ]
    call = await s.call()
    assert (call["transfers"][0]["status"], call["transfers"][0]["reason"]) == (outcome, words)
    assert call["legs"][0]["on_hold"] is False
    assert s.live(call) == [("customer", None), ("agent", "agent1")]


async def test_target_hanging_up_mid_consult_gives_the_customer_back(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    target_leg, target_sid = await twilio.target_answers(s.customer_sid)
    await s.leaves(target_leg, target_sid)
    await twilio.drain()

    call = await s.call()
    assert call["transfers"][0]["status"] == "canceled"
    assert call["transfers"][0]["reason"] == "agent2 hung up during the consult"
    assert call["status"] == "in_progress"
    assert s.live(call) == [("customer", None), ("agent", "agent1")]
    assert ("POST", CUSTOMER, {"Hold": "false"}) in twilio.changes()


async def test_customer_hanging_up_during_the_consult_ends_everything(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    await twilio.target_answers(s.customer_sid)
    await s.customer_hangs_up()
    call = await s.call()
    assert call["status"] == "completed"
    assert call["transfers"][0]["status"] == "canceled"
    assert "customer hung up" in call["transfers"][0]["reason"]
    assert {leg["status"] for leg in call["legs"]} == {"completed"}


async def test_customer_hanging_up_while_waiting(
    twilio: TwilioDouble, agents: AgentFactory
) -> None:
    await agents.create("agent1", online=False)
    _, customer_sid = await twilio.customer_calls()
    await twilio.conference(customer_sid, "participant-join", customer_sid)
    await twilio.conference(customer_sid, "participant-leave", customer_sid)
    await twilio.conference(
        customer_sid, "conference-end", ReasonConferenceEnded="last-participant-left"
    )
    [call] = (await twilio.client.get("/api/calls", headers=await agents.headers("agent1"))).json()[
        "items"
    ]
    assert (call["status"], call["ended_by"], call["answered_at"]) == (
        "completed",
        "customer",
        None,
    )
    assert twilio.calls_create.call_count == 0


async def test_sole_agent_leaving_ends_the_call(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    response = await s.api("agent1", "POST", "/leave")
    assert response.status_code == 200, response.text
    assert twilio.changes() == [
        ("POST", f"Conferences/{s.conference_sid}.json", {"Status": "completed"})
    ]
    call = response.json()
    assert (call["status"], call["ended_by"]) == ("completed", "agent:agent1")


async def test_sole_agent_hanging_up_the_softphone_ends_the_call(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    await s.leaves(s.agent1_leg, s.agent1_sid)
    await twilio.conference(
        s.customer_sid,
        "conference-end",
        ReasonConferenceEnded="participant-with-end-conference-on-exit-left",
        CallSidEndingConference=s.agent1_sid,
    )
    await twilio.drain()
    call = await s.call()
    assert (call["status"], call["ended_by"]) == ("completed", "agent:agent1")


async def test_first_agent_hanging_up_during_the_consult_hands_over(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2")
    _, target_sid = await twilio.target_answers(s.customer_sid)
    await s.leaves(s.agent1_leg, s.agent1_sid)
    await twilio.drain()
    assert (await s.call("agent2"))["transfers"][0]["status"] == "consulting"  # a grace first
    assert twilio.changes()[2:] == []

    await twilio.drain_later()
    call = await s.call("agent2")
    assert call["transfers"][0]["status"] == "completed"
    assert call["owner_agent_id"] == "agent2"
    assert s.live(call) == [("customer", None), ("agent", "agent2")]
    assert twilio.changes()[2:] == [
        ("POST", CUSTOMER, {"Hold": "false"}),
        ("POST", f"Participants/{target_sid}.json", {"EndConferenceOnExit": "true"}),
    ]
    assert transfer["id"] == call["transfers"][0]["id"]


async def test_customer_hanging_up_just_before_the_first_agent_is_not_a_completed_transfer(
    scenario: Scenario,
) -> None:
    """Twilio reports each call's end on its own: the first agent's may arrive before the
    customer's, though the customer's hang-up ended the conference. No hand-over then."""
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    _, target_sid = await twilio.target_answers(s.customer_sid)
    await twilio.leg_status(s.agent1_leg, s.agent1_sid, "completed", CallDuration="42")
    await s.customer_hangs_up()
    await twilio.drain_later()

    call = await s.call("agent1")
    assert call["status"] == "completed"
    assert call["ended_by"] == "customer"
    assert call["transfers"][0]["status"] == "canceled"
    assert "customer hung up" in call["transfers"][0]["reason"]
    handed_over = ("POST", f"Participants/{target_sid}.json", {"EndConferenceOnExit": "true"})
    assert handed_over not in twilio.changes()


async def test_first_agent_leaving_while_the_target_rings_leaves_the_customer_holding(
    scenario: Scenario,
) -> None:
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2", hold_customer=False)
    response = await s.api("agent1", "POST", "/leave")
    assert response.status_code == 200
    assert twilio.changes()[1:] == [
        (
            "POST",
            CUSTOMER,
            {
                "Hold": "true",
                "HoldUrl": f"{twilio.settings.public_base_url}/conference/hold",
                "HoldMethod": "POST",
            },
        ),
        ("POST", f"Calls/{s.agent1_sid}.json", {"Status": "completed"}),
    ]
    _, target_sid = await twilio.target_answers(s.customer_sid)
    await twilio.drain()
    call = await s.call("agent2")
    assert call["transfers"][0]["status"] == "completed"
    assert call["owner_agent_id"] == "agent2"
    assert call["legs"][0]["on_hold"] is False
    assert (
        "POST",
        f"Participants/{target_sid}.json",
        {"EndConferenceOnExit": "true"},
    ) in twilio.changes()


async def test_two_transfers_in_a_row(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    first = await s.transfer(to_agent_id="agent2")
    agent2_leg, agent2_sid = await twilio.target_answers(s.customer_sid)
    await s.api("agent1", "POST", f"/transfers/{first['id']}/complete")
    await s.leaves(s.agent1_leg, s.agent1_sid)

    second = await s.transfer("agent2", to_agent_id="agent3")
    await twilio.target_answers(s.customer_sid)
    done = await s.api("agent2", "POST", f"/transfers/{second['id']}/complete")
    assert done.status_code == 200, done.text
    await s.leaves(agent2_leg, agent2_sid)

    call = await s.call("agent3")
    assert [t["status"] for t in call["transfers"]] == ["completed", "completed"]
    assert [(t["from_agent_id"], t["to_agent_id"]) for t in call["transfers"]] == [
        ("agent1", "agent2"),
        ("agent2", "agent3"),
    ]
    assert s.live(call) == [("customer", None), ("agent", "agent3")]
    assert call["handled_by"] == ["agent1", "agent2", "agent3"]


async def test_cold_transfer_answered(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2", mode="cold")
    assert transfer["mode"] == "cold"
    await twilio.drain()
    assert ("POST", f"Calls/{s.agent1_sid}.json", {"Status": "completed"}) in twilio.changes()
    await s.leaves(s.agent1_leg, s.agent1_sid)
    _, _target_sid = await twilio.target_answers(s.customer_sid)
    await twilio.drain()
    call = await s.call("agent2")
    assert call["transfers"][0]["status"] == "completed"
    assert call["owner_agent_id"] == "agent2"
    assert call["legs"][0]["on_hold"] is False


async def test_cold_transfer_not_answered_goes_back_to_the_queue(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2", mode="cold")
    await twilio.drain()
    await s.leaves(s.agent1_leg, s.agent1_sid)
    _, target_leg, target_sid = twilio.participant_added()
    await twilio.leg_status(target_leg, target_sid, "no-answer")
    await twilio.drain()

    call = await s.call()
    assert call["status"] == "ringing"  # offered again, to the next free agent
    assert call["transfers"][0]["status"] == "no_answer"
    form, _new_leg, _new_sid = twilio.dialed()
    assert form["To"] in (["client:agent1"], ["client:agent3"])
    assert form["To"] != ["client:agent2"]
    await twilio.agent_answers(s.customer_sid)
    await twilio.drain()
    call = await s.call()
    assert call["status"] == "in_progress"
    assert call["owner_agent_id"] == form["To"][0].removeprefix("client:")
    assert call["legs"][0]["on_hold"] is False
    assert twilio.changes()[-1] == ("POST", CUSTOMER, {"Hold": "false"})


async def test_external_transfer_to_an_allowed_number(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    twilio.settings.transfer_allowed_numbers = ["+4420"]
    transfer = await s.transfer(to_number="+442071234567")
    assert (transfer["to_number"], transfer["to_agent_id"]) == ("+442071234567", None)
    form, _, _ = twilio.participant_added()
    assert (form["To"], form["From"]) == (["+442071234567"], [twilio.settings.twilio_number])
    _, _external_sid = await twilio.target_answers(s.customer_sid)
    done = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/complete")
    assert done.json()["status"] == "completed"
    call = await s.call()
    assert ("external", "+442071234567") in s.live(call)


@pytest.mark.parametrize("number", ["+15550001234", "+442071234567"])
async def test_numbers_outside_the_allow_list_are_refused(scenario: Scenario, number: str) -> None:
    scenario.twilio.settings.transfer_allowed_numbers = ["+4420"] if number.startswith("+1") else []
    response = await scenario.api("agent1", "POST", "/transfers", json={"to_number": number})
    assert response.status_code == 403
    assert response.json()["error"] == "number_not_allowed"
    assert scenario.twilio.participants_create.call_count == 0
    assert (await scenario.call())["transfers"] == []


@pytest.mark.parametrize(
    "body", [{"to_number": "020 7123 4567"}, {"to_number": "+4420", "to_agent_id": "agent2"}]
)
async def test_malformed_external_targets_are_422(scenario: Scenario, body: dict[str, str]) -> None:
    response = await scenario.api("agent1", "POST", "/transfers", json=body)
    assert response.status_code == 422


async def test_hold_and_resume(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    held = await s.api("agent1", "POST", "/hold", json={"hold": True})
    assert held.status_code == 200
    assert held.json()["legs"][0]["on_hold"] is True
    resumed = await s.api("agent1", "POST", "/hold", json={"hold": False})
    assert resumed.json()["legs"][0]["on_hold"] is False
    assert [(change[1], change[2].get("Hold")) for change in twilio.changes()] == [
        (CUSTOMER, "true"),
        (CUSTOMER, "false"),
    ]


async def test_only_agents_on_the_call_may_act(scenario: Scenario) -> None:
    s = scenario
    for method, path, body in (
        ("POST", "/hold", {"hold": True}),
        ("POST", "/leave", None),
        ("POST", "/transfers", {"to_agent_id": "agent3"}),
    ):
        response = await s.api("agent2", method, path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] == "not_on_call"
    transfer = await s.transfer(to_agent_id="agent3")
    for action in ("cancel", "complete"):
        response = await s.api("agent2", "POST", f"/transfers/{transfer['id']}/{action}")
        assert response.status_code == 403
        assert response.json()["error"] == "not_transferring"
    assert s.twilio.changes()[2:] == []


async def test_completing_before_the_target_answers_is_409(scenario: Scenario) -> None:
    transfer = await scenario.transfer(to_agent_id="agent2")
    response = await scenario.api("agent1", "POST", f"/transfers/{transfer['id']}/complete")
    assert response.status_code == 409
    assert response.json()["error"] == "target_not_connected"


async def test_unknown_transfer_is_404(scenario: Scenario) -> None:
    response = await scenario.api("agent1", "POST", "/transfers/999/cancel")
    assert response.status_code == 404
    assert response.json()["error"] == "transfer_not_found"


async def test_twilio_failing_on_hold_is_502_and_changes_nothing(scenario: Scenario) -> None:
    scenario.twilio.participant_update.side_effect = httpx.Response(
        500, json={"code": 20500, "message": "oops"}
    )
    response = await scenario.api("agent1", "POST", "/hold", json={"hold": True})
    assert response.status_code == 502
    assert (await scenario.call())["legs"][0]["on_hold"] is False


async def test_twilio_failing_on_complete_is_502_and_changes_nothing(scenario: Scenario) -> None:
    s, twilio = scenario, scenario.twilio
    transfer = await s.transfer(to_agent_id="agent2")
    await twilio.target_answers(s.customer_sid)
    twilio.call_update.side_effect = httpx.ConnectError("down")
    response = await s.api("agent1", "POST", f"/transfers/{transfer['id']}/complete")
    assert response.status_code == 502
    call = await s.call()
    assert call["transfers"][0]["status"] == "consulting"
    assert call["owner_agent_id"] == "agent1"


async def test_webhook_ops_are_retried_when_twilio_fails(scenario: Scenario) -> None:
    """Un-holding after a declined transfer is queued work: a 5xx is retried (it's idempotent)."""
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    _, target_leg, target_sid = twilio.participant_added()
    twilio.participant_update.side_effect = [
        httpx.Response(503, json={"code": 20503, "message": "x"}),
        httpx.Response(200, json={}),
        httpx.Response(200, json={}),
    ]
    await twilio.leg_status(target_leg, target_sid, "busy")
    await twilio.drain()
    async with s.app.state.session_factory() as session, session.begin():
        await session.execute(update(Job).values(run_after=utcnow()))
    await twilio.drain()
    assert [c[2] for c in twilio.changes()[2:]] == [
        {"Hold": "false"},
        {"Hold": "false"},
        {"EndConferenceOnExit": "true"},
    ]


@pytest.mark.parametrize(
    ("participant_status", "outcome"), [("busy", "declined"), ("no-answer", "no_answer")]
)
async def test_a_target_that_never_joined_leaves_with_its_call_outcome(
    scenario: Scenario, participant_status: str, outcome: str
) -> None:
    """Twilio may report the participant-leave before the leg's own status callback."""
    s, twilio = scenario, scenario.twilio
    await s.transfer(to_agent_id="agent2")
    _, target_leg, target_sid = twilio.participant_added()
    await twilio.conference(
        s.customer_sid, "participant-leave", target_sid, ParticipantCallStatus=participant_status
    )
    await twilio.leg_status(target_leg, target_sid, participant_status)
    call = await s.call()
    assert call["transfers"][0]["status"] == outcome
    assert s.live(call) == [("customer", None), ("agent", "agent1")]

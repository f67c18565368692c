"""Whole calls through the simulator with the real app: customers and softphones act over the
simulator's HTTP API, agents over the app's; both sides must agree on what happened."""

from __future__ import annotations

from typing import Any

from tests.simulator.conftest import World
from tests.simulator.helpers import eventually
from warm_transfer.config import Settings
from warm_transfer.simulator.conferences import ConferenceStatus
from warm_transfer.simulator.state import CallStatus
from warm_transfer.telephony.twiml import WAIT_MESSAGE


def legs(call: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    return {(leg["role"], leg["agent_id"], leg["status"]) for leg in call["legs"]}


def live(call: dict[str, Any]) -> bool:
    return any(leg["status"] == "in_progress" for leg in call["legs"])


async def connected(world: World, customer: str) -> dict[str, Any]:
    return await world.call_where(
        customer, "an agent talking to the customer", lambda c: c["status"] == "in_progress"
    )


async def test_tutorial_flow_consult_then_the_customer_hangs_up(
    world: World, settings: Settings
) -> None:
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()

    # DESIGN §5.2: before any agent joins, the welcome, then music that loops (never silence).
    waiting = await world.hearing(customer, "waiting", audio__verb="Play")
    assert waiting["audio"]["url"] == settings.hold_music_url and waiting["audio"]["loop"] == 0
    assert [(a["verb"], a["text"]) for a in waiting["heard"]] == [
        ("Say", WAIT_MESSAGE),
        ("Play", None),
    ]

    # §5.3: the offered agent answers and joins: the conference starts.
    leg1 = await agent1.answer()
    talking = await world.hearing(customer, "conference")
    assert talking["conference"]["others"] == ["client:agent1"]
    call = await connected(world, customer)
    assert call["owner_agent_id"] == "agent1"
    assert legs(call) == {("customer", None, "in_progress"), ("agent", "agent1", "in_progress")}
    assert {leg["call_sid"] for leg in call["legs"]} == {customer, leg1}

    # The tutorial's three-way consult: agent1 dials agent2 into the conference.
    response = await world.api(
        "POST",
        f"/api/calls/{call['id']}/transfers",
        json={"to_agent_id": "agent2", "hold_customer": False},
    )
    assert response.status_code == 201, response.text
    leg2 = await agent2.answer()
    call = await world.call_where(
        customer, "the consult", lambda c: c["transfers"][0]["status"] == "consulting"
    )
    assert legs(call) == {
        ("customer", None, "in_progress"),
        ("agent", "agent1", "in_progress"),
        ("agent", "agent2", "in_progress"),
    }
    three = await world.hearing(customer, "conference")
    assert sorted(three["conference"]["others"]) == ["client:agent1", "client:agent2"]
    conference = world.simulator.engine.conferences[three["conference"]["sid"]]
    flags = {p.call.sid: p.end_conference_on_exit for p in conference.connected}
    # While the transfer is under way neither agent ends the call by leaving; the customer does.
    assert flags == {customer: True, leg1: False, leg2: False}

    # §5.1: the customer hangs up: the conference ends, and every agent leg with it.
    await world.customer_hangs_up(customer)
    call = await world.call_where(
        customer, "the call to end", lambda c: c["status"] == "completed" and not live(c)
    )
    assert call["ended_by"] == "customer"
    assert legs(call) == {
        ("customer", None, "completed"),
        ("agent", "agent1", "completed"),
        ("agent", "agent2", "completed"),
    }
    assert call["transfers"][0]["status"] == "canceled"
    assert conference.status is ConferenceStatus.completed
    assert conference.reason_ended == "participant-with-end-conference-on-exit-left"
    assert conference.call_sid_ending == customer
    for sid in (leg1, leg2):
        await world.sim_status(sid, CallStatus.completed)
    await agent1.wait_for("disconnected", leg1)
    await agent2.wait_for("disconnected", leg2)
    assert (await world.customer(customer))["hearing"] == "ended"


async def test_transfer_completed_customer_stays_with_agent2(world: World) -> None:
    """The tutorial's step 5: agent1 leaves after agent2 joined; then agent2 hanging up ends it."""
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()
    leg1 = await agent1.answer()
    call = await connected(world, customer)

    response = await world.api(
        "POST", f"/api/calls/{call['id']}/transfers", json={"to_agent_id": "agent2"}
    )
    assert response.status_code == 201, response.text
    transfer = response.json()
    # Held during the private consult: hold music from the app's hold URL.
    held = await world.hearing(customer, "hold", audio__verb="Play")
    assert held["conference"]["on_hold"] is True
    leg2 = await agent2.answer()
    await world.call_where(
        customer, "the consult", lambda c: c["transfers"][0]["status"] == "consulting"
    )

    response = await world.api(
        "POST", f"/api/calls/{call['id']}/transfers/{transfer['id']}/complete"
    )
    assert response.status_code == 200, response.text
    await agent1.wait_for("disconnected", leg1)
    after = await world.hearing(customer, "conference")
    assert after["conference"]["others"] == ["client:agent2"]
    assert after["conference"]["on_hold"] is False
    call = await world.call_where(
        customer,
        "agent2 to own the call",
        lambda c: c["owner_agent_id"] == "agent2" and c["transfers"][0]["status"] == "completed",
    )
    assert legs(call) == {
        ("customer", None, "in_progress"),
        ("agent", "agent1", "completed"),
        ("agent", "agent2", "in_progress"),
    }

    # Agent2 now ends the call by hanging up (they were handed endConferenceOnExit).
    response = await agent2.act(leg2, "hangup")
    assert response.status_code == 200, response.text
    await world.sim_status(customer, CallStatus.completed)
    call = await world.call_where(customer, "the call to end", lambda c: c["status"] == "completed")
    assert legs(call) == {
        ("customer", None, "completed"),
        ("agent", "agent1", "completed"),
        ("agent", "agent2", "completed"),
    }


async def test_hold_plays_the_apps_hold_music(world: World, settings: Settings) -> None:
    agent1 = await world.agent("agent1")
    assert agent1
    customer = await world.customer_calls()
    await agent1.answer()
    call = await connected(world, customer)

    response = await world.api("POST", f"/api/calls/{call['id']}/hold", json={"hold": True})
    assert response.status_code == 200, response.text
    held = await world.hearing(customer, "hold", audio__verb="Play")
    # The app's music, so its hold URL was fetched (Twilio's default would play otherwise).
    assert held["audio"]["url"] == settings.hold_music_url and held["audio"]["loop"] == 0
    customer_leg = next(
        leg for leg in (await world.call(customer))["legs"] if leg["role"] == "customer"
    )
    assert customer_leg["on_hold"] is True

    response = await world.api("POST", f"/api/calls/{call['id']}/hold", json={"hold": False})
    assert response.status_code == 200, response.text
    resumed = await world.hearing(customer, "conference")
    assert resumed["conference"]["others"] == ["client:agent1"]
    await world.call_where(
        customer,
        "the hold callbacks",
        lambda c: not next(leg for leg in c["legs"] if leg["role"] == "customer")["on_hold"],
    )


async def test_an_agent_who_rejects_shows_busy_and_the_next_agent_is_offered(
    world: World,
) -> None:
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()

    invite = await agent1.wait_for("incoming")
    response = await agent1.act(invite["call_sid"], "reject", device_id=agent1.device_id)
    assert response.status_code == 200 and response.json()["status"] == "busy"
    leg2 = await agent2.answer()

    call = await connected(world, customer)
    assert call["owner_agent_id"] == "agent2"
    assert legs(call) == {
        ("customer", None, "in_progress"),
        ("agent", "agent1", "busy"),
        ("agent", "agent2", "in_progress"),
    }
    assert world.sim_call(invite["call_sid"]).status is CallStatus.busy
    assert world.sim_call(leg2).status is CallStatus.in_progress
    assert (await world.hearing(customer, "conference"))["conference"]["others"] == [
        "client:agent2"
    ]


async def test_ring_timeout_is_no_answer_and_the_next_agent_is_offered(world: World) -> None:
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()

    invite = await agent1.wait_for("incoming")
    canceled = await agent1.wait_for("canceled", invite["call_sid"])
    assert canceled["reason"] == "no-answer"
    assert world.sim_call(invite["call_sid"]).status is CallStatus.no_answer
    await agent2.answer()

    call = await connected(world, customer)
    assert legs(call) == {
        ("customer", None, "in_progress"),
        ("agent", "agent1", "no_answer"),
        ("agent", "agent2", "in_progress"),
    }
    # The app sets an agent who let a call ring out away.
    directory = (await world.api("GET", "/api/agents", as_="agent2")).json()
    assert next(a for a in directory if a["id"] == "agent1")["availability"] == "away"


async def test_an_agent_with_no_device_rings_out_and_the_customer_keeps_waiting(
    world: World,
) -> None:
    await world.agent("agent1", phone=False)
    customer = await world.customer_calls()

    call = await world.call_where(
        customer,
        "the offer to ring out",
        lambda c: ("agent", "agent1", "no_answer") in legs(c) and c["status"] == "queued",
    )
    assert legs(call) == {("customer", None, "in_progress"), ("agent", "agent1", "no_answer")}
    await world.hearing(customer, "waiting", audio__verb="Play")


async def test_customer_hanging_up_while_the_agent_rings_withdraws_the_offer(
    world: World,
) -> None:
    agent1 = await world.agent("agent1")
    assert agent1
    customer = await world.customer_calls()
    invite = await agent1.wait_for("incoming")

    await world.customer_hangs_up(customer)
    canceled = await agent1.wait_for("canceled", invite["call_sid"])
    assert canceled["reason"] == "canceled"
    call = await world.call_where(
        customer, "the call to end", lambda c: c["status"] == "completed" and not live(c)
    )
    assert legs(call) == {("customer", None, "completed"), ("agent", "agent1", "canceled")}
    assert world.sim_call(invite["call_sid"]).status is CallStatus.canceled
    response = await agent1.act(invite["call_sid"], "accept", device_id=agent1.device_id)
    assert response.status_code == 409


async def test_the_only_agent_hanging_up_ends_the_call(world: World) -> None:
    """§5.6: the customer is never left alone in a silent conference."""
    agent1 = await world.agent("agent1")
    assert agent1
    customer = await world.customer_calls()
    leg1 = await agent1.answer()
    await connected(world, customer)

    response = await agent1.act(leg1, "hangup")
    assert response.status_code == 200, response.text
    await world.sim_status(customer, CallStatus.completed)
    # Once conference-end (CallSidEndingConference) is in, the app names who ended the call.
    call = await world.call_where(
        customer, "the call to end", lambda c: c["ended_by"] == "agent:agent1"
    )
    assert call["status"] == "completed"
    assert legs(call) == {("customer", None, "completed"), ("agent", "agent1", "completed")}
    conference = next(iter(world.simulator.engine.conferences.values()))
    assert conference.reason_ended == "participant-with-end-conference-on-exit-left"
    assert conference.call_sid_ending == leg1


async def test_transfer_target_declines_agent1_keeps_the_customer_unheld(world: World) -> None:
    """§5.5: the target declining during the consult never drops the customer."""
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()
    leg1 = await agent1.answer()
    call = await connected(world, customer)

    response = await world.api(
        "POST", f"/api/calls/{call['id']}/transfers", json={"to_agent_id": "agent2"}
    )
    assert response.status_code == 201, response.text
    await world.hearing(customer, "hold")
    invite = await agent2.wait_for("incoming")
    await agent2.act(invite["call_sid"], "reject", device_id=agent2.device_id)

    call = await world.call_where(
        customer, "the transfer to end", lambda c: c["transfers"][0]["status"] == "declined"
    )
    assert call["owner_agent_id"] == "agent1"
    back = await world.hearing(customer, "conference")
    assert back["conference"]["others"] == ["client:agent1"]
    conference = world.simulator.engine.conferences[back["conference"]["sid"]]
    # Agent1 ends the call by leaving again (restored after the un-hold).
    await eventually(
        lambda: conference.participants[leg1].end_conference_on_exit,
        what="agent1's endConferenceOnExit restored",
    )


async def test_every_tab_rings_and_the_first_to_answer_wins(world: World) -> None:
    tab1 = await world.agent("agent1")
    assert tab1
    tab2 = await world.phone("agent1")
    customer = await world.customer_calls()

    invite = await tab1.wait_for("incoming")
    assert (await tab2.wait_for("incoming"))["call_sid"] == invite["call_sid"]
    assert (await tab2.act(invite["call_sid"], "accept", device_id=tab2.device_id)).is_success
    assert (await tab1.wait_for("canceled", invite["call_sid"]))["reason"] == "answered_elsewhere"
    await tab2.wait_for("accepted", invite["call_sid"])
    late = await tab1.act(invite["call_sid"], "accept", device_id=tab1.device_id)
    assert late.status_code == 409
    await connected(world, customer)

    # Closing the tab that answered hangs up its call, as closing a browser tab does.
    await tab2.close()
    world.phones.remove(tab2)
    await world.sim_status(customer, CallStatus.completed)


async def test_canceling_a_transfer_while_the_target_rings(world: World) -> None:
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()
    await agent1.answer()
    call = await connected(world, customer)
    response = await world.api(
        "POST", f"/api/calls/{call['id']}/transfers", json={"to_agent_id": "agent2"}
    )
    transfer = response.json()
    invite = await agent2.wait_for("incoming")

    response = await world.api("POST", f"/api/calls/{call['id']}/transfers/{transfer['id']}/cancel")
    assert response.status_code == 200, response.text
    assert (await agent2.wait_for("canceled", invite["call_sid"]))["reason"] == "canceled"
    assert world.sim_call(invite["call_sid"]).status is CallStatus.canceled
    back = await world.hearing(customer, "conference")
    assert back["conference"]["others"] == ["client:agent1"]
    call = await world.call_where(
        customer, "the transfer canceled", lambda c: c["transfers"][0]["status"] == "canceled"
    )
    assert ("agent", "agent2", "canceled") in legs(call)


async def test_cold_transfer_customer_holds_until_agent2_answers(world: World) -> None:
    agent1 = await world.agent("agent1")
    agent2 = await world.agent("agent2")
    assert agent1 and agent2
    customer = await world.customer_calls()
    leg1 = await agent1.answer()
    call = await connected(world, customer)

    response = await world.api(
        "POST", f"/api/calls/{call['id']}/transfers", json={"to_agent_id": "agent2", "mode": "cold"}
    )
    assert response.status_code == 201, response.text
    await agent1.wait_for("disconnected", leg1)  # agent1 leaves at once
    held = await world.hearing(customer, "hold")
    assert held["conference"]["others"] == []
    await agent2.answer()

    # Handed over: the customer is un-held and talks with agent2, who now ends the call.
    after = await world.hearing(customer, "conference")
    assert after["conference"]["others"] == ["client:agent2"]
    call = await world.call_where(
        customer,
        "agent2 to own the call",
        lambda c: c["owner_agent_id"] == "agent2" and c["transfers"][0]["status"] == "completed",
    )
    conference = world.simulator.engine.conferences[after["conference"]["sid"]]
    await eventually(
        lambda: all(p.end_conference_on_exit for p in conference.connected),
        what="agent2 handed endConferenceOnExit",
    )

"""Twilio's conference semantics, on the state machine alone (no HTTP)."""

from __future__ import annotations

from warm_transfer.simulator.conferences import (
    Conference,
    ConferenceEvent,
    ConferenceStatus,
    Participant,
    ParticipantStatus,
)
from warm_transfer.simulator.state import Call, Callback, CallStatus, new_sid

ACCOUNT = "AC" + "0" * 32
CALLBACK = Callback("https://app.test/status", "POST", frozenset({"start", "end", "join"}))


def conference() -> Conference:
    return Conference(sid=new_sid("CF"), friendly_name="room", account_sid=ACCOUNT)


def party(room: Conference, label: str, **flags: object) -> Participant:
    call = Call(
        sid=new_sid("CA"),
        account_sid=ACCOUNT,
        from_="+15551230000",
        to=f"client:{label}",
        direction="outbound-api",
        status=CallStatus.in_progress,
    )
    return Participant(call=call, conference=room, label=label, wait=None, **flags)  # type: ignore[arg-type]


def names(events: list[ConferenceEvent]) -> list[str]:
    return [event.name for event in events]


def test_it_starts_once_two_are_in_and_one_starts_it() -> None:
    room = conference()
    alone = party(room, "agent", start_conference_on_enter=True)
    # Twilio: "Conferences will not start until at least two participants join".
    assert names(room.join(alone)) == ["participant-join"]
    assert room.status is ConferenceStatus.init
    customer = party(room, "customer", start_conference_on_enter=False)
    assert names(room.join(customer)) == ["participant-join", "conference-start"]
    assert room.status is ConferenceStatus.in_progress


def test_participants_without_start_flag_wait_forever() -> None:
    room = conference()
    for label in ("a", "b", "c"):
        assert names(room.join(party(room, label, start_conference_on_enter=False))) == [
            "participant-join"
        ]
    assert room.status is ConferenceStatus.init


def test_status_callback_comes_from_the_first_participant_only() -> None:
    room = conference()
    room.join(party(room, "first", conference_callback=None))
    later = Callback("https://other.test/status", "POST", frozenset({"join"}))
    room.join(party(room, "second", conference_callback=later))
    assert room.callback is None

    room = conference()
    room.join(party(room, "first", conference_callback=CALLBACK))
    room.join(party(room, "second", conference_callback=later))
    assert room.callback == CALLBACK


def test_an_end_on_exit_participant_leaving_ends_it_for_everyone() -> None:
    room = conference()
    customer = party(room, "customer", start_conference_on_enter=False, end_conference_on_exit=True)
    agent1, agent2 = party(room, "agent1"), party(room, "agent2")
    for p in (customer, agent1, agent2):
        room.join(p)
    customer.call.status = CallStatus.completed  # hung up

    events = room.leave(customer, kicked=False)
    assert names(events) == [
        "participant-leave",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    assert events[0].fields == {
        "ReasonParticipantLeft": "participant_hung_up",
        "ParticipantCallStatus": "completed",
    }
    assert events[1].fields["ReasonParticipantLeft"] == (
        "participant_with_end_conference_on_exit_left"
    )
    assert events[-1].fields == {
        "ReasonConferenceEnded": "participant-with-end-conference-on-exit-left",
        "CallSidEndingConference": customer.call.sid,
    }
    assert room.status is ConferenceStatus.completed and not room.participants
    assert all(p.left.is_set() and p.status is ParticipantStatus.complete for p in (agent1, agent2))


def test_others_leaving_keep_it_going_until_the_last_one() -> None:
    room = conference()
    a, b = party(room, "a"), party(room, "b")
    room.join(a)
    room.join(b)
    assert names(room.leave(a, kicked=False)) == ["participant-leave"]
    assert room.status is ConferenceStatus.in_progress
    events = room.leave(b, kicked=True)
    assert names(events) == ["participant-leave", "conference-end"]
    assert events[0].fields["ReasonParticipantLeft"] == "participant_kicked"
    assert events[-1].fields["ReasonConferenceEnded"] == "last-participant-kicked"


def test_a_kicked_end_on_exit_participant_ends_it_as_kicked() -> None:
    room = conference()
    a, b = party(room, "a", end_conference_on_exit=True), party(room, "b")
    room.join(a)
    room.join(b)
    events = room.leave(a, kicked=True)
    assert events[-1].fields["ReasonConferenceEnded"] == (
        "participant-with-end-conference-on-exit-kicked"
    )
    # A kicked leg's call goes on (it continues after its <Dial>).
    assert events[0].fields["ParticipantCallStatus"] == "in-progress"


def test_ending_through_the_api() -> None:
    room = conference()
    a, b = party(room, "a"), party(room, "b")
    room.join(a)
    room.join(b)
    events = room.end()
    assert names(events) == ["participant-leave", "participant-leave", "conference-end"]
    assert events[-1].fields == {"ReasonConferenceEnded": "conference-ended-via-api"}
    assert room.end() == []


def test_hold_mute_and_the_end_on_exit_trap() -> None:
    room = conference()
    agent = party(room, "agent", end_conference_on_exit=True)
    customer = party(room, "customer")
    room.join(agent)
    room.join(customer)

    assert names(room.set_hold(customer, True)) == ["participant-hold"]
    assert room.set_hold(customer, True) == []
    assert names(room.set_muted(customer, True)) == ["participant-mute"]
    # While held, a change of EndConferenceOnExit does not take effect (and says nothing).
    assert room.set_end_conference_on_exit(customer, True) == []
    assert customer.end_conference_on_exit is False
    assert names(room.set_hold(customer, False)) == ["participant-unhold"]
    assert names(room.set_end_conference_on_exit(customer, True)) == ["participant-modify"]
    assert customer.end_conference_on_exit is True


def test_participants_are_found_by_call_sid_or_label_and_labels_are_unique() -> None:
    room = conference()
    agent = party(room, "leg-7")
    room.join(agent)
    assert room.find(agent.call.sid) is agent
    assert room.find("leg-7") is agent
    assert room.find("leg-8") is None
    assert room.label_taken("leg-7") and not room.label_taken(None)


def test_a_dialed_participant_that_never_answers() -> None:
    room = conference()
    pending = party(room, "target")
    room.expect(pending)
    pending.call.status = CallStatus.busy
    # Nobody ever joined: the conference was never really there, and goes quietly.
    assert room.drop(pending) == []
    assert room.status is ConferenceStatus.completed

    room = conference()
    room.join(party(room, "customer"))
    pending = party(room, "target")
    room.expect(pending)
    pending.call.status = CallStatus.no_answer
    [event] = room.drop(pending)
    assert event.name == "participant-leave"
    assert event.fields == {"ParticipantCallStatus": "no-answer"}
    assert room.status is ConferenceStatus.init

"""Twilio's conference semantics as a state machine: each change returns the events it raises.

No I/O here: the engine publishes the events (to the status callback of the conference's first
participant), starts and stops what participants hear, and ends the calls that must end.

- A conference is created by its first participant and starts once at least two participants
  are in and one of them has `startConferenceOnEnter` (Twilio: "conferences will not start
  until at least two participants join"); until then the others hear the wait URL.
- It ends when a participant with `endConferenceOnExit` leaves or is removed, when the last
  participant leaves, or through the REST API; every remaining participant leaves with it.
- `statusCallback` and its events come from the first participant to join; later ones are ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from warm_transfer.simulator.state import API_VERSION, Call, Callback, Source, now

# The conference events a `statusCallbackEvent` subscription word covers.
SUBSCRIPTION = {
    "conference-start": "start",
    "conference-end": "end",
    "participant-join": "join",
    "participant-leave": "leave",
    "participant-hold": "hold",
    "participant-unhold": "hold",
    "participant-mute": "mute",
    "participant-unmute": "mute",
    "participant-modify": "modify",
}


class ConferenceStatus(StrEnum):
    init = "init"  # created, not started: participants hear the wait URL
    in_progress = "in-progress"
    completed = "completed"


class ParticipantStatus(StrEnum):
    queued = "queued"  # dialed through the Participants API, not answered yet
    ringing = "ringing"
    connected = "connected"
    complete = "complete"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class ConferenceEvent:
    name: str  # the StatusCallbackEvent value
    participant: Participant | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(eq=False, kw_only=True)
class Participant:
    call: Call
    conference: Conference
    label: str | None = None
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    muted: bool = False
    hold: bool = False
    coaching: bool = False
    wait: Source | None  # None: silence while the conference has not started
    hold_music: Source | None = None  # None: Twilio's default hold music
    conference_callback: Callback | None = None  # used only if first to join
    status: ParticipantStatus = ParticipantStatus.queued
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    left: asyncio.Event = field(default_factory=asyncio.Event)  # set once out of the conference
    # What the engine is playing to this participant: "wait", "hold" or None (the conference).
    playing: str | None = None
    player: asyncio.Task[None] | None = None

    @property
    def is_pending(self) -> bool:
        return self.status in (ParticipantStatus.queued, ParticipantStatus.ringing)

    @property
    def uri(self) -> str:
        return f"{self.conference.uri.removesuffix('.json')}/Participants/{self.call.sid}.json"


@dataclass(eq=False, kw_only=True)
class Conference:
    sid: str
    friendly_name: str
    account_sid: str
    status: ConferenceStatus = ConferenceStatus.init
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    callback: Callback | None = None
    # By call SID, in joining order; pending (REST-dialed, ringing) participants included.
    participants: dict[str, Participant] = field(default_factory=dict)
    anyone_joined: bool = False
    reason_ended: str | None = None
    call_sid_ending: str | None = None
    sequence: int = 0

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.sid}.json"

    @property
    def connected(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.status is ParticipantStatus.connected]

    def find(self, call_sid_or_label: str) -> Participant | None:
        return self.participants.get(call_sid_or_label) or next(
            (p for p in self.participants.values() if p.label == call_sid_or_label), None
        )

    def label_taken(self, label: str | None) -> bool:
        return label is not None and any(p.label == label for p in self.participants.values())

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def expect(self, participant: Participant) -> None:
        """A participant dialed through the REST API: listed (queued) until it answers or fails."""
        self.participants[participant.call.sid] = participant

    def join(self, participant: Participant) -> list[ConferenceEvent]:
        participant.status = ParticipantStatus.connected
        participant.updated_at = now()
        self.participants[participant.call.sid] = participant
        if not self.anyone_joined:
            self.anyone_joined = True
            self.callback = participant.conference_callback
        events = [ConferenceEvent("participant-join", participant)]
        connected = self.connected
        if (
            self.status is ConferenceStatus.init
            and len(connected) >= 2
            and any(p.start_conference_on_enter for p in connected)
        ):
            self.status = ConferenceStatus.in_progress
            self.updated_at = now()
            events.append(ConferenceEvent("conference-start"))
        return events

    def leave(self, participant: Participant, *, kicked: bool) -> list[ConferenceEvent]:
        """A connected participant hung up (or was removed through the REST API)."""
        if participant.status is not ParticipantStatus.connected:
            return []
        reason = "participant_kicked" if kicked else "participant_hung_up"
        events = [self._remove(participant, reason)]
        how = "kicked" if kicked else "left"
        if participant.end_conference_on_exit:
            events += self._end(
                f"participant-with-end-conference-on-exit-{how}", participant.call.sid
            )
        elif not self.connected:
            events += self._end(f"last-participant-{how}", participant.call.sid)
        return events

    def drop(self, participant: Participant) -> list[ConferenceEvent]:
        """A REST-dialed participant that never answered (busy, no-answer, canceled, failed).

        Twilio reports it with a `participant-leave` carrying `ParticipantCallStatus` (changelog,
        25 Oct 2023). A conference nobody ever joined was never really there: it goes quietly.
        """
        if not participant.is_pending:
            return []
        self.participants.pop(participant.call.sid, None)
        participant.status = ParticipantStatus.failed
        participant.left.set()
        if self.status is ConferenceStatus.completed:
            return []
        if not self.anyone_joined:
            if not self.participants:
                self.status = ConferenceStatus.completed
            return []
        fields = {"ParticipantCallStatus": participant.call.status.value}
        return [ConferenceEvent("participant-leave", participant, fields)]

    def end(self) -> list[ConferenceEvent]:
        """Ended through the REST API (`Status=completed`)."""
        if self.status is ConferenceStatus.completed:
            return []
        return self._end("conference-ended-via-api", None)

    def set_hold(self, participant: Participant, hold: bool) -> list[ConferenceEvent]:
        if participant.hold is hold:
            return []
        participant.hold = hold
        participant.updated_at = now()
        return [ConferenceEvent("participant-hold" if hold else "participant-unhold", participant)]

    def set_muted(self, participant: Participant, muted: bool) -> list[ConferenceEvent]:
        if participant.muted is muted:
            return []
        participant.muted = muted
        participant.updated_at = now()
        return [ConferenceEvent("participant-mute" if muted else "participant-unmute", participant)]

    def set_end_conference_on_exit(
        self, participant: Participant, value: bool
    ) -> list[ConferenceEvent]:
        # Twilio's documented trap (Flex un-holds first for this reason): a change made while the
        # participant is on hold does not take effect, and no error says so.
        if participant.hold or participant.end_conference_on_exit is value:
            return []
        participant.end_conference_on_exit = value
        participant.updated_at = now()
        return [ConferenceEvent("participant-modify", participant)]

    def _remove(self, participant: Participant, reason: str) -> ConferenceEvent:
        del self.participants[participant.call.sid]
        participant.status = ParticipantStatus.complete
        participant.updated_at = now()
        participant.left.set()
        fields = {
            "ReasonParticipantLeft": reason,
            "ParticipantCallStatus": participant.call.status.value,
        }
        return ConferenceEvent("participant-leave", participant, fields)

    def _end(self, reason: str, ending_call_sid: str | None) -> list[ConferenceEvent]:
        self.status = ConferenceStatus.completed
        self.updated_at = now()
        self.reason_ended = reason
        self.call_sid_ending = ending_call_sid
        events = [self._remove(p, reason.replace("-", "_")) for p in self.connected]
        fields = {"ReasonConferenceEnded": reason}
        if ending_call_sid is not None:
            fields["CallSidEndingConference"] = ending_call_sid
        events.append(ConferenceEvent("conference-end", fields=fields))
        return events

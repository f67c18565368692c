"""Twilio's behaviour: ring, answer, run the app's TwiML, keep conferences, report by callbacks.

State changes happen synchronously (one event loop, no awaits in between), so a REST request or
a device action sees and leaves a consistent state. Everything slow — ringing, fetching TwiML,
playing audio, delivering callbacks — runs in background tasks: a call's own task (ringing,
then its TwiML), one player per conference participant, and the outbox that delivers every
status callback one at a time, in the order they were raised. Twilio promises no order across
calls and conferences; the simulator picks one (the order things happened), so runs are
reproducible. Nothing is ever sent to the app from inside a request the app made.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from warm_transfer.simulator import twiml
from warm_transfer.simulator.conferences import (
    SUBSCRIPTION,
    Conference,
    ConferenceEvent,
    ConferenceStatus,
    Participant,
    ParticipantStatus,
)
from warm_transfer.simulator.devices import Device, DeviceHub
from warm_transfer.simulator.errors import SimulatorError
from warm_transfer.simulator.state import (
    API_VERSION,
    Audio,
    Call,
    Callback,
    CallStatus,
    Clock,
    Source,
    new_sid,
    now,
    rfc2822,
)
from warm_transfer.simulator.tasks import TaskSet
from warm_transfer.simulator.webhooks import Outbox, Webhook, WebhookSender

logger = logging.getLogger(__name__)

T = TypeVar("T")

DIAL_SECONDS = 0.5  # from the REST request to `initiated`, and again to `ringing`
RING_BUFFER_SECONDS = 5  # "We always add a 5-second timeout buffer to outgoing calls"
PLAY_SECONDS = 10  # an audio file's length is unknown: each loop of a <Play> lasts this long
WORDS_PER_SECOND = 2.5  # how fast <Say> speaks
KEEP = 500  # ended calls and conferences remembered (for listings) before the oldest go
# Twilio's default wait and hold music (a Twimlet the simulator does not fetch: it "plays" it).
TWILIO_MUSIC = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
PROGRESS_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


def _flag(value: bool) -> str:
    return "true" if value else "false"


class Engine:
    def __init__(
        self,
        *,
        account_sid: str,
        sender: WebhookSender,
        devices: DeviceHub,
        clock: Clock,
        tasks: TaskSet,
    ) -> None:
        self.account_sid = account_sid
        self.calls: dict[str, Call] = {}
        self.conferences: dict[str, Conference] = {}
        self._sender = sender
        self._outbox = Outbox(deliver=sender.send, tasks=tasks)
        self._devices = devices
        self._clock = clock
        self._tasks = tasks

    # --- looking things up ----------------------------------------------------------------------

    def active_conference(self, friendly_name: str) -> Conference | None:
        return next(
            (
                conference
                for conference in self.conferences.values()
                if conference.friendly_name == friendly_name
                and conference.status is not ConferenceStatus.completed
            ),
            None,
        )

    def calls_to(self, identity: str) -> list[Call]:
        """The calls ringing or connected to a browser client now."""
        return [
            call
            for call in self.calls.values()
            if call.identity == identity and not call.status.is_final
        ]

    # --- the REST API's requests ----------------------------------------------------------------

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        answer_url: Source | None,
        answer_twiml: str | None,
        status_callback: Callback | None,
        timeout: int,
    ) -> Call:
        call = self._new_call(
            to=to,
            from_=from_,
            direction="outbound-api",
            answer_url=answer_url,
            answer_twiml=answer_twiml,
            status_callback=status_callback,
            timeout=timeout,
        )
        self._run(call, self._ring(call), "ringing")
        return call

    def open_conference(self, friendly_name: str) -> Conference:
        """The in-progress (or not yet started) conference of that name, or a new one."""
        conference = self.active_conference(friendly_name)
        if conference is None:
            sid = new_sid("CF")
            conference = Conference(
                sid=sid,
                friendly_name=friendly_name,
                account_sid=self.account_sid,
            )
            self._remember(self.conferences, sid, conference, _conference_over)
        return conference

    def dial_participant(
        self,
        conference: Conference,
        *,
        to: str,
        from_: str,
        label: str | None,
        timeout: int,
        status_callback: Callback | None,
        start_conference_on_enter: bool,
        end_conference_on_exit: bool,
        muted: bool,
        wait: Source | None,
        conference_callback: Callback | None,
    ) -> Participant:
        call = self._new_call(
            to=to,
            from_=from_,
            direction="outbound-api",
            status_callback=status_callback,
            timeout=timeout,
        )
        participant = Participant(
            call=call,
            conference=conference,
            label=label,
            start_conference_on_enter=start_conference_on_enter,
            end_conference_on_exit=end_conference_on_exit,
            muted=muted,
            wait=wait,
            conference_callback=conference_callback,
        )
        call.joins = call.participant = participant
        conference.expect(participant)
        self._run(call, self._ring(call), "ringing")
        return participant

    def hang_up(self, call: Call, status: CallStatus) -> None:
        """`Status=canceled` ends a call still queued or ringing; `completed` ends it whatever
        its state (one that never got answered ends `canceled`)."""
        if call.status.is_final:
            return
        if call.status.is_unanswered:
            self._finish(call, CallStatus.canceled)
        elif status is CallStatus.completed:
            self._finish(call, CallStatus.completed)

    def end_conference(self, conference: Conference) -> None:
        self._apply(conference, conference.end())

    def update_participant(
        self,
        participant: Participant,
        *,
        hold: bool | None = None,
        hold_music: Source | None = None,
        muted: bool | None = None,
        end_conference_on_exit: bool | None = None,
    ) -> None:
        conference = participant.conference
        if hold_music is not None:
            participant.hold_music = hold_music
        events: list[ConferenceEvent] = []
        # Before the hold change, so a request that both un-holds and sets the flag still meets
        # the participant held, as Twilio does (see set_end_conference_on_exit).
        if end_conference_on_exit is not None:
            events += conference.set_end_conference_on_exit(participant, end_conference_on_exit)
        if hold is not None:
            events += conference.set_hold(participant, hold)
        if muted is not None:
            events += conference.set_muted(participant, muted)
        self._apply(conference, events)

    def remove_participant(self, participant: Participant) -> None:
        """DELETE: out of the conference; a TwiML leg goes on with what follows its <Dial>."""
        if participant.is_pending:
            self._finish(participant.call, CallStatus.canceled)
        else:
            self._apply(
                participant.conference, participant.conference.leave(participant, kicked=True)
            )

    # --- customers ------------------------------------------------------------------------------

    def receive_call(self, *, from_: str, to: str, voice_url: str) -> Call:
        """A customer dials the support number: Twilio asks the number's Voice URL what to do."""
        call = self._new_call(
            to=to,
            from_=from_,
            direction="inbound",
            status=CallStatus.ringing,
            answer_url=Source(voice_url),
        )
        self._run(call, self._incoming(call), "incoming")
        return call

    def customer_hangs_up(self, call: Call) -> None:
        if call.status.is_final:
            raise SimulatorError(409, "call_ended", f"Call {call.sid} has already ended")
        self._finish(
            call,
            CallStatus.completed if call.status is CallStatus.in_progress else CallStatus.canceled,
        )

    # --- simulated devices ----------------------------------------------------------------------

    def device_registered(self, device: Device) -> None:
        """A device that comes up while its identity is being called rings too."""
        for call in self.calls_to(device.identity):
            if call.status is CallStatus.ringing:
                self._devices.send(device, "incoming", _invite(call))

    def device_unregistered(self, device: Device) -> None:
        """A browser that goes away drops the calls it answered."""
        for call in self.calls_to(device.identity):
            if call.accepted_by == device.id:
                self._finish(call, CallStatus.completed)

    def accept(self, call_sid: str, *, identity: str, device_id: str) -> Call:
        call = self._device_call(call_sid, identity)
        if call.status is not CallStatus.ringing:
            raise SimulatorError(409, "not_ringing", f"Call {call_sid} is {call.status}")
        device = self._devices.get(device_id)
        if device is None or device.identity != identity:
            raise SimulatorError(
                409, "device_not_registered", "Accept from a device whose event stream is open"
            )
        call.accepted_by = device.id
        self._devices.send(device, "accepted", {"call_sid": call.sid})
        # The first device to answer wins; the other tabs stop ringing.
        self._devices.broadcast(
            identity,
            "canceled",
            {"call_sid": call.sid, "reason": "answered_elsewhere"},
            skip=device.id,
        )
        self._stop(call)
        call.status = CallStatus.in_progress
        call.answered_at = now()
        self._progress(call, "answered")
        self._run(call, self._answered(call), "answered")
        return call

    def reject(self, call_sid: str, *, identity: str, device_id: str | None) -> Call:
        """A browser client rejecting an invite shows up as `busy`."""
        call = self._device_call(call_sid, identity)
        if not call.status.is_unanswered:
            raise SimulatorError(409, "not_ringing", f"Call {call_sid} is {call.status}")
        self._finish(call, CallStatus.busy, quiet_device=device_id)
        return call

    def device_hangs_up(self, call_sid: str, *, identity: str) -> Call:
        call = self._device_call(call_sid, identity)
        if call.status is not CallStatus.in_progress:
            raise SimulatorError(409, "not_connected", f"Call {call_sid} is {call.status}")
        self._finish(call, CallStatus.completed)
        return call

    def device_mutes(self, call_sid: str, *, identity: str, muted: bool) -> Call:
        """The browser's own microphone: Twilio (and so the conference) knows nothing of it."""
        call = self._device_call(call_sid, identity)
        if call.status is not CallStatus.in_progress:
            raise SimulatorError(409, "not_connected", f"Call {call_sid} is {call.status}")
        call.device_muted = muted
        if (device := self._devices.get(call.accepted_by)) is not None:
            self._devices.send(device, "muted", {"call_sid": call.sid, "muted": muted})
        return call

    def _device_call(self, call_sid: str, identity: str) -> Call:
        call = self.calls.get(call_sid)
        if call is None:
            raise SimulatorError(404, "call_not_found", f"No call {call_sid}")
        if call.identity != identity:
            raise SimulatorError(403, "not_your_call", f"Call {call_sid} did not ring {identity}")
        return call

    # --- a call's life --------------------------------------------------------------------------

    def _new_call(self, **fields: Any) -> Call:
        sid = new_sid("CA")
        call = Call(
            sid=sid,
            account_sid=self.account_sid,
            **fields,
        )
        self._remember(self.calls, sid, call, _call_over)
        return call

    def _run(self, call: Call, work: Coroutine[Any, Any, None], what: str) -> None:
        call.task = self._tasks.spawn(work, name=f"{what} {call.sid}")

    def _stop(self, call: Call) -> None:
        if call.task is not None and call.task is not asyncio.current_task():
            call.task.cancel()

    async def _ring(self, call: Call) -> None:
        await self._clock.sleep(DIAL_SECONDS)
        self._progress(call, "initiated")
        await self._clock.sleep(DIAL_SECONDS)
        call.status = CallStatus.ringing
        if call.joins is not None:
            call.joins.status = ParticipantStatus.ringing
        self._progress(call, "ringing")
        if call.identity is not None:
            self._devices.broadcast(call.identity, "incoming", _invite(call))
        # Nobody may answer (no device registered, or an E.164 number: no one is simulated there).
        await self._clock.sleep(call.timeout + RING_BUFFER_SECONDS)
        self._finish(call, CallStatus.no_answer)

    async def _incoming(self, call: Call) -> None:
        assert call.answer_url is not None  # noqa: S101 - set by receive_call
        verbs = await self._fetch(call, call.answer_url)
        call.status = CallStatus.in_progress
        call.answered_at = now()
        await self._perform(call, verbs)
        self._finish(call, CallStatus.completed)

    async def _answered(self, call: Call) -> None:
        if call.joins is not None:
            if call.joins.conference.status is not ConferenceStatus.completed:
                await self._enter(call.joins)
        else:
            verbs: list[twiml.Verb] | None = None
            if call.answer_twiml is not None:
                verbs = self._parse(call.answer_twiml, url=f"{call.uri} (Twiml)")
            elif call.answer_url is not None:
                verbs = await self._fetch(call, call.answer_url)
            await self._perform(call, verbs)
        self._finish(call, CallStatus.completed)

    def _finish(self, call: Call, status: CallStatus, *, quiet_device: str | None = None) -> None:
        """The call is over: out of its conference, its devices told, its callback sent."""
        if call.status.is_final:
            return
        unanswered = call.status.is_unanswered
        call.status = status
        call.ended_at = now()
        call.audio = None
        self._progress(call, "completed")
        participant = call.participant
        if participant is not None:
            conference = participant.conference
            if participant.is_pending:
                # After the call's own `completed` callback: the leg ended, then it "left".
                self._publish(conference, conference.drop(participant))
            else:
                self._apply(conference, conference.leave(participant, kicked=False))
            call.participant = None
        if call.identity is not None:
            if unanswered:
                self._devices.broadcast(
                    call.identity,
                    "canceled",
                    {"call_sid": call.sid, "reason": status.value},
                    skip=quiet_device,
                )
            elif (device := self._devices.get(call.accepted_by)) is not None:
                self._devices.send(
                    device, "disconnected", {"call_sid": call.sid, "status": status.value}
                )
        self._stop(call)

    def _progress(self, call: Call, event: str) -> None:
        """A call progress event, sent if the call's status callback asked for it."""
        callback = call.status_callback
        if callback is None or event not in callback.events:
            return
        params = self._voice_params(call)
        params.update(
            CallStatus=call.status.value if event == "completed" else PROGRESS_STATUS[event],
            CallbackSource="call-progress-events",
            SequenceNumber=str(next(call.sequence)),
            Timestamp=rfc2822(now()),
        )
        if event == "completed":
            seconds = (
                self._clock.seconds_between(call.answered_at, call.ended_at)
                if call.answered_at and call.ended_at
                else 0
            )
            params.update(CallDuration=str(seconds), Duration=str(math.ceil(seconds / 60)))
        self._outbox.put(Webhook(callback.url, callback.method, params))

    def _voice_params(self, call: Call) -> dict[str, str]:
        """The parameters Twilio sends with every request about a call."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status.value,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
            "Caller": call.from_,
            "Called": call.to,
        }

    # --- TwiML ----------------------------------------------------------------------------------

    async def _fetch(self, call: Call, source: Source) -> list[twiml.Verb] | None:
        response = await self._sender.send(
            Webhook(source.url, source.method, self._voice_params(call))
        )
        if response is None or response.status_code != 200:
            return None
        return self._parse(response.text, url=source.url)

    @staticmethod
    def _parse(document: str, *, url: str) -> list[twiml.Verb] | None:
        try:
            return twiml.parse(document, url=url)
        except twiml.TwimlError as exc:
            logger.warning("TwiML from %s rejected (Twilio error 12100): %s", url, exc)
            return None

    async def _perform(self, call: Call, verbs: list[twiml.Verb] | None) -> None:
        """Run a call's TwiML to its end (then the call hangs up)."""
        if verbs is None:
            await self._hear(call, twiml.Say(APPLICATION_ERROR))
            return
        pending = deque(verbs)
        while pending:
            match verb := pending.popleft():
                case twiml.Say() | twiml.Play() | twiml.Pause():
                    await self._hear(call, verb)
                case twiml.Redirect(url=url, method=method):
                    fetched = await self._fetch(call, Source(url, method))
                    if fetched is None:
                        await self._hear(call, twiml.Say(APPLICATION_ERROR))
                        return
                    pending = deque(fetched)
                case twiml.Hangup():
                    return
                case twiml.Conference():
                    await self._attend(call, verb)
                case _:
                    logger.warning("the simulator skips %s in the TwiML of %s", verb, call.sid)
        call.audio = None

    async def _play(self, call: Call, source: Source) -> None:
        """Wait or hold music: TwiML of <Say>, <Play>, <Pause>, <Redirect> only; silence after."""
        if not self._sender.reaches(source.url):
            # An audio file (or Twilio's own music): it loops for as long as it is wanted.
            await self._hear(call, twiml.Play(url=source.url, loop=0))
            return
        pending = deque(await self._fetch(call, source) or [])
        while pending:
            match verb := pending.popleft():
                case twiml.Say() | twiml.Play() | twiml.Pause():
                    await self._hear(call, verb)
                case twiml.Redirect(url=url, method=method):
                    pending = deque(await self._fetch(call, Source(url, method)) or [])
                case _:
                    logger.warning("%s is not allowed in wait or hold TwiML: skipped", verb)
        call.audio = None

    async def _hear(self, call: Call, verb: twiml.Say | twiml.Play | twiml.Pause) -> None:
        match verb:
            case twiml.Say(text=text, loop=loop):
                audio = Audio("Say", text=text, loop=loop)
                seconds = max(1.0, len(text.split()) / WORDS_PER_SECOND) * loop
            case twiml.Play(url=url, loop=loop):
                audio = Audio("Play", url=url, loop=loop)
                seconds = float(PLAY_SECONDS * loop)
            case twiml.Pause(length=length):
                audio = Audio("Pause", length=length)
                seconds = float(length)
        call.audio = audio
        call.heard.append(audio)
        if audio.loop == 0:
            await asyncio.get_running_loop().create_future()  # forever, until stopped
        await self._clock.sleep(seconds)

    # --- conferences ----------------------------------------------------------------------------

    async def _attend(self, call: Call, dial: twiml.Conference) -> None:
        """`<Dial><Conference>`: in the conference until the leg leaves it."""
        conference = self.open_conference(dial.name)
        if conference.label_taken(dial.participant_label):
            logger.warning(
                "participant label %r is taken in %s: %s is not added",
                dial.participant_label,
                conference.sid,
                call.sid,
            )
            return
        callback = (
            Callback(dial.status_callback, dial.status_callback_method, dial.status_callback_events)
            if dial.status_callback
            else None
        )
        wait = Source(TWILIO_MUSIC) if dial.wait_url is None else None
        if dial.wait_url:
            wait = Source(dial.wait_url, dial.wait_method)
        participant = Participant(
            call=call,
            conference=conference,
            label=dial.participant_label,
            start_conference_on_enter=dial.start_conference_on_enter,
            end_conference_on_exit=dial.end_conference_on_exit,
            muted=dial.muted,
            wait=wait,
            conference_callback=callback,
        )
        await self._enter(participant)

    async def _enter(self, participant: Participant) -> None:
        participant.call.participant = participant
        self._apply(participant.conference, participant.conference.join(participant))
        await participant.left.wait()

    def _apply(self, conference: Conference, events: list[ConferenceEvent]) -> None:
        """Publish a conference change, then make every participant hear what they now should."""
        self._publish(conference, events)
        for event in events:
            gone = event.participant
            if event.name == "participant-leave" and gone is not None:
                self._silence(gone)
                if gone.call.participant is gone:
                    gone.call.participant = None
        if conference.status is ConferenceStatus.completed:
            # Still ringing into a conference that is over: those calls are withdrawn.
            for pending in [p for p in conference.participants.values() if p.is_pending]:
                self._finish(pending.call, CallStatus.canceled)
        for participant in conference.connected:
            self._tune(participant)

    def _publish(self, conference: Conference, events: list[ConferenceEvent]) -> None:
        callback = conference.callback
        for event in events:
            if callback is None or SUBSCRIPTION[event.name] not in callback.events:
                continue
            params = {
                "AccountSid": self.account_sid,
                "ConferenceSid": conference.sid,
                "FriendlyName": conference.friendly_name,
                "StatusCallbackEvent": event.name,
                "SequenceNumber": str(conference.next_sequence()),
                "Timestamp": rfc2822(now()),
            }
            if (participant := event.participant) is not None:
                params.update(
                    CallSid=participant.call.sid,
                    Hold=_flag(participant.hold),
                    Muted=_flag(participant.muted),
                    Coaching=_flag(participant.coaching),
                    EndConferenceOnExit=_flag(participant.end_conference_on_exit),
                    StartConferenceOnEnter=_flag(participant.start_conference_on_enter),
                )
                if participant.label is not None:
                    params["ParticipantLabel"] = participant.label
            params.update(event.fields)
            self._outbox.put(Webhook(callback.url, callback.method, params))

    def _tune(self, participant: Participant) -> None:
        """Hold music when held, the wait URL before the conference starts, else the others."""
        wanted: str | None
        source: Source | None
        if participant.hold:
            wanted, source = "hold", participant.hold_music or Source(TWILIO_MUSIC, "GET")
        elif participant.conference.status is ConferenceStatus.init:
            wanted, source = "wait", participant.wait
        else:
            wanted, source = None, None
        if participant.playing == wanted:
            return
        self._silence(participant)
        participant.playing = wanted
        if source is not None:
            participant.player = self._tasks.spawn(
                self._play(participant.call, source), name=f"{wanted} music {participant.call.sid}"
            )

    def _silence(self, participant: Participant) -> None:
        if participant.player is not None:
            participant.player.cancel()
            participant.player = None
        participant.playing = None
        participant.call.audio = None

    # --- memory ---------------------------------------------------------------------------------

    @staticmethod
    def _remember(table: dict[str, T], key: str, item: T, over: Callable[[T], bool]) -> None:
        table[key] = item
        excess = len(table) - KEEP
        if excess > 0:
            for old in [k for k, value in table.items() if over(value)][:excess]:
                del table[old]


def _call_over(call: Call) -> bool:
    return call.status.is_final


def _conference_over(conference: Conference) -> bool:
    return conference.status is ConferenceStatus.completed


def _invite(call: Call) -> dict[str, Any]:
    """An `incoming` event: who calls, and any custom parameters (`client:alice?key=value`)."""
    _, _, query = call.to.partition("?")
    return {
        "call_sid": call.sid,
        "from": call.from_,
        "to": call.to,
        "params": dict(parse_qsl(query)),
    }

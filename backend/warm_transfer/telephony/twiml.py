"""Pure TwiML builders: the handlers only choose which one to answer with."""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape

from twilio.twiml.voice_response import Dial, VoiceResponse

# Twilio's SDK builds every answer, but building one costs more than the rest of a webhook: the
# answers are built once per shape, and a call's conference name (an XML text node, escaped as
# ElementTree would) goes into the gap left by this placeholder, which no URL or label holds.
_NAME = "\ufffeconference-name\ufffe"
_SHAPES = 1024

WAIT_MESSAGE = (
    "Thank you for calling. Please wait in line for a few seconds. "
    "An agent will be with you shortly."
)
UNAVAILABLE_MESSAGE = "Sorry, this call is no longer available. Goodbye."
CONFERENCE_EVENTS = "start end join leave hold mute"


def customer_conference(*, conference_name: str, wait_url: str, status_callback: str) -> str:
    """The customer waits in their own conference until an agent's leg starts it.

    The customer is the first participant, so the conference status callback rides on this TwiML
    (Twilio ignores it on later participants). The customer leaving ends the conference.
    """
    before, after = _customer_conference(wait_url, status_callback)
    return before + escape(conference_name) + after


@lru_cache(maxsize=_SHAPES)
def _customer_conference(wait_url: str, status_callback: str) -> tuple[str, str]:
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        _NAME,
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        wait_url=wait_url,
        wait_method="POST",
        status_callback=status_callback,
        status_callback_method="POST",
        status_callback_event=CONFERENCE_EVENTS,
        participant_label="customer",
        beep=False,
    )
    response.append(dial)
    return _around_name(str(response))


def agent_conference(
    *, conference_name: str, participant_label: str, end_conference_on_exit: bool
) -> str:
    """An agent's leg joins the customer's conference and starts it."""
    before, after = _agent_conference(participant_label, end_conference_on_exit)
    return before + escape(conference_name) + after


@lru_cache(maxsize=_SHAPES)
def _agent_conference(participant_label: str, end_conference_on_exit: bool) -> tuple[str, str]:
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        _NAME,
        start_conference_on_enter=True,
        end_conference_on_exit=end_conference_on_exit,
        participant_label=participant_label,
        beep=False,
    )
    response.append(dial)
    return _around_name(str(response))


def _around_name(twiml: str) -> tuple[str, str]:
    before, _, after = twiml.partition(_NAME)
    return before, after


@lru_cache(maxsize=_SHAPES)
def wait_music(*, music_url: str) -> str:
    """What the customer hears before an agent joins: never silence, the music loops forever."""
    response = VoiceResponse()
    response.say(WAIT_MESSAGE)
    response.play(music_url, loop=0)
    return str(response)


@lru_cache(maxsize=_SHAPES)
def hold_music(*, music_url: str) -> str:
    """What a held participant hears."""
    response = VoiceResponse()
    response.play(music_url, loop=0)
    return str(response)


@lru_cache(maxsize=1)
def unavailable() -> str:
    """For a leg whose call has already ended or been handed to someone else."""
    response = VoiceResponse()
    response.say(UNAVAILABLE_MESSAGE)
    response.hangup()
    return str(response)

"""Pure TwiML builders: the handlers only choose which one to answer with."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, VoiceResponse

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
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        conference_name,
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
    return str(response)


def agent_conference(
    *, conference_name: str, participant_label: str, end_conference_on_exit: bool
) -> str:
    """An agent's leg joins the customer's conference and starts it."""
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        conference_name,
        start_conference_on_enter=True,
        end_conference_on_exit=end_conference_on_exit,
        participant_label=participant_label,
        beep=False,
    )
    response.append(dial)
    return str(response)


def wait_music(*, music_url: str) -> str:
    """What the customer hears before an agent joins: never silence, the music loops forever."""
    response = VoiceResponse()
    response.say(WAIT_MESSAGE)
    response.play(music_url, loop=0)
    return str(response)


def hold_music(*, music_url: str) -> str:
    """What a held participant hears."""
    response = VoiceResponse()
    response.play(music_url, loop=0)
    return str(response)


def unavailable() -> str:
    """For a leg whose call has already ended or been handed to someone else."""
    response = VoiceResponse()
    response.say(UNAVAILABLE_MESSAGE)
    response.hangup()
    return str(response)

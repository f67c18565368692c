"""The simulator reads TwiML as Twilio does: here, the very documents the app answers."""

from __future__ import annotations

import pytest

from warm_transfer.simulator import twiml
from warm_transfer.telephony import twiml as app_twiml

URL = "https://warm.example.test/conference/connect/client"


def test_the_customers_conference_with_its_flags_and_callbacks() -> None:
    document = app_twiml.customer_conference(
        conference_name="CA123",
        wait_url="https://warm.example.test/conference/wait",
        status_callback="https://warm.example.test/conference/status",
    )
    assert twiml.parse(document, url=URL) == [
        twiml.Conference(
            name="CA123",
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            wait_url="https://warm.example.test/conference/wait",
            wait_method="POST",
            participant_label="customer",
            status_callback="https://warm.example.test/conference/status",
            status_callback_method="POST",
            status_callback_events=frozenset({"start", "end", "join", "leave", "hold", "mute"}),
        )
    ]


def test_an_agents_conference_takes_twilios_defaults() -> None:
    document = app_twiml.agent_conference(
        conference_name="CA123", participant_label="leg-2", end_conference_on_exit=True
    )
    [conference] = twiml.parse(document, url=URL)
    assert conference == twiml.Conference(
        name="CA123",
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        participant_label="leg-2",
    )
    assert conference.wait_url is None  # Twilio's default music, not silence


def test_wait_music_and_relative_urls() -> None:
    assert twiml.parse(app_twiml.wait_music(music_url="https://cdn.test/m.mp3"), url=URL) == [
        twiml.Say(app_twiml.WAIT_MESSAGE),
        twiml.Play("https://cdn.test/m.mp3", loop=0),
    ]
    document = '<Response><Play>/music.mp3</Play><Pause length="3"/><Redirect>/again</Redirect>'
    document += "<Hangup/></Response>"
    assert twiml.parse(document, url=URL) == [
        twiml.Play("https://warm.example.test/music.mp3"),
        twiml.Pause(3),
        twiml.Redirect("https://warm.example.test/again", "POST"),
        twiml.Hangup(),
    ]


def test_what_the_simulator_cannot_do_is_marked_not_dropped() -> None:
    document = "<Response><Gather/><Dial><Number>+15551230000</Number></Dial></Response>"
    assert twiml.parse(document, url=URL) == [
        twiml.Unsupported("Gather"),
        twiml.Unsupported("Dial<Number>"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        "not xml",
        "<Reply><Say>hi</Say></Reply>",
        '<Response><Dial><Conference startConferenceOnEnter="yes">x</Conference></Dial></Response>',
        '<Response><Dial><Conference statusCallbackEvent="start boom">x</Conference></Dial>'
        "</Response>",
        '<Response><Play loop="-1">x.mp3</Play></Response>',
    ],
)
def test_documents_twilio_would_refuse(document: str) -> None:
    with pytest.raises(twiml.TwimlError):
        twiml.parse(document, url=URL)

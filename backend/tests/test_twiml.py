"""The TwiML builders, read back as XML the way Twilio parses it."""

from __future__ import annotations

from defusedxml import ElementTree

from warm_transfer.telephony import twiml


def test_customer_waits_in_a_conference_named_after_the_call() -> None:
    root = ElementTree.fromstring(
        twiml.customer_conference(
            conference_name="CA123",
            wait_url="https://x.test/conference/wait",
            status_callback="https://x.test/conference/status",
        )
    )
    assert root.tag == "Response"
    [dial] = list(root)
    [conference] = list(dial)
    assert (dial.tag, conference.tag, conference.text) == ("Dial", "Conference", "CA123")
    assert conference.attrib == {
        "startConferenceOnEnter": "false",
        "endConferenceOnExit": "true",
        "waitUrl": "https://x.test/conference/wait",
        "waitMethod": "POST",
        "statusCallback": "https://x.test/conference/status",
        "statusCallbackMethod": "POST",
        "statusCallbackEvent": "start end join leave hold mute",
        "participantLabel": "customer",
        "beep": "false",
    }


def test_agent_starts_the_conference() -> None:
    root = ElementTree.fromstring(
        twiml.agent_conference(
            conference_name="CA123", participant_label="leg-2", end_conference_on_exit=True
        )
    )
    conference = root.find("Dial/Conference")
    assert conference is not None and conference.text == "CA123"
    assert conference.attrib["startConferenceOnEnter"] == "true"
    assert conference.attrib["endConferenceOnExit"] == "true"
    assert conference.attrib["participantLabel"] == "leg-2"


def test_wait_music_says_the_tutorial_text_then_loops_music_forever() -> None:
    root = ElementTree.fromstring(twiml.wait_music(music_url="https://music.test/a.mp3"))
    say, play = list(root)
    assert say.tag == "Say"
    assert say.text == (
        "Thank you for calling. Please wait in line for a few seconds. "
        "An agent will be with you shortly."
    )
    assert (play.tag, play.text, play.attrib) == ("Play", "https://music.test/a.mp3", {"loop": "0"})


def test_unavailable_says_why_and_hangs_up() -> None:
    root = ElementTree.fromstring(twiml.unavailable())
    assert [child.tag for child in root] == ["Say", "Hangup"]

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


def test_each_answer_names_its_own_conference_and_escapes_it() -> None:
    """The answers are built once per shape: a name must never carry over to the next call."""
    urls = {"wait_url": "https://x.test/wait?a=1&b=2", "status_callback": "https://x.test/s"}
    names = []
    for name in ("CA1", "CA2", "R&D <1>"):
        root = ElementTree.fromstring(twiml.customer_conference(conference_name=name, **urls))
        conference = root.find("Dial/Conference")
        assert conference is not None
        assert conference.attrib["waitUrl"] == "https://x.test/wait?a=1&b=2"
        names.append(conference.text)
    for label, ends in (("leg-1", True), ("leg-2", False)):
        root = ElementTree.fromstring(
            twiml.agent_conference(
                conference_name=label + "-room",
                participant_label=label,
                end_conference_on_exit=ends,
            )
        )
        conference = root.find("Dial/Conference")
        assert conference is not None
        names.append(conference.text)
        assert conference.attrib["participantLabel"] == label
        assert conference.attrib["endConferenceOnExit"] == str(ends).lower()
    assert names == ["CA1", "CA2", "R&D <1>", "leg-1-room", "leg-2-room"]

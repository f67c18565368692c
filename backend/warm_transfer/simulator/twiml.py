"""TwiML as Twilio reads it: the verbs the simulator performs, parsed from the app's XML answer.

Only what a warm-transfer call needs is understood: `<Say>`, `<Play>`, `<Pause>`, `<Redirect>`,
`<Hangup>` and `<Dial><Conference>`. Anything else parses as `Unsupported`, which the engine logs
and skips, so a gap in the simulator shows up in the log instead of as a silent misbehaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin
from xml.etree import ElementTree

# What `statusCallbackEvent` may name (speaker and announcement events are never raised here).
CONFERENCE_EVENTS = frozenset(
    {"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"}
)


class TwimlError(ValueError):
    """The document is not TwiML Twilio would run (Twilio's error 12100)."""


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    loop: int = 1  # 0 repeats forever


@dataclass(frozen=True, slots=True)
class Play:
    url: str
    loop: int = 1  # 0 repeats forever


@dataclass(frozen=True, slots=True)
class Pause:
    length: int = 1


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Conference:
    """`<Dial><Conference>`: join the named conference until the leg leaves it."""

    name: str
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    muted: bool = False
    # None: Twilio's default music; "": silence.
    wait_url: str | None = None
    wait_method: str = "POST"
    participant_label: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Unsupported:
    verb: str


Verb = Say | Play | Pause | Redirect | Hangup | Conference | Unsupported


def parse(document: str, *, url: str) -> list[Verb]:
    """The verbs of a TwiML document fetched from `url` (relative URLs resolve against it)."""
    try:
        # The app's own answer, fetched in-process; expat refuses entity expansion attacks.
        root = ElementTree.fromstring(document)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise TwimlError(f"not XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    return [_verb(element, url) for element in root]


def _verb(element: ElementTree.Element, url: str) -> Verb:
    text = (element.text or "").strip()
    match element.tag:
        case "Say":
            return Say(text=text, loop=_int(element, "loop", 1))
        case "Play":
            return Play(url=urljoin(url, text), loop=_int(element, "loop", 1))
        case "Pause":
            return Pause(length=_int(element, "length", 1))
        case "Redirect":
            return Redirect(url=urljoin(url, text), method=_method(element, "method"))
        case "Hangup":
            return Hangup()
        case "Dial":
            return _dial(element, url)
    return Unsupported(element.tag)


def _dial(dial: ElementTree.Element, url: str) -> Verb:
    nouns = list(dial)
    if len(nouns) != 1 or nouns[0].tag != "Conference":
        return Unsupported("Dial" + "".join(f"<{noun.tag}>" for noun in nouns))
    noun = nouns[0]
    attributes = noun.attrib
    wait_url = attributes.get("waitUrl")
    callback = attributes.get("statusCallback")
    events = attributes.get("statusCallbackEvent", "").split()
    unknown = set(events) - CONFERENCE_EVENTS
    if unknown:
        raise TwimlError(f"unknown statusCallbackEvent {sorted(unknown)}")
    label = attributes.get("participantLabel")
    if label is not None and len(label) > 128:
        raise TwimlError("participantLabel is longer than 128 characters")
    return Conference(
        name=(noun.text or "").strip(),
        start_conference_on_enter=_bool(noun, "startConferenceOnEnter", True),
        end_conference_on_exit=_bool(noun, "endConferenceOnExit", False),
        muted=_bool(noun, "muted", False),
        wait_url=urljoin(url, wait_url) if wait_url else wait_url,
        wait_method=_method(noun, "waitMethod"),
        participant_label=label,
        status_callback=urljoin(url, callback) if callback else None,
        status_callback_method=_method(noun, "statusCallbackMethod"),
        status_callback_events=frozenset(events),
    )


def _bool(element: ElementTree.Element, name: str, default: bool) -> bool:
    value = element.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise TwimlError(f"{name}={value!r} is not true or false")
    return value.lower() == "true"


def _int(element: ElementTree.Element, name: str, default: int) -> int:
    value = element.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise TwimlError(f"{name}={value!r} is not a non-negative integer")
    return int(value)


def _method(element: ElementTree.Element, name: str) -> str:
    value = element.get(name, "POST").upper()
    if value not in ("GET", "POST"):
        raise TwimlError(f"{name}={value!r} is not GET or POST")
    return value

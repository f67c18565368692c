"""What the simulated Twilio remembers about a call, and its sense of time."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warm_transfer.simulator.conferences import Participant

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def rfc2822(moment: datetime) -> str:
    """Twilio's date format in REST bodies and callbacks: 'Wed, 25 Nov 2026 12:00:00 +0000'."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


class Clock:
    """Simulated seconds, run `scale` times as fast (tests use a small scale)."""

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time_scale must be positive")
        self.scale = scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.scale)

    def seconds_between(self, start: datetime, end: datetime) -> int:
        return round((end - start).total_seconds() / self.scale)


class CallStatus(StrEnum):
    queued = "queued"
    ringing = "ringing"
    in_progress = "in-progress"
    completed = "completed"
    busy = "busy"
    failed = "failed"
    no_answer = "no-answer"
    canceled = "canceled"

    @property
    def is_final(self) -> bool:
        return self not in (CallStatus.queued, CallStatus.ringing, CallStatus.in_progress)

    @property
    def is_unanswered(self) -> bool:
        return self in (CallStatus.queued, CallStatus.ringing)


@dataclass(frozen=True, slots=True)
class Source:
    """Where Twilio fetches TwiML (or audio) from."""

    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Callback:
    """A status callback URL with the events it was asked for."""

    url: str
    method: str
    events: frozenset[str]


@dataclass(frozen=True, slots=True)
class Audio:
    """Something a caller hears: a `<Say>`, a `<Play>` or a `<Pause>`."""

    verb: str
    text: str | None = None
    url: str | None = None
    loop: int | None = None
    length: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in (
                ("verb", self.verb),
                ("text", self.text),
                ("url", self.url),
                ("loop", self.loop),
                ("length", self.length),
            )
            if value is not None
        }


@dataclass(eq=False, kw_only=True)
class Call:
    sid: str
    account_sid: str
    from_: str
    to: str
    direction: str  # "inbound" (a customer calling) or "outbound-api" (placed through REST)
    created_at: datetime = field(default_factory=now)
    status: CallStatus = CallStatus.queued
    # What runs when the call is answered: TwiML from a URL or inline, or joining a conference
    # (a participant created through the Participants API).
    answer_url: Source | None = None
    answer_twiml: str | None = None
    joins: Participant | None = None
    status_callback: Callback | None = None
    timeout: int = 60
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    participant: Participant | None = None  # while in (or dialing into) a conference
    accepted_by: str | None = None  # the simulated device that answered
    device_muted: bool = False
    audio: Audio | None = None  # what the caller hears now, outside a live conference
    heard: deque[Audio] = field(default_factory=lambda: deque(maxlen=50))
    sequence: Iterator[int] = field(default_factory=itertools.count)
    task: asyncio.Task[None] | None = None  # ringing, or running its TwiML

    @property
    def identity(self) -> str | None:
        """The browser client this call rings (`client:<identity>`, maybe `?custom=parameters`)."""
        if not self.to.startswith("client:"):
            return None
        return self.to.removeprefix("client:").partition("?")[0]

    @property
    def party(self) -> str:
        """Who is on the far end of this leg: the caller of an inbound call, else the callee."""
        return self.from_ if self.direction == "inbound" else self.to

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

"""Conference operations: the idempotent REST requests that move participants around.

An API request runs them at once (a failure is its 502); a webhook that needs them queues them as
one durable job, run in order (un-hold before a change of end-on-exit, as Twilio requires).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from warm_transfer.telephony.gateway import TelephonyError, TelephonyGateway

OpName = Literal["update_participant", "end_call", "end_conference"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceOp:
    op: OpName
    conference_sid: str | None = None
    participant: str | None = None  # a CallSid or a participant label
    call_sid: str | None = None
    hold: bool | None = None
    hold_url: str | None = None
    end_conference_on_exit: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConferenceOp:
        return cls(**data)


def hold(conference_sid: str, participant: str, *, on: bool, hold_url: str) -> ConferenceOp:
    return ConferenceOp(
        op="update_participant",
        conference_sid=conference_sid,
        participant=participant,
        hold=on,
        hold_url=hold_url if on else None,
    )


def end_on_exit(conference_sid: str, participant: str, *, on: bool) -> ConferenceOp:
    return ConferenceOp(
        op="update_participant",
        conference_sid=conference_sid,
        participant=participant,
        end_conference_on_exit=on,
    )


def end_call(call_sid: str) -> ConferenceOp:
    return ConferenceOp(op="end_call", call_sid=call_sid)


def end_conference(conference_sid: str) -> ConferenceOp:
    return ConferenceOp(op="end_conference", conference_sid=conference_sid)


async def run_ops(gateway: TelephonyGateway, ops: list[ConferenceOp]) -> None:
    """Run in order. A 404 means the participant or call is already gone: nothing left to do."""
    for op in ops:
        try:
            await _run(gateway, op)
        except TelephonyError as exc:
            if exc.status == 404:
                continue
            raise


async def _run(gateway: TelephonyGateway, op: ConferenceOp) -> None:
    if op.op == "end_call":
        assert op.call_sid is not None  # noqa: S101 - built by end_call()
        await gateway.end_call(call_sid=op.call_sid)
        return
    assert op.conference_sid is not None  # noqa: S101 - every other op names its conference
    if op.op == "end_conference":
        await gateway.end_conference(conference_sid=op.conference_sid)
        return
    assert op.participant is not None  # noqa: S101
    await gateway.update_participant(
        conference_sid=op.conference_sid,
        participant=op.participant,
        hold=op.hold,
        hold_url=op.hold_url,
        end_conference_on_exit=op.end_conference_on_exit,
    )

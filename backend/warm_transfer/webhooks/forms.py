"""Twilio's webhook form fields as typed models (PascalCase aliases; Twilio adds fields over time,
so unknown ones are ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Counters are stored in INTEGER columns (32-bit on PostgreSQL, 64-bit on SQLite): a larger one
# is not a Twilio value, and must be a 422 rather than a database error.
INTEGER_MAX = 2**31 - 1
CALL_SID_PATTERN = r"^CA[0-9a-fA-F]{32}$"


class TwilioForm(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    account_sid: str = Field(alias="AccountSid", min_length=34, max_length=34)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # Twilio never sends one, and PostgreSQL refuses NUL in text: a 422, not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class VoiceForm(TwilioForm):
    """The number's voice webhook: a customer is calling."""

    call_sid: str = Field(alias="CallSid", pattern=CALL_SID_PATTERN)
    from_: str = Field(alias="From", max_length=64, default="")
    to: str = Field(alias="To", max_length=64, default="")
    call_status: str | None = Field(alias="CallStatus", default=None)
    direction: str | None = Field(alias="Direction", default=None)


class AgentConnectForm(TwilioForm):
    """Twilio fetching the TwiML for an agent's answered leg."""

    call_sid: str = Field(alias="CallSid", pattern=CALL_SID_PATTERN)


class CallStatusForm(TwilioForm):
    """A call progress event for one leg (`statusCallback` of a call or participant)."""

    call_sid: str = Field(alias="CallSid", pattern=CALL_SID_PATTERN)
    call_status: str = Field(alias="CallStatus", max_length=32)
    sequence_number: int | None = Field(alias="SequenceNumber", default=None, ge=0, le=INTEGER_MAX)
    call_duration: int | None = Field(alias="CallDuration", default=None, ge=0, le=INTEGER_MAX)
    timestamp: str | None = Field(alias="Timestamp", default=None, max_length=64)


class ConferenceEventForm(TwilioForm):
    """A conference status callback event."""

    conference_sid: str = Field(alias="ConferenceSid", pattern=r"^CF[0-9a-fA-F]{32}$")
    friendly_name: str = Field(alias="FriendlyName", max_length=128)
    event: str = Field(alias="StatusCallbackEvent", max_length=40)
    sequence_number: int = Field(alias="SequenceNumber", ge=0, le=INTEGER_MAX)
    timestamp: str | None = Field(alias="Timestamp", default=None, max_length=64)
    call_sid: str | None = Field(alias="CallSid", default=None, pattern=CALL_SID_PATTERN)
    hold: bool | None = Field(alias="Hold", default=None)
    muted: bool | None = Field(alias="Muted", default=None)
    end_conference_on_exit: bool | None = Field(alias="EndConferenceOnExit", default=None)
    participant_label: str | None = Field(alias="ParticipantLabel", default=None, max_length=128)
    participant_call_status: str | None = Field(
        alias="ParticipantCallStatus", default=None, max_length=32
    )
    reason_conference_ended: str | None = Field(
        alias="ReasonConferenceEnded", default=None, max_length=80
    )
    call_sid_ending_conference: str | None = Field(
        alias="CallSidEndingConference", default=None, max_length=64
    )

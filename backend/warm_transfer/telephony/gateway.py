"""The one place the app talks to Twilio's REST API (or the simulator standing in for it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.rest import Client

from warm_transfer.telephony.http_client import HttpxTwilioClient, last_retry_after

logger = logging.getLogger(__name__)

CALL_PROGRESS_EVENTS = ("initiated", "ringing", "answered", "completed")


class TelephonyError(Exception):
    """Twilio refused or could not be reached; `code` is Twilio's error code when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        safe_to_retry: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        # True only when Twilio surely did nothing (rate limited, or never reached).
        self.safe_to_retry = safe_to_retry
        # Seconds Twilio asked us to wait before trying again (a 429's Retry-After header).
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True, kw_only=True)
class DialRequest:
    """A call placed to one party; Twilio fetches `url` for TwiML when the party answers."""

    to: str
    from_: str
    url: str
    status_callback: str
    timeout: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantRequest:
    """A party dialed straight into a conference (by its friendly name) through the REST API."""

    conference: str
    to: str
    from_: str
    label: str
    status_callback: str
    timeout: int
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False


class TelephonyGateway(Protocol):
    async def create_call(self, request: DialRequest) -> str: ...

    async def add_participant(self, request: ParticipantRequest) -> str: ...

    async def update_participant(
        self,
        *,
        conference_sid: str,
        participant: str,
        hold: bool | None = None,
        hold_url: str | None = None,
        end_conference_on_exit: bool | None = None,
    ) -> None: ...

    async def end_call(self, *, call_sid: str) -> None: ...

    async def end_conference(self, *, conference_sid: str) -> None: ...


class TwilioGateway:
    """TelephonyGateway over the official SDK, its requests sent through the app's httpx client."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        http: httpx.AsyncClient,
        base_url: str,
    ) -> None:
        self._client = Client(
            username=account_sid,
            password=auth_token,
            account_sid=account_sid,
            http_client=HttpxTwilioClient(http),
            environment={},  # ignore TWILIO_EDGE / TWILIO_REGION, which would rewrite the host
        )
        # Every v2010 request (calls, conferences, participants) goes to this host.
        self._client.api.base_url = base_url.rstrip("/")
        self._account = self._client.api.v2010.accounts(account_sid)

    async def create_call(self, request: DialRequest) -> str:
        call = await self._call(
            "create call",
            self._account.calls.create_async(
                to=request.to,
                from_=request.from_,
                url=request.url,
                method="POST",
                status_callback=request.status_callback,
                status_callback_method="POST",
                status_callback_event=list(CALL_PROGRESS_EVENTS),
                timeout=request.timeout,
            ),
        )
        return str(call.sid)

    async def add_participant(self, request: ParticipantRequest) -> str:
        participant = await self._call(
            "add participant",
            self._account.conferences(request.conference).participants.create_async(
                from_=request.from_,
                to=request.to,
                label=request.label,
                timeout=request.timeout,
                status_callback=request.status_callback,
                status_callback_method="POST",
                status_callback_event=list(CALL_PROGRESS_EVENTS),
                start_conference_on_enter=request.start_conference_on_enter,
                end_conference_on_exit=request.end_conference_on_exit,
                beep="false",
            ),
        )
        return str(participant.call_sid)

    async def update_participant(
        self,
        *,
        conference_sid: str,
        participant: str,
        hold: bool | None = None,
        hold_url: str | None = None,
        end_conference_on_exit: bool | None = None,
    ) -> None:
        fields: dict[str, Any] = {}
        if hold is not None:
            fields["hold"] = hold
        if hold_url is not None:
            fields["hold_url"] = hold_url
            fields["hold_method"] = "POST"
        if end_conference_on_exit is not None:
            fields["end_conference_on_exit"] = end_conference_on_exit
        await self._call(
            "update participant",
            self._account.conferences(conference_sid)
            .participants(participant)
            .update_async(**fields),
        )

    async def end_call(self, *, call_sid: str) -> None:
        await self._call("end call", self._account.calls(call_sid).update_async(status="completed"))

    async def end_conference(self, *, conference_sid: str) -> None:
        await self._call(
            "end conference",
            self._account.conferences(conference_sid).update_async(status="completed"),
        )

    @staticmethod
    async def _call(action: str, request: Any) -> Any:
        try:
            return await request
        except TwilioRestException as exc:
            logger.warning(
                "twilio refused %s: status=%s code=%s %s", action, exc.status, exc.code, exc.msg
            )
            raise TelephonyError(
                f"Twilio refused to {action}: {exc.msg}",
                status=exc.status,
                code=exc.code,
                safe_to_retry=exc.status == 429,
                retry_after=last_retry_after() if exc.status == 429 else None,
            ) from exc
        except TwilioServiceException as exc:  # newer APIs' RFC 9457 error bodies
            logger.warning(
                "twilio refused %s: status=%s code=%s %s", action, exc.status, exc.code, exc.title
            )
            raise TelephonyError(
                f"Twilio refused to {action}: {exc.detail or exc.title}",
                status=exc.status,
                code=exc.code,
                safe_to_retry=exc.status == 429,
                retry_after=last_retry_after() if exc.status == 429 else None,
            ) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            logger.warning("twilio unreachable for %s: %s", action, exc)
            raise TelephonyError(
                f"Twilio could not be reached to {action}", safe_to_retry=True
            ) from exc
        except (httpx.HTTPError, TwilioException) as exc:
            # A timeout after the request left: Twilio may have acted, so never retry blindly.
            logger.warning("twilio failed to answer %s: %s", action, type(exc).__name__)
            raise TelephonyError(f"Twilio did not answer the request to {action}") from exc

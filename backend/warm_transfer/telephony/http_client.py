"""twilio-python's async HTTP client interface over one shared httpx.AsyncClient.

The SDK's stock async client uses aiohttp, ignores its timeout and must be closed by hand; this
one reuses the app's httpx client (timeouts set, closed in the lifespan, aiohttp's pool beneath:
`aiohttp_transport`), which the tests replace with respx.
"""

from __future__ import annotations

import logging
import math
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

logger = logging.getLogger(__name__)

# The Retry-After of the last 429 answered in this task: the SDK's exception does not keep the
# response's headers, so the gateway reads it from here (each task has its own value).
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


def last_retry_after() -> float | None:
    """Seconds to wait, as the last rate-limited answer in this task asked; None if it did not."""
    return _retry_after.get()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]  # the SDK ships no type hints
    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(logger=logger, is_async=True, timeout=None)
        self._client = client

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's interface
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._client.request(
            method,
            url,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=allow_redirects,
        )
        _retry_after.set(
            parse_retry_after(response.headers.get("Retry-After"))
            if response.status_code == 429
            else None
        )
        return Response(response.status_code, response.text, response.headers)

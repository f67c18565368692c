"""twilio-python's async HTTP client interface over one shared httpx.AsyncClient.

The SDK's stock async client uses aiohttp, ignores its timeout and must be closed by hand; this
one reuses the app's pooled httpx client (timeouts set, closed in the lifespan); respx sees it.
"""

from __future__ import annotations

import logging

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

logger = logging.getLogger(__name__)


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
        return Response(response.status_code, response.text, response.headers)

"""httpx's client API over aiohttp's connection pool, for the requests to Twilio's REST API.

httpx's own pool (httpcore) walks every pooled connection, asking each whether it expired, for
every request it starts and finishes: with the few dozen connections that 100 dials a second at
Twilio's ~300 ms keep open, the bench's dials queued for seconds behind that walk. aiohttp's
pool hands out an idle connection without it. httpx stays the interface (the gateway, respx in
the tests, the spec-checking transport of the contract tests are unchanged).

Not the `httpx-aiohttp` package: it reports a server that hung up mid-request as a connect
timeout, which the gateway reads as "nothing was sent" and would retry, possibly placing a call
twice. Here only a failure to connect is reported as one.
"""

from __future__ import annotations

import aiohttp
import httpx

# Set by aiohttp from the URL and the body; httpx's copies would be sent twice.
_AIOHTTP_SETS = {"host", "content-length", "transfer-encoding"}


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int, keepalive_expiry: float = 30.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Built on first use, inside the running event loop it belongs to.
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, keepalive_timeout=self._keepalive_expiry
        )
        # auto_decompress off: httpx decodes the body from its Content-Encoding, as usual.
        self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("pool"),  # waiting for a free connection, and connecting
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() not in _AIOHTTP_SETS
        ]
        try:
            async with session.request(
                request.method,
                str(request.url),
                data=await request.aread(),
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                content = await response.read()
        # Nothing was sent: safe to send again.
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        # The request may have reached Twilio: never reported as a connect failure.
        except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(
            response.status,
            headers=[
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.raw_headers
            ],
            content=content,
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

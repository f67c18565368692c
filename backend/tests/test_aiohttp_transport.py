"""The app's transport to Twilio (aiohttp's pool under httpx) against raw servers on loopback:
what it sends and returns, and above all how it fails. A failure to connect is the only one
reported as "nothing was sent"; a server that hangs up or goes quiet after the request left may
have acted (placed the call), and the gateway must then never retry it."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import httpx
import pytest

from tests.processes import free_port
from warm_transfer.telephony.aiohttp_transport import AiohttpTransport
from warm_transfer.telephony.gateway import DialRequest, TelephonyError, TwilioGateway

ACCOUNT_SID = "AC" + "1" * 32
Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


@asynccontextmanager
async def raw_server(behaviour: Behaviour) -> AsyncIterator[str]:
    server = await asyncio.start_server(behaviour, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


@asynccontextmanager
async def client(timeout: float = 5.0) -> AsyncIterator[httpx.AsyncClient]:
    transport = AiohttpTransport(max_connections=10)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
        yield http


async def test_a_request_and_its_answer_go_through_whole() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        body = gzip.compress(json.dumps({"sid": "CA" + "2" * 32}).encode())
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: gzip\r\nTwilio-Request-Id: RQ1\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    async with raw_server(answer) as url, client() as http:
        response = await http.post(
            url + "/Calls.json", data={"To": "client:agent1", "From": "+1555"}, auth=("u", "p")
        )

    assert response.status_code == 201
    assert response.json() == {"sid": "CA" + "2" * 32}  # decoded from gzip, once
    assert response.headers["twilio-request-id"] == "RQ1"
    [(head, body)] = seen
    assert head.startswith(b"POST /Calls.json HTTP/1.1\r\n")
    assert b"\r\nauthorization: Basic dTpw\r\n" in head  # u:p
    assert head.lower().count(b"host:") == 1 and head.lower().count(b"content-length:") == 1
    assert parse_qs(body.decode()) == {"To": ["client:agent1"], "From": ["+1555"]}


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(f"http://127.0.0.1:{free_port()}/Calls.json", data={"To": "x"})


async def test_a_server_that_hangs_up_after_the_request_is_not_a_connect_failure() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)  # the request arrived: the call may have been placed
        writer.close()

    async with raw_server(hang_up) as url, client() as http:
        with pytest.raises(httpx.TransportError) as raised:
            await http.post(url + "/Calls.json", data={"To": "x"})
    assert not isinstance(raised.value, (httpx.ConnectError, httpx.ConnectTimeout))


async def test_a_server_that_goes_quiet_is_a_read_timeout() -> None:
    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)
        writer.close()

    async with raw_server(say_nothing) as url, client(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(url + "/Calls.json", data={"To": "x"})


@pytest.mark.parametrize(
    ("behaviour", "safe"),
    [("refused", True), ("hang_up", False), ("quiet", False)],
)
async def test_the_gateway_retries_only_what_surely_did_nothing(behaviour: str, safe: bool) -> None:
    async def misbehave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if behaviour == "quiet":
            await asyncio.sleep(2)
        writer.close()

    async with raw_server(misbehave) as url, client(timeout=0.3) as http:
        base = f"http://127.0.0.1:{free_port()}" if behaviour == "refused" else url
        gateway = TwilioGateway(account_sid=ACCOUNT_SID, auth_token="t", http=http, base_url=base)
        with pytest.raises(TelephonyError) as raised:
            await gateway.create_call(
                DialRequest(
                    to="client:agent1",
                    from_="+15550001111",
                    url="https://example.test/connect",
                    status_callback="https://example.test/status",
                    timeout=20,
                )
            )
    assert raised.value.safe_to_retry is safe

"""Log set-up: readable lines in development, one JSON object per line in production.

Every line logged while handling a request carries its request id, and the CallSid and agent
id when known, so one call's or one agent's story can be followed across lines and replicas.
Secrets stay out: stream tickets are cut from access-log URLs, and the SDK's request logging
(numbers, tokens) is silenced.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
call_sid: ContextVar[str | None] = ContextVar("call_sid", default=None)
agent_id: ContextVar[str | None] = ContextVar("agent_id", default=None)

_CONTEXT = (("request_id", request_id), ("call_sid", call_sid), ("agent_id", agent_id))
_SECRET_QUERY = re.compile(r"((?:ticket|token)=)[^&\s\"]+")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT:
            setattr(record, name, var.get())
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _ in _CONTEXT:
            if value := getattr(record, name, None):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={value}" for name, _ in _CONTEXT if (value := getattr(record, name, None))
        )
        return f"{line} [{context}]" if context else line


def configure_logging(*, level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The SDK logs every request's headers and body at INFO: that would leak numbers and tokens.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Gives each request an id (the proxy's X-Request-ID when sane), echoed in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(16)
        tokens = (request_id.set(rid), call_sid.set(None), agent_id.set(None))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(tokens[0])
            call_sid.reset(tokens[1])
            agent_id.reset(tokens[2])

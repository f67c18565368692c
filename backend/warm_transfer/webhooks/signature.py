"""Every webhook proves it comes from Twilio: X-Twilio-Signature over PUBLIC_BASE_URL + path."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from warm_transfer import logging as log_context
from warm_transfer.dependencies import SettingsDep
from warm_transfer.errors import AppError, Forbidden

logger = logging.getLogger(__name__)


class InvalidSignature(Forbidden):
    code = "invalid_signature"
    description = "Missing or wrong X-Twilio-Signature"


class MalformedForm(AppError):
    status_code = 400
    code = "malformed_form"
    description = "The body is not a valid form"


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio called, as Twilio saw it (behind a proxy the app sees another host).

    The path as it was sent, percent-escapes and all (the server's `raw_path`): Twilio signs the
    URL it called, and a decoded path differs from it as soon as a segment needed escaping."""
    raw_path: bytes | None = request.scope.get("raw_path")
    path = raw_path.split(b"?", 1)[0].decode("latin-1") if raw_path else request.url.path
    query = request.url.query
    return base_url + path + (f"?{query}" if query else "")


async def read_form(request: Request) -> FormData:
    try:
        return await request.form()
    except Exception as exc:  # python-multipart raises several unrelated types
        raise MalformedForm(str(exc) or MalformedForm.description) from exc


async def verified_form(
    request: Request,
    settings: SettingsDep,
    signature: Annotated[
        str | None,
        Header(
            alias="X-Twilio-Signature",
            description="HMAC-SHA1 of the URL and the sorted form fields, keyed by the auth token.",
        ),
    ] = None,
) -> FormData:
    """The request's form, once its signature checks out (403 otherwise, before anything runs)."""
    form = await read_form(request)
    if isinstance(sid := form.get("CallSid"), str):
        log_context.call_sid.set(sid[:64])
    url = public_url(settings.public_base_url, request)
    if not signature or not RequestValidator(settings.auth_token).validate(url, form, signature):
        logger.warning(
            "rejected webhook with %s signature: %s", "a wrong" if signature else "no", url
        )
        raise InvalidSignature
    return form


VerifiedForm = Annotated[FormData, Depends(verified_form)]


def dedupe_key(request: Request, fallback: str) -> str:
    """Twilio's idempotency token when sent (the same on retries), else the event's identity."""
    token = request.headers.get("I-Twilio-Idempotency-Token")
    return f"token:{token}" if token else fallback

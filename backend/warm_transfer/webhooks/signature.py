"""Every webhook proves it comes from Twilio: X-Twilio-Signature over PUBLIC_BASE_URL + path."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, cast
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message
from twilio.request_validator import RequestValidator

from warm_transfer import logging as log_context
from warm_transfer.dependencies import SettingsDep
from warm_transfer.errors import AppError, Forbidden

logger = logging.getLogger(__name__)


class InvalidSignature(Forbidden):
    code = "invalid_signature"
    description = "Missing or wrong X-Twilio-Signature"


class FormTooLarge(AppError):
    status_code = 413
    code = "form_too_large"
    description = "The body is larger than any form Twilio sends"


class MalformedForm(AppError):
    status_code = 400
    code = "malformed_form"
    description = "The body is not a valid form"


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio called, as Twilio saw it (behind a proxy the app sees another host).

    The path and query as they were sent, percent-escapes and all (the server's `raw_path`):
    Twilio signs the URL it called, and a decoded path differs from it as soon as a segment
    needed escaping."""
    scope = request.scope
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.split(b"?", 1)[0].decode("latin-1") if raw_path else request.url.path
    query = scope.get("query_string", b"").decode("latin-1")
    return base_url + path + (f"?{query}" if query else "")


# Read straight from the request (a FastAPI header parameter costs more than the check itself);
# the webhooks' OpenAPI entries document it (`webhooks.router`).
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_PARAMETER = {
    "name": SIGNATURE_HEADER,
    "in": "header",
    "required": False,
    "description": "HMAC-SHA1 of the URL and the sorted form fields, keyed by the auth token.",
    "schema": {"type": "string", "title": SIGNATURE_HEADER},
}

# Twilio's forms are a few dozen fields, a few kilobytes: far more is not Twilio, and is refused
# before it is read into memory.
MAX_FIELDS = 1000
MAX_BODY_BYTES = 64 * 1024


async def read_form(request: Request) -> FormData:
    """The form Twilio posts, url-encoded: parsed by the standard library, which decodes exactly
    as Starlette's parser does (UTF-8, bad bytes replaced) at a fraction of its cost per field.
    Anything else goes to Starlette's parser (multipart) or yields an empty form. Either way the
    body is read, up to the limit, before any parsing."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise FormTooLarge
    body = await _read_body(request)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        try:
            return await _replaying(request, body).form()
        except Exception as exc:  # python-multipart raises several unrelated types
            raise MalformedForm(str(exc) or MalformedForm.description) from exc
    try:
        fields = parse_qsl(
            body.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except ValueError as exc:  # too many fields
        raise MalformedForm(str(exc)) from exc
    return FormData(cast(list[tuple[str, str | UploadFile]], fields))


async def _read_body(request: Request) -> bytes:
    """The body, up to the limit (a chunked body declares no length)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FormTooLarge
    return bytes(body)


def _replaying(request: Request, body: bytes) -> Request:
    """The request again, its body the one already read (and held to the limit)."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


class _ValuesByName(dict[str, list[str]]):
    """The form as the SDK's signature check reads it: each name's values through `getall` (as
    aiohttp's multidict has it). Given a FormData, the SDK asks `getlist` after an exception,
    and `getlist` scans every field for each name."""

    def getall(self, key: str) -> list[str]:
        return self[key]


def _values_by_name(form: FormData) -> _ValuesByName:
    values = _ValuesByName()
    for name, value in form.multi_items():
        values.setdefault(name, []).append(value if isinstance(value, str) else str(value))
    return values


def signature_matches(*, auth_token: str, url: str, form: FormData, signature: str) -> bool:
    """The SDK's check, with the URL as we saw it tried first: `validate` always hashes the URL
    twice (with and without a port, for Twilio's inconsistency), and one HMAC over the exact URL
    Twilio called is already proof."""
    fields = _values_by_name(form)
    validator = RequestValidator(auth_token)
    computed = validator.compute_signature(url, fields)
    return hmac.compare_digest(computed.encode(), signature.encode()) or validator.validate(
        url, fields, signature
    )


async def verified_form(request: Request, settings: SettingsDep) -> FormData:
    """The request's form, once its signature checks out (403 otherwise, before anything runs)."""
    signature = request.headers.get(SIGNATURE_HEADER)
    form = await read_form(request)
    if isinstance(sid := form.get("CallSid"), str):
        log_context.call_sid.set(sid[:64])
    url = public_url(settings.public_base_url, request)
    if not signature or not signature_matches(
        auth_token=settings.auth_token, url=url, form=form, signature=signature
    ):
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

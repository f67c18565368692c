"""One error family, rendered as one JSON shape: {"error": code, "detail": message}."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code.", examples=["not_found"])
    detail: str = Field(description="Human-readable explanation.", examples=["Call 42 not found"])


class AppError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    description: ClassVar[str] = "Unexpected server error"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.description
        self.error = code or self.code
        self.response_headers = headers or self.headers
        super().__init__(self.detail)


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    description = "Missing, invalid or expired credentials"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    description = "You may not act on this resource"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    description = "Resource not found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    description = "The request conflicts with the current state"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    description = "Too many attempts; try again later"


class UpstreamError(AppError):
    status_code = 502
    code = "twilio_error"
    description = "Twilio's API failed; nothing was changed"


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the errors a route can raise."""
    documented: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = documented.setdefault(
            error.status_code, {"model": ErrorBody, "description": error.description}
        )
        if error.description not in entry["description"]:
            entry["description"] += f"; {error.description}"
    return documented


VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "Malformed request"}
}


def _render(
    status_code: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(error=error, detail=detail).model_dump(), status_code=status_code, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return _render(exc.status_code, exc.error, exc.detail, exc.response_headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return _render(422, "validation_error", problems or "Malformed request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _render(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return _render(500, "internal_error", "Unexpected server error")

"""One error family, rendered as one JSON shape: {"error": code, "detail": message}."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field
from sqlalchemy import exc as sqlalchemy_exc
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


class DatabaseUnavailable(AppError):
    status_code = 503
    code = "database_unavailable"
    description = "The database is unavailable; try again shortly"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


# What the database failing says, by the time it reaches a route: no connection free within the
# pool's timeout, a connection lost or refused (asyncpg raises the socket's own error when it
# connects), SQLite's lock held past its busy timeout. Passing: the request may be tried again.
DATABASE_FAILURES: tuple[type[Exception], ...] = (
    sqlalchemy_exc.TimeoutError,
    sqlalchemy_exc.OperationalError,
    sqlalchemy_exc.InterfaceError,
    ConnectionRefusedError,
)


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


# For the routers whose routes use the database (all but health and config).
DATABASE_UNAVAILABLE = responses(DatabaseUnavailable)

VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "Malformed request"}
}


def _render(
    status_code: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(error=error, detail=detail).model_dump(), status_code=status_code, headers=headers
    )


def _requires_bearer(route: object) -> bool:
    """Whether a route depends on a security scheme (the bearer token), however deep."""
    dependant: Dependant | None = getattr(route, "dependant", None)
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        if isinstance(current.call, SecurityBase):
            return True
        pending.extend(current.dependencies)
    return False


async def _unauthenticated(request: Request) -> JSONResponse | None:
    """The 401 a route that requires a bearer token would answer this request, if any.

    FastAPI reads a route's body before it runs any dependency, the authentication included, so
    a body it cannot parse would be refused as malformed even when the caller is nobody: an
    anonymous client must learn that it has to log in, and nothing about the route's input."""
    if not _requires_bearer(request.scope.get("route")):
        return None
    # The route's own check, with its own rules (expiry, deleted agent, logged-out session).
    # Imported here: the agents package builds on this module.
    from warm_transfer.agents.dependencies import current_agent, oauth2_scheme

    token = await oauth2_scheme(request)
    try:
        async with request.app.state.session_factory() as session:
            await current_agent(session, request.app.state.settings, token)
    except Unauthorized as refused:
        return _render(refused.status_code, refused.error, refused.detail, refused.response_headers)
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return _render(exc.status_code, exc.error, exc.detail, exc.response_headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = any(err.get("type") == "json_invalid" for err in exc.errors())
        if unreadable and (refused := await _unauthenticated(request)) is not None:
            return refused
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return _render(422, "validation_error", problems or "Malformed request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's own 400: a body it could not even read (JSON that is not UTF-8, a garbled
            # form). Invalid JSON syntax already is a 422 (`json_invalid`), and every route
            # documents a malformed request as 422: this is one more of those.
            if (refused := await _unauthenticated(request)) is not None:
                return refused
            return _render(422, "validation_error", f"body: {exc.detail}")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _render(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The driver's own words only: SQLAlchemy's message would add the statement.
        logger.error("database unavailable: %s", getattr(exc, "orig", None) or exc)
        return await _app_error(request, DatabaseUnavailable())

    for failure in DATABASE_FAILURES:
        app.add_exception_handler(failure, _database_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return _render(500, "internal_error", "Unexpected server error")

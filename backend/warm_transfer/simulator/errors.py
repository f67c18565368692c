"""The simulator's two error shapes: Twilio's own for its REST API, the app's for the rest.

`SimulatorRoute` renders them, so the routes only raise.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel


class ErrorOut(BaseModel):
    """The app's error shape, which the simulator's own routes share (validation errors too)."""

    error: str
    detail: str


class TwilioErrorOut(BaseModel):
    """Twilio's REST error body."""

    code: int
    message: str
    more_info: str
    status: int


def documented(
    descriptions: dict[int, str], model: type[BaseModel] = ErrorOut
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=`: each status with its error body."""
    return {status: {"model": model, "description": text} for status, text in descriptions.items()}


class SimulatorError(Exception):
    """A device or customer request that cannot be done: `{"error": code, "detail": ...}`."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class TwilioApiError(Exception):
    """A REST request Twilio would refuse, answered with Twilio's error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class SimulatorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except TwilioApiError as exc:
                headers = (
                    {"WWW-Authenticate": 'Basic realm="Twilio API"'} if exc.status == 401 else None
                )
                return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
            except SimulatorError as exc:
                return JSONResponse(
                    {"error": exc.code, "detail": exc.detail}, status_code=exc.status
                )

        return handler

"""Every simulator route under `/simulator`, mounted by the app in simulated voice mode only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends

from warm_transfer.simulator import customers, device_api, rest
from warm_transfer.simulator.errors import documented


def simulator_router(*, console_auth: Callable[..., Any]) -> APIRouter:
    """`console_auth`: the dependency that lets a logged-in console start and end customer calls."""
    # The app renders a malformed request as {"error": "validation_error", "detail": ...}.
    router = APIRouter(
        prefix="/simulator",
        tags=["simulator"],
        responses=documented({422: "Malformed request"}),
    )
    router.include_router(rest.router)
    router.include_router(device_api.router)
    router.include_router(
        customers.router,
        dependencies=[Depends(console_auth)],
        responses=documented({401: "Not logged in to the console"}),
    )
    return router

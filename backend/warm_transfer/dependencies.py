"""App-wide collaborators, built once in the lifespan and read from app state.

Tests override these through `app.dependency_overrides`, never by patching module paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from warm_transfer.config import Settings
from warm_transfer.routing.jobs import JobQueue
from warm_transfer.telephony.gateway import TelephonyGateway


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> TelephonyGateway:
    gateway: TelephonyGateway = request.app.state.gateway
    return gateway


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.job_queue
    return queue


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
GatewayDep = Annotated[TelephonyGateway, Depends(get_gateway)]
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]

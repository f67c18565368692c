"""App-wide collaborators, built once in the lifespan and read from app state.

Tests override these through `app.dependency_overrides`, never by patching module paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from warm_transfer.agents.throttle import LoginThrottle
from warm_transfer.calls.inbound import InboundCalls
from warm_transfer.config import Settings
from warm_transfer.telephony.voice import Voice


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_voice(request: Request) -> Voice:
    state = request.app.state
    return Voice(gateway=state.gateway, jobs=state.job_queue, settings=state.settings)


def get_inbound_calls(request: Request) -> InboundCalls:
    inbound: InboundCalls = request.app.state.inbound_calls
    return inbound


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
VoiceDep = Annotated[Voice, Depends(get_voice)]
InboundCallsDep = Annotated[InboundCalls, Depends(get_inbound_calls)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]

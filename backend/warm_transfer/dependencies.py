"""App-wide collaborators, built once in the lifespan and read from app state.

Tests override these through `app.dependency_overrides`, never by patching module paths.
They are `async def` though they never wait: FastAPI runs a plain `def` dependency in a worker
thread, a hand-off per dependency per request that showed in the bench's profiles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from warm_transfer.agents.throttle import LoginThrottle
from warm_transfer.calls.inbound import InboundCalls
from warm_transfer.config import Settings
from warm_transfer.telephony.voice import Voice


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_voice(request: Request) -> Voice:
    voice: Voice = request.app.state.voice
    return voice


async def get_inbound_calls(request: Request) -> InboundCalls:
    inbound: InboundCalls = request.app.state.inbound_calls
    return inbound


async def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
VoiceDep = Annotated[Voice, Depends(get_voice)]
InboundCallsDep = Annotated[InboundCalls, Depends(get_inbound_calls)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]

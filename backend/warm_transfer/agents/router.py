from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from warm_transfer.agents import service
from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.agents.schemas import AgentOut, AvailabilityIn, LoginOut, VoiceTokenOut
from warm_transfer.agents.security import issue_access_token
from warm_transfer.db import SessionDep
from warm_transfer.dependencies import LoginThrottleDep, SettingsDep, VoiceDep
from warm_transfer.errors import (
    DATABASE_UNAVAILABLE,
    VALIDATION_ERROR,
    TooManyRequests,
    Unauthorized,
    responses,
)
from warm_transfer.telephony.tokens import issue_voice_token

router = APIRouter(prefix="/api", responses=DATABASE_UNAVAILABLE)
_AUTHENTICATED = responses(Unauthorized)


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Log in with an agent id and password",
    description="OAuth2 password flow (form fields `username` = agent id, `password`): the "
    "`/docs` Authorize button uses it. Answers a signed bearer token that expires. After "
    "LOGIN_RATE_LIMIT failures for one agent id or from one address, further attempts get 429 "
    "with `Retry-After` until the window has passed.",
    response_model=LoginOut,
    responses={**responses(service.InvalidCredentials, TooManyRequests), **VALIDATION_ERROR},
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
) -> LoginOut:
    client = request.client.host if request.client else "unknown"
    await throttle.check(agent_id=form.username, client=client)
    try:
        agent = await service.authenticate(session, agent_id=form.username, password=form.password)
    except service.InvalidCredentials:
        await throttle.failed(agent_id=form.username, client=client)
        raise
    await throttle.succeeded(agent_id=agent.id)
    token = issue_access_token(
        agent_id=agent.id,
        session_version=agent.session_version,
        secret_key=settings.secret_key.get_secret_value(),
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return LoginOut(
        access_token=token.token,
        expires_at=token.expires_at,
        agent=await service.describe(
            session, agent=agent, grace_seconds=settings.presence_grace_seconds
        ),
    )


@router.post(
    "/auth/logout",
    tags=["auth"],
    summary="Log out everywhere",
    description="Voids every access token issued to the agent so far (on every device); a "
    "token captured earlier is refused from now on. Log in again for a new one.",
    status_code=204,
    responses=_AUTHENTICATED,
)
async def logout(agent: CurrentAgent) -> None:
    service.log_out(agent=agent)


@router.get(
    "/me",
    tags=["agents"],
    summary="The logged-in agent",
    response_model=AgentOut,
    responses=_AUTHENTICATED,
)
async def me(agent: CurrentAgent, session: SessionDep, settings: SettingsDep) -> AgentOut:
    return await service.describe(
        session, agent=agent, grace_seconds=settings.presence_grace_seconds
    )


@router.post(
    "/voice/token",
    tags=["agents"],
    summary="A Twilio Voice access token for the logged-in agent's softphone",
    description="Always for the caller's own identity (`client:<agent id>`); incoming calls "
    "allowed, outgoing through the TwiML app when one is configured.",
    response_model=VoiceTokenOut,
    responses=_AUTHENTICATED,
)
async def voice_token(agent: CurrentAgent, settings: SettingsDep) -> VoiceTokenOut:
    token = issue_voice_token(
        account_sid=settings.account_sid,
        api_key=settings.api_key,
        api_secret=settings.api_secret,
        identity=agent.id,
        ttl_seconds=settings.voice_token_ttl_seconds,
        outgoing_application_sid=settings.twilio_twiml_app_sid,
    )
    return VoiceTokenOut(token=token.token, identity=token.identity, expires_at=token.expires_at)


@router.get(
    "/agents",
    tags=["agents"],
    summary="The directory: every agent with presence",
    description="`presence` is `busy` on a call, `offline` when the agent's console has had no "
    "event stream for PRESENCE_GRACE_SECONDS, else their availability. Only `available` agents "
    "can be offered calls or transfers.",
    response_model=list[AgentOut],
    responses=_AUTHENTICATED,
)
async def directory(
    _agent: CurrentAgent, session: SessionDep, settings: SettingsDep
) -> list[dict[str, Any]]:
    return await service.directory(session, grace_seconds=settings.presence_grace_seconds)


@router.put(
    "/agents/me/availability",
    tags=["agents"],
    summary="Go available or away",
    description="Going available makes the agent eligible for new calls: the longest-waiting "
    "call, if any, is offered at once.",
    response_model=AgentOut,
    responses={**_AUTHENTICATED, **VALIDATION_ERROR},
)
async def set_availability(
    body: AvailabilityIn, agent: CurrentAgent, session: SessionDep, voice: VoiceDep
) -> AgentOut:
    return await service.set_availability(
        session, agent=agent, availability=body.availability, voice=voice
    )

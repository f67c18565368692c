from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from warm_transfer import logging as log_context
from warm_transfer.agents import repository
from warm_transfer.agents.models import Agent
from warm_transfer.agents.security import read_access_token
from warm_transfer.db import SessionDep
from warm_transfer.dependencies import SettingsDep
from warm_transfer.errors import Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


async def current_agent(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Agent:
    if not token:
        raise Unauthorized("Log in and send the token as 'Authorization: Bearer <token>'")
    subject = read_access_token(token, secret_key=settings.secret_key.get_secret_value())
    if subject is None:
        raise Unauthorized("The token is invalid or has expired; log in again")
    agent = await repository.get(session, subject.agent_id)
    if agent is None:
        raise Unauthorized("The agent this token was issued to no longer exists")
    if subject.session_version != agent.session_version:
        raise Unauthorized("This session was logged out; log in again")
    log_context.agent_id.set(agent.id)
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]

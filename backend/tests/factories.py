"""Agents made straight in the database, and logged in through the API."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from warm_transfer.agents import service
from warm_transfer.agents.models import Availability
from warm_transfer.db import utcnow


@dataclass
class AgentFactory:
    app: FastAPI
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    async def create(
        self,
        agent_id: str,
        *,
        password: str = "correct-horse-battery",
        availability: Availability = Availability.available,
        online: bool = True,
    ) -> str:
        """An agent; `online` as if their console's event stream were open."""
        async with self.app.state.session_factory() as session, session.begin():
            agent = await service.create_agent(
                session,
                agent_id=agent_id,
                name=agent_id.title(),
                password=password,
                availability=availability,
            )
            agent.last_seen_at = utcnow() if online else None
        return agent_id

    async def login(self, agent_id: str, password: str = "correct-horse-battery") -> str:
        response = await self.client.post(
            "/api/auth/login", data={"username": agent_id, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        self.tokens[agent_id] = token
        return token

    async def headers(self, agent_id: str) -> dict[str, str]:
        token = self.tokens.get(agent_id) or await self.login(agent_id)
        return {"Authorization": f"Bearer {token}"}

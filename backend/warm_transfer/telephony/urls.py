"""Webhook paths, and the absolute URLs Twilio is told to call back on.

The routers mount these paths and the services hand the URLs to Twilio, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

VOICE_PATH = "/conference/connect/client"
WAIT_PATH = "/conference/wait"
HOLD_PATH = "/conference/hold"
AGENT_CONNECT_PATH = "/conference/connect/{conference_id}/{agent_id}"
CONFERENCE_STATUS_PATH = "/conference/status"
LEG_STATUS_PATH = "/conference/legs/{leg_id}/status"


@dataclass(frozen=True, slots=True)
class CallbackUrls:
    base_url: str  # PUBLIC_BASE_URL, without a trailing slash

    def voice(self) -> str:
        return self.base_url + VOICE_PATH

    def wait(self) -> str:
        return self.base_url + WAIT_PATH

    def hold(self) -> str:
        return self.base_url + HOLD_PATH

    def conference_status(self) -> str:
        return self.base_url + CONFERENCE_STATUS_PATH

    def agent_connect(self, *, conference_id: str, agent_id: str) -> str:
        return self.base_url + AGENT_CONNECT_PATH.format(
            conference_id=quote(conference_id, safe=""), agent_id=quote(agent_id, safe="")
        )

    def leg_status(self, *, leg_id: int) -> str:
        return self.base_url + LEG_STATUS_PATH.format(leg_id=leg_id)

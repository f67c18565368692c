"""Simulated browser softphones: registered by Voice access token, each with its own event queue.

A device lives while its event stream is open. Several devices (tabs) of one identity all ring.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt


class InvalidVoiceToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class VoiceGrant:
    identity: str
    expires_at: datetime


def read_voice_token(token: str, *, account_sid: str, api_key: str, api_secret: str) -> VoiceGrant:
    """What Twilio checks on `Device.register()`: our API key signed it, for our account, with
    an identity allowed incoming calls, and it has not expired."""
    try:
        claims = jwt.decode(
            token,
            api_secret,
            algorithms=["HS256"],
            issuer=api_key,
            options={"require": ["exp", "iss", "sub", "grants"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidVoiceToken(f"invalid Voice access token: {exc}") from exc
    grants = claims["grants"]
    identity = grants.get("identity") if isinstance(grants, dict) else None
    voice = grants.get("voice") if isinstance(grants, dict) else None
    if claims["sub"] != account_sid:
        raise InvalidVoiceToken("the token is for another account")
    if not isinstance(identity, str) or not identity:
        raise InvalidVoiceToken("the token has no identity")
    if not isinstance(voice, dict) or not voice.get("incoming", {}).get("allow"):
        raise InvalidVoiceToken("the token does not allow incoming calls")
    return VoiceGrant(identity=identity, expires_at=datetime.fromtimestamp(claims["exp"], UTC))


@dataclass(eq=False)
class Device:
    identity: str
    expires_at: datetime
    id: str = field(default_factory=lambda: "DV" + secrets.token_hex(16))
    events: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=asyncio.Queue)


class DeviceHub:
    def __init__(self) -> None:
        self._devices: dict[str, Device] = {}

    def register(self, grant: VoiceGrant) -> Device:
        device = Device(identity=grant.identity, expires_at=grant.expires_at)
        self._devices[device.id] = device
        return device

    def unregister(self, device: Device) -> bool:
        """False when it was already gone."""
        return self._devices.pop(device.id, None) is not None

    def get(self, device_id: str | None) -> Device | None:
        return self._devices.get(device_id) if device_id else None

    def of(self, identity: str) -> list[Device]:
        return [device for device in self._devices.values() if device.identity == identity]

    def send(self, device: Device, event: str, data: dict[str, Any]) -> None:
        device.events.put_nowait((event, data))

    def broadcast(
        self, identity: str, event: str, data: dict[str, Any], *, skip: str | None = None
    ) -> None:
        for device in self.of(identity):
            if device.id != skip:
                self.send(device, event, data)

"""Twilio Voice access tokens for the browser softphone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant


@dataclass(frozen=True, slots=True)
class VoiceToken:
    token: str
    identity: str
    expires_at: datetime


def issue_voice_token(
    *,
    account_sid: str,
    api_key: str,
    api_secret: str,
    identity: str,
    ttl_seconds: int,
    outgoing_application_sid: str | None = None,
    now: datetime | None = None,
) -> VoiceToken:
    expires = int((now or datetime.now(UTC)).timestamp()) + ttl_seconds
    token = AccessToken(
        account_sid, api_key, api_secret, identity=identity, ttl=ttl_seconds, valid_until=expires
    )
    token.add_grant(
        VoiceGrant(incoming_allow=True, outgoing_application_sid=outgoing_application_sid)
    )
    jwt = token.to_jwt()
    return VoiceToken(
        token=jwt if isinstance(jwt, str) else jwt.decode(),
        identity=identity,
        expires_at=datetime.fromtimestamp(expires, UTC),
    )

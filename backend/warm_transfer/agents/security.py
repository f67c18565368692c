"""Password hashing and the signed, expiring bearer tokens agents log in with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()  # Argon2id
_ALGORITHM = "HS256"
_AUDIENCE = "warm-transfer-console"
_STREAM_AUDIENCE = "warm-transfer-events"
STREAM_TICKET_TTL_SECONDS = 60


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


# Compared against when the agent is unknown, so a login takes as long either way.
_DUMMY_HASH = hash_password("timing-equaliser")


def verify_unknown_agent_password(password: str) -> bool:
    _hasher.verify(password, _DUMMY_HASH)
    return False


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


def issue_access_token(
    *,
    agent_id: str,
    secret_key: str,
    ttl_seconds: int,
    session_version: int = 0,
    now: datetime | None = None,
    audience: str = _AUDIENCE,
) -> AccessToken:
    """`session_version` is the agent's at login: logging out bumps it, voiding older tokens."""
    issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
    expires_at = issued_at + timedelta(seconds=ttl_seconds)
    claims = {
        "sub": agent_id,
        "ver": session_version,
        "aud": audience,
        "iat": issued_at,
        "exp": expires_at,
    }
    return AccessToken(jwt.encode(claims, secret_key, algorithm=_ALGORITHM), expires_at)


def issue_stream_ticket(*, agent_id: str, secret_key: str) -> AccessToken:
    """A short-lived ticket for the event stream URL (EventSource cannot send headers): unlike
    the login token, one that leaks through a log is useless within a minute, and only there."""
    return issue_access_token(
        agent_id=agent_id,
        secret_key=secret_key,
        ttl_seconds=STREAM_TICKET_TTL_SECONDS,
        audience=_STREAM_AUDIENCE,
    )


def read_stream_ticket(ticket: str, *, secret_key: str) -> str | None:
    subject = read_access_token(ticket, secret_key=secret_key, audience=_STREAM_AUDIENCE)
    return subject.agent_id if subject else None


@dataclass(frozen=True, slots=True)
class TokenSubject:
    agent_id: str
    session_version: int


def read_access_token(
    token: str, *, secret_key: str, audience: str = _AUDIENCE
) -> TokenSubject | None:
    """Who a valid token was issued to, or None for a forged, expired or garbled one."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[_ALGORITHM],
            audience=audience,
            options={"require": ["sub", "exp", "iat", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    subject, version = claims.get("sub"), claims.get("ver", 0)
    if not isinstance(subject, str) or type(version) is not int:
        return None
    return TokenSubject(subject, version)

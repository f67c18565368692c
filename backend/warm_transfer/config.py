"""Typed settings from the environment (and `.env`), with production safety checks."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from warm_transfer.db import DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT

BACKEND_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BACKEND_DIR / "data"
DEV_SECRET_KEY = "dev-only-secret-key-change-me-in-production"  # noqa: S105 - refused in production
TWILIO_API_BASE_URL = "https://api.twilio.com"
# Stand-ins for the simulator, which needs an account SID and a signing key of its own.
SIMULATED_ACCOUNT_SID = "AC" + "0" * 32
SIMULATED_API_KEY = "SK" + "0" * 32


class AppEnv(StrEnum):
    development = "development"
    production = "production"


class VoiceMode(StrEnum):
    twilio = "twilio"
    simulated = "simulated"


class Settings(BaseSettings):
    # The repository's .env, then one where the server runs (which wins); real env vars beat both.
    model_config = SettingsConfigDict(
        env_file=(BACKEND_DIR.parent / ".env", ".env"), env_file_encoding="utf-8", extra="ignore"
    )

    app_env: AppEnv = AppEnv.development
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'warm_transfer.db'}"
    # PostgreSQL connections each process keeps open (SQLite: one writer, always).
    database_pool_size: int = Field(default=DEFAULT_POOL_SIZE, ge=1, le=100)
    # Seconds a request waits for a database connection (on SQLite, also for another process's
    # write lock) before it is answered 503.
    database_pool_timeout_seconds: float = Field(default=DEFAULT_POOL_TIMEOUT, gt=0, le=60)
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    access_token_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 24 * 3600)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_key: str | None = None
    twilio_api_secret: SecretStr | None = None
    twilio_number: str | None = None
    twilio_twiml_app_sid: str | None = None
    twilio_api_base_url: str = TWILIO_API_BASE_URL
    twilio_http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    voice_mode: VoiceMode | None = None
    agent_ring_timeout: int = Field(default=20, ge=5, le=600)
    voice_token_ttl_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    # An agent whose console has had no event stream this long shows as offline and gets no calls.
    presence_grace_seconds: int = Field(default=45, ge=5, le=3600)
    # Outside numbers agents may transfer calls to: E.164 prefixes ("+4420") or "*" for any.
    transfer_allowed_numbers: list[str] = []
    hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    cors_origins: list[str] = []
    # Failed logins allowed per agent id and per client address, in a moving window.
    login_rate_limit: str = "10/minute"
    log_level: str = "INFO"

    @field_validator("login_rate_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # "10/minute", "5 per 30 seconds"; raises ValueError otherwise
        return value

    @model_validator(mode="after")
    def _resolve_voice_mode(self) -> Self:
        self.public_base_url = self.public_base_url.rstrip("/")
        if self.voice_mode is None:
            self.voice_mode = (
                VoiceMode.twilio
                if self.has_twilio_credentials
                else (
                    VoiceMode.simulated if self.app_env is AppEnv.development else VoiceMode.twilio
                )
            )
        if self.app_env is AppEnv.production:
            self._enforce_production_safety()
        elif self.voice_mode is VoiceMode.twilio and not self.has_twilio_credentials:
            raise ValueError(
                "VOICE_MODE=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY, "
                "TWILIO_API_SECRET and TWILIO_NUMBER"
            )
        return self

    def _enforce_production_safety(self) -> None:
        problems = []
        if (
            self.secret_key.get_secret_value() == DEV_SECRET_KEY
            or len(self.secret_key.get_secret_value()) < 32
        ):
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.voice_mode is not VoiceMode.twilio:
            problems.append("VOICE_MODE must be 'twilio' (the simulator is for development only)")
        if not self.has_twilio_credentials:
            problems.append(
                "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY, TWILIO_API_SECRET and "
                "TWILIO_NUMBER are required"
            )
        if not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be the https:// address Twilio reaches")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))

    @property
    def has_twilio_credentials(self) -> bool:
        return all(
            (
                self.twilio_account_sid,
                self.twilio_auth_token,
                self.twilio_api_key,
                self.twilio_api_secret,
                self.twilio_number,
            )
        )

    @property
    def is_simulated(self) -> bool:
        return self.voice_mode is VoiceMode.simulated

    @property
    def account_sid(self) -> str:
        return self.twilio_account_sid or SIMULATED_ACCOUNT_SID

    @property
    def auth_token(self) -> str:
        """The key Twilio (or the simulator) signs webhooks with."""
        if self.twilio_auth_token is not None:
            return self.twilio_auth_token.get_secret_value()
        return self._derived_secret("simulator-auth-token")

    @property
    def api_key(self) -> str:
        return self.twilio_api_key or SIMULATED_API_KEY

    @property
    def api_secret(self) -> str:
        if self.twilio_api_secret is not None:
            return self.twilio_api_secret.get_secret_value()
        return self._derived_secret("simulator-api-secret")

    @property
    def caller_id(self) -> str:
        return self.twilio_number or "+15005550006"

    def _derived_secret(self, purpose: str) -> str:
        # Simulated mode only: stable per SECRET_KEY, never a constant shared by every install.
        key = self.secret_key.get_secret_value().encode()
        return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache
def get_settings() -> Settings:
    return Settings()

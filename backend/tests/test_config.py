"""Settings: defaults that run out of the box, and a production that refuses unsafe ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings
from warm_transfer.config import DEV_SECRET_KEY, AppEnv, Settings, VoiceMode

PRODUCTION = {
    "app_env": AppEnv.production,
    "public_base_url": "https://support.example.com",
    "secret_key": "a-long-random-production-secret-0123456789",
}


def test_development_without_credentials_is_simulated() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.voice_mode is VoiceMode.simulated
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.agent_ring_timeout == 20
    assert settings.public_base_url == "http://127.0.0.1:8000"


def test_credentials_select_twilio_mode(tmp_path: Path) -> None:
    assert make_settings(tmp_path, voice_mode=None).voice_mode is VoiceMode.twilio


def test_twilio_mode_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="TWILIO_ACCOUNT_SID"):
        Settings(_env_file=None, voice_mode=VoiceMode.twilio)  # type: ignore[call-arg]


def test_a_safe_production_configuration_starts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, **PRODUCTION)
    assert settings.voice_mode is VoiceMode.twilio


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"secret_key": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"voice_mode": VoiceMode.simulated}, "VOICE_MODE"),
        ({"twilio_auth_token": None}, "TWILIO_AUTH_TOKEN"),
        ({"public_base_url": "http://support.example.com"}, "PUBLIC_BASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings(
    tmp_path: Path, override: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        make_settings(tmp_path, **{**PRODUCTION, **override})


def test_secrets_never_show_in_reprs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    text = repr(settings) + str(settings.model_dump())
    assert "test-auth-token" not in text
    assert "test-secret-key" not in text


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_RING_TIMEOUT", "35")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://abc.ngrok.app/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.agent_ring_timeout == 35
    assert settings.public_base_url == "https://abc.ngrok.app"

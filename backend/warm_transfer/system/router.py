"""Public endpoints: what the console needs before login, and the health probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from warm_transfer import __version__
from warm_transfer.config import AppEnv, VoiceMode
from warm_transfer.dependencies import SettingsDep
from warm_transfer.errors import ErrorBody

router = APIRouter()


class ConfigOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "voice_mode": "simulated",
                    "app_env": "development",
                    "version": "0.1.0",
                    "transfer_to_numbers": False,
                }
            ]
        }
    )

    voice_mode: VoiceMode = Field(description="`simulated` drives the built-in Twilio simulator.")
    app_env: AppEnv
    version: str
    transfer_to_numbers: bool = Field(
        description="Whether agents may transfer calls to outside numbers (some are allowed)."
    )


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])


@router.get("/api/config", tags=["system"], summary="Public configuration for the console")
async def config(settings: SettingsDep) -> ConfigOut:
    assert settings.voice_mode is not None  # noqa: S101 - resolved by Settings' validator
    return ConfigOut(
        voice_mode=settings.voice_mode,
        app_env=settings.app_env,
        version=__version__,
        transfer_to_numbers=bool(settings.transfer_allowed_numbers),
    )


@router.get("/healthz", tags=["system"], summary="Liveness: the process answers")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    tags=["system"],
    summary="Readiness: the database answers",
    response_model=HealthOut,
    responses={503: {"model": ErrorBody, "description": "The database is unreachable"}},
)
async def readyz(request: Request) -> HealthOut | JSONResponse:
    try:
        async with request.app.state.session_factory() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(
            ErrorBody(error="not_ready", detail="The database is unreachable").model_dump(),
            status_code=503,
        )
    return HealthOut(status="ok")

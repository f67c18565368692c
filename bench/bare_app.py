"""The ceiling: a bare FastAPI endpoint at the voice webhook's path answering a fixed TwiML string
(no form parsing, no signature check, no database), served the same way (uvicorn, one worker)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference '
    'startConferenceOnEnter="false" endConferenceOnExit="true" '
    'waitUrl="https://bench.invalid/conference/wait">CA00000000000000000000000000000000'
    "</Conference></Dial></Response>"
)


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/conference/connect/client")
    async def voice() -> Response:
        return Response(content=TWIML, media_type="application/xml")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

"""What call handling needs besides the database: Twilio now, Twilio later, callback URLs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from warm_transfer.config import Settings
from warm_transfer.errors import UpstreamError
from warm_transfer.jobs.queue import JobQueue
from warm_transfer.telephony.gateway import TelephonyError, TelephonyGateway
from warm_transfer.telephony.ops import ConferenceOp, run_ops
from warm_transfer.telephony.urls import CallbackUrls

CONFERENCE_OPS = "conference_ops"


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    gateway: TelephonyGateway
    jobs: JobQueue
    settings: Settings

    @property
    def urls(self) -> CallbackUrls:
        return CallbackUrls(self.settings.public_base_url)

    async def now(self, ops: list[ConferenceOp]) -> None:
        """For an API request: run the ops before answering; a failure is the request's 502."""
        try:
            await run_ops(self.gateway, ops)
        except TelephonyError as exc:
            raise UpstreamError(str(exc)) from exc

    async def now_or_never(self, ops: list[ConferenceOp]) -> None:
        """Undo after a failure: worth a try, and nothing to report if it fails too."""
        try:
            await run_ops(self.gateway, ops)
        except TelephonyError:
            return

    def later(self, session: AsyncSession, ops: list[ConferenceOp]) -> None:
        """For a webhook: queue the ops as one durable job, sent in order once this commits."""
        if ops:
            self.jobs.enqueue(
                session, kind=CONFERENCE_OPS, payload={"ops": [op.to_dict() for op in ops]}
            )

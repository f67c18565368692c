"""Offers waiting calls to free agents, off the voice webhook's path.

The webhook only records the call (the queue is the database) and wakes the dispatcher, so the
customer's TwiML never waits for routing. A pass also runs when the process starts, for calls
recorded before a crash. Nothing polls: a call that still waits is offered when an agent frees
up (routing.service), and one whose dial just failed waits for its ring-out (routing.handlers)
instead of ringing the same agent again every second.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from warm_transfer.routing.service import offer_waiting_calls
from warm_transfer.telephony.voice import Voice

logger = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        voice: Voice,
        retry_interval: float = 1.0,
    ) -> None:
        self._sessions = session_factory
        self._voice = voice
        self._retry_interval = retry_interval
        self._wake = asyncio.Event()
        self._wake.set()  # the pass at start-up

    def wake(self) -> None:
        self._wake.set()

    async def run_pending(self) -> int:
        """One pass if woken since the last (what `run` does; tests call it to step through)."""
        if not self._wake.is_set():
            return 0
        self._wake.clear()  # calls recorded from here on are seen by this pass or the next
        try:
            async with self._sessions() as session, session.begin():
                return await offer_waiting_calls(session, voice=self._voice)
        except BaseException:
            self._wake.set()  # not done: try again
            raise

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            try:
                await self.run_pending()
            except Exception:
                logger.exception("offering waiting calls failed; retrying")
                await asyncio.sleep(self._retry_interval)

"""Login throttling: failed attempts are counted per agent id and per client address.

Only failures count, so a whole office behind one NAT address can still log in at nine; a
password guesser is stopped after LOGIN_RATE_LIMIT failures, whether it tries many passwords on
one agent or one password on many agents. Counts live in this process (each replica keeps its
own), in a moving window from the `limits` library.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from warm_transfer.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, limit: str) -> None:
        self._limit: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def _keys(self, agent_id: str, client: str) -> tuple[tuple[str, str], ...]:
        return (("agent", agent_id.strip().casefold()), ("client", client))

    async def check(self, *, agent_id: str, client: str) -> None:
        """Raises TooManyRequests, with the seconds to wait, while either count is spent."""
        for key in self._keys(agent_id, client):
            if not await self._limiter.test(self._limit, *key):
                stats = await self._limiter.get_window_stats(self._limit, *key)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    f"Too many failed logins; try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )

    async def failed(self, *, agent_id: str, client: str) -> None:
        for key in self._keys(agent_id, client):
            await self._limiter.hit(self._limit, *key)

    async def succeeded(self, *, agent_id: str) -> None:
        """The right password clears the agent's count (not the address's: a guesser who knows
        one password must not reset its budget for the others)."""
        await self._limiter.clear(self._limit, "agent", agent_id.strip().casefold())

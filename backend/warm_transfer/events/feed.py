"""One reader for every open event stream.

Each batch of committed changes is read once (the changed calls, the queue, the directory),
serialized once, and handed to every stream, which keeps the events for its agent. Of the
directory, streams get only the agents whose entries changed since the read before: with a
thousand agents, a presence change is one entry, not a thousand, to every console. With a
hundred consoles open, a webhook costs one snapshot read, not a hundred; changes that arrive
while a read is under way are merged into the next one. A changed call is read only when an
agent with a leg on it has a stream open: under a burst of customers, most calls just queue,
concern no agent yet, and reach consoles only in the queue's event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi.sse import ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from warm_transfer.agents import service as agents
from warm_transfer.calls import repository as calls
from warm_transfer.events import service
from warm_transfer.events.bus import Changes, EventBus, Fanout

logger = logging.getLogger(__name__)

# Under a burst of commits, at most one read per this many seconds (the first change after a
# quiet spell is read at once): consoles hear of a change a little later, the server does not
# spend its time re-reading the queue and directory for every commit.
MIN_READ_INTERVAL = 0.2


@dataclass(frozen=True, slots=True)
class AgentCall:
    """A changed call, as an event, with the agents it concerns (those with a leg on it)."""

    agent_ids: frozenset[str]
    event: ServerSentEvent


class DirectoryRead:
    """The directory as one of the feed's reads found it. A stream that has shown the read
    before (`since`) gets just the agents whose entries changed (nothing if none did); any
    other stream the whole directory, serialized only when one asks."""

    def __init__(
        self, *, version: int, listing: list[dict[str, Any]], before: DirectoryRead | None
    ) -> None:
        self.version = version  # the feed's read number
        self.entries = {entry["id"]: entry for entry in listing}
        self._listing = listing
        self._whole: ServerSentEvent | None = None
        self.since: int | None = None
        self.changed: ServerSentEvent | None = None
        # An agent gone from the directory is no change an `agents` event can say: the whole.
        if before is not None and before.entries.keys() <= self.entries.keys():
            self.since = before.version
            changed = [entry for entry in listing if before.entries.get(entry["id"]) != entry]
            if changed:
                self.changed = service.agents_event(changed)

    @property
    def whole(self) -> ServerSentEvent:
        if self._whole is None:
            self._whole = service.directory_event(self._listing)
        return self._whole

    def event_after(self, shown: int | None) -> ServerSentEvent | None:
        """What a stream that has shown the directory of the feed's read `shown` needs."""
        if shown is not None and shown == self.since:
            return self.changed
        return self.whole


@dataclass(frozen=True, slots=True)
class Update:
    read_at: float  # time.monotonic() when the read began: older than a stream's own read?
    calls: tuple[AgentCall, ...] = ()
    queue: ServerSentEvent | None = None
    directory: DirectoryRead | None = None
    resync: bool = False  # something was missed: the stream re-reads all it shows

    def events_for(self, agent_id: str, *, directory_shown: int | None) -> list[ServerSentEvent]:
        """The events for a stream of `agent_id`'s that has shown the directory of the feed's
        read `directory_shown` (None: one of its own)."""
        events = [call.event for call in self.calls if agent_id in call.agent_ids]
        if self.queue is not None:
            events.append(self.queue)
        if self.directory is not None and (
            directory := self.directory.event_after(directory_shown)
        ):
            events.append(directory)
        return events


class SnapshotFeed(Fanout[Update]):
    def __init__(
        self,
        *,
        bus: EventBus,
        sessions: async_sessionmaker[AsyncSession],
        grace_seconds: int,
        min_read_interval: float = MIN_READ_INTERVAL,
    ) -> None:
        # A stream this far behind starts over from a fresh read of its own.
        super().__init__(
            overflowed=lambda backlog: Update(read_at=backlog[-1].read_at, resync=True)
        )
        self._bus = bus
        self._min_read_interval = min_read_interval
        self._sessions = sessions
        self._grace_seconds = grace_seconds
        self.reads = 0  # snapshot reads so far: one per batch of changes, however many streams
        self._watching: Counter[str] = Counter()  # agents with a stream open: how many each
        self._directory: DirectoryRead | None = None  # the last read's, for the next to compare

    @contextlib.asynccontextmanager
    async def watch(self, agent_id: str) -> AsyncIterator[asyncio.Queue[Update]]:
        """An inbox of updates for a stream of `agent_id`'s events."""
        self._watching[agent_id] += 1
        try:
            async with self.subscribe() as inbox:
                yield inbox
        finally:
            self._watching[agent_id] -= 1
            if not self._watching[agent_id]:
                del self._watching[agent_id]

    async def run(self) -> None:
        last_read = -math.inf
        async with self._bus.subscribe() as changes_inbox:
            while True:
                changes = await changes_inbox.get()
                if not self.subscribers:
                    continue  # nobody is watching: nothing to read
                await asyncio.sleep(last_read + self._min_read_interval - time.monotonic())
                while not changes_inbox.empty():
                    changes = changes | changes_inbox.get_nowait()
                # A stream opened from here on reads a snapshot of its own, later than this
                # read, and skips it: the agents watching now are all this read is for.
                read_at = last_read = time.monotonic()
                watching = frozenset(self._watching)
                self.reads += 1
                try:
                    update = await self._read(changes, read_at=read_at, watching=watching)
                except Exception:
                    logger.exception("reading changes for the event streams failed")
                    update = Update(read_at=read_at, resync=True)
                self.publish(update)

    async def _read(self, changes: Changes, *, read_at: float, watching: frozenset[str]) -> Update:
        if changes.resync:
            return Update(read_at=read_at, resync=True)
        async with self._sessions() as session:
            changed_calls: tuple[AgentCall, ...] = ()
            queue = directory = None
            if changes.calls:
                watched = await calls.involving_any(session, list(changes.calls), watching)
                rows = await calls.with_details(session, watched) if watched else ()
                changed_calls = tuple(
                    AgentCall(
                        frozenset(leg.agent_id for leg in call.legs if leg.agent_id is not None),
                        service.call_event(call),
                    )
                    for call in rows
                )
                queue = await service.queue(session)
            if changes.agents:
                listing = await agents.directory(session, grace_seconds=self._grace_seconds)
                directory = self._directory = DirectoryRead(
                    version=self.reads, listing=listing, before=self._directory
                )
        return Update(read_at=read_at, calls=changed_calls, queue=queue, directory=directory)

"""Committed changes, fanned out to the agents' event streams.

Nobody has to remember to publish: the bus watches the app's sessions, notes which calls and
whether agents changed in each flush, and publishes once the transaction commits (a rolled-back
change is never announced). Notices carry ids only; the snapshot feed reads what they name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from warm_transfer.agents.models import Agent
from warm_transfer.calls.models import Call, CallLeg
from warm_transfer.transfers.models import Transfer

logger = logging.getLogger(__name__)

_PENDING = "pending_changes"
INBOX_SIZE = 256


@dataclass(frozen=True, slots=True)
class Changes:
    calls: frozenset[int] = frozenset()
    agents: bool = False
    resync: bool = False  # notices were lost: whoever shows anything re-reads all of it

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            calls=self.calls | other.calls,
            agents=self.agents or other.agents,
            resync=self.resync or other.resync,
        )

    def __bool__(self) -> bool:
        return bool(self.calls) or self.agents or self.resync


RESYNC = Changes(agents=True, resync=True)


@dataclass
class _Collected:
    calls: set[int] = field(default_factory=set)
    agents: bool = False


T = TypeVar("T")


class Fanout(Generic[T]):
    """Every published item to every subscriber's bounded inbox; an inbox that fills up (a
    subscriber this far behind) is emptied and given `overflowed(items)`, one item standing
    for all it held and the new one."""

    def __init__(self, *, overflowed: Callable[[list[T]], T]) -> None:
        self._inboxes: set[asyncio.Queue[T]] = set()
        self._overflowed = overflowed

    def publish(self, item: T) -> None:
        for inbox in list(self._inboxes):
            try:
                inbox.put_nowait(item)
            except asyncio.QueueFull:
                held = [inbox.get_nowait() for _ in range(inbox.qsize())]
                inbox.put_nowait(self._overflowed([*held, item]))

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[T]]:
        inbox: asyncio.Queue[T] = asyncio.Queue(maxsize=INBOX_SIZE)
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    @property
    def subscribers(self) -> int:
        return len(self._inboxes)


class EventBus(Fanout[Changes]):
    """Local fan-out. With a `relay` (several replicas), committed changes go out through it
    and come back, from every replica, to `publish`."""

    def __init__(self) -> None:
        # Notices name what changed, so a backlog folds into one that names it all: a reader
        # behind under a burst of commits reads everything once, instead of every stream
        # starting over (which made the burst worse).
        super().__init__(overflowed=lambda backlog: reduce(operator.or_, backlog))
        self.relay: Callable[[Changes], None] | None = None

    def watch(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        session_class: type[Session] = sessions.kw["sync_session_class"]
        event.listen(session_class, "after_flush", _collect)
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", _forget)

    def _after_commit(self, session: Session) -> None:
        collected: _Collected | None = session.info.pop(_PENDING, None)
        if collected is not None and (collected.calls or collected.agents):
            changes = Changes(calls=frozenset(collected.calls), agents=collected.agents)
            (self.relay or self.publish)(changes)


def note_changes(session: AsyncSession, *, calls: Iterable[int], agents: bool = False) -> None:
    """Changes the ORM does not see (Core statements): announced with the rest on commit.
    `agents`: an agent's presence may have changed (an agent leg began or ended)."""
    collected: _Collected = session.info.setdefault(_PENDING, _Collected())
    collected.calls.update(calls)
    collected.agents = collected.agents or agents


def _collect(session: Session, _context: Any) -> None:
    collected: _Collected = session.info.setdefault(_PENDING, _Collected())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Call):
            collected.calls.add(obj.id)
        elif isinstance(obj, CallLeg):
            collected.calls.add(obj.call_id)
            collected.agents = collected.agents or obj.agent_id is not None
        elif isinstance(obj, Transfer):
            collected.calls.add(obj.call_id)
        elif isinstance(obj, Agent):
            collected.agents = True


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)

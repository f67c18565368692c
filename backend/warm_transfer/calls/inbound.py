"""Customers' calls as the voice webhook records them: many webhooks per transaction.

Every webhook needs its call durable before it answers (a retry must not create a second call,
a crash must not lose one), but a transaction of its own each would queue them all behind the
database's one writer. Instead, webhooks that arrive together are written together (a group
commit): each waits for the transaction that holds its call, and none waits for routing, which
the dispatcher does next (`routing.dispatcher`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextvars import Context
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Table,
    bindparam,
    insert,
    null,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from warm_transfer.calls.errors import CallSidInUse
from warm_transfer.calls.models import Call, CallLeg, CallStatus, LegRole, LegStatus
from warm_transfer.events.bus import note_changes

logger = logging.getLogger(__name__)

# The tables, not the mapped classes: Core's executemany, without the ORM's bulk insert path.
_CALLS = cast(Table, Call.__table__)
_LEGS = cast(Table, CallLeg.__table__)

# Which CallSids are calls already (Twilio retried the webhook: their id) and which are our own
# legs (no id), in one statement. Built once: every batch runs it.
_SIDS: BindParameter[list[str]] = bindparam("sids", expanding=True)
_KNOWN_SIDS: CompoundSelect[str, int | None] = union_all(
    select(Call.call_sid, Call.id).where(Call.call_sid.in_(_SIDS)),
    select(CallLeg.call_sid, null()).where(CallLeg.call_sid.in_(_SIDS)),
)

# A replica inserting the same CallSid between our check and our insert (PostgreSQL only; SQLite
# writes one transaction at a time): the batch is rolled back and checked again.
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class InboundCall:
    call_sid: str
    from_number: str
    to_number: str


# The call's id and whether this webhook added it (not a retry); None: the CallSid is one of our
# own legs.
Outcome = tuple[int, bool] | None


class InboundCalls:
    def __init__(
        self, *, session_factory: async_sessionmaker[AsyncSession], recorded: Callable[[], None]
    ) -> None:
        self._sessions = session_factory
        self._recorded = recorded  # told after each commit that added calls (wakes routing)
        self._pending: list[tuple[InboundCall, asyncio.Future[Outcome]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, call: InboundCall) -> int:
        """Record the call once per CallSid (Twilio retries the webhook); its id once durable.

        Raises CallSidInUse when the CallSid is one of our own legs of another call."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((call, future))
        if self._writer is None or self._writer.done():
            # A context of its own: the writer serves many requests, its lines belong to none.
            self._writer = asyncio.create_task(self._write_pending(), context=Context())
        # Shielded: a webhook whose client went away leaves its call to be written anyway.
        outcome = await asyncio.shield(future)
        if outcome is None:
            raise CallSidInUse(f"{call.call_sid} is already a leg of another call")
        call_id, added = outcome
        if added:
            logger.info("call %s queued", call_id)
        return call_id

    async def _write_pending(self) -> None:
        """Write what is pending, then what arrived meanwhile, until nothing is left."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await self._write([call for call, _ in batch])
            except Exception as exc:  # the database is down: every webhook of the batch fails
                logger.exception("recording %d inbound calls failed", len(batch))
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for call, future in batch:
                future.set_result(outcomes[call.call_sid])

    async def _write(self, calls: Sequence[InboundCall]) -> dict[str, Outcome]:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self._sessions() as session, session.begin():
                    outcomes, added = await _insert_new(session, calls)
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise
                logger.info("inbound calls raced with another writer; checking again")
                continue
            if added:
                self._recorded()
            return outcomes
        raise AssertionError("unreachable")  # pragma: no cover


async def _insert_new(
    session: AsyncSession, calls: Sequence[InboundCall]
) -> tuple[dict[str, Outcome], bool]:
    """The outcome per CallSid: retries get the call already recorded, new calls a row (and the
    customer's leg, in arrival order: the queue's order), and a CallSid that is one of our own
    legs (an agent's, a transfer's, dialled through the number) None. Whether any was added."""
    first: dict[str, InboundCall] = {}
    for call in calls:
        first.setdefault(call.call_sid, call)
    sids = list(first)
    known = (await session.execute(_KNOWN_SIDS, {"sids": sids})).all()
    outcomes: dict[str, Outcome] = {sid: (call_id, False) for sid, call_id in known if call_id}
    for sid, call_id in known:
        if call_id is None:
            outcomes.setdefault(sid, None)  # a leg's CallSid; a call by that CallSid wins
    new = [first[sid] for sid in sids if sid not in outcomes]
    if not new:
        return outcomes, False
    rows = await session.execute(
        insert(_CALLS).returning(_CALLS.c.call_sid, _CALLS.c.id, sort_by_parameter_order=True),
        [
            {
                "call_sid": call.call_sid,
                "conference_name": call.call_sid,
                "from_number": call.from_number,
                "to_number": call.to_number,
                "status": CallStatus.queued,
            }
            for call in new
        ],
    )
    ids: dict[str, int] = dict(rows.all())
    await session.execute(
        insert(_LEGS),
        [
            {
                "call_id": ids[call.call_sid],
                "role": LegRole.customer,
                "call_sid": call.call_sid,
                "number": call.from_number,
                "status": LegStatus.in_progress,
                "end_conference_on_exit": True,
            }
            for call in new
        ],
    )
    note_changes(session, calls=ids.values())
    outcomes.update((sid, (call_id, True)) for sid, call_id in ids.items())
    return outcomes, True

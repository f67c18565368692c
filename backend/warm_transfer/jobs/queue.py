"""A durable job queue (an outbox in the database) and the worker that drains it.

Webhooks never wait on Twilio: they write a job in their own transaction and answer. The worker
claims jobs after the commit (woken at once, polling as a fallback and for other replicas), runs
each in three steps so no database transaction stays open while Twilio answers, and re-claims jobs
whose worker died after a lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import BindParameter, Integer, Table, bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job, JobStatus
from warm_transfer.telephony.gateway import TelephonyError

logger = logging.getLogger(__name__)


# The jobs due, oldest first, each claimed by one worker; a claim; jobs' end. Built once, on
# the table, not the mapped class: the worker runs them for every call, no job object is needed,
# and the ORM's loading and flushing of jobs cost several times the statements.
_JOBS = cast(Table, Job.__table__)
_JOB_IDS: BindParameter[list[int]] = bindparam("job_ids", expanding=True)
_DUE = (
    select(_JOBS.c.id, _JOBS.c.kind, _JOBS.c.payload)
    .where(_JOBS.c.status == JobStatus.pending, _JOBS.c.run_after <= bindparam("now"))
    .order_by(_JOBS.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIMED = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(_JOB_IDS))
    .values(status=JobStatus.running, claimed_at=bindparam("now"), attempts=_JOBS.c.attempts + 1)
)
_ENDED = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(_JOB_IDS))
    .values(status=bindparam("status"), finished_at=bindparam("now"), last_error=bindparam("error"))
)
_FIRST_DUE = "first_job_due"  # session.info: when the earliest job the transaction adds is due


async def _end(
    session: AsyncSession,
    job_ids: Sequence[int],
    *,
    status: JobStatus,
    error: str | None,
    now: datetime,
) -> None:
    params = {"job_ids": list(job_ids), "status": status, "error": error, "now": now}
    await session.execute(_ENDED, params)


class JobQueue:
    """Adds jobs to the caller's transaction and wakes the worker once that transaction commits."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()

    def enqueue(
        self,
        session: AsyncSession,
        *,
        kind: str,
        payload: dict[str, Any],
        run_after: datetime | None = None,
    ) -> Job:
        job = Job(kind=kind, payload=payload, run_after=run_after or utcnow())
        session.add(job)
        due = session.info.get(_FIRST_DUE)
        session.info[_FIRST_DUE] = job.run_after if due is None else min(due, job.run_after)
        if not session.info.get("wakes_job_worker"):
            session.info["wakes_job_worker"] = True
            event.listen(session.sync_session, "after_commit", self._after_commit)
        return job

    def _after_commit(self, session: Session) -> None:
        self._wake.set()
        if (due := session.info.pop(_FIRST_DUE, None)) is not None:
            self.wake_at(due)

    def wake(self) -> None:
        self._wake.set()

    def wake_at(self, when: datetime) -> None:
        """Wake the worker when a job added for later is due, not at its next poll."""
        delay = (when - utcnow()).total_seconds()
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()


class JobHandler(Protocol):
    """One kind of job, split so the slow outside call runs between two short transactions.

    `idempotent` handlers are run again after any failure (and after a lost worker); the others
    only when the failure says the request surely did nothing (`TelephonyError.safe_to_retry`).
    """

    idempotent: bool

    async def prepare(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> Sequence[Any | None]:
        """Read what each of the claimed jobs needs (one per payload, in order; None when there
        is nothing left to do). Jobs claimed together come in one batch, so a handler can read
        them in one query: on PostgreSQL every query is a round trip that waits for a busy
        loop's next turn."""

    async def perform(self, prepared: Any) -> Any:
        """The outside call (no transaction open). Raises TelephonyError when it fails."""

    async def succeeded(
        self, session: AsyncSession, payload: dict[str, Any], prepared: Any, result: Any
    ) -> None: ...

    async def failed(self, session: AsyncSession, payload: dict[str, Any], reason: str) -> None:
        """The job will not be done: undo what depended on it (also after a lost worker)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for in full

    def delay(self, attempt: int, *, retry_after: float | None = None) -> timedelta:
        """Exponential backoff; at least what Twilio's Retry-After asked for (capped)."""
        seconds = self.base_delay * 2 ** (attempt - 1)
        if retry_after is not None:
            seconds = max(seconds, min(retry_after, self.max_retry_after))
        return timedelta(seconds=seconds)


class JobWorker:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        queue: JobQueue,
        handlers: dict[str, JobHandler],
        concurrency: int = 64,  # REST requests in flight: at 300 ms each, ~200 dials/s
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        retry: RetryPolicy | None = None,
    ) -> None:
        self._sessions = session_factory
        self._queue = queue
        self._handlers = handlers
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._lease = lease
        self._retry = retry or RetryPolicy()
        self._running: set[asyncio.Task[None]] = set()
        # One claim at a time in this process, its jobs started before the next: `drain` beside
        # the running loop would otherwise skip the rows the loop's claim has locked and not yet
        # started, and return with them unsent.
        self._claiming = asyncio.Lock()

    async def run(self) -> None:
        """Drain jobs until cancelled; look for abandoned ones every quarter lease."""
        loop = asyncio.get_running_loop()
        next_reclaim = loop.time()
        while True:
            try:
                if loop.time() >= next_reclaim:
                    await self.reclaim_expired()
                    next_reclaim = loop.time() + self._lease.total_seconds() / 4
                free = self._concurrency - len(self._running)
                claimed = await self.run_once()
            except Exception:
                logger.exception("job worker iteration failed")
                claimed = free = 0
            if claimed < free:
                # Everything due was claimed: wait for the next commit's wake-up (set meanwhile
                # if a job was added during the claim) instead of a claim that finds nothing.
                await self._queue.wait(self._poll_interval)

    async def run_once(self) -> int:
        """Claim what is due (up to the free slots) and start it; returns how many were claimed."""
        free = self._concurrency - len(self._running)
        if free <= 0:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        async with self._claiming:
            claimed = await self._claim(limit=free)
            for job_id, kind, payload, prepared in claimed:
                task = asyncio.create_task(self._finish(job_id, kind, payload, prepared))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        return len(claimed)

    async def drain(self) -> None:
        """Run until nothing is due and nothing is in flight (tests and the CLI use this)."""
        while await self.run_once() or self._running:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    async def close(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _claim(self, *, limit: int) -> list[tuple[int, str, dict[str, Any], Any]]:
        async with self._sessions() as session, session.begin():
            now = utcnow()
            due = (await session.execute(_DUE, {"now": now, "limit": limit})).all()
            if not due:
                return []
            prepared_for: dict[int, Any] = {}
            for kind in {job.kind for job in due}:
                if handler := self._handlers.get(kind):
                    batch = [job for job in due if job.kind == kind]
                    found = await handler.prepare(session, [job.payload for job in batch])
                    prepared_for.update(zip((job.id for job in batch), found, strict=True))
            await session.execute(_CLAIMED, {"job_ids": [job.id for job in due], "now": now})
            claimed = []
            ended: dict[tuple[JobStatus, str | None], list[int]] = {}
            for job in due:
                if (prepared := prepared_for.get(job.id)) is not None:
                    claimed.append((job.id, job.kind, dict(job.payload), prepared))
                elif job.kind in self._handlers:  # nothing left to do (a dial's offer withdrawn)
                    ended.setdefault((JobStatus.done, None), []).append(job.id)
                else:
                    unknown = (JobStatus.failed, f"no handler for {job.kind!r}")
                    ended.setdefault(unknown, []).append(job.id)
            for (status, error), job_ids in ended.items():
                await _end(session, job_ids, status=status, error=error, now=now)
        return claimed

    async def _finish(self, job_id: int, kind: str, payload: dict[str, Any], prepared: Any) -> None:
        handler = self._handlers[kind]
        try:
            result = await handler.perform(prepared)
        except TelephonyError as exc:
            await self._record_failure(job_id, handler, payload, exc)
            return
        except Exception as exc:
            logger.exception("job %s (%s) crashed", job_id, kind)
            await self._record_failure(job_id, handler, payload, exc)
            return
        async with self._sessions() as session, session.begin():
            await handler.succeeded(session, payload, prepared, result)
            await _end(session, [job_id], status=JobStatus.done, error=None, now=utcnow())

    async def _record_failure(
        self, job_id: int, handler: JobHandler, payload: dict[str, Any], exc: Exception
    ) -> None:
        async with self._sessions() as session, session.begin():
            job = await session.get_one(Job, job_id)
            job.last_error = str(exc)[:500]
            safe = isinstance(exc, TelephonyError) and (exc.safe_to_retry or handler.idempotent)
            if safe and job.attempts < self._retry.max_attempts:
                logger.info("job %s failed safely (%s); retrying", job_id, exc)
                job.status = JobStatus.pending
                retry_after = exc.retry_after if isinstance(exc, TelephonyError) else None
                job.run_after = utcnow() + self._retry.delay(job.attempts, retry_after=retry_after)
                self._queue.wake_at(job.run_after)  # the back-off is at least half a second
                return
            job.status = JobStatus.failed
            job.finished_at = utcnow()
            await handler.failed(session, payload, str(exc))

    async def reclaim_expired(self) -> int:
        """Jobs whose worker vanished mid-call: idempotent ones run again; for the others the
        outcome is unknown, so they are failed over (a call is never blindly created twice)."""
        async with self._sessions() as session, session.begin():
            stale = list(
                await session.scalars(
                    select(Job)
                    .where(
                        Job.status == JobStatus.running,
                        Job.claimed_at < utcnow() - self._lease,
                    )
                    .with_for_update(skip_locked=True)
                )
            )
            for job in stale:
                handler = self._handlers.get(job.kind)
                job.last_error = "interrupted: the worker stopped before it finished"
                if handler is not None and handler.idempotent:
                    logger.warning("job %s (%s) was interrupted; runs again", job.id, job.kind)
                    job.status = JobStatus.pending
                    job.run_after = utcnow()
                    continue
                logger.warning("job %s (%s) was interrupted; failing it over", job.id, job.kind)
                job.status = JobStatus.failed
                job.finished_at = utcnow()
                if handler is not None:
                    await handler.failed(session, job.payload, "interrupted")
        return len(stale)

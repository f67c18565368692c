"""The job worker's loop: woken by the commit that adds jobs, one claim per batch, no polling."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, func, select

from tests.simulator.helpers import eventually
from warm_transfer.db import utcnow
from warm_transfer.jobs.models import Job, JobStatus
from warm_transfer.jobs.queue import JobQueue, JobWorker


class Recorder:
    """A job kind that only records what it was asked to do."""

    idempotent = True

    def __init__(self) -> None:
        self.performed: list[int] = []

    async def prepare(self, session: Any, payloads: list[dict[str, Any]]) -> list[int]:
        return [int(payload["n"]) for payload in payloads]

    async def perform(self, prepared: int) -> None:
        self.performed.append(prepared)

    async def succeeded(self, session: Any, payload: Any, prepared: Any, result: Any) -> None:
        return None

    async def failed(self, session: Any, payload: Any, reason: str) -> None:
        raise AssertionError(f"job failed: {reason}")


def recording_worker(
    app: FastAPI, recorder: Recorder | None = None
) -> tuple[JobQueue, Recorder, JobWorker]:
    """A worker for `record` jobs whose poll is far beyond any test: only wake-ups get jobs done."""
    queue, recorder = JobQueue(), recorder or Recorder()
    worker = JobWorker(
        session_factory=app.state.session_factory,
        queue=queue,
        handlers={"record": recorder},
        concurrency=8,
        poll_interval=3600,
    )
    return queue, recorder, worker


async def test_jobs_added_together_are_claimed_at_once_and_later_ones_on_their_commit(
    app: FastAPI,
) -> None:
    sessions, engine = app.state.session_factory, app.state.engine
    queue, recorder, worker = recording_worker(app)
    claims = 0

    def count_claims(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal claims
        claims += "jobs.run_after <=" in statement  # the claim's query, nothing else

    event.listen(engine.sync_engine, "before_cursor_execute", count_claims)

    async def enqueue(*numbers: int) -> None:
        async with sessions() as session, session.begin():
            for n in numbers:
                queue.enqueue(session, kind="record", payload={"n": n})

    async def all_done(expected: int) -> bool:
        async with sessions() as session:
            count = select(func.count()).select_from(Job).where(Job.status == JobStatus.done)
            return await session.scalar(count) == expected

    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: claims or None)  # the start-up claim
        claims = 0
        await enqueue(1, 2, 3)
        await eventually(lambda: all_done(3))
        await asyncio.sleep(0.05)  # time for a needless second claim to show
        assert claims == 1  # one claim took all three: none that found nothing after it
        await enqueue(4)
        await eventually(lambda: all_done(4))
        assert sorted(recorder.performed) == [1, 2, 3, 4]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
        event.remove(engine.sync_engine, "before_cursor_execute", count_claims)


async def test_a_job_added_for_later_runs_when_due_without_waiting_for_a_poll(
    app: FastAPI,
) -> None:
    """A look-again or a deferred offer is due in a fraction of a second: the worker is woken
    when it is due, not at its next poll (an hour away here)."""
    sessions = app.state.session_factory
    queue, recorder, worker = recording_worker(app)
    running = asyncio.create_task(worker.run())
    try:
        async with sessions() as session, session.begin():
            due = utcnow() + timedelta(seconds=0.3)
            queue.enqueue(session, kind="record", payload={"n": 1}, run_after=due)
        await eventually(lambda: recorder.performed or None)
        assert recorder.performed == [1]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()


async def test_a_job_with_nothing_left_to_do_ends_done_and_one_nobody_handles_fails(
    app: FastAPI,
) -> None:
    """`prepare` finding nothing to do (an offer withdrawn before its dial) ends the job as done,
    unperformed; a kind no handler knows fails, saying so. The others run."""

    class SkipsOdd(Recorder):
        async def prepare(self, session: Any, payloads: list[dict[str, Any]]) -> list[int | None]:
            return [n if (n := int(payload["n"])) % 2 == 0 else None for payload in payloads]

    _, recorder, worker = recording_worker(app, SkipsOdd())
    async with app.state.session_factory() as session, session.begin():
        session.add_all(Job(kind="record", payload={"n": n}) for n in (1, 2, 3))
        session.add(Job(kind="retired", payload={}))
    await worker.drain()

    assert recorder.performed == [2]
    async with app.state.session_factory() as session:
        jobs = (await session.scalars(select(Job).order_by(Job.id))).all()
    assert [(job.status, job.attempts, job.last_error) for job in jobs] == [
        (JobStatus.done, 1, None),
        (JobStatus.done, 1, None),
        (JobStatus.done, 1, None),
        (JobStatus.failed, 1, "no handler for 'retired'"),
    ]
    assert all(job.finished_at is not None for job in jobs)


async def test_draining_beside_the_running_loop_waits_for_the_jobs_it_is_claiming(
    app: FastAPI,
) -> None:
    """The loop is mid-claim (the job's row locked, not yet started) when something drains the
    worker (a restart's catch-up, the CLI): the drain ends only once that job has run."""
    preparing, release = asyncio.Event(), asyncio.Event()

    class SlowToPrepare(Recorder):
        async def prepare(self, session: Any, payloads: list[dict[str, Any]]) -> list[int]:
            preparing.set()
            await release.wait()
            return await super().prepare(session, payloads)

    _, recorder, worker = recording_worker(app, SlowToPrepare())
    async with app.state.session_factory() as session, session.begin():
        session.add(Job(kind="record", payload={"n": 7}))
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(preparing.wait(), 5)
        draining = asyncio.create_task(worker.drain())
        await asyncio.sleep(0.2)  # the drain's own claim, had it one, has found nothing by now
        release.set()
        await asyncio.wait_for(draining, 5)
        assert recorder.performed == [7]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

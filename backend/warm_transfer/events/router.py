"""The console's live feed: Server-Sent Events, authenticated by a short-lived ticket."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from warm_transfer.agents import service as agents
from warm_transfer.agents.dependencies import CurrentAgent
from warm_transfer.agents.security import (
    STREAM_TICKET_TTL_SECONDS,
    issue_stream_ticket,
    read_stream_ticket,
)
from warm_transfer.dependencies import SettingsDep, VoiceDep
from warm_transfer.errors import DATABASE_UNAVAILABLE, VALIDATION_ERROR, Unauthorized, responses
from warm_transfer.events import service
from warm_transfer.events.feed import SnapshotFeed, Update
from warm_transfer.events.schemas import StreamEventData, TicketOut

router = APIRouter(prefix="/api/events", tags=["events"], responses=DATABASE_UNAVAILABLE)
HEARTBEAT_SECONDS = 15.0


async def get_feed(request: Request) -> SnapshotFeed:
    feed: SnapshotFeed = request.app.state.snapshot_feed
    return feed


async def stream_agent(
    settings: SettingsDep,
    ticket: Annotated[str, Query(description="From `POST /api/events/ticket`.", max_length=2048)],
) -> str:
    agent_id = read_stream_ticket(ticket, secret_key=settings.secret_key.get_secret_value())
    if agent_id is None:
        raise Unauthorized("The stream ticket is invalid or has expired; get a new one")
    return agent_id


@router.post(
    "/ticket",
    summary="A one-minute ticket to open the event stream",
    description="EventSource cannot send an Authorization header, and the login token must not "
    "travel in a URL: exchange it for a ticket that only opens `GET /api/events`.",
    response_model=TicketOut,
    responses=responses(Unauthorized),
)
async def ticket(agent: CurrentAgent, settings: SettingsDep) -> TicketOut:
    issued = issue_stream_ticket(
        agent_id=agent.id, secret_key=settings.secret_key.get_secret_value()
    )
    return TicketOut(ticket=issued.token, expires_in=STREAM_TICKET_TTL_SECONDS)


@router.get(
    "",
    summary="Live events for the logged-in agent's console (Server-Sent Events)",
    description="Opens with `hello` (you), `directory`, `queue` and a `call` for each of your "
    "calls not yet ended; then sends `call` whenever one of your calls changes (offered, "
    "answered, held, transfer progress and outcome, ended), `queue` when waiting calls change, "
    "and `agents` when presence changes: only the agents whose entries changed, to put in place "
    "of theirs in the last `directory` (which comes again whole every 15 s with a keep-alive "
    "comment, and whenever the changes would not apply, e.g. after a reconnect). Each event's "
    "`data` is JSON: see the HelloEvent, DirectoryEvent, AgentsEvent, QueueEvent and CallEvent "
    "schemas. While the stream is open the agent counts as online.",
    response_class=EventSourceResponse,
    responses={
        200: {"model": StreamEventData, "description": "An event stream (text/event-stream)"},
        **responses(Unauthorized),
        **VALIDATION_ERROR,
    },
)
async def events(
    request: Request,
    agent_id: Annotated[str, Depends(stream_agent)],
    feed: Annotated[SnapshotFeed, Depends(get_feed)],
    settings: SettingsDep,
    voice: VoiceDep,
) -> AsyncIterator[ServerSentEvent]:
    sessions = request.app.state.session_factory
    readers = request.app.state.read_session_factory
    grace = settings.presence_grace_seconds
    sequence = 0
    # Which of the feed's directory reads this stream has shown (None: one of its own, which
    # the feed's changes may not be relative to: the next directory it sends is whole).
    directory_shown: int | None = None
    async with feed.watch(agent_id) as inbox:
        async with sessions() as session, session.begin():
            await agents.console_connected(session, agent_id=agent_id, voice=voice)
        read_at = time.monotonic()
        async with readers() as session:
            batch = await service.opening(session, agent_id=agent_id, grace_seconds=grace)
        while True:
            for event in batch:
                sequence += 1
                yield event.model_copy(update={"id": str(sequence)})
            update = await _next_update(inbox)
            if update is None:  # quiet for a while: still here, and presence may have aged
                async with sessions() as session, session.begin():
                    await agents.console_heartbeat(session, agent_id=agent_id, voice=voice)
                async with readers() as session:
                    batch = [await service.directory(session, grace_seconds=grace)]
                directory_shown = None
            elif update.resync:
                read_at = time.monotonic()
                async with readers() as session:
                    batch = await service.opening(session, agent_id=agent_id, grace_seconds=grace)
                directory_shown = None
            elif update.read_at < read_at:
                batch = []  # read before this stream's own snapshot: already shown, or older
            else:
                batch = update.events_for(agent_id, directory_shown=directory_shown)
                if update.directory is not None:
                    directory_shown = update.directory.version


async def _next_update(inbox: asyncio.Queue[Update]) -> Update | None:
    """The next update, or None after a quiet spell."""
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(inbox.get(), HEARTBEAT_SECONDS)
    return None

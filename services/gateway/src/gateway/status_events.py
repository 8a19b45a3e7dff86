"""GET /api/generations/{id}/events: a generation's status changes as Server-Sent Events.

A frontend follows one stream instead of polling. Events come from `generation_events` (written by a
trigger on every status change), so a reconnecting client resumes with `Last-Event-ID` and misses
nothing. An open stream costs no query until the status hub says its generation changed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any

from common.db.models import TERMINAL, Generation, GenerationEvent, Status
from fastapi import APIRouter, Header
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse, ServerSentEvent

from gateway.deps import ClientDep, SessionsDep, SettingsDep, StatusHubDep
from gateway.errors import ApiError
from gateway.openapi import problems
from gateway.schemas import Schema
from gateway.status_hub import StatusHub

router = APIRouter(prefix="/api")
RETRY_MS = 2000  # how long a browser's EventSource waits before reconnecting


class StatusEvent(Schema):
    """The `data` of an SSE event named `status`; the event's `id` is the event's sequence number."""

    generation_id: uuid.UUID
    status: Status
    stage: str
    at: datetime


def _data_schema() -> dict[str, Any]:
    """StatusEvent's JSON schema with its one `$ref` (the status enum) inlined: it sits in an extension."""
    schema = StatusEvent.model_json_schema(by_alias=True)
    schema["properties"]["status"] = schema.pop("$defs")["Status"]
    return schema


STREAM_DOC: dict[str, Any] = {
    "description": (
        "`text/event-stream`: first `retry: 2000`, then every status change after `Last-Event-ID` "
        "as `event: status`, `id: <sequence>`, `data: <StatusEvent JSON>`, and `:` keep-alive comments. "
        "The stream ends after a terminal status (SUCCEEDED, FAILED, CANCELED, TIMED_OUT, EXPIRED)."
    ),
    "content": {
        "text/event-stream": {
            "schema": {"type": "string"},
            "example": 'retry: 2000\n\nid: 42\nevent: status\ndata: {"generationId":"…","status":"UPLOADING",'
            '"stage":"uploader","at":"2026-01-01T12:00:00.123000Z"}\n\n',
            "x-sse-data-schema": _data_schema(),
        }
    },
}


@router.get(
    "/generations/{generation_id}/events",
    operation_id="streamGenerationEvents",
    summary="Follow a generation's status changes (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={200: STREAM_DOC, **problems("GenerationNotFound", "Unauthorized")},
)
async def stream_generation_events(
    generation_id: uuid.UUID,
    sessions: SessionsDep,
    settings: SettingsDep,
    hub: StatusHubDep,
    client: ClientDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID", description="Resume after this event id (browsers send it on reconnect)."
        ),
    ] = None,
) -> EventSourceResponse:
    """Every recorded status change after `Last-Event-ID`, then each new one as it happens."""
    async with sessions() as session:
        generation = await session.get(Generation, generation_id)
    if generation is None or (client is not None and generation.client_id != client.id):
        raise ApiError(404, "GenerationNotFound", f"No generation {generation_id}.")
    stream = follow(sessions, hub, generation_id, _event_id(last_event_id), generation.status in TERMINAL)
    return EventSourceResponse(stream, ping=settings.sse_keepalive_seconds)


async def follow(
    sessions: async_sessionmaker[AsyncSession],
    hub: StatusHub,
    generation_id: uuid.UUID,
    after: int,
    ended: bool,
) -> AsyncIterator[ServerSentEvent]:
    """Events after `after`; then wait for the hub's wake-ups until a terminal status was sent.

    `ended`: the generation was already terminal when looked up, so its last event is already stored."""
    yield ServerSentEvent(retry=RETRY_MS)
    with hub.subscribe(generation_id) as subscription:  # before the first read: no change slips between
        while True:
            for event in await events_after(sessions, generation_id, after):
                after = event.id
                data = StatusEvent(
                    generation_id=event.generation_id,
                    status=Status(event.status),
                    stage=event.stage,
                    at=event.at,
                )
                yield ServerSentEvent(data.model_dump_json(), event="status", id=str(event.id))
                if event.status in TERMINAL:
                    return
            if ended:
                return
            await subscription.changed()


async def events_after(
    sessions: async_sessionmaker[AsyncSession], generation_id: uuid.UUID, after: int
) -> Sequence[GenerationEvent]:
    async with sessions() as session:
        rows = await session.scalars(
            select(GenerationEvent)
            .where(GenerationEvent.generation_id == generation_id, GenerationEvent.id > after)
            .order_by(GenerationEvent.id)
        )
        return rows.all()


def _event_id(header: str | None) -> int:
    """The `Last-Event-ID` as a number; anything else counts as none (start from the beginning)."""
    try:
        value = int(header or 0)
    except ValueError:
        return 0
    return value if 0 <= value < 2**63 else 0

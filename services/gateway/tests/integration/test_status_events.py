"""GET /api/generations/{id}/events on a real gateway (uvicorn on a port), Postgres and Kafka.

Status changes are made with SQL, as a stage would; the database trigger records and announces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest
import uvicorn
from common.db.models import Generation, Status
from fastapi import FastAPI
from gateway.main import create_app
from gateway.status_hub import APPLICATION_NAME
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.gateway_app import gateway_settings
from tests.infra import free_port

pytestmark = pytest.mark.integration
TEMPLATE = "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL"
PIPELINE = ["UPLOADING", "DETECTING", "SUBMITTING", "PENDING", "RUNNING", "SUCCEEDED"]
POOL_CAPACITY = 10 + 10  # the gateway's pool_size + SQLAlchemy's default max_overflow


@dataclass
class Gateway:
    url: str
    app: FastAPI
    db: AsyncEngine  # the test's own connection to the database (NullPool: nothing held between calls)

    async def new_generation(self) -> uuid.UUID:
        return (await self.new_generations(1))[0]

    async def new_generations(self, count: int) -> list[uuid.UUID]:
        """QUEUED generations, inserted as the gateway does (the trigger records their first event)."""
        ids = [uuid.uuid4() for _ in range(count)]
        rows = [
            {"id": i, "status": Status.QUEUED.value, "stage": "gateway", "template_id": TEMPLATE} for i in ids
        ]
        async with self.db.begin() as connection:
            await connection.execute(Generation.__table__.insert(), rows)
        return ids

    async def set_status(self, generation_id: uuid.UUID, status: str) -> None:
        stage = "poller" if status in ("PENDING", "RUNNING", "SUCCEEDED") else "stage"
        async with self.db.begin() as connection:
            await connection.execute(
                text("UPDATE generations SET status = :status, stage = :stage WHERE id = :id"),
                {"status": status, "stage": stage, "id": generation_id},
            )


@pytest.fixture(scope="module")
async def gateway(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(kafka_bootstrap_servers, database_url))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.exception()
        await asyncio.sleep(0.05)
    db = create_async_engine(database_url, poolclass=NullPool)
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app, db)
    finally:
        server.should_exit = True
        await task
        await db.dispose()


@dataclass
class Stream:
    """One open event stream, read in the background: what arrived, and whether the server closed it."""

    events: list[dict[str, str]] = field(default_factory=list)
    retry: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def statuses(self) -> list[str]:
        return [json.loads(e["data"])["status"] for e in self.events]

    async def wait_for(self, count: int, within: float = 10) -> None:
        async with asyncio.timeout(within):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def _read(response: httpx.Response, stream: Stream) -> None:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "retry" in fields:
            stream.retry = fields.pop("retry")
        if fields:
            stream.events.append(fields)
            stream.arrived.set()
        fields = {}
    stream.closed.set()


@contextlib.asynccontextmanager
async def follow(
    client: httpx.AsyncClient, url: str, last_event_id: str | None = None
) -> AsyncIterator[Stream]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream()
        reader = asyncio.create_task(_read(response, stream))
        try:
            yield stream
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader


def events_url(gateway: Gateway, generation_id: uuid.UUID) -> str:
    return f"{gateway.url}/api/generations/{generation_id}/events"


async def test_stream_sends_each_status_change_in_order_and_closes_after_the_terminal_one(
    gateway: Gateway,
) -> None:
    generation_id = await gateway.new_generation()
    async with (
        httpx.AsyncClient(timeout=30) as client,
        follow(client, events_url(gateway, generation_id)) as s,
    ):
        await s.wait_for(1)
        for count, status in enumerate(PIPELINE, start=2):
            await gateway.set_status(generation_id, status)
            await s.wait_for(count)  # each change arrives live, before the next one is made
        async with asyncio.timeout(5):
            await s.closed.wait()

    assert s.retry == "2000"
    assert s.statuses == ["QUEUED", *PIPELINE]
    ids = [int(e["id"]) for e in s.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {e["event"] for e in s.events} == {"status"}
    first = json.loads(s.events[0]["data"])
    assert set(first) == {"generationId", "status", "stage", "at"}
    assert first["generationId"] == str(generation_id) and first["stage"] == "gateway"
    assert datetime.fromisoformat(first["at"]).tzinfo is not None


async def test_a_client_resuming_with_last_event_id_gets_only_later_events(gateway: Gateway) -> None:
    generation_id = await gateway.new_generation()
    for status in ("UPLOADING", "DETECTING"):
        await gateway.set_status(generation_id, status)
    url = events_url(gateway, generation_id)
    async with httpx.AsyncClient(timeout=30) as client:
        async with follow(client, url) as first:
            await first.wait_for(3)
        assert first.statuses == ["QUEUED", "UPLOADING", "DETECTING"]
        uploading_id = first.events[1]["id"]

        async with follow(client, url, last_event_id=uploading_id) as resumed:
            await resumed.wait_for(1)
            await gateway.set_status(generation_id, "SUCCEEDED")
            async with asyncio.timeout(5):
                await resumed.closed.wait()
        assert resumed.statuses == ["DETECTING", "SUCCEEDED"]
        assert int(resumed.events[0]["id"]) > int(uploading_id)

        # Already ended and already seen: an empty stream that closes at once.
        async with follow(client, url, last_event_id=resumed.events[-1]["id"]) as seen_all:
            async with asyncio.timeout(5):
                await seen_all.closed.wait()
        assert seen_all.events == [] and seen_all.retry == "2000"

        # A Last-Event-ID that is not a number counts as none: the whole history, then the end.
        async with follow(client, url, last_event_id="not-a-number") as garbage:
            async with asyncio.timeout(5):
                await garbage.closed.wait()
        assert garbage.statuses == ["QUEUED", "UPLOADING", "DETECTING", "SUCCEEDED"]


async def test_unknown_generation_is_a_404_problem(gateway: Gateway) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(events_url(gateway, uuid.uuid4()))
        malformed = await client.get(f"{gateway.url}/api/generations/not-a-uuid/events")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "GenerationNotFound"
    assert malformed.status_code == 422


async def _connections(gateway: Gateway) -> tuple[int, int]:
    """(the gateway's listening connections, all other client connections) to the test database."""
    async with gateway.db.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE application_name = :hub), "
                    "       count(*) FILTER (WHERE application_name IS DISTINCT FROM :hub) "
                    "  FROM pg_stat_activity "
                    " WHERE datname = current_database() AND backend_type = 'client backend' "
                    "   AND pid <> pg_backend_pid()"
                ),
                {"hub": APPLICATION_NAME},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_200_open_streams_share_one_listen_connection_and_a_change_reaches_only_its_stream(
    gateway: Gateway,
) -> None:
    ids = await gateway.new_generations(200)
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=0)
    async with contextlib.AsyncExitStack() as streams, httpx.AsyncClient(timeout=30, limits=limits) as client:
        opened = await asyncio.gather(
            *(streams.enter_async_context(follow(client, events_url(gateway, i))) for i in ids)
        )
        await asyncio.gather(*(s.wait_for(1) for s in opened))
        assert all(s.statuses == ["QUEUED"] for s in opened)
        assert gateway.app.state.status_hub.subscriber_count == 200

        listeners, others = await _connections(gateway)
        assert listeners == 1
        assert others <= POOL_CAPACITY, others  # the pool, not one connection per stream

        await gateway.set_status(ids[137], "UPLOADING")
        await opened[137].wait_for(2)
        await asyncio.sleep(1)  # time enough for a misdirected event to show up
        assert opened[137].statuses == ["QUEUED", "UPLOADING"]
        assert all(s.statuses == ["QUEUED"] for n, s in enumerate(opened) if n != 137)
        assert not any(s.closed.is_set() for s in opened)


async def test_a_lost_listen_connection_is_reopened_and_changes_made_meanwhile_still_arrive(
    gateway: Gateway,
) -> None:
    generation_id = await gateway.new_generation()
    before = await _hub_pids(gateway)
    async with (
        httpx.AsyncClient(timeout=30) as client,
        follow(client, events_url(gateway, generation_id)) as s,
    ):
        await s.wait_for(1)
        async with gateway.db.connect() as connection:  # as a Postgres restart would, for this connection
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before[0]})
        await gateway.set_status(generation_id, "UPLOADING")  # most likely before the hub listens again
        await s.wait_for(2)
        await gateway.set_status(generation_id, "SUCCEEDED")  # and the new connection gets notified
        async with asyncio.timeout(5):
            await s.closed.wait()
    assert s.statuses == ["QUEUED", "UPLOADING", "SUCCEEDED"]
    after = await _hub_pids(gateway)
    assert len(before) == len(after) == 1 and before != after


async def _hub_pids(gateway: Gateway) -> list[int]:
    async with gateway.db.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                " WHERE application_name = :hub AND datname = current_database()"
            ),
            {"hub": APPLICATION_NAME},
        )
        return [int(pid) for (pid,) in rows]

"""Signed webhooks on the real broker and database, to a real HTTP receiver that verifies every request
with the `standardwebhooks` library: one delivery per fact whatever Kafka redelivers, retried after
failures on the backoff, never sent to a URL the address rules refuse, and still delivered when the
notifier is killed in the middle of an attempt."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from common import topics
from common.db.models import Generation, Status
from common.db.session import make_engine, make_sessionmaker
from common.messaging import SPEC_VERSION, TYPE_PREFIX, ensure_topics, make_broker
from common.settings import Settings
from faststream import TestApp
from faststream.kafka import KafkaBroker
from notifier.main import create_app
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.gateway_app import sql

pytestmark = pytest.mark.integration

TEMPLATE = "AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR"
SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLW5vdGlmaWVy"
EVENT_TYPES = {
    topics.GENERATION_COMPLETED: "GenerationCompleted",
    topics.GENERATION_FAILED: "GenerationFailed",
    topics.GENERATION_CANCELED: "GenerationCanceled",
}


# --- a receiver that checks every signature ------------------------------------------------------


@dataclass
class Received:
    webhook_id: str
    verified: bool
    answered: int
    body: Any


@dataclass
class Receiver:
    """Answers 500 to the first `fail_first` requests of each webhook id, then `success` (200); the very
    first request it gets can be left unanswered for `stall_first` seconds (recorded as answered 0)."""

    secret: str
    fail_first: int = 0
    success: int = 200
    stall_first: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            payload = Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = None, False
        webhook_id = headers.get("webhook-id", "")
        with self.lock:
            stall = self.stall_first if not self.requests else 0.0
            seen = sum(1 for r in self.requests if r.webhook_id == webhook_id)
            answer = 401 if not verified else 500 if seen < self.fail_first else self.success
            self.requests.append(Received(webhook_id, verified, 0 if stall else answer, payload))
        if stall:
            time.sleep(stall)
        return answer

    def of(self, webhook_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.webhook_id == webhook_id]

    def delivered(self, webhook_id: str) -> list[Received]:
        return [r for r in self.of(webhook_id) if r.answered == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            answer = state.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- the database, the broker and the notifier ---------------------------------------------------


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def broker(kafka_bootstrap_servers: str) -> AsyncIterator[KafkaBroker]:
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap_servers, topic_partitions=3)
    await ensure_topics(settings)
    producer = make_broker(settings, client_id="notifier-test")
    await producer.connect()
    yield producer
    await producer.stop()


def notifier_settings(kafka: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka,
        "database_url": database_url,
        "topic_partitions": 3,
        "webhook_secret": SECRET,
        "webhook_backoff_seconds": "0.2,0.5",
        "webhook_timeout_seconds": 3,
        "callback_url_allow_http": True,
        "callback_url_allowed_hosts": "127.0.0.1",
        "shutdown_timeout_seconds": 5,
    }
    return Settings(**(values | overrides))


async def new_generation(
    sessions: async_sessionmaker[AsyncSession], callback_url: str | None, status: Status = Status.SUCCEEDED
) -> uuid.UUID:
    generation_id = uuid.uuid4()
    async with sessions.begin() as session:
        session.add(
            Generation(
                id=generation_id,
                status=status,
                stage="poller",
                template_id=TEMPLATE,
                callback_url=callback_url,
                finished_at=datetime.now(UTC),
            )
        )
    return generation_id


async def publish(
    broker: KafkaBroker, topic: str, generation_id: uuid.UUID, ce_id: str, key: uuid.UUID | None = None
) -> dict[str, Any]:
    """A public event as common.messaging publishes it (CloudEvents binary mode); its body."""
    at = datetime.now(UTC).isoformat()
    body: dict[str, Any] = {"generation_id": str(generation_id), "occurred_at": at, "template_id": TEMPLATE}
    if topic == topics.GENERATION_COMPLETED:
        body |= {"task_id": "task-1", "video_url": "https://cdn.example.com/v.mp4"}
    elif topic == topics.GENERATION_FAILED:
        body |= {"stage": "poller", "code": "TimedOut", "message": "No result."}
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": ce_id,
        "ce_type": f"{TYPE_PREFIX}{EVENT_TYPES[topic]}.v1",
        "ce_source": "/dancer/test",
        "ce_time": at,
        "ce_subject": str(generation_id),
        "content-type": "application/json",
    }
    await broker.publish(body, topic=topic, key=str(key or generation_id).encode(), headers=headers)
    return body


async def eventually(check: Callable[[], Any], within: float = 60, what: str = "condition") -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached in {within}s"
        await asyncio.sleep(0.1)


async def attempts_of(database_url: str, webhook_id: str) -> list[Any]:
    return await sql(
        database_url,
        "SELECT a.status_code, a.error, a.duration_ms FROM webhook_attempts a "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $1 ORDER BY a.id",
        webhook_id,
    )


async def delivery_of(database_url: str, webhook_id: str) -> Any:
    rows = await sql(database_url, "SELECT * FROM webhook_deliveries WHERE webhook_id = $1", webhook_id)
    return rows[0] if len(rows) == 1 else None


# --- the tests -----------------------------------------------------------------------------------


async def test_each_fact_is_delivered_once_signed_after_the_receivers_failures(
    kafka_bootstrap_servers: str,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 2
    settings = notifier_settings(kafka_bootstrap_servers, database_url)
    completed, failed, canceled, sentinel = [await new_generation(sessions, receiver.url()) for _ in range(4)]
    quiet = await new_generation(sessions, None)  # no callback URL: no delivery
    facts = {
        f"c-{uuid.uuid4()}": (topics.GENERATION_COMPLETED, completed),
        f"f-{uuid.uuid4()}": (topics.GENERATION_FAILED, failed),
        f"x-{uuid.uuid4()}": (topics.GENERATION_CANCELED, canceled),
    }
    app = create_app(settings, group_id=f"notifier-test-{uuid.uuid4()}")
    async with TestApp(app):
        bodies = {}
        for ce_id, (topic, generation_id) in facts.items():
            bodies[ce_id] = await publish(broker, topic, generation_id, ce_id)
        completed_id = next(iter(facts))
        # The same fact again (a redelivery), then, on the same partition behind it, a sentinel fact of
        # another generation: once the sentinel is queued, the duplicate has been consumed.
        await publish(broker, topics.GENERATION_COMPLETED, completed, completed_id)
        await publish(broker, topics.GENERATION_COMPLETED, quiet, f"q-{uuid.uuid4()}")
        sentinel_id = f"s-{uuid.uuid4()}"
        await publish(broker, topics.GENERATION_COMPLETED, sentinel, sentinel_id, key=completed)
        facts[sentinel_id] = (topics.GENERATION_COMPLETED, sentinel)

        for ce_id in facts:
            await eventually(lambda ce_id=ce_id: receiver.delivered(ce_id), what=f"delivery of {ce_id}")
        await asyncio.sleep(1.5)  # room for a wrong second delivery to show up

    assert all(r.verified for r in receiver.requests)
    assert {r.webhook_id for r in receiver.requests} == set(facts)
    for ce_id, (topic, generation_id) in facts.items():
        got = receiver.of(ce_id)
        assert [r.answered for r in got] == [500, 500, 200], ce_id
        payload = got[-1].body
        assert payload["type"] == topic and payload["data"]["generation_id"] == str(generation_id)
        assert datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
        if ce_id in bodies:
            assert payload["data"] == bodies[ce_id]
        attempts = await attempts_of(database_url, ce_id)
        assert [a["status_code"] for a in attempts] == [500, 500, 200]
        assert all(a["error"] is None and a["duration_ms"] >= 0 for a in attempts)
        row = await delivery_of(database_url, ce_id)
        assert row["delivered_at"] and row["gave_up_at"] is None and row["next_attempt_at"] is None
        assert (row["attempts"], row["event_type"], row["url"]) == (3, topic, receiver.url())
    quiet_rows = await sql(database_url, "SELECT 1 FROM webhook_deliveries WHERE generation_id = $1", quiet)
    assert quiet_rows == []


async def test_a_url_outside_the_allowed_hosts_is_refused_and_never_sent(
    kafka_bootstrap_servers: str,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    receiver: Receiver,
) -> None:
    settings = notifier_settings(kafka_bootstrap_servers, database_url)
    with socket.socket() as listener:  # a loopback address that is not in CALLBACK_URL_ALLOWED_HOSTS
        listener.bind(("127.0.0.2", 0))
        listener.listen(4)
        listener.setblocking(False)
        refused_url = f"http://127.0.0.2:{listener.getsockname()[1]}/hook"
        refused = await new_generation(sessions, refused_url, Status.FAILED)
        gone = await new_generation(sessions, receiver.url(), Status.CANCELED)
        ce_id, gone_id = f"r-{uuid.uuid4()}", f"g-{uuid.uuid4()}"
        receiver.success = 410
        async with TestApp(create_app(settings, group_id=f"notifier-test-{uuid.uuid4()}")):
            await publish(broker, topics.GENERATION_FAILED, refused, ce_id)
            await publish(broker, topics.GENERATION_CANCELED, gone, gone_id)
            await eventually(
                lambda: _at_least(attempts_of(database_url, ce_id), 2), what="two refused attempts"
            )
            gone_row = await eventually(
                lambda: _gave_up(delivery_of(database_url, gone_id)), what="give up on 410"
            )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    attempts = await attempts_of(database_url, ce_id)
    assert all(a["status_code"] is None and a["error"].startswith("URL refused") for a in attempts)
    assert "not a public address" in attempts[0]["error"]
    row = await delivery_of(database_url, ce_id)
    assert row["delivered_at"] is None and row["gave_up_at"] is None and row["next_attempt_at"] is not None
    assert [(r.webhook_id, r.answered) for r in receiver.requests] == [(gone_id, 410)]
    assert (
        gone_row["attempts"] == 1 and gone_row["last_status_code"] == 410 and gone_row["delivered_at"] is None
    )


async def test_the_retry_window_closes_with_a_give_up(
    kafka_bootstrap_servers: str,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 1000
    settings = notifier_settings(kafka_bootstrap_servers, database_url, webhook_give_up_seconds=1.5)
    generation_id = await new_generation(sessions, receiver.url())
    ce_id = f"w-{uuid.uuid4()}"
    async with TestApp(create_app(settings, group_id=f"notifier-test-{uuid.uuid4()}")):
        await publish(broker, topics.GENERATION_COMPLETED, generation_id, ce_id)
        row = await eventually(lambda: _gave_up(delivery_of(database_url, ce_id)), what="give up")
    assert row["delivered_at"] is None and row["next_attempt_at"] is None
    assert row["attempts"] >= 3 and row["last_status_code"] == 500
    assert (row["gave_up_at"] - row["created_at"]).total_seconds() >= 1.5
    assert len(receiver.of(ce_id)) == row["attempts"]


async def _at_least(rows: Any, n: int) -> bool:
    return len(await rows) >= n


async def _gave_up(row: Any) -> Any:
    found = await row
    return found if found is not None and found["gave_up_at"] is not None else None


# --- a notifier killed in the middle of an attempt --------------------------------------------------


@pytest.mark.timeout(180)
async def test_a_notifier_killed_mid_delivery_delivers_after_a_restart(
    kafka_bootstrap_servers: str,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    broker: KafkaBroker,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    receiver.stall_first = 60  # the first attempt hangs until the notifier is gone
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "DATABASE_URL": database_url,
        "TOPIC_PARTITIONS": "3",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_BACKOFF_SECONDS": "0.2,0.5",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "CALLBACK_URL_ALLOW_HTTP": "true",
        "CALLBACK_URL_ALLOWED_HOSTS": "127.0.0.1",
    }
    log = (tmp_path / "notifier.log").open("ab")

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "notifier"], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    generation_id = await new_generation(sessions, receiver.url())
    ce_id = f"k-{uuid.uuid4()}"
    first = start()
    second = None
    try:
        await publish(broker, topics.GENERATION_COMPLETED, generation_id, ce_id)
        await eventually(lambda: receiver.of(ce_id), within=90, what="the first attempt")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert await attempts_of(database_url, ce_id) == []  # the attempt never ended
        second = start()
        await eventually(lambda: receiver.delivered(ce_id), within=90, what="delivery after the restart")
        row = await eventually(lambda: _delivered(delivery_of(database_url, ce_id)), what="delivered")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        log.close()
    got = receiver.of(ce_id)
    assert len(got) >= 2 and all(r.verified and r.webhook_id == ce_id for r in got)
    assert got[0].body == got[-1].body  # the same message, signed anew
    assert row["attempts"] == 1 and [a["status_code"] for a in await attempts_of(database_url, ce_id)] == [
        200
    ]


async def _delivered(row: Any) -> Any:
    found = await row
    return found if found is not None and found["delivered_at"] is not None else None

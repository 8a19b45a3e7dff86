"""`dancer-admin backlog` on the real broker and a database of its own: the lag of a consumer group, and
the retries, polls, outbox records and webhook deliveries waiting, as an operator reads them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from admin import backlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata
from common.db.models import Generation, OutboxRecord, StageRetry, Status, WebhookDelivery
from common.db.session import make_engine, make_sessionmaker
from common.settings import Settings

from tests.database import fresh_database
from tools.admin.tests.integration.support import TEMPLATE, admin

pytestmark = pytest.mark.integration


async def a_group_three_records_behind(bootstrap: str) -> tuple[str, str]:
    """A topic with 3 records on partition 0 and 2 on partition 1; a group that committed 2 on partition 0."""
    suffix = uuid.uuid4().hex[:8]
    topic, group = f"backlog-test.{suffix}", f"backlog-test-{suffix}"
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await client.start()
    await client.create_topics([NewTopic(topic, 2, 1)])
    await client.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for partition in (0, 0, 0, 1, 1):
        await producer.send_and_wait(topic, b"x", partition=partition)
    await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    await consumer.stop()
    return topic, group


async def test_backlog_shows_where_work_waits(
    postgres_server_url: str, kafka_bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic, group = await a_group_three_records_behind(kafka_bootstrap_servers)
    monkeypatch.setattr(backlog, "GROUPS", {group: (topic,)})
    settings = Settings(
        database_url=fresh_database(postgres_server_url, "backlog"),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    engine = make_engine(settings)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine).begin() as session:
        for stage, due in [("detector", -30), ("detector", 60), ("uploader", 60)]:
            session.add(
                StageRetry(
                    stage=stage,
                    generation_id=uuid.uuid4(),
                    payload={},
                    attempts=1,
                    due_at=now + timedelta(seconds=due),
                )
            )
        for status, due in [(Status.PENDING, -45), (Status.RUNNING, 60)]:
            session.add(
                Generation(
                    status=status,
                    stage="poller",
                    template_id=TEMPLATE,
                    task_id=str(uuid.uuid4()),
                    next_poll_at=now + timedelta(seconds=due),
                )
            )
        session.add(
            OutboxRecord(topic="t", key="k", payload={}, headers={}, created_at=now - timedelta(seconds=120))
        )
        session.add(OutboxRecord(topic="t", key="k", payload={}, headers={}, published_at=now))
        for delivered in (None, now):
            session.add(
                WebhookDelivery(
                    webhook_id=str(uuid.uuid4()),
                    generation_id=uuid.uuid4(),
                    url="https://x.example",
                    event_type="e",
                    payload={},
                    next_attempt_at=now - timedelta(seconds=5),
                    delivered_at=delivered,
                )
            )
    await engine.dispose()

    status, text = await admin(settings, "backlog")
    found: dict[str, Any] = json.loads((await admin(settings, "backlog", "--json"))[1])

    assert status == 0
    assert found["lag"] == [{"group": group, "topic": topic, "lag": 3, "partitions": 2}]
    assert f"  {group:<12} {topic:<22} 3 (2 partitions)" in text
    assert found["dead_letters"] >= 0 and "dead letters on dead-letter: " in text
    detector, uploader = found["stage_retries"]
    assert (detector["stage"], detector["due"], detector["total"]) == ("detector", 1, 2) and 29 <= detector[
        "overdue"
    ] < 90
    assert (uploader["stage"], uploader["due"], uploader["total"], uploader["overdue"]) == (
        "uploader",
        0,
        1,
        0,
    )
    polls = found["poll_schedule"]
    assert (polls["watched"], polls["due"]) == (2, 1) and 44 <= polls["overdue"] < 120
    assert found["outbox"]["unpublished"] == 1 and 119 <= found["outbox"]["oldest"] < 200
    assert found["webhook_deliveries"] == {"pending": 1, "due": 1}
    assert "poll schedule: 2 task(s) watched, 1 due, most overdue" in text
    assert "outbox: 1 unpublished, the oldest 1" in text
    assert "webhook deliveries: 1 pending, 1 due" in text

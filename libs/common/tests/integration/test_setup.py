"""The setup job (`python -m common.setup`) on the real broker and Postgres: a fresh database gets the
schema and the topics come with the configured partitions, replication and min.insync.replicas; a
second run changes nothing. The topic names are made unique per test (the broker is shared)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from alembic.script import ScriptDirectory
from common import setup, topics
from common.settings import Settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.database import ROOT, empty_database

pytestmark = pytest.mark.integration
DYNAMIC_TOPIC_CONFIG = 1  # describe_configs' config_source of a value set on the topic itself


@pytest.fixture
def unique_topics(monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setattr(topics, "ALL", tuple(f"{t}.{suffix}" for t in topics.ALL))
    monkeypatch.setattr(topics, "PUBLIC", tuple(f"{t}.{suffix}" for t in topics.PUBLIC))
    return topics.ALL


async def describe(bootstrap: str, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per topic: its partitions' replica counts and its configs with their source."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(names))
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        configs = (await admin.describe_configs(resources))[0].to_object()["resources"]
    finally:
        await admin.close()
    found: dict[str, dict[str, Any]] = {
        t["topic"]: {"replicas": [len(p["replicas"]) for p in t["partitions"]]} for t in described
    }
    for resource in configs:
        found[resource["resource_name"]]["configs"] = {
            e["config_names"]: (e["config_value"], e["config_source"]) for e in resource["config_entries"]
        }
    return found


async def test_setup_migrates_a_fresh_database_and_creates_the_topics_once(
    postgres_server_url: str, kafka_bootstrap_servers: str, unique_topics: tuple[str, ...]
) -> None:
    settings = Settings(
        database_url=empty_database(postgres_server_url, "setup"),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_partitions=3,
        kafka_replication_factor=1,
        kafka_min_insync_replicas=1,
    )
    head = ScriptDirectory.from_config(setup.alembic_config(settings)).get_current_head()

    first = await setup.setup(settings)

    assert (first.revision_before, first.revision_after) == (None, head)
    assert first.topics_created == sorted(unique_topics)
    engine = create_async_engine(settings.database_url)
    async with engine.connect() as connection:  # the schema is there, with the newest column
        assert await connection.scalar(text("SELECT count(*) FROM generations WHERE attempt = 0")) == 0
    await engine.dispose()
    found = await describe(kafka_bootstrap_servers, unique_topics)
    assert set(found) == set(unique_topics)
    for name, topic in found.items():
        assert topic["replicas"] == [1, 1, 1], name  # 3 partitions, replication 1
        assert topic["configs"]["min.insync.replicas"] == ("1", DYNAMIC_TOPIC_CONFIG), name
        retention = topic["configs"]["retention.ms"]
        if name in topics.PUBLIC:
            assert retention == (str(topics.PUBLIC_RETENTION_MS), DYNAMIC_TOPIC_CONFIG)
        else:
            assert retention[1] != DYNAMIC_TOPIC_CONFIG  # the broker's default

    second = await setup.setup(settings)

    assert (second.revision_before, second.revision_after, second.topics_created) == (head, head, [])
    assert not second.changed


async def test_a_replication_the_cluster_cannot_give_is_an_error_not_silence(
    kafka_bootstrap_servers: str, unique_topics: tuple[str, ...]
) -> None:
    from common.messaging import ensure_topics

    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap_servers, kafka_replication_factor=3)
    with pytest.raises(KafkaError, match="creating topic"):
        await ensure_topics(settings)  # one broker: 3 replicas are impossible


def test_the_command_runs_twice_and_says_what_it_did(
    postgres_server_url: str, kafka_bootstrap_servers: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": empty_database(postgres_server_url, "setupcli"),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "LOG_FORMAT": "text",
    }

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "common.setup"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    first = run()
    assert "database: migrated from revision (empty) to" in first
    assert "setup done" in first
    second = run()
    assert "database: schema already at revision" in second
    assert "kafka: created 0 topic(s); 9 already present" in second
    assert "setup done: nothing to change" in second

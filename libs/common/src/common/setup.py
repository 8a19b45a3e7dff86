"""`python -m common.setup`: the one-shot setup job of a deployment (and of `make run`).

It migrates the database to the newest schema (Alembic, `upgrade head`), then creates the Kafka topics
that are missing, with `TOPIC_PARTITIONS` partitions, `KAFKA_REPLICATION_FACTOR` replicas and
`min.insync.replicas` = `KAFKA_MIN_INSYNC_REPLICAS` (the public topics also with their retention).
Idempotent: a second run changes nothing and says so; an existing topic is never altered. It logs what
it did and exits 0; on any failure it logs why and exits 1 (a Kubernetes Job then runs it again).
On a cluster, processes then run with `CREATE_TOPICS_AT_START=false`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from common import logging as service_logging
from common import topics
from common.db.session import make_engine
from common.messaging import ensure_topics
from common.settings import Settings, load_settings

log = logging.getLogger("common.setup")
# libs/common/alembic.ini, beside the package's source (the workspace is installed in place, the image too)
ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


@dataclass(frozen=True)
class SetupReport:
    revision_before: str | None  # None: an empty database
    revision_after: str | None
    topics_created: list[str]

    @property
    def changed(self) -> bool:
        return self.revision_before != self.revision_after or bool(self.topics_created)


def alembic_config(settings: Settings) -> Config:
    config = Config(os.environ.get("ALEMBIC_CONFIG") or str(ALEMBIC_INI))
    config.attributes["database_url"] = settings.database_url  # read by migrations/env.py
    return config


async def database_revision(settings: Settings) -> str | None:
    """The schema revision the database is at; None when it has none yet."""
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.connect() as connection:
            if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
                return None
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return None if revision is None else str(revision)
    finally:
        await engine.dispose()


async def setup(settings: Settings) -> SetupReport:
    before = await database_revision(settings)
    # Alembic's env.py runs its own event loop: it gets a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(settings), "head")
    after = await database_revision(settings)
    if before == after:
        log.info("database: schema already at revision %s, nothing to migrate", after)
    else:
        log.info("database: migrated from revision %s to %s", before or "(empty)", after)
    created = await ensure_topics(settings)
    present = len(topics.ALL) - len(created)
    log.info(
        "kafka: created %d topic(s)%s; %d already present (partitions %d, replication %d, min.insync %d)",
        len(created),
        f" ({', '.join(created)})" if created else "",
        present,
        settings.topic_partitions,
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )
    return SetupReport(before, after, created)


def main() -> int:
    settings = load_settings()
    service_logging.configure("setup", settings)
    try:
        report = asyncio.run(setup(settings))
    except Exception:
        log.exception("setup failed")
        return 1
    log.info("setup done: %s", "changes made" if report.changed else "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())

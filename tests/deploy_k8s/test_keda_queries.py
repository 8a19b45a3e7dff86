"""The queries KEDA's postgresql triggers run, against a real database migrated to head: each returns
one count, and the retry count of a stage counts that stage's due retries only."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.deploy_k8s.manifests import kubectl, overlay

pytestmark = pytest.mark.integration


def _queries() -> dict[tuple[str, str], str]:
    if kubectl() is None:
        return {}
    rendered = overlay("local")
    return {
        (so["metadata"]["name"], t["name"]): t["metadata"]["query"]
        for so in rendered.of_kind("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "postgresql"
    }


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        yield connection
    finally:
        await connection.close()


async def test_every_keda_query_runs_on_the_real_schema(db: asyncpg.Connection) -> None:
    queries = _queries()
    if not queries:
        pytest.skip("kubectl is not installed: no manifests rendered")
    for (scaled_object, trigger), query in queries.items():
        rows = await db.fetch(query)
        assert len(rows) == 1 and len(rows[0]) == 1, f"{scaled_object}/{trigger}: {rows}"
        assert isinstance(rows[0][0], int)


async def test_a_due_retry_counts_for_its_own_stage_only(db: asyncpg.Connection) -> None:
    queries = _queries()
    if not queries:
        pytest.skip("kubectl is not installed: no manifests rendered")
    before = {stage: await db.fetchval(queries[(stage, "retries-due")]) for stage in ("uploader", "detector")}
    await db.execute(
        "INSERT INTO stage_retries (stage, generation_id, payload, attempts, errors, due_at) "
        "VALUES ('uploader', $1, $2::jsonb, 1, 1, now() - interval '1 second'), "
        "('uploader', $3, $2::jsonb, 1, 1, now() + interval '1 hour')",
        uuid.uuid4(),
        json.dumps({}),
        uuid.uuid4(),
    )
    assert await db.fetchval(queries[("uploader", "retries-due")]) == before["uploader"] + 1
    assert await db.fetchval(queries[("detector", "retries-due")]) == before["detector"]

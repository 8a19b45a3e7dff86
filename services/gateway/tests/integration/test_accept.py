"""The gateway on the real database and broker: a request is stored, then published keyed by its id."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from common import topics
from emulators.testing import make_photo

from tests.gateway_app import MEDIA_DIR, in_process_gateway, sql

pytestmark = pytest.mark.integration
TEMPLATE = "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL"


@pytest.fixture
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as client:
        yield client


async def _events(bootstrap: str, generation_id: str) -> list[tuple[bytes, dict[str, bytes], bytes]]:
    consumer = AIOKafkaConsumer(
        topics.GENERATION_REQUESTED,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"probe-{uuid.uuid4()}",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        records = [r for batch in batches.values() for r in batch]
    finally:
        await consumer.stop()
    return [(r.key, dict(r.headers), r.value) for r in records if r.key == generation_id.encode()]


async def test_accepted_request_is_stored_and_published_keyed_by_its_id(
    api: httpx.AsyncClient, kafka_bootstrap_servers: str, database_url: str
) -> None:
    photo = make_photo()
    answer = await api.post(
        "/api/generations",
        files={"file": ("me.png", photo, "image/png")},
        data={"templateId": TEMPLATE, "email": "a@b.c"},
    )
    assert answer.status_code == 202
    generation_id = answer.json()["generationId"]

    status = (await api.get(f"/api/generations/{generation_id}")).json()
    assert (status["status"], status["templateId"], status["stage"]) == ("QUEUED", TEMPLATE, "gateway")

    [(_, headers, body)] = await _events(kafka_bootstrap_servers, generation_id)
    assert (
        headers["ce_type"] == b"com.dancer.GenerationRequested.v1"
        and headers["ce_source"] == b"/dancer/gateway"
    )
    assert b'"asset_id"' in body and TEMPLATE.encode() in body
    # The photo lives in the media store, not in the database.
    [asset] = await sql(
        database_url,
        "SELECT media_key, data FROM assets a JOIN generations g ON g.asset_id = a.id WHERE g.id = $1",
        uuid.UUID(generation_id),
    )
    assert asset["data"] is None and (MEDIA_DIR / asset["media_key"]).read_bytes() == photo


async def test_request_with_an_unknown_template_is_neither_stored_nor_published(
    api: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    answer = await api.post(
        "/api/generations", json={"templateId": "AACT.x.y", "imageUrl": "https://p/x.png"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "UnknownTemplate"

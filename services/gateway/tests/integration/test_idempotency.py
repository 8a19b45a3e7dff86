"""`Idempotency-Key` on POST /api/generations, on the real database and broker: a retried request gets
the generation the first one made, never a second (paid) one, even when the retries race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from common import topics
from emulators.testing import make_photo

from tests.gateway_app import in_process_gateway, new_api_client, sql, sql_count

pytestmark = pytest.mark.integration

TEMPLATE = "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL"
BODY = {"templateId": TEMPLATE, "imageUrl": "https://8.8.8.8/me.png"}
OTHER_BODY = {"templateId": TEMPLATE, "imageUrl": "https://8.8.4.4/someone-else.png"}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Access mode `open`: every caller shares one idempotency scope."""
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as client:
        yield client


async def all_generations(database_url: str) -> int:
    return await sql_count(database_url, "SELECT count(*) FROM generations")


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


async def test_the_same_key_and_body_twice_give_one_generation(
    api: httpx.AsyncClient, database_url: str
) -> None:
    headers = key()
    before = await all_generations(database_url)

    first = await api.post("/api/generations", json=BODY, headers=headers)
    again = await api.post("/api/generations", json=BODY, headers=headers)

    assert (first.status_code, again.status_code) == (202, 202), (first.text, again.text)
    assert again.json()["generationId"] == first.json()["generationId"]
    assert again.headers["location"] == first.headers["location"]
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert await all_generations(database_url) == before + 1


async def test_the_same_photo_under_the_same_key_is_a_replay(
    api: httpx.AsyncClient, database_url: str
) -> None:
    headers, photo = key(), make_photo()
    before = await all_generations(database_url)
    assets_before = await sql_count(database_url, "SELECT count(*) FROM assets")

    answers = [
        await api.post(
            "/api/generations",
            files={"file": ("me.png", photo, "image/png")},
            data={"templateId": TEMPLATE},
            headers=headers,
        )
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json()["generationId"] == answers[1].json()["generationId"]
    assert await all_generations(database_url) == before + 1
    assert await sql_count(database_url, "SELECT count(*) FROM assets") == assets_before + 1  # one photo kept


async def test_the_same_key_with_another_body_is_a_409(api: httpx.AsyncClient, database_url: str) -> None:
    headers = key()
    first = await api.post("/api/generations", json=BODY, headers=headers)
    assert first.status_code == 202, first.text
    before = await all_generations(database_url)

    reused = await api.post("/api/generations", json=OTHER_BODY, headers=headers)

    assert reused.status_code == 409
    assert reused.headers["content-type"].startswith(PROBLEM)
    assert reused.json()["code"] == "IdempotencyKeyReused" and reused.json()["field"] == "Idempotency-Key"
    assert await all_generations(database_url) == before
    again = await api.post("/api/generations", json=BODY, headers=headers)
    assert again.json()["generationId"] == first.json()["generationId"]  # the key still means the first


async def test_different_clients_with_the_same_key_are_independent(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    (a, key_a), (b, key_b) = [await new_api_client(database_url, name) for name in ("A", "B")]
    headers = key()
    async with in_process_gateway(kafka_bootstrap_servers, database_url, access_mode="keys") as api:
        of_a = await api.post("/api/generations", json=BODY, headers=headers | {"X-API-Key": key_a})
        of_b = await api.post("/api/generations", json=OTHER_BODY, headers=headers | {"X-API-Key": key_b})
        again_b = await api.post("/api/generations", json=OTHER_BODY, headers=headers | {"X-API-Key": key_b})

    assert (of_a.status_code, of_b.status_code, again_b.status_code) == (202, 202, 202)
    assert of_a.json()["generationId"] != of_b.json()["generationId"]
    assert "idempotent-replayed" not in of_b.headers
    assert again_b.json()["generationId"] == of_b.json()["generationId"]
    for client in (a, b):
        assert (
            await sql_count(database_url, "SELECT count(*) FROM generations WHERE client_id = $1", client.id)
            == 1
        )


async def test_a_key_older_than_its_retention_makes_a_new_generation(
    api: httpx.AsyncClient, database_url: str
) -> None:
    headers = key()
    first = await api.post("/api/generations", json=BODY, headers=headers)
    assert first.status_code == 202, first.text
    await sql(
        database_url,
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
        headers["Idempotency-Key"],
    )
    before = await all_generations(database_url)

    later = await api.post("/api/generations", json=OTHER_BODY, headers=headers)  # even with another body
    replay = await api.post("/api/generations", json=OTHER_BODY, headers=headers)

    assert later.status_code == 202, later.text
    assert later.json()["generationId"] != first.json()["generationId"]
    assert "idempotent-replayed" not in later.headers
    assert replay.json()["generationId"] == later.json()["generationId"]
    assert await all_generations(database_url) == before + 1


async def test_a_short_retention_setting_frees_the_key(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    headers = key()
    async with in_process_gateway(kafka_bootstrap_servers, database_url, idempotency_ttl_seconds=0.5) as api:
        first = await api.post("/api/generations", json=BODY, headers=headers)
        await asyncio.sleep(1.0)
        later = await api.post("/api/generations", json=BODY, headers=headers)

    assert (first.status_code, later.status_code) == (202, 202)
    assert later.json()["generationId"] != first.json()["generationId"]


async def test_twenty_concurrent_retries_make_one_generation_and_one_event(
    api: httpx.AsyncClient, database_url: str
) -> None:
    headers = key()
    before = await all_generations(database_url)

    answers = await asyncio.gather(
        *(api.post("/api/generations", json=BODY, headers=headers) for _ in range(20))
    )

    assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers if a.status_code != 202]
    [generation_id] = {a.json()["generationId"] for a in answers}
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert await all_generations(database_url) == before + 1
    assert (
        await sql_count(
            database_url, "SELECT count(*) FROM generations WHERE id = $1", uuid.UUID(generation_id)
        )
        == 1
    )
    outbox = await sql_count(
        database_url,
        "SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2",
        generation_id,
        topics.GENERATION_REQUESTED,
    )
    assert outbox == 1
    assert (
        await sql_count(
            database_url, "SELECT count(*) FROM idempotency_keys WHERE key = $1", headers["Idempotency-Key"]
        )
        == 1
    )


async def test_keys_past_their_retention_are_deleted_while_fresh_ones_stay(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    async with in_process_gateway(
        kafka_bootstrap_servers, database_url, idempotency_ttl_seconds=3600
    ) as client:
        fresh = key()
        assert (await client.post("/api/generations", json=BODY, headers=fresh)).status_code == 202
        stale = key()
        assert (await client.post("/api/generations", json=OTHER_BODY, headers=stale)).status_code == 202
    await sql(
        database_url,
        "UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE key = $1",
        stale["Idempotency-Key"],
    )

    async with in_process_gateway(kafka_bootstrap_servers, database_url, idempotency_ttl_seconds=3600):
        for _ in range(50):  # the housekeeping task runs once at start-up, then every few minutes
            left = {r["key"] for r in await sql(database_url, "SELECT key FROM idempotency_keys")}
            if stale["Idempotency-Key"] not in left:
                break
            await asyncio.sleep(0.1)
    assert fresh["Idempotency-Key"] in left and stale["Idempotency-Key"] not in left

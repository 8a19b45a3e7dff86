"""The second provider at the gateway, on the real database and broker: cutout.pro's templates in the
catalogue, `outputFormat` gif only where a provider makes GIFs, cutout.pro's completion callback (a secret
path, a hint that makes the job due for a poll at once, never trusted), and what a caller's videos cost."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.gateway_app import in_process_gateway, new_api_client, sql

pytestmark = pytest.mark.integration

DASHSCOPE_TEMPLATE = "AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ"
IMAGE = "https://8.8.8.8/me.png"
TOKEN = "cb-token-5f0e1d2c3b4a"
CALLBACK = f"/api/providers/cutout/callback/{TOKEN}"


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(
        kafka_bootstrap_servers, database_url, cutout_callback_token=TOKEN
    ) as client:
        yield client


async def create(api: httpx.AsyncClient, template: str, **fields: str) -> httpx.Response:
    return await api.post("/api/generations", json={"templateId": template, "imageUrl": IMAGE, **fields})


async def test_the_catalogue_offers_cutouts_six_templates_with_their_billed_lengths(
    api: httpx.AsyncClient,
) -> None:
    templates = (await api.get("/api/generation/templates")).json()
    cutout = {t["templateId"]: t["durationSeconds"] for t in templates if t["provider"] == "cutout"}
    assert cutout == {
        "cutout-0": 3.13,
        "cutout-1": 7.13,
        "cutout-2": 2.13,
        "cutout-3": 6.75,
        "cutout-4": 4.38,
        "cutout-5": 3.75,
    }
    assert any(t["provider"] == "dashscope" for t in templates)


async def test_a_gif_is_asked_of_a_provider_that_makes_one_only(
    api: httpx.AsyncClient, database_url: str
) -> None:
    refused = await create(api, DASHSCOPE_TEMPLATE, outputFormat="gif")
    assert refused.status_code == 400, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("InvalidRequest", "outputFormat")
    assert (await create(api, "cutout-2", outputFormat="webm")).status_code == 422  # not a format at all

    accepted = await create(api, "cutout-2", outputFormat="gif")
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    [row] = await sql(
        database_url,
        "SELECT provider, output_format FROM generations WHERE id = $1",
        uuid.UUID(generation_id),
    )
    assert (row["provider"], row["output_format"]) == ("cutout", "gif")
    shown = (await api.get(f"/api/generations/{generation_id}")).json()
    assert (shown["outputFormat"], shown["provider"], shown["gifUrl"]) == ("gif", "cutout", None)


async def _watched_cutout_job(api: httpx.AsyncClient, database_url: str, task_id: str) -> uuid.UUID:
    """A cutout.pro generation whose job runs, next polled in an hour."""
    generation_id = uuid.UUID((await create(api, "cutout-0")).json()["generationId"])
    await sql(
        database_url,
        "UPDATE generations SET status = 'RUNNING', task_id = $2, next_poll_at = now() + interval '1 hour' "
        "WHERE id = $1",
        generation_id,
        task_id,
    )
    return generation_id


async def next_poll_in_seconds(database_url: str, generation_id: uuid.UUID) -> float:
    [row] = await sql(
        database_url,
        "SELECT extract(epoch FROM next_poll_at - now()) AS s, status FROM generations WHERE id = $1",
        generation_id,
    )
    return float(row["s"])


async def test_a_completion_notice_makes_its_job_due_for_a_poll_at_once(
    api: httpx.AsyncClient, database_url: str
) -> None:
    task_id = str(uuid.uuid4().int % 10**12)
    generation_id = await _watched_cutout_job(api, database_url, task_id)
    notice = {
        "eventName": "EVENT_FACE_DRIVEN_TASK_FINISHED",
        "eventData": {"taskId": int(task_id), "resultUrl": "https://evil.example/not-trusted.mp4"},
    }

    answer = await api.post(CALLBACK, json=notice)

    assert answer.status_code == 204, answer.text
    assert await next_poll_in_seconds(database_url, generation_id) <= 0  # due now: the poller confirms
    [row] = await sql(
        database_url, "SELECT status, provider_video_url FROM generations WHERE id = $1", generation_id
    )
    assert (row["status"], row["provider_video_url"]) == ("RUNNING", None)  # the body decided nothing
    for harmless in (
        b"not json",
        b"[]",
        b'{"eventData": {"taskId": true}}',
        b'{"eventData": {"taskId": "999"}}',
    ):
        assert (await api.post(CALLBACK, content=harmless)).status_code == 204


async def test_a_wrong_or_missing_token_is_a_path_that_does_not_exist(
    api: httpx.AsyncClient, database_url: str, kafka_bootstrap_servers: str
) -> None:
    task_id = str(uuid.uuid4().int % 10**12)
    generation_id = await _watched_cutout_job(api, database_url, task_id)
    notice = {"eventData": {"taskId": int(task_id)}}
    for path in ("/api/providers/cutout/callback/wrong", "/api/providers/cutout/callback/", CALLBACK + "x"):
        answer = await api.post(path, json=notice)
        assert answer.status_code == 404, (path, answer.text)
    assert await next_poll_in_seconds(database_url, generation_id) > 3000  # unchanged
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as no_token_set:
        assert (await no_token_set.post("/api/providers/cutout/callback/", json=notice)).status_code == 404
        assert (await no_token_set.post(CALLBACK, json=notice)).status_code == 404


async def test_usage_sums_what_each_providers_videos_cost_for_the_calling_client(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    client, key = await new_api_client(database_url, "usage")
    async with in_process_gateway(kafka_bootstrap_servers, database_url, access_mode="keys") as keyed:
        headers = {"Authorization": f"Bearer {key}"}
        for template, billed in (("cutout-1", 7.13), ("cutout-3", 6.75), (DASHSCOPE_TEMPLATE, 5.0)):
            answer = await keyed.post(
                "/api/generations", json={"templateId": template, "imageUrl": IMAGE}, headers=headers
            )
            assert answer.status_code == 202, answer.text
            await sql(
                database_url,
                "UPDATE generations SET billed_seconds = $2 WHERE id = $1",
                uuid.UUID(answer.json()["generationId"]),
                billed,
            )
        usage = (await keyed.get("/api/usage", headers=headers)).json()
        assert usage == [
            {"provider": "cutout", "videos": 2, "billedSeconds": 13.88},
            {"provider": "dashscope", "videos": 1, "billedSeconds": 5.0},
        ]
        assert (await keyed.get("/api/usage")).status_code == 401
    assert client.id is not None

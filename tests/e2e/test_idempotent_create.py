"""A client that retries its create twenty times at once, with one Idempotency-Key, pays for one video:
one generation, which succeeds, and one video-synthesis job at the provider (the emulator counts them)."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.images import person_photo
from tests.e2e.test_generation_flow import TEMPLATE, wait_for_end
from tests.gateway_app import sql_count

pytestmark = pytest.mark.e2e
RETRIES = 20


def provider_jobs(emulator_url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The emulator's counters and the video-synthesis tasks it has been given."""
    counters: dict[str, Any] = httpx.get(f"{emulator_url}/admin/counters", timeout=10).json()
    tasks: list[dict[str, Any]] = httpx.get(f"{emulator_url}/admin/tasks", timeout=10).json()
    return counters, tasks


async def generations_in(database_url: str) -> int:
    return await sql_count(database_url, "SELECT count(*) FROM generations")


async def test_twenty_concurrent_retries_with_one_key_make_one_video_and_one_provider_job(
    gateway_url: str, emulator_url: str, e2e_database_url: str
) -> None:
    # A photo no other test sends: a second job for it would show as a duplicate submission.
    photo = person_photo(background=(random.randrange(256), random.randrange(256), random.randrange(40, 256)))
    headers = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
    counters_before, tasks_before = provider_jobs(emulator_url)
    generations_before = await generations_in(e2e_database_url)

    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/generations",
                    files={"file": ("me.png", photo, "image/png")},
                    data={"templateId": TEMPLATE},
                    headers=headers,
                )
                for _ in range(RETRIES)
            )
        )

    assert [a.status_code for a in answers] == [202] * RETRIES, [
        a.text for a in answers if a.status_code != 202
    ]
    [generation_id] = {a.json()["generationId"] for a in answers}
    assert {a.headers["location"] for a in answers} == {f"/api/generations/{generation_id}"}
    assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
    assert await generations_in(e2e_database_url) == generations_before + 1

    final = await asyncio.to_thread(wait_for_end, gateway_url, f"/api/generations/{generation_id}")

    assert final["status"] == "SUCCEEDED", final
    counters_after, tasks_after = provider_jobs(emulator_url)
    submitted = sum(counters_after["tasks_submitted"].values()) - sum(
        counters_before["tasks_submitted"].values()
    )
    assert submitted == 1, (counters_before, counters_after)
    assert counters_after["duplicate_submissions"] == counters_before["duplicate_submissions"]
    known = {t["task_id"] for t in tasks_before}
    assert [t["task_id"] for t in tasks_after if t["task_id"] not in known] == [final["taskId"]]

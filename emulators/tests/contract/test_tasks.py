"""Tasks (dashscope.md §5): the list with paging and filters, retention, unknown tasks."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, submit_synthesis, wait_for_task
from emulators.testing.tasks import query_task

BEIJING = timezone(timedelta(hours=8))


def compact(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


async def test_unknown_task_is_unknown(client: httpx.AsyncClient) -> None:
    body = await query_task(client, "no-such-task")
    assert body["output"]["task_status"] == "UNKNOWN"
    assert body["request_id"]


async def test_task_list_pages_the_accounts_tasks_newest_first(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    started = datetime.now(BEIJING) - timedelta(seconds=2)
    mine = [await submit_synthesis(client) for _ in range(3)]
    await submit_synthesis(other_client)
    params = {
        "start_time": compact(started),
        "end_time": compact(datetime.now(BEIJING) + timedelta(seconds=2)),
    }
    first = await client.get("/api/v1/tasks", params=params | {"page_no": 1, "page_size": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["request_id"]
    assert (page["total"], page["total_page"], page["page_no"], page["page_size"]) == (3, 2, 1, 2)
    assert [row["task_id"] for row in page["data"]] == mine[:0:-1]
    row = page["data"][0]
    assert {"task_id", "status", "model_name", "gmt_create", "start_time", "end_time"} <= row.keys()
    assert row["model_name"] == "animate-anyone-gen2"
    assert abs(row["gmt_create"] / 1000 - time.time()) < 60, "gmt_create is epoch milliseconds"

    second = (await client.get("/api/v1/tasks", params=params | {"page_no": 2, "page_size": 2})).json()
    assert [row["task_id"] for row in second["data"]] == mine[:1]


async def test_task_list_filters_by_status_model_and_time(client: httpx.AsyncClient) -> None:
    running, waiting = await submit_synthesis(client), await submit_synthesis(client)
    await client.post(f"/api/v1/tasks/{waiting}/cancel")
    canceled = (await client.get("/api/v1/tasks", params={"status": "CANCELED"})).json()
    assert [row["task_id"] for row in canceled["data"]] == [waiting]
    other_model = (
        await client.get("/api/v1/tasks", params={"model_name": "animate-anyone-detect-gen2"})
    ).json()
    assert other_model["total"] == 0
    future = compact(datetime.now(BEIJING) + timedelta(hours=1))
    later = (await client.get("/api/v1/tasks", params={"start_time": future})).json()
    assert (later["total"], later["data"]) == (0, [])
    assert running


async def test_task_list_refuses_a_malformed_time(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tasks", params={"start_time": "yesterday"})
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")


@pytest.mark.emulator_only
async def test_finished_tasks_are_forgotten_after_the_retention(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"task_retention_seconds": 0.3}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        task_id = await submit_synthesis(client)
        assert (await wait_for_task(client, task_id))["output"]["task_status"] == "SUCCEEDED"
        await asyncio.sleep(0.35)
        forgotten = await query_task(client, task_id)
        listed = (await client.get("/api/v1/tasks")).json()
    await app.state.emulator.close()
    assert forgotten["output"]["task_status"] == "UNKNOWN"
    assert listed["total"] == 0


@pytest.mark.emulator_only
async def test_video_url_expires(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"video_url_ttl_seconds": 0}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        url = (await wait_for_task(client, await submit_synthesis(client)))["output"]["video_url"]
        response = await client.get(url)
    await app.state.emulator.close()
    assert response.status_code == 403
    assert "Request has expired" in response.text

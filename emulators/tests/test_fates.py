"""Scripted task fates: by admin rule (sha256, next N, probability) or by the input's own metadata."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from emulators.app import create_app
from emulators.config import FateRule, RuntimeConfig
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, make_photo, submit_synthesis, wait_for_task

pytestmark = pytest.mark.emulator_only


async def outcome(client: httpx.AsyncClient, photo: bytes | None = None) -> tuple[str, str | None]:
    output = (await wait_for_task(client, await submit_synthesis(client, photo)))["output"]
    return output["task_status"], output.get("code")


async def test_the_next_submit_fails_with_the_given_code(client: httpx.AsyncClient) -> None:
    rule = {"next": 1, "fate": "fail", "code": "InternalError.Algo", "message": "boom"}
    assert (await client.post("/admin/task-fates", json=rule)).json()[0]["next"] == 1
    assert await outcome(client) == ("FAILED", "InternalError.Algo")
    assert await outcome(client) == ("SUCCEEDED", None)
    assert (await client.get("/admin/task-fates")).json() == []


async def test_a_photo_by_sha256_can_fail_in_post_processing(client: httpx.AsyncClient) -> None:
    photo = make_photo(width=500)
    sha = hashlib.sha256(photo).hexdigest()
    rule = {"sha256": sha, "code": "InternalError.Render", "phase": "POST-PROCESSING"}
    await client.post("/admin/task-fates", json=rule)
    task_id = await submit_synthesis(client, photo)
    assert (await wait_for_task(client, task_id, {"POST-PROCESSING"}))["output"][
        "task_status"
    ] == "POST-PROCESSING"
    output = (await wait_for_task(client, task_id))["output"]
    assert (output["task_status"], output["code"]) == ("FAILED", "InternalError.Render")
    assert await outcome(client) == ("SUCCEEDED", None), "other photos are not affected"


async def test_the_photos_own_mark_decides_without_admin_access(client: httpx.AsyncClient) -> None:
    task_id = await submit_synthesis(client, make_photo(task_mark="fail InvalidFile.BodyPose sitting down"))
    output = (await wait_for_task(client, task_id))["output"]
    assert (output["task_status"], output["code"], output["message"]) == (
        "FAILED",
        "InvalidFile.BodyPose",
        "sitting down",
    )


async def test_a_task_that_never_finishes_blocks_its_lane_until_the_provider_gives_up(
    settings: EmulatorSettings,
) -> None:
    app = create_app(settings.model_copy(update={"stuck_task_seconds": 0.6}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        stuck = await submit_synthesis(client, make_photo(task_mark="never"))
        waiting = await submit_synthesis(client)
        assert (await wait_for_task(client, stuck, {"RUNNING"}))["output"]["task_status"] == "RUNNING"
        assert (await client.get(f"/api/v1/tasks/{waiting}")).json()["output"]["task_status"] == "PENDING"
        ended = (await wait_for_task(client, stuck))["output"]
        done = (await wait_for_task(client, waiting))["output"]
    await app.state.emulator.close()
    assert (ended["task_status"], ended["code"]) == ("FAILED", "InternalError.Timeout")
    assert done["task_status"] == "SUCCEEDED"


async def test_a_succeed_rule_overrides_a_failing_person_check(client: httpx.AsyncClient) -> None:
    await client.post("/admin/task-fates", json={"fate": "succeed"})
    assert await outcome(client, make_photo(detect_reason="two people")) == ("SUCCEEDED", None)
    await client.delete("/admin/task-fates")
    assert await outcome(client, make_photo(detect_reason="two people")) == ("FAILED", "InvalidFile.Content")


async def test_probabilistic_fates_repeat_with_the_seed(settings: EmulatorSettings) -> None:
    runs = []
    for run in range(2):
        config = RuntimeConfig(
            seed=3, quotas="off", task_fates=[FateRule(probability=0.5, phase="PRE-PROCESSING")]
        )
        app = create_app(settings.model_copy(update={"data_dir": settings.data_dir / str(run)}), config)
        async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
            ids = [await submit_synthesis(client) for _ in range(6)]
            tasks = (await client.get("/admin/tasks")).json()
        await app.state.emulator.close()
        by_id = {task["task_id"]: task["fate"] is not None for task in tasks}
        runs.append([by_id[task_id] for task_id in ids])
    assert runs[0] == runs[1] and True in runs[0] and False in runs[0]

"""Accounts: any `sk-` key by default; or configured groups of keys, other keys refused."""

from __future__ import annotations

import pytest
from emulators.app import create_app
from emulators.config import RuntimeConfig
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, make_photo, submit_synthesis, upload_photo, wait_for_task
from emulators.testing.tasks import query_task
from fastapi import FastAPI

pytestmark = pytest.mark.emulator_only


async def test_keys_of_one_account_share_its_files_and_tasks(settings: EmulatorSettings) -> None:
    app = create_app(settings, RuntimeConfig(accounts={"team": ["sk-alice", "sk-bob"], "solo": ["sk-carol"]}))
    async with (
        asgi_client(app, api_key="sk-alice", base_url=settings.public_url) as alice,
        asgi_client(app, api_key="sk-bob", base_url=settings.public_url) as bob,
        asgi_client(app, api_key="sk-carol", base_url=settings.public_url) as carol,
        asgi_client(app, api_key="sk-mallory", base_url=settings.public_url) as mallory,
    ):
        task_id = await submit_synthesis(alice)
        seen_by_bob = await query_task(bob, task_id)
        seen_by_carol = await query_task(carol, task_id)
        url = await upload_photo(bob, make_photo(), model="animate-anyone-gen2")
        refused = await mallory.get(f"/api/v1/tasks/{task_id}")
        await wait_for_task(alice, task_id)
        counters = (await alice.get("/admin/counters")).json()
    await app.state.emulator.close()
    assert seen_by_bob["output"]["task_status"] != "UNKNOWN"
    assert seen_by_carol["output"]["task_status"] == "UNKNOWN"
    assert url.startswith("oss://dashscope-instant/team/")
    assert (refused.status_code, refused.json()["code"]) == (401, "InvalidApiKey")
    assert counters["tasks_submitted"] == {"team": 1}


async def test_by_default_every_sk_key_is_its_own_account(app: FastAPI, settings: EmulatorSettings) -> None:
    async with asgi_client(app, api_key="sk-anything", base_url=settings.public_url) as anyone:
        assert (await anyone.get("/api/v1/tasks/t")).status_code == 200
    async with asgi_client(app, api_key="not-sk", base_url=settings.public_url) as stranger:
        assert (await stranger.get("/api/v1/tasks/t")).status_code == 401

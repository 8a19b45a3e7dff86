"""The documented quotas answer 429 `Throttling.*`; per account, configurable, switchable off."""

from __future__ import annotations

import httpx
import pytest
from emulators.app import create_app
from emulators.config import RuntimeConfig
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, make_photo, upload_photo
from emulators.testing.tasks import ASYNC, SUBMIT_PATH, synthesis_body

pytestmark = pytest.mark.emulator_only
DETECT_PATH = "/api/v1/services/aigc/image2video/aa-detect"


async def burst(client: httpx.AsyncClient, calls: int) -> list[httpx.Response]:
    return [await client.get("/api/v1/tasks/t") for _ in range(calls)]


async def test_task_queries_are_limited_to_20_per_second_per_account(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    answers = await burst(client, 30)
    throttled = [a for a in answers if a.status_code == 429]
    assert 8 <= len(throttled) <= 10
    assert throttled[0].json()["code"] == "Throttling.RateQuota" and throttled[0].json()["request_id"]
    assert (await other_client.get("/api/v1/tasks/t")).status_code == 200, "another account has its own"
    counters = (await client.get("/admin/counters")).json()
    assert counters["injected"]["GET /api/v1/tasks/{task_id}"]["quota"] == len(throttled)


async def test_keys_of_one_account_share_its_quota(settings: EmulatorSettings) -> None:
    config = RuntimeConfig(accounts={"acct-1": ["sk-a", "sk-b"], "acct-2": ["sk-c"]})
    app = create_app(settings, config)
    async with (
        asgi_client(app, api_key="sk-a", base_url=settings.public_url) as a,
        asgi_client(app, api_key="sk-b", base_url=settings.public_url) as b,
        asgi_client(app, api_key="sk-c", base_url=settings.public_url) as c,
    ):
        answers = await burst(a, 15) + await burst(b, 15)
        other = await c.get("/api/v1/tasks/t")
    await app.state.emulator.close()
    assert sum(answer.status_code == 429 for answer in answers) >= 8
    assert other.status_code == 200


async def test_detection_is_limited_to_5_per_second(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model="animate-anyone-detect-gen2")
    body = {"model": "animate-anyone-detect-gen2", "input": {"image_url": url}}
    headers = {"X-DashScope-OssResourceResolve": "enable"}
    codes = [(await client.post(DETECT_PATH, json=body, headers=headers)).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]


async def test_submits_are_limited_per_account_and_model(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model="animate-anyone-gen2")
    codes = [
        (await client.post(SUBMIT_PATH, json=synthesis_body(url), headers=ASYNC)).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


async def test_upload_policies_are_counted_per_model(client: httpx.AsyncClient) -> None:
    await client.put(
        "/admin/config", json={"quotas": {"upload_policy": {"rate": 1, "code": "Throttling.BurstRate"}}}
    )
    get = {"action": "getPolicy"}
    first = await client.get("/api/v1/uploads", params=get | {"model": "a"})
    second = await client.get("/api/v1/uploads", params=get | {"model": "a"})
    other_model = await client.get("/api/v1/uploads", params=get | {"model": "b"})
    assert (first.status_code, second.status_code, other_model.status_code) == (200, 429, 200)
    assert second.json()["code"] == "Throttling.BurstRate"


@pytest.mark.parametrize("quotas", ["off", {"task_query": "off"}, {"task_query": None}])
async def test_quotas_can_be_switched_off(client: httpx.AsyncClient, quotas: object) -> None:
    assert (await client.put("/admin/config", json={"quotas": quotas})).status_code == 200
    assert {answer.status_code for answer in await burst(client, 30)} == {200}

"""The shared gate in front of cutout.pro's calls: injected errors, latency, resets, timeouts, outages and
quotas by cutout.pro's endpoint names, answered as cutout.pro's envelopes, and counted."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from emulators.testing import make_photo
from emulators.testing.cutout import API, Files, submit_cutout, wait_for_cutout

pytestmark = pytest.mark.emulator_only
KEY = "cutout-test-key"
SUBMIT = "GET /cutout/api/v1/faceDriven/submitTaskByUrl"
QUERY = "GET /cutout/api/v1/faceDriven/getTaskInfo"
RESULT = "GET /cutout/results/{name}"


async def query(api: httpx.AsyncClient, key: str = KEY) -> httpx.Response:
    return await api.get(f"{API}/getTaskInfo", params={"taskId": 1}, headers={"APIKEY": key})


async def configure(api: httpx.AsyncClient, **sections: Any) -> None:
    answer = await api.put("/admin/config", json=sections)
    assert answer.status_code == 200, answer.text


async def test_injected_errors_are_envelopes_with_the_status_as_code(api: httpx.AsyncClient) -> None:
    for status in (429, 500, 503):
        await configure(api, faults={QUERY: {f"p{status}": 1.0}})
        answer = await query(api)
        body = answer.json()
        assert (answer.status_code, body["code"], body["data"]) == (status, status, None) and body["msg"]
    await configure(api, faults={QUERY: {"p500": 1.0, "codes": {"500": "5001"}}})
    assert (await query(api)).json()["code"] == 5001
    counters = (await api.get("/admin/counters")).json()
    assert counters["calls"][QUERY] == {"429": 1, "500": 2, "503": 1}
    assert counters["injected"][QUERY] == {"error": 4}


async def test_latency_timeouts_and_resets(api: httpx.AsyncClient) -> None:
    await configure(api, faults={QUERY: {"latency_ms": [300, 300]}})
    started = time.monotonic()
    assert (await query(api)).status_code == 404  # then the handler: no such task
    assert time.monotonic() - started >= 0.3
    await configure(api, faults={QUERY: {"ptimeout": 1.0}}, timeout_seconds=0.1)
    timed_out = await query(api)
    assert timed_out.status_code == 504 and timed_out.json()["code"] == 504
    await configure(api, faults={"*": {"preset": 1.0}})
    with pytest.raises(httpx.RemoteProtocolError):
        await query(api)
    assert (await api.get("/admin/counters")).json()["injected"][QUERY] == {"timeout": 1, "reset": 1}


async def test_an_outage_answers_envelopes_and_links_answer_xml(api: httpx.AsyncClient, web: Files) -> None:
    task_id = await submit_cutout(api, KEY, web.serve("me.png", make_photo()))
    url = (await wait_for_cutout(api, KEY, task_id))["resultUrl"]
    assert (await api.post("/admin/outage", json={"seconds": 30, "status": 503})).status_code == 200
    down = await query(api)
    assert down.status_code == 503 and down.json()["code"] == 503
    link = await api.get(url)
    assert link.status_code == 503 and link.text.startswith("<?xml") and "<Code>" in link.text
    await api.delete("/admin/outage")
    assert (await api.get(url)).status_code == 200
    calls = (await api.get("/admin/counters")).json()["calls"]
    assert calls[SUBMIT] == {"200": 1} and calls[RESULT] == {"503": 1, "200": 1}


async def test_quotas_throttle_each_account_and_can_be_switched_off(api: httpx.AsyncClient) -> None:
    config = (await api.get("/admin/config")).json()
    assert config["quotas"]["cutout_submit"]["rate"] == 2 and config["quotas"]["cutout_query"]["rate"] == 10
    await configure(api, quotas={"cutout_query": {"rate": 0.5, "burst": 1, "code": "4290"}})
    assert (await query(api)).status_code == 404
    throttled = await query(api)
    assert throttled.status_code == 429 and throttled.json()["code"] == 4290 and throttled.json()["msg"]
    assert (await query(api, key="another-account")).status_code == 404
    assert (await api.get("/admin/counters")).json()["injected"][QUERY] == {"quota": 1}
    await configure(api, quotas={"cutout_query": "off"})
    assert [(await query(api)).status_code for _ in range(30)] == [404] * 30


async def test_default_submit_quota_lets_a_burst_through_then_throttles(api: httpx.AsyncClient) -> None:
    statuses = [
        (await api.get(f"{API}/submitTaskByUrl", headers={"APIKEY": KEY})).status_code for _ in range(7)
    ]
    assert statuses[:5] == [400] * 5 and 429 in statuses[5:]  # (400: no imageUrl; a refused call counts too)

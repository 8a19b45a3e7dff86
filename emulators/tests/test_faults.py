"""Fault injection through `/admin/config` and `/admin/outage`: deterministic given the seed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from emulators.app import create_app
from emulators.config import initial_config
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, form_fields, get_policy, photo_file

pytestmark = pytest.mark.emulator_only
TASK = "GET /api/v1/tasks/{task_id}"


async def statuses(client: httpx.AsyncClient, calls: int = 30) -> list[int]:
    return [(await client.get("/api/v1/tasks/t")).status_code for _ in range(calls)]


async def test_injected_errors_have_the_providers_shape(client: httpx.AsyncClient) -> None:
    for status, code in ((500, "InternalError"), (503, "ModelServingError"), (429, "Throttling")):
        await client.put("/admin/config", json={"faults": {TASK: {f"p{status}": 1.0}}})
        response = await client.get("/api/v1/tasks/t")
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert response.json()["message"] and response.json()["request_id"]
    counters = (await client.get("/admin/counters")).json()
    assert counters["calls"][TASK] == {"500": 1, "503": 1, "429": 1}
    assert counters["injected"][TASK] == {"error": 3}


async def test_codes_can_be_overridden_per_status(client: httpx.AsyncClient) -> None:
    await client.put("/admin/config", json={"faults": {TASK: {"p500": 1.0, "codes": {"500": "SystemError"}}}})
    assert (await client.get("/api/v1/tasks/t")).json()["code"] == "SystemError"


async def test_the_same_seed_gives_the_same_faults(settings: EmulatorSettings) -> None:
    runs = []
    for seed in (42, 42, 43):
        app = create_app(settings.model_copy(update={"data_dir": settings.data_dir / str(len(runs))}))
        async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
            await client.put("/admin/config", json={"seed": seed, "faults": {"*": {"p500": 0.5}}})
            runs.append(await statuses(client))
        await app.state.emulator.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 5 < runs[0].count(500) < 25


async def test_a_specific_endpoint_overrides_the_wildcard(client: httpx.AsyncClient) -> None:
    faults = {"*": {"p503": 1.0}, "GET /api/v1/uploads": {"p503": 0.0}}
    await client.put("/admin/config", json={"faults": faults})
    assert (await client.get("/api/v1/tasks/t")).status_code == 503
    policy = await client.get("/api/v1/uploads", params={"action": "getPolicy", "model": "m"})
    assert policy.status_code == 200


async def test_latency_is_drawn_from_the_range(client: httpx.AsyncClient) -> None:
    await client.put("/admin/config", json={"faults": {TASK: {"latency_ms": [120, 150]}}})
    started = time.monotonic()
    assert (await client.get("/api/v1/tasks/t")).status_code == 200
    assert 0.12 <= time.monotonic() - started < 1


async def test_oss_faults_answer_in_xml(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, "animate-anyone-gen2")
    await client.put("/admin/config", json={"faults": {"POST /oss": {"p503": 1.0}}})
    fields = form_fields(policy, f"{policy['upload_dir']}/a.png")
    response = await client.post("/oss", data=fields, files=photo_file(b"x"))
    assert response.status_code == 503
    assert "<Code>ModelServingError</Code>" in response.text


async def test_in_process_a_reset_raises_what_httpx_raises_over_tcp(client: httpx.AsyncClient) -> None:
    await client.put("/admin/config", json={"faults": {TASK: {"preset": 1.0}}})
    with pytest.raises(httpx.TransportError):
        await client.get("/api/v1/tasks/t")
    assert (await client.get("/admin/counters")).json()["calls"][TASK] == {"reset": 1}


async def test_a_timeout_answers_504_after_the_configured_hold(client: httpx.AsyncClient) -> None:
    await client.put("/admin/config", json={"faults": {TASK: {"ptimeout": 1.0}}, "timeout_seconds": 0.2})
    started = time.monotonic()
    response = await client.get("/api/v1/tasks/t")
    assert time.monotonic() - started >= 0.2
    assert (response.status_code, response.json()["code"]) == (504, "RequestTimeOut")


async def test_an_outage_window_answers_its_status_then_ends(client: httpx.AsyncClient) -> None:
    window = (
        await client.post("/admin/outage", json={"seconds": 0.3, "status": 503, "start_in": 0.1})
    ).json()
    assert window["status"] == 503
    assert (await client.get("/api/v1/tasks/t")).status_code == 200, "not started yet"
    await asyncio.sleep(0.15)
    assert (await client.get("/api/v1/tasks/t")).status_code == 503
    assert (await client.get("/admin/outage")).json()["status"] == 503
    assert (await client.get("/admin/counters")).status_code == 200, "admin is never out"
    await asyncio.sleep(0.3)
    assert (await client.get("/api/v1/tasks/t")).status_code == 200


async def test_a_bad_configuration_is_refused_and_the_old_one_kept(client: httpx.AsyncClient) -> None:
    refused = await client.put("/admin/config", json={"faults": {TASK: {"p500": 0.8, "p503": 0.5}}})
    assert (refused.status_code, refused.json()["code"]) == (400, "InvalidParameter")
    assert (await client.get("/admin/config")).json()["faults"] == {}


async def test_reset_restores_the_starting_configuration(client: httpx.AsyncClient) -> None:
    await client.put("/admin/config", json={"faults": {TASK: {"p500": 1.0}}, "quotas": "off"})
    await client.post("/admin/reset")
    config = (await client.get("/admin/config")).json()
    assert config["faults"] == {} and config["quotas"]["task_query"]["rate"] == 20


def test_the_environment_shapes_are_the_admin_shapes() -> None:
    settings = EmulatorSettings(
        faults='{"get /api/v1/tasks/{task_id}/": {"p429": 0.2, "p500": 0.1, "latency_ms": [20, 80]}}',
        quotas='{"detect": "off", "submit": {"rate": 5}}',
        accounts='{"acct-1": ["sk-a", "sk-b"]}',
        task_fates='[{"next": 2, "fate": "never"}]',
        seed=42,
    )
    config = initial_config(settings)
    assert config.faults[TASK].p429 == 0.2 and config.faults[TASK].latency_ms == (20, 80)
    assert config.quotas["detect"] is None and config.quotas["task_query"] is not None
    assert config.quotas["submit"] is not None and config.quotas["submit"].rate == 5
    assert config.accounts == {"acct-1": ["sk-a", "sk-b"]}
    assert config.task_fates[0].next == 2 and config.seed == 42
    off = initial_config(EmulatorSettings(quotas="off"))
    assert set(off.quotas.values()) == {None}

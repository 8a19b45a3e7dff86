"""The health server a stage runs, and the provider call metrics, without any infrastructure."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from common import health, metrics
from common.health import HealthServer
from common.providers.dashscope import DashScopeClient
from common.providers.errors import RetryableProviderError
from prometheus_client import REGISTRY
from pydantic import SecretStr

BASE = "http://provider.test/api/v1"


def _calls(endpoint: str, code: str) -> float:
    labels = {"provider": "dashscope", "endpoint": endpoint, "code": code}
    return REGISTRY.get_sample_value("dancer_provider_calls_total", labels) or 0.0


async def test_the_health_server_answers_liveness_readiness_and_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.2)
    database_up = True

    async def kafka() -> bool:
        return True

    async def database() -> bool:
        if not database_up:
            raise OSError("connection refused")
        return True

    async def slow() -> bool:
        await asyncio.sleep(5)
        return True

    server = HealthServer("127.0.0.1", 0, {"kafka": kafka, "database": database, "media": slow})
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["content-type"] == "application/problem+json"
            assert ready.json()["down"] == ["media"] and ready.json()["code"] == "ServiceUnavailable"

            database_up = False
            assert (await client.get("/readyz")).json()["down"] == ["database", "media"]
            assert (await client.get("/healthz")).status_code == 200  # liveness checks nothing

            page = await client.get("/metrics")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
            assert "# TYPE dancer_provider_calls_total counter" in page.text
    finally:
        await server.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{server.port}/healthz")


async def test_a_port_in_use_fails_the_start() -> None:
    first = HealthServer("127.0.0.1", 0, {})
    await first.start()
    try:
        with pytest.raises(OSError):
            await HealthServer("127.0.0.1", first.port, {}).start()
    finally:
        await first.stop()


async def test_every_provider_call_is_counted_by_endpoint_and_result() -> None:
    answers = {
        "/api/v1/services/aigc/image2video/aa-detect": httpx.Response(
            200, json={"output": {"check_pass": True}, "request_id": "r"}
        ),
        "/api/v1/tasks/t-1": httpx.Response(429, json={"code": "Throttling", "message": "slow down"}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/tasks/t-2":
            raise httpx.ReadTimeout("no answer", request=request)
        return answers[request.url.path]

    before = {
        ("detect", "200"): _calls("detect", "200"),
        ("task_query", "429"): _calls("task_query", "429"),
        ("task_query", "timeout"): _calls("task_query", "timeout"),
    }
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = DashScopeClient(http, SecretStr("sk-test"), BASE, attempts=1)
        await client.detect("https://example.com/me.png")
        for task_id in ("t-1", "t-2"):
            with pytest.raises(RetryableProviderError):
                await client.get_task(task_id)

    for (endpoint, code), count in before.items():
        assert _calls(endpoint, code) == count + 1, (endpoint, code)
    duration = REGISTRY.get_sample_value(
        "dancer_provider_call_seconds_count", {"provider": "dashscope", "endpoint": "task_query"}
    )
    assert duration is not None and duration >= 2


def test_metric_names_are_the_products() -> None:
    names = {m.name for m in REGISTRY.collect() if m.name.startswith("dancer_")}
    assert names >= {
        "dancer_stage_work_seconds",
        "dancer_stage_queue_wait_seconds",
        "dancer_provider_calls",
        "dancer_retries_scheduled",
        "dancer_retries_due",
        "dancer_poll_schedule_size",
        "dancer_poll_lag_seconds",
        "dancer_outbox_backlog",
        "dancer_outbox_oldest_age_seconds",
        "dancer_dead_letters",
        "dancer_generations",
        "dancer_token_bucket_wait_seconds",
        "dancer_webhook_deliveries",
    }
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain") and b"_created" not in body

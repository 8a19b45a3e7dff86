"""Seeing what every stage does: after one real generation, every process's /metrics moved as it should,
every /readyz is 200, and a gateway whose database is down says so on /readyz (503) but stays live."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.images import person_photo
from tests.e2e.test_generation_flow import TEMPLATE, wait_for_end
from tests.gateway_app import in_process_gateway

pytestmark = pytest.mark.e2e
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
# The topic each process consumes (its FastStream subscriber's `handler` label).
CONSUMES = {
    "uploader": "generation.requested",
    "detector": "image.uploaded",
    "synthesizer": "image.accepted",
    "poller": "synthesis.submitted",
    "archiver": "video.rendered",
    "notifier": "generation.completed",
}
# The provider calls each stage makes for one generation that succeeds.
PROVIDER_CALLS = {
    "uploader": ["upload"],
    "detector": ["detect"],
    "synthesizer": ["submit"],
    "poller": ["task_query"],
}


def scrape(base_url: str) -> Samples:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.5)


def ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def test_every_process_is_ready_and_its_metrics_follow_a_generation(
    health_urls: dict[str, str], callback_url: str
) -> None:
    for name, url in health_urls.items():
        wait_until(lambda url=url: ready(url), f"{name} ready")
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    gateway = health_urls["gateway"]
    before = {name: scrape(url) for name, url in health_urls.items()}

    answer = httpx.post(
        f"{gateway}/api/generations",
        files={"file": ("me.png", person_photo(), "image/png")},
        data={"templateId": TEMPLATE, "callbackUrl": callback_url},
    )
    assert answer.status_code == 202, answer.text
    assert wait_for_end(gateway, answer.headers["location"])["status"] == "SUCCEEDED"

    def moved(name: str, metric: str, **labels: str) -> float:
        return value(scrape(health_urls[name]), metric, **labels) - value(before[name], metric, **labels)

    # Sampled or asynchronous: the webhook, the generations gauge, the relays' counters.
    wait_until(
        lambda: moved("notifier", "dancer_webhook_deliveries_total", outcome="delivered") >= 1, "webhook"
    )
    wait_until(
        lambda: value(scrape(gateway), "dancer_generations", status="SUCCEEDED") >= 1, "generations gauge", 30
    )
    after = {name: scrape(url) for name, url in health_urls.items()}

    def delta(name: str, metric: str, **labels: str) -> float:
        return value(after[name], metric, **labels) - value(before[name], metric, **labels)

    for name, topic in CONSUMES.items():  # FastStream's middleware, per process and topic
        labels = {"app_name": name, "handler": topic}
        acked = {**labels, "status": "acked"}
        assert delta(name, "faststream_received_messages_total", **labels) >= 1, name
        assert delta(name, "faststream_received_processed_messages_total", **acked) >= 1, name
        assert delta(name, "faststream_received_processed_messages_duration_seconds_count", **labels) >= 1
        assert delta(name, "dancer_stage_queue_wait_seconds_count", stage=name) >= 1, name
    for name in CONSUMES.keys() - {"notifier"}:
        assert delta(name, "dancer_stage_work_seconds_count", stage=name, outcome="done") >= 1, name
    for name, endpoints in PROVIDER_CALLS.items():
        for endpoint in endpoints:
            labels = {"provider": "dashscope", "endpoint": endpoint, "code": "200"}
            assert delta(name, "dancer_provider_calls_total", **labels) >= 1, (name, endpoint)
    assert delta("uploader", "faststream_published_messages_total", destination="image.uploaded") >= 1
    assert delta("detector", "dancer_token_bucket_wait_seconds_count", bucket="dashscope-detect") >= 1
    assert delta("synthesizer", "dancer_token_bucket_wait_seconds_count", bucket="dashscope-submit") >= 1

    # The outbox: any relay may publish a record (they share the table), so count them all.
    def published(topic: str) -> float:
        return sum(delta(name, "dancer_outbox_published_total", topic=topic) for name in health_urls)

    assert published("generation.requested") >= 1 and published("generation.completed") >= 1
    for name in CONSUMES.keys() - {"notifier"}:  # sampled by every stage's relay, and the gateway's
        assert ("dancer_outbox_backlog", frozenset()) in after[name], name
        assert ("dancer_retries_due", frozenset({("stage", name)})) in after[name], name
    assert ("dancer_poll_lag_seconds", frozenset()) in after["poller"]
    assert value(after["poller"], "dancer_poll_schedule_size") >= 0

    # The gateway's HTTP metrics, by route template, method and exact status.
    http = {"handler": "/api/generations", "method": "POST", "status": "202"}
    assert delta("gateway", "http_requests_total", **http) >= 1
    assert delta("gateway", "http_requests_total", handler="/metrics") == 0  # probes are not traffic


async def test_a_gateway_without_its_database_is_live_but_not_ready(kafka_bootstrap_servers: str) -> None:
    down = "postgresql+asyncpg://dancer@127.0.0.1:1/dancer"  # nothing listens on port 1
    async with in_process_gateway(kafka_bootstrap_servers, down) as client:
        assert (await client.get("/healthz")).status_code == 200
        answer = await client.get("/readyz")
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["down"] == ["database"] and body["code"] == "ServiceUnavailable"
        assert (await client.get("/metrics")).status_code == 200

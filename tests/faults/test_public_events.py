"""Public events survive a crash between the state change and its publication: each stage that ends
a generation is killed (as by kill -9) right after committing the end, and a subscriber still
receives exactly one event for each fact, with a `ce_id` it can de-duplicate on."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from common import topics
from emulators.testing.media import make_photo

from tests.faults.harness import TEMPLATE, Stack, stack

pytestmark = pytest.mark.faults


def _public_events(s: Stack) -> list[dict[str, Any]]:
    """Everything on the public topics so far, as a new subscriber group reads it."""

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            *topics.PUBLIC,
            bootstrap_servers=s.env["KAFKA_BOOTSTRAP_SERVERS"],
            group_id=None,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000)
            records = [r for batch in batches.values() for r in batch]
        finally:
            await consumer.stop()
        return [
            {"topic": r.topic, "key": r.key.decode(), **{k: v.decode() for k, v in r.headers}}
            for r in records
        ]

    return asyncio.run(read())


def _post_photo(s: Stack, photo: bytes) -> str:
    answer = httpx.post(
        f"{s.gateway_url}/api/generations",
        files={"file": ("p.png", photo, "image/png")},
        data={"templateId": TEMPLATE},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["generationId"])


def _cancel_dying(s: Stack, generation_id: str) -> str:
    """Cancel through a gateway that dies right after committing the cancel (no answer comes)."""
    with contextlib.suppress(httpx.TransportError):
        httpx.post(f"{s.gateway_url}/api/generations/{generation_id}/cancel", timeout=30)
    return generation_id


def _crash_once(s: Stack, name: str, start_work: Any) -> str:
    """Run `name` with the crash point armed, make it end a generation, wait for it to die, restart it."""
    s.kill(name)
    s.start(name, DANCER_CRASH_AT="after-end")
    generation_id: str = start_work()
    (proc,) = s.procs[name]
    proc.wait(timeout=120)
    assert proc.returncode == -9, f"{name} did not die at the crash point"
    s.procs.pop(name)
    s.start(name)
    assert s.status(generation_id)["status"] in {"SUCCEEDED", "FAILED", "CANCELED"}  # it was committed
    return generation_id


def test_each_stage_killed_between_commit_and_publish_still_announces_each_fact_once(tmp_path: Path) -> None:
    with stack(tmp_path) as s:
        expected = {
            _crash_once(s, "archiver", lambda: s.post(1)): ("generation.completed", "SUCCEEDED"),
            _crash_once(s, "poller", lambda: s.post(2, task_fate="fail")): ("generation.failed", "FAILED"),
            _crash_once(s, "detector", lambda: _post_photo(s, make_photo(detect_reason="no person"))): (
                "generation.failed",
                "FAILED",
            ),
        }
        running = s.post(3, task_fate="never")  # last: its job keeps the account's one slot
        s.wait_until(lambda: s.status(running)["status"] == "RUNNING", timeout=120)
        expected[_crash_once(s, "gateway", lambda: _cancel_dying(s, running))] = (
            "generation.canceled",
            "CANCELED",
        )
        final = s.wait_all(list(expected))
        assert {g: final[g]["status"] for g in expected} == {g: status for g, (_, status) in expected.items()}

        s.wait_until(lambda: len(_public_events(s)) >= len(expected), timeout=60)
        events = _public_events(s)
        by_generation = {e["key"]: e for e in events}
        assert len(events) == len(expected) == len(by_generation)  # each fact once
        for generation_id, (topic, _) in expected.items():
            event = by_generation[generation_id]
            assert event["topic"] == topic and event["ce_subject"] == generation_id
            assert event["ce_type"].endswith(".v1") and event["ce_dataschema"].endswith(".v1.json")

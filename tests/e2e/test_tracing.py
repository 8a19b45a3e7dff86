"""One generation is one trace: from the gateway's POST, through the outbox, Kafka, every stage, a retry
stored in Postgres, the poll schedule and the archiver, to the webhook; every process of the stack
exports its spans over OTLP to a real receiver, and its log lines about the generation carry the trace."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests import otlp
from tests.e2e.images import person_photo
from tests.e2e.test_generation_flow import TEMPLATE, wait_for_end
from tests.e2e.test_observability import wait_until
from tests.gateway_app import sql

pytestmark = pytest.mark.e2e
SUBMIT = "POST /api/v1/services/aigc/image2video/video-synthesis"
EVERY_PROCESS = {"gateway", "uploader", "detector", "synthesizer", "poller", "archiver", "notifier"}
SERVER = 2  # OTLP's SPAN_KIND_SERVER


def trace_of(spans: list[otlp.Span], generation_id: uuid.UUID) -> set[str]:
    """The trace ids of the spans that name the generation."""
    return {s.trace_id for s in spans if s.attributes.get("dancer.generation_id") == str(generation_id)}


def whole(spans: list[otlp.Span]) -> bool:
    """Every span's parent has arrived (a parent ends, and is exported, after its children)."""
    ids = {s.span_id for s in spans}
    return all(s.parent_id in ids for s in spans if s.parent_id)


def test_a_generation_is_one_trace_through_every_process(
    gateway_url: str,
    e2e_database_url: str,
    traces: otlp.Receiver,
    logs: Path,
    provider_down: Callable[[str | None], None],
    callback_url: str,
) -> None:
    provider_down(SUBMIT)  # the first submit fails: the synthesizer stores a retry
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", person_photo(background=(120, 60, 160)), "image/png")},
        data={"templateId": TEMPLATE, "callbackUrl": callback_url},
    )
    assert answer.status_code == 202, answer.text
    generation_id = uuid.UUID(answer.json()["generationId"])

    def retries() -> int:
        rows = asyncio.run(
            sql(e2e_database_url, "SELECT retries FROM generations WHERE id = $1", str(generation_id))
        )
        return int(rows[0]["retries"])

    wait_until(lambda: retries() >= 1, "a stored retry")
    provider_down(None)
    assert wait_for_end(gateway_url, answer.headers["location"])["status"] == "SUCCEEDED"

    def spans() -> list[otlp.Span]:
        ids = trace_of(traces.spans(), generation_id)
        return [s for s in traces.spans() if s.trace_id in ids]

    def complete() -> bool:
        found = spans()
        names = {(s.service, s.name) for s in found}
        return {s.service for s in found} >= EVERY_PROCESS and ("notifier", "webhook delivery") in names

    wait_until(lambda: complete() and whole(spans()), "every process's spans", timeout=30)

    found = spans()
    (trace_id,) = {s.trace_id for s in found}
    roots = [s for s in found if not s.parent_id]
    assert [(r.service, r.kind) for r in roots] == [("gateway", SERVER)], roots
    assert roots[0].name.startswith("POST /api/generations")
    names = {(s.service, s.name) for s in found}
    assert ("synthesizer", "synthesizer retry") in names  # picked up from Postgres, in the same trace
    assert ("poller", "poll task") in names  # the poll schedule, from the generation's row
    for process, topic in [("uploader", "generation.requested"), ("archiver", "video.rendered")]:
        assert (process, f"{topic} process") in names  # consumed from the outbox's records

    # Each process's log lines about the generation carry the trace's id.
    for process in EVERY_PROCESS - {"gateway"}:
        lines = [
            json.loads(line)
            for line in (logs / f"{process}.log").read_text().splitlines()
            if line.startswith("{")
        ]
        about = [line for line in lines if line.get("generation_id") == str(generation_id)]
        traced = [line for line in about if "trace_id" in line]
        assert traced and all(line["trace_id"] == trace_id for line in traced), (process, about[:3])

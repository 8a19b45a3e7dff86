"""A frontend follows a generation through its event stream alone, with no polling, to its video."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.e2e.images import person_photo

pytestmark = pytest.mark.e2e
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
ORDER = ["QUEUED", "UPLOADING", "DETECTING", "SUBMITTING", "PENDING", "RUNNING", "ARCHIVING", "SUCCEEDED"]


def follow(url: str, deadline_s: float = 120) -> list[dict[str, str]]:
    """Every event of the stream at `url` until the server closes it."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    deadline = time.monotonic() + deadline_s
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=60)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"stream still open after {deadline_s}s: {events}"
            if line.startswith(":"):  # keep-alive
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            elif fields:
                if fields.get("event") == "status":
                    events.append(fields)
                fields = {}
    return events


def test_a_generation_is_followed_to_its_video_through_its_event_stream_alone(gateway_url: str) -> None:
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", person_photo(), "image/png")},
        data={"templateId": TEMPLATE},
    )
    assert answer.status_code == 202, answer.text
    generation_id = answer.json()["generationId"]

    events = follow(f"{gateway_url}/api/generations/{generation_id}/events")

    data = [json.loads(e["data"]) for e in events]
    statuses = [d["status"] for d in data]
    assert statuses[0] == "QUEUED" and statuses[-1] == "SUCCEEDED", statuses
    assert [ORDER.index(s) for s in statuses] == sorted({ORDER.index(s) for s in statuses}), statuses
    assert {"UPLOADING", "DETECTING", "SUBMITTING"} <= set(statuses), statuses
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids))
    assert {d["generationId"] for d in data} == {generation_id}
    final = httpx.get(f"{gateway_url}/api/generations/{generation_id}").json()
    assert final["status"] == "SUCCEEDED" and final["videoUrl"]

"""An operator's retry through the whole stack: a generation that failed because the provider was down
(past every retry) runs again with `dancer-admin retry` once it is back, and ends SUCCEEDED as a new run
with its own event ids; a provider job it already had is used again, never paid twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.images import person_photo
from tests.e2e.test_generation_flow import TEMPLATE, wait_for_end
from tests.gateway_app import sql

pytestmark = pytest.mark.e2e
DETECT = "POST /api/v1/services/aigc/image2video/aa-detect"
VIDEO_FILES = "GET /videos/{name}"


def dancer_admin(database_url: str, kafka: str, *argv: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    done = subprocess.run(
        [sys.executable, "-m", "admin", *argv], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def create(gateway_url: str) -> tuple[uuid.UUID, str]:
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", person_photo(background=(40, 150, 200)), "image/png")},
        data={"templateId": TEMPLATE},
    )
    assert answer.status_code == 202, answer.text
    return uuid.UUID(answer.json()["generationId"]), answer.headers["location"]


def rows(database_url: str, statement: str, generation_id: uuid.UUID) -> list[Any]:
    return asyncio.run(sql(database_url, statement, str(generation_id)))


def assert_two_runs(database_url: str, generation_id: uuid.UUID, first_end: str) -> None:
    """Each run's request and outcome are in the outbox with the run's attempt, each with its own ce_id."""
    events = rows(
        database_url,
        "SELECT topic, headers->>'ce_id' AS ce_id, payload->>'attempt' AS attempt FROM outbox "
        "WHERE key = $1 AND topic LIKE 'generation.%' ORDER BY id",
        generation_id,
    )
    runs = [(e["topic"], e["attempt"]) for e in events]
    expected = [
        ("generation.requested", "0"),
        (first_end, "0"),
        ("generation.requested", "1"),
        ("generation.completed", "1"),
    ]
    assert runs == expected
    assert len({e["ce_id"] for e in events}) == 4


def test_a_provider_outage_past_every_retry_then_a_retry_succeeds(
    gateway_url: str, e2e_database_url: str, kafka_bootstrap_servers: str, provider_down: Any
) -> None:
    provider_down(DETECT)
    generation_id, location = create(gateway_url)
    failed = wait_for_end(gateway_url, location)
    assert failed["status"] == "FAILED", failed
    [row] = rows(e2e_database_url, "SELECT stage, error_code FROM generations WHERE id = $1", generation_id)
    assert (row["stage"], row["error_code"]) == ("detector", "ModelServingError")
    provider_down(None)  # the provider is back

    out = dancer_admin(e2e_database_url, kafka_bootstrap_servers, "retry", str(generation_id))

    assert "QUEUED again, attempt 1 (was FAILED at detector: ModelServingError)" in out
    final = wait_for_end(gateway_url, location)
    assert final["status"] == "SUCCEEDED", final
    assert final["videoUrl"] and final["detection"]["checkPass"] is True
    assert_two_runs(e2e_database_url, generation_id, "generation.failed")


def test_a_retry_after_the_video_server_was_down_uses_the_same_provider_job(
    gateway_url: str, e2e_database_url: str, kafka_bootstrap_servers: str, provider_down: Any
) -> None:
    provider_down(VIDEO_FILES)
    generation_id, location = create(gateway_url)
    failed = wait_for_end(gateway_url, location)
    assert failed["status"] == "FAILED" and failed["taskId"], failed
    [row] = rows(e2e_database_url, "SELECT stage, error_code FROM generations WHERE id = $1", generation_id)
    assert (row["stage"], row["error_code"]) == ("archiver", "VideoDownloadFailed")
    provider_down(None)

    out = dancer_admin(e2e_database_url, kafka_bootstrap_servers, "retry", str(generation_id))

    assert "QUEUED again, attempt 1 (was FAILED at archiver: VideoDownloadFailed)" in out
    assert "the provider job is kept" in out
    final = wait_for_end(gateway_url, location)
    assert final["status"] == "SUCCEEDED", final
    assert final["taskId"] == failed["taskId"]  # the stages re-announced it up to the poller: one paid job
    assert_two_runs(e2e_database_url, generation_id, "generation.failed")
    history = dancer_admin(e2e_database_url, kafka_bootstrap_servers, "history", str(generation_id))
    statuses = [
        line.split()[1] for line in history.split("status history:\n")[1].splitlines() if line[:4] == "  20"
    ]
    second_run = statuses[len(statuses) - statuses[::-1].index("QUEUED") :]
    assert statuses.count("QUEUED") == 2 and second_run == ["PENDING", "ARCHIVING", "SUCCEEDED"], statuses

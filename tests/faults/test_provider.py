"""A provider that fails often, and clients that cancel: every generation still ends as the user expects."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import TERMINAL, Stack, stack
from tests.faults.test_crashes import _assert_one_job_each, _outcomes

pytestmark = pytest.mark.faults

# About a third of the calls to each provider endpoint fail: throttled, broken or too slow to answer.
FLAKY = {"p429": 0.15, "p500": 0.1, "p503": 0.05, "ptimeout": 0.05}
FAULTS = {
    "GET /api/v1/uploads": FLAKY,
    "POST /oss": {"p500": 0.1, "preset": 0.05},
    "POST /api/v1/services/aigc/image2video/aa-detect": FLAKY,
    "POST /api/v1/services/aigc/image2video/video-synthesis": FLAKY,
    "GET /api/v1/tasks/{task_id}": FLAKY,
}


def test_a_flaky_provider_delays_generations_but_every_one_completes(tmp_path: Path) -> None:
    with stack(
        tmp_path,
        EMULATOR_FAULTS=json.dumps(FAULTS),
        EMULATOR_TIMEOUT_SECONDS="3",
        EMULATOR_SEED="7",
        DASHSCOPE_TIMEOUT_SECONDS="1.5",
        RETRY_ATTEMPTS="12",
    ) as s:
        ids = [s.post(i) for i in range(30)]
        final = s.wait_all(ids, timeout=400)

        assert _outcomes(final) == {"SUCCEEDED": 30}
        _assert_one_job_each(s, final)
        injected = s.counters()["injected"]
        assert sum(sum(kinds.values()) for kinds in injected.values()) >= 30
        # the user sees how bumpy the road was
        assert sum(int(g["retries"]) for g in final.values()) >= 30


def _cancel(s: Stack, generation_id: str) -> httpx.Response:
    return httpx.post(f"{s.gateway_url}/api/generations/{generation_id}/cancel", timeout=30)


def _wait_for_status(s: Stack, generation_id: str, status: str) -> dict[str, object]:
    s.wait_until(lambda: s.status(generation_id)["status"] == status, timeout=120)
    return s.status(generation_id)


def test_cancel_while_pending_cancels_the_provider_job_and_while_running_ignores_its_result(
    tmp_path: Path,
) -> None:
    # One job runs at a time per account: a job that never finishes keeps the next one PENDING.
    with stack(tmp_path) as s:
        running = s.post(0, task_fate="never")
        running_task = str(_wait_for_status(s, running, "RUNNING")["taskId"])
        waiting = s.post(1)
        waiting_task = str(_wait_for_status(s, waiting, "PENDING")["taskId"])

        answer = _cancel(s, waiting)
        assert answer.status_code == 200 and answer.json()["status"] == "CANCELED"
        s.wait_until(lambda: s.provider_tasks()[waiting_task]["status"] == "CANCELED")

        answer = _cancel(s, running)
        assert answer.status_code == 200 and answer.json()["status"] == "CANCELED"
        assert s.provider_tasks()[running_task]["status"] == "RUNNING"  # too late to cancel there
        assert _cancel(s, running).status_code == 200  # canceling twice is fine

        time.sleep(2)
        for generation_id in (running, waiting):
            body = s.status(generation_id)
            assert body["status"] == "CANCELED" and body["error"]["code"] == "Canceled"
        events = s.sql("SELECT topic, key FROM outbox ORDER BY id")
        assert ("generation.canceled", waiting) in [(r["topic"], r["key"]) for r in events]


def test_cancel_racing_completion_never_lets_a_late_result_overwrite_it(tmp_path: Path) -> None:
    with stack(tmp_path) as s:
        ids = [s.post(i) for i in range(20)]
        # start canceling once the jobs are finishing (a slow machine may take a while to get there) ...
        s.wait_until(lambda: any(s.status(i)["status"] == "SUCCEEDED" for i in ids), timeout=120)
        ids.append(s.post(20, task_fate="never"))  # ... with one job sure to be canceled at the end
        answers: dict[str, int] = {}

        def cancel_all() -> None:  # while the jobs are finishing, one by one
            for generation_id in ids:
                answers[generation_id] = _cancel(s, generation_id).status_code
                time.sleep(0.15)

        canceler = threading.Thread(target=cancel_all)
        canceler.start()
        canceler.join()
        final = s.wait_all(ids)
        time.sleep(2)  # room for a late result to (wrongly) land

        completed = {r["key"] for r in s.sql("SELECT key FROM outbox WHERE topic = 'generation.completed'")}
        for generation_id in ids:
            status = s.status(generation_id)["status"]
            assert status == final[generation_id]["status"] and status in TERMINAL
            if answers[generation_id] == 200:
                assert status == "CANCELED" and generation_id not in completed
            else:
                assert answers[generation_id] == 409 and status == "SUCCEEDED" and generation_id in completed
        assert {g["status"] for g in final.values()} == {"CANCELED", "SUCCEEDED"}  # it did race

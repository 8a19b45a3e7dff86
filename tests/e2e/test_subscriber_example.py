"""The README's subscriber example, run as it is: it sees a real generation's GenerationCompleted event."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.e2e.images import person_photo

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "subscriber.py"
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
TIMEOUT_SECONDS = 180


def pump(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def test_the_subscriber_example_prints_the_completed_generation_with_its_video_link(
    gateway_url: str, kafka_bootstrap_servers: str
) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "GROUP_ID": f"e2e-subscriber-example-{uuid.uuid4()}",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=pump, args=(proc.stdout, lines), daemon=True).start()
    output: list[str] = []
    try:
        answer = httpx.post(
            f"{gateway_url}/api/generations",
            files={"file": ("me.png", person_photo(), "image/png")},
            data={"templateId": TEMPLATE},
        )
        assert answer.status_code == 202, answer.text
        generation_id = answer.json()["generationId"]

        deadline = time.monotonic() + TIMEOUT_SECONDS
        found: list[str] | None = None
        while found is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, f"the example exited ({proc.returncode}):\n{''.join(output)}"
                continue
            output.append(line)
            parts = line.split()
            if parts[:2] == ["com.dancer.GenerationCompleted.v1", generation_id]:
                found = parts
        assert found is not None, (
            f"no GenerationCompleted for {generation_id}; it printed:\n{''.join(output)[-4000:]}"
        )
        assert len(found) == 3 and found[2].startswith("http"), found
        assert httpx.get(found[2], timeout=30).status_code == 200  # the link in the event works
        mentions = [line for line in output if generation_id in line]
        assert len(mentions) == 1, mentions  # one fact, one line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""cutout.pro cannot list its jobs, so a synthesizer killed between cutout.pro making the paid job and
the product recording its id cannot find that job again. What the product promises instead (README,
"Two providers"): the generation still ends with a video, from a second job; the lost one is written off
and counted as a possible double spend; it is never given to any generation; and nothing else is paid
twice."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.images import person_photo
from tests.faults.harness import stack


def test_a_synthesizer_killed_right_after_a_cutout_submit_costs_one_job_at_most(tmp_path: Path) -> None:
    with stack(tmp_path) as s:
        s.kill("synthesizer")
        s.start("synthesizer", DANCER_CRASH_AT="after-submit")
        answer = httpx.post(
            f"{s.gateway_url}/api/generations",
            files={"file": ("p.png", person_photo(background=(30, 160, 90)), "image/png")},
            data={"templateId": "cutout-0"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        generation_id = answer.json()["generationId"]
        (proc,) = s.procs["synthesizer"]
        proc.wait(timeout=120)
        assert proc.returncode == -9, "the synthesizer did not die at the crash point"
        s.procs.pop("synthesizer")
        s.start("synthesizer")

        final = s.wait_all([generation_id])[generation_id]

        assert (final["status"], final["provider"]) == ("SUCCEEDED", "cutout"), final
        tasks = httpx.get(f"{s.emulator_url}/admin/cutout/tasks", timeout=30).json()["tasks"]
        assert len(tasks) == 2  # the lost job, and the one that made the video
        lost, kept = sorted(tasks, key=lambda t: t["task_id"])
        assert final["taskId"] == str(kept["task_id"])
        owners = s.sql(f"SELECT id FROM generations WHERE task_id = '{lost['task_id']}'")
        assert owners == []  # written off: never any generation's
        log = (tmp_path / "synthesizer.log").read_text(errors="replace")
        assert log.count("possible double spend") == 1

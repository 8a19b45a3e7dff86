"""The benchmark's own arithmetic: what the report says must follow from what was measured."""

from __future__ import annotations

from pathlib import Path

from bench.profile import summarize
from bench.scenarios import busy_fraction, slowest_stage


def test_busy_fraction_counts_overlapping_jobs_once_and_ignores_unfinished_ones() -> None:
    tasks = [
        {"scheduled_time": 10.0, "end_time": 14.0},
        {"scheduled_time": 12.0, "end_time": 16.0},  # overlaps the first: 10-16 busy
        {"scheduled_time": 18.0, "end_time": 20.0},
        {"scheduled_time": 19.0, "end_time": None},  # still running: not counted
        {"scheduled_time": None, "end_time": None},  # never left PENDING
    ]
    assert busy_fraction(tasks, start=10.0, end=30.0) == (6 + 2) / 20


def test_slowest_stage_is_the_one_with_the_longest_own_work() -> None:
    segments = {
        "uploader work": {"p50_ms": 70.0},
        "detector work": {"p50_ms": 90.0},
        "synthesizer work": {"p50_ms": 20.0},
        "uploader wait": {"p50_ms": 900.0},  # waiting in Kafka is not the stage's own work
    }
    assert slowest_stage(segments) == "detector"


def test_profile_shares_by_innermost_package_and_by_package_on_the_stack(tmp_path: Path) -> None:
    site = "/venv/lib/python3.11/site-packages"
    raw = tmp_path / "raw.txt"
    raw.write_text(
        f"main (/repo/services/uploader/src/uploader/main.py:13);"
        f"execute ({site}/sqlalchemy/engine/base.py:10);write (/usr/lib/python3.11/asyncio/x.py:5) 3\n"
        f"main (/repo/services/uploader/src/uploader/main.py:13);post ({site}/httpx/_client.py:7) 1\n"
    )
    found = summarize(raw)
    assert found["samples"] == 4
    assert found["self_by_package"] == [("stdlib asyncio", 75.0), ("httpx", 25.0)]
    assert dict(found["within_package"])["uploader"] == 100.0
    assert dict(found["within_package"])["sqlalchemy"] == 75.0
    assert found["self_by_function"][0] == ("write (x.py:5)", 75.0)

"""The four scenarios: the pipeline's ceiling, the gateway under load, the provider-bound run (and the
SDK baseline beside it). Each returns plain figures; nothing here judges them."""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench import baseline, profile
from bench.stack import Stack, photos, post_all, stack, wait_done

ROOT = Path(__file__).resolve().parent.parent

# An emulator that answers at once and renders nothing per task: the pipeline is all that is left.
INSTANT = {
    "EMULATOR_PENDING_SECONDS": "0",
    "EMULATOR_PREPROCESS_SECONDS": "0",
    "EMULATOR_RUN_SECONDS": "0",
    "EMULATOR_POSTPROCESS_SECONDS": "0",
    "EMULATOR_VIDEO_SECONDS": "1",
    "EMULATOR_RENDER": "once",
    "EMULATOR_QUOTAS": "off",
}
# DashScope's quotas (one job at a time per account, 20 task queries/s, 5 detections/s, 1 submit/s)
# and API latencies of 50-250 ms; jobs scaled down from about a minute to 3 s.
PROVIDER = {
    "EMULATOR_PENDING_SECONDS": "0",
    "EMULATOR_PREPROCESS_SECONDS": "0.5",
    "EMULATOR_RUN_SECONDS": "2",
    "EMULATOR_POSTPROCESS_SECONDS": "0.5",
    "EMULATOR_VIDEO_SECONDS": "1",
    "EMULATOR_RENDER": "once",
    "EMULATOR_FAULTS": json.dumps({"*": {"latency_ms": [50, 250]}}),
}
# No quota to respect: the services pace and poll as fast as they can.
CEILING_SERVICES = {
    "POLL_INTERVAL_SECONDS": "0.05",
    "POLL_RATE_PER_SECOND": "1000",
    "DETECT_RATE_PER_SECOND": "1000",
    "SUBMIT_RATE_PER_SECOND": "1000",
}
PROVIDER_SERVICES = {"POLL_INTERVAL_SECONDS": "0.5"}


@dataclass(frozen=True)
class Config:
    mode: str
    runs: int
    ceiling_generations: int
    provider_generations: int
    gateway_rates: tuple[int, ...]
    gateway_seconds: float
    baseline_threads: int


# -- figures ------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(runs: list[float]) -> dict[str, float]:
    """The median of the runs, with their spread."""
    return {
        "median": round(statistics.median(runs), 3),
        "min": round(min(runs), 3),
        "max": round(max(runs), 3),
    }


def across(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    return summary([float(r[key]) for r in runs])


def seconds(a: datetime | None, b: datetime | None) -> float:
    return (b - a).total_seconds() if a and b else float("nan")


SEGMENTS = {
    "uploader wait": ("created_at", "upload_started_at"),
    "uploader work": ("upload_started_at", "uploaded_at"),
    "detector wait": ("uploaded_at", "detect_started_at"),
    "detector work": ("detect_started_at", "detected_at"),
    "synthesizer wait": ("detected_at", "submit_started_at"),
    "synthesizer work": ("submit_started_at", "submitted_at"),
    "poller (job + polling)": ("submitted_at", "finished_at"),
    "publish completion": ("finished_at", "published_at"),
    "end to end": ("created_at", "published_at"),
}


# -- 1 + 4: the ceiling ---------------------------------------------------------------------------
async def ceiling_run(s: Stack, images: list[bytes]) -> dict[str, Any]:
    s.admin("POST", "reset")
    started = time.time()
    ids = await post_all(s.gateway, images)
    rows = await wait_done(s, ids)
    ended = max(r["published_at"] for r in rows).timestamp()
    segments = {}
    for name, (a, b) in SEGMENTS.items():
        values = [seconds(r[a], r[b]) for r in rows]
        segments[name] = {
            "p50_ms": round(pct(values, 0.5) * 1000, 1),
            "p99_ms": round(pct(values, 0.99) * 1000, 1),
        }
    return {
        "generations": len(ids),
        "statuses": sorted({r["status"] for r in rows}),
        "wall_s": round(ended - started, 2),
        "per_second": round(len(ids) / (ended - started), 2),
        "segments": segments,
    }


def slowest_stage(segments: dict[str, dict[str, float]]) -> str:
    """The stage whose own work takes longest (p50) per generation."""
    work = {"uploader": "uploader work", "detector": "detector work", "synthesizer": "synthesizer work"}
    return max(work, key=lambda stage: segments[work[stage]]["p50_ms"])


def ceiling(cfg: Config, servers: tuple[str, str], logs: Path, replicas: int) -> dict[str, Any]:
    """Generations per second through every stage; with one replica, then a profile of the slowest."""
    with stack(servers, logs, INSTANT, CEILING_SERVICES, replicas=replicas) as s:
        asyncio.run(wait_done(s, asyncio.run(post_all(s.gateway, photos(5, (300, 540))))))  # warm up
        runs = [asyncio.run(ceiling_run(s, photos(cfg.ceiling_generations))) for _ in range(cfg.runs)]
        result: dict[str, Any] = {
            "replicas": replicas,
            "runs": runs,
            "per_second": across(runs, "per_second"),
            "segments": {
                name: {q: summary([r["segments"][name][q] for r in runs]) for q in ("p50_ms", "p99_ms")}
                for name in SEGMENTS
            },
        }
        if replicas == 1:  # one more run, unmeasured, with py-spy on the slowest stage
            stage = slowest_stage({k: {q: v[q]["median"] for q in v} for k, v in result["segments"].items()})
            with profile.sampled(s.procs[f"{stage}-0"].pid, logs / f"{stage}.py-spy.txt"):
                asyncio.run(ceiling_run(s, photos(cfg.ceiling_generations)))
            result["profile"] = {"stage": stage, **profile.summarize(logs / f"{stage}.py-spy.txt")}
    return result


# -- 2: the gateway -------------------------------------------------------------------------------
def megabyte_photo(path: Path) -> None:
    """A PNG of about 1 MB (noise does not compress)."""
    out = io.BytesIO()
    Image.effect_noise((600, 600), 80).convert("RGB").save(out, "PNG")
    path.write_bytes(out.getvalue())


def load(url: str, kind: str, rate: int, duration: float, argument: str) -> dict[str, float]:
    """bench.load in its own process, so the load generator does not share the gateway's CPU time."""
    command = [sys.executable, "-m", "bench.load", url, kind, str(rate), str(duration), argument]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def gateway(cfg: Config, servers: tuple[str, str], logs: Path) -> dict[str, Any]:
    """Latency at increasing request rates, up to the rate where p99 passes 100 ms."""
    work = Path(tempfile.mkdtemp(prefix="dancer-bench-"))
    photo = work / "1mb.png"
    megabyte_photo(photo)
    levels: dict[str, list[dict[str, Any]]] = {"json": [], "multipart": [], "get": []}
    with stack(servers, logs, INSTANT, {}, stages=()) as s:  # the gateway alone: no stage competes
        uploaded = httpx.post(
            f"{s.gateway}/api/uploads/image", files={"file": ("p.png", photos(1)[0], "image/png")}, timeout=30
        ).json()
        ids = asyncio.run(post_all(s.gateway, photos(50, (300, 540))))
        (work / "ids").write_text("\n".join(ids))
        arguments = {"json": uploaded["ossUrl"], "multipart": str(photo), "get": str(work / "ids")}
        for kind, argument in arguments.items():
            for rate in cfg.gateway_rates:
                runs = [load(s.gateway, kind, rate, cfg.gateway_seconds, argument) for _ in range(cfg.runs)]
                keys = ("achieved_rate", "p50_ms", "p99_ms", "errors")
                level = {"rate": rate, "runs": runs, **{k: across(runs, k) for k in keys}}
                levels[kind].append(level)
                if level["p99_ms"]["median"] > 100:
                    break
    return {
        "photo_mb": round(photo.stat().st_size / 1e6, 2),
        "seconds_per_level": cfg.gateway_seconds,
        "levels": levels,
    }


# -- 3 + 5: provider-bound, and the baseline -----------------------------------------------------
def busy_fraction(tasks: list[dict[str, Any]], start: float, end: float) -> float:
    """Time the account's one lane had a job in it, over the wall time."""
    spans = sorted(
        (t["scheduled_time"], t["end_time"]) for t in tasks if t["scheduled_time"] and t["end_time"]
    )
    busy, reach = 0.0, start
    for a, b in spans:
        a = max(a, reach)
        if b > a:
            busy, reach = busy + b - a, b
    return busy / (end - start)


def provider_figures(s: Stack, started: float, done: dict[str, float], generations: int) -> dict[str, Any]:
    """From the emulator's own books: busy time, lag from a job's end to its result, calls, 429s."""
    tasks = [t for t in s.admin("GET", "tasks") if t["model"] == "animate-anyone-gen2"]
    ended = max(done.values())
    lags = [done[t["task_id"]] - t["end_time"] for t in tasks if t["task_id"] in done and t["end_time"]]
    calls = s.admin("GET", "counters")["calls"]
    return {
        "generations": generations,
        "wall_s": round(ended - started, 2),
        "busy_fraction": round(busy_fraction(tasks, started, ended), 3),
        "completion_lag_p50_s": round(pct(lags, 0.5), 3),
        "completion_lag_p99_s": round(pct(lags, 0.99), 3),
        "calls_per_generation": {
            endpoint: round(sum(by_status.values()) / generations, 2) for endpoint, by_status in calls.items()
        },
        "throttled_429": sum(by_status.get("429", 0) for by_status in calls.values()),
    }


async def provider_run(s: Stack, images: list[bytes]) -> dict[str, Any]:
    s.admin("POST", "reset")
    started = time.time()
    rows = await wait_done(s, await post_all(s.gateway, images))
    done = {r["task_id"]: r["published_at"].timestamp() for r in rows if r["task_id"]}
    return {"statuses": sorted({r["status"] for r in rows}), **provider_figures(s, started, done, len(rows))}


def baseline_run(s: Stack, images: list[bytes], threads: int, work: Path) -> dict[str, Any]:
    s.admin("POST", "reset")
    paths = []
    for index, image in enumerate(images):
        paths.append(work / f"photo-{index}.png")
        paths[-1].write_bytes(image)
    started = time.time()
    done = baseline.run(s.emulator, paths, threads)
    return provider_figures(s, started, done, len(images))


FIGURES = ("wall_s", "busy_fraction", "completion_lag_p50_s", "completion_lag_p99_s", "throttled_429")


def provider_bound(cfg: Config, servers: tuple[str, str], logs: Path) -> dict[str, Any]:
    """The same generations through the product, then through the SDK, against the same emulator."""
    work = Path(tempfile.mkdtemp(prefix="dancer-bench-"))
    with stack(servers, logs, PROVIDER, PROVIDER_SERVICES) as s:
        product = [asyncio.run(provider_run(s, photos(cfg.provider_generations))) for _ in range(cfg.runs)]
        threads = cfg.baseline_threads
        sdk = [baseline_run(s, photos(cfg.provider_generations), threads, work) for _ in range(cfg.runs)]
    return {
        "product": {"runs": product, **{k: across(product, k) for k in FIGURES}},
        "sdk_baseline": {"threads": threads, "runs": sdk, **{k: across(sdk, k) for k in FIGURES}},
    }

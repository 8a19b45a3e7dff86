"""`make bench` / `make bench-quick`: the real stack on this machine, measured; see bench/README.md.

Kafka and Postgres (scripts/), the emulator and every service run as separate processes on
127.0.0.1. Each scenario gets a fresh database and a fresh emulator. Nothing here asserts a timing:
it measures, prints and writes bench/results/<stamp>.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from PIL import Image

from bench import baseline
from tests import infra
from tests.database import fresh_database
from tests.e2e.images import person_photo
from tests.stack import STAGES, emulator, process, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "EXPIRED")

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


FULL = Config("full", 3, 150, 8, (25, 50, 100, 200, 400), 3.0, 8)
QUICK = Config("quick", 1, 40, 4, (50, 200), 2.0, 4)


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


# -- the stack ------------------------------------------------------------------------------------
@dataclass
class Stack:
    gateway: str
    emulator: str
    database_url: str
    logs: Path

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(method, f"{self.emulator}/admin/{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()


@contextmanager
def stack(
    servers: tuple[str, str],
    logs: Path,
    emulator_env: Mapping[str, str],
    service_env: Mapping[str, str],
    replicas: int = 1,
    stages: tuple[str, ...] = STAGES,
) -> Iterator[Stack]:
    kafka, postgres = servers
    logs.mkdir(parents=True, exist_ok=True)
    database_url = fresh_database(postgres, "bench")
    with ExitStack() as exits:
        emulator_url = exits.enter_context(
            emulator(infra.free_port(), logs / "emulator-data", logs, **emulator_env)
        )
        port = infra.free_port()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "DATABASE_URL": database_url,
            "DASHSCOPE_BASE_URL": f"{emulator_url}/api/v1",
            "DASHSCOPE_API_KEY": "sk-emulator",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            **service_env,
        }
        for stage in stages:
            for replica in range(replicas):
                exits.enter_context(process(stage, env, logs, suffix=f"-{replica}"))
        gateway = exits.enter_context(process("gateway", env, logs))
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", gateway, logs / "gateway.log")
        yield Stack(url, emulator_url, database_url, logs)


def photos(count: int, size: tuple[int, int] = (360, 640)) -> list[bytes]:
    """Distinct photos (the emulator counts the same photo twice as a duplicate job)."""
    return [person_photo(size, background=(i % 250, (i * 7) % 250, (i * 13) % 250)) for i in range(count)]


async def post_all(url: str, images: list[bytes]) -> list[str]:
    async with httpx.AsyncClient(timeout=60) as client:
        gate = asyncio.Semaphore(16)

        async def post(image: bytes) -> str:
            async with gate:
                answer = await client.post(
                    f"{url}/api/generations",
                    files={"file": ("p.png", image, "image/png")},
                    data={"templateId": TEMPLATE},
                )
                answer.raise_for_status()
                return str(answer.json()["generationId"])

        return list(await asyncio.gather(*(post(i) for i in images)))


ROWS = """
SELECT g.id::text AS id, g.status, g.task_id, g.retries, g.created_at, g.upload_started_at, g.uploaded_at,
       g.detect_started_at, g.detected_at, g.submit_started_at, g.submitted_at, g.finished_at,
       o.published_at
  FROM generations g
  LEFT JOIN outbox o ON o.key = g.id::text AND o.topic IN ('generation.completed', 'generation.failed')
 WHERE g.id::text = ANY($1::text[])
"""


async def wait_done(s: Stack, ids: list[str]) -> list[asyncpg.Record]:
    """Until every generation ended and its public event was published (10 minutes at most)."""
    timeout = 600
    deadline = time.monotonic() + timeout
    while True:
        rows = await s.sql(ROWS, ids)
        if all(r["status"] in TERMINAL and r["published_at"] for r in rows) and len(rows) == len(ids):
            return rows
        if time.monotonic() > deadline:
            raise RuntimeError(f"generations did not finish in {timeout}s; logs in {s.logs}")
        await asyncio.sleep(0.2)


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


# -- 1 + 4: the ceiling -----------------------------------------------------------------------------
async def ceiling_run(s: Stack, images: list[bytes]) -> dict[str, Any]:
    s.admin("POST", "reset")
    started = time.time()
    ids = await post_all(s.gateway, images)
    rows = await wait_done(s, ids)
    ended = max(r["published_at"] for r in rows).timestamp()
    statuses = {r["status"] for r in rows}
    segments = {
        name: {
            "p50_ms": round(pct([seconds(r[a], r[b]) for r in rows], 0.5) * 1000, 1),
            "p99_ms": round(pct([seconds(r[a], r[b]) for r in rows], 0.99) * 1000, 1),
        }
        for name, (a, b) in SEGMENTS.items()
    }
    return {
        "generations": len(ids),
        "statuses": sorted(statuses),
        "wall_s": round(ended - started, 2),
        "per_second": round(len(ids) / (ended - started), 2),
        "segments": segments,
    }


def ceiling(cfg: Config, servers: tuple[str, str], logs: Path, replicas: int) -> dict[str, Any]:
    with stack(servers, logs, INSTANT, CEILING_SERVICES, replicas=replicas) as s:
        asyncio.run(wait_done(s, asyncio.run(post_all(s.gateway, photos(5, (300, 540))))))  # warm up
        runs = [asyncio.run(ceiling_run(s, photos(cfg.ceiling_generations))) for _ in range(cfg.runs)]
    return {
        "replicas": replicas,
        "runs": runs,
        "per_second": across(runs, "per_second"),
        "segments": {
            name: {q: summary([r["segments"][name][q] for r in runs]) for q in ("p50_ms", "p99_ms")}
            for name in SEGMENTS
        },
    }


# -- 2: the gateway -------------------------------------------------------------------------------
def megabyte_photo(path: Path) -> None:
    """A PNG of about 1 MB (noise does not compress)."""
    image = Image.effect_noise((600, 600), 80).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())


def load(url: str, kind: str, rate: int, duration: float, argument: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", url, kind, str(rate), str(duration), argument],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def gateway(cfg: Config, servers: tuple[str, str], logs: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="dancer-bench-"))
    photo = work / "1mb.png"
    megabyte_photo(photo)
    levels: dict[str, list[dict[str, Any]]] = {"json": [], "multipart": [], "get": []}
    with stack(servers, logs, INSTANT, {}, stages=()) as s:  # the gateway alone: no stage competes
        uploaded = httpx.post(
            f"{s.gateway}/api/uploads/image",
            files={"file": ("p.png", photos(1)[0], "image/png")},
            timeout=30,
        ).json()
        asset = uploaded["ossUrl"]
        ids = asyncio.run(post_all(s.gateway, photos(50, (300, 540))))
        (work / "ids").write_text("\n".join(ids))
        arguments = {"json": asset, "multipart": str(photo), "get": str(work / "ids")}
        for kind, argument in arguments.items():
            for rate in cfg.gateway_rates:
                runs = [load(s.gateway, kind, rate, cfg.gateway_seconds, argument) for _ in range(cfg.runs)]
                level = {
                    "rate": rate,
                    "runs": runs,
                    **{k: across(runs, k) for k in ("achieved_rate", "p50_ms", "p99_ms", "errors")},
                }
                levels[kind].append(level)
                if level["p99_ms"]["median"] > 100:
                    break  # the rate where p99 passes 100 ms
    photo_mb = round(photo.stat().st_size / 1e6, 2)
    return {"photo_mb": photo_mb, "seconds_per_level": cfg.gateway_seconds, "levels": levels}


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
    ids = await post_all(s.gateway, images)
    rows = await wait_done(s, ids)
    done = {r["task_id"]: r["published_at"].timestamp() for r in rows if r["task_id"]}
    return {"statuses": sorted({r["status"] for r in rows}), **provider_figures(s, started, done, len(ids))}


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
    work = Path(tempfile.mkdtemp(prefix="dancer-bench-"))
    with stack(servers, logs, PROVIDER, PROVIDER_SERVICES) as s:
        product = [asyncio.run(provider_run(s, photos(cfg.provider_generations))) for _ in range(cfg.runs)]
        sdk = [
            baseline_run(s, photos(cfg.provider_generations), cfg.baseline_threads, work)
            for _ in range(cfg.runs)
        ]
    return {
        "product": {"runs": product, **{k: across(product, k) for k in FIGURES}},
        "sdk_baseline": {
            "threads": cfg.baseline_threads,
            "runs": sdk,
            **{k: across(sdk, k) for k in FIGURES},
        },
    }


# -- the report ----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def markdown(report: dict[str, Any]) -> str:
    c1, c2 = report["ceiling_1"], report["ceiling_2"]
    lines = [
        f"# Benchmark, {report['date']} ({report['config']['mode']})",
        "",
        f"Machine: {report['machine']['cores']} cores, {report['machine']['memory_gb']} GB, "
        f"Python {report['machine']['python']}, {report['machine']['platform']}. "
        f"Each figure is the median of {report['config']['runs']} run(s) [min-max]. "
        f"Took {report['took_s']} s.",
        "",
        "## 1. Pipeline ceiling (instant emulator, no quotas, one replica per stage)",
        "",
        f"**{fmt(c1['per_second'])} generations/s** ({report['config']['ceiling_generations']} per run).",
        "",
        "| segment | p50 ms | p99 ms |",
        "|---|---|---|",
        *[f"| {name} | {fmt(v['p50_ms'])} | {fmt(v['p99_ms'])} |" for name, v in c1["segments"].items()],
        "",
        "## 2. Gateway latency (gateway alone; load from a separate process)",
        "",
        f"Multipart photo: {report['gateway']['photo_mb']} MB. "
        f"{report['gateway']['seconds_per_level']} s per level.",
        "",
        "| endpoint | offered req/s | achieved req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "json": "POST /api/generations (JSON)",
        "multipart": "POST /api/generations (multipart)",
        "get": "GET /api/generations/{id}",
    }
    for kind, levels in report["gateway"]["levels"].items():
        for level in levels:
            lines.append(
                f"| {names[kind]} | {level['rate']} | {fmt(level['achieved_rate'])} | {fmt(level['p50_ms'])} "
                f"| {fmt(level['p99_ms'])} | {fmt(level['errors'])} |"
            )
    p, b = report["provider"]["product"], report["provider"]["sdk_baseline"]
    lines += [
        "",
        "## 3 and 5. Provider-bound: DashScope's quotas, 50-250 ms API latency, 3 s jobs",
        "",
        f"{report['config']['provider_generations']} generations per run. Baseline: the official SDK "
        f"in {b['threads']} threads (upload, detect, submit, wait; a 429 retried after 1 s).",
        "",
        "| | this product | SDK baseline |",
        "|---|---|---|",
        f"| wall time, s | {fmt(p['wall_s'])} | {fmt(b['wall_s'])} |",
        f"| provider busy / wall | {fmt(p['busy_fraction'])} | {fmt(b['busy_fraction'])} |",
        f"| completion lag p50, s | {fmt(p['completion_lag_p50_s'])} | {fmt(b['completion_lag_p50_s'])} |",
        f"| completion lag p99, s | {fmt(p['completion_lag_p99_s'])} | {fmt(b['completion_lag_p99_s'])} |",
        f"| 429s received | {fmt(p['throttled_429'])} | {fmt(b['throttled_429'])} |",
        "",
        "Provider calls per generation (first run):",
        "",
        "| endpoint | this product | SDK baseline |",
        "|---|---|---|",
    ]
    ours, theirs = p["runs"][0]["calls_per_generation"], b["runs"][0]["calls_per_generation"]
    for endpoint in sorted(set(ours) | set(theirs)):
        lines.append(f"| `{endpoint}` | {ours.get(endpoint, 0)} | {theirs.get(endpoint, 0)} |")
    ratio = c2["per_second"]["median"] / c1["per_second"]["median"]
    lines += [
        "",
        "## 4. Scale: two replicas of each stage",
        "",
        f"{fmt(c2['per_second'])} generations/s with two replicas vs {fmt(c1['per_second'])} with one: "
        f"**{ratio:.2f}x** on {report['machine']['cores']} cores.",
        "",
    ]
    return "\n".join(lines)


def fmt(value: Any) -> str:
    if isinstance(value, dict):
        return (
            f"{value['median']} [{value['min']}-{value['max']}]"
            if value["min"] != value["max"]
            else str(value["median"])
        )
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="under 2 minutes, one run each")
    cfg = QUICK if parser.parse_args().quick else FULL
    print(f"machine: {json.dumps(machine())}\nconfig: {json.dumps(asdict(cfg))}", flush=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / f"{stamp}-logs"
    begin = time.monotonic()
    report: dict[str, Any] = {"date": datetime.now().isoformat(timespec="seconds"), "machine": machine()}
    report["config"] = {
        **asdict(cfg),
        "instant_emulator": INSTANT,
        "provider_emulator": PROVIDER,
        "ceiling_services": CEILING_SERVICES,
        "provider_services": PROVIDER_SERVICES,
    }
    with infra.kafka() as kafka, infra.postgres() as postgres:
        servers = (kafka, postgres)
        for key, step in (
            ("ceiling_1", lambda: ceiling(cfg, servers, logs / "ceiling-1", 1)),
            ("ceiling_2", lambda: ceiling(cfg, servers, logs / "ceiling-2", 2)),
            ("gateway", lambda: gateway(cfg, servers, logs / "gateway")),
            ("provider", lambda: provider_bound(cfg, servers, logs / "provider")),
        ):
            print(f"{key}...", flush=True)
            report[key] = step()
    report["took_s"] = round(time.monotonic() - begin, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS / f"{stamp}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""7: cutout.pro's completion, by its notice vs by polling: from the provider's job end to the product
knowing the video is there (`rendered_at`) and to SUCCEEDED, the same jobs both ways in the same run.

The emulator's cutout.pro jobs take `RUN_S`; the poller polls at the default `POLL_INTERVAL_SECONDS`
(2 s, doubling every 3 polls). With the notice, the gateway's callback makes the job due at once.

    python -m bench.callbacks [generations]    # this scenario alone, on the local Kafka/Postgres
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.scenarios import INSTANT, Config, pct
from bench.stack import Stack, photos, stack, wait_done

RUN_S = 5.0
TOKEN = "bench-cutout-callback-token"
TEMPLATE = "cutout-2"
ROWS = "SELECT id::text, task_id, rendered_at, finished_at FROM generations WHERE id::text = ANY($1::text[])"


async def one_way(s: Stack, images: list[bytes], notices: bool) -> dict[str, list[float]]:
    callback = f"{s.gateway}/api/providers/cutout/callback/{TOKEN}" if notices else ""
    s.admin("PUT", "cutout/config", json={"callback_url": callback, "run_seconds": RUN_S})
    async with httpx.AsyncClient(timeout=60) as client:
        answers = [
            await client.post(
                f"{s.gateway}/api/generations",
                files={"file": ("p.png", image, "image/png")},
                data={"templateId": TEMPLATE},
            )
            for image in images
        ]
    ids = [a.raise_for_status().json()["generationId"] for a in answers]
    await wait_done(s, ids)
    ended = {str(t["task_id"]): t["ended_at"] for t in s.admin("GET", "cutout/tasks")["tasks"]}
    lags: dict[str, list[float]] = {"known_s": [], "succeeded_s": []}
    for row in await s.sql(ROWS, ids):
        end = datetime.fromtimestamp(ended[row["task_id"]], UTC)
        lags["known_s"].append((row["rendered_at"] - end).total_seconds())
        lags["succeeded_s"].append((row["finished_at"] - end).total_seconds())
    return lags


def callbacks(cfg: Config, servers: tuple[str, str], logs: Path) -> dict[str, Any]:
    count = cfg.baseline_threads
    env = {"CUTOUT_CALLBACK_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"}
    with stack(servers, logs, INSTANT, env) as s:
        polled = asyncio.run(one_way(s, photos(count), notices=False))
        notified = asyncio.run(one_way(s, photos(count + 1)[1:], notices=True))
    figures = {
        way: {name: {"p50": round(pct(v, 0.5), 2), "max": round(max(v), 2)} for name, v in lags.items()}
        for way, lags in (("polled", polled), ("notified", notified))
    }
    return {"generations": count, "job_seconds": RUN_S, **figures}


def lines(found: dict[str, Any]) -> list[str]:
    p, n = found["polled"], found["notified"]
    ratio = p["known_s"]["p50"] / n["known_s"]["p50"] if n["known_s"]["p50"] > 0 else float("inf")
    return [
        f"## 7. cutout.pro completion: its notice vs polling ({found['generations']} jobs of "
        f"{found['job_seconds']:g} s each way)",
        "",
        "| from the job's end to | polled: p50 (max) | with the notice: p50 (max) |",
        "|---|---|---|",
        f"| the product knowing (`rendered_at`) | {p['known_s']['p50']} s ({p['known_s']['max']}) | "
        f"{n['known_s']['p50']} s ({n['known_s']['max']}) |",
        f"| SUCCEEDED (video archived) | {p['succeeded_s']['p50']} s ({p['succeeded_s']['max']}) | "
        f"{n['succeeded_s']['p50']} s ({n['succeeded_s']['max']}) |",
        "",
        f"The notice makes the product learn of a finished job **{ratio:.1f}x** sooner (p50).",
        "",
    ]


if __name__ == "__main__":
    from bench.__main__ import QUICK
    from tests import infra

    count = int(sys.argv[1]) if len(sys.argv) > 1 else QUICK.baseline_threads
    cfg = Config(**{**QUICK.__dict__, "baseline_threads": count})
    with infra.kafka() as kafka, infra.postgres() as postgres:
        result = callbacks(cfg, (kafka, postgres), Path("bench/results/callbacks-logs"))
    print("\n".join(lines(result)))

"""Open-loop load on one gateway endpoint, run as its own process so it does not share the
gateway's event loop: requests start on a fixed schedule whatever the answers' latency.

    python -m bench.load <gateway url> <kind> <rate/s> <seconds> <argument>

`kind` is `json` (argument: an `asset://` URL), `multipart` (argument: a photo file) or `get`
(argument: a file of generation ids, one per line). Prints one JSON line of latency figures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
WARM_UP = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(
    url: str, kind: str, rate: float, seconds: float, argument: str, photo: bytes, ids: list[str]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0

    async def one(client: httpx.AsyncClient, index: int, measured: bool = True) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            if kind == "json":
                answer = await client.post(
                    f"{url}/api/generations", json={"templateId": TEMPLATE, "ossUrl": argument}
                )
            elif kind == "multipart":
                answer = await client.post(
                    f"{url}/api/generations",
                    files={"file": ("photo.png", photo, "image/png")},
                    data={"templateId": TEMPLATE},
                )
            else:
                answer = await client.get(f"{url}/api/generations/{ids[index % len(ids)]}")
            ok = answer.status_code in (200, 202)
        except httpx.HTTPError:
            ok = False
        if measured:
            latencies.append(time.perf_counter() - started)
            errors += not ok

    limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        # Unmeasured warm-up: a few connections opened, the gateway's code paths and statements warm.
        await asyncio.gather(*(one(client, index, measured=False) for index in range(WARM_UP)))
        total = int(rate * seconds)
        begin = time.perf_counter()
        tasks = []
        for index in range(total):
            delay = begin + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, index)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return {
        "requests": total,
        "errors": errors,
        "achieved_rate": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


def main() -> None:
    url, kind, rate, seconds, argument = sys.argv[1:6]
    photo = Path(argument).read_bytes() if kind == "multipart" else b""
    ids = Path(argument).read_text().split() if kind == "get" else []
    print(json.dumps(asyncio.run(run(url, kind, float(rate), float(seconds), argument, photo, ids))))


if __name__ == "__main__":
    main()

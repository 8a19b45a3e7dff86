"""6: many open status streams (SSE) on one gateway: what they cost it, and how fast a change arrives.

The gateway runs alone (no stage changes anything). The bench opens one stream per generation, reads
the gateway's RSS before and after, its CPU time and the database's transactions while every stream
sits idle, then makes status changes with SQL one at a time, as a stage would, and times each from
just before its UPDATE to the event's arrival on its stream, while all streams stay open.

    python -m bench.streams [streams] [changes]    # this scenario alone, on the local Kafka/Postgres
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from bench.scenarios import INSTANT, Config, pct
from bench.stack import TEMPLATE, Stack, stack

COUNT = {"full": 1000, "quick": 200}  # streams, by bench mode
CHANGES = 50
IDLE_S = 5.0
SETTLE_S = 11.0  # Postgres publishes a backend's statistics up to 10 s late: let the opening reads land
NEW = """INSERT INTO generations (id, status, stage, template_id)
         SELECT gen_random_uuid(), 'QUEUED', 'gateway', $1 FROM generate_series(1, $2) RETURNING id::text"""
CONNECTIONS = """SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND backend_type = 'client backend'
                    AND pid <> pg_backend_pid()"""
XACTS = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"


def raise_fd_limit(needed: int) -> None:
    """Room for the streams' sockets, here and in the gateway (started after this: it inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard), hard)
        )


def gateway_pid(url: str) -> int:
    """The `python -m gateway` process serving `url` (the stack does not hand out its Popen)."""
    port = f"GATEWAY_PORT={urlsplit(url).port}".encode()
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().split(b"\0")[1:3] if entry.name.isdigit() else []
            if command == [b"-m", b"gateway"] and port in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
    raise RuntimeError(f"no gateway process serves {url}")


def rss_mb(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return round(int(line.split()[1]) / 1024, 1)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def idle(db: asyncpg.Connection, pid: int) -> tuple[float, float]:
    """The gateway's CPU % and the database's transactions/s over IDLE_S seconds of nothing happening."""
    cpu, xacts = cpu_s(pid), await db.fetchval(XACTS)
    await asyncio.sleep(IDLE_S)
    return round((cpu_s(pid) - cpu) / IDLE_S * 100, 1), round((await db.fetchval(XACTS) - xacts) / IDLE_S, 1)


async def _read(response: httpx.Response, arrivals: asyncio.Queue[tuple[str, float]]) -> None:
    """Put (status, perf_counter at arrival) for each status event of one stream."""
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            arrivals.put_nowait((json.loads(line[5:])["status"], time.perf_counter()))


async def measure(s: Stack, count: int, changes: int) -> dict[str, Any]:
    pid = gateway_pid(s.gateway)
    db = await asyncpg.connect(s.database_url.replace("+asyncpg", ""))
    try:
        return await _measure(s, db, pid, count, changes)
    finally:
        await db.close()


async def _measure(s: Stack, db: asyncpg.Connection, pid: int, count: int, changes: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), limits=limits) as client:
        warm = (await db.fetch(NEW, TEMPLATE, 1))[0]["id"]  # one stream first: lazy imports, pool
        async with client.stream("GET", f"{s.gateway}/api/generations/{warm}/events") as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    break
        ids = [r["id"] for r in await db.fetch(NEW, TEMPLATE, count)]
        await asyncio.sleep(SETTLE_S)
        rss_before, quiet = rss_mb(pid), await idle(db, pid)
        queues: dict[str, asyncio.Queue[tuple[str, float]]] = {i: asyncio.Queue() for i in ids}
        gate = asyncio.Semaphore(100)  # connects at a time

        async def open_one(streams: contextlib.AsyncExitStack, generation_id: str) -> None:
            async with gate:
                url = f"{s.gateway}/api/generations/{generation_id}/events"
                response = await streams.enter_async_context(client.stream("GET", url))
                response.raise_for_status()
                readers.append(asyncio.create_task(_read(response, queues[generation_id])))
                await queues[generation_id].get()  # QUEUED: the stream is subscribed and caught up

        readers: list[asyncio.Task[None]] = []
        async with contextlib.AsyncExitStack() as streams:
            started = time.perf_counter()
            await asyncio.gather(*(open_one(streams, i) for i in ids))
            open_s = time.perf_counter() - started
            await asyncio.sleep(SETTLE_S)
            rss_after = rss_mb(pid)
            connections = await db.fetchval(CONNECTIONS)  # the gateway's: nothing else uses this database
            busy = await idle(db, pid)

            latencies = []
            for generation_id in random.sample(ids, min(changes, len(ids))):
                begun = time.perf_counter()
                await db.execute(
                    "UPDATE generations SET status = 'UPLOADING', stage = 'bench' WHERE id = $1::uuid",
                    generation_id,
                )
                status, arrived = await asyncio.wait_for(queues[generation_id].get(), 10)
                assert status == "UPLOADING", status
                latencies.append((arrived - begun) * 1000)
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
            misdelivered = sum(q.qsize() for q in queues.values())
            still_open = sum(not r.done() for r in readers)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    return {
        "streams": count,
        "open_s": round(open_s, 2),
        "still_open": still_open,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "kb_per_stream": round((rss_after - rss_before) * 1024 / count, 1),
        "db_connections": connections,
        "idle_cpu_percent": {"without_streams": quiet[0], "with_streams": busy[0]},
        "idle_db_xacts_per_s": {"without_streams": quiet[1], "with_streams": busy[1]},
        "changes": len(latencies),
        "misdelivered": misdelivered,
        "latency_p50_ms": round(pct(latencies, 0.5), 1),
        "latency_p99_ms": round(pct(latencies, 0.99), 1),
        "latency_max_ms": round(max(latencies), 1),
    }


def streams(
    cfg: Config, servers: tuple[str, str], logs: Path, count: int | None = None, changes: int = CHANGES
) -> dict[str, Any]:
    count = count or COUNT[cfg.mode]
    raise_fd_limit(2 * count + 1024)
    with stack(servers, logs, INSTANT, {}, stages=()) as s:  # the gateway alone
        return asyncio.run(measure(s, count, changes))


def lines(found: dict[str, Any]) -> list[str]:
    """The report's section."""
    f, cpu, xacts = found, found["idle_cpu_percent"], found["idle_db_xacts_per_s"]
    return [
        f"## 6. Open status streams (SSE): {f['streams']} on one gateway",
        "",
        f"Opened, each caught up, in {f['open_s']} s; {f['still_open']} still open after the changes. "
        f"Gateway RSS {f['rss_before_mb']} MB before, {f['rss_after_mb']} MB with the streams open "
        f"(**{f['kb_per_stream']} kB per stream**); {f['db_connections']} database connections in all "
        f"(one LISTEN and the pool). Idle for {IDLE_S:g} s, without streams / with them open: gateway CPU "
        f"{cpu['without_streams']}% / {cpu['with_streams']}%, database transactions/s "
        f"{xacts['without_streams']} / {xacts['with_streams']} (the outbox relay polls; streams do not).",
        "",
        f"Status change (SQL UPDATE) to its event on the stream, {f['changes']} changes one at a time: "
        f"**p50 {f['latency_p50_ms']} ms, p99 {f['latency_p99_ms']} ms** (max {f['latency_max_ms']} ms); "
        f"{f['misdelivered']} events reached another stream.",
        "",
    ]


if __name__ == "__main__":
    from bench.__main__ import QUICK
    from tests import infra

    with infra.kafka() as kafka, infra.postgres() as postgres:
        n = int(sys.argv[1]) if len(sys.argv) > 1 else COUNT["full"]
        changes = int(sys.argv[2]) if len(sys.argv) > 2 else CHANGES
        here = Path(__file__).resolve().parent / "results" / f"streams-{time.strftime('%Y%m%d-%H%M%S')}-logs"
        found = streams(QUICK, (kafka, postgres), here, n, changes)
        print(json.dumps(found, indent=2))
        print("\n".join(lines(found)))

"""The real stack for one scenario: a fresh database, a fresh emulator, every service its own process."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests import infra
from tests.database import fresh_database
from tests.e2e.images import person_photo
from tests.stack import STAGES, emulator, local_media, process, wait_until_up

TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "EXPIRED")


@dataclass
class Stack:
    gateway: str
    emulator: str
    database_url: str
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # "<stage>-<replica>"

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
            "CUTOUT_BASE_URL": f"{emulator_url}/cutout/api/v1",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            **local_media(logs, port),
            **service_env,
        }
        procs = {}
        for stage in stages:
            for replica in range(replicas):
                name = f"{stage}-{replica}"
                procs[name] = exits.enter_context(process(stage, env, logs, suffix=f"-{replica}"))
        gateway = exits.enter_context(process("gateway", env, logs))
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", gateway, logs / "gateway.log")
        yield Stack(url, emulator_url, database_url, logs, procs)


def photos(count: int, size: tuple[int, int] = (360, 640)) -> list[bytes]:
    """Distinct photos (the emulator counts the same photo twice as a duplicate job)."""
    return [person_photo(size, background=(i % 250, (i * 7) % 250, (i * 13) % 250)) for i in range(count)]


async def post_all(url: str, images: list[bytes]) -> list[str]:
    """Ask for a video of each photo (16 requests at a time); the generation ids."""
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
    """Until every generation ended and its public event was published; their rows."""
    timeout = 600
    deadline = time.monotonic() + timeout
    while True:
        rows = await s.sql(ROWS, ids)
        if len(rows) == len(ids) and all(r["status"] in TERMINAL and r["published_at"] for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise RuntimeError(f"generations did not finish in {timeout}s; logs in {s.logs}")
        await asyncio.sleep(0.2)

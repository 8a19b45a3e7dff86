"""A whole stack whose parts a fault test can kill, stop and start again: real processes only."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests import infra
from tests.database import migrate
from tests.e2e.images import person_photo
from tests.stack import STAGES, emulator, local_media, wait_until_up

TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"
_JOINED = re.compile(r"Joined group '\S+' \(generation (\d+)\)")
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "TIMED_OUT", "EXPIRED"}
FAST = {
    "EMULATOR_PENDING_SECONDS": "0",
    "EMULATOR_PREPROCESS_SECONDS": "0",
    "EMULATOR_RUN_SECONDS": "0.1",
    "EMULATOR_POSTPROCESS_SECONDS": "0",
    "EMULATOR_VIDEO_SECONDS": "1",
    "EMULATOR_CUTOUT_RUN_SECONDS": "0.5",
}


@dataclass
class Stack:
    """Kafka, Postgres, the emulator and every service, each its own process, on loopback."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    gateway_url: str = ""
    emulator_url: str = ""
    procs: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    kafka_env: dict[str, str] = field(default_factory=dict)
    pg_env: dict[str, str] = field(default_factory=dict)

    # processes -------------------------------------------------------------
    def start(self, name: str, replicas: int = 1, **extra_env: str) -> None:
        log = (self.root / f"{name}.log").open("ab")
        env = {**os.environ, **self.env, **extra_env}
        for _ in range(replicas):
            proc = subprocess.Popen(
                [sys.executable, "-m", name], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            self.procs.setdefault(name, []).append(proc)
        if name == "gateway":
            wait_until_up(f"{self.gateway_url}/healthz", self.procs[name][-1], self.root / "gateway.log")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        for proc in self.procs.pop(name, []):
            proc.send_signal(sig)
            proc.wait(timeout=60)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    # infrastructure --------------------------------------------------------
    def stop_kafka(self) -> None:
        infra.script("kafka.sh", "stop", self.kafka_env)

    def start_kafka(self) -> None:
        infra.script("kafka.sh", "start", self.kafka_env)

    def stop_postgres(self) -> None:
        infra.script("postgres.sh", "stop", self.pg_env)

    def start_postgres(self) -> None:
        infra.script("postgres.sh", "start", self.pg_env)

    # the public API --------------------------------------------------------
    def post(self, index: int, task_fate: str | None = None, **form: str) -> str:
        """Ask for a video of a photo unique to `index` (so the emulator can spot duplicate jobs);
        `task_fate` scripts the provider job (e.g. "never")."""
        background = (index % 250, (index * 7) % 250, (index * 13) % 250)
        photo = person_photo(background=background, task_fate=task_fate)
        answer = httpx.post(
            f"{self.gateway_url}/api/generations",
            files={"file": ("p.png", photo, "image/png")},
            data={"templateId": TEMPLATE, **form},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["generationId"])

    def status(self, generation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(
            f"{self.gateway_url}/api/generations/{generation_id}", timeout=30
        ).json()
        return body

    def wait_all(self, ids: list[str], timeout: float = 240) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        final: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            for generation_id in ids:
                if generation_id not in final:
                    with_status = self.status(generation_id)
                    if with_status["status"] in TERMINAL:
                        final[generation_id] = with_status
            if len(final) == len(ids):
                return final
            time.sleep(0.5)
        stuck = {i: self.status(i)["status"] for i in ids if i not in final}
        raise AssertionError(f"{len(stuck)} generations never ended: {stuck}")

    def wait_until(self, predicate: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "condition not reached in time"
            time.sleep(0.2)

    def wait_for_consumers(self, members: int, timeout: float = 90) -> None:
        """Until every stage's consumer group last (re)formed with `members` consumers, read from the
        consumers' own log lines (aiokafka's admin client cannot decode Kafka 4's group descriptions)."""

        def settled(name: str) -> bool:
            log = (self.root / f"{name}.log").read_text(errors="replace")
            joins = Counter(int(m[1]) for m in _JOINED.finditer(log))  # group generation -> members
            return bool(joins) and joins[max(joins)] == members

        self.wait_until(lambda: all(settled(name) for name in STAGES), timeout)

    def counters(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.emulator_url}/admin/counters").json()
        return body

    def provider_tasks(self) -> dict[str, dict[str, Any]]:
        """The emulator's jobs by task id."""
        tasks: list[dict[str, Any]] = httpx.get(f"{self.emulator_url}/admin/tasks").json()
        return {t["task_id"]: t for t in tasks}

    def sql(self, query: str) -> list[Any]:
        async def run() -> list[Any]:
            connection = await asyncpg.connect(self.env["DATABASE_URL"].replace("+asyncpg", ""))
            try:
                return list(await connection.fetch(query))
            finally:
                await connection.close()

        return asyncio.run(run())


@contextmanager
def stack(root: Path, **overrides: str) -> Iterator[Stack]:
    """Private Kafka and Postgres (so a test may restart them), the emulator and all five services."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("DATABASE_URL"):
        import pytest

        pytest.skip(
            "fault tests restart their own Kafka and Postgres; unset KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL"
        )
    s = Stack(root=root)
    with ExitStack() as exits:
        kafka_dir, pg_dir = (exits.enter_context(infra.fresh_dir(p)) for p in ("dancer-kafka-", "dancer-pg-"))
        s.kafka_env = {
            "KAFKA_DATA_DIR": str(kafka_dir),
            "KAFKA_PORT": str(infra.free_port()),
            "KAFKA_CONTROLLER_PORT": str(infra.free_port()),
            "TOPIC_PARTITIONS": "12",
        }
        s.pg_env = {"PG_DATA_DIR": str(pg_dir), "PG_PORT": str(infra.free_port())}
        bootstrap = exits.enter_context(
            infra.local_kafka(
                kafka_dir, int(s.kafka_env["KAFKA_PORT"]), int(s.kafka_env["KAFKA_CONTROLLER_PORT"])
            )
        )
        database_url = exits.enter_context(infra.local_postgres(pg_dir, int(s.pg_env["PG_PORT"])))
        migrate(database_url)
        emulator_env = {**FAST, **{k: v for k, v in overrides.items() if k.startswith("EMULATOR_")}}
        s.emulator_url = exits.enter_context(
            emulator(infra.free_port(), root / "emulator-data", root, **emulator_env)
        )
        gateway_port = infra.free_port()
        s.gateway_url = f"http://127.0.0.1:{gateway_port}"
        s.env = {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DATABASE_URL": database_url,
            "DASHSCOPE_BASE_URL": f"{s.emulator_url}/api/v1",
            "DASHSCOPE_API_KEY": "sk-emulator",
            "CUTOUT_BASE_URL": f"{s.emulator_url}/cutout/api/v1",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(gateway_port),
            "POLL_INTERVAL_SECONDS": "0.3",
            "RETRY_BASE_SECONDS": "0.2",
            "RETRY_MAX_SECONDS": "2",
            "SHUTDOWN_TIMEOUT_SECONDS": "5",
            **local_media(root, gateway_port),
            **{k: v for k, v in overrides.items() if not k.startswith("EMULATOR_")},
        }
        exits.callback(s.stop_all)
        for name in STAGES:
            s.start(name)
        s.start("gateway")
        yield s

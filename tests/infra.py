"""Real Kafka and PostgreSQL for tests.

Order of preference (shared/docs/local-infra.md):
1. ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` set: used as given.
2. The project's scripts (``scripts/kafka.sh``, ``scripts/postgres.sh``) start a private server with a
   fresh data dir and random free ports, stopped again at exit.
3. A working Docker engine: testcontainers.

When none is possible, ``InfraUnavailable`` is raised; the caller decides between skip and failure
(in CI, ``CI=true``, it is always a failure).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = REPO_ROOT / "scripts"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
POSTGRES_IMAGE = "postgres:15"
START_TIMEOUT_S = 600  # the first Kafka start downloads the jars


class InfraUnavailable(RuntimeError):
    """No way to provide the requested server on this machine."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def script(name: str, command: str, env: Mapping[str, str], *, check: bool = True) -> str:
    """Runs scripts/<name> <command> and returns its stdout; stderr is passed through on failure."""
    full_env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"}}
    full_env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    full_env.update(env)
    result = subprocess.run(
        ["bash", str(SCRIPTS / name), command],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"scripts/{name} {command} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def _value(stdout: str, key: str) -> str:
    for line in stdout.splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].split()[0]
    raise RuntimeError(f"no {key}= line in script output: {stdout!r}")


@contextmanager
def local_kafka(data_dir: Path, port: int, controller_port: int) -> Iterator[str]:
    """A single-node Kafka from scripts/kafka.sh; yields the bootstrap servers."""
    env = {
        "KAFKA_DATA_DIR": str(data_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    try:
        yield _value(script("kafka.sh", "start", env), "KAFKA_BOOTSTRAP_SERVERS")
    finally:
        script("kafka.sh", "stop", env, check=False)


@contextmanager
def local_postgres(data_dir: Path, port: int) -> Iterator[str]:
    """A private PostgreSQL cluster from scripts/postgres.sh; yields
    ``postgresql+asyncpg://dancer@127.0.0.1:<port>/dancer``. As root the data dir is handed to the
    ``postgres`` user, so its parents must be traversable (``/tmp/...`` is; pytest's tmp_path is not)."""
    env = {"PG_DATA_DIR": str(data_dir), "PG_PORT": str(port)}
    try:
        yield _value(script("postgres.sh", "start", env), "DATABASE_URL")
    finally:
        script("postgres.sh", "stop", env, check=False)


def _kafka_scripts_usable() -> bool:
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def _postgres_scripts_usable() -> bool:
    pg_bins = Path("/usr/lib/postgresql")
    installed = shutil.which("initdb") is not None or any(pg_bins.glob("*/bin/initdb"))
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    return installed or can_install


@contextmanager
def fresh_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def kafka() -> Iterator[str]:
    """Bootstrap servers of a real broker, by the order of preference above."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield bootstrap
    elif _kafka_scripts_usable():
        with (
            fresh_dir("dancer-kafka-") as data_dir,
            local_kafka(data_dir, free_port(), free_port()) as bootstrap,
        ):
            yield bootstrap
    elif docker_works():
        try:
            from testcontainers.community.kafka import KafkaContainer
        except ImportError:  # testcontainers < 4.14
            from testcontainers.kafka import KafkaContainer
        container = (
            KafkaContainer(KAFKA_IMAGE).with_kraft().with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        )
        with container:
            yield container.get_bootstrap_server()
    else:
        raise InfraUnavailable(
            "no Kafka: KAFKA_BOOTSTRAP_SERVERS unset, no java and mvn for scripts/kafka.sh, no Docker"
        )


@contextmanager
def postgres() -> Iterator[str]:
    """URL of a real PostgreSQL database (``postgresql+asyncpg://...``), by the order of preference above."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
    elif _postgres_scripts_usable():
        with fresh_dir("dancer-pg-") as data_dir, local_postgres(data_dir, free_port()) as url:
            yield url
    elif docker_works():
        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:  # testcontainers < 4.14
            from testcontainers.postgres import PostgresContainer
        container = PostgresContainer(
            POSTGRES_IMAGE, username="dancer", password="dancer", dbname="dancer", driver="asyncpg"
        )
        with container:
            yield container.get_connection_url()
    else:
        raise InfraUnavailable("no PostgreSQL: DATABASE_URL unset, server not installable here, no Docker")

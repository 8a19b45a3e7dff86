"""Session-wide real infrastructure, started lazily: only when a test asks for the fixture."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, which leaves sys.path alone: make `tests.*` importable.
_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# The folder `emulators/` has the same name as the package inside it (emulators/src/emulators). Import
# the real package first, so that importlib mode does not register the folder as `emulators`.
import emulators  # noqa: E402, F401
from tests import infra  # noqa: E402


def _provide(factory: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    try:
        with factory() as value:
            yield value
    except infra.InfraUnavailable as exc:
        if infra.in_ci():
            pytest.fail(f"CI=true and {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """``host:port`` of a real Kafka broker (no topic auto-creation: create topics explicitly)."""
    yield from _provide(infra.kafka)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """``postgresql+asyncpg://dancer@127.0.0.1:PORT/dancer`` of a real server (role may CREATEDB)."""
    yield from _provide(infra.postgres)


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> str:
    """A fresh database on the real server, migrated to head (one per test session)."""
    from tests.database import fresh_database

    return fresh_database(postgres_server_url, "it")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a real S3-compatible server (any credentials): ``S3_ENDPOINT_URL``
    if set, else a private moto server from scripts/s3.sh on a free port, stopped at the end."""
    if url := os.environ.get("S3_ENDPOINT_URL"):
        yield url
        return
    with infra.fresh_dir("dancer-s3-") as data_dir:
        env = {"S3_DATA_DIR": str(data_dir), "S3_PORT": str(infra.free_port())}
        try:
            lines = infra.script("s3.sh", "start", env).splitlines()
            yield next(line.split("=", 1)[1] for line in lines if line.startswith("S3_ENDPOINT_URL="))
        finally:
            infra.script("s3.sh", "stop", env, check=False)

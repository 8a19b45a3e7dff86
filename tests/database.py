"""A fresh, migrated database on the test Postgres server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _create(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def migrate(database_url: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(ROOT / "libs/common/alembic.ini"),
            "-x",
            f"url={database_url}",
            "upgrade",
            "head",
        ],
        check=True,
        capture_output=True,
    )


def empty_database(server_url: str, prefix: str = "test") -> str:
    """Create a new, empty database next to `server_url`'s; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _create(server_url, name)).result()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def fresh_database(server_url: str, prefix: str = "test") -> str:
    """Create a new database next to `server_url`'s, migrate it to head, return its URL."""
    url = empty_database(server_url, prefix)
    migrate(url)
    return url

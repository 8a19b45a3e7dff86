"""Run the emulator as its own process (`python -m emulators`) for tests over real TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def run_emulator(
    data_dir: Path, env: Mapping[str, str] | None = None, *, port: int | None = None, kill: bool = False
) -> Iterator[str]:
    """Serve on 127.0.0.1 until the block ends; yields the base URL. `kill` ends it with SIGKILL."""
    port = port or free_port()
    settings = {"EMULATOR_PORT": str(port), "EMULATOR_DATA_DIR": str(data_dir), **(env or {})}
    log_path = data_dir.parent / f"emulator-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulators"], env=os.environ | settings, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, log_path)
            yield url
        finally:
            process.kill() if kill else process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/admin/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"emulator did not start:\n{log_path.read_text()}")
        time.sleep(0.05)

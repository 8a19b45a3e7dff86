"""Start the product's own processes (emulator, gateway, stages) for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

STAGES = ("uploader", "detector", "synthesizer", "poller", "archiver")
SUBSCRIBERS = ("notifier",)  # the product's own subscribers of its public events
FAST_EMULATOR = {
    "EMULATOR_PENDING_SECONDS": "0",
    "EMULATOR_PREPROCESS_SECONDS": "0.2",
    "EMULATOR_RUN_SECONDS": "0.6",
    "EMULATOR_POSTPROCESS_SECONDS": "0.2",
    "EMULATOR_VIDEO_SECONDS": "2",
    "EMULATOR_CUTOUT_RUN_SECONDS": "1",
}


@contextmanager
def process(
    name: str, env: Mapping[str, str], log_dir: Path, suffix: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m <name>` until the block ends; its output goes to <log_dir>/<name><suffix>.log."""
    log = (log_dir / f"{name}{suffix}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", name], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


def local_media(root: Path, gateway_port: int) -> dict[str, str]:
    """The media store in a folder of the run, linked through the gateway on `gateway_port`."""
    return {"MEDIA_DIR": str(root / "media"), "PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}"}


@contextmanager
def emulator(port: int, data_dir: Path, log_dir: Path, **overrides: str) -> Iterator[str]:
    env = {
        **FAST_EMULATOR,
        "EMULATOR_HOST": "127.0.0.1",
        "EMULATOR_PORT": str(port),
        "EMULATOR_DATA_DIR": str(data_dir),
        **overrides,
    }
    with process("emulators", env, log_dir) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/admin/health", proc, log_dir / "emulators.log")
        yield url


def health_urls(ports: Mapping[str, int]) -> dict[str, str]:
    """Where each process (by name) serves /healthz, /readyz and /metrics, given its HEALTH_PORT."""
    return {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


@contextmanager
def services(
    env: Mapping[str, str], gateway_port: int, log_dir: Path, health_ports: Mapping[str, int] | None = None
) -> Iterator[str]:
    """The gateway and the stages, each its own process; yields the gateway's base URL.

    `health_ports`: a port per stage or subscriber name, served with HEALTH_HOST=127.0.0.1 (see
    `health_urls`); a process without one serves no health endpoints (the gateway has its own port)."""
    env = {**local_media(log_dir, gateway_port), **env}
    with ExitStack() as stack:
        for name in (*STAGES, *SUBSCRIBERS):
            port = (health_ports or {}).get(name)
            health = {"HEALTH_HOST": "127.0.0.1", "HEALTH_PORT": str(port)} if port else {}
            stack.enter_context(process(name, {**env, **health}, log_dir))
        gateway_env = {**env, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(gateway_port)}
        gateway = stack.enter_context(process("gateway", gateway_env, log_dir))
        url = f"http://127.0.0.1:{gateway_port}"
        wait_until_up(f"{url}/healthz", gateway, log_dir / "gateway.log")
        yield url

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import otlp, stack
from tests.database import fresh_database

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WEBHOOK_SECRET = "whsec_ZTJlLXRlc3RzLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3"
CUTOUT_CALLBACK_TOKEN = "e2e-cutout-callback-token-8d1f"


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def e2e_database_url(postgres_server_url: str) -> str:
    return fresh_database(postgres_server_url, "e2e")


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory, logs: Path) -> Iterator[str]:
    with stack.emulator(_free_port(), tmp_path_factory.mktemp("emulator"), logs) as url:
        yield url


@pytest.fixture(scope="session")
def health_ports() -> dict[str, int]:
    """A free HEALTH_PORT for each stage and subscriber process of the stack."""
    return {name: _free_port() for name in (*stack.STAGES, *stack.SUBSCRIBERS)}


@pytest.fixture(scope="session")
def traces() -> Iterator[otlp.Receiver]:
    """Where every process of the stack sends its spans (OTLP/HTTP)."""
    with otlp.receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def gateway_url(
    traces: otlp.Receiver,
    kafka_bootstrap_servers: str,
    e2e_database_url: str,
    emulator_url: str,
    logs: Path,
    health_ports: dict[str, int],
) -> Iterator[str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "DATABASE_URL": e2e_database_url,
        "DASHSCOPE_BASE_URL": f"{emulator_url}/api/v1",
        "DASHSCOPE_API_KEY": "sk-emulator",
        "CUTOUT_BASE_URL": f"{emulator_url}/cutout/api/v1",
        "POLL_INTERVAL_SECONDS": "0.5",
        "STAGE_CONCURRENCY": "2",
        "IMAGE_URL_ALLOW_HTTP": "true",  # as `make run`: the emulator's own http links are fine
        "IMAGE_URL_ALLOWED_HOSTS": "127.0.0.1",
        "CALLBACK_URL_ALLOW_HTTP": "true",  # the tests' own webhook receivers listen on this machine
        "CALLBACK_URL_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_BACKOFF_SECONDS": "0.5,1",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CUTOUT_CALLBACK_TOKEN": CUTOUT_CALLBACK_TOKEN,
        "OTEL_EXPORTER_OTLP_ENDPOINT": traces.url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms between exports: the test waits for the spans
    }
    with stack.services(env, _free_port(), logs, health_ports) as url:
        yield url


@pytest.fixture
def callback_url() -> Iterator[str]:
    """A webhook receiver that takes every delivery."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks"
    server.shutdown()


@pytest.fixture
def provider_down(emulator_url: str) -> Iterator[Callable[[str | None], None]]:
    """`provider_down(endpoint)`: every call to it answers 503 until `provider_down(None)`."""
    before = httpx.get(f"{emulator_url}/admin/config", timeout=10).json()["faults"]

    def down(endpoint: str | None) -> None:
        faults = before if endpoint is None else {**before, endpoint: {"p503": 1.0}}
        answer = httpx.put(f"{emulator_url}/admin/config", json={"faults": faults}, timeout=10)
        assert answer.status_code == 200, answer.text

    yield down
    down(None)


@pytest.fixture(scope="session")
def health_urls(gateway_url: str, health_ports: dict[str, int]) -> dict[str, str]:
    """Process name → the base URL of its /healthz, /readyz and /metrics (the gateway's is its own)."""
    return {"gateway": gateway_url, **stack.health_urls(health_ports)}

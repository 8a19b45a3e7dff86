"""A real generation with a `callbackUrl`: the receiver, verifying with the `standardwebhooks` library
(a verifier nobody here wrote), gets the terminal event once, signed, after answering 500 twice; and
the attempts are visible through the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.images import person_photo

pytestmark = pytest.mark.e2e
TEMPLATE = "AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE"


class Receiver:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.verified: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.refused = 0

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        event = Webhook(WEBHOOK_SECRET).verify(body, headers)  # raises on a bad signature
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            return 500
        self.verified.append(event)
        self.headers.append(headers)
        return 204


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            try:
                status = state.handle(body, {k.lower(): v for k, v in self.headers.items()})
            except Exception:
                status = 400
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_port}/hooks/dancer"
    server.shutdown()


def test_a_terminal_state_reaches_the_callback_signed_once_despite_failures(
    gateway_url: str, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    answer = httpx.post(
        f"{gateway_url}/api/generations",
        files={"file": ("me.png", person_photo(), "image/png")},
        data={"templateId": TEMPLATE, "callbackUrl": url},
    )
    assert answer.status_code == 202, answer.text
    generation_id = answer.json()["generationId"]

    deadline = time.monotonic() + 180
    while not state.verified and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # room for a (wrong) second delivery

    [event] = state.verified
    assert event["type"] == "generation.completed" and state.refused == 2
    data = event["data"]
    assert data["generation_id"] == generation_id and data["video_url"].startswith(f"{gateway_url}/media/")
    final = httpx.get(f"{gateway_url}/api/generations/{generation_id}").json()
    assert final["status"] == "SUCCEEDED" and data["video_url"] == final["videoUrl"]
    assert httpx.get(data["video_url"]).content[4:8] == b"ftyp"

    [delivery] = httpx.get(f"{gateway_url}/api/generations/{generation_id}/deliveries").json()
    assert delivery["status"] == "delivered" and delivery["webhookId"] == state.headers[0]["webhook-id"]
    assert [a["statusCode"] for a in delivery["attempts"]][:2] == [500, 500]

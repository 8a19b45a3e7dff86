"""Runs a container healthcheck's `python -c` line here, against a local HTTP server standing in for the
process, to show that it passes on 200 and fails on 503 (loopback only)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def server(path: str, status: int) -> Iterator[int]:
    """A server on 127.0.0.1 answering `status` at `path` and 404 elsewhere; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == path else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def run(code: str, env: Mapping[str, str]) -> int:
    """Exit code of `python -c code` with `env` (the image's own `python`, here this interpreter)."""
    return subprocess.run([sys.executable, "-c", code], env=dict(env), timeout=30, check=False).returncode

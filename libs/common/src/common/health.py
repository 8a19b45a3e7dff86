"""`/healthz`, `/readyz` and `/metrics`: the same three paths on every process.

- `/healthz` (liveness): the process answers; nothing else is checked, so a database outage never gets
  a healthy process restarted.
- `/readyz` (readiness): 200 only if every dependency answers (the database `SELECT 1`, the Kafka
  broker a metadata request), each within `CHECK_SECONDS`; otherwise 503 problem+json naming what is down.
- `/metrics`: Prometheus text.

The gateway serves them on its own port (`routes_for`). A stage or the notifier, a FastStream app, serves
them on `HEALTH_HOST:HEALTH_PORT` with `HealthServer`: a small uvicorn server run as a task of the
FastStream app, so the process keeps FastStream's own run loop and shutdown (SIGTERM: stop consuming,
finish, commit) and is still started with `python -m <name>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping

import uvicorn
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common import metrics

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0
PROBLEM_JSON = "application/problem+json"

Check = Callable[[], Awaitable[bool]]  # True: the dependency answers


def database_check(engine: AsyncEngine) -> Check:
    async def database() -> bool:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    return database


def broker_check(broker: KafkaBroker) -> Check:
    async def kafka() -> bool:
        # False when the broker was never connected (or is stopped); else a round trip to the cluster.
        return bool(await broker.ping(timeout=CHECK_SECONDS))

    return kafka


async def down(checks: Mapping[str, Check]) -> list[str]:
    """The names of the checks that fail (or take longer than `CHECK_SECONDS`), all run at once."""

    async def failing(name: str, check: Check) -> str | None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return None if await check() else name
        except Exception as exc:
            log.debug("readiness check %s failed: %r", name, exc)
            return name

    results = await asyncio.gather(*(failing(name, check) for name, check in checks.items()))
    return sorted(name for name in results if name is not None)


def not_ready(names: list[str]) -> JSONResponse:
    body = {
        "type": "/problems/ServiceUnavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"Not ready: {', '.join(names)} not answering.",
        "code": "ServiceUnavailable",
        "down": names,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


def routes_for(checks: Mapping[str, Check]) -> list[Route]:
    """The three routes, with `checks` (name → check) deciding readiness."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        names = await down(checks)
        return not_ready(names) if names else JSONResponse({"status": "ready", "checks": sorted(checks)})

    async def metrics_page(_: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside another app's event loop: the signals stay the host app's (FastStream's)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HealthServer:
    """Serves the three routes on host:port while the app runs; port 0 picks a free one (see `port`)."""

    def __init__(self, host: str, port: int, checks: Mapping[str, Check]) -> None:
        self.host = host
        self.port = port
        self._app = Starlette(routes=routes_for(checks))
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Bound here, so that a port in use fails the start with a clear OSError (uvicorn would exit).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            log_config=None,  # the process's own logging
            access_log=False,  # scrapes and probes every few seconds are not events
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = server = _EmbeddedServer(config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="health-server")
        while not server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the health server stopped while starting")
            await asyncio.sleep(0.01)
        log.info("health and metrics on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            async with asyncio.timeout(5):
                await self._task
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

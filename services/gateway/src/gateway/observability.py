"""The gateway's `/healthz`, `/readyz` and `/metrics` (on its own port), its HTTP metrics, and the
generations-by-status gauge it samples for the whole product.

- `/healthz`: liveness, touches nothing (a database outage must not get the gateway restarted);
- `/readyz`: 200 only if the database answers `SELECT 1` and the Kafka broker a metadata request,
  else 503 problem+json with `down`: the names of what does not answer;
- `/metrics`: Prometheus text: `http_*` from prometheus-fastapi-instrumentator (per route template,
  method and exact status), `faststream_published_*` of the outbox relay, and the `dancer_*` metrics.

With OTEL_EXPORTER_OTLP_ENDPOINT set, every request but the probes is a server span (`trace`).
"""

from __future__ import annotations

from common import metrics
from common.db.models import Generation, Status
from common.health import Check, broker_check, database_check, down, not_ready
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

GENERATIONS_SAMPLE_SECONDS = 10.0  # a count over the whole table: not every few seconds
PROBES = ("/healthz", "/readyz", "/metrics")


def _checks(app: FastAPI) -> dict[str, Check]:
    """Readiness of what the lifespan started (`app.state.engine`, `app.state.broker`); not started: down."""

    async def database() -> bool:
        engine = getattr(app.state, "engine", None)
        return engine is not None and await database_check(engine)()

    async def kafka() -> bool:
        broker = getattr(app.state, "broker", None)
        return broker is not None and await broker_check(broker)()

    return {"database": database, "kafka": kafka}


def install(app: FastAPI) -> None:
    """Add the three routes and the HTTP metrics; call it after the other middleware (it goes outside)."""
    checks = _checks(app)

    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def readyz() -> Response:
        names = await down(checks)
        return not_ready(names) if names else JSONResponse({"status": "ready", "checks": sorted(checks)})

    async def metrics_page(_: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/metrics", metrics_page, methods=["GET"], include_in_schema=False)
    Instrumentator(
        should_group_status_codes=False,  # 429 and 503 are not 4xx and 5xx like the others
        should_exclude_streaming_duration=True,  # an SSE stream's duration is not a latency
        excluded_handlers=[f"^{path}$" for path in PROBES],
    ).instrument(app)


def trace(app: FastAPI, provider: TracerProvider | None) -> None:
    """A server span per request (probes excluded), continuing a caller's `traceparent`; None: off."""
    if provider is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=",".join(PROBES))


def generations_sampler(sessions: async_sessionmaker[AsyncSession]) -> metrics.Sampler:
    """Sets `dancer_generations{status}` from one `GROUP BY status` (statuses with none: 0)."""

    async def sample_generations() -> None:
        async with sessions() as session:
            rows = (
                await session.execute(select(Generation.status, func.count()).group_by(Generation.status))
            ).all()
        counts = {str(status): int(count) for status, count in rows}
        for status in Status:
            metrics.GENERATIONS.labels(status.value).set(counts.get(status.value, 0))

    return sample_generations

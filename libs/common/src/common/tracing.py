"""OpenTelemetry traces: a generation is one trace, from the gateway's POST to its end, in every process.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (e.g. `http://otel-collector:4318`): spans then go to
`<endpoint>/v1/traces` over OTLP/HTTP (protobuf), in batches. The other standard variables apply as the
OpenTelemetry specification says: `OTEL_EXPORTER_OTLP_HEADERS`, `..._CERTIFICATE`, `..._COMPRESSION`,
`..._TIMEOUT`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`.

How the context travels (W3C `traceparent`/`tracestate`):
- HTTP into the gateway: OpenTelemetry's FastAPI instrumentation;
- Kafka: FastStream's `KafkaTelemetryMiddleware` writes it into each message's headers and continues it
  in the consumer;
- work stored to be done later, by this or another process: the outbox record, a stage's stored retry,
  the poll schedule (the generation row) and a webhook delivery keep `carrier()` with the row; whoever
  picks the row up continues the trace with `resumed(...)`;
- provider calls: OpenTelemetry's httpx instrumentation (a client span per call).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import context, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from common.settings import Settings

GENERATION_ATTRIBUTE = "dancer.generation_id"  # on the spans of a generation's work: find a trace by it
_tracer = trace.get_tracer("dancer")  # a proxy: the provider set by `configure`, or none (no-op)
_provider: TracerProvider | None = None


def configure(service: str, settings: Settings) -> TracerProvider | None:
    """Export this process's spans as `service`, if an endpoint is set (once per process); None: off."""
    global _provider
    if _provider is None and settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        _provider = TracerProvider(resource=Resource.create({"service.name": service}))
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(_provider)
    return _provider


def instrument_broker(broker: KafkaBroker) -> None:
    """Context into and out of every Kafka message of `broker` (before any subscriber); off: nothing."""
    if _provider is not None:
        broker.add_middleware(KafkaTelemetryMiddleware(tracer_provider=_provider))


def instrument_http(client: httpx.AsyncClient) -> None:
    """A client span per request of `client` (and its context in the request's headers); off: nothing."""
    if _provider is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider)


async def flush() -> None:
    """Send what is buffered (at shutdown)."""
    if _provider is not None:
        _provider.force_flush()


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers ({} when there is none), to store with deferred work."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


@contextmanager
def resumed(stored: Mapping[str, str] | None, name: str, generation_id: object = None) -> Iterator[None]:
    """Do deferred work as a span `name` in the trace `stored` by `carrier()` (a new trace without one)."""
    parent = propagate.extract(dict(stored or {}), context=context.Context())
    attributes: dict[str, Any] = {GENERATION_ATTRIBUTE: str(generation_id)} if generation_id else {}
    with _tracer.start_as_current_span(name, context=parent, attributes=attributes):
        yield


def tag(generation_id: object) -> None:
    """Name the generation on the current span (a consumer's or a request's)."""
    trace.get_current_span().set_attribute(GENERATION_ATTRIBUTE, str(generation_id))


@contextmanager
def attached(stored: Mapping[str, str]) -> Iterator[None]:
    """Make the trace `stored` by `carrier()` the current context (no span of its own)."""
    token = context.attach(propagate.extract(dict(stored)))
    try:
        yield
    finally:
        context.detach(token)

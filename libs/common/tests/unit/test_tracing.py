"""The trace context kept with deferred work: what `carrier()` stores, `resumed()` continues."""

from __future__ import annotations

from common import tracing
from common.settings import Settings
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

tracer = TracerProvider().get_tracer("test")


def current_trace_id() -> int:
    return trace.get_current_span().get_span_context().trace_id


def test_work_resumed_from_a_stored_carrier_goes_on_in_the_same_trace() -> None:
    with tracer.start_as_current_span("consume") as span:
        stored = tracing.carrier()
    assert stored["traceparent"].split("-")[1] == format(span.get_span_context().trace_id, "032x")
    assert current_trace_id() == 0  # nothing current once the work is over

    with tracing.resumed(stored, "retry", generation_id="g-1"):
        assert current_trace_id() == span.get_span_context().trace_id
    with tracing.attached(stored):
        assert current_trace_id() == span.get_span_context().trace_id


def test_without_a_trace_there_is_nothing_to_store_and_nothing_to_go_on_with() -> None:
    assert tracing.carrier() == {}
    with tracer.start_as_current_span("elsewhere") as other:
        # An empty, missing or broken carrier never continues whatever happens to be current.
        for stored in ({}, None, {"traceparent": "00-not-a-trace-01"}):
            with tracing.resumed(stored, "poll task"):
                assert current_trace_id() != other.get_span_context().trace_id


def test_tracing_is_off_without_an_endpoint() -> None:
    broker = KafkaBroker("127.0.0.1:9092")
    middlewares = len(broker.middlewares)
    assert tracing.configure("uploader", Settings(otel_exporter_otlp_endpoint="")) is None
    tracing.instrument_broker(broker)
    assert len(broker.middlewares) == middlewares

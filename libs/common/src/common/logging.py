"""One logging setup for every process: JSON lines (`LOG_FORMAT=json`) or text, context, no secrets.

Every line is one event with `service`, `level`, `logger` and `message`, and, when known, the
`generation_id`, `stage` and `task_id` of the work under way (set with `log_context` around each
message, retry, poll or delivery: contextvars follow the asyncio task, so every line logged inside
carries them) and the OpenTelemetry `trace_id` when a span is active. The values of secret settings are
replaced by `[REDACTED]` wherever they would appear: message, arguments, traceback.

JSON comes from python-json-logger: a `logging.Formatter`, so the lines of the libraries (FastStream,
uvicorn, aiokafka, SQLAlchemy), which all log through the standard library, come out the same way.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from common.settings import Settings, load_settings

REDACTED = "[REDACTED]"
CONTEXT_FIELDS = ("generation_id", "stage", "task_id")
# Loggers that FastStream gives handlers of their own (and no propagation): they get ours instead.
FASTSTREAM_LOGGERS = ("faststream", "faststream.access.kafka")

_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"dancer_log_{name}", default=None) for name in CONTEXT_FIELDS
}


@contextmanager
def log_context(
    *, generation_id: object = None, stage: str | None = None, task_id: str | None = None
) -> Iterator[None]:
    """Every line logged inside (by this task and the tasks it starts) names this work; None: unchanged."""
    values = {"generation_id": generation_id, "stage": stage, "task_id": task_id}
    tokens = [(_context[k], _context[k].set(str(v))) for k, v in values.items() if v is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, str]:
    """The context fields set right now (for tests and for whoever wants to pass them on)."""
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


def _trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


class ContextFields(logging.Filter):
    """Puts the context fields (and `trace_id`) on each record, unless the record has them already."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_context().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        if getattr(record, "trace_id", None) is None and (trace_id := _trace_id()) is not None:
            record.trace_id = trace_id
        return True


def secret_values(settings: Settings) -> list[str]:
    """The values no log line may show: secret settings and the database password."""
    values = [
        settings.dashscope_api_key.get_secret_value(),
        settings.cutout_api_key.get_secret_value(),
        settings.cutout_callback_token.get_secret_value(),
        settings.kafka_sasl_password.get_secret_value(),
        settings.media_signing_key.get_secret_value(),
        settings.webhook_secret.get_secret_value(),
        settings.s3_secret_access_key.get_secret_value(),
    ]
    webhook = settings.webhook_secret.get_secret_value()
    if webhook.startswith("whsec_"):
        values.append(webhook.removeprefix("whsec_"))  # the key itself, without its prefix
    with suppress(ArgumentError):  # not a URL: no password to hide
        values.append(make_url(settings.database_url).password or "")
    return [v for v in values if v]


class RedactSecrets(logging.Filter):
    """Replaces every known secret in a record's message, arguments, traceback and stack by `[REDACTED]`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself later
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            if record.exc_text != text:
                record.exc_info = None  # formatters then print the redacted `exc_text`
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(JsonFormatter):
    """`{"time", "level", "service", "logger", "message", ...context, ...extras}` on one line."""

    def __init__(self, service: str) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            static_fields={"service": service},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's coloured copy of the message
            timestamp="time",
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        first = ("time", "level", "service", "logger", "message")
        return {**{k: log_data[k] for k in first if k in log_data}, **log_data}


class TextLines(logging.Formatter):
    """The plain format of `make run`, with the context fields after the message when there are any."""

    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = [f"{n}={v}" for n in (*CONTEXT_FIELDS, "trace_id") if (v := getattr(record, n, None))]
        line = super().formatMessage(record)
        return f"{line} [{' '.join(fields)}]" if fields else line


def make_handler(
    service: str, log_format: str, secrets: Iterable[str], stream: TextIO | None = None
) -> logging.Handler:
    """A handler writing `service`'s lines to `stream` (stdout) in `log_format`, context added, no secrets."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(ContextFields())
    handler.setFormatter(JsonLines(service) if log_format == "json" else TextLines(service))
    handler._dancer = True  # type: ignore[attr-defined]  # ours: replaced, not stacked, by configure()
    return handler


def configure(service: str, settings: Settings | None = None) -> None:
    """Send every line of this process (the libraries' too) through one handler of `service`."""
    settings = settings or load_settings()
    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_dancer", False)]
    if others:  # someone configured logging already (a test runner): leave it, as basicConfig would
        return
    handler = make_handler(service, settings.log_format, secret_values(settings))
    root.handlers = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    for name in FASTSTREAM_LOGGERS:
        # FastStream adds a coloured handler to these unless one on stdout exists; ours is that one.
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False

"""One JSON line per event, with the work's context, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from common.logging import REDACTED, current_context, log_context, make_handler, secret_values
from common.settings import Settings
from opentelemetry.sdk.trace import TracerProvider

SECRETS = {
    "dashscope_api_key": "sk-live-0123456789abcdef",
    "kafka_sasl_password": "kafka-pa55-word",
    "media_signing_key": "media-signing-key-9f8e7d",
    "webhook_secret": "whsec_c2VjcmV0LXdlYmhvb2sta2V5LTEyMzQ1Ng==",
    "s3_secret_access_key": "s3-secret/Key+With=Chars",
}
DB_PASSWORD = "db-pa55word-xyz"


def _settings(**overrides: Any) -> Settings:
    database_url = f"postgresql+asyncpg://dancer:{DB_PASSWORD}@db.internal:5432/dancer"
    return Settings(**SECRETS, database_url=database_url, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own, writing JSON lines of service `detector` (with the redaction) to a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logging.{uuid.uuid4().hex}")
    logger.handlers = [make_handler("detector", "json", secret_values(_settings()), stream)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers = []


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_the_standard_fields(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.warning("disk %s is %d%% full", "/data", 93)

    [line] = _lines(stream)
    assert line["service"] == "detector" and line["level"] == "WARNING"
    assert line["logger"] == logger.name and line["message"] == "disk /data is 93% full"
    assert line["time"].endswith("+00:00")
    assert list(line)[:5] == ["time", "level", "service", "logger", "message"]
    assert not {"generation_id", "stage", "task_id", "trace_id"} & set(line)


def test_lines_inside_a_log_context_name_the_work_even_in_tasks_it_starts(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    generation_id = uuid.uuid4()

    async def child() -> None:
        await asyncio.sleep(0)
        logger.info("in a child task")

    async def work() -> None:
        with log_context(generation_id=generation_id, stage="poller", task_id="task-1"):
            logger.info("polling")
            await asyncio.create_task(child())
            with log_context(stage="archiver"):  # inner values win, the others stay
                logger.info("nested")
        logger.info("after")

    asyncio.run(work())

    polling, in_child, nested, after = _lines(stream)
    expected = {"generation_id": str(generation_id), "stage": "poller", "task_id": "task-1"}
    assert {k: polling[k] for k in expected} == expected
    assert {k: in_child[k] for k in expected} == expected
    assert nested["stage"] == "archiver" and nested["task_id"] == "task-1"
    assert "generation_id" not in after and current_context() == {}


def test_no_secret_setting_ever_reaches_the_output(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    secrets = [*SECRETS.values(), DB_PASSWORD]
    for secret in secrets:
        logger.info(f"in the message: {secret}")
        logger.info("as an argument: %s", secret)
        logger.info("in a dict argument: %(value)s", {"value": secret})
        try:
            raise RuntimeError(f"connect failed with {secret}")
        except RuntimeError:
            logger.exception("in a traceback")
    logger.error("a DSN: postgresql://dancer:%s@db.internal/dancer", DB_PASSWORD, stack_info=True)

    output = stream.getvalue()
    for secret in secrets:
        assert secret not in output
    assert json.dumps(SECRETS["s3_secret_access_key"])[1:-1] not in output  # nor JSON-escaped
    lines = _lines(stream)
    assert len(lines) == 4 * len(secrets) + 1
    assert all(REDACTED in line["message"] for line in lines if "traceback" not in line["message"])
    tracebacks = [line for line in lines if line["message"] == "in a traceback"]
    assert all("RuntimeError: connect failed with [REDACTED]" in line["exception"] for line in tracebacks)


def test_the_webhook_key_is_hidden_without_its_prefix_too(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    key = SECRETS["webhook_secret"].removeprefix("whsec_")
    logger.info("signing with %s", key)
    assert key not in stream.getvalue()


def test_text_lines_carry_the_context_after_the_message() -> None:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logging.{uuid.uuid4().hex}")
    logger.handlers = [make_handler("poller", "text", secret_values(_settings()), stream)]
    logger.propagate = False
    with log_context(generation_id="g-1", stage="poller"):
        logger.warning("slow, key %s", SECRETS["dashscope_api_key"])
    logger.warning("no context")

    first, second = stream.getvalue().splitlines()
    assert " poller WARNING " in first and first.endswith(
        "slow, key [REDACTED] [generation_id=g-1 stage=poller]"
    )
    assert second.endswith("no context")


def test_trace_id_is_added_when_a_span_is_active(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logger.info("traced")
    logger.info("untraced")

    traced, untraced = _lines(stream)
    assert traced["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in untraced


def test_configure_sends_every_logger_of_the_process_through_json_lines() -> None:
    """In a process of its own (pytest owns this one's root logger): the libraries' lines too."""
    program = """
import logging
from faststream._internal.logger.logging import get_broker_logger, logger as faststream_logger
from common.logging import configure, log_context
from common.settings import load_settings

configure("uploader")
key = load_settings().dashscope_api_key.get_secret_value()
with log_context(generation_id="g-42", stage="uploader"):
    logging.getLogger("uploader.work").info("calling with %s", key)
    faststream_logger.info("FastStream app starting...")
    logging.getLogger("faststream.access.kafka").info("Received")
logging.getLogger("uvicorn.error").warning("plain")
"""
    env = {**os.environ, "LOG_FORMAT": "json", "DASHSCOPE_API_KEY": "sk-in-a-child-process-123"}
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert "sk-in-a-child-process-123" not in result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["logger"] for line in lines] == [
        "uploader.work",
        "faststream",
        "faststream.access.kafka",
        "uvicorn.error",
    ]
    assert all(line["service"] == "uploader" for line in lines)
    assert lines[0]["message"] == f"calling with {REDACTED}"
    assert all(line["generation_id"] == "g-42" for line in lines[:3]) and "generation_id" not in lines[3]

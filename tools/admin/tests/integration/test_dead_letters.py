"""`dancer-admin dead-letters` on the real broker: a dead letter put there by the product's own
`common.dead_letter.send` is listed as an operator needs it, and replayed byte for byte, or its
generation retried."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from common import dead_letter, topics
from common.db.models import Status
from common.messaging import make_broker
from common.settings import Settings

from tools.admin.tests.integration.support import tail

pytestmark = pytest.mark.integration


async def put_dead_letter(settings: Settings, generation_id: uuid.UUID, value: bytes) -> None:
    broker = make_broker(settings, client_id="admin-test")
    await broker.connect()
    try:
        await dead_letter.send(
            broker,
            stage="detector",
            topic=topics.IMAGE_UPLOADED,
            partition=1,
            offset=42,
            key=str(generation_id).encode(),
            value=value,
            error=ValueError("no detect_image_url"),
        )
    finally:
        await broker.stop()


async def unprocessable(rows: Any, settings: Settings) -> tuple[uuid.UUID, bytes]:
    """A generation the detector failed because it could not process its message, and that message."""
    generation_id = await rows.ended(Status.FAILED, "detector", "UnprocessableMessage", retryable=False)
    value = json.dumps({"generation_id": str(generation_id), "template_id": "t"}).encode()
    await put_dead_letter(settings, generation_id, value)
    return generation_id, value


async def test_list_shows_where_a_dead_letter_came_from_and_why(
    rows: Any, dancer_admin: Any, settings: Settings
) -> None:
    generation_id, value = await unprocessable(rows, settings)

    status, text = await dancer_admin("dead-letters", "list", "--generation", str(generation_id))

    assert status == 0
    assert f"stage=detector  from {topics.IMAGE_UPLOADED}/1/42" in text
    assert f"  generation: {generation_id}\n  error: ValueError: no detect_image_url\n" in text
    assert f"  value: {value.decode()}" in text
    [letter] = json.loads(
        (await dancer_admin("dead-letters", "list", "--generation", str(generation_id), "--json"))[1]
    )
    assert letter["origin"] == f"{topics.IMAGE_UPLOADED}/1/42" and letter["value"] == value.decode()
    assert letter["dead_letter"].startswith(f"{topics.DEAD_LETTER}/")
    assert await dancer_admin("dead-letters", "list", "--generation", str(uuid.uuid4())) == (
        0,
        "no dead letters\n",
    )


async def test_replay_republishes_the_original_bytes_and_names_the_generation_left_failed(
    rows: Any, dancer_admin: Any, settings: Settings
) -> None:
    generation_id, value = await unprocessable(rows, settings)
    [letter] = json.loads(
        (await dancer_admin("dead-letters", "list", "--generation", str(generation_id), "--json"))[1]
    )

    async with tail(settings, topics.IMAGE_UPLOADED) as uploaded:
        status, text = await dancer_admin("dead-letters", "replay", "--generation", str(generation_id))
        [record] = await uploaded.records(str(generation_id).encode())

    assert status == 0
    assert f"replayed {letter['dead_letter']} to {topics.IMAGE_UPLOADED} (generation {generation_id})" in text
    assert f"generation {generation_id} stays FAILED (UnprocessableMessage)" in text
    assert f"`dancer-admin retry {generation_id}`" in text
    assert record.value == value  # byte for byte, with its key and a header saying where it came from
    assert dict(record.headers)["dlq_replayed"] == letter["dead_letter"].encode()
    assert (await rows.load(generation_id)).status is Status.FAILED


async def test_replay_with_retry_runs_the_generation_again_instead(
    rows: Any, dancer_admin: Any, settings: Settings
) -> None:
    generation_id, _ = await unprocessable(rows, settings)

    async with tail(settings, topics.IMAGE_UPLOADED) as uploaded:
        status, text = await dancer_admin(
            "dead-letters", "replay", "--generation", str(generation_id), "--retry"
        )
        republished = await uploaded.records(str(generation_id).encode(), wait_ms=1500)

    assert status == 0 and f"retried {generation_id}: QUEUED again, attempt 1" in text
    assert republished == []  # the new run makes fresh events: the old bytes are not needed
    g = await rows.load(generation_id)
    assert (g.status, g.attempt, g.error_code) == (Status.QUEUED, 1, None)
    requested = (await rows.outbox(generation_id))[-1]
    assert (requested.topic, requested.payload["attempt"]) == (topics.GENERATION_REQUESTED, 1)


async def test_a_dead_letter_of_a_generation_still_running_is_simply_republished(
    rows: Any, dancer_admin: Any, settings: Settings
) -> None:
    generation_id = await rows.generation()
    await put_dead_letter(settings, generation_id, b"not json")

    async with tail(settings, topics.IMAGE_UPLOADED) as uploaded:
        status, text = await dancer_admin(
            "dead-letters", "replay", "--generation", str(generation_id), "--retry"
        )
        [record] = await uploaded.records(str(generation_id).encode())

    assert status == 0 and text.startswith("replayed ") and "retried" not in text and "FAILED" not in text
    assert record.value == b"not json"

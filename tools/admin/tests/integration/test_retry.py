"""`dancer-admin retry` and `history` on the real database (and the relay on the real broker): a failed
generation that may succeed later runs again as a new fact; any other is refused and left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from common import topics
from common.db.models import Asset, StageRetry, Status, WebhookDelivery
from common.events import GenerationFailed, GenerationRequested
from common.messaging import fact_id, make_broker
from common.outbox import Relay
from common.settings import Settings
from poller.schedule import PollSchedule
from synthesizer.store import SqlSubmissions

from tools.admin.tests.integration.support import tail

pytestmark = pytest.mark.integration


async def test_a_retryable_failure_runs_again_as_a_new_fact(
    rows: Any, dancer_admin: Any, settings: Settings
) -> None:
    generation_id = await rows.ended(
        Status.FAILED,
        "detector",
        "Throttling",
        retryable=True,
        check_image_url="oss://d",
        job_image_url="oss://s",
    )
    async with rows.sessions.begin() as session:
        session.add(
            StageRetry(
                stage="detector",
                generation_id=generation_id,
                payload={},
                attempts=3,
                due_at=datetime.now(UTC),
            )
        )

    status, out = await dancer_admin("retry", str(generation_id))

    assert (
        status == 0
        and f"{generation_id}: QUEUED again, attempt 1 (was FAILED at detector: Throttling)" in out
    )
    g = await rows.load(generation_id)
    assert (g.status, g.stage, g.attempt, g.error_code, g.finished_at) == (
        Status.QUEUED,
        "gateway",
        1,
        None,
        None,
    )
    assert g.check_image_url is None  # no job yet: the photo is uploaded afresh (provider links expire)
    failed, requested = await rows.outbox(generation_id)
    assert failed.topic == topics.GENERATION_FAILED and failed.payload["retryable"] is True
    assert requested.topic == topics.GENERATION_REQUESTED and requested.payload["attempt"] == 1
    expected = GenerationRequested(generation_id=generation_id, template_id=g.template_id, attempt=1)
    assert requested.headers["ce_id"] == fact_id(expected)
    first_run = GenerationRequested(generation_id=generation_id, template_id=g.template_id)
    assert requested.headers["ce_id"] != fact_id(first_run)  # a new fact, not a redelivery of the first
    history = json.loads((await dancer_admin("history", str(generation_id), "--json"))[1])
    assert history["stage_retries"] == []  # the old run's stored retries are gone

    # The relay publishes it like any other event: on the broker, keyed by the generation.
    broker = make_broker(settings, client_id="admin-test")
    await broker.connect()
    try:
        async with tail(settings, topics.GENERATION_REQUESTED) as requests:
            await Relay(rows.sessions, broker).relay_once()
            [record] = await requests.records(str(generation_id).encode())
    finally:
        await broker.stop()
    assert dict(record.headers)["ce_id"].decode() == fact_id(expected)
    assert json.loads(record.value)["attempt"] == 1

    # Should the new run fail again, subscribers see a second failure: its own ce_id, not the first's.
    assert await rows.store.end(
        generation_id, Status.FAILED, "detector", retryable=True, error_code="Throttling"
    )
    again = (await rows.outbox(generation_id))[-1]
    assert again.payload["attempt"] == 1 and again.headers["ce_id"] != failed.headers["ce_id"]
    assert again.headers["ce_id"] == fact_id(GenerationFailed.model_validate(again.payload))
    assert (await dancer_admin("retry", str(generation_id)))[0] == 0
    assert (await rows.load(generation_id)).attempt == 2


async def test_a_job_that_timed_out_is_replaced_but_a_good_job_is_kept(rows: Any, dancer_admin: Any) -> None:
    old_task = f"t-{uuid.uuid4()}"
    timed_out = await rows.ended(
        Status.TIMED_OUT,
        "poller",
        "TimedOut",
        retryable=True,
        task_id=old_task,
        submit_intent_at=datetime.now(UTC),
    )
    unprocessable = await rows.ended(
        Status.FAILED,
        "archiver",
        "UnprocessableMessage",
        retryable=False,
        task_id=f"t-{uuid.uuid4()}",
        check_image_url="oss://d",
        job_image_url="oss://s",
        check_pass=True,
    )

    status, out = await dancer_admin("retry", str(timed_out))
    assert status == 0 and "a new provider job will be submitted" in out
    replaced = await rows.load(timed_out)
    assert (replaced.task_id, replaced.submit_intent_at, replaced.previous_task_ids) == (
        None,
        None,
        [old_task],
    )
    # The old job is still this generation's: never an orphan another unsettled submission could take.
    assert await SqlSubmissions(rows.sessions, "dashscope").known_task_ids([old_task, "t-unknown"]) == {
        old_task
    }
    intent = await SqlSubmissions(
        rows.sessions, "dashscope"
    ).open_intent()  # its settled intent is not left open
    assert intent is None or intent.generation_id != timed_out

    status, out = await dancer_admin("retry", str(unprocessable))
    assert status == 0 and "the provider job is kept" in out
    kept = await rows.load(unprocessable)
    assert kept.task_id and kept.job_image_url == "oss://s" and kept.status is Status.QUEUED
    # The stages re-announce what is stored up to SynthesisSubmitted; the poller watches the job again.
    await PollSchedule(rows.sessions, 1, {}).start_watching(unprocessable, kept.task_id)
    watched = await rows.load(unprocessable)
    assert watched.status is Status.PENDING and watched.next_poll_at is not None


@pytest.mark.parametrize(
    ("status", "code", "retryable", "why"),
    [
        (Status.FAILED, "ImageRejected", False, "FAILED at detector for a reason a retry would not change"),
        (Status.EXPIRED, "TaskExpired", False, "EXPIRED at detector for a reason a retry would not change"),
        (Status.CANCELED, "Canceled", False, "is CANCELED: only a failed one can be retried"),
    ],
)
async def test_anything_else_is_refused_and_left_alone(
    rows: Any, dancer_admin: Any, status: Status, code: str, retryable: bool, why: str
) -> None:
    generation_id = await rows.ended(status, "detector", code, retryable=retryable)
    before = await rows.outbox(generation_id)

    status_code, message = await dancer_admin("retry", str(generation_id))
    assert status_code == 1 and message.startswith(f"generation {generation_id} ") and why in message

    assert (await rows.load(generation_id)).status is status
    assert len(await rows.outbox(generation_id)) == len(before)


async def test_a_running_or_unknown_generation_or_a_lost_photo_is_refused(
    rows: Any, dancer_admin: Any
) -> None:
    running = await rows.generation()
    assert await dancer_admin("retry", str(running)) == (
        1,
        f"generation {running} is DETECTING: only a failed one can be retried",
    )
    unknown = uuid.uuid4()
    assert await dancer_admin("retry", str(unknown)) == (1, f"no generation {unknown}")
    asset_id = uuid.uuid4()
    async with rows.sessions.begin() as session:
        session.add(
            Asset(
                id=asset_id,
                file_name="me.jpg",
                content_type="image/jpeg",
                width=1,
                height=1,
                size_bytes=1,
                sha256="0" * 64,
                media_key="photos/x",
                deleted_at=datetime.now(UTC),
            )
        )
    lost = await rows.ended(
        Status.FAILED, "uploader", "InternalError", retryable=True, asset_id=asset_id, image_url=None
    )
    assert await dancer_admin("retry", str(lost)) == (
        1,
        f"generation {lost}: its photo is no longer kept; the client must send it again",
    )


async def test_history_shows_what_happened_to_a_generation(rows: Any, dancer_admin: Any) -> None:
    generation_id = await rows.ended(Status.FAILED, "synthesizer", "ServiceUnavailable", retryable=True)
    async with rows.sessions.begin() as session:
        session.add(
            WebhookDelivery(
                webhook_id="w1",
                generation_id=generation_id,
                url="https://hooks.example.com/x",
                event_type="com.dancer.GenerationFailed.v1",
                payload={},
                attempts=2,
                last_status_code=503,
                next_attempt_at=datetime.now(UTC),
            )
        )
    await dancer_admin("retry", str(generation_id))

    status, text = await dancer_admin("history", str(generation_id))

    assert status == 0
    assert text.startswith(f"generation {generation_id}: QUEUED at gateway (attempt 1)")
    assert [
        line.split()[1] for line in text.split("status history:\n")[1].split("\n") if line.startswith("  20")
    ][:3] == ["DETECTING", "FAILED", "QUEUED"]
    assert "generation.failed (com.dancer.GenerationFailed.v1, attempt 0" in text
    assert (
        "generation.requested (com.dancer.GenerationRequested.v1, attempt 1" in text
        and "NOT PUBLISHED yet" in text
    )
    assert "com.dancer.GenerationFailed.v1 -> https://hooks.example.com/x: 2 attempt(s), next attempt" in text
    assert "last answer 503" in text
    found = json.loads((await dancer_admin("history", str(generation_id), "--json"))[1])
    assert [e["status"] for e in found["status_history"]] == ["DETECTING", "FAILED", "QUEUED"]
    assert [(r["topic"], r["attempt"]) for r in found["outbox"]] == [
        ("generation.failed", 0),
        ("generation.requested", 1),
    ]
    assert found["webhook_deliveries"][0]["last_status_code"] == 503


def test_the_console_script_refuses_with_a_message_and_status_1(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    unknown = uuid.uuid4()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from admin.cli import main; sys.exit(main())",
            "retry",
            str(unknown),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip()) == (1, f"dancer-admin: no generation {unknown}")

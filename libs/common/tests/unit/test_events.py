import json
import uuid

import pytest
from common import topics
from common.events import GenerationCompleted, GenerationFailed, ImageAccepted, ImageUploaded
from common.messaging import cloudevent_headers
from pydantic import ValidationError


def test_reader_ignores_fields_it_does_not_know() -> None:
    fields = {"generation_id": str(uuid.uuid4()), "task_id": "t-1", "video_url": "https://v/1.mp4", "new": 1}
    body = json.dumps(fields)
    event = GenerationCompleted.model_validate_json(body)
    assert event.video_url == "https://v/1.mp4"
    assert not hasattr(event, "new_field")


def test_events_are_frozen_and_name_their_topic() -> None:
    event = ImageUploaded(
        generation_id=uuid.uuid4(), template_id="t", check_image_url="oss://a", job_image_url="oss://b"
    )
    assert event.topic == topics.IMAGE_UPLOADED
    with pytest.raises(ValidationError):
        event.template_id = "other"  # type: ignore[misc]


def test_events_in_flight_under_their_former_dashscope_names_are_still_read() -> None:
    generation_id = str(uuid.uuid4())
    old = {"generation_id": generation_id, "template_id": "t"}
    uploaded = ImageUploaded.model_validate_json(
        json.dumps(old | {"detect_image_url": "oss://a", "synthesis_image_url": "oss://b"})
    )
    accepted = ImageAccepted.model_validate_json(
        json.dumps(old | {"synthesis_image_url": "oss://b", "bodystyle": "full"})
    )
    assert (uploaded.check_image_url, uploaded.job_image_url, accepted.job_image_url) == (
        "oss://a",
        "oss://b",
        "oss://b",
    )
    assert set(uploaded.model_dump(mode="json")) >= {"check_image_url", "job_image_url"}  # written anew


def test_cloudevent_headers_follow_the_kafka_binary_binding() -> None:
    event = GenerationCompleted(generation_id=uuid.uuid4(), task_id="t", video_url="u")
    headers = cloudevent_headers(event, "archiver", "https://api.example.com/")
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "com.dancer.GenerationCompleted.v1"
    assert headers["ce_source"] == "/dancer/archiver"
    assert headers["ce_subject"] == str(event.generation_id)
    assert headers["ce_dataschema"] == "https://api.example.com/schemas/events/GenerationCompleted.v1.json"
    assert {"ce_id", "ce_time"} <= headers.keys()


def test_the_same_fact_keeps_its_id_and_another_fact_gets_another() -> None:
    generation_id = uuid.uuid4()
    first = GenerationCompleted(generation_id=generation_id, task_id="t", video_url="u")
    again = GenerationCompleted(generation_id=generation_id, task_id="t", video_url="u2")  # redelivered
    failed = GenerationFailed(generation_id=generation_id, stage="poller", code="c", message="m")
    other = GenerationCompleted(generation_id=uuid.uuid4(), task_id="t", video_url="u")
    ids = [cloudevent_headers(e, "archiver")["ce_id"] for e in (first, again, failed, other)]
    assert ids[0] == ids[1] and len(set(ids)) == 3

import json
import uuid

import pytest
from common import topics
from common.events import GenerationCompleted, ImageUploaded
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
        generation_id=uuid.uuid4(), template_id="t", detect_image_url="oss://a", synthesis_image_url="oss://b"
    )
    assert event.topic == topics.IMAGE_UPLOADED
    with pytest.raises(ValidationError):
        event.template_id = "other"  # type: ignore[misc]


def test_cloudevent_headers_follow_the_kafka_binary_binding() -> None:
    event = GenerationCompleted(generation_id=uuid.uuid4(), task_id="t", video_url="u")
    headers = cloudevent_headers(event, "poller")
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "com.dancer.GenerationCompleted"
    assert headers["ce_source"] == "/dancer/poller"
    assert headers["ce_subject"] == str(event.generation_id)
    assert {"ce_id", "ce_time"} <= headers.keys()

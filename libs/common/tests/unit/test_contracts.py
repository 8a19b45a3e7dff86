"""The committed event contract (JSON Schemas, AsyncAPI) is what the code makes, and stays compatible."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from common import contracts, topics
from common.events import (
    PUBLIC_EVENTS,
    Event,
    GenerationCanceled,
    GenerationCompleted,
    GenerationFailed,
    GenerationRequested,
)
from common.messaging import event_type, new_topics, schema_path

REPO = Path(__file__).resolve().parents[4]
ASYNCAPI = REPO / contracts.ASYNCAPI_FILE
RUN = "run `make contracts` and commit the result"


def committed(event_class: type[Event]) -> dict[str, Any]:
    path = contracts.SCHEMA_DIR / contracts.file_name(event_class)
    assert path.exists(), f"{path} is missing: {RUN}"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


# --- (a) the committed files are what the code generates --------------------------------------------


def test_committed_schemas_and_asyncapi_are_what_the_code_generates() -> None:
    texts = contracts.generated()
    for name, text in texts.items():
        path = ASYNCAPI if name == "asyncapi" else contracts.SCHEMA_DIR / name
        assert path.exists(), f"{path} is missing: {RUN}"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from the code: {RUN}"
    extra = {p.name for p in contracts.SCHEMA_DIR.glob("*.json")} - set(texts)
    assert not extra, f"schemas of no event type: {sorted(extra)}"


def test_the_generator_is_deterministic() -> None:
    assert contracts.generated() == contracts.generated()
    assert contracts.render({"b": 1, "a": [2]}) == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'


def test_every_event_has_a_schema_with_its_address_as_id() -> None:
    names = {c.__name__ for c in contracts.all_events()}
    assert {"GenerationRequested", "VideoRendered"} | {c.__name__ for c in PUBLIC_EVENTS} <= names
    for event_class in contracts.all_events():
        schema = committed(event_class)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == schema_path(event_type(event_class))
        assert schema["$id"].endswith(f"/{event_class.__name__}.v1.json")
        assert schema["title"] == event_class.__name__ and schema["description"]
        assert event_class.topic in schema["description"]
        internal = event_class not in PUBLIC_EVENTS
        assert schema["description"].startswith("INTERNAL") == internal


# --- (b) the committed public contract vs the current models -----------------------------------------


@pytest.mark.parametrize("event_class", PUBLIC_EVENTS, ids=lambda c: c.__name__)
def test_the_current_models_break_no_committed_public_schema(event_class: type[Event]) -> None:
    changes = contracts.breaking_changes(committed(event_class), contracts.json_schema(event_class))
    assert changes == [], f"breaking change to public {event_class.__name__}: {changes}; make it a .v2"


def test_make_contracts_refuses_to_write_a_breaking_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = tmp_path / "events"
    shutil.copytree(contracts.SCHEMA_DIR, schema_dir)
    old = committed(GenerationCompleted)
    old["properties"]["thumbnail_url"] = {"type": "string"}  # a field the code has "since removed"
    target = schema_dir / contracts.file_name(GenerationCompleted)
    target.write_text(json.dumps(old), encoding="utf-8")
    asyncapi = tmp_path / "asyncapi.json"
    monkeypatch.setattr(contracts, "SCHEMA_DIR", schema_dir)

    assert contracts.main(["--asyncapi", str(asyncapi)]) == 1

    assert "thumbnail_url: field removed" in capsys.readouterr().err
    assert json.loads(target.read_text()) == old and not asyncapi.exists()  # nothing written


def test_make_contracts_writes_and_then_checks_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema_dir = tmp_path / "events"
    asyncapi = tmp_path / "docs" / "asyncapi.json"
    monkeypatch.setattr(contracts, "SCHEMA_DIR", schema_dir)

    assert contracts.main(["--check", "--asyncapi", str(asyncapi)]) == 1
    assert contracts.main(["--asyncapi", str(asyncapi)]) == 0
    assert contracts.main(["--check", "--asyncapi", str(asyncapi)]) == 0
    assert asyncapi.read_text() == ASYNCAPI.read_text()
    (schema_dir / "Gone.v1.json").write_text("{}")
    assert contracts.main(["--asyncapi", str(asyncapi)]) == 1  # an event type that disappeared


# --- (c) the checker -----------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "generation_id": {"type": "string", "format": "uuid"},
        "video_url": {"type": "string"},
        "poster_url": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "stage": {"enum": ["uploader", "poller"], "type": "string"},
        "timings": {"type": "object", "additionalProperties": {"type": "number"}},
    },
    "required": ["generation_id", "video_url", "stage"],
}


def changed(**properties: Any) -> dict[str, Any]:
    """BASE with `properties` replaced (None: removed)."""
    props = {k: v for k, v in {**BASE["properties"], **properties}.items() if v is not None}
    return {**BASE, "properties": props, "required": [r for r in BASE["required"] if r in props]}


def test_an_identical_schema_or_new_words_break_nothing() -> None:
    assert contracts.breaking_changes(BASE, BASE) == []
    described = changed(video_url={"type": "string", "description": "new words", "title": "Video"})
    assert contracts.breaking_changes(BASE, {**described, "description": "x"}) == []


def test_an_added_optional_field_or_enum_value_is_compatible() -> None:
    new = changed(duration={"anyOf": [{"type": "number"}, {"type": "null"}], "default": None})
    assert contracts.breaking_changes(BASE, new) == []
    more_stages = changed(stage={"enum": ["uploader", "poller", "archiver"], "type": "string"})
    assert contracts.breaking_changes(BASE, more_stages) == []


def test_a_removed_field_is_breaking() -> None:
    assert contracts.breaking_changes(BASE, changed(poster_url=None)) == ["$.poster_url: field removed"]


def test_a_renamed_field_is_a_removal_and_says_so() -> None:
    renamed = changed(video_url=None, videoUrl={"type": "string"})
    renamed["required"] = [*renamed["required"], "videoUrl"]

    changes = contracts.breaking_changes(BASE, renamed)

    assert "$.video_url: field removed (renamed? added: videoUrl)" in changes
    assert "$.videoUrl: new required field" in changes


def test_a_changed_type_is_breaking() -> None:
    changes = contracts.breaking_changes(BASE, changed(video_url={"type": "integer"}))
    assert changes == ["$.video_url: type changed from string to integer"]
    changes = contracts.breaking_changes(BASE, changed(generation_id={"type": "string"}))
    assert changes == ["$.generation_id: type changed from string:uuid to string"]


def test_nullable_to_non_null_and_back_are_breaking() -> None:
    non_null = contracts.breaking_changes(BASE, changed(poster_url={"type": "string"}))
    assert non_null == ["$.poster_url: type changed from null | string to string"]
    nullable = changed(video_url={"anyOf": [{"type": "string"}, {"type": "null"}]})
    assert contracts.breaking_changes(BASE, nullable) == [
        "$.video_url: type changed from string to null | string"
    ]


def test_a_field_that_became_required_is_breaking() -> None:
    required = {**BASE, "required": [*BASE["required"], "poster_url"]}
    assert contracts.breaking_changes(BASE, required) == ["$.poster_url: field became required"]


def test_a_removed_enum_value_is_breaking() -> None:
    fewer = changed(stage={"enum": ["poller"], "type": "string"})
    assert contracts.breaking_changes(BASE, fewer) == ["$.stage: enum value(s) removed: ['uploader']"]
    restricted = changed(video_url={"type": "string", "enum": ["x"]})
    assert contracts.breaking_changes(BASE, restricted) == ["$.video_url: now restricted to the values ['x']"]


def test_nested_objects_arrays_and_refs_are_compared_too() -> None:
    retyped = changed(timings={"type": "object", "additionalProperties": {"type": "string"}})
    assert contracts.breaking_changes(BASE, retyped) == ["$.timings.*: type changed from number to string"]
    old = {
        "$defs": {"Frame": {"type": "object", "properties": {"at": {"type": "number"}}}},
        "type": "object",
        "properties": {"frames": {"type": "array", "items": {"$ref": "#/$defs/Frame"}}},
    }
    new = {**old, "$defs": {"Frame": {"type": "object", "properties": {"at_ms": {"type": "integer"}}}}}
    assert contracts.breaking_changes(old, new) == ["$.frames[].at: field removed (renamed? added: at_ms)"]


def test_literal_and_const_branches_are_enums() -> None:
    old = {"type": "object", "properties": {"s": {"anyOf": [{"const": "a"}, {"const": "b"}]}}}
    new = {"type": "object", "properties": {"s": {"const": "a"}}}
    assert contracts.breaking_changes(old, new) == ["$.s: enum value(s) removed: ['b']"]
    assert contracts.breaking_changes(new, old) == []


def test_a_real_model_change_is_caught() -> None:
    old = contracts.json_schema(GenerationFailed)
    new = json.loads(json.dumps(old))
    del new["properties"]["retryable"]
    new["properties"]["code"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    new["properties"]["stage"]["enum"].remove("archiver")
    assert contracts.breaking_changes(old, new) == [
        "$.retryable: field removed",
        "$.code: type changed from string to null | string",
        "$.stage: enum value(s) removed: ['archiver']",
    ]


# --- (d) the AsyncAPI document -------------------------------------------------------------------------


def asyncapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ASYNCAPI.read_text(encoding="utf-8"))
    return document


def payload(document: dict[str, Any], topic: str) -> dict[str, Any]:
    """The payload schema of the one message on `topic`'s channel, references followed."""

    def follow(ref: str) -> Any:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    [message_ref] = document["channels"][topic]["messages"].values()
    message = follow(message_ref["$ref"])
    schema: dict[str, Any] = follow(message["payload"]["$ref"])
    return schema


def test_asyncapi_lists_the_public_topics_with_their_payloads_and_headers() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    assert set(topics.PUBLIC) == {c.topic for c in PUBLIC_EVENTS}
    for event_class in PUBLIC_EVENTS:
        channel = document["channels"][event_class.topic]
        assert channel["address"] == event_class.topic
        assert not channel["description"].startswith("INTERNAL")
        assert document["operations"][event_class.topic]["tags"] == [{"name": "public"}]
        expected = {k: v for k, v in committed(event_class).items() if k not in ("$schema", "$id")}
        assert payload(document, event_class.topic) == expected
        [message_ref] = channel["messages"].values()
        message = document["components"]["messages"][message_ref["$ref"].rsplit("/", 1)[1]]
        headers = message["headers"]["properties"]
        assert {
            "ce_id",
            "ce_type",
            "ce_source",
            "ce_subject",
            "ce_time",
            "ce_dataschema",
            "content-type",
        } <= set(headers)
    internal = set(document["channels"]) - set(topics.PUBLIC)
    assert internal == {c.topic for c in contracts.all_events()} - set(topics.PUBLIC)
    for topic in internal:
        assert document["channels"][topic]["description"].startswith("INTERNAL")
        assert document["operations"][topic]["tags"] == [{"name": "internal"}]


COMMON_FIELDS = {"generation_id", "occurred_at", "client_id", "template_id", "provider", "timings"}


def test_each_public_payload_has_what_a_subscriber_needs() -> None:
    document = asyncapi_document()
    completed = payload(document, GenerationCompleted.topic)["properties"]
    failed = payload(document, GenerationFailed.topic)["properties"]
    canceled = payload(document, GenerationCanceled.topic)["properties"]

    assert COMMON_FIELDS | {
        "task_id",
        "video_url",
        "poster_url",
        "video_duration",
        "video_expires_at",
    } <= set(completed)
    assert COMMON_FIELDS | {"stage", "code", "message", "status", "retryable"} <= set(failed)
    assert set(canceled) >= COMMON_FIELDS
    assert set(payload(document, GenerationCompleted.topic)["required"]) >= {"generation_id", "video_url"}
    assert set(payload(document, GenerationFailed.topic)["required"]) >= {"stage", "code", "message"}
    assert "archiver" in failed["stage"]["enum"]


def test_events_as_published_validate_against_their_schemas() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    gid = uuid.uuid4()
    samples: list[Event] = [
        GenerationRequested(generation_id=gid, template_id="AACT.x", image_url="https://example.com/a.png"),
        GenerationCompleted(
            generation_id=gid,
            client_id=uuid.uuid4(),
            template_id="AACT.x",
            provider="dashscope",
            timings={"upload": 0.5, "total": 61.2},
            task_id="t-1",
            video_url="https://dancer.example/media/videos/x.mp4?expires=1&signature=ab",
            video_duration=5.0,
            video_expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        ),
        GenerationFailed(
            generation_id=gid, stage="archiver", code="VideoTooLarge", message="m", retryable=False
        ),
        GenerationCanceled(generation_id=gid),
    ]
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for event_class in contracts.all_events():
        jsonschema.Draft202012Validator.check_schema(committed(event_class))
    for event in samples:
        schema = committed(type(event))
        jsonschema.Draft202012Validator(schema, format_checker=checker).validate(
            event.model_dump(mode="json")
        )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(committed(GenerationFailed)).validate({"generation_id": str(gid)})


# --- topic settings --------------------------------------------------------------------------------------


def test_public_topics_are_created_with_explicit_retention_and_internal_ones_with_the_brokers() -> None:
    created = {t.name: t for t in new_topics(topics.ALL, 6)}

    assert set(created) == set(topics.ALL)
    assert all(t.num_partitions == 6 and t.replication_factor == 1 for t in created.values())
    insync = {"min.insync.replicas": "1"}
    for topic in topics.PUBLIC:
        assert (
            created[topic].topic_configs == {"cleanup.policy": "delete", "retention.ms": "604800000"} | insync
        )
    for topic in set(topics.ALL) - set(topics.PUBLIC):
        assert created[topic].topic_configs == insync


def test_the_readme_shows_the_subscriber_example_as_it_is() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (REPO / "examples" / "subscriber.py").read_text(encoding="utf-8")

    assert "## Subscribing to events" in readme
    assert f"```python\n{example.rstrip()}\n```" in readme, "README: paste examples/subscriber.py again"

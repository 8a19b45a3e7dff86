"""The event contract, written down: a JSON Schema per event type and an AsyncAPI document.

`python -m common.contracts` (`make contracts`) regenerates `common/schemas/events/<Name>.v1.json`
(shipped in the wheel; the gateway serves them at `/schemas/events/<Name>.v1.json`, the address in
each event's `ce_dataschema`) and `docs/asyncapi.json` (FastStream's own AsyncAPI 3.0 generator).
It refuses to overwrite a public event's committed schema with a breaking change (`breaking_changes`):
such a change needs a new event type version (`.v2`), not a new schema for `.v1`.
`--check` writes nothing and fails if anything is out of date. Output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from common import events, topics
from common.events import PUBLIC_EVENTS, Event
from common.messaging import SCHEMA_VERSION, SPEC_VERSION, event_type, schema_path

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).parent / "schemas" / "events"
ASYNCAPI_FILE = Path("docs/asyncapi.json")  # relative to the repository root, where `make` runs
ASYNCAPI_TITLE = "Dancer events"
ASYNCAPI_SERVER = "127.0.0.1:9092"
INTERNAL_NOTE = "INTERNAL: between the product's own services, not a contract; it may change at any time."

CE_HEADERS: dict[str, str] = {
    "ce_specversion": f"CloudEvents version, `{SPEC_VERSION}`.",
    "ce_id": "The fact's id: the same for every delivery of the same fact. De-duplicate on it.",
    "ce_type": "The event type and its schema version, e.g. `com.dancer.GenerationCompleted.v1`.",
    "ce_source": "The service that produced it, e.g. `/dancer/poller`.",
    "ce_subject": "The generation id (also the Kafka key).",
    "ce_time": "When it happened (RFC 3339, UTC); the payload's `occurred_at`.",
    "ce_dataschema": "The URL of this payload's JSON Schema (served by the gateway).",
    "content-type": "`application/json`: the record's value is the payload, as JSON.",
}
HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents Kafka protocol binding, binary mode: the attributes are `ce_` headers.",
    "properties": {name: {"type": "string", "description": text} for name, text in CE_HEADERS.items()},
    "required": sorted(set(CE_HEADERS) - {"ce_dataschema"}),
}


def all_events() -> tuple[type[Event], ...]:
    """Every event type in `common.events` (those with a topic of their own), in pipeline order."""
    return tuple(
        c
        for c in vars(events).values()
        if isinstance(c, type) and issubclass(c, Event) and "topic" in vars(c)
    )


def is_public(event_class: type[Event]) -> bool:
    return event_class in PUBLIC_EVENTS


def file_name(event_class: type[Event]) -> str:
    """`GenerationCompleted.v1.json`: the last part of the event type's schema path."""
    return schema_path(event_type(event_class)).rsplit("/", 1)[1]


def _description(event_class: type[Event]) -> str:
    doc = " ".join((event_class.__doc__ or event_class.__name__).split())
    where = (
        f"Kafka topic `{event_class.topic}`, key: the generation id; "
        f"CloudEvents type `{event_type(event_class)}`."
    )
    return f"{doc}\n\n{where}" if is_public(event_class) else f"{INTERNAL_NOTE}\n\n{doc}\n\n{where}"


def json_schema(event_class: type[Event]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the event's JSON payload, as it is serialized."""
    schema = event_class.model_json_schema(mode="serialization")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_path(event_type(event_class)),
        **schema,
        "title": event_class.__name__,
        "description": _description(event_class),
    }


def render(document: Any) -> str:
    """The one text form of a generated document: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document, by FastStream's generator: a publisher per topic, its event as schema.

    FastStream does not describe message headers and documents payloads in validation mode; both are
    completed here: the CloudEvents headers on every message, and each payload schema replaced by the
    same serialization-mode schema as the JSON Schema files (so the two documents always agree)."""
    broker = KafkaBroker(
        ASYNCAPI_SERVER,
        description="Local development (`make run`); elsewhere the environment's `KAFKA_BOOTSTRAP_SERVERS`.",
    )
    for event_class in all_events():
        broker.publisher(
            event_class.topic,
            schema=event_class,
            title=event_class.topic,
            description=_description(event_class),
        )
    document: dict[str, Any] = (
        AsyncAPI(
            broker,
            title=ASYNCAPI_TITLE,
            version=f"{SCHEMA_VERSION}.0.0",
            description=(
                "What the product publishes on Kafka. Public topics: "
                + ", ".join(f"`{t}`" for t in topics.PUBLIC)
                + "; subscribe to those only (see the README, 'Subscribing to events'). "
                "Every record: key = the generation id (one generation's events in order on one partition), "
                "value = the event as JSON, CloudEvents attributes as `ce_` headers (binary mode). "
                "At least once: de-duplicate on `ce_id`."
            ),
            schema_version="3.0.0",
        )
        .to_specification()
        .to_jsonable()
    )
    components = document["components"]
    for message in components["messages"].values():
        message["headers"] = HEADERS_SCHEMA
        message["contentType"] = "application/json"
    for event_class in all_events():
        schema = {k: v for k, v in json_schema(event_class).items() if k not in ("$schema", "$id")}
        components["schemas"][event_class.__name__] = schema
    for name, operation in document["operations"].items():
        operation["tags"] = [{"name": "public" if name in topics.PUBLIC else "internal"}]
    return document


def generated() -> dict[str, str]:
    """Every generated text: each JSON Schema by its file name, the AsyncAPI document as `asyncapi`."""
    files = {file_name(c): render(json_schema(c)) for c in all_events()}
    return {**files, "asyncapi": render(asyncapi())}


# --- compatibility ---------------------------------------------------------------------------------


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What in `new` breaks a subscriber written against `old` (or `old` data read with `new`):
    a removed field (a rename is a removal plus an addition), a changed type (nullable to non-null and
    back included), a field that became required or a new required field, a removed enum value, and
    the same inside nested objects and arrays. An added optional field or enum value is compatible
    (subscribers must ignore what they do not know). Titles, descriptions and defaults are ignored."""
    return list(_compare(old, new, old, new, "$"))


def _compare(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    old_root: Mapping[str, Any],
    new_root: Mapping[str, Any],
    at: str,
) -> Iterator[str]:
    old_kinds = _kinds(old, old_root)
    new_kinds = _kinds(new, new_root)
    if set(old_kinds) != set(new_kinds):
        yield f"{at}: type changed from {_show(old_kinds)} to {_show(new_kinds)}"
    for kind in sorted(set(old_kinds) & set(new_kinds)):
        before, after = old_kinds[kind], new_kinds[kind]
        old_enum, new_enum = _enum(before), _enum(after)
        if new_enum is not None and old_enum is None:
            yield f"{at}: now restricted to the values {sorted(new_enum, key=repr)}"
        elif old_enum is not None and new_enum is not None and (removed := old_enum - new_enum):
            yield f"{at}: enum value(s) removed: {sorted(removed, key=repr)}"
        if kind == "object":
            yield from _compare_objects(before, after, old_root, new_root, at)
        if (
            kind == "array"
            and isinstance(before.get("items"), Mapping)
            and isinstance(after.get("items"), Mapping)
        ):
            yield from _compare(before["items"], after["items"], old_root, new_root, f"{at}[]")


def _compare_objects(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    old_root: Mapping[str, Any],
    new_root: Mapping[str, Any],
    at: str,
) -> Iterator[str]:
    old_props: Mapping[str, Any] = old.get("properties", {})
    new_props: Mapping[str, Any] = new.get("properties", {})
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    removed = sorted(set(old_props) - set(new_props))
    added = sorted(set(new_props) - set(old_props))
    for name in removed:
        hint = f" (renamed? added: {', '.join(added)})" if added else ""
        yield f"{at}.{name}: field removed{hint}"
    for name in added:
        if name in new_required:
            yield f"{at}.{name}: new required field"
    for name in sorted(set(old_props) & set(new_props)):
        if name in new_required and name not in old_required:
            yield f"{at}.{name}: field became required"
        yield from _compare(old_props[name], new_props[name], old_root, new_root, f"{at}.{name}")
    old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
        yield from _compare(old_extra, new_extra, old_root, new_root, f"{at}.*")
    elif old_extra is not False and new_extra is False:
        yield f"{at}: no longer accepts other fields"


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local `$ref`s (`#/$defs/...`); pydantic makes no others."""
    seen = 0
    while isinstance(ref := schema.get("$ref"), str) and ref.startswith("#/") and seen < 32:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _branches(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    schema = _resolve(schema, root)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        for alternative in alternatives:
            yield from _branches(alternative, root)
        return
    types = schema.get("type")
    if isinstance(types, list):
        for t in types:
            yield {**schema, "type": t}
        return
    yield schema


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def _kinds(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The value kinds a schema allows (`string`, `string:date-time`, `null`, ...), each with its branch."""
    kinds: dict[str, Mapping[str, Any]] = {}
    for branch in _branches(schema, root):
        values = _enum(branch)
        if "type" in branch:
            names = [str(branch["type"])]
        elif values is not None:
            names = sorted({_JSON_TYPES.get(type(v), "object") for v in values})
        else:
            names = ["any"]
        for name in names:
            kind = f"{name}:{branch['format']}" if "format" in branch else name
            if kind in kinds and values is not None:  # e.g. two const branches of one type: merge them
                merged = (_enum(kinds[kind]) or set()) | values
                rest = {k: v for k, v in branch.items() if k != "const"}
                kinds[kind] = {**rest, "enum": sorted(merged, key=repr)}
            else:
                kinds[kind] = branch
    return kinds


def _enum(schema: Mapping[str, Any]) -> set[Any] | None:
    if "const" in schema:
        return {schema["const"]}
    if "enum" in schema:
        return set(schema["enum"])
    return None


def _show(kinds: Mapping[str, Any]) -> str:
    return " | ".join(sorted(kinds)) or "nothing"


# --- the command -----------------------------------------------------------------------------------


def public_file_names() -> set[str]:
    return {file_name(c) for c in PUBLIC_EVENTS}


def plan(schema_dir: Path, asyncapi_file: Path) -> tuple[dict[Path, str], list[str]]:
    """The files to write (those that differ from what is there) and the reasons not to write any."""
    texts = generated()
    wanted = {schema_dir / name: text for name, text in texts.items() if name != "asyncapi"}
    wanted[asyncapi_file] = texts["asyncapi"]
    problems: list[str] = []
    public = public_file_names()
    for path, text in wanted.items():
        if path.name in public and path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            problems += [f"{path.name}: {c}" for c in breaking_changes(old, json.loads(text))]
    for stale in sorted(set(schema_dir.glob("*.json")) - set(wanted)):
        problems.append(
            f"{stale.name}: no longer generated; removing an event type breaks its subscribers "
            "(delete the file yourself if that is intended)"
        )
    changed = {
        path: text
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    }
    return changed, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.contracts", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if anything is out of date")
    parser.add_argument("--asyncapi", type=Path, default=ASYNCAPI_FILE, help=f"default: {ASYNCAPI_FILE}")
    args = parser.parse_args(argv)
    changed, problems = plan(SCHEMA_DIR, args.asyncapi)
    if problems:
        print("Breaking change to the public event contract, nothing written:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            "Keep the change additive (a new optional field), or publish a new event version (.v2).",
            file=sys.stderr,
        )
        return 1
    if args.check:
        for path in sorted(changed):
            print(f"out of date: {path} (run `make contracts`)", file=sys.stderr)
        return 1 if changed else 0
    for path, text in sorted(changed.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if not changed:
        print("contracts up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

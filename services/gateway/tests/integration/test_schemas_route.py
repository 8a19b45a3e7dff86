"""GET /schemas/events/{name}: every event's JSON Schema at the address its `ce_dataschema` names.

The gateway runs in process on the real broker and database (`tests.gateway_app`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from common import contracts
from common.events import PUBLIC_EVENTS
from common.messaging import event_type, schema_path

from tests.gateway_app import in_process_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as client:
        yield client


async def test_each_event_schema_is_served_where_its_dataschema_header_points(api: httpx.AsyncClient) -> None:
    for event_class in contracts.all_events():
        path = schema_path(event_type(event_class))
        answer = await api.get(path)

        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/schema+json"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"].startswith("public, max-age=")
        schema = answer.json()
        assert schema == json.loads((contracts.SCHEMA_DIR / contracts.file_name(event_class)).read_text())
        assert schema["$id"] == path and schema["title"] == event_class.__name__


async def test_the_completed_schema_describes_the_video_link(api: httpx.AsyncClient) -> None:
    answer = await api.get("/schemas/events/GenerationCompleted.v1.json")

    assert answer.status_code == 200
    schema = answer.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"generation_id", "video_url", "timings"} <= set(schema["properties"])
    assert "video_url" in schema["required"]


@pytest.mark.parametrize(
    "name",
    [
        "Nope.v1.json",
        "GenerationCompleted.v2.json",
        "GenerationCompleted.v1",
        "generationcompleted.v1.json",
        "..%2F..%2Fpyproject.toml",
        "..%2Fevents.py",
        "%2E%2E",
        "..",
        "GenerationCompleted.v1.json%00",
        ".%2FGenerationCompleted.v1.json",
    ],
)
async def test_an_unknown_name_is_a_404_problem_and_reaches_no_file(
    api: httpx.AsyncClient, name: str
) -> None:
    answer = await api.get(f"/schemas/events/{name}")

    assert answer.status_code == 404, (name, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "NotFound"
    assert "[project]" not in answer.text and "import" not in answer.text


async def test_paths_outside_the_folder_are_404(api: httpx.AsyncClient) -> None:
    for path in [
        "/schemas/events/../events.py",
        "/schemas/events/a/../../x",
        "/schemas/events/",
        "/schemas/",
    ]:
        answer = await api.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_the_schemas_need_no_api_key_and_are_documented(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    async with in_process_gateway(kafka_bootstrap_servers, database_url, access_mode="keys") as api:
        answers = [await api.get(schema_path(event_type(c))) for c in PUBLIC_EVENTS]
        operation = (await api.get("/openapi.json")).json()["paths"]["/schemas/events/{name}"]["get"]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert operation["security"] == []
    assert "application/schema+json" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]

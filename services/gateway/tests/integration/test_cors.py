"""CORS, as a browser on another origin sees it: preflights, the allowed origin, the headers script may
read (Location, Retry-After, ...), and no CORS at all unless `cors_origins` is set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.gateway_app import in_process_gateway, new_api_client

pytestmark = pytest.mark.integration

TEMPLATE = "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL"
BODY = {"templateId": TEMPLATE, "imageUrl": "https://8.8.8.8/me.png"}
APP = "https://app.example"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,idempotency-key,authorization",
}


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(kafka_bootstrap_servers, database_url, cors_origins=APP) as client:
        yield client


def listed(header: str | None) -> set[str]:
    return {part.strip().lower() for part in (header or "").split(",") if part.strip()}


async def test_a_preflight_from_the_allowed_origin_is_allowed(api: httpx.AsyncClient) -> None:
    answer = await api.options("/api/generations", headers=PREFLIGHT)

    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == APP
    assert "post" in listed(answer.headers["access-control-allow-methods"])
    assert {"content-type", "idempotency-key", "authorization"} <= listed(
        answer.headers["access-control-allow-headers"]
    )
    assert "origin" in listed(answer.headers.get("vary"))


async def test_a_preflight_from_another_origin_gets_no_allow_origin(api: httpx.AsyncClient) -> None:
    answer = await api.options("/api/generations", headers=PREFLIGHT | {"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code >= 400


async def test_a_post_from_the_allowed_origin_exposes_location(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/generations", json=BODY, headers={"Origin": APP, "Idempotency-Key": str(uuid.uuid4())}
    )

    assert answer.status_code == 202, answer.text
    assert answer.headers["access-control-allow-origin"] == APP
    exposed = listed(answer.headers["access-control-expose-headers"])
    assert {"location", "retry-after", "idempotent-replayed"} <= exposed
    assert answer.headers["location"].startswith("/api/generations/")


async def test_a_request_from_another_origin_gets_no_allow_origin(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/generations", headers={"Origin": "https://evil.example"})

    assert answer.status_code == 200  # the server answers; the browser keeps it from the page
    assert "access-control-allow-origin" not in answer.headers


async def test_in_keys_mode_the_preflight_needs_no_key_and_errors_are_readable(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    _, key = await new_api_client(database_url, "browser app", max_in_flight=1)
    async with in_process_gateway(
        kafka_bootstrap_servers, database_url, cors_origins=APP, access_mode="keys"
    ) as api:
        preflight = await api.options("/api/generations", headers=PREFLIGHT)
        unauthorized = await api.get("/api/generations", headers={"Origin": APP})
        auth = {"Origin": APP, "Authorization": f"Bearer {key}"}
        accepted = await api.post("/api/generations", json=BODY, headers=auth)
        refused = await api.post("/api/generations", json=BODY, headers=auth)

    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == APP
    assert unauthorized.status_code == 401 and unauthorized.headers["access-control-allow-origin"] == APP
    assert accepted.status_code == 202 and accepted.headers["access-control-allow-origin"] == APP
    assert refused.status_code == 429 and refused.headers["access-control-allow-origin"] == APP
    assert "retry-after" in listed(refused.headers["access-control-expose-headers"])


async def test_without_cors_origins_there_are_no_cors_headers(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as api:
        preflight = await api.options("/api/generations", headers=PREFLIGHT)
        post = await api.post("/api/generations", json=BODY, headers={"Origin": APP})

    assert post.status_code == 202, post.text
    for answer in (preflight, post):
        assert not any(name.startswith("access-control-") for name in answer.headers)
    assert preflight.status_code == 405

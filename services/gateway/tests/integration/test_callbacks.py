"""Webhook callbacks at the gateway, on the real database and broker: `callbackUrl` checked by the same
address rules as image URLs and stored on the generation (a client's default otherwise), the operator
CLI's `--callback-url`, and `GET /api/generations/{id}/deliveries` with every attempt. No notifier runs
here: deliveries are written as the notifier writes them. No name is resolved: only IP literals."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.gateway_app import in_process_gateway, new_api_client, sql, sql_count

pytestmark = pytest.mark.integration

TEMPLATE = "AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ"
IMAGE = "https://8.8.8.8/me.png"
PROBLEM = "application/problem+json"
PUBLIC_HOOK = "https://8.8.8.8/hooks/dancer?token=abc"


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(kafka_bootstrap_servers, database_url) as client:
        yield client


@pytest.fixture(scope="module")
async def keyed(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(
        kafka_bootstrap_servers,
        database_url,
        access_mode="keys",
        client_rate_per_minute=1000,
        client_max_in_flight=100,
    ) as client:
        yield client


async def callback_of(database_url: str, generation_id: str) -> str | None:
    [row] = await sql(
        database_url, "SELECT callback_url FROM generations WHERE id = $1", uuid.UUID(generation_id)
    )
    value: str | None = row["callback_url"]
    return value


def create(api: httpx.AsyncClient, form: str, fields: dict[str, str], **kwargs: Any) -> Any:
    body = {"templateId": TEMPLATE, "imageUrl": IMAGE, **fields}
    if form == "json":
        return api.post("/api/generations", json=body, **kwargs)
    return api.post("/api/generations", data=body, files={"unused": ("", b"", "text/plain")}, **kwargs)


# --- callbackUrl on POST /api/generations ---------------------------------------------------------


@pytest.mark.parametrize("form", ["json", "multipart"])
@pytest.mark.parametrize(
    "url", [PUBLIC_HOOK, "https://[2001:4860:4860::8888]:8443/in", "https://93.184.216.34/x"]
)
async def test_a_public_https_callback_url_is_stored(
    api: httpx.AsyncClient, database_url: str, form: str, url: str
) -> None:
    answer = await create(api, form, {"callbackUrl": url})
    assert answer.status_code == 202, answer.text
    assert await callback_of(database_url, answer.json()["generationId"]) == url


@pytest.mark.parametrize("form", ["json", "multipart"])
async def test_no_callback_url_stores_none(api: httpx.AsyncClient, database_url: str, form: str) -> None:
    answer = await create(api, form, {"callbackUrl": ""})
    assert answer.status_code == 202, answer.text
    assert await callback_of(database_url, answer.json()["generationId"]) is None


@pytest.mark.parametrize("form", ["json", "multipart"])
@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "https://10.0.0.1/x",
        "https://127.0.0.1:8000/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://203.0.113.5/hook",  # TEST-NET-3: reserved for documentation, not public
        "http://8.8.8.8/hook",  # plain http to a public host: only https by default
        "https://localhost/hook",
        "https://user:pw@8.8.8.8/hook",
        "oss://bucket/hook",
        "ftp://8.8.8.8/hook",
        "https://8.8.8.8/\r\nX: y",
    ],
)
async def test_a_callback_url_that_is_not_public_https_is_refused(
    api: httpx.AsyncClient, database_url: str, form: str, url: str
) -> None:
    before = await sql_count(database_url, "SELECT count(*) FROM generations")
    answer = await create(api, form, {"callbackUrl": url})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert (body["code"], body["field"], body["type"]) == (
        "InvalidCallbackUrl",
        "callbackUrl",
        "/problems/InvalidCallbackUrl",
    )
    assert "\r" not in body["detail"] and "\n" not in body["detail"]
    assert await sql_count(database_url, "SELECT count(*) FROM generations") == before


async def test_a_too_long_callback_url_is_an_invalid_field(api: httpx.AsyncClient) -> None:
    answer = await create(api, "json", {"callbackUrl": "https://8.8.8.8/" + "x" * 2100})
    assert answer.status_code == 422 and answer.json()["field"] == "callbackUrl"


async def test_the_refusal_and_the_field_are_documented(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    create_op = document["paths"]["/api/generations"]["post"]
    content = create_op["requestBody"]["content"]
    json_schema = content["application/json"]["schema"]
    properties = (
        document["components"]["schemas"][json_schema["$ref"].rsplit("/", 1)[1]]["properties"]
        if "$ref" in json_schema
        else json_schema["properties"]
    )
    assert "callbackUrl" in properties
    assert "callbackUrl" in content["multipart/form-data"]["schema"]["properties"]
    assert "InvalidCallbackUrl" in create_op["responses"]["400"]["content"][PROBLEM]["examples"]
    assert (await api.get("/problems/InvalidCallbackUrl")).status_code == 200
    deliveries = document["paths"]["/api/generations/{generation_id}/deliveries"]["get"]
    assert deliveries["operationId"] == "listGenerationDeliveries"
    assert {"200", "404"} <= set(deliveries["responses"])


async def test_an_idempotent_retry_with_another_callback_url_is_a_different_request(
    api: httpx.AsyncClient,
) -> None:
    key = {"Idempotency-Key": f"cb-{uuid.uuid4()}"}
    first = await create(api, "json", {"callbackUrl": PUBLIC_HOOK}, headers=key)
    again = await create(api, "json", {"callbackUrl": PUBLIC_HOOK}, headers=key)
    other = await create(api, "json", {"callbackUrl": "https://8.8.4.4/hook"}, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["generationId"] == again.json()["generationId"]
    assert other.status_code == 409 and other.json()["code"] == "IdempotencyKeyReused"


# --- a client's default ---------------------------------------------------------------------------


async def test_a_clients_default_callback_url_is_copied_unless_one_is_given(
    keyed: httpx.AsyncClient, database_url: str
) -> None:
    _, key = await new_api_client(database_url, "with a hook", callback_url="https://8.8.4.4/default")
    bearer = {"Authorization": f"Bearer {key}"}
    defaulted = await create(keyed, "json", {}, headers=bearer)
    chosen = await create(keyed, "multipart", {"callbackUrl": PUBLIC_HOOK}, headers=bearer)
    assert defaulted.status_code == chosen.status_code == 202
    assert await callback_of(database_url, defaulted.json()["generationId"]) == "https://8.8.4.4/default"
    assert await callback_of(database_url, chosen.json()["generationId"]) == PUBLIC_HOOK
    _, plain_key = await new_api_client(database_url, "no hook")
    plain = await create(keyed, "json", {}, headers={"Authorization": f"Bearer {plain_key}"})
    assert await callback_of(database_url, plain.json()["generationId"]) is None


async def cli(database_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.keys",
        *args,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_cli_sets_a_checked_default_callback_url(database_url: str) -> None:
    code, out, err = await cli(database_url, "create", "Hooked", "--callback-url", PUBLIC_HOOK)
    assert code == 0, err
    client_id = uuid.UUID(dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)["client id"])
    [row] = await sql(database_url, "SELECT callback_url FROM clients WHERE id = $1", client_id)
    assert row["callback_url"] == PUBLIC_HOOK
    code, listed, _ = await cli(database_url, "list")
    assert code == 0 and any(str(client_id) in line and PUBLIC_HOOK in line for line in listed.splitlines())

    clients_before = await sql_count(database_url, "SELECT count(*) FROM clients")
    code, _, err = await cli(database_url, "create", "Inside", "--callback-url", "https://10.0.0.1/x")
    assert code == 2 and "--callback-url" in err and "not a public address" in err
    assert await sql_count(database_url, "SELECT count(*) FROM clients") == clients_before


# --- GET /api/generations/{id}/deliveries --------------------------------------------------------


async def add_delivery(
    database_url: str,
    generation_id: str,
    *,
    event_type: str,
    attempts: list[tuple[int | None, str | None]],
    delivered: bool = False,
    gave_up: bool = False,
) -> str:
    """A delivery row and its attempts, as the notifier writes them; its webhook id."""
    webhook_id = f"ce-{uuid.uuid4()}"
    now = datetime.now(UTC)
    [row] = await sql(
        database_url,
        "INSERT INTO webhook_deliveries (webhook_id, generation_id, url, event_type, payload, attempts, "
        "next_attempt_at, delivered_at, gave_up_at, last_status_code) "
        "VALUES ($1, $2, $3, $4, '{}'::jsonb, $5, $6, $7, $8, $9) RETURNING id",
        webhook_id,
        uuid.UUID(generation_id),
        PUBLIC_HOOK,
        event_type,
        len(attempts),
        None if delivered or gave_up else now + timedelta(seconds=30),
        now if delivered else None,
        now if gave_up else None,
        attempts[-1][0] if attempts else None,
    )
    for i, (status_code, error) in enumerate(attempts):
        await sql(
            database_url,
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms) "
            "VALUES ($1, $2, $3, $4, $5)",
            row["id"],
            now - timedelta(seconds=10 - i),
            status_code,
            error,
            12 + i,
        )
    return webhook_id


async def test_deliveries_show_every_attempt(api: httpx.AsyncClient, database_url: str) -> None:
    created = await create(api, "json", {"callbackUrl": PUBLIC_HOOK})
    generation_id = created.json()["generationId"]
    assert (await api.get(f"/api/generations/{generation_id}/deliveries")).json() == []

    done = await add_delivery(
        database_url,
        generation_id,
        event_type="generation.completed",
        attempts=[(500, None), (None, "Timeout: no answer within 10 s"), (204, None)],
        delivered=True,
    )
    pending = await add_delivery(
        database_url, generation_id, event_type="generation.failed", attempts=[(503, None)]
    )
    failed = await add_delivery(
        database_url, generation_id, event_type="generation.canceled", attempts=[(410, None)], gave_up=True
    )

    answer = await api.get(f"/api/generations/{generation_id}/deliveries")
    assert answer.status_code == 200, answer.text
    by_id = {d["webhookId"]: d for d in answer.json()}
    assert list(by_id) == [done, pending, failed]
    d = by_id[done]
    assert (d["eventType"], d["url"], d["status"], d["attemptCount"]) == (
        "generation.completed",
        PUBLIC_HOOK,
        "delivered",
        3,
    )
    assert d["deliveredAt"] and d["nextAttemptAt"] is None and d["gaveUpAt"] is None and d["createdAt"]
    assert [(a["statusCode"], a["error"], a["durationMs"]) for a in d["attempts"]] == [
        (500, None, 12),
        (None, "Timeout: no answer within 10 s", 13),
        (204, None, 14),
    ]
    assert all(a["at"] for a in d["attempts"])
    assert by_id[pending]["status"] == "pending" and by_id[pending]["nextAttemptAt"]
    assert by_id[failed]["status"] == "failed" and by_id[failed]["gaveUpAt"]
    assert by_id[failed]["nextAttemptAt"] is None


async def test_deliveries_of_an_unknown_generation_are_404(api: httpx.AsyncClient) -> None:
    answer = await api.get(f"/api/generations/{uuid.uuid4()}/deliveries")
    assert answer.status_code == 404 and answer.json()["code"] == "GenerationNotFound"
    assert (await api.get("/api/generations/not-an-id/deliveries")).status_code == 422


async def test_only_the_owning_client_sees_the_deliveries(
    keyed: httpx.AsyncClient, database_url: str
) -> None:
    _, owner = await new_api_client(database_url, "owner")
    _, other = await new_api_client(database_url, "other")
    created = await create(
        keyed, "json", {"callbackUrl": PUBLIC_HOOK}, headers={"Authorization": f"Bearer {owner}"}
    )
    generation_id = created.json()["generationId"]
    webhook_id = await add_delivery(
        database_url, generation_id, event_type="generation.completed", attempts=[(200, None)], delivered=True
    )
    mine = await keyed.get(f"/api/generations/{generation_id}/deliveries", headers={"X-API-Key": owner})
    assert mine.status_code == 200 and [d["webhookId"] for d in mine.json()] == [webhook_id]
    theirs = await keyed.get(f"/api/generations/{generation_id}/deliveries", headers={"X-API-Key": other})
    assert theirs.status_code == 404 and theirs.json()["code"] == "GenerationNotFound"
    anonymous = await keyed.get(f"/api/generations/{generation_id}/deliveries")
    assert anonymous.status_code == 401

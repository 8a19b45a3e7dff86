"""Access mode `keys` on the real database and broker, as a client sees it: who may call, what each client
sees, and how many generations it may start. Keys are made by the operator CLI (`gateway.keys`), once
as a real `python -m gateway.keys` process; no stage runs, so accepted generations stay QUEUED."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from common.settings import Settings
from gateway.main import create_app
from starlette.routing import NoMatchFound

from tests.gateway_app import in_process_gateway, new_api_client, sql, sql_count

pytestmark = pytest.mark.integration

TEMPLATE = "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL"
BODY = {"templateId": TEMPLATE, "imageUrl": "https://8.8.8.8/me.png"}
PROBLEM = "application/problem+json"


def gateway(
    kafka: str, database_url: str, **overrides: Any
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The gateway in `keys` mode (generous default limits unless overridden), in process."""
    limits: dict[str, Any] = {"client_rate_per_minute": 1000, "client_max_in_flight": 100} | overrides
    return in_process_gateway(kafka, database_url, access_mode="keys", **limits)


@pytest.fixture(scope="module")
async def api(kafka_bootstrap_servers: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway(kafka_bootstrap_servers, database_url) as client:
        yield client


async def new_key(database_url: str, name: str = "client", **limits: Any) -> tuple[uuid.UUID, str]:
    """A new client through the CLI's own function: its id and key."""
    client, key = await new_api_client(database_url, name, **limits)
    return client.id, key


async def cli(database_url: str, *args: str) -> str:
    """`python -m gateway.keys ARGS` as a real process on `database_url`; its stdout."""
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
    assert process.returncode == 0, err.decode()
    return out.decode()


def has_events_route() -> bool:
    try:
        create_app(Settings()).url_path_for("stream_generation_events", generation_id="x")
    except NoMatchFound:
        return False
    return True


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def generations_of(database_url: str, client_id: uuid.UUID) -> int:
    return await sql_count(database_url, "SELECT count(*) FROM generations WHERE client_id = $1", client_id)


def assert_problem(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["code"] == code and answer.json()["status"] == status and answer.json()["detail"]


# --- the operator CLI -------------------------------------------------------------------------------


async def test_cli_creates_a_key_that_works_and_list_never_shows_it(
    api: httpx.AsyncClient, database_url: str
) -> None:
    created = await cli(database_url, "create", "Web app", "--rate-per-minute", "30", "--max-in-flight", "4")
    fields = dict(line.split(": ", 1) for line in created.splitlines() if ": " in line)
    client_id, key = uuid.UUID(fields["client id"]), fields["key"]
    assert key.startswith("dk_") and len(key) > 40

    listed = await cli(database_url, "list")
    [row] = [line for line in listed.splitlines() if str(client_id) in line]
    assert "Web app" in row and key[:8] in row and "rate/min 30" in row and "max in flight 4" in row
    assert key not in listed and key[8:] not in listed

    answer = await api.get("/api/generations", headers=bearer(key))
    assert answer.status_code == 200 and answer.json()["items"] == []


async def test_a_key_revoked_with_the_cli_is_refused_at_once(
    api: httpx.AsyncClient, database_url: str
) -> None:
    client_id, key = await new_key(database_url, "soon revoked")
    assert (await api.get("/api/generations", headers=bearer(key))).status_code == 200

    revoked = await cli(database_url, "revoke", key[:8])

    assert str(client_id) in revoked
    answer = await api.get("/api/generations", headers=bearer(key))
    assert_problem(answer, 401, "Unauthorized")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    listed = await cli(database_url, "list")
    [row] = [line for line in listed.splitlines() if str(client_id) in line]
    assert "revoked -" not in row


# --- who may call ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer dk_not-a-key-anyone-was-given"},
        {"X-API-Key": "dk_not-a-key-anyone-was-given"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic ZGFuY2VyOnNlY3JldA=="},
    ],
    ids=["no-key", "unknown-bearer", "unknown-x-api-key", "empty-bearer", "basic-auth"],
)
async def test_a_request_without_a_valid_key_gets_401_and_starts_nothing(
    api: httpx.AsyncClient, database_url: str, headers: dict[str, str]
) -> None:
    [before] = await sql(database_url, "SELECT count(*) AS n FROM generations")
    for answer in (
        await api.get("/api/generations", headers=headers),
        await api.get(f"/api/generations/{uuid.uuid4()}", headers=headers),
        await api.post("/api/generations", json=BODY, headers=headers),
    ):
        assert_problem(answer, 401, "Unauthorized")
        assert answer.headers["www-authenticate"] == 'Bearer realm="dancer"'
    [after] = await sql(database_url, "SELECT count(*) AS n FROM generations")
    assert after["n"] == before["n"]


async def test_a_revoked_key_gets_401(api: httpx.AsyncClient, database_url: str) -> None:
    client_id, key = await new_key(database_url)
    await sql(database_url, "UPDATE clients SET revoked_at = now() WHERE id = $1", client_id)

    answer = await api.post("/api/generations", json=BODY, headers=bearer(key))

    assert_problem(answer, 401, "Unauthorized")
    assert "WWW-Authenticate" in answer.headers
    assert await generations_of(database_url, client_id) == 0


@pytest.mark.parametrize(
    "header",
    [lambda k: {"Authorization": f"Bearer {k}"}, lambda k: {"X-API-Key": k}],
    ids=["bearer", "x-api-key"],
)
async def test_either_header_carries_the_key(api: httpx.AsyncClient, database_url: str, header: Any) -> None:
    client_id, key = await new_key(database_url)

    created = await api.post("/api/generations", json=BODY, headers=header(key))

    assert created.status_code == 202, created.text
    answer = await api.get(created.headers["location"], headers=header(key))
    assert answer.status_code == 200 and answer.json()["status"] == "QUEUED"
    assert await generations_of(database_url, client_id) == 1


async def test_the_database_keeps_no_plaintext_key(api: httpx.AsyncClient, database_url: str) -> None:
    client_id, key = await new_key(database_url, "hashed")
    assert (await api.post("/api/generations", json=BODY, headers=bearer(key))).status_code == 202

    [row] = await sql(database_url, "SELECT * FROM clients WHERE id = $1", client_id)

    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["key_prefix"] == key[:8]
    assert all(key not in str(value) and key[8:] not in str(value) for value in row.values())
    [dump] = await sql(
        database_url,
        "SELECT (SELECT string_agg(c::text, ' ') FROM clients c) || "
        "(SELECT coalesce(string_agg(g::text, ' '), '') FROM generations g) || "
        "(SELECT coalesce(string_agg(r::text, ' '), '') FROM rate_limits r) AS everything",
    )
    assert key[8:] not in dump["everything"]


# --- what a client sees ----------------------------------------------------------------------------


async def test_a_client_sees_only_its_own_generations(api: httpx.AsyncClient, database_url: str) -> None:
    _, a = await new_key(database_url, "A")
    _, b = await new_key(database_url, "B")
    created = await api.post("/api/generations", json=BODY, headers=bearer(a))
    assert created.status_code == 202, created.text
    mine = created.json()["generationId"]
    path = f"/api/generations/{mine}"

    assert_problem(await api.get(path, headers=bearer(b)), 404, "GenerationNotFound")
    assert_problem(await api.post(f"{path}/cancel", headers=bearer(b)), 404, "GenerationNotFound")
    if has_events_route():
        assert_problem(await api.get(f"{path}/events", headers=bearer(b)), 404, "GenerationNotFound")
    listed_by_b = (await api.get("/api/generations", headers=bearer(b))).json()["items"]
    assert mine not in {g["generationId"] for g in listed_by_b}

    listed_by_a = (await api.get("/api/generations", headers=bearer(a))).json()["items"]
    assert [g["generationId"] for g in listed_by_a] == [mine]
    answer = await api.get(path, headers=bearer(a))
    assert answer.status_code == 200 and answer.json()["status"] == "QUEUED"  # B's cancel changed nothing


# --- how much a client may start -------------------------------------------------------------------


async def test_the_create_over_the_rate_gets_429_with_retry_after_and_stores_nothing(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    client_id, key = await new_key(database_url, "hasty")
    async with gateway(kafka_bootstrap_servers, database_url, client_rate_per_minute=3) as api:
        answers = [await api.post("/api/generations", json=BODY, headers=bearer(key)) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    assert_problem(answers[3], 429, "RateLimited")
    assert 1 <= int(answers[3].headers["retry-after"]) <= 20  # one token comes back every 20 s
    assert await generations_of(database_url, client_id) == 3


async def test_retry_after_counts_down_while_the_client_waits(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    _, key = await new_key(database_url, "patient")
    async with gateway(kafka_bootstrap_servers, database_url, client_rate_per_minute=3) as api:
        for _ in range(3):
            assert (await api.post("/api/generations", json=BODY, headers=bearer(key))).status_code == 202
        first = await api.post("/api/generations", json=BODY, headers=bearer(key))
        await asyncio.sleep(3)
        later = await api.post("/api/generations", json=BODY, headers=bearer(key))

    assert_problem(later, 429, "RateLimited")
    assert int(later.headers["retry-after"]) <= int(first.headers["retry-after"]) - 2


async def test_too_many_in_flight_gets_429_until_one_is_canceled(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    client_id, key = await new_key(database_url, "busy")
    async with gateway(kafka_bootstrap_servers, database_url, client_max_in_flight=2) as api:
        first, second = [await api.post("/api/generations", json=BODY, headers=bearer(key)) for _ in range(2)]
        assert (first.status_code, second.status_code) == (202, 202)
        assert (await api.get(first.headers["location"], headers=bearer(key))).json()["status"] == "QUEUED"

        refused = await api.post("/api/generations", json=BODY, headers=bearer(key))
        assert_problem(refused, 429, "TooManyInFlight")
        assert int(refused.headers["retry-after"]) >= 1
        assert await generations_of(database_url, client_id) == 2

        canceled = await api.post(f"{first.headers['location']}/cancel", headers=bearer(key))
        assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
        again = await api.post("/api/generations", json=BODY, headers=bearer(key))

    assert again.status_code == 202, again.text
    assert await generations_of(database_url, client_id) == 3


async def test_a_clients_own_limit_overrides_the_default(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    created = await cli(database_url, "create", "one at a time", "--max-in-flight", "1")
    key = dict(line.split(": ", 1) for line in created.splitlines() if ": " in line)["key"]
    _, other = await new_key(database_url, "default limits")
    async with gateway(kafka_bootstrap_servers, database_url, client_max_in_flight=3) as api:
        own = [await api.post("/api/generations", json=BODY, headers=bearer(key)) for _ in range(2)]
        default = [await api.post("/api/generations", json=BODY, headers=bearer(other)) for _ in range(4)]

    assert own[0].status_code == 202
    assert_problem(own[1], 429, "TooManyInFlight")
    assert [a.status_code for a in default] == [202, 202, 202, 429]

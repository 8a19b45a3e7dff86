"""With its database out of reach the gateway answers 503 problems that say to retry, never a 500."""

from __future__ import annotations

import pytest

from tests.gateway_app import in_process_gateway
from tests.infra import free_port

pytestmark = pytest.mark.integration


async def test_every_call_answers_503_with_retry_after_while_the_database_is_down(
    kafka_bootstrap_servers: str,
) -> None:
    nobody_listens = f"postgresql+asyncpg://dancer@127.0.0.1:{free_port()}/dancer"
    async with in_process_gateway(kafka_bootstrap_servers, nobody_listens) as api:
        answers = [
            await api.get("/api/generation/templates"),
            await api.get("/api/generations"),
            await api.get("/api/generations/e3e70682-c209-1cac-a29f-6fbed82c07cd"),
            await api.post(
                "/api/generations",
                json={
                    "templateId": "AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL",
                    "ossUrl": "oss://b/x.png",
                },
            ),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "ServiceUnavailable" and int(answer.headers["retry-after"]) > 0

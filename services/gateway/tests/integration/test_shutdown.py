"""The gateway stops promptly even when a request has just woken its outbox relay (on Python 3.11,
`asyncio.wait_for` swallows a cancel that lands in that moment, so one cancel is not enough)."""

from __future__ import annotations

import asyncio

import pytest
from gateway.main import create_app

from tests.gateway_app import gateway_settings

pytestmark = pytest.mark.integration


async def test_the_gateway_stops_right_after_its_relay_was_woken(
    kafka_bootstrap_servers: str, database_url: str
) -> None:
    app = create_app(gateway_settings(kafka_bootstrap_servers, database_url))
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    await asyncio.sleep(0.2)  # the relay has found nothing to send and waits to be woken

    app.state.relay.wake()  # as an accepted request does
    await asyncio.sleep(0)  # the relay's wait is over, but the relay has not run on yet

    stopping = asyncio.create_task(lifespan.__aexit__(None, None, None))
    stopped, _ = await asyncio.wait({stopping}, timeout=10)

    assert stopped, "the gateway is still stopping after 10 s: its outbox relay ignored the cancel"
    stopping.result()

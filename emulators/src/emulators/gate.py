"""The layer every non-admin call passes first: outage, faults, quotas, then the handler; counted.

Keyed by endpoint name, the route template with its method (`GET /api/v1/tasks/{task_id}`), so
handlers know nothing of it. A reset closes the TCP connection without an HTTP answer; a timeout
holds the call `timeout_seconds` and then answers 504. Its answers and the caller's account (for the
quotas) are in the provider's dialect, chosen by path (cutout.pro's under `/cutout/`, else DashScope's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import parse_qs

import httpx
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulators.controls import Decision, error_decision
from emulators.deps import Emulator
from emulators.dialects import Dialect, dialect_for
from emulators.quotas import QUOTA_MESSAGE


def endpoint_name(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL and isinstance(route, Route):
            return f"{scope['method']} {route.path.rstrip('/') or '/'}"
    return f"{scope['method']} <unmatched>"


class Gate:
    def __init__(
        self, app: ASGIApp, emulator: Emulator, routes: Sequence[BaseRoute], dialects: Sequence[Dialect]
    ) -> None:
        self._app = app
        self._emulator = emulator
        self._routes = routes
        self._dialects = dialects

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        emulator = self._emulator
        emulator.start()
        if scope["path"].startswith("/admin/"):
            await self._app(scope, receive, send)
            return
        endpoint = endpoint_name(scope, self._routes)
        await emulator.housekeeping()
        seen: list[int] = []

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.append(int(message["status"]))
            await send(message)

        try:
            await self._pass(endpoint, scope, receive, counting_send, raw_send=send)
        finally:
            emulator.counters.record_call(endpoint, str(seen[0]) if seen else "reset")

    async def _pass(self, endpoint: str, scope: Scope, receive: Receive, send: Send, raw_send: Send) -> None:
        """Outage, then the endpoint's drawn fault, then its quota; else the handler answers."""
        controls = self._emulator.controls
        dialect = dialect_for(scope["path"], self._dialects)
        outage = controls.outage_now()
        if outage is not None:
            decision = Decision("reset") if outage.status == "reset" else error_decision(outage.status)
        else:
            decision = controls.decide(endpoint)
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.action == "pass":
            decision = self._throttled(endpoint, scope, dialect)
            if decision.action == "pass":
                await self._app(scope, receive, send)
                return
        self._emulator.counters.record_fault(endpoint, "outage" if outage else decision.action)
        if decision.action == "reset":
            await _reset(raw_send)
            return
        if decision.action == "timeout":
            await asyncio.sleep(controls.config.timeout_seconds)
            decision = error_decision(504)
        response = dialect.error(endpoint, decision.status, decision.code, decision.message)
        await response(scope, receive, send)

    def _throttled(self, endpoint: str, scope: Scope, dialect: Dialect) -> Decision:
        """429 when the caller's account has spent this endpoint's quota (unknown keys: the handler's 401)."""
        controls = self._emulator.controls
        account = dialect.caller(Headers(scope=scope), controls.config.accounts)
        if account is None:
            return Decision()
        model = parse_qs(scope.get("query_string", b"").decode()).get("model", [""])[0]
        exceeded = controls.quotas.take(controls.config.quotas, endpoint, account, model)
        if exceeded is None:
            return Decision()
        return Decision("quota", 0, 429, exceeded.code, QUOTA_MESSAGE)


async def _reset(send: Send) -> None:
    """Drop the connection with no answer. Under uvicorn, `send` is bound to the request cycle,
    which holds the TCP transport; in process (httpx.ASGITransport) raise what httpx raises."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        await asyncio.sleep(0)  # let the loop report the lost connection before we return
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

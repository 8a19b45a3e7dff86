"""One delivery attempt: check the URL again, sign the body (Standard Webhooks), POST it, classify.

The URL is checked with the gateway's rules at every attempt (DNS may have changed since the client
gave it) and the request goes to an address that check accepted, so a name cannot be re-pointed at
an inside address between the check and the connection. Redirects are never followed; the answer's
body is never read.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from common.urls import CheckedUrl, UrlRefused, check_callback_url
from standardwebhooks.webhooks import Webhook

from notifier.store import DueDelivery, Outcome

USER_AGENT = "dancer-webhooks/1.0 (+https://www.standardwebhooks.com)"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class UrlRules:
    allow_http: bool
    allowed_hosts: frozenset[str]


def body_of(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True)


def signed_headers(webhook: Webhook, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC).replace(microsecond=0)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": webhook.sign(webhook_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def pinned(checked: CheckedUrl) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL to connect to, with the Host header and TLS name of the URL the client gave."""
    url = httpx.URL(checked.url)
    if not checked.addresses:
        return url, {}, {}
    address = str(checked.addresses[0])
    if url.host == address:
        return url, {}, {}
    headers = {"host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return url.copy_with(host=address), headers, extensions


class Sender:
    def __init__(self, http: httpx.AsyncClient, secret: str, rules: UrlRules, timeout_seconds: float) -> None:
        self._http = http
        self._webhook = Webhook(secret)
        self._rules = rules
        self._timeout = timeout_seconds

    async def attempt(self, due: DueDelivery) -> Outcome:
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            checked = await check_callback_url(
                due.url, allow_http=self._rules.allow_http, allowed_hosts=self._rules.allowed_hosts
            )
        except UrlRefused as exc:
            return Outcome(None, f"URL refused, not sent: {exc.detail}", took())
        body = body_of(due.payload)
        url, headers, extensions = pinned(checked)
        headers.update(signed_headers(self._webhook, due.webhook_id, body, datetime.now(UTC)))
        request = self._http.build_request("POST", url, content=body, headers=headers, extensions=extensions)
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.send(request, stream=True, follow_redirects=False)
                await response.aclose()  # the answer's body is never read
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(None, f"Timeout: no answer within {self._timeout:g} s", took())
        except (httpx.HTTPError, OSError) as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS], took())
        return Outcome(response.status_code, None, took())

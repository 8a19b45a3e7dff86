"""One attempt, without a network: what is signed and sent, where to, and how an answer is classified."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from common import urls
from notifier.facts import generation_id_of, timestamp_of, webhook_id_of
from notifier.sender import Sender, UrlRules, pinned
from notifier.store import DueDelivery, Outcome, next_wait
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ANY_HOST = UrlRules(allow_http=False, allowed_hosts=frozenset())
LOCAL = UrlRules(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}))


def _due(url: str) -> DueDelivery:
    payload = {"type": "generation.completed", "timestamp": "2026-01-01T00:00:00+00:00", "data": {"a": "é"}}
    return DueDelivery(7, "msg_1", url, payload, 0, datetime.now(UTC))


def _sender(handler: Any, rules: UrlRules = LOCAL) -> tuple[Sender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer: httpx.Response = handler(request)
        return answer

    http = httpx.AsyncClient(transport=httpx.MockTransport(record), follow_redirects=False)
    return Sender(http, SECRET, rules, timeout_seconds=2), seen


async def test_the_request_is_signed_as_standard_webhooks_verify_it() -> None:
    sender, seen = _sender(lambda _: httpx.Response(204))
    outcome = await sender.attempt(_due("http://127.0.0.1:9/hook"))
    assert outcome.delivered and outcome.error is None
    [request] = seen
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("dancer-webhooks/")
    verified = Webhook(SECRET).verify(request.content, dict(request.headers))
    assert verified == _due("x").payload
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUA==").verify(request.content, dict(request.headers))


@pytest.mark.parametrize(
    ("answer", "delivered", "gone"),
    [(200, True, False), (299, True, False), (302, False, False), (410, False, True), (500, False, False)],
)
async def test_answers_are_classified_and_redirects_not_followed(
    answer: int, delivered: bool, gone: bool
) -> None:
    sender, seen = _sender(lambda _: httpx.Response(answer, headers={"location": "http://127.0.0.1:1/x"}))
    outcome = await sender.attempt(_due("http://127.0.0.1:9/hook"))
    assert (outcome.status_code, outcome.delivered, outcome.gone) == (answer, delivered, gone)
    assert len(seen) == 1


async def test_a_refused_url_is_never_sent() -> None:
    sender, seen = _sender(lambda _: httpx.Response(200), rules=ANY_HOST)
    for url in ("https://127.0.0.1/hook", "http://8.8.8.8/hook", "https://10.0.0.1/x", "https://localhost/x"):
        outcome = await sender.attempt(_due(url))
        assert outcome.status_code is None and outcome.error and outcome.error.startswith("URL refused")
    assert seen == []


async def test_an_unreachable_receiver_is_an_error_not_a_crash() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sender, _ = _sender(fail)
    outcome = await sender.attempt(_due("http://127.0.0.1:9/hook"))
    assert outcome.status_code is None and outcome.error == "ConnectError: connection refused"


async def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[urls.IPAddress]:
        return [ipaddress.ip_address("8.8.8.8")] if host == "hooks.example.com" else []

    monkeypatch.setattr(urls, "_resolve", resolve)
    sender, seen = _sender(lambda _: httpx.Response(200), rules=ANY_HOST)
    assert (await sender.attempt(_due("https://hooks.example.com:8443/in?x=1"))).delivered
    [request] = seen
    assert str(request.url) == "https://8.8.8.8:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def test_an_ip_literal_or_an_allowed_host_is_not_rewritten() -> None:
    for checked in (
        urls.CheckedUrl("https://8.8.8.8/x", (ipaddress.ip_address("8.8.8.8"),)),
        urls.CheckedUrl("http://127.0.0.1:9/x"),
    ):
        url, headers, extensions = pinned(checked)
        assert (str(url), headers, extensions) == (checked.url, {}, {})


def test_backoff_steps_with_at_most_ten_percent_jitter() -> None:
    backoff = [5.0, 30.0, 120.0]
    for attempts, step in [(1, 5.0), (2, 30.0), (3, 120.0), (4, 120.0), (50, 120.0)]:
        waits = [next_wait(attempts, backoff) for _ in range(200)]
        assert all(0.9 * step <= w <= 1.1 * step for w in waits)
        assert len(set(waits)) > 1


def test_outcome_of_no_answer_is_neither_delivered_nor_gone() -> None:
    outcome = Outcome(None, "Timeout", 10)
    assert not outcome.delivered and not outcome.gone


def test_the_webhook_id_is_the_events_ce_id() -> None:
    assert webhook_id_of({"ce_id": "abc-1"}, "generation.failed", b"{}") == "abc-1"
    long = webhook_id_of({"ce_id": "x" * 100}, "generation.failed", b"{}")
    assert long.startswith("msg_") and len(long) <= 64
    assert webhook_id_of({}, "t", b"{}") == webhook_id_of({}, "t", b"{}") != webhook_id_of({}, "t", b"[]")


def test_the_generation_and_the_time_come_from_the_event() -> None:
    gid = "0b6a2a1e-3c8d-4e0f-9a5b-2f4c6d8e0a1b"
    assert str(generation_id_of({"ce_subject": gid}, {}, None)) == gid
    assert str(generation_id_of({}, {"generation_id": gid}, None)) == gid
    assert str(generation_id_of({}, {}, gid.encode())) == gid
    with pytest.raises(ValueError):
        generation_id_of({"ce_subject": "nope"}, {}, b"nope")
    at = "2026-03-01T10:00:00+00:00"
    assert timestamp_of({}, {"occurred_at": at}) == at
    assert timestamp_of({"ce_time": at}, {}) == at
    assert datetime.fromisoformat(timestamp_of({}, {"occurred_at": 5})).tzinfo is not None


def test_the_body_sent_is_compact_ascii_json() -> None:
    from notifier.sender import body_of

    assert json.loads(body_of({"a": "é"})) == {"a": "é"} and body_of({"a": 1}) == '{"a":1}'

"""One provider API call over HTTP, as every provider client makes it: counted and timed in the provider
call metrics, and a call that got no answer (timeout, connection error) turned into a retryable error."""

from __future__ import annotations

import time
from typing import Any

import httpx

from common import metrics
from common.providers.errors import ProviderUnreachable, RetryableProviderError


async def request(
    http: httpx.AsyncClient, provider: str, endpoint: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """`endpoint`: the call's name in the metrics (never its path: ids would become labels)."""
    started, code = time.perf_counter(), "error"  # stays so if the call is cut short
    try:
        response = await http.request(method, url, **kwargs)
        code = str(response.status_code)
        return response
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        code = "connection_error"
        raise ProviderUnreachable("ConnectionError", f"{method} {endpoint}: no connection: {exc!r}") from exc
    except httpx.TimeoutException as exc:
        code = "timeout"
        raise RetryableProviderError("RequestTimeout", f"{method} {endpoint} timed out: {exc!r}") from exc
    except httpx.TransportError as exc:
        code = "connection_error"
        raise RetryableProviderError("ConnectionError", f"{method} {endpoint} failed: {exc!r}") from exc
    finally:
        metrics.PROVIDER_CALLS.labels(provider, endpoint, code).inc()
        metrics.PROVIDER_CALL_SECONDS.labels(provider, endpoint).observe(time.perf_counter() - started)


def retry_after(response: httpx.Response) -> float | None:
    """The answer's `Retry-After` in seconds, when it gives one."""
    value = response.headers.get("retry-after")
    return float(value) if value and value.isdigit() else None

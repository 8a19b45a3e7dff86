"""Rate quotas as token buckets, per account (and per model where the provider counts so)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from emulators.config import QUOTA_ENDPOINTS, QuotaSpec
from emulators.ids import AccountId

_QUOTA_OF = {endpoint: name for name, endpoints in QUOTA_ENDPOINTS.items() for endpoint in endpoints}
# Quotas counted per model too; a submit endpoint serves a single model, so the endpoint stands in.
_PER_MODEL = {"upload_policy", "submit"}
QUOTA_MESSAGE = "Requests rate limit exceeded, please try again later."


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Quotas:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, AccountId, str], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def take(
        self, specs: dict[str, QuotaSpec | None], endpoint: str, account: AccountId, model: str
    ) -> QuotaSpec | None:
        """Spend one call of the endpoint's quota; the quota when it is exhausted, else None."""
        name = _QUOTA_OF.get(endpoint)
        spec = specs.get(name) if name else None
        if name is None or spec is None:
            return None
        scope = (model or endpoint) if name in _PER_MODEL else ""
        now = time.monotonic()
        bucket = self._buckets.setdefault((name, account, scope), _Bucket(spec.capacity, now))
        bucket.tokens = min(spec.capacity, bucket.tokens + (now - bucket.updated) * spec.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return spec
        bucket.tokens -= 1
        return None

"""Signed, expiring media links: `{base}/media/{key}?expires=<unix seconds>&signature=<hex>`.

The gateway serves them (`GET /media/{key}`). The signature is the hex HMAC-SHA256, under the
product's `media_signing_key`, of `"{key}\\n{expires}"`, so neither the key nor the expiry can be
changed without the key. `expires=0` means the link never expires (media kept forever).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from common.media.store import validate_key

NEVER = 0


def expiry(expires_at: datetime | None) -> int:
    """The `expires` value of a link: unix seconds, or 0 for never. `expires_at` must be tz-aware."""
    if expires_at is None:
        return NEVER
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return max(1, int(expires_at.timestamp()))


def sign(signing_key: str, key: str, expires: int) -> str:
    """The hex HMAC-SHA256 of `"{key}\\n{expires}"`."""
    message = f"{key}\n{expires}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def media_url(base_url: str, signing_key: str, key: str, expires_at: datetime | None) -> str:
    """A link to the media object `key`, valid until `expires_at` (None: forever)."""
    expires = expiry(expires_at)
    signature = sign(signing_key, validate_key(key), expires)
    return f"{base_url.rstrip('/')}/media/{key}?expires={expires}&signature={signature}"


def signature_matches(signing_key: str, key: str, expires: int, signature: str) -> bool:
    """Whether `signature` was made for this key and expiry (in constant time); the clock aside."""
    if expires < 0 or not signature.isascii():
        return False
    return hmac.compare_digest(sign(signing_key, key, expires), signature.lower())


def expired(expires: int, now: float) -> bool:
    """Whether a link with this `expires` value is past its time at `now` (unix seconds)."""
    return expires != NEVER and now >= expires


def verify(signing_key: str, key: str, expires: int, signature: str, now: float) -> bool:
    """Whether a link is genuine and still valid at `now` (unix seconds)."""
    return signature_matches(signing_key, key, expires, signature) and not expired(expires, now)

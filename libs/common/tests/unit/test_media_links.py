"""Signed media links: only the signer can make one, for one key, until one time."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from common.media.links import expired, media_url, sign, signature_matches, verify

SECRET = "test-signing-key"
KEY = "videos/0b6e5f0e-5d1c-4a55-9a4e-2d1f3c1a7b10.mp4"
NOW = 1_900_000_000.0


def _parts(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query, strict_parsing=True)
    return parts.path.removeprefix("/media/"), int(query["expires"][0]), query["signature"][0]


def test_a_link_names_the_key_its_expiry_and_an_hmac_of_both() -> None:
    at = datetime.fromtimestamp(NOW + 3600, UTC)
    url = media_url("https://api.example.com/", SECRET, KEY, at)
    assert url.startswith(f"https://api.example.com/media/{KEY}?expires={int(NOW) + 3600}&signature=")
    key, expires, signature = _parts(url)
    expected = hmac.new(SECRET.encode(), f"{KEY}\n{expires}".encode(), hashlib.sha256).hexdigest()
    assert (key, signature) == (KEY, expected)
    assert verify(SECRET, key, expires, signature, NOW)
    assert verify(SECRET, key, expires, signature.upper(), NOW)


def test_a_tampered_key_is_refused() -> None:
    key, expires, signature = _parts(
        media_url("http://gw", SECRET, KEY, datetime.fromtimestamp(NOW + 60, UTC))
    )
    assert not verify(SECRET, "videos/another.mp4", expires, signature, NOW)
    assert not verify(SECRET, key + "x", expires, signature, NOW)


def test_a_tampered_expiry_is_refused() -> None:
    key, expires, signature = _parts(
        media_url("http://gw", SECRET, KEY, datetime.fromtimestamp(NOW + 60, UTC))
    )
    assert not verify(SECRET, key, expires + 86400, signature, NOW)
    assert not verify(SECRET, key, 0, signature, NOW)  # "never" is not a free upgrade


def test_another_signing_key_or_a_garbled_signature_is_refused() -> None:
    key, expires, signature = _parts(
        media_url("http://gw", SECRET, KEY, datetime.fromtimestamp(NOW + 60, UTC))
    )
    assert not verify("other-secret", key, expires, signature, NOW)
    for garbled in ("", signature[:-1], signature + "0", "é" * 64, "zz" * 32):
        assert not verify(SECRET, key, expires, garbled, NOW)


def test_an_expired_link_is_refused_though_genuine() -> None:
    key, expires, signature = _parts(
        media_url("http://gw", SECRET, KEY, datetime.fromtimestamp(NOW + 60, UTC))
    )
    assert verify(SECRET, key, expires, signature, NOW + 59.9)
    assert not verify(SECRET, key, expires, signature, NOW + 60)
    assert signature_matches(SECRET, key, expires, signature) and expired(expires, NOW + 60)


def test_a_never_expiring_link() -> None:
    url = media_url("http://gw", SECRET, KEY, None)
    key, expires, signature = _parts(url)
    assert expires == 0 and signature == sign(SECRET, KEY, 0)
    assert verify(SECRET, key, expires, signature, NOW + 100 * 365 * 86400)


def test_a_negative_expiry_never_verifies() -> None:
    assert not verify(SECRET, KEY, -1, sign(SECRET, KEY, -1), NOW)


def test_expiry_needs_an_aware_time_and_a_valid_key() -> None:
    with pytest.raises(ValueError, match="timezone"):
        media_url("http://gw", SECRET, KEY, datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="invalid media key"):
        media_url("http://gw", SECRET, "../secrets", None)
    # a time before 1970-01-01T00:00:01 is already expired, never "0 = never"
    assert (
        _parts(media_url("http://gw", SECRET, KEY, datetime.fromtimestamp(0, UTC) - timedelta(days=1)))[1]
        == 1
    )


def test_a_link_with_an_offset_time_zone_expires_at_the_same_instant() -> None:
    plus_eight = datetime.fromtimestamp(NOW + 60, timezone(timedelta(hours=8)))
    assert _parts(media_url("http://gw", SECRET, KEY, plus_eight))[1] == int(NOW) + 60

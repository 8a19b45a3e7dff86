"""`Idempotency-Key` on POST /api/generations: a retried request gets the generation the first made.

The key is claimed in the same transaction that stores the generation. A concurrent request with the
same key waits on the key's row until the first commits, then finds it: one generation, one paid job.
A key older than the retention is free again; the same key with another body is a 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import ApiError

MAX_KEY_LENGTH = 255
log = logging.getLogger("gateway.idempotency")

_CLAIM = text(
    """
    INSERT INTO idempotency_keys (scope, key, request_hash, generation_id, created_at)
    VALUES (:scope, :key, :hash, :generation_id, now())
    ON CONFLICT (scope, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, generation_id = EXCLUDED.generation_id,
           created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at < now() - make_interval(secs => :ttl)
    RETURNING generation_id
    """
)
_EARLIER = text(
    "SELECT request_hash, generation_id FROM idempotency_keys WHERE scope = :scope AND key = :key"
)
_FORGET = text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => :ttl)")


@dataclass(frozen=True)
class Claim:
    scope: str  # the client's id, or "open"
    key: str
    request_hash: str
    ttl_seconds: float


def request_hash(fields: dict[str, str | None], photo_sha256: str | None) -> str:
    canonical = json.dumps({"fields": fields, "photo": photo_sha256}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "MalformedRequest",
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            field="Idempotency-Key",
        )
    return key


async def claim_key(session: AsyncSession, claim: Claim, generation_id: uuid.UUID) -> uuid.UUID | None:
    """Claims the key for a new generation; returns the earlier generation if the key was taken."""
    params = {"scope": claim.scope, "key": claim.key, "hash": claim.request_hash, "ttl": claim.ttl_seconds}
    if await session.scalar(_CLAIM, {**params, "generation_id": generation_id}) is not None:
        return None
    earlier = (await session.execute(_EARLIER, params)).one()
    if earlier.request_hash != claim.request_hash:
        raise ApiError(
            409,
            "IdempotencyKeyReused",
            "This Idempotency-Key was already used with a different request; use a new key.",
            field="Idempotency-Key",
        )
    found: uuid.UUID = earlier.generation_id
    return found


async def forget_expired_forever(
    sessions: async_sessionmaker[AsyncSession], ttl_seconds: float, every_seconds: float = 600
) -> None:
    """Deletes keys past their retention every few minutes (any replica may; the delete is idempotent)."""
    while True:
        try:
            async with sessions.begin() as session:
                await session.execute(_FORGET, {"ttl": ttl_seconds})
        except Exception as exc:  # the database is down: try again next round
            log.warning("could not forget expired idempotency keys: %r", exc)
        await asyncio.sleep(every_seconds)

"""Who is calling, and may they start one more generation?

Access mode `open` (the original's behaviour): no credentials, every caller is anonymous (None).
Access mode `keys`: an API key in `Authorization: Bearer <key>` or `X-API-Key: <key>`; only its
SHA-256 is stored, so a leaked database leaks no key. A client sees only its own generations, creates
at most `rate_per_minute` a minute (a token bucket row shared by every gateway replica) and has at most
`max_in_flight` unfinished at once (counted under a per-client lock, so concurrent requests can't
overshoot).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass

from common.db.models import TERMINAL, Client, Generation
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import ApiError

KEY_PREFIX = "dk_"

# A bucket of `burst` tokens refilled at `rate` per second; a request takes one or is refused.
_TAKE = text(
    """
    INSERT INTO rate_limits (name, tokens, updated_at) VALUES (:name, :burst - 1, clock_timestamp())
    ON CONFLICT (name) DO UPDATE
       SET tokens = least(:burst, rate_limits.tokens
                    + :rate * extract(epoch FROM clock_timestamp() - rate_limits.updated_at)) - 1,
           updated_at = clock_timestamp()
     WHERE least(:burst, rate_limits.tokens
                 + :rate * extract(epoch FROM clock_timestamp() - rate_limits.updated_at)) >= 1
    RETURNING tokens
    """
)
# The tokens now: the row holds them as of the last request taken, so add the refill since then.
_TOKENS = text(
    "SELECT tokens + :rate * extract(epoch FROM clock_timestamp() - updated_at) FROM rate_limits "
    "WHERE name = :name"
)


@dataclass(frozen=True)
class Limits:
    rate_per_minute: float
    max_in_flight: int


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def presented_key(authorization: str | None, api_key: str | None) -> str | None:
    if api_key:
        return api_key.strip()
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None


async def authenticate(sessions: async_sessionmaker[AsyncSession], key: str | None) -> Client:
    if key is None:
        raise _unauthorized("This API needs an API key: send `Authorization: Bearer <key>` or `X-API-Key`.")
    async with sessions() as session:
        client = await session.scalar(
            select(Client).where(Client.key_hash == hash_key(key), Client.revoked_at.is_(None))
        )
    if client is None:
        raise _unauthorized("The API key is unknown or revoked.")
    return client


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="dancer"'})


def limits_of(client: Client | None, rate_per_minute: float, max_in_flight: int) -> Limits:
    if client is None:
        return Limits(rate_per_minute, max_in_flight)
    return Limits(client.rate_per_minute or rate_per_minute, client.max_in_flight or max_in_flight)


async def admit(session: AsyncSession, client: Client | None, limits: Limits) -> None:
    """Raises 429 when the client is over its rate or has too many generations in flight."""
    if client is None:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": str(client.id)})
    in_flight = await session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(Generation.client_id == client.id, Generation.status.not_in(TERMINAL))
    )
    if (in_flight or 0) >= limits.max_in_flight:
        raise ApiError(
            429,
            "TooManyInFlight",
            f"You have {in_flight} generations in flight; the limit is {limits.max_in_flight}. "
            "Wait for one to finish (or cancel one).",
            headers={"Retry-After": "5"},
        )
    name, rate = f"client-{client.id}", limits.rate_per_minute / 60
    params = {"name": name, "rate": rate, "burst": max(1.0, limits.rate_per_minute)}
    if await session.scalar(_TAKE, params) is None:
        tokens = float(await session.scalar(_TOKENS, {"name": name, "rate": rate}) or 0.0)
        retry_after = max(1, math.ceil((1 - tokens) / rate))
        raise ApiError(
            429,
            "RateLimited",
            f"At most {limits.rate_per_minute:g} generations a minute; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )

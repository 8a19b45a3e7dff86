"""GET /api/usage: what the caller's videos cost at each provider, in seconds of video billed."""

from __future__ import annotations

from common.db.models import Generation
from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import func, select

from gateway.deps import ClientDep, SessionsDep
from gateway.openapi import problems
from gateway.schemas import Schema

router = APIRouter(prefix="/api")


class ProviderUsage(Schema):
    provider: str
    videos: int = Field(description="Videos the provider made for the caller (billed ones).")
    billed_seconds: float = Field(
        description="Seconds of video the provider bills for them (DashScope: per output second; "
        "cutout.pro: each template's clip length)."
    )


@router.get(
    "/usage",
    response_model=list[ProviderUsage],
    operation_id="getUsage",
    summary="What the caller's videos cost, per provider",
    responses=problems("Unauthorized"),
)
async def get_usage(sessions: SessionsDep, client: ClientDep) -> list[ProviderUsage]:
    """In `keys` mode the calling client's generations; in `open` mode every generation without a client."""
    owner = Generation.client_id == client.id if client is not None else Generation.client_id.is_(None)
    query = (
        select(Generation.provider, func.count(), func.sum(Generation.billed_seconds))
        .where(owner, Generation.billed_seconds.is_not(None))
        .group_by(Generation.provider)
        .order_by(Generation.provider)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        ProviderUsage(provider=p, videos=int(n), billed_seconds=round(float(s or 0), 3)) for p, n, s in rows
    ]

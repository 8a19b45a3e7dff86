"""GET /api/generations/{id}/deliveries: the webhooks sent (or still to send) for a generation, with every
attempt and what the receiver answered. Visible to whoever may see the generation itself."""

from __future__ import annotations

import uuid
from typing import Literal

from common.db.models import WebhookAttempt, WebhookDelivery
from fastapi import APIRouter
from sqlalchemy import select

from gateway.api import visible_generation
from gateway.deps import ClientDep, SessionsDep
from gateway.openapi import problems
from gateway.schemas import WebhookAttemptPublic, WebhookDeliveryPublic

router = APIRouter(prefix="/api")


@router.get(
    "/generations/{generation_id}/deliveries",
    response_model=list[WebhookDeliveryPublic],
    operation_id="listGenerationDeliveries",
    summary="The generation's webhook deliveries and their attempts",
    responses=problems("GenerationNotFound", "Unauthorized"),
)
async def list_deliveries(
    generation_id: uuid.UUID, sessions: SessionsDep, client: ClientDep
) -> list[WebhookDeliveryPublic]:
    """Oldest first; empty when the generation has no callback URL or has not ended yet."""
    await visible_generation(sessions, generation_id, client)
    async with sessions() as session:
        deliveries = list(
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.generation_id == generation_id)
                .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            )
        )
        attempts: dict[int, list[WebhookAttemptPublic]] = {d.id: [] for d in deliveries}
        if deliveries:
            rows = await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(attempts))
                .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
            )
            for a in rows:
                attempts[a.delivery_id].append(
                    WebhookAttemptPublic(
                        at=a.attempted_at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
                    )
                )
    return [_public(d, attempts[d.id]) for d in deliveries]


def _status(d: WebhookDelivery) -> Literal["pending", "delivered", "failed"]:
    if d.delivered_at is not None:
        return "delivered"
    return "failed" if d.gave_up_at is not None else "pending"


def _public(d: WebhookDelivery, attempts: list[WebhookAttemptPublic]) -> WebhookDeliveryPublic:
    status = _status(d)
    return WebhookDeliveryPublic(
        webhook_id=d.webhook_id,
        event_type=d.event_type,
        url=d.url,
        status=status,
        attempt_count=d.attempts,
        next_attempt_at=d.next_attempt_at if status == "pending" else None,
        delivered_at=d.delivered_at,
        gave_up_at=d.gave_up_at,
        created_at=d.created_at,
        attempts=attempts,
    )

"""Cancel a generation: it ends CANCELED at once, and no stage or late provider result changes that.

If a provider job exists, the poller asks the provider to cancel it (which works while it is PENDING).
"""

from __future__ import annotations

import uuid

from common import outbox
from common.db.generations import now
from common.db.models import TERMINAL, Generation, Status
from common.faults import AFTER_END, crash_point
from common.public_events import terminal_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accept import SOURCE
from gateway.errors import ApiError

MESSAGE = "Canceled at the client's request."


async def cancel_generation(
    sessions: async_sessionmaker[AsyncSession], generation_id: uuid.UUID, client_id: uuid.UUID | None
) -> Generation:
    """Cancels the generation; with a `client_id`, only that client's (another's answers 404)."""
    async with sessions.begin() as session:
        generation = await session.scalar(
            select(Generation).where(Generation.id == generation_id).with_for_update()
        )
        if generation is None or (client_id is not None and generation.client_id != client_id):
            raise ApiError(404, "GenerationNotFound", f"No generation {generation_id}.")
        if generation.status is Status.CANCELED:
            return generation  # canceling twice is fine
        if generation.status in TERMINAL:
            raise ApiError(
                409, "AlreadyFinished", f"The generation already ended as {generation.status.value}."
            )
        generation.status = Status.CANCELED
        generation.stage = "gateway"
        generation.error_code = "Canceled"
        generation.error_message = MESSAGE
        generation.finished_at = generation.updated_at = now()
        generation.next_poll_at = None
        generation.provider_cancel_due = generation.task_id is not None
        outbox.add(session, terminal_event(generation), SOURCE)
    crash_point(AFTER_END)
    return generation

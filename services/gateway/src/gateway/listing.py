"""A client's generations, newest first, a page at a time.

Keyset pagination: the cursor is the id of the last generation of the page before, and the next page
starts strictly after it in (created_at, id) order, so pages stay stable while new generations arrive.
A cursor that names no generation of the caller's gives an empty page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from common.db.models import Generation, Status
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def page_of(
    sessions: async_sessionmaker[AsyncSession],
    *,
    client_id: uuid.UUID | None,
    statuses: Sequence[Status] | None,
    template_id: str | None,
    limit: int,
    after: uuid.UUID | None,
) -> tuple[list[Generation], uuid.UUID | None]:
    query = select(Generation).order_by(Generation.created_at.desc(), Generation.id.desc()).limit(limit + 1)
    if client_id is not None:
        query = query.where(Generation.client_id == client_id)
    if statuses:
        query = query.where(Generation.status.in_(statuses))
    if template_id:
        query = query.where(Generation.template_id == template_id)
    if after is not None:
        last = select(Generation.created_at, Generation.id).where(Generation.id == after)
        if client_id is not None:
            last = last.where(Generation.client_id == client_id)
        query = query.where(tuple_(Generation.created_at, Generation.id) < last.scalar_subquery())
    async with sessions() as session:
        rows = list(await session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].id

"""The active templates, kept in memory for a few seconds.

Every POST needs its template's provider (for the photo limits) before anything is stored; templates
change rarely, so one query every `ttl_seconds` serves them all. A template added or retired shows
within that time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from common.db.models import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import ApiError


@dataclass(frozen=True)
class TemplateRef:
    id: str
    provider: str


class Catalogue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float = 5.0) -> None:
        self._sessions, self._ttl = sessions, ttl_seconds
        self._templates: dict[str, TemplateRef] = {}
        self._loaded_at = float("-inf")

    async def find(self, template_id: str) -> TemplateRef:
        if time.monotonic() - self._loaded_at > self._ttl:
            async with self._sessions() as session:
                rows = await session.execute(select(Template.id, Template.provider).where(Template.active))
                self._templates = {row.id: TemplateRef(row.id, row.provider) for row in rows}
            self._loaded_at = time.monotonic()
        template = self._templates.get(template_id)
        if template is None:
            raise ApiError(
                400,
                "UnknownTemplate",
                f"Template {template_id!r} does not exist; see GET /api/generation/templates.",
                field="templateId",
            )
        return template

"""In-memory stand-ins for the ports, for unit tests only (integration tests use the real things)."""

from __future__ import annotations

import uuid
from typing import Any

from common.db.models import TERMINAL, Asset, Generation, Status
from common.events import Event
from common.public_events import terminal_event


class FakeGenerationStore:
    def __init__(self, *generations: Generation, assets: tuple[Asset, ...] = ()) -> None:
        self.generations = {g.id: g for g in generations}
        self.assets = {a.id: a for a in assets}
        self.outbox: list[Event] = []  # events stored with the facts they announce

    async def load(self, generation_id: uuid.UUID) -> Generation | None:
        return self.generations.get(generation_id)

    async def load_asset(self, asset_id: uuid.UUID) -> Asset | None:
        return self.assets.get(asset_id)

    async def record(self, generation_id: uuid.UUID, *, status: Status | None = None, **facts: Any) -> bool:
        generation = self.generations.get(generation_id)
        if generation is None or generation.status in TERMINAL:
            return False
        if status is not None:
            facts["status"] = status
        for name, value in facts.items():
            setattr(generation, name, value)
        return True

    async def end(
        self,
        generation_id: uuid.UUID,
        status: Status,
        stage: str,
        *,
        retryable: bool = False,
        links: dict[str, str] | None = None,
        **facts: Any,
    ) -> bool:
        if not await self.record(generation_id, status=status, stage=stage, **facts):
            return False
        generation = self.generations[generation_id]
        self.outbox.append(terminal_event(generation, retryable=retryable, **(links or {})))
        return True


def generation(status: Status = Status.QUEUED, **facts: Any) -> Generation:
    defaults: dict[str, Any] = {
        "id": uuid.uuid4(),
        "stage": "gateway",
        "template_id": "AACT.test.1",
        "provider": "dashscope",
        "retries": 0,
    }
    return Generation(**(defaults | facts), status=status)


def asset(data: bytes = b"photo-bytes") -> Asset:
    return Asset(
        id=uuid.uuid4(),
        file_name="me.png",
        content_type="image/png",
        width=600,
        height=1000,
        size_bytes=len(data),
        sha256="0" * 64,
        data=data,
    )

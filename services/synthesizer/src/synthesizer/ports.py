import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from common.providers.ports import Job


@dataclass(frozen=True)
class OpenIntent:
    """A submission whose outcome is unknown: a job may or may not exist for it."""

    generation_id: uuid.UUID
    at: datetime


class Submissions(Protocol):
    def exclusive(self) -> AbstractAsyncContextManager[None]:
        """Held while submitting: one submission at a time per provider account, across all replicas."""
        ...

    async def known_task_ids(self, task_ids: list[str]) -> set[str]:
        """Which of these provider tasks already belong to a generation."""
        ...

    async def attach_task(self, generation_id: object, job: Job) -> bool:
        """Record the job on the generation, even a canceled one (whose job must then be canceled).

        Returns whether the generation is still going.
        """
        ...

    async def open_intent(self) -> OpenIntent | None:
        """The submission of this account left unsettled by a crash or an unknown outcome (at most one)."""
        ...

    async def close_intent(self, generation_id: uuid.UUID) -> None:
        """The submission is settled: the job is recorded, or none was made."""
        ...

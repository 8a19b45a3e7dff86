import uuid
from typing import Any, Protocol

from common.db.generations import GenerationStore
from common.events import VideoRendered
from common.providers.ports import JobState


class JobStatuses(Protocol):
    async def status(self, job_id: str) -> JobState: ...

    def billed_seconds(self, template_id: str, state: JobState) -> float | None: ...


class WatchedGenerations(GenerationStore, Protocol):
    async def rendered(self, event: VideoRendered, **facts: Any) -> bool:
        """Record the provider's video and store `event` for the archiver, atomically.

        Nothing happens (False) when the generation had already ended, e.g. was canceled.
        """
        ...

    async def count_retry(self, generation_id: uuid.UUID) -> None:
        """A query failed and will be made again: show it in the generation's `retries`."""
        ...

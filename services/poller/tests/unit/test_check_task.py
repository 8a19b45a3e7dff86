from datetime import UTC, datetime
from typing import Any

import pytest
from common import metrics
from common.db.models import Generation, Status
from common.events import GenerationFailed, VideoRendered
from common.fakes import FakeGenerationStore, generation
from common.providers.dashscope import TaskInfo
from common.providers.dashscope_ports import DashScopeVideoJobs
from common.providers.errors import RetryableProviderError
from common.providers.ports import JobState
from poller.schedule import DueTask
from poller.watch_task import check_task


class FakeClient:
    """DashScope's task query answering `outcome` (its statuses mapped by the DashScope adapter)."""

    def __init__(self, outcome: TaskInfo | Exception) -> None:
        self.outcome = outcome

    async def get_task(self, task_id: str) -> TaskInfo:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def FakeTasks(outcome: TaskInfo | Exception) -> DashScopeVideoJobs:
    return DashScopeVideoJobs(FakeClient(outcome))  # type: ignore[arg-type]


class FakeWatched(FakeGenerationStore):
    def __init__(self, *generations: Generation) -> None:
        super().__init__(*generations)

    async def rendered(self, event: VideoRendered, **facts: Any) -> bool:
        if not await self.record(event.generation_id, **facts):
            return False
        self.outbox.append(event)
        return True

    async def count_retry(self, generation_id: Any) -> None:
        self.generations[generation_id].retries += 1


def _watched(status: Status = Status.PENDING) -> tuple[FakeWatched, DueTask]:
    g = generation(status, task_id="t-1")
    return FakeWatched(g), DueTask(g.id, "t-1")


async def test_finished_task_hands_the_video_to_the_archiver_before_any_success() -> None:
    store, due = _watched(Status.RUNNING)
    url = "https://v/t-1.mp4?Expires=1767225600&Signature=x"
    info = TaskInfo("t-1", "SUCCEEDED", "req", video_url=url, video_duration=3.0)
    await check_task(due, store, FakeTasks(info))
    [event] = store.outbox
    assert isinstance(event, VideoRendered) and event.provider_video_url == url
    g = store.generations[due.generation_id]
    assert (g.status, g.provider_video_url, g.next_poll_at) == (Status.ARCHIVING, url, None)
    assert g.provider_video_expires_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("provider_status", ["PRE-PROCESSING", "RUNNING", "POST-PROCESSING", "SOMETHING-NEW"])
async def test_task_in_progress_shows_as_running(provider_status: str) -> None:
    store, due = _watched()
    await check_task(due, store, FakeTasks(TaskInfo("t-1", provider_status, "r")))
    assert store.outbox == []
    g = store.generations[due.generation_id]
    assert (g.status, g.task_status) == (Status.RUNNING, provider_status)


async def test_failed_task_fails_with_the_providers_code() -> None:
    store, due = _watched(Status.RUNNING)
    info = TaskInfo("t-1", "FAILED", "r", code="InternalError.Timeout", message="took too long")
    await check_task(due, store, FakeTasks(info))
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.code == "InternalError.Timeout"
    assert store.generations[due.generation_id].status is Status.FAILED


async def test_task_the_provider_forgot_ends_as_expired() -> None:
    store, due = _watched(Status.RUNNING)
    await check_task(due, store, FakeTasks(TaskInfo("t-1", "UNKNOWN", "r")))
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.status == "EXPIRED"
    assert store.generations[due.generation_id].status is Status.EXPIRED


async def test_throttled_query_leaves_the_task_to_the_next_round() -> None:
    store, due = _watched(Status.RUNNING)
    await check_task(due, store, FakeTasks(RetryableProviderError("Throttling", "slow", status=429)))
    g = store.generations[due.generation_id]
    assert store.outbox == [] and g.status is Status.RUNNING and g.retries == 1


async def test_late_result_never_overwrites_a_canceled_generation() -> None:
    store, due = _watched(Status.CANCELED)
    info = TaskInfo("t-1", "SUCCEEDED", "req", video_url="https://v/t-1.mp4")
    await check_task(due, store, FakeTasks(info))
    assert store.outbox == [] and store.generations[due.generation_id].provider_video_url is None


class FinishedJobs:
    """A provider whose job ended with an MP4 and a GIF, billed per template."""

    async def status(self, job_id: str) -> JobState:
        return JobState(job_id, "SUCCEEDED", "1", video_url="https://p/v.mp4", gif_url="https://p/v.gif")

    def billed_seconds(self, template_id: str, state: JobState) -> float | None:
        return {"cutout-1": 7.13}.get(template_id)


async def test_a_finished_job_hands_on_its_gif_and_records_what_it_costs() -> None:
    g = generation(Status.RUNNING, task_id="t-1", provider="cutout", template_id="cutout-1")
    store = FakeWatched(g)
    spend = metrics.PROVIDER_BILLED_SECONDS.labels("cutout")
    before = spend._value.get()
    await check_task(DueTask(g.id, "t-1", "cutout", "cutout-1"), store, FinishedJobs())
    [event] = store.outbox
    assert isinstance(event, VideoRendered) and event.provider_gif_url == "https://p/v.gif"
    assert (g.status, g.billed_seconds, g.provider_gif_url) == (Status.ARCHIVING, 7.13, "https://p/v.gif")
    assert spend._value.get() == pytest.approx(before + 7.13)

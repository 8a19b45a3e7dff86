from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

import pytest
from common import metrics
from common.db.generations import now
from common.db.models import TERMINAL, Status
from common.events import GenerationFailed, ImageAccepted, SynthesisSubmitted
from common.fakes import FakeGenerationStore, generation
from common.providers.errors import PermanentProviderError, ProviderUnreachable, RetryableProviderError
from common.providers.ports import Job, JobRequest, JobState
from synthesizer.ports import OpenIntent
from synthesizer.submit_synthesis import submit_synthesis


def listed(job_id: str, status: str, n: int) -> Job:
    return Job(job_id, status, created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n))  # type: ignore[arg-type]


class FakeSynthesis:
    """A provider account: jobs it has, whoever submitted them (`listable`: it can list them)."""

    def __init__(self, error: Exception | None = None, listable: bool = True) -> None:
        self.submits: list[tuple[str, str]] = []
        self.jobs: list[Job] = []
        self.error = error
        self.listable = listable

    async def submit(self, request: JobRequest) -> Job:
        if self.error:
            raise self.error
        self.submits.append((request.photo_url, request.template_id))
        job = listed(f"task-{len(self.jobs) + 1}", "PENDING", len(self.jobs))
        self.jobs.append(job)
        return job

    async def status(self, job_id: str) -> JobState:
        raise NotImplementedError

    async def cancel(self, job_id: str) -> None:
        raise NotImplementedError

    async def jobs_since(self, since: datetime, until: datetime) -> list[Job] | None:
        return list(self.jobs) if self.listable else None


class FakeSubmissions:
    def __init__(self, store: FakeGenerationStore) -> None:
        self.store = store

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        yield

    async def known_task_ids(self, task_ids: list[str]) -> set[str]:
        return {g.task_id for g in self.store.generations.values() if g.task_id in task_ids}

    async def attach_task(self, generation_id: object, job: Job) -> bool:
        g = self.store.generations[generation_id]  # type: ignore[index]
        g.task_id, g.task_status = job.id, job.status
        g.provider_cancel_due = g.status in TERMINAL
        if g.status in TERMINAL:
            return False
        g.status = Status.PENDING
        return True

    async def open_intent(self) -> OpenIntent | None:
        open_ = [g for g in self.store.generations.values() if g.submit_intent_at and not g.task_id]
        if not open_:
            return None
        g = min(open_, key=lambda g: g.submit_intent_at)  # type: ignore[arg-type,return-value]
        return OpenIntent(g.id, g.submit_intent_at)  # type: ignore[arg-type]

    async def close_intent(self, generation_id: object) -> None:
        self.store.generations[generation_id].submit_intent_at = None  # type: ignore[index]


def _accepted(g_id: object) -> ImageAccepted:
    return ImageAccepted(
        generation_id=g_id,  # type: ignore[arg-type]
        template_id="AACT.test.1",
        job_image_url="oss://s",
        bodystyle="full",
    )


async def _submit(store: FakeGenerationStore, provider: FakeSynthesis, g_id: object) -> object:
    submissions = FakeSubmissions(store)
    return await submit_synthesis(_accepted(g_id), store, lambda _: submissions, {"dashscope": provider})


async def test_accepted_photo_is_submitted_and_the_task_recorded() -> None:
    g = generation(Status.SUBMITTING, check_pass=True)
    provider = FakeSynthesis()
    event = await _submit(FakeGenerationStore(g), provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-1"
    assert provider.submits == [("oss://s", "AACT.test.1")]
    assert (g.status, g.task_id, g.task_status) == (Status.PENDING, "task-1", "PENDING")
    assert g.submit_intent_at is not None


async def test_redelivered_event_does_not_resubmit_task() -> None:
    g = generation(Status.RUNNING, task_id="task-7")
    provider = FakeSynthesis()
    event = await _submit(FakeGenerationStore(g), provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-7"
    assert provider.submits == [] and g.status is Status.RUNNING


async def test_crash_between_submit_and_record_adopts_the_job_instead_of_paying_twice() -> None:
    other = generation(Status.RUNNING, task_id="task-1")  # an older job that is someone else's
    g = generation(Status.SUBMITTING, submit_intent_at=now() - timedelta(seconds=5))
    provider = FakeSynthesis()
    provider.jobs = [
        listed("task-1", "RUNNING", 1),
        listed("task-2", "PENDING", 2),
    ]  # submitted, then the crash
    event = await _submit(FakeGenerationStore(other, g), provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-2"
    assert provider.submits == [] and g.task_id == "task-2"


async def test_a_crashed_submission_gets_its_own_job_not_the_next_generations() -> None:
    crashed = generation(Status.SUBMITTING, submit_intent_at=now() - timedelta(seconds=5))
    g = generation(Status.SUBMITTING)
    provider = FakeSynthesis()
    provider.jobs = [listed("task-1", "PENDING", 1)]  # made, then the crash
    store = FakeGenerationStore(crashed, g)
    event = await _submit(store, provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-2"
    assert (crashed.task_id, crashed.status, crashed.submit_intent_at) == ("task-1", Status.PENDING, None)
    assert len(provider.submits) == 1
    # the crashed generation's redelivered event now finds its job
    again = await _submit(store, provider, crashed.id)
    assert isinstance(again, SynthesisSubmitted) and again.task_id == "task-1"
    assert len(provider.submits) == 1


async def test_a_throttled_submit_leaves_no_open_intent_to_steal_a_job() -> None:
    g = generation(Status.SUBMITTING)
    throttled = RetryableProviderError("Throttling.RateQuota", "slow down", status=429)
    store = FakeGenerationStore(g)
    with pytest.raises(RetryableProviderError):  # the stage retries it later
        await _submit(store, FakeSynthesis(throttled), g.id)
    assert g.submit_intent_at is None and g.task_id is None


async def test_a_submit_with_an_unknown_outcome_that_made_no_job_is_submitted_again() -> None:
    g = generation(Status.SUBMITTING)
    store = FakeGenerationStore(g)
    timeout = RetryableProviderError("RequestTimeOut", "no answer", status=None)
    with suppress(RetryableProviderError):
        await _submit(store, FakeSynthesis(timeout), g.id)
    assert g.submit_intent_at is not None  # unknown: the job may exist
    provider = FakeSynthesis()
    event = await _submit(store, provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and len(provider.submits) == 1


async def test_intent_without_a_job_at_the_provider_is_submitted() -> None:
    g = generation(Status.SUBMITTING, submit_intent_at=now() - timedelta(seconds=5))
    provider = FakeSynthesis()
    event = await _submit(FakeGenerationStore(g), provider, g.id)
    assert isinstance(event, SynthesisSubmitted) and len(provider.submits) == 1


async def test_a_generation_canceled_during_the_submit_gets_its_job_canceled() -> None:
    g = generation(Status.SUBMITTING)
    store = FakeGenerationStore(g)

    class CancelingProvider(FakeSynthesis):
        async def submit(self, request: JobRequest) -> Job:
            job = await super().submit(request)
            g.status = Status.CANCELED  # the client cancels while the submit is in flight
            return job

    assert await _submit(store, CancelingProvider(), g.id) is None
    assert (g.status, g.task_id, g.provider_cancel_due) == (Status.CANCELED, "task-1", True)


async def test_a_template_the_provider_refuses_fails_the_generation() -> None:
    g = generation()
    error = PermanentProviderError(
        "InvalidFile.Template.Content", "no permission on the template", status=400
    )
    store = FakeGenerationStore(g)
    assert await _submit(store, FakeSynthesis(error), g.id) is None
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.code == "InvalidFile.Template.Content"
    assert g.status is Status.FAILED and g.task_id is None


async def test_without_a_job_list_an_unsettled_submission_is_written_off_and_counted() -> None:
    """cutout.pro cannot list its jobs: the crashed submission's generation submits anew (never taking
    another generation's job), and the job it may have made is counted as a possible double spend."""
    crashed = generation(Status.SUBMITTING, submit_intent_at=now() - timedelta(seconds=5))
    g = generation(Status.SUBMITTING)
    provider = FakeSynthesis(listable=False)
    provider.jobs = [listed("task-1", "PENDING", 1)]  # made, then the crash: nobody can know
    store = FakeGenerationStore(crashed, g)
    counted = metrics.POSSIBLE_DOUBLE_SPEND.labels("dashscope")
    before = counted._value.get()

    event = await _submit(store, provider, g.id)

    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-2"
    assert crashed.task_id is None and crashed.submit_intent_at is None  # written off, not adopted
    assert counted._value.get() == before + 1
    again = await _submit(store, provider, crashed.id)  # its redelivered event submits anew
    assert isinstance(again, SynthesisSubmitted) and again.task_id == "task-3"
    assert counted._value.get() == before + 1


async def test_a_submit_that_never_reached_the_provider_leaves_no_open_intent() -> None:
    g = generation(Status.SUBMITTING)
    store = FakeGenerationStore(g)
    with pytest.raises(RetryableProviderError):  # the stage retries it later
        await _submit(store, FakeSynthesis(ProviderUnreachable("ConnectionError", "refused")), g.id)
    assert g.submit_intent_at is None and g.task_id is None  # nothing to write off, nothing counted

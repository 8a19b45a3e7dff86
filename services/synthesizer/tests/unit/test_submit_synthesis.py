from common.db.models import Status
from common.events import GenerationFailed, ImageAccepted, SynthesisSubmitted
from common.fakes import FakeGenerationStore, generation
from common.providers.dashscope import SubmittedTask
from common.providers.errors import PermanentProviderError
from synthesizer.submit_synthesis import submit_synthesis


class FakeSynthesis:
    def __init__(self, error: Exception | None = None) -> None:
        self.submits: list[tuple[str, str]] = []
        self.error = error

    async def submit_synthesis(
        self, image_url: str, template_id: str, *, use_ref_img_bg: bool = False, video_ratio: str = "9:16"
    ) -> SubmittedTask:
        if self.error:
            raise self.error
        self.submits.append((image_url, template_id))
        return SubmittedTask(f"task-{len(self.submits)}", "PENDING", "req")


def _accepted(g_id: object) -> ImageAccepted:
    return ImageAccepted(
        generation_id=g_id,
        template_id="AACT.test.1",  # type: ignore[arg-type]
        synthesis_image_url="oss://s",
        bodystyle="full",
    )


async def test_accepted_photo_is_submitted_and_the_task_recorded() -> None:
    g = generation(Status.SUBMITTING, check_pass=True)
    provider = FakeSynthesis()
    event = await submit_synthesis(_accepted(g.id), FakeGenerationStore(g), provider)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-1"
    assert provider.submits == [("oss://s", "AACT.test.1")]
    assert (g.status, g.task_id, g.task_status) == (Status.PENDING, "task-1", "PENDING")


async def test_redelivered_event_does_not_resubmit_task() -> None:
    g = generation(Status.RUNNING, task_id="task-7")
    provider = FakeSynthesis()
    event = await submit_synthesis(_accepted(g.id), FakeGenerationStore(g), provider)
    assert isinstance(event, SynthesisSubmitted) and event.task_id == "task-7"
    assert provider.submits == [] and g.status is Status.RUNNING


async def test_a_template_the_provider_refuses_fails_the_generation() -> None:
    g = generation()
    error = PermanentProviderError(
        "InvalidFile.Template.Content", "no permission on the template", status=400
    )
    event = await submit_synthesis(_accepted(g.id), FakeGenerationStore(g), FakeSynthesis(error))
    assert isinstance(event, GenerationFailed) and event.code == "InvalidFile.Template.Content"
    assert g.status is Status.FAILED and g.task_id is None

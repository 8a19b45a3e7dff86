from common.db.models import Status
from common.events import GenerationFailed, ImageAccepted, ImageUploaded
from common.fakes import FakeGenerationStore, generation
from common.providers.errors import PermanentProviderError
from common.providers.ports import PhotoVerdict
from detector.detect_person import detect_person


class FakeDetector:
    def __init__(self, outcome: PhotoVerdict | Exception) -> None:
        self.outcome = outcome
        self.calls: list[str] = []

    async def check(self, photo_url: str) -> PhotoVerdict:
        self.calls.append(photo_url)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    @property
    def dashscope(self) -> dict[str, "FakeDetector"]:
        return {"dashscope": self}


def _uploaded(g_id: object) -> ImageUploaded:
    return ImageUploaded(
        generation_id=g_id,
        template_id="AACT.test.1",  # type: ignore[arg-type]
        check_image_url="oss://d",
        job_image_url="oss://s",
    )


async def test_accepted_photo_moves_on_with_its_bodystyle() -> None:
    g = generation(Status.DETECTING)
    detector = FakeDetector(PhotoVerdict(True, "success", "req-1", bodystyle="full"))
    event = await detect_person(_uploaded(g.id), FakeGenerationStore(g), detector.dashscope)
    assert isinstance(event, ImageAccepted) and event.bodystyle == "full"
    assert event.job_image_url == "oss://s" and detector.calls == ["oss://d"]
    assert (g.check_pass, g.bodystyle, g.detect_request_id) == (True, "full", "req-1")


async def test_rejected_photo_fails_with_the_providers_reason() -> None:
    g = generation()
    detector = FakeDetector(PhotoVerdict(False, "no human detect", "req-2"))
    store = FakeGenerationStore(g)
    assert await detect_person(_uploaded(g.id), store, detector.dashscope) is None
    [event] = store.outbox  # announced with the failure, in one transaction
    assert isinstance(event, GenerationFailed) and event.message == "no human detect"
    assert event.stage == "detector" and not event.retryable
    assert (g.status, g.check_pass, g.error_message) == (Status.FAILED, False, "no human detect")


async def test_photo_refused_with_http_400_fails_the_same_way() -> None:
    g = generation()
    error = PermanentProviderError("InvalidFile.Resolution", "The image resolution is invalid", status=400)
    store = FakeGenerationStore(g)
    assert await detect_person(_uploaded(g.id), store, FakeDetector(error).dashscope) is None
    [event] = store.outbox
    assert isinstance(event, GenerationFailed) and event.code == "InvalidFile.Resolution"
    assert (g.status, g.check_pass, g.error_code) == (Status.FAILED, False, "InvalidFile.Resolution")


async def test_redelivered_event_does_not_detect_again() -> None:
    g = generation(Status.SUBMITTING, check_pass=True, bodystyle="half")
    detector = FakeDetector(PhotoVerdict(True, "", None, bodystyle="full"))
    event = await detect_person(_uploaded(g.id), FakeGenerationStore(g), detector.dashscope)
    assert isinstance(event, ImageAccepted) and event.bodystyle == "half"
    assert detector.calls == [] and g.status is Status.SUBMITTING


async def test_the_photo_is_checked_by_the_generations_own_provider() -> None:
    g = generation(Status.DETECTING, provider="cutout")
    dashscope = FakeDetector(PhotoVerdict(False, "no person", None))
    cutout = FakeDetector(PhotoVerdict(True, ""))
    event = await detect_person(
        _uploaded(g.id), FakeGenerationStore(g), {"dashscope": dashscope, "cutout": cutout}
    )
    assert isinstance(event, ImageAccepted) and event.bodystyle == ""
    assert cutout.calls == ["oss://d"] and dashscope.calls == [] and g.check_pass is True

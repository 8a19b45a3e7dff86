"""synthesizer: on ImageAccepted, submit the video job, announce SynthesisSubmitted."""

from common import topics
from common.db.generations import SqlGenerationStore
from common.events import Event, ImageAccepted
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from synthesizer.store import SqlSubmissions
from synthesizer.submit_synthesis import submit_synthesis


async def on_image_accepted(ctx: StageContext, event: ImageAccepted) -> Event | None:
    store = SqlGenerationStore(ctx.sessions)
    return await submit_synthesis(
        event, store, lambda provider: SqlSubmissions(ctx.sessions, provider), ctx.providers.jobs
    )


def create_app() -> FastStream:
    return stage_app("synthesizer", topics.IMAGE_ACCEPTED, ImageAccepted, on_image_accepted)


def main() -> None:
    run(create_app())

"""detector: on ImageUploaded, check the photo with the provider, announce ImageAccepted or failure."""

from common import topics
from common.db.generations import SqlGenerationStore
from common.events import Event, ImageUploaded
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from detector.detect_person import detect_person


async def on_image_uploaded(ctx: StageContext, event: ImageUploaded) -> Event | None:
    return await detect_person(event, SqlGenerationStore(ctx.sessions), ctx.providers.checks)


def create_app() -> FastStream:
    return stage_app("detector", topics.IMAGE_UPLOADED, ImageUploaded, on_image_uploaded)


def main() -> None:
    run(create_app())

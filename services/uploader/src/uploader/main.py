"""uploader: on GenerationRequested, make the photo readable by the provider, announce ImageUploaded."""

from common import topics
from common.db.generations import SqlGenerationStore
from common.events import Event, GenerationRequested
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from uploader.upload_photo import upload_photo


async def on_generation_requested(ctx: StageContext, event: GenerationRequested) -> Event | None:
    return await upload_photo(event, SqlGenerationStore(ctx.sessions), ctx.providers.storages, ctx.media)


def create_app() -> FastStream:
    return stage_app("uploader", topics.GENERATION_REQUESTED, GenerationRequested, on_generation_requested)


def main() -> None:
    run(create_app())

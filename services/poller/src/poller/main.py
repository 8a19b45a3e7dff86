"""poller: on SynthesisSubmitted, start watching the task; on a timer, poll due tasks until they end."""

from __future__ import annotations

import asyncio
import logging

from common import metrics, topics, tracing
from common.events import Event, SynthesisSubmitted
from common.logging import log_context
from common.providers.errors import RetryableProviderError
from common.stage import StageContext, run, stage_app
from faststream import FastStream

from poller.schedule import DueTask, PollSchedule, SqlWatchedGenerations
from poller.watch_task import check_task

log = logging.getLogger(__name__)


def _schedule(ctx: StageContext) -> PollSchedule:
    return PollSchedule(ctx.sessions, ctx.settings.poll_interval_seconds, ctx.providers.poll_rates)


async def on_synthesis_submitted(ctx: StageContext, event: SynthesisSubmitted) -> Event | None:
    await _schedule(ctx).start_watching(event.generation_id, event.task_id)
    return None


async def poll_round(ctx: StageContext, schedule: PollSchedule) -> int:
    """One round: time out overdue jobs, cancel what clients canceled, query due tasks. Returns work done."""
    store = SqlWatchedGenerations(ctx.sessions)
    work = await schedule.time_out_overdue(ctx.settings.poll_deadline_seconds)
    for cancel in await schedule.claim_cancels(ctx.settings.poll_batch_size):
        span = tracing.resumed(cancel.trace_context, "cancel task", cancel.generation_id)
        with span, log_context(generation_id=cancel.generation_id, stage="poller", task_id=cancel.task_id):
            try:
                await ctx.providers.jobs[cancel.provider].cancel(cancel.task_id)
            except RetryableProviderError:
                await schedule.cancel_failed(cancel.generation_id)
            except Exception as exc:  # e.g. UnsupportedOperation: already running; its result will be ignored
                log.info("could not cancel %s at the provider: %r", cancel.task_id, exc)
        work += 1
    due = await schedule.claim_due(ctx.settings.poll_batch_size)

    async def check(task: DueTask) -> None:
        span = tracing.resumed(task.trace_context, "poll task", task.generation_id)
        with span, log_context(generation_id=task.generation_id, stage="poller", task_id=task.task_id):
            await check_task(task, store, ctx.providers.jobs[task.provider])

    await asyncio.gather(*(check(d) for d in due))
    if work or due:
        ctx.relay.wake()
    return work + len(due)


async def poll_forever(ctx: StageContext) -> None:
    schedule = _schedule(ctx)
    tick = min(0.5, ctx.settings.poll_interval_seconds)
    while True:
        work = 0
        try:
            work = await poll_round(ctx, schedule)
        except Exception:  # keep polling through a database or provider hiccup
            log.exception("poll round failed")
        if not work:
            await asyncio.sleep(tick)


async def sample_schedule(ctx: StageContext) -> None:
    size, lag = await _schedule(ctx).size_and_lag()
    metrics.POLL_SCHEDULE_SIZE.set(size)
    metrics.POLL_LAG_SECONDS.set(lag)


def create_app() -> FastStream:
    return stage_app(
        "poller",
        topics.SYNTHESIS_SUBMITTED,
        SynthesisSubmitted,
        on_synthesis_submitted,
        background=poll_forever,
        samplers=[sample_schedule],
    )


def main() -> None:
    run(create_app())

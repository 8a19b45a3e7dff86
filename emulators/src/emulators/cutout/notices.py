"""cutout.pro's completion notice: when a job ends, `{"eventName": "EVENT_FACE_DRIVEN_TASK_FINISHED",
"eventData": {...}}` is POSTed as JSON (unsigned, as documented) to the account's URL.

Each notice is sent by its own asyncio task, off the job's clock: up to `attempts` tries of at most
`timeout` seconds each, 0.5 s, 1 s, 2 s... apart, until one is answered 2xx. Counted in the counters'
`callbacks` (`delivered`, `retried`, `failed`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal

import httpx

from emulators.counters import Counters

log = logging.getLogger(__name__)
EVENT = "EVENT_FACE_DRIVEN_TASK_FINISHED"
Outcome = Literal["delivered", "failed"]


class Notices:
    def __init__(self, counters: Counters, attempts: int, timeout: float) -> None:
        self._counters, self._attempts, self._timeout = counters, attempts, timeout
        self._sending: set[asyncio.Task[None]] = set()

    def send(self, url: str, event_data: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        """POST the notice in the background; `done` gets the outcome."""
        notice = {"eventName": EVENT, "eventData": event_data}
        sending = asyncio.create_task(self._deliver(url, notice, done), name=f"notice-{event_data['taskId']}")
        self._sending.add(sending)
        sending.add_done_callback(self._sending.discard)

    async def close(self) -> None:
        """Stop sending (a notice not yet delivered is sent again after a restart)."""
        sending = list(self._sending)
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)

    async def _deliver(self, url: str, notice: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            for attempt in range(self._attempts):
                if attempt:
                    self._counters.record_callback("retried")
                    await asyncio.sleep(0.5 * 2 ** (attempt - 1))
                try:
                    answer = await http.post(url, json=notice)
                except httpx.HTTPError as exc:
                    log.info("cutout.pro notice to %s failed: %r", url, exc)
                    continue
                if answer.is_success:
                    self._counters.record_callback("delivered")
                    done("delivered")
                    return
                log.info("cutout.pro notice to %s answered HTTP %s", url, answer.status_code)
        self._counters.record_callback("failed")
        done("failed")

"""One LISTEN connection per gateway process, fanned out to every open status stream.

The database trigger announces each status change with `NOTIFY generation_events, '<id> <event id>'`.
A stream subscribes to its generation and re-reads its events (id > last sent) only when woken, so
thousands of idle streams cost no query at all. When the listening connection is lost, the hub
reconnects with backoff and then wakes every subscriber: whatever it missed meanwhile is read by id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import asyncpg

CHANNEL = "generation_events"
APPLICATION_NAME = "gateway-status-hub"  # how the connection shows in pg_stat_activity
log = logging.getLogger("gateway.status_hub")


class Subscription:
    """A wake-up flag: set when its generation may have new events, consumed by `changed()`."""

    def __init__(self) -> None:
        self._flag = asyncio.Event()

    def wake(self) -> None:
        self._flag.set()

    async def changed(self) -> None:
        """Return once something may have changed since the previous call (at once if it already did)."""
        await self._flag.wait()
        self._flag.clear()


class StatusHub:
    """Listens on one dedicated asyncpg connection; wakes the subscribers of the generation notified."""

    def __init__(
        self, database_url: str, *, backoff: tuple[float, float] = (0.2, 10.0), check_seconds: float = 30.0
    ) -> None:
        self._dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._backoff = backoff
        self._check_seconds = check_seconds
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def start(self, wait_seconds: float = 10.0) -> None:
        """Start listening; waits a while for the first LISTEN (and keeps trying in the background)."""
        self._task = asyncio.create_task(self._run(), name="status-hub")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextmanager
    def subscribe(self, generation_id: uuid.UUID) -> Iterator[Subscription]:
        """Subscribe before the first read, so that no change between read and wait goes unnoticed."""
        subscription = Subscription()
        self._subscribers.setdefault(generation_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            group = self._subscribers[generation_id]
            group.discard(subscription)
            if not group:
                del self._subscribers[generation_id]

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        try:
            generation_id = uuid.UUID(str(payload).partition(" ")[0])
        except ValueError:
            log.warning("ignoring notification %r", payload)
            return
        for subscription in self._subscribers.get(generation_id, ()):
            subscription.wake()

    def _wake_all(self) -> None:
        for subscription in [s for group in self._subscribers.values() for s in group]:
            subscription.wake()

    async def _run(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                connection = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": APPLICATION_NAME}
                )
            except Exception as exc:  # refused, starting up, timed out: all mean "later"
                log.warning("cannot listen for status changes (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            try:
                await self._listen(connection)
            except Exception as exc:
                log.warning("status listener failed: %s", exc)
            finally:
                self._listening.clear()
                with suppress(Exception):
                    await connection.close(timeout=2)
            log.warning("status listener lost its connection; reconnecting")
            await asyncio.sleep(delay)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """LISTEN, wake everyone (changes may have been missed), then return once the connection is lost."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANNEL, self._notified)
        self._listening.set()
        self._wake_all()
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self._check_seconds)
            except TimeoutError:  # a silent network loss shows no termination: ask the server
                await connection.fetchval("SELECT 1", timeout=5)

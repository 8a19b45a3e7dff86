"""Fault points for crash tests: with `DANCER_CRASH_AT=<point>` a process dies at that point at once,
as under `kill -9` (no cleanup, nothing flushed). Unset in production, where this does nothing."""

from __future__ import annotations

import os
import signal

AFTER_END = "after-end"  # a generation's end and its public event are committed; nothing published yet
AFTER_SUBMIT = "after-submit"  # the provider made the paid job; its id is recorded nowhere yet


def crash_point(point: str) -> None:
    if os.environ.get("DANCER_CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)

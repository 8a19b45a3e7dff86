"""What the emulator saw, for tests and benchmarks: calls, submissions, concurrency, duplicates."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import RequestResponseEndpoint
from starlette.routing import Route

from emulators.ids import AccountId


class Counters:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.submitted: Counter[AccountId] = Counter()
        self.running = 0
        self.max_running = 0
        self._running_by_account: Counter[AccountId] = Counter()
        self.max_running_per_account = 0
        self._seen_submissions: set[tuple[str, str]] = set()
        self.duplicate_submissions = 0

    def record_call(self, endpoint: str, status: int) -> None:
        self.calls[endpoint][str(status)] += 1

    def record_submission(self, account: AccountId, image_sha256: str, template_id: str) -> None:
        self.submitted[account] += 1
        key = (image_sha256, template_id)
        if key in self._seen_submissions:
            self.duplicate_submissions += 1
        self._seen_submissions.add(key)

    def task_started(self, account: AccountId) -> None:
        self.running += 1
        self._running_by_account[account] += 1
        self.max_running = max(self.max_running, self.running)
        self.max_running_per_account = max(self.max_running_per_account, self._running_by_account[account])

    def task_stopped(self, account: AccountId) -> None:
        self.running -= 1
        self._running_by_account[account] -= 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": {endpoint: dict(by_status) for endpoint, by_status in self.calls.items()},
            "tasks_submitted": dict(self.submitted),
            "running": self.running,
            "max_running": self.max_running,
            "max_running_per_account": self.max_running_per_account,
            "duplicate_submissions": self.duplicate_submissions,
        }


def install_call_counter(app: FastAPI, counters: Counters) -> None:
    """Count every non-admin call by route template (`GET /api/v1/tasks/{task_id}`) and status."""

    @app.middleware("http")
    async def count_calls(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        path = route.path if isinstance(route, Route) else "<unmatched>"
        if not path.startswith("/admin/"):
            counters.record_call(f"{request.method} {path}", response.status_code)
        return response

"""What the emulator saw, for tests and benchmarks: calls, submissions, concurrency, duplicates, and the
completion notices it POSTed (cutout.pro's).

Kept in the state database, so the numbers survive a restart (the running count starts again at
zero and climbs as interrupted tasks resume).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from emulators.db import Database
from emulators.ids import AccountId

_KIND, _KEY, _SEEN = "counters", "totals", "submission"


class Counters:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._seen: dict[str, int] = {}
        self._clear()
        saved = db.load(_KIND).get(_KEY)
        if saved:
            self._restore(json.loads(saved))
        self._seen = {key: int(count) for key, count in db.load(_SEEN).items()}

    def _clear(self) -> None:
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.injected: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.submitted: Counter[str] = Counter()
        self.submitted_by_model: Counter[str] = Counter()
        self.max_running = 0
        self.max_running_per_account = 0
        self.max_running_per_lane = 0
        self.duplicate_submissions = 0
        self.callbacks: Counter[str] = Counter()
        self._running: Counter[tuple[AccountId, str]] = Counter()
        self._seen = {}

    def reset(self) -> None:
        self._clear()
        self._db.clear_kind(_KIND)
        self._db.clear_kind(_SEEN)

    def record_call(self, endpoint: str, status: str) -> None:
        self.calls[endpoint][status] += 1
        self._save()

    def record_fault(self, endpoint: str, fault: str) -> None:
        self.injected[endpoint][fault] += 1
        self._save()

    def record_submission(self, account: AccountId, model: str, input_sha256: str, template_id: str) -> None:
        """Count a paid job; the same input with the same template again is a duplicate."""
        self.submitted[account] += 1
        self.submitted_by_model[model] += 1
        key = f"{model}:{input_sha256}:{template_id}"
        self._seen[key] = self._seen.get(key, 0) + 1
        if self._seen[key] > 1:
            self.duplicate_submissions += 1
        self._db.put(_SEEN, key, str(self._seen[key]))
        self._save()

    def record_callback(self, outcome: str) -> None:
        """A completion notice `delivered`, `retried` (one failed try of several) or `failed` (every try)."""
        self.callbacks[outcome] += 1
        self._save()

    def task_started(self, account: AccountId, model: str) -> None:
        self._running[(account, model)] += 1
        by_account = sum(n for (owner, _), n in self._running.items() if owner == account)
        self.max_running = max(self.max_running, self.running)
        self.max_running_per_account = max(self.max_running_per_account, by_account)
        self.max_running_per_lane = max(self.max_running_per_lane, self._running[(account, model)])
        self._save()

    def task_stopped(self, account: AccountId, model: str) -> None:
        self._running[(account, model)] -= 1

    @property
    def running(self) -> int:
        return sum(self._running.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": {endpoint: dict(by_status) for endpoint, by_status in self.calls.items()},
            "injected": {endpoint: dict(by_fault) for endpoint, by_fault in self.injected.items()},
            "tasks_submitted": dict(self.submitted),
            "tasks_submitted_by_model": dict(self.submitted_by_model),
            "running": self.running,
            "max_running": self.max_running,
            "max_running_per_account": self.max_running_per_account,
            "max_running_per_lane": self.max_running_per_lane,
            "duplicate_submissions": self.duplicate_submissions,
            "callbacks": dict(self.callbacks),
        }

    def _save(self) -> None:
        totals = self.snapshot()
        del totals["running"]
        self._db.put(_KIND, _KEY, json.dumps(totals))

    def _restore(self, saved: dict[str, Any]) -> None:
        for endpoint, by_status in saved.get("calls", {}).items():
            self.calls[endpoint].update(by_status)
        for endpoint, by_fault in saved.get("injected", {}).items():
            self.injected[endpoint].update(by_fault)
        self.submitted.update(saved.get("tasks_submitted", {}))
        self.submitted_by_model.update(saved.get("tasks_submitted_by_model", {}))
        self.callbacks.update(saved.get("callbacks", {}))
        for name in (
            "max_running",
            "max_running_per_account",
            "max_running_per_lane",
            "duplicate_submissions",
        ):
            setattr(self, name, int(saved.get(name, 0)))

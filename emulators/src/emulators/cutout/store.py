"""cutout.pro's jobs and scripted face answers, in memory for reading and written through to the state
database (the photos and results in the data dir's `cutout/`), so a restart on the same data dir carries
on."""

from __future__ import annotations

from pathlib import Path

from emulators.cutout.records import CutoutTask, FaceOutcome
from emulators.db import Database
from emulators.settings import EmulatorSettings
from emulators.tables import Table

FIRST_TASK_ID = 100001


def photos_dir(settings: EmulatorSettings) -> Path:
    """The fetched photos, one per job."""
    return settings.data_dir / "cutout" / "photos"


def results_dir(settings: EmulatorSettings) -> Path:
    """The jobs' MP4s and GIFs."""
    return settings.data_dir / "cutout" / "results"


class CutoutStore:
    def __init__(self, db: Database) -> None:
        self._tasks = Table(db, "cutout_task", CutoutTask)
        self._faces = Table(db, "cutout_face", FaceOutcome)

    def next_task_id(self) -> int:
        return max((task.task_id + 1 for task in self._tasks.rows.values()), default=FIRST_TASK_ID)

    def put(self, task: CutoutTask) -> None:
        self._tasks.put(str(task.task_id), task)

    def get(self, task_id: int) -> CutoutTask | None:
        return self._tasks.rows.get(str(task_id))

    def tasks(self) -> list[CutoutTask]:
        """Every job, oldest first."""
        return sorted(self._tasks.rows.values(), key=lambda task: task.task_id)

    def put_face(self, outcome: FaceOutcome) -> None:
        self._faces.put(outcome.sha256, outcome)

    def get_face(self, sha256: str) -> FaceOutcome | None:
        return self._faces.rows.get(sha256)

    def faces(self) -> list[FaceOutcome]:
        return list(self._faces.rows.values())

    def clear_faces(self) -> None:
        self._faces.clear()

    def reset(self) -> None:
        self._tasks.clear()
        self._faces.clear()

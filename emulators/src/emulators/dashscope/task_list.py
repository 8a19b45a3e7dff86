"""The task list: `GET /api/v1/tasks`, the caller's account's tasks, newest first, by page.

Times in the query are `YYYYMMDDhhmmss` (Beijing time) and filter on the submit time; times in
the answer are epoch milliseconds. Page sizes above 100 are served as 100.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query

from emulators.dashscope.auth import CurrentAccount
from emulators.dashscope.records import Task
from emulators.deps import EmulatorDep
from emulators.errors import invalid_parameter
from emulators.ids import new_request_id, parse_compact_time

MAX_PAGE_SIZE = 100

router = APIRouter()


@router.get("/api/v1/tasks")
async def list_tasks(
    account: CurrentAccount,
    emulator: EmulatorDep,
    start_time: str | None = None,
    end_time: str | None = None,
    model_name: str | None = None,
    status: str | None = None,
    page_no: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 10,
) -> dict[str, Any]:
    since, until = _time(start_time, "start_time"), _time(end_time, "end_time")
    page_size = min(page_size, MAX_PAGE_SIZE)
    matching = [
        task
        for task in emulator.store.tasks()
        if task.account == account
        and (model_name is None or task.model == model_name)
        and (status is None or task.status.value == status)
        and (since is None or task.submit_time >= since)
        and (until is None or task.submit_time <= until)
    ]
    matching.reverse()
    first = (page_no - 1) * page_size
    return {
        "request_id": new_request_id(),
        "total": len(matching),
        "total_page": math.ceil(len(matching) / page_size),
        "page_no": page_no,
        "page_size": page_size,
        "data": [_row(task) for task in matching[first : first + page_size]],
    }


def _time(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return parse_compact_time(text)
    except ValueError as exc:
        raise invalid_parameter(f"Parameter invalid: {name} must be YYYYMMDDhhmmss") from exc


def _ms(epoch: float | None) -> int | None:
    return None if epoch is None else int(epoch * 1000)


def _row(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "status": task.status.value,
        "model_name": task.model,
        "gmt_create": _ms(task.submit_time),
        "start_time": _ms(task.scheduled_time),
        "end_time": _ms(task.end_time),
        "region": "cn-beijing",
    }

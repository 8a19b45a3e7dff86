from typing import Protocol

from common.providers.dashscope import TaskInfo


class TaskQueries(Protocol):
    async def get_task(self, task_id: str) -> TaskInfo: ...

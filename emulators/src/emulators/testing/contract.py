"""Where the contract tests point: the emulator, or the real DashScope when a key is given.

The real provider is used only when `DASHSCOPE_API_KEY` is set and `CI` is not true: it costs
money (detection per image, synthesis per second of video) and takes minutes per task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

REAL_BASE_URL = "https://dashscope.aliyuncs.com"


@dataclass(frozen=True)
class Target:
    real: bool
    base_url: str
    api_key: str

    @property
    def task_seconds(self) -> float:
        """How long a task may take to finish."""
        return 1800.0 if self.real else 15.0

    @property
    def poll_seconds(self) -> float:
        return 15.0 if self.real else 0.05


def real_api_key() -> str | None:
    key = os.environ.get("DASHSCOPE_API_KEY", "")
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return key if key and not in_ci else None

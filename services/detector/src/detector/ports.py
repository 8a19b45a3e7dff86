from typing import Protocol

from common.providers.dashscope import Detection


class PersonDetector(Protocol):
    async def detect(self, image_url: str) -> Detection: ...

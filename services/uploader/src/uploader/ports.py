from typing import Protocol

from common.providers.dashscope import Uploaded


class ProviderStorage(Protocol):
    async def upload(self, model: str, file_name: str, data: bytes, content_type: str) -> Uploaded: ...

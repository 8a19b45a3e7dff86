from typing import Protocol

from common.providers.dashscope import Uploaded


class PhotoFiles(Protocol):
    async def get_bytes(self, key: str) -> bytes:
        """The photo's bytes; raises common.media.MediaNotFound when it is gone."""
        ...


class ProviderStorage(Protocol):
    async def upload(self, model: str, file_name: str, data: bytes, content_type: str) -> Uploaded: ...

from typing import Protocol


class PhotoFiles(Protocol):
    async def get_bytes(self, key: str) -> bytes:
        """The photo's bytes; raises common.media.MediaNotFound when it is gone."""
        ...

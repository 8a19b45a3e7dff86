from typing import Protocol

from common.providers.dashscope import SubmittedTask


class VideoSynthesis(Protocol):
    async def submit_synthesis(
        self, image_url: str, template_id: str, *, use_ref_img_bg: bool = False, video_ratio: str = "9:16"
    ) -> SubmittedTask: ...

"""Check an input photo against the detection model's limits and read its `emulator-*` marks."""

from __future__ import annotations

from emulators.errors import ProviderError, invalid_url
from emulators.pictures import ImageTooLarge, Picture, UnreadableImage, examine, opened_image

MAX_IMAGE_BYTES = 5 * 1024 * 1024
RESOLUTION_MESSAGE = (
    "The image resolution is invalid, please make sure that the largest length of image is smaller than "
    "4096, and the smallest length of image is larger than 224."
)


def inspect_photo(data: bytes) -> Picture:
    """Apply the detection model's documented limits; raise the provider's 400 on the first miss."""
    try:
        with opened_image(data) as image:
            if len(data) >= MAX_IMAGE_BYTES:
                raise ProviderError(
                    400,
                    "InvalidFile.Size",
                    "The image size is invalid, please make sure it is smaller than 5MB.",
                )
            width, height = image.size
            if max(width, height) >= 4096 or min(width, height) <= 224:
                raise ProviderError(400, "InvalidFile.Resolution", RESOLUTION_MESSAGE)
            if not 0.5 <= height / width <= 2.0:
                raise ProviderError(
                    400,
                    "InvalidFile.AspectRatio",
                    "The aspect ratio of the image is invalid, please make sure that the ratio of height to "
                    "width is between 0.5 and 2.0.",
                )
            return examine(image, data)
    except ImageTooLarge as exc:
        raise ProviderError(400, "InvalidFile.Resolution", RESOLUTION_MESSAGE) from exc
    except UnreadableImage as exc:
        raise invalid_url(str(exc)) from exc

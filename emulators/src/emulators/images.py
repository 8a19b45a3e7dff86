"""Fetch an input image (`oss://` or `http(s)://`) and check it against the provider's limits."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from dataclasses import dataclass, field

import httpx
from PIL import Image, UnidentifiedImageError

from emulators.errors import ProviderError, invalid_parameter, invalid_url
from emulators.ids import AccountId
from emulators.store import MemoryStore

MAX_IMAGE_BYTES = 5 * 1024 * 1024
OSS_FILE_TTL_SECONDS = 48 * 3600
_FORMATS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}
_MARK_KEYS = ("emulator-detect", "emulator-detect-code")
_DOWNLOAD_CAP = 4 * MAX_IMAGE_BYTES


@dataclass(frozen=True)
class Photo:
    data: bytes
    sha256: str
    width: int
    height: int
    extension: str
    # `emulator-detect` / `emulator-detect-code` found in the image's metadata text.
    marks: dict[str, str] = field(default_factory=dict)


async def fetch_image(
    url: str, *, model: str, account: AccountId, oss_resolve: bool, store: MemoryStore, limit_seconds: float
) -> bytes:
    if url.startswith("oss://"):
        return await _read_oss(url, model=model, account=account, oss_resolve=oss_resolve, store=store)
    if url.startswith(("http://", "https://")):
        return await _download(url, limit_seconds)
    raise invalid_url("only http(s):// and oss:// URLs are supported")


async def _read_oss(
    url: str, *, model: str, account: AccountId, oss_resolve: bool, store: MemoryStore
) -> bytes:
    if not oss_resolve:
        raise invalid_parameter(
            "The provided URL does not appear to be valid. Ensure it is correctly formatted."
        )
    obj = store.get_object(url.removeprefix("oss://"))
    if obj is None or obj.account != account:
        raise invalid_url("no such oss file for this account")
    if obj.model != model:
        raise invalid_url(f"the oss file was uploaded for model {obj.model}, not {model}")
    if time.time() - obj.created_at > OSS_FILE_TTL_SECONDS:
        raise invalid_url("the oss file has expired")
    return await asyncio.to_thread(obj.path.read_bytes)


async def _download(url: str, limit_seconds: float) -> bytes:
    """GET the image within the provider's download limit (10 s by default)."""
    try:
        async with (
            asyncio.timeout(limit_seconds),
            httpx.AsyncClient(timeout=limit_seconds) as client,
            client.stream("GET", url, follow_redirects=True) as response,
        ):
            if response.status_code != 200:
                raise invalid_url(f"download answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > _DOWNLOAD_CAP:
                    break
            return b"".join(chunks)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ProviderError(400, "InvalidURL.Timeout", f"Downloading the image timed out: {url}") from exc
    except httpx.ConnectError as exc:
        message = f"Connection refused while downloading the image: {url}"
        raise ProviderError(400, "InvalidURL.ConnectionRefused", message) from exc
    except httpx.HTTPError as exc:
        raise invalid_url(f"download failed: {exc.__class__.__name__}") from exc


def inspect_photo(data: bytes) -> Photo:
    """Apply the detection model's documented limits; raise the provider's 400 on the first miss."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise invalid_url("not a readable image") from exc
    with image:
        if image.format not in _FORMATS:
            raise invalid_url(f"unsupported image format {image.format}")
        if len(data) >= MAX_IMAGE_BYTES:
            raise ProviderError(
                400, "InvalidFile.Size", "The image size is invalid, please make sure it is smaller than 5MB."
            )
        width, height = image.size
        if max(width, height) >= 4096 or min(width, height) <= 224:
            raise ProviderError(
                400,
                "InvalidFile.Resolution",
                "The image resolution is invalid, please make sure that the largest length of image is "
                "smaller than 4096, and the smallest length of image is larger than 224.",
            )
        if not 0.5 <= height / width <= 2.0:
            raise ProviderError(
                400,
                "InvalidFile.AspectRatio",
                "The aspect ratio of the image is invalid, please make sure that the ratio of height to "
                "width is between 0.5 and 2.0.",
            )
        try:
            image.load()
        except (OSError, SyntaxError) as exc:
            raise invalid_url("the image data is truncated or corrupt") from exc
        marks = _marks(image.info)
        extension = _FORMATS[image.format]
    digest = hashlib.sha256(data).hexdigest()
    return Photo(data, digest, width, height, extension, marks)


def _marks(info: dict[str | tuple[int, int], object]) -> dict[str, str]:
    """Read `emulator-detect*` from PNG text chunks (as keys or lines) and JPEG comments (as lines)."""
    marks: dict[str, str] = {}
    for key, value in info.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            continue
        if key in _MARK_KEYS:
            marks[str(key)] = value.strip()
            continue
        for line in value.splitlines():
            name, colon, rest = line.partition(":")
            if colon and name.strip() in _MARK_KEYS:
                marks[name.strip()] = rest.strip()
    return marks

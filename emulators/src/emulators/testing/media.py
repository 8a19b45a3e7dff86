"""Test inputs: a photo of a "person" and a short motion video, optionally carrying emulator marks; and
crafted bad images (a PNG "bomb" whose header lies about its size, corrupt pixel data, a cut-off file)
for the checks that must refuse them."""

from __future__ import annotations

import io
import random
import struct
import zlib

import av
import numpy as np
from PIL import Image, ImageDraw, PngImagePlugin

from emulators.video import h264_encoder

BODY = (200, 40, 60)
SKIN = (230, 180, 140)


def make_photo(
    width: int = 512,
    height: int = 900,
    *,
    background: tuple[int, int, int] = (40, 120, 200),
    image_format: str = "PNG",
    detect_reason: str | None = None,
    detect_code: str | None = None,
    task_mark: str | None = None,
) -> bytes:
    """A plain "person" (head and body) on a coloured background.

    `detect_reason` / `detect_code` are written as `emulator-detect*` metadata (PNG text chunks or a
    JPEG comment), which makes the emulator's person check fail; `task_mark` as `emulator-task`
    (e.g. "fail InvalidFile.Content", "never") decides how a synthesis task of this photo ends.
    """
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    cx, head = width // 2, min(width, height) // 7
    draw.ellipse((cx - head, height // 10, cx + head, height // 10 + 2 * head), fill=SKIN)
    draw.rectangle((cx - 2 * head, height // 10 + 2 * head, cx + 2 * head, height * 9 // 10), fill=BODY)
    lines = [f"emulator-detect: {detect_reason}"] if detect_reason is not None else []
    lines += [f"emulator-detect-code: {detect_code}"] if detect_code is not None else []
    lines += [f"emulator-task: {task_mark}"] if task_mark is not None else []
    out = io.BytesIO()
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        for line in lines:
            key, _, value = line.partition(": ")
            info.add_text(key, value)
        image.save(out, "PNG", pnginfo=info)
    elif image_format == "JPEG":
        image.save(out, "JPEG", quality=90, comment="\n".join(lines).encode())
    else:
        image.save(out, image_format)
    return out.getvalue()


def flat_photo(
    size: tuple[int, int] = (400, 400), colour: tuple[int, int, int] = (90, 90, 90), image_format: str = "PNG"
) -> bytes:
    """A picture of one flat colour: the emulator finds no person (DashScope) and no face (cutout.pro)."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, image_format)
    return out.getvalue()


def make_clip(
    seconds: float = 2.0, fps: int = 24, size: tuple[int, int] = (256, 384), task_mark: str | None = None
) -> bytes:
    """A small H.264 MP4 (a moving gradient) for template generation; `task_mark` as in make_photo."""
    width, height = size
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        if task_mark is not None:
            container.metadata["comment"] = f"emulator-task: {task_mark}"
        stream = container.add_stream(h264_encoder(), rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * fps)):
            level = np.uint8(index * 7 % 256)
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), level), format="rgb24")
            container.mux(stream.encode(frame.reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    return out.getvalue()


# --- crafted bad images -----------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PngChunk = tuple[bytes, bytes]
"""A PNG chunk as (type, data), e.g. (b"IHDR", ...); its length and CRC are implied."""


def png_chunks(png: bytes) -> list[PngChunk]:
    """Every chunk of a PNG, in order, as (type, data); the CRCs are not checked."""
    if png[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG: no PNG signature")
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        chunks.append((png[at + 4 : at + 8], png[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_of(chunks: list[PngChunk], *, bad_crc: bytes = b"") -> bytes:
    """A PNG of these chunks, each with its correct CRC except the chunks of type `bad_crc` (e.g. b"IDAT")."""
    out = bytearray(PNG_SIGNATURE)
    for kind, data in chunks:
        crc = zlib.crc32(kind + data) ^ (0xFFFFFFFF if kind == bad_crc else 0)
        out += struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
    return bytes(out)


def noise_image(size: tuple[int, int], image_format: str = "PNG", *, seed: int = 0) -> bytes:
    """An RGB image of random (incompressible) pixels: cutting the file cuts pixel data, not just headers."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, image_format)
    return out.getvalue()


def png_claiming(width: int, height: int, source: bytes | None = None) -> bytes:
    """A small real PNG (`source`, by default ~1 KB of 18x18 noise) whose IHDR, with a valid CRC, claims
    `width` x `height` pixels: a decompression bomb by its header, far too little pixel data for it."""
    chunks = png_chunks(noise_image((18, 18), seed=7) if source is None else source)
    kind, ihdr = chunks[0]
    if kind != b"IHDR":
        raise ValueError(f"the first chunk is {kind!r}, not IHDR")
    chunks[0] = (kind, struct.pack(">II", width, height) + ihdr[8:])
    return png_of(chunks)


def png_with_idat(source: bytes, idat: bytes, *, bad_crc: bool = False) -> bytes:
    """`source` (a PNG) with the data of each IDAT chunk replaced by `idat`, its CRC wrong if `bad_crc`."""
    chunks = [(kind, idat if kind == b"IDAT" else data) for kind, data in png_chunks(source)]
    return png_of(chunks, bad_crc=b"IDAT" if bad_crc else b"")


def png_with_corrupt_pixels(source: bytes | None = None) -> bytes:
    """`source` (by default a 400x600 `make_photo`) with a valid signature, IHDR and CRCs, but garbage
    pixel data: each IDAT keeps its zlib header, the rest is scrambled."""
    chunks = png_chunks(make_photo(400, 600) if source is None else source)
    garbled = [
        (kind, data[:2] + bytes(b ^ 0x5A for b in data[2:]) if kind == b"IDAT" else data)
        for kind, data in chunks
    ]
    if garbled == chunks:
        raise ValueError("the PNG has no IDAT data to garble")
    return png_of(garbled)


def first_half(data: bytes) -> bytes:
    """The first half of a file, as a cut-off download or upload leaves it."""
    return data[: len(data) // 2]


def truncated_bmp(source: bytes | None = None) -> bytes:
    """The first half of a BMP (`source`, by default a 400x600 `make_photo`): a valid header, too few
    pixels."""
    bmp = make_photo(400, 600, image_format="BMP") if source is None else source
    if bmp[:2] != b"BM":
        raise ValueError("not a BMP")
    return first_half(bmp)

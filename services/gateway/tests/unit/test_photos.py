import io
import random
import warnings
import zlib

import pytest
from common.providers.photo_limits import CUTOUT, DASHSCOPE, PhotoLimits, photo_limits
from emulators.testing import first_half, noise_image, png_chunks, png_claiming, png_with_idat
from gateway.errors import ApiError
from gateway.photos import check_photo
from PIL import Image


def _image(fmt: str, size: tuple[int, int] = (512, 768), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 120).save(out, fmt)
    return out.getvalue()


def _refused(name: str | None, data: bytes, limits: PhotoLimits = DASHSCOPE) -> ApiError:
    with pytest.raises(ApiError) as err:
        check_photo(name, data, limits)
    assert err.value.field == "file"
    return err.value


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp")]
)
def test_a_photo_in_each_provider_format_is_accepted_with_its_dimensions(fmt: str, mime: str) -> None:
    photo = check_photo(f"me.{mime}", _image(fmt), DASHSCOPE)
    assert (photo.content_type, photo.width, photo.height, photo.file_name) == (
        f"image/{mime}",
        512,
        768,
        f"me.{mime}",
    )


def test_the_format_comes_from_the_content_not_the_name() -> None:
    assert check_photo("photo.png", _image("JPEG"), DASHSCOPE).content_type == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        _image("JPEG", mode="CMYK"),
        _image("PNG", mode="P"),
        _image("PNG", mode="RGBA"),
        _image("PNG", mode="L"),
    ],
    ids=["cmyk-jpeg", "palette-png", "rgba-png", "grey-png"],
)
def test_other_colour_modes_are_fine(data: bytes) -> None:
    assert check_photo("me", data, DASHSCOPE).width == 512


def test_an_animated_png_is_accepted_for_its_first_frame() -> None:
    out = io.BytesIO()
    first, second = Image.new("RGB", (512, 768), 10), Image.new("RGB", (512, 768), 200)
    first.save(out, "PNG", save_all=True, append_images=[second])
    assert check_photo("moving.png", out.getvalue(), DASHSCOPE).height == 768


@pytest.mark.parametrize(
    "data",
    [b"", _image("GIF"), _image("TIFF"), b"hello, not an image"],
    ids=["empty", "gif", "tiff", "text"],
)
def test_empty_files_and_other_types_are_refused(data: bytes) -> None:
    err = _refused("me.jpg", data)
    assert (err.status, err.code) == ((400, "EmptyFile") if not data else (415, "UnsupportedFileType"))


def test_an_oversized_file_is_refused_with_the_limit_in_the_message() -> None:
    err = _refused("big.png", b"\x89PNG" + b"\0" * (5 * 1024 * 1024))
    assert (err.status, err.code) == (413, "FileTooLarge") and "the limit is 5 MB" in err.detail


@pytest.mark.parametrize(
    ("size", "code", "words"),
    [
        ((100, 100), "ImageTooSmall", "The photo is 100×100 px; each side must be 224–4096 px."),  # noqa: RUF001
        ((1000, 300), "ImageAspectRatio", "height/width must be 0.5–2."),  # noqa: RUF001
        ((300, 1000), "ImageAspectRatio", "(height/width 3.33)"),
    ],
)
def test_sides_and_aspect_ratio_must_be_in_range(size: tuple[int, int], code: str, words: str) -> None:
    err = _refused("me.png", _image("PNG", size))
    assert (err.status, err.code) == (400, code) and words in err.detail


@pytest.mark.parametrize("side", [4500, 10_000, 30_000])
def test_a_header_claiming_huge_sides_is_refused_before_any_pixel_is_decoded(side: int) -> None:
    data = png_claiming(side, side, source=noise_image((64, 64)))
    assert len(data) < 20_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape either
        err = _refused("bomb.png", data)
    assert (err.status, err.code) == (400, "ImageTooLarge") and "4096" in err.detail
    assert Image.MAX_IMAGE_PIXELS == 1024 * 1024 * 1024 // 4 // 3  # Pillow's globals are left alone


@pytest.mark.parametrize(
    "data",
    [
        png_with_idat(_image("PNG"), random.Random(1).randbytes(500)),
        png_with_idat(_image("PNG"), zlib.compress(b"\0" * 1000)),
        png_with_idat(_image("PNG"), png_chunks(_image("PNG"))[-2][1], bad_crc=True),
        first_half(noise_image((512, 768), "BMP")),
        first_half(noise_image((512, 768), "JPEG")),
    ],
    ids=["png-garbage-idat", "png-short-idat", "png-bad-crc", "bmp-cut-in-half", "jpeg-cut-in-half"],
)
def test_pixel_data_that_does_not_decode_is_a_corrupt_image(data: bytes) -> None:
    err = _refused("me.png", data)
    assert (err.status, err.code) == (400, "CorruptImage")


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("me.png", "me.png"),
        ("a\nb.png", "ab.png"),
        ("a\x00b\t\r.png", "ab.png"),
        ("..\\..\\x.png", "x.png"),
        ("..\\..\\evil", "evil"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\me\\me.jpg", "me.jpg"),
        ("  .hidden.png  ", "hidden.png"),
        ("e\u0301t\u00e9.png", "\u00e9t\u00e9.png"),
        ("../", "photo"),
        ("", "photo"),
        (None, "photo"),
    ],
)
def test_the_file_name_is_reduced_to_a_safe_last_component(name: str | None, cleaned: str) -> None:
    assert check_photo(name, _image("PNG"), DASHSCOPE).file_name == cleaned


def test_a_long_file_name_is_cut_to_200_characters_keeping_its_extension() -> None:
    name = check_photo("x" * 300 + ".jpeg", _image("JPEG"), DASHSCOPE).file_name
    assert len(name) == 200 and name.endswith("x.jpeg")


def test_limits_are_per_provider() -> None:
    assert photo_limits("dashscope") is DASHSCOPE and photo_limits("cutout") is CUTOUT
    assert check_photo("small.png", _image("PNG", (100, 100)), CUTOUT).width == 100
    with pytest.raises(KeyError):
        photo_limits("midjourney")

import io

import pytest
from gateway.errors import ApiError
from gateway.photos import check_photo
from PIL import Image


def _png(size: tuple[int, int] = (300, 500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_png_photo_is_accepted_with_its_dimensions() -> None:
    photo = check_photo("me.png", _png(), 5_000_000)
    assert (photo.content_type, photo.width, photo.height, photo.file_name) == (
        "image/png",
        300,
        500,
        "me.png",
    )


def test_a_text_file_is_refused_as_unsupported_type() -> None:
    with pytest.raises(ApiError) as err:
        check_photo("notes.txt", b"hello, not an image", 5_000_000)
    assert (err.value.status, err.value.code) == (415, "UnsupportedFileType")


def test_an_oversized_photo_is_refused_with_the_limit_in_the_message() -> None:
    with pytest.raises(ApiError) as err:
        check_photo("big.png", _png(), 100)
    assert err.value.status == 413 and "limit" in err.value.message


def test_a_gif_is_refused_because_the_provider_cannot_read_it() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 300)).save(out, "GIF")
    with pytest.raises(ApiError) as err:
        check_photo("a.gif", out.getvalue(), 5_000_000)
    assert err.value.status == 415 and "GIF" in err.value.message

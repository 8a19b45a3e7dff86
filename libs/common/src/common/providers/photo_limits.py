"""What photo each provider accepts, checked by the gateway before anything is stored or sent.

DashScope (Animate Anyone, `animate-anyone-detect-gen2` input rules): JPEG, PNG, BMP or WEBP, under 5 MB,
height/width between 0.5 and 2.0, longest side at most 4096 px, shortest side at least 224 px.
cutout.pro (Photo Animer API docs): PNG, JPG/JPEG, BMP or WEBP, up to 4096 px a side, under 15 MB; it states
no minimum side or aspect ratio, so the ones below are our own loose sanity bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class PhotoLimits:
    """Limits on one photo; `aspect` is height / width; `formats` are Pillow format names."""

    min_side: int
    max_side: int
    min_aspect: float
    max_aspect: float
    max_bytes: int
    formats: frozenset[str]


DASHSCOPE = PhotoLimits(
    min_side=224,
    max_side=4096,
    min_aspect=0.5,
    max_aspect=2.0,
    max_bytes=5 * MB,
    formats=frozenset({"JPEG", "PNG", "BMP", "WEBP"}),
)

CUTOUT = PhotoLimits(
    min_side=64,  # not documented by cutout.pro: a sanity bound (a face needs some pixels)
    max_side=4096,
    min_aspect=0.25,  # not documented either: sanity bounds against strips of pixels
    max_aspect=4.0,
    max_bytes=15 * MB,
    formats=frozenset({"JPEG", "PNG", "BMP", "WEBP"}),
)

# What POST /api/uploads/image accepts before a template is chosen: a photo some provider can take. The
# chosen template's own limits are checked again when a generation names the upload.
UPLOADS = PhotoLimits(
    min_side=min(DASHSCOPE.min_side, CUTOUT.min_side),
    max_side=max(DASHSCOPE.max_side, CUTOUT.max_side),
    min_aspect=min(DASHSCOPE.min_aspect, CUTOUT.min_aspect),
    max_aspect=max(DASHSCOPE.max_aspect, CUTOUT.max_aspect),
    max_bytes=max(DASHSCOPE.max_bytes, CUTOUT.max_bytes),
    formats=DASHSCOPE.formats | CUTOUT.formats,
)

_BY_PROVIDER = {"dashscope": DASHSCOPE, "cutout": CUTOUT}


def photo_limits(provider: str) -> PhotoLimits:
    """The limits of a provider ("dashscope", "cutout"); KeyError for any other name."""
    return _BY_PROVIDER[provider]

"""The catalogue of problems the API can answer: one stable `type` URI, title and status per cause.

The OpenAPI document and the `/problems/<code>` pages are generated from this table, so a code that is
raised but not listed here is a bug (a test checks every raised code is listed).
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    description: str


PROBLEMS: dict[str, ProblemType] = {
    p[0]: ProblemType(p[1], p[2], p[3])
    for p in [
        # 400: the request is wrong in a way the client can fix
        ("MalformedRequest", 400, "Malformed request", "The body or a header cannot be read as sent."),
        ("InvalidJson", 400, "Invalid JSON", "The body is not JSON, or it is nested too deeply."),
        ("UnknownTemplate", 400, "Unknown template", "No active template has this id."),
        ("MissingImage", 400, "Missing image", "Send a photo as `file`, or one of `ossUrl` / `imageUrl`."),
        ("AmbiguousImage", 400, "More than one image", "Send exactly one of `file`, `ossUrl`, `imageUrl`."),
        ("UnknownAsset", 400, "Unknown asset", "No uploaded photo matches this asset:// URL."),
        (
            "InvalidImageUrl",
            400,
            "Image URL refused",
            "The URL is malformed or its host is not allowed.",
        ),
        (
            "InvalidCallbackUrl",
            400,
            "Callback URL refused",
            "The callback URL is malformed or its host is not allowed.",
        ),
        ("EmptyFile", 400, "Empty file", "The uploaded file has no bytes."),
        (
            "CorruptImage",
            400,
            "Corrupt image",
            "The image data does not decode.",
        ),
        ("ImageTooSmall", 400, "Image too small", "A side of the photo is below the provider's minimum."),
        ("ImageTooLarge", 400, "Image too large", "A side of the photo is above the provider's maximum."),
        ("ImageAspectRatio", 400, "Aspect ratio out of range", "The photo is too wide or too tall."),
        # 401/403/404/405/406/409/410
        (
            "Unauthorized",
            401,
            "API key required",
            "Send a key as `Authorization: Bearer` or `X-API-Key`.",
        ),
        (
            "MediaLinkInvalid",
            403,
            "Invalid media link",
            "The media link's signature does not match; use the link exactly as the API gave it.",
        ),
        ("NotFound", 404, "Not found", "There is no such resource."),
        ("GenerationNotFound", 404, "Generation not found", "No generation with this id is visible to you."),
        ("MediaNotFound", 404, "Media not found", "No video or image is stored under this link."),
        ("MethodNotAllowed", 405, "Method not allowed", "The resource exists; see the `Allow` header."),
        ("NotAcceptable", 406, "Not acceptable", "The resource cannot answer in the requested media type."),
        ("AlreadyFinished", 409, "Already finished", "The generation already ended; it cannot be canceled."),
        ("IdempotencyKeyReused", 409, "Idempotency key reused", "This key was used with a different body."),
        ("MediaExpired", 410, "Media expired", "The video was deleted after its retention period."),
        ("InvalidRequest", 422, "Invalid field", "A field is missing or has the wrong shape or value."),
        # 413/415/429
        ("FileTooLarge", 413, "File too large", "The photo is over the size limit."),
        ("RequestTooLarge", 413, "Request too large", "The request body is over the size limit."),
        ("UnsupportedFileType", 415, "Unsupported file type", "The file is not a JPEG, PNG, BMP or WEBP."),
        ("UnsupportedMediaType", 415, "Unsupported media type", "Send JSON or multipart/form-data."),
        ("RateLimited", 429, "Too many requests", "Slow down; try again after `Retry-After` seconds."),
        ("TooManyInFlight", 429, "Too many generations in flight", "Wait for some to finish."),
        # 5xx
        ("InternalError", 500, "Internal error", "An unexpected error; quote the request id."),
        ("ServiceUnavailable", 503, "Service unavailable", "The request could not be stored; try again."),
        (
            "MediaUnavailable",
            503,
            "Media storage unavailable",
            "The media storage cannot be reached right now; try again after `Retry-After` seconds.",
        ),
    ]
}


def problem_type(code: str) -> str:
    return f"{BASE}{code}"

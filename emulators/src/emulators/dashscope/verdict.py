"""Whether a photo "shows one person": scripted, since it cannot be known offline.

The answer comes from, in order: an outcome registered through `POST /admin/detect-outcomes` for the
image's sha256; the image's own metadata text (`emulator-detect: <reason>`, optionally
`emulator-detect-code: InvalidFile.Content`); a picture of one flat colour fails (no person);
otherwise a real photo passes, "full" body when it is at least 1.3 times taller than wide.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.dashscope.records import DetectOutcome
from emulators.pictures import Picture

PASS_REASON = "success"
DEFAULT_FAIL_REASON = (
    "The input image contains no person or multiple people. Please upload an image that contains a single "
    "person."
)
CODE_MESSAGES = {
    "InvalidFile.Content": "The input image has no human body or multi human bodies. Please upload other "
    "image with single person.",
    "InvalidFile.BodyPose": "The pose of the detected person is invalid, please upload other image with "
    "whole body and expected orientation.",
    "InvalidFile.FacePose": "The pose of the detected face is invalid, please upload other image with "
    "whole face and expected orientation.",
}

# The HTTP 200 `reason` for a photo outside the limits (documented for the resolution only).
LIMIT_REASONS = {
    "InvalidFile.Resolution": "The image resolution is invalid. The longest side of the image must be less "
    "than 4096 pixels, and the shortest side must be greater than 224 pixels.",
    "InvalidFile.AspectRatio": "The aspect ratio of the image is invalid. The ratio of height to width must "
    "be between 0.5 and 2.0.",
    "InvalidFile.Size": "The image size is invalid. The image must be smaller than 5 MB.",
}


@dataclass(frozen=True)
class Verdict:
    check_pass: bool
    bodystyle: str
    reason: str
    # Set when the provider would answer HTTP 400 with this code instead of `check_pass: false`.
    code: str | None = None


def body_style(width: int, height: int) -> str:
    return "full" if height / width >= 1.3 else "half"


def judge(photo: Picture, scripted: DetectOutcome | None) -> Verdict:
    if scripted is not None:
        if scripted.check_pass:
            style = scripted.bodystyle or body_style(photo.width, photo.height)
            return Verdict(True, style, scripted.reason or PASS_REASON)
        return _failure(scripted.reason, scripted.code)
    reason = photo.marks.get("emulator-detect")
    code = photo.marks.get("emulator-detect-code")
    if reason is not None or code is not None:
        return _failure(reason or "", code)
    if photo.blank:
        return _failure(DEFAULT_FAIL_REASON, None)
    return Verdict(True, body_style(photo.width, photo.height), PASS_REASON)


def _failure(reason: str, code: str | None) -> Verdict:
    if code:
        return Verdict(False, "", reason or CODE_MESSAGES.get(code, DEFAULT_FAIL_REASON), code)
    return Verdict(False, "", reason or DEFAULT_FAIL_REASON)

"""Stock motion templates, available to every account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Motion(StrEnum):
    BOUNCE = "bounce"
    SWAY = "sway"
    ZOOM_PULSE = "zoom_pulse"
    TILT = "tilt"


@dataclass(frozen=True)
class Template:
    template_id: str
    motion: Motion
    # Length relative to EMULATOR_VIDEO_SECONDS: real templates differ in length.
    length_scale: float


STOCK_TEMPLATES: dict[str, Template] = {
    t.template_id: t
    for t in (
        Template("AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE", Motion.BOUNCE, 1.0),
        Template("AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL", Motion.SWAY, 4 / 3),
        Template("AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR", Motion.ZOOM_PULSE, 2 / 3),
        Template("AACT.c4e8a961.Fd2gHk5Jn8-Vb3Nc6Ym0-T.w1-ZS-eK", Motion.TILT, 1.0),
    )
}


def find_template(template_id: str) -> Template | None:
    return STOCK_TEMPLATES.get(template_id)

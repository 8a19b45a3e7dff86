"""Motion templates: four stock ones for every account, and those an account generates."""

from __future__ import annotations

from emulators.dashscope.records import Template
from emulators.dashscope.store import Store
from emulators.ids import AccountId
from emulators.video import Motion

# The motions of the stock templates; a generated template moves in one of these.
STOCK_MOTIONS = (Motion.BOUNCE, Motion.SWAY, Motion.ZOOM_PULSE, Motion.TILT)

STOCK_TEMPLATES: dict[str, Template] = {
    t.template_id: t
    for t in (
        Template(template_id="AACT.8090e67b.7GAnLsE3Ee-X8Na1j4PL-A.tz-WS-oE", motion=Motion.BOUNCE),
        Template(
            template_id="AACT.1f3c9a22.Bq7nWmR2Tk-Zx4Ha9sPe-Q.k2-JD-pL",
            motion=Motion.SWAY,
            length_scale=4 / 3,
        ),
        Template(
            template_id="AACT.5b7d2e10.Lp0sYv6Cu3-Ra8Qm1tWf-N.x9-HB-qR",
            motion=Motion.ZOOM_PULSE,
            length_scale=2 / 3,
        ),
        Template(template_id="AACT.c4e8a961.Fd2gHk5Jn8-Vb3Nc6Ym0-T.w1-ZS-eK", motion=Motion.TILT),
        # The original project's two hard-coded templates ("Dance 01", "Dance 02"), so its frontend works.
        Template(template_id="AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ", motion=Motion.BOUNCE),
        Template(template_id="AACT.8090e67b.zNZS1u2FEfCnyAAWPj1RRQ.Viw40txe", motion=Motion.SWAY),
    )
}


def find_template(store: Store, account: AccountId, template_id: str) -> Template | None:
    """A stock template, or one this account generated; another account's is not found."""
    template = STOCK_TEMPLATES.get(template_id) or store.get_template(template_id)
    if template is None or template.account not in (None, account):
        return None
    return template


def motion_for(sha256: str) -> Motion:
    """A generated template moves in one of the stock ways, chosen by its video's content."""
    return STOCK_MOTIONS[int(sha256[:8], 16) % len(STOCK_MOTIONS)]


def template_seconds(template: Template, video_seconds: float) -> float:
    return template.seconds if template.seconds is not None else video_seconds * template.length_scale

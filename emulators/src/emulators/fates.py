"""How a submitted task will end, decided at submit so it survives a restart (both providers' tasks).

In order: the first matching rule of the configuration's `task_fates` (by sha256, model, the next N
submits, a probability); the input's own `emulator-task` metadata (`fail <code> [message]`,
`never`, `succeed`); the provider's own verdict on the input (`fallback`: DashScope's failed person
check, cutout.pro's missing face); otherwise success.
"""

from __future__ import annotations

from emulators.config import Fate
from emulators.controls import Controls

MARK = "emulator-task"


def choose_fate(
    controls: Controls, *, model: str, sha256: str, marks: dict[str, str], fallback: Fate | None = None
) -> Fate | None:
    rules = controls.config.task_fates
    for rule in list(rules):
        if rule.sha256 not in (None, sha256) or rule.model not in (None, model):
            continue
        if rule.probability < 1 and controls.rng("task_fates").random() >= rule.probability:
            continue
        if rule.next is not None:
            rule.next -= 1
            if rule.next == 0:
                rules.remove(rule)
        return _succeeds_as_none(rule.to_fate())
    mark = marks.get(MARK)
    if mark:
        return _succeeds_as_none(parse_mark(mark))
    return fallback


def parse_mark(text: str) -> Fate:
    """`fail InvalidFile.Content the message`, `fail`, `never` or `succeed`."""
    kind, _, rest = text.strip().partition(" ")
    if kind == "never":
        return Fate(fate="never")
    if kind == "succeed":
        return Fate(fate="succeed")
    code, _, message = rest.strip().partition(" ")
    default = Fate()
    return Fate(fate="fail", code=code or default.code, message=message.strip() or default.message)


def _succeeds_as_none(fate: Fate) -> Fate | None:
    return None if fate.fate == "succeed" else fate

"""Which files of the repository a `docker build .` sends, by .dockerignore's rules.

Docker's rules: patterns are matched, in order, against the path relative to the context and against
each of its parent folders; the last pattern that matches decides (`!` lets a path back in); `*` and
`?` stay within one path segment, `**` crosses any number of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rule:
    pattern: str
    keep: bool  # True for an exception (`!pattern`)

    @cached_property
    def regex(self) -> re.Pattern[str]:
        parts: list[str] = []
        pattern = self.pattern
        index = 0
        while index < len(pattern):
            char = pattern[index]
            if pattern.startswith("**", index):
                parts.append(".*")
                index += 2
                if pattern.startswith("/", index):  # `**/x` also matches `x` at the top
                    parts[-1] = "(?:.*/)?"
                    index += 1
                continue
            parts.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            index += 1
        return re.compile("".join(parts))


def rules(text: str) -> list[Rule]:
    found: list[Rule] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = str(PurePosixPath(line.removeprefix("!").strip().lstrip("/")))
        found.append(Rule(pattern, keep))
    return found


def load(root: Path = ROOT) -> list[Rule]:
    return rules((root / ".dockerignore").read_text())


def sent(path: str, ignore: list[Rule]) -> bool:
    """True if the file `path` (relative, with /) is in the build context."""
    candidates = [str(parent) for parent in reversed(PurePosixPath(path).parents) if str(parent) != "."]
    candidates.append(path)
    excluded = False
    for rule in ignore:
        if any(rule.regex.fullmatch(candidate) for candidate in candidates):
            excluded = not rule.keep
    return not excluded

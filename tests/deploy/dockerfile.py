"""A static reader of the Dockerfile: its stages, their instructions, and what each target is made of.

Only what the checks need: continuation lines, comments, `FROM … AS`, flags (`--from=`, `--mount=`),
JSON (exec) and shell forms. No Docker engine is involved.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# The images: target -> the workspace package its builder installs (`uv sync --package`), and the
# module its default command runs (`python -m`).
TARGETS = {
    "gateway": "gateway",
    "uploader": "uploader",
    "detector": "detector",
    "synthesizer": "synthesizer",
    "poller": "poller",
    "archiver": "archiver",
    "notifier": "notifier",
    "emulators": "emulators",
    "setup": "admin",  # `common` (the setup job) and `dancer-admin`
}
COMMANDS = {target: target for target in TARGETS} | {"setup": "common.setup"}
FLAG = re.compile(r"--([a-z-]+)(?:=(\S*))?")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, …
    text: str  # everything after the keyword, continuation lines joined
    line: int

    @property
    def flags(self) -> dict[str, list[str]]:
        """Leading `--name=value` options (RUN --mount, COPY --from, HEALTHCHECK --interval)."""
        found: dict[str, list[str]] = {}
        for word in self._split()[0]:
            match = FLAG.fullmatch(word)
            assert match, word
            found.setdefault(match[1], []).append(match[2] or "")
        return found

    @property
    def body(self) -> str:
        """The text after the leading flags."""
        return self._split()[1]

    def argv(self) -> list[str]:
        """The body as words: the JSON form as is, the shell form split like a shell."""
        body = self.body.strip()
        if body.startswith("["):
            words = json.loads(body)
            assert isinstance(words, list) and all(isinstance(word, str) for word in words), body
            return words
        return shlex.split(body)

    def _split(self) -> tuple[list[str], str]:
        flags: list[str] = []
        rest = self.text.strip()
        while rest.startswith("--"):
            word, _, rest = rest.partition(" ")
            flags.append(word)
            rest = rest.strip()
        return flags, rest


@dataclass
class Stage:
    name: str
    base: str  # an image, or the name of an earlier stage
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def by_name(self) -> dict[str, Stage]:
        return {stage.name: stage for stage in self.stages}

    def parent(self, stage: Stage) -> Stage | None:
        return self.by_name.get(stage.base)

    def chain(self, name: str) -> list[Stage]:
        """The stage and the stages it is built FROM, itself first."""
        stage: Stage | None = self.by_name[name]
        found: list[Stage] = []
        while stage is not None:
            found.append(stage)
            stage = self.parent(stage)
        return found

    def sources(self, name: str) -> list[Stage]:
        """Every stage whose files can end up in `name`: its FROM chain and, recursively, each stage a
        `COPY --from` in that chain copies from."""
        seen: dict[str, Stage] = {}
        todo = [name]
        while todo:
            for stage in self.chain(todo.pop()):
                if stage.name in seen:
                    continue
                seen[stage.name] = stage
                for copy in stage.all("COPY"):
                    todo.extend(source for source in copy.flags.get("from", []) if source in self.by_name)
        return list(seen.values())

    def image_of(self, name: str) -> str:
        """The image at the root of a stage's FROM chain, with global ARG defaults filled in."""
        return self.expand(self.chain(name)[-1].base)

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: self.global_args[m[1] or m[2]], text)

    def effective(self, name: str, keyword: str) -> Instruction | None:
        """The instruction of this kind in force in a stage (its own, else inherited through FROM)."""
        for stage in self.chain(name):
            if found := stage.last(keyword):
                return found
        return None

    def env(self, name: str) -> dict[str, str]:
        """ENV in force in a stage (`KEY=VALUE` pairs only, which is all this Dockerfile uses)."""
        values: dict[str, str] = {}
        for stage in reversed(self.chain(name)):
            for instruction in stage.all("ENV"):
                for word in shlex.split(instruction.text):
                    key, equals, value = word.partition("=")
                    assert equals, f"line {instruction.line}: ENV without '=' ({word})"
                    values[key] = value
        return values

    def uv_syncs(self, name: str) -> Iterator[tuple[Stage, Instruction, list[str]]]:
        """Each `uv sync` command (as words) of the stages that make up `name`."""
        for stage in self.sources(name):
            for run in stage.all("RUN"):
                for command in re.split(r"&&|\|\||;", run.body):
                    words = shlex.split(command)
                    if words[:2] == ["uv", "sync"]:
                        yield stage, run, words

    def packages(self, name: str) -> set[str]:
        """The workspace packages `uv sync --package` installs into what makes up `name`."""
        found: set[str] = set()
        for _, _, words in self.uv_syncs(name):
            for index, word in enumerate(words):
                if word == "--package":
                    found.add(words[index + 1])
                elif word.startswith("--package="):
                    found.add(word.split("=", 1)[1])
        return found


def parse(text: str) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest, line in _logical_lines(text):
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else f"#{len(stages)}"
            stages.append(Stage(name=name, base=words[0], line=line))
        elif not stages:
            assert keyword == "ARG", f"line {line}: only ARG may come before the first FROM"
            key, _, default = rest.partition("=")
            global_args[key.strip()] = default.strip()
        else:
            stages[-1].instructions.append(Instruction(keyword, rest, line))
    return Dockerfile(global_args, stages)


def load(path: Path = DOCKERFILE) -> Dockerfile:
    return parse(path.read_text())


def _logical_lines(text: str) -> Iterator[tuple[str, str, int]]:
    """(KEYWORD, rest, first line number) per instruction; comment lines dropped (also inside a
    continued instruction, as Docker does), continuation backslashes joined."""
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not parts:
            start = number
        continued = stripped.endswith("\\")
        parts.append(stripped[:-1].strip() if continued else stripped)
        if not continued:
            keyword, _, rest = " ".join(parts).partition(" ")
            yield keyword.upper(), rest.strip(), start
            parts = []
    assert not parts, "the Dockerfile ends inside a continued instruction"

"""Sample a running stage with py-spy (a separate process: the stage runs unchanged) and say where its
CPU time goes: by package (the innermost frame's, and any frame's), and the busiest functions."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?):(?P<line>\d+)\)$")


@contextmanager
def sampled(pid: int, out: Path, rate: int = 200) -> Iterator[None]:
    """py-spy samples `pid` (CPU time only: idle stacks are dropped) while the block runs."""
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            str(out),
            "--rate",
            str(rate),
            "--nonblocking",
            "--full-filenames",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C
        spy.wait(timeout=60)


def package(file: str) -> str:
    """`sqlalchemy`, `asyncpg`, `common`, `asyncio`... for a frame's file."""
    parts = Path(file).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if "src" in parts:  # the project's own packages: libs/common/src/common, services/x/src/x
        return parts[parts.index("src") + 1]
    if "python3.11" in parts and parts[-1] != "python3.11":
        return "stdlib " + parts[parts.index("python3.11") + 1].removesuffix(".py")
    return file


def summarize(raw: Path, top: int = 10) -> dict[str, Any]:
    """Percent of the samples by package and function of the innermost frame (`self`), and by package
    anywhere on the stack (`within`: time spent in or under it)."""
    packages: Counter[str] = Counter()
    within: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [m for m in map(_FRAME.match, stack.split(";")) if m]
        if not count.isdigit() or not frames:
            continue
        leaf = frames[-1]
        total += int(count)
        within.update(dict.fromkeys({package(f["file"]) for f in frames}, int(count)))
        packages[package(leaf["file"])] += int(count)
        functions[f"{leaf['function']} ({Path(leaf['file']).name}:{leaf['line']})"] += int(count)

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / max(total, 1), 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "self_by_package": shares(packages),
        "within_package": shares(within),
        "self_by_function": shares(functions),
    }

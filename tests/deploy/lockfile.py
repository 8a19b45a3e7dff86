"""The dependency graph in uv.lock: what `uv sync --package NAME` installs, read without uv.

Markers are evaluated for the images' platform (CPython 3.11 on Linux x86_64), so a Windows-only
dependency does not count; extras are followed as the lock records them (`{name, extra = [...]}`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "uv.lock"
# The image's interpreter (python:3.11-slim on linux/amd64).
IMAGE_PLATFORM = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.11.0",
    "python_version": "3.11",
    "sys_platform": "linux",
    "extra": "",
}


@dataclass
class Package:
    name: str
    source: dict[str, Any]
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def workspace_path(self) -> str | None:
        """Its folder, for a member of the workspace (installed from source)."""
        path = self.source.get("editable") or self.source.get("virtual")
        return str(path) if path is not None else None


@dataclass
class Lock:
    packages: dict[str, Package]

    @property
    def workspace(self) -> dict[str, str]:
        """Member name -> folder, e.g. {"gateway": "services/gateway"}."""
        return {
            name: path
            for name, package in self.packages.items()
            if (path := package.workspace_path) is not None and path != "."
        }

    def closure(self, roots: Iterable[str]) -> set[str]:
        """Every package installed with `roots` (themselves included)."""
        seen: set[tuple[str, str | None]] = set()
        todo: list[tuple[str, str | None]] = [(root, None) for root in roots]
        while todo:
            name, extra = todo.pop()
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            package = self.packages[name]
            edges = package.dependencies if extra is None else package.extras.get(extra, [])
            for edge in edges:
                if "marker" in edge and not Marker(edge["marker"]).evaluate(IMAGE_PLATFORM):
                    continue
                todo.append((edge["name"], None))
                todo.extend((edge["name"], wanted) for wanted in edge.get("extra", []))
        return {name for name, _ in seen}

    def path_to(self, roots: Iterable[str], target: str) -> list[str]:
        """One chain of dependencies from a root to `target` (for a readable failure), else []."""
        parents: dict[str, str | None] = {root: None for root in roots}
        todo = list(parents)
        while todo:
            name = todo.pop(0)
            if name == target:
                chain: list[str] = []
                step: str | None = name
                while step is not None:
                    chain.append(step)
                    step = parents[step]
                return chain[::-1]
            package = self.packages[name]
            edges = [*package.dependencies, *(edge for extra in package.extras.values() for edge in extra)]
            for edge in edges:
                if edge["name"] not in parents:
                    parents[edge["name"]] = name
                    todo.append(edge["name"])
        return []


@cache
def load(path: Path = LOCK) -> Lock:
    data = tomllib.loads(path.read_text())
    packages: dict[str, Package] = {}
    for entry in data["package"]:
        # A package locked at several versions (a fork of the resolution) counts once, with every edge.
        package = packages.setdefault(entry["name"], Package(entry["name"], entry["source"]))
        package.dependencies.extend(entry.get("dependencies", []))
        for extra, edges in entry.get("optional-dependencies", {}).items():
            package.extras.setdefault(extra, []).extend(edges)
    return Lock(packages)

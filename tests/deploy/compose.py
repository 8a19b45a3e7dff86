"""docker-compose.yml as Compose would see it, without Docker: YAML (anchors and `<<` merges resolved),
interpolation of `${…}` from a given environment, env files, and each service's resulting environment.

Interpolation follows the Compose Specification (and Docker's reference): `$$`, `$VAR`, `${VAR}`,
`${VAR:-default}`, `${VAR-default}`, `${VAR:+replacement}`, `${VAR+replacement}`, `${VAR:?error}`,
`${VAR?error}`, nested in the default/replacement. Only values are interpolated, never keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")

Env = Mapping[str, str]


class InterpolationError(ValueError):
    pass


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    model = yaml.safe_load(path.read_text())
    assert isinstance(model, dict)
    return model


def resolved(env: Env, path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The model after interpolation with `env` (the shell's environment of `docker compose up`)."""
    model = interpolate(load(path), env)
    assert isinstance(model, dict)
    return model


def interpolate(value: Any, env: Env) -> Any:
    if isinstance(value, str):
        return substitute(value, env)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def substitute(text: str, env: Env) -> str:
    result, end = _substitute(text, 0, env, closing=False)
    assert end == len(text)
    return result


def _substitute(text: str, index: int, env: Env, *, closing: bool) -> tuple[str, int]:
    """Interpolates from `index` up to the end, or up to the unmatched `}` if `closing`; returns the
    text and the index just past what was read (the `}` included)."""
    out: list[str] = []
    while index < len(text):
        char = text[index]
        if closing and char == "}":
            return "".join(out), index + 1
        if char != "$":
            out.append(char)
            index += 1
            continue
        following = text[index + 1 : index + 2]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "{":
            value, index = _braced(text, index + 2, env)
            out.append(value)
        elif match := NAME.match(text, index + 1):
            out.append(env.get(match[0], ""))
            index = match.end()
        else:
            out.append("$")
            index += 1
    if closing:
        raise InterpolationError(f"unclosed '${{' in {text!r}")
    return "".join(out), index


def _braced(text: str, index: int, env: Env) -> tuple[str, int]:
    match = NAME.match(text, index)
    if not match:
        raise InterpolationError(f"invalid variable name at {text[index:]!r}")
    name, index = match[0], match.end()
    if text.startswith("}", index):
        return env.get(name, ""), index + 1
    for operator in (":-", ":+", ":?", "-", "+", "?"):
        if text.startswith(operator, index):
            break
    else:
        raise InterpolationError(f"unsupported interpolation in {text!r}")
    operand, index = _substitute(text, index + len(operator), env, closing=True)
    value = env.get(name)
    is_set = value is not None
    non_empty = bool(value)
    if operator == ":-":
        return (value if non_empty else operand) or "", index
    if operator == "-":
        return (value if is_set else operand) or "", index
    if operator == ":+":
        return (operand if non_empty else ""), index
    if operator == "+":
        return (operand if is_set else ""), index
    if (operator == ":?" and not non_empty) or (operator == "?" and not is_set):
        raise InterpolationError(f"{name}: {operand}")
    return value or "", index


def read_env_file(path: Path, env: Env) -> dict[str, str | None]:
    """An env_file by the Compose Specification's rules: comments, `VAR=VAL`, quotes, inline comments,
    interpolation of unquoted and double-quoted values; `VAR` alone unsets."""
    values: dict[str, str | None] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        assert NAME.fullmatch(key), f"{path}: bad line {raw!r}"
        if not equals:
            values[key] = None
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):  # (escapes inside quotes are not needed here)
            quote = value[0]
            value = value[1 : value.index(quote, 1)]
            if quote == "'":
                values[key] = value
                continue
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key] = substitute(value, {**env, **{k: v for k, v in values.items() if v is not None}})
    return values


def env_files(service: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """(path, required) for each env_file entry of a service (already interpolated)."""
    entries = service.get("env_file", [])
    entries = [entries] if isinstance(entries, str) else entries
    found: list[tuple[str, bool]] = []
    for entry in entries:
        if isinstance(entry, str):
            found.append((entry, True))
        else:
            found.append((entry["path"], bool(entry.get("required", True))))
    return found


def declared(service: Mapping[str, Any]) -> dict[str, str | None]:
    """The `environment` section as a mapping; None for a name without a value."""
    section = service.get("environment") or {}
    if isinstance(section, list):
        pairs = [item.split("=", 1) if "=" in item else [item, None] for item in section]
        return {key: value for key, value in pairs}
    return {key: None if value is None else _scalar(value) for key, value in section.items()}


def environment(service: Mapping[str, Any], env: Env, root: Path = ROOT) -> dict[str, str]:
    """What the container's environment gets from Compose: its env files, then `environment` over them
    (even a name without a value, which takes the shell's value or is removed)."""
    result: dict[str, str | None] = {}
    for path, required in env_files(service):
        file = root / path
        if not file.exists():
            assert not required, f"env_file {path} does not exist"
            continue
        result.update(read_env_file(file, env))
    for key, value in declared(service).items():
        result[key] = env.get(key) if value is None else value
    return {key: value for key, value in result.items() if value is not None}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

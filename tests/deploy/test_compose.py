"""docker-compose.yml, statically: the Compose Specification's schema, every variable against the settings
the processes really read, targets and commands against the Dockerfile and the code, start order and
healthchecks, the wiring between services, and the provider switch (a real key never reaches the
emulator)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from common.settings import DASHSCOPE_BASE_URL, EMULATOR_API_KEY, Settings
from emulators.settings import EmulatorSettings

from tests.deploy import compose, dockerfile, lockfile, probe

ROOT = compose.ROOT
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())
MODEL = compose.load()
SERVICES: dict[str, dict[str, Any]] = MODEL["services"]
DOCKERFILE = dockerfile.load()
TARGETS, COMMANDS = dockerfile.TARGETS, dockerfile.COMMANDS
LOCK = lockfile.load()
REAL_KEY = "sk-0123456789abcdef0123456789abcdef"
# The shell's environment of `docker compose up`, in the cases that matter.
SCENARIOS: dict[str, dict[str, str]] = {
    "no key": {},
    "empty key": {"DASHSCOPE_API_KEY": ""},
    "real key": {"DASHSCOPE_API_KEY": REAL_KEY},
}
# Variables the official images read (their documentation), by image name.
THIRD_PARTY = {
    "apache/kafka": re.compile(r"KAFKA_[A-Z0-9_]+|CLUSTER_ID"),
    "postgres": re.compile(r"POSTGRES_(USER|PASSWORD|DB|INITDB_ARGS|HOST_AUTH_METHOD)|PGDATA"),
    "quay.io/minio/minio": re.compile(r"MINIO_[A-Z0-9_]+"),
}
EMULATOR = "emulators"  # the emulator's build target


def built() -> dict[str, str]:
    """Service -> build target, for the services built from the Dockerfile."""
    return {name: service["build"]["target"] for name, service in SERVICES.items() if "build" in service}


def product() -> list[str]:
    """The product's services (all built ones but the emulator)."""
    return sorted(name for name, target in built().items() if target != EMULATOR)


def services() -> list[str]:
    """The product's long-running services (the product but the setup job)."""
    return [name for name in product() if built()[name] != "setup"]


def service_env(name: str, shell: Mapping[str, str]) -> dict[str, str]:
    return compose.environment(compose.resolved(shell)["services"][name], shell)


def the(target: str) -> str:
    (name,) = [name for name, found in built().items() if found == target]
    return name


def read_directly(target: str) -> set[str]:
    """Variables the code of a target's packages reads from os.environ itself (not through Settings),
    e.g. GATEWAY_HOST / GATEWAY_PORT."""
    members = LOCK.closure(DOCKERFILE.packages(target))
    found: set[str] = set()
    pattern = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")
    for name, path in LOCK.workspace.items():
        if name in members:
            for source in (ROOT / path / "src").rglob("*.py"):
                found.update(pattern.findall(source.read_text()))
    return found


# --- the specification -----------------------------------------------------------------------------


def test_matches_the_compose_specification() -> None:
    assert SCHEMA["$schema"].rstrip("#/") == "https://json-schema.org/draft-07/schema"
    validator = jsonschema.Draft7Validator(SCHEMA)
    validator.check_schema(SCHEMA)
    for model in (MODEL, *(compose.resolved(shell) for shell in SCENARIOS.values())):
        errors = sorted(validator.iter_errors(model), key=lambda error: list(error.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_catches_a_mistake() -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    broken = {**MODEL, "services": {**SERVICES, "gateway": {**SERVICES["gateway"], "depends_on": 3}}}
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**MODEL, "servics": {}})


# --- variables -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_product_services_set_only_what_the_product_reads(scenario: str) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in product():
        target = built()[name]
        unknown = set(service_env(name, SCENARIOS[scenario])) - fields - read_directly(target)
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_the_emulator_gets_only_its_own_settings() -> None:
    prefix = EmulatorSettings.model_config.get("env_prefix", "")
    fields = {f"{prefix}{name}".upper() for name in EmulatorSettings.model_fields}
    declared = set(compose.declared(SERVICES[the(EMULATOR)]))
    assert declared <= fields, sorted(declared - fields)
    for shell in SCENARIOS.values():
        assert not any(key.startswith("DASHSCOPE") for key in service_env(the(EMULATOR), shell))


def test_third_party_services_set_only_their_images_variables() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        image = service["image"].rsplit(":", 1)[0]
        assert image in THIRD_PARTY, f"{name}: unknown image {image}"
        for key in compose.declared(service):
            assert THIRD_PARTY[image].fullmatch(key), f"{name}: {key} is not a variable of {image}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_settings_accept_every_value(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each service's environment, as Compose would give it, is valid for the settings it is read by."""
    shell = SCENARIOS[scenario]
    for name in built():
        env = service_env(name, shell)
        with monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith("EMULATOR_") or key.lower() in Settings.model_fields:
                    patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            if name == the(EMULATOR):
                EmulatorSettings()
            else:
                Settings()


# --- the provider ----------------------------------------------------------------------------------


def settings_of(name: str, shell: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    with monkeypatch.context() as patch:
        for field in Settings.model_fields:
            patch.delenv(field.upper(), raising=False)
        for key, value in service_env(name, shell).items():
            patch.setenv(key, value)
        return Settings()


def emulator_base_url() -> str:
    env = service_env(the(EMULATOR), {})
    return f"http://{the(EMULATOR)}:{env['EMULATOR_PORT']}/api/v1"


@pytest.mark.parametrize("scenario", ["no key", "empty key"])
def test_without_a_key_the_emulator_is_the_provider(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in services():
        settings = settings_of(name, SCENARIOS[scenario], monkeypatch)
        assert settings.dashscope_api_key.get_secret_value() == EMULATOR_API_KEY, name
        assert settings.dashscope_base_url == emulator_base_url(), name


def test_a_real_key_goes_to_real_dashscope_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DASHSCOPE_API_KEY" not in service_env(the("setup"), SCENARIOS["real key"]), "the job needs no key"
    for name in services():
        settings = settings_of(name, SCENARIOS["real key"], monkeypatch)
        assert settings.dashscope_api_key.get_secret_value() == REAL_KEY, name
        assert settings.dashscope_base_url == DASHSCOPE_BASE_URL, name
        env = service_env(name, SCENARIOS["real key"])
        # Nor does the door take plain-http links to the emulator then.
        assert "IMAGE_URL_ALLOW_HTTP" not in env and "IMAGE_URL_ALLOWED_HOSTS" not in env, name


def test_an_explicit_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    other = "https://dashscope-intl.aliyuncs.com/api/v1"
    for shell in (
        {"DASHSCOPE_BASE_URL": other},
        {"DASHSCOPE_BASE_URL": other, "DASHSCOPE_API_KEY": REAL_KEY},
    ):
        assert settings_of(the("gateway"), shell, monkeypatch).dashscope_base_url == other


# --- images, commands, order, health ---------------------------------------------------------------


def test_every_target_is_built_from_the_dockerfile() -> None:
    stages = {stage.name for stage in DOCKERFILE.stages}
    targets = built()
    for name, target in targets.items():
        build = SERVICES[name]["build"]
        assert target in stages, f"{name}: no `FROM … AS {target}` in the Dockerfile"
        assert build.get("context", ".") == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile"
        assert SERVICES[name]["image"] == f"dancer/{target}", "the image names deploy/k8s uses"
    assert set(targets.values()) == set(TARGETS), "every process has its service"


def test_every_command_is_a_module_that_exists() -> None:
    for name, target in built().items():
        service = SERVICES[name]
        assert "entrypoint" not in service, name
        command = service.get("command")
        argv = command.split() if isinstance(command, str) else command
        if argv is None:
            cmd = DOCKERFILE.effective(target, "CMD")
            assert cmd is not None, target
            argv = cmd.argv()
            assert argv == ["python", "-m", COMMANDS[target]], argv
        assert argv[:2] == ["python", "-m"], f"{name}: {argv}"
        module = argv[2]
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{name}: no module {module}"
        if spec.submodule_search_locations is not None:
            assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module} has no __main__"


def depends(name: str) -> dict[str, str]:
    """Service -> condition."""
    found = SERVICES[name].get("depends_on", {})
    if isinstance(found, list):
        return dict.fromkeys(found, "service_started")
    return {other: spec.get("condition", "service_started") for other, spec in found.items()}


def test_start_order() -> None:
    setup = the("setup")
    assert depends(setup) == {"kafka": "service_healthy", "postgres": "service_healthy"}
    assert SERVICES[setup].get("restart", "no") == "no", "a one-shot job"
    for name in services():
        assert depends(name).get(setup) == "service_completed_successfully", name
        assert SERVICES[name].get("restart") in ("always", "unless-stopped", "on-failure"), name
    for name in SERVICES:
        for other, condition in depends(name).items():
            assert other in SERVICES, f"{name} depends on unknown {other}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[other], f"{name} waits for {other}'s health: it has none"
    # No cycle: every service can be started after its dependencies.
    started: set[str] = set()
    while len(started) < len(SERVICES):
        ready = {name for name in SERVICES if name not in started and set(depends(name)) <= started}
        assert ready, f"a dependency cycle among {set(SERVICES) - started}"
        started |= ready


def health_target(name: str, env: Mapping[str, str]) -> tuple[str, str]:
    """(port, path) a service's healthcheck must ask."""
    target = built()[name]
    if target == EMULATOR:
        return env["EMULATOR_PORT"], "/admin/health"
    if target == "gateway":
        return env["GATEWAY_PORT"], "/readyz"
    return env["HEALTH_PORT"], "/readyz"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        if name == the("setup"):
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name


@pytest.mark.parametrize("name", sorted(built()))
def test_healthcheck_asks_readiness_with_python(name: str) -> None:
    if name == the("setup"):
        return
    env = service_env(name, {})
    port, path = health_target(name, env)
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], f"{name}: the images have no curl"
    code = test[3]
    url = f"http://127.0.0.1:{port}{path}"
    assert url in code, f"{name}: {code}"
    if built()[name] not in (EMULATOR, "gateway"):
        assert env["HEALTH_HOST"] == "0.0.0.0" and DOCKERFILE.env(built()[name])["HEALTH_PORT"] == port
    for status, healthy in ((200, True), (503, False)):
        with probe.server(path, status) as local:
            exit_code = probe.run(code.replace(url, f"http://127.0.0.1:{local}{path}"), {})
        assert (exit_code == 0) is healthy, f"{name}: exit {exit_code} on {status}"


# --- wiring ----------------------------------------------------------------------------------------


def published(name: str) -> set[int]:
    """Container ports published on the host."""
    ports: set[int] = set()
    for entry in SERVICES[name].get("ports", []):
        ports.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def aliases(name: str) -> set[str]:
    networks = SERVICES[name].get("networks") or {}
    found = {name}
    if isinstance(networks, dict):
        for network in networks.values():
            found.update((network or {}).get("aliases", []))
    return found


def test_services_find_each_other() -> None:
    kafka = compose.declared(SERVICES["kafka"])
    postgres = compose.declared(SERVICES["postgres"])
    minio = compose.declared(SERVICES["minio"])
    advertised: dict[str, str] = {}  # host:port -> listener name
    for listener in str(kafka["KAFKA_ADVERTISED_LISTENERS"]).split(","):
        listener_name, _, address = listener.partition("://")
        advertised[address] = listener_name
    for name in product():
        env = service_env(name, {})
        assert env["KAFKA_BOOTSTRAP_SERVERS"] in advertised, name
        assert advertised[env["KAFKA_BOOTSTRAP_SERVERS"]] == kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] == "kafka"
        database = urlsplit(env["DATABASE_URL"])
        assert (database.hostname, database.port) == ("postgres", 5432), name
        assert (database.username, database.password) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
        )
        assert database.path == f"/{postgres['POSTGRES_DB']}"
        if name == the("setup"):
            continue
        assert env["CREATE_TOPICS_AT_START"] == "false", "the setup job creates the topics"
        assert env["MEDIA_BACKEND"] == "s3"
        assert (env["S3_ACCESS_KEY_ID"], env["S3_SECRET_ACCESS_KEY"]) == (
            minio["MINIO_ROOT_USER"],
            minio["MINIO_ROOT_PASSWORD"],
        )


def test_links_open_in_a_browser_on_the_host() -> None:
    env = service_env(the("gateway"), {})
    assert env["GATEWAY_HOST"] == "0.0.0.0"
    public = urlsplit(env["PUBLIC_BASE_URL"])
    assert public.hostname in ("localhost", "127.0.0.1") and public.port == int(env["GATEWAY_PORT"])
    assert int(env["GATEWAY_PORT"]) in published(the("gateway"))
    # Media links redirect to presigned URLs of S3_ENDPOINT_URL: the same name must work in the containers
    # (a network alias of MinIO) and in the browser (*.localhost is the loopback, and the port published).
    endpoint = urlsplit(env["S3_ENDPOINT_URL"])
    assert endpoint.hostname in aliases("minio") and endpoint.hostname.endswith(".localhost")
    assert endpoint.port in published("minio")


def test_the_emulators_links_point_at_the_emulator() -> None:
    emulator = service_env(the(EMULATOR), {})
    public = urlsplit(emulator["EMULATOR_PUBLIC_URL"])
    assert public.hostname == the(EMULATOR) and public.port == int(emulator["EMULATOR_PORT"])
    assert emulator["EMULATOR_HOST"] == "0.0.0.0"
    for name in services():
        env = service_env(name, {})
        assert urlsplit(env["DASHSCOPE_BASE_URL"]).hostname == public.hostname
        assert env["IMAGE_URL_ALLOW_HTTP"] == "true"
        assert public.hostname in env["IMAGE_URL_ALLOWED_HOSTS"].split(","), name


def test_env_files_exist_in_every_case() -> None:
    for shell in SCENARIOS.values():
        for name, service in compose.resolved(shell)["services"].items():
            for path, _ in compose.env_files(service):
                assert (ROOT / path).is_file(), f"{name}: {path}"

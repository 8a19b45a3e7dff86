"""What an operator expects of every workload: probes, requests and limits, a locked-down security
context, its own ServiceAccount with the same name, names that agree, secrets only from Secrets, and
settings the processes actually read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from common.settings import Settings

from tests.deploy_k8s.manifests import (
    APP_COMPONENTS,
    BASE,
    SERVICES,
    Obj,
    Rendered,
    component,
    configmap_refs,
    containers,
    image_repository,
    name_label,
    secret_refs,
)

# Read by the gateway's entry point itself, not through Settings.
ENTRY_POINT_SETTINGS = frozenset({"GATEWAY_HOST", "GATEWAY_PORT"})
# Keys of dancer-secrets that are not settings of the processes: KEDA's libpq connection string, and the
# local overlay's own Postgres password.
NON_SETTING_SECRET_KEYS = frozenset({"KEDA_POSTGRES_CONNECTION", "POSTGRES_PASSWORD"})
# Secrets the production overlay expects to exist, made out of band (deploy/k8s/README.md, "Secrets").
EXTERNAL_SECRETS = frozenset({"dancer-secrets", "dancer-kafka-ca", "dancer-tls"})
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL|DATABASE_URL|CONNECTION", re.IGNORECASE)
# A value that looks like a credential: a URL with user:password@, an API key, a webhook secret, a PEM key.
SECRET_VALUE = re.compile(r"://[^/\s:@]+:[^/\s@]+@|\bsk-[A-Za-z0-9]|whsec_|-----BEGIN")

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity as a number (cores or bytes)."""
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def test_every_pod_is_locked_down(rendered: Rendered) -> None:
    problems = []
    for workload, pod in rendered.workloads():
        where = f"{rendered.name}: {workload['kind']} {workload['metadata']['name']}"
        security = pod.get("securityContext", {})
        if security.get("runAsNonRoot") is not True:
            problems.append(f"{where}: pod securityContext.runAsNonRoot is not true")
        if not isinstance(security.get("runAsUser"), int) or security["runAsUser"] <= 0:
            problems.append(f"{where}: pod securityContext.runAsUser is not a numeric non-root uid")
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile is not RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        if pod.get("enableServiceLinks") is not False:
            # Service links would put e.g. KAFKA_PORT or POSTGRES_PORT=tcp://... into every environment.
            problems.append(f"{where}: enableServiceLinks is not false")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{where}: shares a host namespace")
        tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for c in containers(pod):
            at = f"{where} container {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{at}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{at}: readOnlyRootFilesystem is not true")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                problems.append(f"{at}: capabilities are not drop [ALL] with none added")
            if sc.get("privileged"):
                problems.append(f"{at}: privileged")
            if sc.get("runAsUser", 1) == 0 or sc.get("runAsNonRoot") is False:
                problems.append(f"{at}: may run as root")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            if mounts.get("/tmp") not in tmp_volumes:
                problems.append(f"{at}: no writable /tmp (an emptyDir) under a read-only root filesystem")
    assert not problems, "\n".join(problems)


def test_every_container_has_requests_and_limits(rendered: Rendered) -> None:
    problems = []
    for workload, pod in rendered.workloads():
        for c in containers(pod):
            at = f"{rendered.name}: {workload['kind']} {workload['metadata']['name']}/{c['name']}"
            resources = c.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                if request is None or limit is None:
                    problems.append(f"{at}: no {resource} request and limit")
                elif quantity(request) > quantity(limit):
                    problems.append(f"{at}: {resource} request {request} above its limit {limit}")
    assert not problems, "\n".join(problems)


def test_the_archiver_has_room_to_decode_videos(rendered: Rendered) -> None:
    """It downloads a video (up to MAX_VIDEO_BYTES) to a temp file and decodes every frame."""
    archiver = rendered.get("Deployment", "archiver")["spec"]["template"]["spec"]
    stage = rendered.get("Deployment", "uploader")["spec"]["template"]["spec"]
    memory = quantity(archiver["containers"][0]["resources"]["limits"]["memory"])
    assert memory > quantity(stage["containers"][0]["resources"]["limits"]["memory"])
    tmp = next(v for v in archiver["volumes"] if v["name"] == "tmp")
    max_video = int(rendered.config.get("MAX_VIDEO_BYTES", Settings.model_fields["max_video_bytes"].default))
    assert quantity(tmp["emptyDir"]["sizeLimit"]) >= 2 * max_video


def test_long_running_containers_have_probes_on_their_health_endpoints(rendered: Rendered) -> None:
    """Startup, liveness and readiness probes everywhere; the services' on the endpoints they serve:
    the gateway's on GATEWAY_PORT, the stages' and the notifier's on HEALTH_PORT, the emulator's."""
    expected_paths = {
        "api": ("/healthz", "/healthz", "/readyz"),
        "stage": ("/healthz", "/healthz", "/readyz"),
        "notifier": ("/healthz", "/healthz", "/readyz"),
        "emulator": ("/admin/health", "/admin/health", "/admin/health"),
    }
    expected_port = {
        "api": int(rendered.config["GATEWAY_PORT"]),
        "stage": int(rendered.config["HEALTH_PORT"]),
        "notifier": int(rendered.config["HEALTH_PORT"]),
        "emulator": 8100,
    }
    problems = []
    for workload, pod in rendered.workloads():
        if workload["kind"] == "Job":
            continue
        for c in pod["containers"]:
            at = f"{rendered.name}: {workload['kind']} {workload['metadata']['name']}/{c['name']}"
            probes = [c.get(p) for p in ("startupProbe", "livenessProbe", "readinessProbe")]
            if not all(probes):
                problems.append(f"{at}: missing a startup, liveness or readiness probe")
                continue
            kind = component(workload)
            if kind not in expected_paths:
                continue
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            for probe, path in zip(probes, expected_paths[kind], strict=True):
                assert probe is not None
                get = probe.get("httpGet", {})
                port = ports.get(get.get("port"), get.get("port"))
                if get.get("path") != path or port != expected_port[kind]:
                    problems.append(f"{at}: a probe asks {port}{get.get('path')}, expected {path}")
    assert not problems, "\n".join(problems)


def test_each_workload_runs_as_its_own_service_account(rendered: Rendered) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in rendered.of_kind("ServiceAccount")}
    problems = []
    for workload, pod in rendered.workloads():
        name = workload["metadata"]["name"]
        if pod.get("serviceAccountName") != name:
            problems.append(
                f"{rendered.name}: {name} runs as {pod.get('serviceAccountName')!r}, not {name!r}"
            )
        elif accounts[name].get("automountServiceAccountToken") is not False:
            problems.append(f"{rendered.name}: ServiceAccount {name} mounts its token")
    assert not problems, "\n".join(problems)


def _base_folders() -> list[Path]:
    return sorted(p.parent for p in BASE.glob("*/kustomization.yaml"))


def test_base_folders_are_named_like_their_service() -> None:
    """folder = image dancer/<folder> = Deployment (or Job) = ServiceAccount = app.kubernetes.io/name."""
    folders = _base_folders()
    assert {f.name for f in folders} == {*SERVICES, "setup", "emulators"}
    problems = []
    for folder in folders:
        resources = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
        objects = [o for f in resources for o in yaml.safe_load_all((folder / f).read_text()) if o]
        workloads = [o for o in objects if o.get("kind") in ("Deployment", "Job")]
        if len(workloads) != 1:
            problems.append(f"{folder.name}: {len(workloads)} workloads")
            continue
        workload = workloads[0]
        pod = workload["spec"]["template"]
        names = {
            "workload": workload["metadata"]["name"],
            "label": name_label(workload),
            "pod label": pod["metadata"]["labels"].get("app.kubernetes.io/name"),
            "service account": pod["spec"].get("serviceAccountName"),
            "image": image_repository(pod["spec"]["containers"][0]["image"])[0].removeprefix("dancer/"),
            "container": pod["spec"]["containers"][0]["name"],
        }
        names.update(
            {
                f"{o['kind']} {o['metadata']['name']}": o["metadata"]["name"]
                for o in objects
                if o is not workload
            }
        )
        for what, name in names.items():
            if name != folder.name:
                problems.append(f"{folder.name}: {what} is named {name!r}")
        for o in objects:
            if name_label(o) != folder.name:
                problems.append(
                    f"{folder.name}: {o['kind']} {o['metadata']['name']} has label {name_label(o)!r}"
                )
    assert not problems, "\n".join(problems)


def test_rendered_images_are_the_services_own_and_pinned(rendered: Rendered) -> None:
    problems = []
    for workload, pod in rendered.workloads():
        for c in containers(pod):
            repository, tag = image_repository(c["image"])
            if (
                component(workload) in APP_COMPONENTS
                and repository != f"dancer/{workload['metadata']['name']}"
            ):
                problems.append(f"{rendered.name}: {workload['metadata']['name']} runs {c['image']}")
            if not tag or tag == "latest":
                problems.append(f"{rendered.name}: {c['image']} is not pinned to a tag")
    assert not problems, "\n".join(problems)


def test_no_secret_in_a_configmap(rendered: Rendered) -> None:
    problems = []
    for cm in rendered.of_kind("ConfigMap"):
        for key, value in cm.get("data", {}).items():
            if SECRET_NAME.search(key):
                problems.append(f"{rendered.name}: ConfigMap {cm['metadata']['name']} has key {key}")
            if SECRET_VALUE.search(str(value)):
                problems.append(
                    f"{rendered.name}: ConfigMap {cm['metadata']['name']} {key} looks like a secret"
                )
    assert not problems, "\n".join(problems)


def test_secret_settings_come_only_from_secrets(rendered: Rendered) -> None:
    """No secret-looking variable is given a literal value; the processes' secrets come from
    dancer-secrets, key by key (no envFrom of a whole Secret)."""
    problems = []
    for workload, pod in rendered.workloads():
        for c in containers(pod):
            for env in c.get("env", []):
                if SECRET_NAME.search(env["name"]) and "value" in env:
                    problems.append(
                        f"{rendered.name}: {workload['metadata']['name']} sets {env['name']} literally"
                    )
            if any("secretRef" in source for source in c.get("envFrom", [])):
                problems.append(f"{rendered.name}: {workload['metadata']['name']} takes a whole Secret")
    assert not problems, "\n".join(problems)


def _secret_keys(workload: Obj) -> set[str]:
    pod = workload["spec"]["template"]["spec"]
    return {key for _, name, key, _ in secret_refs(pod) if name.startswith("dancer-secrets") and key}


def test_each_process_gets_only_the_secrets_it_uses(rendered: Rendered) -> None:
    """Least privilege: the provider key only where the provider is called, the webhook secret only in
    the notifier, the media signing key only where media links are made or checked."""
    keys = {d["metadata"]["name"]: _secret_keys(d) for d in rendered.app_deployments()}
    keys["setup"] = _secret_keys(rendered.get("Job", "setup"))
    holders: dict[str, set[str]] = {}
    for name, held in keys.items():
        for key in held:
            holders.setdefault(key, set()).add(name)
    assert holders.get("WEBHOOK_SECRET") == {"notifier"}
    assert holders.get("DASHSCOPE_API_KEY") == {"uploader", "detector", "synthesizer", "poller"}
    assert holders.get("CUTOUT_API_KEY") == {"synthesizer", "poller"}  # cutout.pro's submit and query
    assert holders.get("CUTOUT_CALLBACK_TOKEN") == {"gateway"}
    assert holders.get("MEDIA_SIGNING_KEY") == {"gateway", "archiver"}
    assert holders.get("S3_SECRET_ACCESS_KEY") == {"gateway", "uploader", "archiver"}
    for name, held in keys.items():
        if name != "emulators":
            assert {"DATABASE_URL", "KAFKA_SASL_PASSWORD"} <= held, (
                f"{name} lacks its database or Kafka secret"
            )


def test_configured_settings_are_settings_the_processes_read(rendered: Rendered) -> None:
    """Every key of dancer-config is a setting (libs/common/src/common/settings.py) and its value
    passes the settings' own validation: a typo in a key or a value fails here, not at start-up."""
    fields = {name.upper() for name in Settings.model_fields}
    config = rendered.config
    unknown = set(config) - fields - ENTRY_POINT_SETTINGS
    assert not unknown, f"{rendered.name}: dancer-config keys no process reads: {sorted(unknown)}"
    values = {k.lower(): v for k, v in config.items() if k not in ENTRY_POINT_SETTINGS}
    Settings.model_validate(values)
    for workload, pod in rendered.workloads():
        for _, name, key, _ in secret_refs(pod):
            if (
                name.startswith("dancer-secrets")
                and key is not None
                and component(workload) in APP_COMPONENTS
            ):
                assert key in fields | NON_SETTING_SECRET_KEYS, f"{workload['metadata']['name']}: {key}"


def test_every_reference_resolves(rendered: Rendered) -> None:
    """Every ConfigMap and Secret a pod or a TriggerAuthentication names exists in the render (the
    production overlay's Secrets excepted: they are made out of band), with every key it asks for."""
    existing = {
        (o["kind"], o["metadata"]["name"]): {**o.get("data", {}), **o.get("stringData", {})}
        for o in rendered.objects
        if o["kind"] in ("ConfigMap", "Secret")
    }
    wanted: list[tuple[str, str, str | None, bool, str]] = []
    for workload, pod in rendered.workloads():
        who = workload["metadata"]["name"]
        wanted += [("Secret", name, key, optional, who) for _, name, key, optional in secret_refs(pod)]
        wanted += [("ConfigMap", name, None, False, who) for name in configmap_refs(pod)]
    for auth in rendered.of_kind("TriggerAuthentication"):
        who = f"TriggerAuthentication {auth['metadata']['name']}"
        spec = auth["spec"]
        wanted += [("Secret", r["name"], r["key"], False, who) for r in spec.get("secretTargetRef", [])]
        wanted += [("ConfigMap", r["name"], r["key"], False, who) for r in spec.get("configMapTargetRef", [])]
    for ingress in rendered.of_kind("Ingress"):
        for tls in ingress["spec"].get("tls", []):
            wanted.append(
                ("Secret", tls["secretName"], None, False, f"Ingress {ingress['metadata']['name']}")
            )
    problems = []
    for kind, name, key, optional, who in wanted:
        if (kind, name) not in existing:
            if not (kind == "Secret" and rendered.name == "production" and name in EXTERNAL_SECRETS):
                problems.append(f"{rendered.name}: {who} names {kind} {name}, which is not rendered")
        elif key is not None and key not in existing[(kind, name)] and not optional:
            problems.append(f"{rendered.name}: {who} needs key {key} of {kind} {name}, which has none")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_shutdown_is_given_time(rendered: Rendered, kind: str) -> None:
    """SIGTERM: stop consuming, finish in-flight work for SHUTDOWN_TIMEOUT_SECONDS, commit, exit; the
    kubelet must not kill the process first (the gateway also sleeps in preStop first)."""
    timeout = float(rendered.config["SHUTDOWN_TIMEOUT_SECONDS"])
    for workload in rendered.of_kind(kind):
        if component(workload) not in ("api", "stage", "notifier"):
            continue
        pod = workload["spec"]["template"]["spec"]
        pre_stop = (
            pod["containers"][0].get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        )
        grace = pod.get("terminationGracePeriodSeconds", 30)
        assert grace >= timeout + pre_stop + 5, f"{workload['metadata']['name']}: {grace}s to stop"

"""Rendering the kustomize overlays with the real kubectl, and reading what they render.

Nothing here talks to a cluster: `kubectl kustomize` only builds the YAML.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("local", "production")
SCHEMAS = Path(__file__).resolve().parent / "schemas"

Obj = dict[str, Any]

# The services of the product: a folder of the base each (emulators: opt-in, the local overlay adds it).
SERVICES = ("gateway", "uploader", "detector", "synthesizer", "poller", "archiver", "notifier")
STAGES = ("uploader", "detector", "synthesizer", "poller", "archiver")
CONSUMERS = (*STAGES, "notifier")
APP_COMPONENTS = frozenset({"api", "stage", "notifier", "emulator", "setup"})
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Job"})
KEDA_KINDS = frozenset({"ScaledObject", "TriggerAuthentication"})


NO_KUBECTL = (
    "kubectl is not installed: the Kubernetes manifests under deploy/k8s are not rendered nor checked "
    "(install kubectl >= 1.27, which bundles kustomize v5, to run these tests)"
)


def kubectl() -> str | None:
    return shutil.which("kubectl")


def need_kubectl() -> None:
    if kubectl() is None:
        pytest.skip(NO_KUBECTL)


@functools.cache
def render(path: str) -> tuple[Obj, ...]:
    """`kubectl kustomize <path>` (relative to deploy/k8s), as objects."""
    exe = kubectl()
    assert exe is not None, "kubectl is not installed"
    done = subprocess.run(
        [exe, "kustomize", str(K8S / path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {path} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


@dataclass(frozen=True)
class Rendered:
    name: str  # the overlay
    objects: tuple[Obj, ...]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Obj:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.name}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def configmap(self, generated_name: str) -> Obj:
        """A ConfigMap by its name before kustomize appended the content hash."""
        found = [
            o
            for o in self.of_kind("ConfigMap")
            if o["metadata"]["name"] == generated_name
            or o["metadata"]["name"].startswith(generated_name + "-")
        ]
        assert len(found) == 1, f"{self.name}: expected one ConfigMap {generated_name}, found {len(found)}"
        return found[0]

    @property
    def config(self) -> dict[str, str]:
        """The settings every process reads (the ConfigMap dancer-config)."""
        data: dict[str, str] = self.configmap("dancer-config")["data"]
        return data

    def workloads(self) -> Iterator[tuple[Obj, Obj]]:
        """(workload, its pod spec) for every Deployment, StatefulSet and Job."""
        for o in self.objects:
            if o["kind"] in WORKLOAD_KINDS:
                yield o, o["spec"]["template"]["spec"]

    def app_deployments(self) -> list[Obj]:
        return [d for d in self.of_kind("Deployment") if component(d) in APP_COMPONENTS]


def overlay(name: str) -> Rendered:
    return Rendered(name, render(f"overlays/{name}"))


def component(o: Obj) -> str:
    labels: dict[str, str] = o["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/component", "")


def name_label(o: Obj) -> str:
    labels: dict[str, str] = o["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/name", "")


def containers(pod: Obj) -> list[Obj]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def image_repository(image: str) -> tuple[str, str]:
    """`registry.example.com/dancer/gateway:1.0` -> (`dancer/gateway`, `1.0`): the last two path parts."""
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return "/".join(name.split("/")[-2:]), tag


def secret_refs(pod: Obj) -> Iterator[tuple[str, str, str | None, bool]]:
    """(container, secret name, key or None for a whole-Secret reference, optional) of a pod spec."""
    for c in containers(pod):
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                yield c["name"], ref["name"], ref["key"], bool(ref.get("optional"))
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                yield c["name"], source["secretRef"]["name"], None, bool(source["secretRef"].get("optional"))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            yield "", volume["secret"]["secretName"], None, bool(volume["secret"].get("optional"))


def configmap_refs(pod: Obj) -> Iterator[str]:
    for c in containers(pod):
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                yield ref["name"]
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                yield source["configMapRef"]["name"]
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield volume["configMap"]["name"]


def env_names(container: Obj) -> set[str]:
    return {e["name"] for e in container.get("env", [])}


def autoscalers(rendered: Rendered) -> dict[str, list[Obj]]:
    """Deployment name -> the HPAs and ScaledObjects that scale it."""
    found: dict[str, list[Obj]] = {}
    for o in rendered.of_kind("HorizontalPodAutoscaler") + rendered.of_kind("ScaledObject"):
        found.setdefault(o["spec"]["scaleTargetRef"]["name"], []).append(o)
    return found


def min_replicas(scaler: Obj) -> int:
    if scaler["kind"] == "ScaledObject":
        return int(scaler["spec"].get("minReplicaCount", 0))
    return int(scaler["spec"].get("minReplicas", 1))


def max_replicas(scaler: Obj) -> int:
    if scaler["kind"] == "ScaledObject":
        return int(scaler["spec"].get("maxReplicaCount", 100))
    return int(scaler["spec"]["maxReplicas"])

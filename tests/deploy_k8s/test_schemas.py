"""Every rendered object is a valid Kubernetes object: the built-in kinds against the Kubernetes
OpenAPI schemas (kubernetes-validate, strict: unknown fields are errors), KEDA's kinds against the
openAPIV3Schema of KEDA's own CRDs (tests/deploy_k8s/schemas/keda), made strict the same way."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.deploy_k8s.manifests import KEDA_KINDS, SCHEMAS, Obj, Rendered, need_kubectl, render

# The oldest Kubernetes these manifests are meant for (the gateway's `preStop: sleep` needs 1.30+; the
# kubectl the tests use is 1.32), and the newest whose schemas kubernetes-validate bundles.
OLDEST = "1.32"
KUBERNETES_VERSIONS = (OLDEST, kubernetes_validate.latest_version())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_objects_validate_against_the_kubernetes_schemas(rendered: Rendered, version: str) -> None:
    errors = []
    for o in rendered.objects:
        if o["kind"] in KEDA_KINDS:
            continue
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{o['kind']} {o['metadata']['name']}: {exc.message} at {list(exc.path)}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{o['kind']} {o['metadata']['name']}: {exc.message}")
    assert not errors, f"{rendered.name} against Kubernetes {version}:\n" + "\n".join(errors)


def test_the_base_alone_renders_and_validates() -> None:
    """The base is not deployed on its own, but it must build (overlays only add to it)."""
    need_kubectl()
    objects = render("base")
    for o in objects:
        if o["kind"] not in KEDA_KINDS:
            kubernetes_validate.validate(o, OLDEST, strict=True)
    assert {o["kind"] for o in objects} >= {"Deployment", "ScaledObject", "Job", "NetworkPolicy"}


def _strict(schema: Any) -> Any:
    """An OpenAPI v3 schema where an object with declared properties refuses any other (as the API
    server's strict field validation does), unless the schema says unknown fields are kept."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema of that version of a KEDA CRD."""
    schemas = {}
    for path in sorted(Path(SCHEMAS, "keda").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                schemas[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return schemas


def test_keda_crd_schemas_are_present() -> None:
    assert set(_crd_schemas()) >= {
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("keda.sh/v1alpha1", "TriggerAuthentication"),
    }


def _validate_keda(o: Obj) -> list[str]:
    schema = _crd_schemas().get((o["apiVersion"], o["kind"]))
    if schema is None:
        return [f"{o['kind']} {o['metadata']['name']}: no CRD schema for {o['apiVersion']}"]
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{o['kind']} {o['metadata']['name']}: {e.message} at {list(e.absolute_path)}"
        for e in validator.iter_errors(o)
    ]
    # The CRD's one CEL rule (x-kubernetes-validations), which jsonschema does not evaluate.
    spec = o.get("spec", {})
    if o["kind"] == "ScaledObject" and spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        errors.append(f"ScaledObject {o['metadata']['name']}: minReplicaCount > maxReplicaCount")
    return errors


def test_keda_objects_validate_against_the_keda_crds(rendered: Rendered) -> None:
    keda = [o for o in rendered.objects if o["kind"] in KEDA_KINDS]
    assert keda, f"{rendered.name}: no KEDA objects rendered"
    errors = [error for o in keda for error in _validate_keda(o)]
    assert not errors, "\n".join(errors)


def test_the_strict_crd_schema_catches_a_misspelt_field() -> None:
    """The check above is not vacuous: a typo KEDA would silently prune is an error here."""
    so = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "maxReplicaCount": 1,
            "minReplicaCount": 2,
            "triggers": [{"type": "kafka", "metadata": {"topic": "t"}, "authenticationRef": {"nam": "y"}}],
            "maxReplicas": 3,
        },
    }
    errors = "\n".join(_validate_keda(so))
    assert "'maxReplicas' was unexpected" in errors
    assert "'name' is a required property" in errors
    assert "minReplicaCount > maxReplicaCount" in errors

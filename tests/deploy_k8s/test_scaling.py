"""Each stage scales on its own backlog, never past what can do work: KEDA ScaledObjects on the
consumer group's lag (and on the backlogs kept in Postgres), an HPA on CPU for the gateway, and
disruption budgets that protect without blocking a drain (deploy/k8s/README.md, "Scaling")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from common import topics
from common.db.models import Base

from tests.deploy_k8s.manifests import (
    CONSUMERS,
    ROOT,
    STAGES,
    Obj,
    Rendered,
    autoscalers,
    component,
    max_replicas,
    min_replicas,
)

# Provider-bound caps (README "Scaling"): the synthesizer's submissions are serialized per account by an
# advisory lock, the account allows about 5 detections/s (paced to DETECT_RATE_PER_SECOND).
PROVIDER_CAPS = {"synthesizer": 1, "detector": 2}


def input_topics(service: str) -> tuple[str, ...]:
    """The topics a consumer subscribes to, read from its composition root (services/<name>/main.py)."""
    source = Path(ROOT, "services", service, "src", service, "main.py").read_text()
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name | ast.Attribute):
            continue
        called = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        if called == "stage_app" and len(node.args) >= 2:
            arg = node.args[1]
            assert isinstance(arg, ast.Attribute), ast.dump(arg)
            found.append(getattr(topics, arg.attr))
        if called == "subscriber":
            for arg in node.args:
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Attribute):
                    found.extend(getattr(topics, arg.value.attr))
    assert found, f"no subscription found in services/{service}"
    return tuple(found)


def _triggers(so: Obj, kind: str) -> list[Obj]:
    return [t for t in so["spec"]["triggers"] if t["type"] == kind]


def test_input_topics_are_read_from_the_code() -> None:
    assert input_topics("uploader") == (topics.GENERATION_REQUESTED,)
    assert input_topics("notifier") == topics.PUBLIC


@pytest.mark.parametrize("service", CONSUMERS)
def test_each_consumer_scales_on_its_own_group_lag(rendered: Rendered, service: str) -> None:
    so = rendered.get("ScaledObject", service)
    assert so["spec"]["scaleTargetRef"] == {"name": service}
    lag = _triggers(so, "kafka")
    assert sorted(t["metadata"]["topic"] for t in lag) == sorted(input_topics(service))
    deployment = rendered.get("Deployment", service)
    sources = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    config_name = rendered.configmap("dancer-config")["metadata"]["name"]
    assert {"configMapRef": {"name": config_name}} in sources
    auths = {a["metadata"]["name"] for a in rendered.of_kind("TriggerAuthentication")}
    for trigger in lag:
        meta = trigger["metadata"]
        assert meta["consumerGroup"] == service, "each stage is one consumer group named like the service"
        # The same bootstrap servers as the service itself, read from its environment (dancer-config).
        assert meta.get("bootstrapServersFromEnv") == "KAFKA_BOOTSTRAP_SERVERS"
        assert "KAFKA_BOOTSTRAP_SERVERS" in rendered.config
        assert meta.get("offsetResetPolicy") == "earliest", "the services start a new group at the earliest"
        assert int(meta["lagThreshold"]) > 0
        assert trigger["authenticationRef"]["name"] in auths


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_also_scales_on_its_due_retries(rendered: Rendered, stage: str) -> None:
    so = rendered.get("ScaledObject", stage)
    queries = [t["metadata"]["query"] for t in _triggers(so, "postgresql")]
    assert any(
        "FROM stage_retries" in q and f"stage = '{stage}'" in q and "due_at <= now()" in q for q in queries
    )


def test_the_poller_scales_on_its_overdue_polls(rendered: Rendered) -> None:
    queries = [
        t["metadata"]["query"] for t in _triggers(rendered.get("ScaledObject", "poller"), "postgresql")
    ]
    assert any("FROM generations" in q and "next_poll_at <=" in q for q in queries)


# fmt: off
_SQL_WORDS = frozenset({
    "select", "count", "from", "where", "and", "or", "in", "is", "not", "null", "now", "interval",
    "seconds", "minutes", "as", "distinct",
})
# fmt: on


def test_postgres_triggers_count_real_columns(rendered: Rendered) -> None:
    """Every table and column a KEDA query names exists in the product's schema (common.db.models);
    tests/deploy_k8s/test_keda_queries.py also runs them against a migrated database."""
    tables = Base.metadata.tables
    for so in rendered.of_kind("ScaledObject"):
        for trigger in _triggers(so, "postgresql"):
            assert trigger["authenticationRef"]["name"] == "dancer-postgres"
            assert float(trigger["metadata"]["targetQueryValue"]) > 0
            query = trigger["metadata"]["query"]
            table = re.search(r"FROM (\w+)", query)
            assert table and table.group(1) in tables, query
            columns = set(tables[table.group(1)].columns.keys())
            words = set(re.findall(r"\b[a-z_]+\b", re.sub(r"'[^']*'", "", query)))
            unknown = words - columns - _SQL_WORDS - {table.group(1)}
            assert not unknown, f"{so['metadata']['name']}: {query} names {unknown}"


def test_no_stage_outgrows_its_partitions(rendered: Rendered) -> None:
    """A stage process consumes STAGE_CONCURRENCY partitions at once (one consumer each), so past
    TOPIC_PARTITIONS / STAGE_CONCURRENCY replicas the group's extra consumers would have no partition."""
    partitions = int(rendered.config["TOPIC_PARTITIONS"])
    concurrency = int(rendered.config["STAGE_CONCURRENCY"])
    cap = partitions // concurrency
    assert cap >= 1
    for so in rendered.of_kind("ScaledObject"):
        name = so["metadata"]["name"]
        assert 1 <= min_replicas(so) <= max_replicas(so) <= cap, (
            f"{name}: {min_replicas(so)}..{max_replicas(so)}"
        )
        if name in PROVIDER_CAPS:
            assert max_replicas(so) <= PROVIDER_CAPS[name], f"{name} is bound by the provider account"
    assert max_replicas(rendered.get("ScaledObject", "synthesizer")) == 1


def test_the_gateway_scales_on_cpu(rendered: Rendered) -> None:
    hpa = rendered.get("HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    metrics = hpa["spec"]["metrics"]
    assert [m["resource"]["name"] for m in metrics if m["type"] == "Resource"] == ["cpu"]
    assert 1 <= min_replicas(hpa) <= max_replicas(hpa)


def test_each_scaled_deployment_has_one_autoscaler_and_no_fixed_replicas(rendered: Rendered) -> None:
    """Two autoscalers on one Deployment fight; a `replicas` in the manifest is reset by every apply."""
    scalers = autoscalers(rendered)
    for deployment in rendered.app_deployments():
        name = deployment["metadata"]["name"]
        if component(deployment) == "emulator":
            continue
        assert len(scalers.get(name, [])) == 1, f"{name}: {len(scalers.get(name, []))} autoscalers"
        assert "replicas" not in deployment["spec"], f"{name} sets replicas, which its autoscaler owns"
    targets = {d["metadata"]["name"] for d in rendered.of_kind("Deployment")}
    assert set(scalers) <= targets


def test_disruption_budgets_protect_without_blocking_drains(rendered: Rendered) -> None:
    scalers = autoscalers(rendered)
    budgets = {
        pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: pdb
        for pdb in rendered.of_kind("PodDisruptionBudget")
    }
    for deployment in rendered.app_deployments():
        name = deployment["metadata"]["name"]
        if component(deployment) == "emulator":
            continue
        assert name in budgets, f"{name} has no PodDisruptionBudget"
        spec = budgets[name]["spec"]
        fewest = min_replicas(scalers[name][0])
        if "minAvailable" in spec:
            assert int(spec["minAvailable"]) < fewest, f"{name}: minAvailable would block every eviction"
        else:
            assert int(spec["maxUnavailable"]) >= 1

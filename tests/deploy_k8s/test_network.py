"""NetworkPolicies: nothing gets in unless let in; only the gateway takes traffic from outside the
namespace; Prometheus (namespace `monitoring`) may scrape; KEDA (namespace `keda`) may read the lag and
the backlogs of the local overlay's in-cluster Kafka and Postgres; the stages take nothing else."""

from __future__ import annotations

from typing import Any

from tests.deploy_k8s.manifests import Obj, Rendered, component, name_label

MONITORING = "monitoring"
# Namespaces other than monitoring that may reach some pods, and which pods (by app.kubernetes.io/name).
OTHER_NAMESPACES = {"keda": {"kafka", "postgres"}, "ingress-nginx": {"gateway"}}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector against a set of labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def pods(rendered: Rendered) -> dict[str, dict[str, str]]:
    """app.kubernetes.io/name -> the labels of its pods."""
    return {name_label(w): w["spec"]["template"]["metadata"]["labels"] for w, _ in rendered.workloads()}


def selected(policy: Obj, rendered: Rendered) -> set[str]:
    return {name for name, labels in pods(rendered).items() if matches(policy["spec"]["podSelector"], labels)}


def namespace_of(peer: Obj) -> str | None:
    """The one namespace a namespaceSelector peer names, or None for any namespace."""
    labels = peer["namespaceSelector"].get("matchLabels", {})
    name = labels.get("kubernetes.io/metadata.name")
    return str(name) if name and len(peer["namespaceSelector"]) == 1 else None


def test_everything_is_denied_by_default(rendered: Rendered) -> None:
    deny = rendered.get("NetworkPolicy", "default-deny-ingress")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_only_the_gateway_admits_traffic_from_outside(rendered: Rendered) -> None:
    problems = []
    for policy in rendered.of_kind("NetworkPolicy"):
        targets = selected(policy, rendered)
        name = policy["metadata"]["name"]
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from")
            if not peers:
                if targets != {"gateway"}:
                    problems.append(f"{rendered.name}: {name} admits anyone to {sorted(targets)}")
                continue
            for peer in peers:
                if "ipBlock" in peer and targets != {"gateway"}:
                    problems.append(f"{rendered.name}: {name} admits addresses to {sorted(targets)}")
                if "namespaceSelector" not in peer:
                    continue  # a podSelector alone: pods of this namespace
                namespace = namespace_of(peer)
                if namespace is None:
                    problems.append(f"{rendered.name}: {name} admits every namespace to {sorted(targets)}")
                elif namespace != MONITORING and not targets <= OTHER_NAMESPACES.get(namespace, set()):
                    problems.append(
                        f"{rendered.name}: {name} admits namespace {namespace} to {sorted(targets)}"
                    )
    assert not problems, "\n".join(problems)


def test_prometheus_may_scrape_every_process(rendered: Rendered) -> None:
    """The stages' and the notifier's health/metrics port, and the gateway's port, from `monitoring`."""
    allowed: dict[str, set[str]] = {}
    for policy in rendered.of_kind("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from")
            open_to_monitoring = not peers or any(
                "namespaceSelector" in p and namespace_of(p) == MONITORING for p in peers
            )
            if open_to_monitoring:
                for target in selected(policy, rendered):
                    allowed.setdefault(target, set()).update(str(p["port"]) for p in rule.get("ports", []))
    for deployment in rendered.app_deployments():
        if component(deployment) in ("stage", "notifier"):
            assert "health" in allowed.get(deployment["metadata"]["name"], set()), deployment["metadata"][
                "name"
            ]
    assert "http" in allowed.get("gateway", set())


def test_stages_take_no_traffic_but_scraping(rendered: Rendered) -> None:
    labels = pods(rendered)
    for policy in rendered.of_kind("NetworkPolicy"):
        targets = selected(policy, rendered)
        consumers = {
            n for n in targets if labels[n].get("app.kubernetes.io/component") in ("stage", "notifier")
        }
        if not consumers or not policy["spec"].get("ingress"):
            continue
        assert targets == consumers, f"{policy['metadata']['name']} mixes stages with other pods"
        for rule in policy["spec"]["ingress"]:
            assert [namespace_of(p) for p in rule["from"]] == [MONITORING], policy["metadata"]["name"]
            assert [p["port"] for p in rule["ports"]] == ["health"]


def test_every_service_reaches_its_pods(rendered: Rendered) -> None:
    """A Service whose pods no policy admits traffic to would answer nothing."""
    admitted = set()
    for policy in rendered.of_kind("NetworkPolicy"):
        if policy["spec"].get("ingress"):
            admitted |= selected(policy, rendered)
    for service in rendered.of_kind("Service"):
        targets = {
            n
            for n, labels in pods(rendered).items()
            if matches({"matchLabels": service["spec"]["selector"]}, labels)
        }
        assert targets, f"Service {service['metadata']['name']} selects no pod"
        assert targets <= admitted, (
            f"{rendered.name}: no policy admits traffic to {sorted(targets - admitted)}"
        )

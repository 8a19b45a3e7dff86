"""The Grafana dashboard (deploy/dashboards/dancer.json): well-formed, and every `dancer_*` series it
queries is one the processes export (libs/common/src/common/metrics.py), so a renamed metric fails here
rather than leaving an empty panel."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy_k8s.manifests import ROOT

DASHBOARD = ROOT / "deploy" / "dashboards" / "dancer.json"
METRICS = ROOT / "libs" / "common" / "src" / "common" / "metrics.py"
# Series of other exporters: FastStream's middleware, the FastAPI instrumentator, KEDA, kube-state-metrics.
OTHER_PREFIXES = ("faststream_", "http_", "keda_", "kube_")
# fmt: off
PROMQL_WORDS = frozenset({
    "sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile",
    "clamp_min", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "offset", "bool",
})
# fmt: on


def _panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    panels: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def _exprs() -> list[str]:
    return [t["expr"] for p in _panels() for t in p.get("targets", [])]


def exported_series() -> set[str]:
    """The series names common.metrics declares, as Prometheus exposes them."""
    source = METRICS.read_text()
    series = set()
    for kind, name in re.findall(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(dancer_\w+)\"", source):
        if kind == "Counter":
            series.add(name.removesuffix("_total") + "_total")
        elif kind == "Gauge":
            series.add(name)
        else:
            series |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "Summary":
                series.add(name)
    return series


def test_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names[0] == "datasource"
    panels = _panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and panel.get("description"), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


@pytest.mark.parametrize("expr", _exprs())
def test_each_query_is_balanced_and_names_known_series(expr: str) -> None:
    for opening, closing in ("()", "{}", "[]"):
        assert expr.count(opening) == expr.count(closing), f"unbalanced {opening}{closing}: {expr}"
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}|\[[^]]*\]|by \([^)]*\)", "", without_strings)
    names = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", without_labels)) - PROMQL_WORDS
    assert names, expr
    for name in names:
        assert name.startswith(("dancer_", *OTHER_PREFIXES)), f"unknown series {name} in {expr}"


def test_dancer_series_are_the_ones_the_processes_export() -> None:
    if not METRICS.exists():
        pytest.skip("libs/common/src/common/metrics.py does not exist yet")
    exported = exported_series()
    assert exported, "no metric declarations found in common/metrics.py"
    used = {name for expr in _exprs() for name in re.findall(r"\bdancer_\w+", expr)}
    assert used - exported == set(), f"the dashboard queries series nobody exports: {sorted(used - exported)}"


def test_dashboard_covers_the_pipeline() -> None:
    """Where generations are, throughput and errors per stage, work and wait, provider codes (429s),
    retries, outbox, dead letters, poll lag."""
    text = "\n".join(_exprs())
    for needle in (
        "dancer_generations",
        "dancer_stage_work_seconds_count",
        "histogram_quantile(0.99, sum by (stage, le) (rate(dancer_stage_work_seconds_bucket",
        "dancer_stage_queue_wait_seconds_bucket",
        'dancer_provider_calls_total{namespace=~"$namespace", code="429"}',
        "dancer_retries_scheduled_total",
        "dancer_retries_due",
        "dancer_outbox_backlog",
        "dancer_dead_letters_total",
        "dancer_poll_lag_seconds",
    ):
        assert needle in text, needle

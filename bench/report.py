"""The report: Markdown for people (bench/results/latest.md, the README), JSON for everything."""

from __future__ import annotations

import os
import platform
from typing import Any

from bench import callbacks, streams


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def markdown(report: dict[str, Any]) -> str:
    c1, c2 = report["ceiling_1"], report["ceiling_2"]
    lines = [
        f"# Benchmark, {report['date']} ({report['config']['mode']})",
        "",
        f"Machine: {report['machine']['cores']} cores, {report['machine']['memory_gb']} GB, "
        f"Python {report['machine']['python']}, {report['machine']['platform']}. "
        f"Each figure is the median of {report['config']['runs']} run(s) [min-max]. "
        f"Took {report['took_s']} s.",
        "",
        "## 1. Pipeline ceiling (instant emulator, no quotas, one replica per stage)",
        "",
        f"**{fmt(c1['per_second'])} generations/s** ({report['config']['ceiling_generations']} per run).",
        "",
        "| segment | p50 ms | p99 ms |",
        "|---|---|---|",
        *[f"| {name} | {fmt(v['p50_ms'])} | {fmt(v['p99_ms'])} |" for name, v in c1["segments"].items()],
        "",
        "## 2. Gateway latency (gateway alone; load from a separate process)",
        "",
        f"Multipart photo: {report['gateway']['photo_mb']} MB. "
        f"{report['gateway']['seconds_per_level']} s per level.",
        "",
        "| endpoint | offered req/s | achieved req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "json": "POST /api/generations (JSON)",
        "multipart": "POST /api/generations (multipart)",
        "get": "GET /api/generations/{id}",
    }
    for kind, levels in report["gateway"]["levels"].items():
        for level in levels:
            lines.append(
                f"| {names[kind]} | {level['rate']} | {fmt(level['achieved_rate'])} | {fmt(level['p50_ms'])} "
                f"| {fmt(level['p99_ms'])} | {fmt(level['errors'])} |"
            )
    p, b = report["provider"]["product"], report["provider"]["sdk_baseline"]
    lines += [
        "",
        "## 3 and 5. Provider-bound: DashScope's quotas, 50-250 ms API latency, 3 s jobs",
        "",
        f"{report['config']['provider_generations']} generations per run. Baseline: the official SDK "
        f"in {b['threads']} threads (upload, detect, submit, wait; a 429 retried after 1 s).",
        "",
        "| | this product | SDK baseline |",
        "|---|---|---|",
        f"| wall time, s | {fmt(p['wall_s'])} | {fmt(b['wall_s'])} |",
        f"| provider busy / wall | {fmt(p['busy_fraction'])} | {fmt(b['busy_fraction'])} |",
        f"| completion lag p50, s | {fmt(p['completion_lag_p50_s'])} | {fmt(b['completion_lag_p50_s'])} |",
        f"| completion lag p99, s | {fmt(p['completion_lag_p99_s'])} | {fmt(b['completion_lag_p99_s'])} |",
        f"| 429s received | {fmt(p['throttled_429'])} | {fmt(b['throttled_429'])} |",
        "",
        "Provider calls per generation (first run):",
        "",
        "| endpoint | this product | SDK baseline |",
        "|---|---|---|",
    ]
    ours, theirs = p["runs"][0]["calls_per_generation"], b["runs"][0]["calls_per_generation"]
    for endpoint in sorted(set(ours) | set(theirs)):
        lines.append(f"| `{endpoint}` | {ours.get(endpoint, 0)} | {theirs.get(endpoint, 0)} |")
    ratio = c2["per_second"]["median"] / c1["per_second"]["median"]
    lines += [
        "",
        "## 4. Scale: two replicas of each stage",
        "",
        f"{fmt(c2['per_second'])} generations/s with two replicas vs {fmt(c1['per_second'])} with one: "
        f"**{ratio:.2f}x** on {report['machine']['cores']} cores.",
        "",
        *profile_lines(c1["profile"]),
    ]
    if "streams" in report:
        lines += streams.lines(report["streams"])
    if "callbacks" in report:
        lines += callbacks.lines(report["callbacks"])
    return "\n".join(lines)


def profile_lines(found: dict[str, Any]) -> list[str]:
    share = "; ".join
    return [
        f"## Profile: {found['stage']}, the slowest stage "
        f"(py-spy, {found['samples']} CPU samples during one more ceiling run)",
        "",
        f"- own time by package: {share(f'{name} {p}%' for name, p in found['self_by_package'])}",
        f"- time in or under a package: {share(f'{name} {p}%' for name, p in found['within_package'])}",
        f"- busiest functions: {share(f'`{name}` {p}%' for name, p in found['self_by_function'][:6])}",
        "",
    ]


def fmt(value: Any) -> str:
    if isinstance(value, dict):
        return (
            f"{value['median']} [{value['min']}-{value['max']}]"
            if value["min"] != value["max"]
            else str(value["median"])
        )
    return str(value)

"""`make bench` / `make bench-quick`: the real stack on this machine, measured.

Kafka and Postgres (scripts/), the emulator and every service run as separate processes on
127.0.0.1. Each scenario gets a fresh database and a fresh emulator. Nothing here asserts a timing:
it measures, prints and writes bench/results/<stamp>.{json,md} and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.callbacks import callbacks
from bench.report import machine, markdown
from bench.scenarios import (
    CEILING_SERVICES,
    INSTANT,
    PROVIDER,
    PROVIDER_SERVICES,
    Config,
    ceiling,
    gateway,
    provider_bound,
)
from bench.streams import streams
from tests import infra

RESULTS = Path(__file__).resolve().parent / "results"
FULL = Config("full", 3, 150, 8, (25, 50, 100, 200, 400), 3.0, 8)
QUICK = Config("quick", 1, 30, 4, (50, 200), 1.5, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="under 2 minutes, one run each")
    cfg = QUICK if parser.parse_args().quick else FULL
    report: dict[str, Any] = {"date": datetime.now().isoformat(timespec="seconds"), "machine": machine()}
    report["config"] = {
        **asdict(cfg),
        "instant_emulator": INSTANT,
        "provider_emulator": PROVIDER,
        "ceiling_services": CEILING_SERVICES,
        "provider_services": PROVIDER_SERVICES,
    }
    print(f"machine: {json.dumps(report['machine'])}\nconfig: {json.dumps(report['config'])}", flush=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / f"{stamp}-logs"
    begin = time.monotonic()
    with infra.kafka() as kafka, infra.postgres() as postgres:
        servers = (kafka, postgres)
        for key, step in (
            ("ceiling_1", lambda: ceiling(cfg, servers, logs / "ceiling-1", 1)),
            ("ceiling_2", lambda: ceiling(cfg, servers, logs / "ceiling-2", 2)),
            ("gateway", lambda: gateway(cfg, servers, logs / "gateway")),
            ("provider", lambda: provider_bound(cfg, servers, logs / "provider")),
            ("streams", lambda: streams(cfg, servers, logs / "streams")),
            ("callbacks", lambda: callbacks(cfg, servers, logs / "callbacks")),
        ):
            print(f"{key}... ({time.monotonic() - begin:.0f} s)", flush=True)
            report[key] = step()
    report["took_s"] = round(time.monotonic() - begin, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS / f"{stamp}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

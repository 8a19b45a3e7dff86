"""Schemathesis against the live gateway: every operation, positive and negative inputs, all checks.

It reads the OpenAPI document the gateway serves, so the document must describe every request form,
status and problem the API really answers; any mismatch (or a 5xx) fails the test. It runs as
Schemathesis's own CLI (`st run`), the way a client team would run it against us.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"


def test_every_operation_answers_as_its_openapi_document_says(gateway_url: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            ST,
            "--config-file",
            str(CONFIG),
            "run",
            f"{gateway_url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--generation-deterministic",
            "--request-timeout",
            "10",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]

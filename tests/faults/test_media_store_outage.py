"""The media store (a real S3-compatible server) stops answering in the middle of a run: generations
wait as ARCHIVING, nothing is announced before its video is stored, and all complete once it is back."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import boto3
import pytest

from tests import infra
from tests.faults.harness import Stack, stack

pytestmark = pytest.mark.faults
BUCKET = "outage-media"
UPLOADED = "status NOT IN ('QUEUED', 'UPLOADING')"


def _statuses(s: Stack) -> dict[str, str]:
    return {str(r["id"]): r["status"] for r in s.sql("SELECT id, status FROM generations")}


def test_generations_wait_for_the_media_store_and_complete_when_it_is_back(tmp_path: Path) -> None:
    s3_env = {"S3_DATA_DIR": str(tmp_path / "s3"), "S3_PORT": str(infra.free_port())}
    endpoint = infra.script("s3.sh", "start", s3_env).strip().splitlines()[-1].split("=", 1)[1]
    moto_pid = int((tmp_path / "s3" / "moto.pid").read_text())
    try:
        with stack(
            tmp_path,
            MEDIA_BACKEND="s3",
            S3_ENDPOINT_URL=endpoint,
            S3_BUCKET=BUCKET,
            S3_ACCESS_KEY_ID="test",
            S3_SECRET_ACCESS_KEY="test",
            S3_TIMEOUT_SECONDS="2",
        ) as s:
            ids = [s.post(i) for i in range(8)]
            s.wait_until(lambda: int(s.sql(f"SELECT count(*) FROM generations WHERE {UPLOADED}")[0][0]) == 8)

            os.kill(moto_pid, signal.SIGSTOP)  # the store stops answering (its data stays)
            try:
                before = _statuses(s)
                time.sleep(15)
                during = _statuses(s)
            finally:
                os.kill(moto_pid, signal.SIGCONT)
            succeeded = {g for g, status in during.items() if status == "SUCCEEDED"}
            assert succeeded == {g for g, status in before.items() if status == "SUCCEEDED"}
            assert "ARCHIVING" in during.values() and len(succeeded) < 8, during

            final = s.wait_all(ids, timeout=300)
            assert {g["status"] for g in final.values()} == {"SUCCEEDED"}
            _assert_announced_after_stored(s, endpoint)
    finally:
        infra.script("s3.sh", "stop", s3_env, check=False)


def _assert_announced_after_stored(s: Stack, endpoint: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    stored = {
        o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="videos/")["Contents"]
    }
    announced = s.sql("SELECT key, created_at FROM outbox WHERE topic = 'generation.completed'")
    assert len(announced) == 8
    for row in announced:
        stored_at: datetime = stored[f"videos/{row['key']}.mp4"]
        assert stored_at.replace(microsecond=0) <= row["created_at"], row["key"]

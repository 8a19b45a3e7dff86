"""Temporary file storage: the upload policy (`GET /api/v1/uploads`) and the OSS form upload."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from emulators.dashscope.auth import CurrentAccount
from emulators.dashscope.records import OssObject
from emulators.deps import EmulatorDep
from emulators.errors import OssError, invalid_parameter, oss_request_id
from emulators.files import write_file
from emulators.ids import new_request_id
from emulators.signing import BUCKET, OSS_ACCESS_KEY_ID, Policy, decode_policy, encode_policy

CAPACITY_LIMIT_MB = 999_999_999
OSS_PATH = "/oss"
_FORM_FIELDS = ("OSSAccessKeyId", "Signature", "policy", "key")

router = APIRouter()


@router.get("/api/v1/uploads")
async def get_policy(
    action: str, model: str, account: CurrentAccount, emulator: EmulatorDep
) -> dict[str, Any]:
    if action != "getPolicy":
        raise invalid_parameter(f"Unsupported action: {action}")
    settings = emulator.settings
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    upload_dir = f"{BUCKET}/{account}/{today}/{uuid.uuid4()}"
    policy = Policy(
        model=model,
        account=account,
        upload_dir=upload_dir,
        expires_at=time.time() + settings.policy_ttl_seconds,
        max_bytes=settings.upload_max_mb * 1024 * 1024,
    )
    encoded, signature = encode_policy(settings.secret, policy)
    data = {
        "policy": encoded,
        "signature": signature,
        "upload_dir": upload_dir,
        "upload_host": settings.public_url + OSS_PATH,
        "expire_in_seconds": settings.policy_ttl_seconds,
        "max_file_size_mb": settings.upload_max_mb,
        "capacity_limit_mb": CAPACITY_LIMIT_MB,
        "oss_access_key_id": OSS_ACCESS_KEY_ID,
        "x_oss_object_acl": "private",
        "x_oss_forbid_overwrite": "true",
    }
    return {"request_id": new_request_id(), "data": data}


@router.post(OSS_PATH)
async def upload(request: Request, emulator: EmulatorDep) -> Response:
    """OSS PostObject: the policy stands in for the account; success is an empty body."""
    form = await request.form()
    fields = {name: form.get(name) for name in _FORM_FIELDS}
    file = form.get("file")
    if any(not isinstance(value, str) or not value for value in fields.values()):
        raise OssError(
            400, "InvalidArgument", "Form fields OSSAccessKeyId, Signature, policy, key are required."
        )
    if not isinstance(file, UploadFile):
        raise OssError(400, "InvalidArgument", "The form field 'file' is required and must come last.")
    key = str(fields["key"])
    if fields["OSSAccessKeyId"] != OSS_ACCESS_KEY_ID:
        raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist.")
    policy = decode_policy(emulator.settings.secret, str(fields["policy"]), str(fields["Signature"]))
    if policy is None:
        raise OssError(
            403,
            "SignatureDoesNotMatch",
            "Invalid signature: the signature we calculated does not match the signature you provided.",
        )
    if time.time() >= policy.expires_at:
        raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    parts = key.split("/")
    if not key.startswith(policy.upload_dir + "/") or any(part in ("", ".", "..") for part in parts):
        condition = f'["starts-with", "$key", "{policy.upload_dir}"]'
        raise OssError(
            403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"
        )
    data = await file.read()
    if len(data) > policy.max_bytes:
        raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    forbid_overwrite = str(form.get("x-oss-forbid-overwrite", "false")).lower() == "true"
    if forbid_overwrite and emulator.store.get_object(key) is not None:
        raise OssError(
            409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."
        )
    path = emulator.settings.data_dir / "oss" / Path(*parts)
    await asyncio.to_thread(write_file, path, data)
    obj = OssObject(key=key, account=policy.account, model=policy.model, path=path, created_at=time.time())
    emulator.store.put_object(obj)
    status = _success_status(form.get("success_action_status"))
    return Response(status_code=status, headers={"x-oss-request-id": oss_request_id()})


def _success_status(requested: object) -> int:
    """OSS answers 200 / 201 / 204 as asked; the DashScope flow asks for 200, so that is the default."""
    return int(requested) if requested in ("201", "204") else 200

"""HMAC-signed upload policies and result links (both providers'), in the shape OSS uses."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from emulators.ids import AccountId

OSS_ACCESS_KEY_ID = "LTAI5tEmulatorAccessKey"
BUCKET = "dashscope-instant"


@dataclass(frozen=True)
class Policy:
    model: str
    account: AccountId
    upload_dir: str
    expires_at: float
    max_bytes: int


def _sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def encode_policy(secret: str, policy: Policy) -> tuple[str, str]:
    """The base64 policy document and its signature."""
    expiration = datetime.fromtimestamp(policy.expires_at, UTC).isoformat(timespec="milliseconds")
    document = {
        "expiration": expiration.replace("+00:00", "Z"),
        "conditions": [
            ["content-length-range", 0, policy.max_bytes],
            ["starts-with", "$key", policy.upload_dir],
            {"bucket": BUCKET},
            {"x-oss-object-acl": "private"},
            {"x-oss-forbid-overwrite": "true"},
            {"x-emulator-model": policy.model},
            {"x-emulator-account": policy.account},
        ],
    }
    encoded = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    return encoded, _sign(secret, encoded)


def decode_policy(secret: str, encoded: str, signature: str) -> Policy | None:
    """The policy if the signature matches, else None. Expiry is the caller's check."""
    if not hmac.compare_digest(_sign(secret, encoded), signature):
        return None
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return None
    fields: dict[str, object] = {}
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            fields.update(condition)
        elif condition[0] == "starts-with":
            fields["upload_dir"] = condition[2]
        elif condition[0] == "content-length-range":
            fields["max_bytes"] = condition[2]
    expires = datetime.fromisoformat(document["expiration"]).timestamp()
    return Policy(
        model=str(fields["x-emulator-model"]),
        account=AccountId(str(fields["x-emulator-account"])),
        upload_dir=str(fields["upload_dir"]),
        expires_at=expires,
        max_bytes=int(str(fields["max_bytes"])),
    )


def _video_signature(secret: str, name: str, expires: int) -> str:
    return _sign(secret, f"GET\n{name}\n{expires}")


def video_query(secret: str, name: str, expires: int) -> str:
    signature = _video_signature(secret, name, expires)
    return urlencode({"Expires": expires, "OSSAccessKeyId": OSS_ACCESS_KEY_ID, "Signature": signature})


def signed_link(base_url: str, secret: str, name: str, expires: float) -> str:
    """The link to the file `name` under `base_url`, valid until the epoch time `expires`."""
    return f"{base_url}/{name}?{video_query(secret, name, int(expires))}"


def video_signature_ok(secret: str, name: str, expires: int, signature: str) -> bool:
    return hmac.compare_digest(_video_signature(secret, name, expires), signature)

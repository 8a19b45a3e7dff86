"""HTTP helpers: an in-process client, the upload policy and the OSS form upload."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI


def asgi_client(app: FastAPI, *, api_key: str, base_url: str) -> httpx.AsyncClient:
    """An in-process client for `create_app(...)`; `base_url` should be the settings' public_url."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
    )


async def upload_photo(client: httpx.AsyncClient, data: bytes, *, model: str, name: str = "photo.png") -> str:
    """Get a policy for `model`, upload `data` through the form, return its `oss://` URL."""
    policy = await get_policy(client, model)
    key = f"{policy['upload_dir']}/{name}"
    response = await post_form(
        client, policy["upload_host"], form_fields(policy, key), photo_file(data, name)
    )
    response.raise_for_status()
    return f"oss://{key}"


async def post_form(
    client: httpx.AsyncClient, url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> httpx.Response:
    """The OSS form upload, as clients send it: the policy is the credential, no API key."""
    request = client.build_request("POST", url, data=fields, files=files)
    request.headers.pop("Authorization", None)
    return await client.send(request)


async def get_policy(client: httpx.AsyncClient, model: str) -> dict[str, Any]:
    # Absolute path: works whether the client's base_url is the server root or its /api/v1.
    url = client.base_url.join("/api/v1/uploads")
    response = await client.get(url, params={"action": "getPolicy", "model": model})
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


def form_fields(policy: dict[str, Any], key: str) -> dict[str, str]:
    return {
        "OSSAccessKeyId": policy["oss_access_key_id"],
        "Signature": policy["signature"],
        "policy": policy["policy"],
        "key": key,
        "x-oss-object-acl": policy["x_oss_object_acl"],
        "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
        "success_action_status": "200",
    }


def photo_file(data: bytes, name: str = "photo.png") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, "application/octet-stream")}

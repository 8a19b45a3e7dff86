"""Helpers for tests that drive the emulator (here and in the product's own suites)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image, ImageDraw, PngImagePlugin

BODY = (200, 40, 60)
SKIN = (230, 180, 140)


def asgi_client(app: FastAPI, *, api_key: str, base_url: str) -> httpx.AsyncClient:
    """An in-process client for `create_app(...)`; `base_url` should be the settings' public_url."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
    )


def make_photo(
    width: int = 512,
    height: int = 900,
    *,
    background: tuple[int, int, int] = (40, 120, 200),
    image_format: str = "PNG",
    detect_reason: str | None = None,
    detect_code: str | None = None,
) -> bytes:
    """A plain "person" (head and body) on a coloured background.

    `detect_reason` / `detect_code` are written as `emulator-detect*` metadata (PNG text chunks or a
    JPEG comment), which makes the emulator's person check fail.
    """
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    cx, head = width // 2, min(width, height) // 7
    draw.ellipse((cx - head, height // 10, cx + head, height // 10 + 2 * head), fill=SKIN)
    draw.rectangle((cx - 2 * head, height // 10 + 2 * head, cx + 2 * head, height * 9 // 10), fill=BODY)
    lines = [f"emulator-detect: {detect_reason}"] if detect_reason is not None else []
    lines += [f"emulator-detect-code: {detect_code}"] if detect_code is not None else []
    out = io.BytesIO()
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        for line in lines:
            key, _, value = line.partition(": ")
            info.add_text(key, value)
        image.save(out, "PNG", pnginfo=info)
    elif image_format == "JPEG":
        image.save(out, "JPEG", quality=90, comment="\n".join(lines).encode())
    else:
        image.save(out, image_format)
    return out.getvalue()


async def upload_photo(client: httpx.AsyncClient, data: bytes, *, model: str, name: str = "photo.png") -> str:
    """Get a policy for `model`, upload `data` through the form, return its `oss://` URL."""
    policy = await get_policy(client, model)
    key = f"{policy['upload_dir']}/{name}"
    response = await client.post(policy["upload_host"], data=form_fields(policy, key), files=photo_file(data))
    response.raise_for_status()
    return f"oss://{key}"


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

from __future__ import annotations

import base64
import json

import httpx
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import asgi_client, form_fields, get_policy, make_photo, photo_file, upload_photo

DETECT = "animate-anyone-detect-gen2"


async def test_policy_upload_and_detect_pass(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/uploads", params={"action": "getPolicy", "model": DETECT})
    assert response.status_code == 200
    body = response.json()
    assert body["request_id"]
    policy = body["data"]
    assert policy["upload_host"] == "http://emulator.test/oss"
    assert policy["x_oss_forbid_overwrite"] == "true"
    assert policy["expire_in_seconds"] == 300
    assert {"signature", "upload_dir", "oss_access_key_id", "x_oss_object_acl"} <= policy.keys()
    assert {"max_file_size_mb", "capacity_limit_mb"} <= policy.keys()
    document = json.loads(base64.b64decode(policy["policy"]))
    assert {"x-emulator-model": DETECT} in document["conditions"]

    key = f"{policy['upload_dir']}/me.png"
    upload = await client.post(
        policy["upload_host"], data=form_fields(policy, key), files=photo_file(make_photo())
    )
    assert (upload.status_code, upload.content) == (200, b"")

    detect = await client.post(
        "/api/v1/services/aigc/image2video/aa-detect",
        json={"model": DETECT, "input": {"image_url": f"oss://{key}"}},
        headers={"X-DashScope-OssResourceResolve": "enable"},
    )
    assert detect.status_code == 200, detect.text
    assert detect.json()["output"] == {"check_pass": True, "bodystyle": "full", "reason": "success"}
    assert detect.json()["usage"] == {"image_count": 1}
    assert detect.json()["request_id"]


async def test_policy_can_be_reused_for_several_files(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    for name in ("a.png", "b.png"):
        key = f"{policy['upload_dir']}/{name}"
        response = await client.post("/oss", data=form_fields(policy, key), files=photo_file(make_photo()))
        assert response.status_code == 200


async def test_expired_policy_is_refused_with_xml_403(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"policy_ttl_seconds": 0}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        policy = await get_policy(client, DETECT)
        key = f"{policy['upload_dir']}/late.png"
        response = await client.post("/oss", data=form_fields(policy, key), files=photo_file(b"x"))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/xml")
    assert "Policy expired" in response.text


async def test_tampered_signature_is_refused(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    fields = form_fields(policy, f"{policy['upload_dir']}/x.png")
    fields["Signature"] = "AAAA" + fields["Signature"]
    response = await client.post("/oss", data=fields, files=photo_file(b"x"))
    assert response.status_code == 403
    assert "Invalid signature" in response.text


async def test_key_outside_the_upload_dir_is_refused(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    for key in ("dashscope-instant/someone-else/x.png", f"{policy['upload_dir']}/../escape.png"):
        response = await client.post("/oss", data=form_fields(policy, key), files=photo_file(b"x"))
        assert response.status_code == 403, key
        assert "<Code>AccessDenied</Code>" in response.text


async def test_reusing_a_key_gives_409_file_already_exists(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    key = f"{policy['upload_dir']}/same.png"
    first = await client.post("/oss", data=form_fields(policy, key), files=photo_file(make_photo()))
    second = await client.post("/oss", data=form_fields(policy, key), files=photo_file(make_photo()))
    assert first.status_code == 200
    assert second.status_code == 409
    assert "<Code>FileAlreadyExists</Code>" in second.text


async def test_policy_needs_an_api_key(client: httpx.AsyncClient) -> None:
    params = {"action": "getPolicy", "model": DETECT}
    missing = await client.get("/api/v1/uploads", params=params, headers={"Authorization": ""})
    wrong = await client.get("/api/v1/uploads", params=params, headers={"Authorization": "Bearer abc"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["code"] == "InvalidApiKey"
        assert response.json()["request_id"]


async def test_uploaded_file_is_usable_as_oss_url(client: httpx.AsyncClient) -> None:
    url = await upload_photo(client, make_photo(), model=DETECT)
    assert url.startswith("oss://dashscope-instant/")

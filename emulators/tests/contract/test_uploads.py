"""Temporary file storage (dashscope.md §1): the upload policy and the OSS form upload."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from emulators.app import create_app
from emulators.settings import EmulatorSettings
from emulators.testing import (
    asgi_client,
    form_fields,
    get_policy,
    make_photo,
    photo_file,
    post_form,
    upload_photo,
)

DETECT = "animate-anyone-detect-gen2"


async def test_policy_has_the_documented_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/uploads", params={"action": "getPolicy", "model": DETECT})
    assert response.status_code == 200
    body = response.json()
    assert body["request_id"]
    policy = body["data"]
    assert policy["x_oss_forbid_overwrite"] == "true"
    assert float(policy["expire_in_seconds"]) > 0
    assert {
        "policy",
        "signature",
        "upload_dir",
        "upload_host",
        "oss_access_key_id",
        "x_oss_object_acl",
    } <= set(policy)
    assert float(policy["max_file_size_mb"]) > 0 and float(policy["capacity_limit_mb"]) > 0


async def test_form_upload_answers_200_with_an_empty_body(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    key = f"{policy['upload_dir']}/me.png"
    upload = await post_form(
        client, policy["upload_host"], form_fields(policy, key), photo_file(make_photo())
    )
    assert (upload.status_code, upload.content) == (200, b"")


@pytest.mark.emulator_only
async def test_emulator_policy_names_its_model_and_host(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    assert policy["upload_host"] == "http://emulator.test/oss"
    assert policy["expire_in_seconds"] == 300
    document = json.loads(base64.b64decode(policy["policy"]))
    assert {"x-emulator-model": DETECT} in document["conditions"]


async def test_policy_can_be_reused_for_several_files(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    for name in ("a.png", "b.png"):
        key = f"{policy['upload_dir']}/{name}"
        response = await post_form(
            client, policy["upload_host"], form_fields(policy, key), photo_file(make_photo())
        )
        assert response.status_code == 200


@pytest.mark.emulator_only
async def test_expired_policy_is_refused_with_xml_403(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"policy_ttl_seconds": 0}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        policy = await get_policy(client, DETECT)
        key = f"{policy['upload_dir']}/late.png"
        response = await client.post("/oss", data=form_fields(policy, key), files=photo_file(b"x"))
    await app.state.emulator.close()
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/xml")
    assert "Policy expired" in response.text


async def test_tampered_signature_is_refused(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    fields = form_fields(policy, f"{policy['upload_dir']}/x.png")
    fields["Signature"] = "AAAA" + fields["Signature"]
    response = await post_form(client, policy["upload_host"], fields, photo_file(b"x"))
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


async def test_key_outside_the_upload_dir_is_refused(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    for key in ("dashscope-instant/someone-else/x.png", f"{policy['upload_dir']}/../escape.png"):
        response = await post_form(client, policy["upload_host"], form_fields(policy, key), photo_file(b"x"))
        assert response.status_code == 403, key
        assert "<Code>AccessDenied</Code>" in response.text


@pytest.mark.emulator_only
async def test_file_over_the_policy_size_is_refused(settings: EmulatorSettings) -> None:
    app = create_app(settings.model_copy(update={"upload_max_mb": 1}))
    async with asgi_client(app, api_key="sk-a", base_url=settings.public_url) as client:
        policy = await get_policy(client, DETECT)
        key = f"{policy['upload_dir']}/big.bin"
        big = b"\0" * (int(policy["max_file_size_mb"]) * 1024 * 1024 + 1)
        response = await post_form(client, policy["upload_host"], form_fields(policy, key), photo_file(big))
    await app.state.emulator.close()
    assert response.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in response.text


async def test_reusing_a_key_gives_409_file_already_exists(client: httpx.AsyncClient) -> None:
    policy = await get_policy(client, DETECT)
    key = f"{policy['upload_dir']}/same.png"
    fields, host = form_fields(policy, key), policy["upload_host"]
    first = await post_form(client, host, fields, photo_file(make_photo()))
    second = await post_form(client, host, fields, photo_file(make_photo()))
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
    assert url.startswith("oss://")

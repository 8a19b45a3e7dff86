"""Reading a request body at the door: JSON only as application/json, bounded in size and depth;
multipart bounded in parts and sizes; an empty file part counts as no file (as browsers send it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from gateway.errors import ApiError


@dataclass(frozen=True)
class Upload:
    file_name: str | None
    data: bytes


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(kind: str) -> bool:
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _too_deep(value: Any, max_depth: int) -> bool:
    """True if objects and arrays nest more than `max_depth` levels. Level by level, not recursive:
    the parser accepts nesting close to the recursion limit, which a recursive walk would then hit."""
    level, depth = [value], 0
    while level := [v for v in level if isinstance(v, dict | list)]:
        depth += 1
        if depth > max_depth:
            return True
        level = [item for v in level for item in (v.values() if isinstance(v, dict) else v)]
    return False


async def read_json(request: Request, max_bytes: int, max_depth: int) -> dict[str, Any]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, "RequestTooLarge", f"A JSON body may have at most {max_bytes} bytes.")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "InvalidJson", "The body is not valid JSON (UTF-8, one object).") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "InvalidJson", "The body must be a JSON object.")
    if _too_deep(value, max_depth):
        raise ApiError(400, "InvalidJson", f"The JSON is nested more than {max_depth} levels deep.")
    return value


async def read_form(request: Request, max_file_bytes: int) -> tuple[dict[str, str], Upload | None]:
    """The form's text fields and its `file` part (None when absent or empty)."""
    form = await request.form(max_files=4, max_fields=50, max_part_size=64 * 1024)
    fields: dict[str, str] = {}
    upload: Upload | None = None
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name != "file":
                continue  # unknown parts are ignored, like unknown fields
            data = await value.read(max_file_bytes + 1)
            if data or value.filename:
                if upload is not None:
                    raise ApiError(400, "AmbiguousImage", "Send one `file`, not several.", field="file")
                upload = Upload(value.filename, data)
        elif name not in fields:
            fields[name] = value
    await form.close()
    return fields, upload

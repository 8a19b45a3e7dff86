"""An OpenAPI document that tells the truth: both request forms, every problem, the security in force."""

from __future__ import annotations

from typing import Any

from common.settings import Settings
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.problem_types import PROBLEMS, problem_type
from gateway.schemas import GenerationCreate, Problem

_FIELDS = GenerationCreate.model_json_schema(by_alias=True)
_EMAIL = _FIELDS["properties"]["email"]["anyOf"][0]


def _form_field(name: str) -> dict[str, Any]:
    """A form field is a string: never null; an empty one counts as absent."""
    field = {k: v for k, v in _FIELDS["properties"][name].items() if k != "anyOf" and k != "default"}
    if name == "email":
        return {**field, **_EMAIL}
    return {**field, "type": "string", **({"maxLength": 2048} if name != "templateId" else {})}


_FORM = {
    "type": "object",
    "required": ["templateId"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The photo: JPEG, PNG, BMP or WEBP."},
        **{name: _form_field(name) for name in _FIELDS["properties"]},
    },
}

CREATE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _FIELDS,
            "example": {"templateId": "AACT.8090e67b.ADo5Qtp4EfCu1wAWPj1Rgg.anXxTRJZ", "ossUrl": "asset://…"},
        },
        "multipart/form-data": {
            "schema": _FORM,
            "encoding": {"file": {"contentType": "image/jpeg, image/png, image/bmp, image/webp"}},
        },
    },
}


def _example(code: str) -> dict[str, Any]:
    p = PROBLEMS[code]
    value = {
        "type": problem_type(code),
        "title": p.title,
        "status": p.status,
        "detail": p.description,
        "code": code,
    }
    return {"summary": p.title, "value": value}


def problems(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these problem codes, grouped by status, one example per code."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(PROBLEMS[code].status, []).append(code)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, group in sorted(by_status.items()):
        headers = {}
        if status == 429:
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        if status == 401:
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
        responses[status] = {
            "model": Problem,
            "description": "; ".join(f"`{c}`: {PROBLEMS[c].description}" for c in group),
            "content": {"application/problem+json": {"examples": {c: _example(c) for c in group}}},
            **({"headers": headers} if headers else {}),
        }
    return responses


# What a photo can get wrong, on either door that takes one.
PHOTO_PROBLEMS = (
    "EmptyFile",
    "CorruptImage",
    "ImageTooSmall",
    "ImageTooLarge",
    "ImageAspectRatio",
    "FileTooLarge",
    "RequestTooLarge",
    "UnsupportedFileType",
    "UnsupportedMediaType",
)


def install(app: FastAPI, settings: Settings) -> None:
    """FastAPI documents 422 as its own `{detail: [...]}`; this API answers problem+json instead."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _problem_response("InvalidRequest")
                responses.setdefault("500", _problem_response("InternalError"))
                responses.setdefault("503", _problem_response("ServiceUnavailable"))
                for response in responses.values():
                    content = response.get("content", {})
                    if "application/json" in content and "application/problem+json" in content:
                        del content["application/json"]
        if settings.access_mode == "keys":
            components["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            schema["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_response(code: str) -> dict[str, Any]:
    """The response of one problem, for operations FastAPI documents itself."""
    return {
        "description": f"`{code}`: {PROBLEMS[code].description}",
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {code: _example(code)},
            }
        },
    }

"""Every error the API returns is `application/problem+json` (RFC 9457) with the product's short `code`.

`type` is stable per cause (`/problems/<code>`, served by the gateway as a human-readable page);
`detail` says what to do; `field` names the offending request field when there is one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from common.media import MediaUnavailable
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from gateway.problem_types import PROBLEMS, problem_type

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("gateway.errors")


class ApiError(Exception):
    """A request the gateway refuses: rendered as problem+json by the handlers below."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field
        self.headers = headers or {}


def problem(
    status: int, code: str, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": PROBLEMS[code].title if code in PROBLEMS else code,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _loc(loc: tuple[int | str, ...]) -> str:
    """`generation_id` for ("path", "generation_id"): the field as the client names it."""
    parts = loc[1:] if loc and loc[0] in ("body", "path", "query", "header") else loc
    return ".".join(map(str, parts))


def invalid_fields(errors: Sequence[Any]) -> ApiError:
    """422 InvalidRequest from pydantic's errors: each field and what is wrong with it."""
    detail = "; ".join(f"{_loc(e['loc']) or 'body'}: {e['msg']}" for e in errors)
    field = _loc(errors[0]["loc"]) if errors else None
    return ApiError(422, "InvalidRequest", detail, field=field or None)


HTTP_CODES = {
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "RequestTooLarge",
    415: "UnsupportedMediaType",
}


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path (Starlette's own 405 names only one route's)."""
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, field=exc.field, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        invalid = invalid_fields(exc.errors())
        return problem(invalid.status, invalid.code, invalid.detail, field=invalid.field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(
            exc.status_code, "MalformedRequest" if exc.status_code < 500 else "InternalError"
        )
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no such resource; the API is under /api (see /docs)."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            detail = f"{request.method} is not allowed here; use {headers['Allow']}."
        return problem(exc.status_code, code, detail, headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        """The database can't be reached: the client should retry; nothing was accepted."""
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem(
            503,
            "ServiceUnavailable",
            "The service cannot reach its database right now; nothing was stored. Try again shortly.",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(MediaUnavailable)
    async def media_unavailable(request: Request, exc: MediaUnavailable) -> JSONResponse:
        """The media store can't be reached: nothing was accepted (the transaction rolled back)."""
        log.warning("media store unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem(
            503,
            "MediaUnavailable",
            "The photo could not be stored right now; nothing was accepted. Try again shortly.",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        log.error(
            "unexpected error on %s %s (request %s)",
            request.method,
            request.url.path,
            request_id,
            exc_info=exc,
        )
        return problem(
            500,
            "InternalError",
            f"Something went wrong on our side; nothing was accepted. Quote request id {request_id}.",
            headers={"X-Request-Id": request_id},
        )

"""Provider-shaped errors: JSON `{code, message, request_id}` for the API, XML for the OSS form."""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulators.ids import new_request_id

INVALID_URL_MESSAGE = (
    "The request URL is invalid, please check the request URL is available and the request image format "
    "is one of the following types: JPEG, JPG, PNG, BMP, and WEBP."
)


class ProviderError(Exception):
    """An error the DashScope API answers with a JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class OssError(Exception):
    """An error the OSS form upload answers with an XML body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid_parameter(message: str) -> ProviderError:
    return ProviderError(400, "InvalidParameter", message)


def invalid_url(detail: str = "") -> ProviderError:
    suffix = f" ({detail})" if detail else ""
    return ProviderError(400, "InvalidURL", INVALID_URL_MESSAGE + suffix)


def error_json(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"code": code, "message": message, "request_id": new_request_id()}
    )


def oss_request_id() -> str:
    """OSS request ids are 24 upper-case hex digits."""
    return new_request_id().replace("-", "").upper()[:24]


def oss_error_xml(status: int, code: str, message: str) -> Response:
    request_id = oss_request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "  <HostId>dashscope-emulator</HostId>\n</Error>\n"
    )
    headers = {"x-oss-request-id": request_id}
    return Response(content=body, status_code=status, media_type="application/xml", headers=headers)


async def _on_provider_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProviderError)
    return error_json(exc.status, exc.code, exc.message)


async def _on_oss_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, OssError)
    return oss_error_xml(exc.status, exc.code, exc.message)


async def _on_validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query"))
    if first.get("type") == "missing":
        return error_json(400, "InvalidParameter", f"Parameter required: {where}")
    return error_json(400, "InvalidParameter", f"Parameter invalid: {where}: {first.get('msg', '')}")


async def _on_http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "InternalError")
    return error_json(exc.status_code, code, str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProviderError, _on_provider_error)
    app.add_exception_handler(OssError, _on_oss_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)

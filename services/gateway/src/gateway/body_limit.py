"""Refuse a request body over the limit before reading it: by its Content-Length at once, and by
counting the bytes of a chunked body as they arrive (the route then fails with 413, nothing stored)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import problem


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await problem(400, "MalformedRequest", "Content-Length is not a number.")(
                    scope, receive, send
                )
                return
            if int(length) > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # An HTTPException, not an ApiError: FastAPI turns anything else raised while it parses
                # a form into a 400; the 413 is rendered as the RequestTooLarge problem (errors.py).
                raise HTTPException(413, self._detail(), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"The request body is over {self.max_bytes / 1e6:.1f} MB."

    def _too_large(self) -> JSONResponse:
        return problem(413, "RequestTooLarge", self._detail(), headers={"Connection": "close"})

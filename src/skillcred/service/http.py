"""HTTP plumbing the service's routers share: strict-JSON request bodies, the request body
limit (pure ASGI, outermost) and RFC 9457 problem-details responses."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import HTTPException
from fastapi.responses import Response
from fastapi.routing import APIRoute

from skillcred._internal import strictjson
from skillcred.errors import (
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    MalformedDocument,
    SkillcredError,
    StoreError,
)
from skillcred.service.wire import Problem
from skillcred.verify import Check

PROBLEM_JSON = "application/problem+json"
WARNING_TYPE = "about:blank"
LIST_NAME = r"^[A-Za-z0-9._-]{1,200}$"
_BODY_READ_TIMEOUT = 30.0

__all__ = [
    "BodyLimitMiddleware",
    "StrictJSONRoute",
    "error_response",
    "json_response",
    "problem",
]

log = logging.getLogger("skillcred.service")

# ============================================================================================
# Responses


class StrictJSONRequest(Request):
    """A request whose JSON body is read by the library's one strict reader.

    Starlette's ``request.json()`` is ``json.loads(body)``: it sniffs UTF-16/UTF-32, skips a
    BOM, keeps the last of duplicate names and accepts NaN/Infinity, so the service would sign
    or judge a value that other JSON parsers read differently (or not at all). A body refused
    here is a 400 ``PARSING_ERROR`` problem naming the reason; FastAPI passes an HTTPException
    through unchanged (any other error would become its generic "error parsing the body").
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strictjson.loads(await self.body())
            except MalformedDocument as exc:
                raise HTTPException(400, f"the request body is not strict UTF-8 JSON: {exc.message}") from exc
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes whose JSON bodies are parsed by :class:`StrictJSONRequest` (a violation is a 400)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


class DidJsonResponse(Response):
    media_type = "application/did+json"


def json_response(body: Any, status: int = 200, media_type: str = "application/json",
          headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8"), status_code=status,
                    media_type=media_type, headers=dict(headers or {}))


def problem(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
             headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return json_response(body, status, PROBLEM_JSON, headers)


def error_response(exc: SkillcredError) -> Response:
    """Map a library error to an HTTP status with a problem body."""
    status = 400
    if isinstance(exc, StoreError):
        if "already registered" in exc.message:
            status = 409
        elif exc.message.startswith("no credential"):
            status = 404
        elif "has no" in exc.message and "status entry" in exc.message:
            status = 400
        else:
            status = 503
    if status == 503:
        log.error("registry problem: %s", exc)
    title = {400: "Invalid input", 404: "Not found", 409: "Conflict", 503: "Registry unavailable"}[status]
    return problem(status, title, exc.message, type_=exc.problem_type, code=exc.code)


def verification_response(checks: list[Check], warnings: list[str]) -> Response:
    verified = bool(checks) and all(c.ok for c in checks)
    errors = []
    for c in checks:
        if not c.ok:
            d = c.to_dict()
            errors.append({"type": d.get("problem_type", MALFORMED_VALUE_ERROR), "title": f"{c.id}: {c.code}",
                           "detail": c.reason, "code": c.code, "check": c.id, "checkStatus": c.status})
    body: dict[str, Any] = {
        "verified": verified,
        "checks": [c.id for c in checks if c.status == "passed"],
        "warnings": [{"type": WARNING_TYPE, "title": w} for w in warnings],
        "errors": errors,
    }
    if verified:
        return json_response(body)
    first = errors[0] if errors else {"type": PARSING_ERROR, "detail": "nothing could be checked",
                                      "check": "document"}
    return problem(400, "Verification failed", f"{first['check']}: {first['detail']}", type_=first["type"],
                    **body)


def not_verified(title: str, detail: str, type_: str = PARSING_ERROR, status: int = 400, code: str = "") -> Response:
    err = {"type": type_, "title": title, "detail": detail}
    if code:
        err["code"] = code
    return problem(status, title, detail, type_=type_, verified=False, checks=[], warnings=[], errors=[err])


# ============================================================================================
# Request body limit (pure ASGI, outermost): Content-Length first, then counted while streaming


class BodyLimitMiddleware:
    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await self._refuse(send, 400, "Bad Request", "Content-Length is not a number")
                    return
        if length is not None and length > self.max_bytes:
            await self._refuse(send, 413, "Request body too large",
                               f"the body is {length:,} bytes; the limit is {self.max_bytes:,}")
            return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), timeout=_BODY_READ_TIMEOUT)
            except TimeoutError:
                await self._refuse(send, 408, "Request timeout", "the request body did not arrive in time")
                return
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                await self._refuse(send, 413, "Request body too large",
                                   f"the body is over the {self.max_bytes:,}-byte limit")
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        data = b"".join(chunks)
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Callable[[dict[str, Any]], Awaitable[None]], status: int, title: str,
                      detail: str) -> None:
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


# ============================================================================================
# The application


VERIFY_PATHS = ("/credentials/verify", "/presentations/verify")


def responses(*codes: int, verify: bool = False) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Verification failed, or the input is invalid" if verify else "Invalid input",
        401: "Missing or wrong bearer token",
        404: "Not found",
        409: "A credential with this id is already registered",
        413: "Request body too large",
        422: "The request body does not match the request schema",
        503: "The registry is unavailable",
    }
    return {c: {"model": Problem, "description": text[c]} for c in codes}

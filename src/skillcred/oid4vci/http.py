"""The OpenID4VCI endpoints of ``skillcred serve`` (FastAPI), over :class:`Oid4vciIssuer`.

Mounted by :func:`skillcred.service.create_app` under the service's ``--public-url``:

* ``GET  /.well-known/openid-credential-issuer``   Credential Issuer Metadata
* ``GET  /.well-known/oauth-authorization-server`` authorization-server metadata (RFC 8414)
* ``POST /oid4vci/token``       pre-authorized code (+ tx_code) -> access token (form-encoded)
* ``POST /oid4vci/nonce``       a fresh ``c_nonce``
* ``POST /oid4vci/credential``  access token + key proof -> the offer's credential

Offers and nonces live in the service's registry, beside the credentials: the issuer folder's
SQLite file by default, or the ``--registry`` (PostgreSQL, shared by every instance); that is
where ``skillcred offer [--registry ...]`` puts them, so an offer made offline is redeemable
here. Credentials are issued through :class:`skillcred.issuer.Issuer`, exactly as the command
line issues. Errors are the protocol's ``{"error", "error_description"}`` bodies, not problem
details: wallets read those.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from skillcred._internal import strictjson
from skillcred.errors import Oid4vciError, SkillcredError
from skillcred.issuer import Issuer
from skillcred.oid4vci.issuer import Oid4vciIssuer, issue_offered
from skillcred.registry import IssuedRecord, RegistryBackend

if TYPE_CHECKING:  # pragma: no cover
    from skillcred.keys import KeyPair
    from skillcred.models import AchievementDefinition
    from skillcred.service.state import ServiceState

__all__ = ["add_oid4vci_routes", "issuer_for_service"]

MAX_TOKEN_REQUEST = 4 * 1024
MAX_CREDENTIAL_REQUEST = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def issuer_for_service(state: ServiceState, key: KeyPair) -> Oid4vciIssuer:
    """The OpenID4VCI issuer of a service process: offers from the service's registry (each
    step on a connection of its own, for as long as that step), credentials issued under the
    service's locks and registry."""
    config = state.config

    def offers() -> RegistryBackend:
        return cast(RegistryBackend, _EachCallOnAConnection(state))

    def issue(definition: AchievementDefinition, subject: str, name: str | None, level: str | None,
              fmt: str, row_key: str) -> IssuedRecord:
        with state.registries.use() as reg, state.registries.write_lock, state.cpu_lock:
            issuer = Issuer(Path(config.issuer_dir), state.profile, key, reg)
            record = issue_offered(issuer, definition, subject, name, level, fmt, row_key)
        state.invalidate_lists()
        return record

    return Oid4vciIssuer(credential_issuer=config.public_url, issuer_name=state.profile.name,
                         signing_alg=key.public_key.jws_algorithm, suite=state.profile.suite,
                         offers=offers, issue=issue)


class _EachCallOnAConnection:
    """The service's registry for the offer steps: each method call takes a connection (the
    thread's SQLite one, or one of the PostgreSQL pool) and gives it back when it returns, so
    a credential request holds no connection while its credential is issued on another."""

    def __init__(self, state: ServiceState) -> None:
        self._registries = state.registries

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._registries.use() as reg:
                return getattr(reg, name)(*args, **kwargs)

        return call


def _error(exc: Oid4vciError) -> Response:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    if exc.status == 429:
        headers["Retry-After"] = "60"
    return JSONResponse(exc.to_oauth(), status_code=exc.status, headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Oid4vciError("invalid_request", f"the request is larger than {limit} bytes", status=413)
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise Oid4vciError("invalid_request", f"the request is larger than {limit} bytes", status=413)
    return data


def add_oid4vci_routes(app: FastAPI, state: ServiceState, key: KeyPair) -> Oid4vciIssuer:
    """Add the OpenID4VCI endpoints to ``app`` (see the module docstring)."""
    oid = issuer_for_service(state, key)
    app.state.oid4vci = oid
    path = urlsplit(state.config.public_url).path.rstrip("/")

    async def issuer_metadata() -> Response:
        try:
            body = await run_in_threadpool(oid.credential_issuer_metadata)
        except SkillcredError as exc:
            return _error(Oid4vciError("server_error", exc.message, status=500))
        return JSONResponse(body, headers={"Cache-Control": "max-age=60"})

    async def as_metadata() -> Response:
        return JSONResponse(oid.authorization_server_metadata(), headers={"Cache-Control": "max-age=60"})

    async def token(request: Request) -> Response:
        try:
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != \
                    "application/x-www-form-urlencoded":
                raise Oid4vciError("invalid_request", "the token request must be application/x-www-form-urlencoded")
            raw = await _body(request, MAX_TOKEN_REQUEST)
            try:
                form: dict[str, Any] = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
            except ValueError as exc:
                raise Oid4vciError("invalid_request", f"the token request is not a form ({exc})") from exc
            client = request.client.host if request.client else ""
            body = await run_in_threadpool(oid.token, form, client=client)
        except Oid4vciError as exc:
            return _error(exc)
        return JSONResponse(body, headers=_NO_STORE)

    async def nonce(request: Request) -> Response:
        try:
            client = request.client.host if request.client else ""
            body = await run_in_threadpool(oid.nonce, client=client)
        except Oid4vciError as exc:
            return _error(exc)
        return JSONResponse(body, headers=_NO_STORE)

    async def credential(request: Request) -> Response:
        try:
            raw = await _body(request, MAX_CREDENTIAL_REQUEST)
            try:
                body = strictjson.loads(raw, source="credential request")
            except SkillcredError as exc:
                raise Oid4vciError("invalid_credential_request", exc.message) from exc
            result = await run_in_threadpool(oid.credential, request.headers.get("authorization"), body)
        except Oid4vciError as exc:
            return _error(exc)
        return JSONResponse(result, headers=_NO_STORE)

    # Not in /openapi.json: that document describes the VC-API (problem-details errors, JSON
    # bodies); these endpoints follow OAuth / OpenID4VCI (form bodies, {error} answers) and are
    # described by their own metadata and docs/service.md.
    hidden: dict[str, Any] = {"include_in_schema": False}
    for prefix in sorted({"", path}):
        app.add_api_route(f"/.well-known/openid-credential-issuer{prefix}", issuer_metadata, methods=["GET"],
                          **hidden)
        app.add_api_route(f"/.well-known/oauth-authorization-server{prefix}", as_metadata, methods=["GET"],
                          **hidden)
    app.add_api_route("/oid4vci/token", token, methods=["POST"], **hidden)
    app.add_api_route("/oid4vci/nonce", nonce, methods=["POST"], **hidden)
    app.add_api_route("/oid4vci/credential", credential, methods=["POST"], **hidden)
    return oid

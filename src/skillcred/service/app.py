"""The FastAPI application of ``skillcred serve`` (:func:`create_app`), the uvicorn factory its
workers start (:func:`app_from_env`) and :func:`run`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from email.utils import format_datetime as http_date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from skillcred import __version__
from skillcred.did import web_did_url_path
from skillcred.errors import (
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    SkillcredError,
    StoreError,
)
from skillcred.service.http import (
    LIST_NAME,
    PROBLEM_JSON,
    VERIFY_PATHS,
    BodyLimitMiddleware,
    DidJsonResponse,
    StrictJSONRoute,
    error_response,
    json_response,
    not_verified,
    problem,
    responses,
    verification_response,
)
from skillcred.service.state import CONFIG_ENV, ISSUER_NAME, HostedIssuer, ServiceConfig, ServiceState, load_state
from skillcred.service.wire import (
    Health,
    IssueRequest,
    IssueResponse,
    PresentationOptions,
    UpdateStatusRequest,
    UpdateStatusResponse,
    VerificationResult,
    VerifyCredentialRequest,
    VerifyPresentationRequest,
)

__all__ = [
    "NoDelayHTTPProtocol",
    "app_from_env",
    "create_app",
    "run",
]

log = logging.getLogger("skillcred.service")

#: path parameters: a list's name, a hosted issuer configuration's name
ListName = Annotated[str, PathParam(pattern=LIST_NAME)]
IssuerName = Annotated[str, PathParam(pattern=ISSUER_NAME.pattern)]
_UNSAFE_OPEN = ("UNSAFE: issuing and status changes are open to anyone who can reach this service "
                "(--unsafe-open-issuing)")


def create_app(config: ServiceConfig, state: ServiceState | None = None) -> FastAPI:
    """The FastAPI application for one worker process."""
    _configure_logging()
    st = state or load_state(config)
    if config.unsafe_open_issuing:
        log.warning(_UNSAFE_OPEN)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        st.close()

    app = FastAPI(
        title="skillcred VC-API service",
        version=__version__,
        description="W3C VC-API issuer and verifier for skills passports (Open Badges 3.0 / VC 2.0). "
                    "Errors are RFC 9457 problem details.",
        docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    app.state.skillcred = st
    if config.verifier_dir:  # OpenID4VP request_uri / response_uri (skillcred.oid4vp._http)
        from skillcred.oid4vp._http import mount_verifier
        mount_verifier(app, config.verifier_dir, st.policy, max_body_bytes=config.max_body_bytes)
    app.router.route_class = StrictJSONRoute
    bearer = HTTPBearer(auto_error=False, description="The token given to the service with --token-file.")

    def require_token(credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
        token = st.token or b""  # never empty when issuing is guarded (ServiceState checks)
        given = credentials.credentials.encode("utf-8") if credentials is not None else b""
        if credentials is None or not token or not hmac.compare_digest(given, token):
            raise StarletteHTTPException(401, "a valid bearer token is required",
                                         headers={"WWW-Authenticate": 'Bearer realm="skillcred"'})

    def open_issuing() -> None:
        log.warning(_UNSAFE_OPEN)

    guard = Depends(open_issuing) if config.unsafe_open_issuing else Depends(require_token)
    auth_codes: tuple[int, ...] = () if config.unsafe_open_issuing else (401,)

    # -- errors ----------------------------------------------------------------------------

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors()[:20]:
            loc = ".".join(str(p) for p in err.get("loc", ()))
            problems.append({"type": MALFORMED_VALUE_ERROR, "title": f"{loc}: {err.get('msg', 'invalid')}",
                             "detail": str(err.get("msg", ""))[:300], "pointer": loc})
        detail = problems[0]["title"] if problems else "the request body does not match the schema"
        extra: dict[str, Any] = {"errors": problems}
        if request.url.path in VERIFY_PATHS:
            extra.update(verified=False, checks=[], warnings=[])
        return problem(422, "Invalid request", detail, type_=MALFORMED_VALUE_ERROR, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        title = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "Error")
        extra: dict[str, Any] = {}
        if request.url.path in VERIFY_PATHS and exc.status_code == 400:
            extra.update(verified=False, checks=[], warnings=[],
                         errors=[{"type": PARSING_ERROR, "title": title, "detail": detail or title}])
        type_ = PARSING_ERROR if exc.status_code == 400 else "about:blank"
        return problem(exc.status_code, title, detail, type_=type_, headers=exc.headers, **extra)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "unexpected error; see the service log")

    # -- issuing (the primary at /credentials/..., every configuration at /issuers/{name}/...) --

    def do_issue(h: HostedIssuer, body: IssueRequest) -> Response:
        try:
            vc = h.issue(body.credential, body.options)
        except SkillcredError as exc:
            return error_response(exc)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            log.warning("issue: input could not be processed (%s)", type(exc).__name__, exc_info=True)
            return problem(400, "Invalid input", f"the credential could not be processed ({type(exc).__name__})",
                            type_=MALFORMED_VALUE_ERROR)
        return json_response({"verifiableCredential": vc}, 201)

    def do_update_status(h: HostedIssuer, body: UpdateStatusRequest) -> Response:
        changes = body.credentialStatus if isinstance(body.credentialStatus, list) else [body.credentialStatus]
        try:
            results = h.update_status(body.credentialId, changes)
        except SkillcredError as exc:
            return error_response(exc)
        return json_response({"credentialId": body.credentialId, "credentialStatus": results})

    def hosted(name: str) -> HostedIssuer | Response:
        h = st.hosted.get(name)
        return h if h is not None else problem(404, "Not found", f"no issuer configuration {name!r} here")

    issue_doc: dict[str, Any] = dict(
        status_code=201, response_model=None, tags=["issuer"], dependencies=[guard],
        responses={201: {"model": IssueResponse, "description": "The signed credential"},
                   **responses(400, *auth_codes, 404, 409, 413, 422, 503)})
    status_doc: dict[str, Any] = dict(
        response_model=None, tags=["issuer"], dependencies=[guard],
        responses={200: {"model": UpdateStatusResponse, "description": "The status after the change"},
                   **responses(400, *auth_codes, 404, 413, 422, 503)})

    @app.post("/credentials/issue", summary="Issue a credential", **issue_doc)
    def issue_credential(body: IssueRequest) -> Response:
        """Sign the posted credential as this service's (primary) issuer (Data Integrity proof
        with the issuer's cryptosuite), record it in the registry and, with
        ``options.credentialStatus``, give it Bitstring Status List entries whose lists this
        service hosts."""
        return do_issue(st.primary, body)

    @app.post("/issuers/{issuer_name}/credentials/issue", summary="Issue a credential as one hosted issuer",
              **issue_doc)
    def issue_credential_as(issuer_name: IssuerName, body: IssueRequest) -> Response:
        """As ``/credentials/issue``, signed by the named issuer configuration (its key and
        cryptosuite), its status entries in that configuration's lists."""
        h = hosted(issuer_name)
        return h if isinstance(h, Response) else do_issue(h, body)

    @app.post("/credentials/status", summary="Revoke, suspend or unsuspend a credential", **status_doc)
    def update_status(body: UpdateStatusRequest) -> Response:
        """Set (``status: true``) or clear (``false``) a credential's revocation or suspension
        status. Revocation is permanent. Served status lists reflect the change at once on
        this instance and within ``status_refresh_seconds`` on the others."""
        return do_update_status(st.primary, body)

    @app.post("/issuers/{issuer_name}/credentials/status",
              summary="Revoke, suspend or unsuspend a credential of one hosted issuer", **status_doc)
    def update_status_of(issuer_name: IssuerName, body: UpdateStatusRequest) -> Response:
        """As ``/credentials/status``, for a credential issued in the named configuration's
        issuer's name (another's is 404)."""
        h = hosted(issuer_name)
        return h if isinstance(h, Response) else do_update_status(h, body)

    # -- verifying -------------------------------------------------------------------------

    def verified_or_refused(what: str, run: Callable[[], tuple[Any, Any]]) -> Response:
        """Both verify endpoints answer alike: the checks' verdict, 503 when the registry is
        down, 400 naming a refusal or input that could not be processed (logged, not echoed)."""
        try:
            checks, warnings = run()
        except StoreError as exc:
            return not_verified("Registry unavailable", exc.message, "about:blank", status=503, code=exc.code)
        except SkillcredError as exc:
            return not_verified("Verification failed", exc.message, exc.problem_type, code=exc.code)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            log.warning("verify: input could not be processed (%s)", type(exc).__name__, exc_info=True)
            return not_verified("Verification failed", f"the {what} could not be processed "
                                 f"({type(exc).__name__})", MALFORMED_VALUE_ERROR)
        return verification_response(checks, warnings)


    @app.post("/credentials/verify", response_model=None, tags=["verifier"], summary="Verify a credential",
              responses={200: {"model": VerificationResult, "description": "The credential verified"},
                         **responses(400, 413, 422, 503, verify=True)})
    def verify_credential(body: VerifyCredentialRequest) -> Response:
        """Verify proof, issuer binding, validity period, status (this service's lists; others
        are not fetched, so their status is unknown and fails), trust (the --trust list) and
        credential schema. 200 only when everything passed; otherwise 400 with the errors."""
        return verified_or_refused("credential", lambda: st.verify_credential(body.verifiableCredential, body.options))

    @app.post("/presentations/verify", response_model=None, tags=["verifier"], summary="Verify a presentation",
              responses={200: {"model": VerificationResult, "description": "The presentation verified"},
                         **responses(400, 413, 422, 503, verify=True)})
    def verify_presentation(body: VerifyPresentationRequest) -> Response:
        """A signed presentation must carry the expected ``options.challenge`` and
        ``options.domain`` (no challenge: rejected, a replay cannot be told apart). An unsigned
        presentation is accepted only without a challenge; its credentials are then verified
        on their own."""
        opts = body.options or PresentationOptions()
        return verified_or_refused(
            "presentation", lambda: st.verify_presentation(body.verifiablePresentation, opts.challenge, opts.domain))

    # -- status lists ----------------------------------------------------------------------

    def do_get_list(h: HostedIssuer, list_name: str, if_none_match: str | None) -> Response:
        try:
            entry = h.status_lists().get(list_name)
        except SkillcredError as exc:
            return error_response(exc)
        if entry is None:
            return problem(404, "Not found", f"no status list {list_name!r} here")
        headers = {"ETag": entry.etag, "Cache-Control": f"public, max-age={config.status_max_age}",
                   "Last-Modified": http_date(entry.signed_at, usegmt=True)}
        if if_none_match is not None and entry.etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers=headers)
        return json_response(entry.document, headers=headers)

    def do_publish(h: HostedIssuer, list_name: str) -> Response:
        try:
            lists = h.status_lists(force=True)
        except SkillcredError as exc:
            return error_response(exc)
        if list_name not in lists:
            return problem(404, "Not found", f"no status list {list_name!r} here")
        return Response(status_code=204)

    list_doc: dict[str, Any] = dict(
        response_model=None, tags=["status"],
        responses={200: {"model": None, "description": "The status list credential",
                         "content": {"application/json": {"schema": {"type": "object"}}}},
                   304: {"description": "Not modified (If-None-Match)"}, **responses(404, 422, 503)})
    publish_doc: dict[str, Any] = dict(
        status_code=204, response_model=None, tags=["status"], dependencies=[guard],
        responses={204: {"description": "The list is current"}, **responses(*auth_codes, 404, 413, 422, 503)})

    @app.get("/status/{list_name}", summary="A signed BitstringStatusListCredential", **list_doc)
    def get_status_list(list_name: ListName, if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """Signed on demand, re-signed when a status changes; ``ETag`` and ``Cache-Control``
        let caches and verifiers keep a copy for ``status_max_age`` seconds."""
        return do_get_list(st.primary, list_name, if_none_match)

    @app.get("/issuers/{issuer_name}/status/{list_name}",
             summary="A signed BitstringStatusListCredential of one hosted issuer", **list_doc)
    def get_status_list_of(issuer_name: IssuerName, list_name: ListName,
                           if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """As ``/status/{list_name}``, the named configuration's lists (signed with its suite)."""
        h = hosted(issuer_name)
        return h if isinstance(h, Response) else do_get_list(h, list_name, if_none_match)

    @app.post("/status/{list_name}/publish", summary="Re-sign a status list now", **publish_doc)
    def publish_status_list(list_name: ListName) -> Response:
        """Lists are always served current; this only forces this instance to re-read the
        registry (for clients that publish explicitly, as the W3C status-list suite does)."""
        return do_publish(st.primary, list_name)

    @app.post("/issuers/{issuer_name}/status/{list_name}/publish",
              summary="Re-sign a status list of one hosted issuer now", **publish_doc)
    def publish_status_list_of(issuer_name: IssuerName, list_name: ListName) -> Response:
        """As ``/status/{list_name}/publish``, for the named configuration."""
        h = hosted(issuer_name)
        return h if isinstance(h, Response) else do_publish(h, list_name)

    from skillcred._service_sdjwt_vc import add_sdjwt_vc_routes  # SD-JWT VC type metadata, Token Status Lists

    add_sdjwt_vc_routes(app, st)

    # -- DID document, health --------------------------------------------------------------

    def did_route(h: HostedIssuer) -> Callable[[], Response]:
        def did_document() -> Response:
            if h.did_document is None:
                return problem(404, "Not found", f"the issuer {h.profile.did} is not a did:web")
            return json_response(h.did_document, media_type="application/did+json")
        return did_document

    did_responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "The issuer's DID document",
              "content": {"application/did+json": {"schema": {"type": "object"}}}},
        **responses(404)}
    app.add_api_route("/.well-known/did.json", did_route(st.primary), methods=["GET"], response_model=None,
                      response_class=DidJsonResponse, tags=["did"], summary="The issuer's DID document (did:web)",
                      responses=did_responses)
    did_paths: dict[str, tuple[str, dict[str, Any] | None]] = {
        ".well-known/did.json": (st.primary.profile.did, st.primary.did_document)}
    for h in st.hosted.values():  # each did:web with a path, once (a suite twin shares its folder's)
        if h.did_document is None:
            continue
        path = web_did_url_path(h.profile.did).split("/", 3)[3]
        if path in did_paths:
            if did_paths[path][1] != h.did_document:
                log.warning("issuer %s (%s): its DID document path /%s serves %s's document already; "
                            "not served here", h.profile.did, h.name, path, did_paths[path][0])
            continue
        did_paths[path] = (h.profile.did, h.did_document)
        app.add_api_route(f"/{path}", did_route(h), methods=["GET"], response_model=None, tags=["did"],
                          response_class=DidJsonResponse, name=f"did_document_{h.name}",
                          summary=f"The DID document of {h.profile.did} (did:web with a path)",
                          responses=did_responses)

    @app.get("/health", response_model=None, tags=["service"], summary="Liveness",
             responses={200: {"model": Health, "description": "The service is up"}})
    async def health() -> Response:
        return json_response({"status": "ok"})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            # error bodies are problem details: say so (FastAPI documents them as application/json)
            for item in schema.get("paths", {}).values():
                for op in item.values():
                    for code, resp in op.get("responses", {}).items():
                        content = resp.get("content")
                        if code.isdigit() and int(code) >= 400 and content:
                            resp["content"] = {PROBLEM_JSON: next(iter(content.values()))}
            app.openapi_schema = schema
        return app.openapi_schema

    from skillcred.oid4vci.http import add_oid4vci_routes  # OpenID4VCI issuance: offers made by `skillcred offer`

    add_oid4vci_routes(app, st, st._key)
    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory (``skillcred.service:app_from_env``) for each worker process."""
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{CONFIG_ENV} is not set: start the service with 'skillcred serve'")
    return create_app(ServiceConfig.from_json(text))


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, with TCP_NODELAY set on every connection.

    With ``--workers`` above 1 uvicorn binds the listening socket itself (protocol number 0),
    and asyncio then skips TCP_NODELAY on the connections it accepts: every small response
    waits for the client's delayed ACK, about 40 ms. Measured: 45 requests/s instead of
    ~800 with two client threads.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def _configure_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     skillcred: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def run(config: ServiceConfig, *, host: str, port: int, workers: int = 1, log_level: str = "info",
        access_log: bool = True) -> None:
    """Serve until interrupted (``skillcred serve``). Workers are separate processes."""
    import uvicorn

    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("skillcred.service:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=access_log, server_header=False, timeout_keep_alive=5,
                http="skillcred.service.app:NoDelayHTTPProtocol")

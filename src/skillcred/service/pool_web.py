"""The operator's search page of the talent pool: ``skillcred serve --pool TARGET``.

``GET /pool/`` is a form (upload a job-profile file, minimum essentials, region, limit);
``POST /pool/search`` answers with the ranked hits page (the renderer of ``pool search
--html``: the same order, coverage, explanations and plan) and ``POST /pool/search.json``
with exactly the array of ``pool search --json``. Both take a multipart form (a browser, ``curl
-F``) or a JSON body ``{"profile": {...}, "min_essential": ..., "regions": [...], "limit": N}``.

Operator access is guarded by the service's bearer token (``--token-file``): programs send
``Authorization: Bearer``; a browser signs in once with a form, which sets an HttpOnly,
SameSite=Strict cookie holding a value *derived* from the token (never the token itself, and
never in a URL), and each search form carries a second derived value (CSRF). Only
``--unsafe-open-pool`` opens the page to anyone who can reach it (warned on start and in every
log line). The pages run no script: a Content-Security-Policy allows nothing but the page's
one style sheet (by hash) and forms posted back here. Every value shown is escaped.

Every search is logged by the pool as ``pool search`` logs it (who: ``web token:<id>``, the
first 12 hex digits of the token's SHA-256, never the token; the profile's title and digest;
how many hits; never the hits' data).
"""

from __future__ import annotations

import base64
import dataclasses
import email.parser
import email.policy
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from skillcred._internal.fileio import parse_json
from skillcred._internal.poolpage import STYLE, hits_body
from skillcred._internal.textsafe import for_html
from skillcred._internal.urlpolicy import is_loopback_host
from skillcred.errors import InvalidArgument, SkillcredError, StoreError
from skillcred.service.http import BodyLimitMiddleware, json_response, problem
from skillcred.service.state import read_token

__all__ = [
    "MAX_PROFILE_BYTES",
    "POOL_CONFIG_ENV",
    "PoolWebConfig",
    "create_pool_app",
    "mount_pool",
    "pool_router",
    "pool_web_config",
    "run_pool",
]

log = logging.getLogger("skillcred.service")

PREFIX = "/pool"
POOL_CONFIG_ENV = "SKILLCRED_POOL_WEB_CONFIG"
#: an uploaded job profile larger than this is refused (413) before it is parsed
MAX_PROFILE_BYTES = 256 * 1024
MAX_LIMIT = 1000
COOKIE = "skillcred_pool"
_UNSAFE_OPEN = "UNSAFE: the talent pool's search page is open to anyone who can reach this service (--unsafe-open-pool)"
_STYLE = STYLE + ("form{display:grid;gap:.6rem;max-width:30rem;margin:1rem 0}label{display:grid;gap:.2rem}"
                  ".error{color:#a40e26}.warn{background:#fff3cd;padding:.5rem}nav form{display:inline}")
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii")
#: no script at all; the one style sheet by hash; forms post only back here
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store", "X-Frame-Options": "DENY"}


@dataclass(frozen=True)
class PoolWebConfig:
    """What the pool page needs; with ``verifier_dir`` (a pool-only service that also serves a
    verifier folder) the OpenID4VP endpoints run beside it."""

    target: str
    token_file: str | None = None
    unsafe_open_pool: bool = False
    frameworks: tuple[str, ...] = ()
    esco: bool = True
    catalog: str | None = None
    max_body_bytes: int = 1024 * 1024
    verifier_dir: str | None = None
    trust_file: str | None = None
    status_files: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PoolWebConfig:
        data = json.loads(text)
        data["frameworks"] = tuple(data.get("frameworks", ()))
        data["status_files"] = tuple(data.get("status_files", ()))
        return cls(**data)


class _Refused(Exception):
    """A request the page answers with one line: ``status`` and the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class _Query:
    profile: Any  # JobProfile
    digest: str
    min_essential: int | float | None
    regions: tuple[str, ...]
    limit: int


class _PoolWeb:
    """The state the routes share: the token's derived values, the framework and catalog
    (loaded once), the pool target (opened per request: a SQLite connection is per thread)."""

    def __init__(self, config: PoolWebConfig) -> None:
        from skillcred.match import load_catalog, load_framework
        from skillcred.pool import Pool

        self.config = config
        self.token: bytes | None = None
        if not config.unsafe_open_pool:
            if not config.token_file:
                raise InvalidArgument("the pool page needs a bearer token: --token-file FILE "
                                      "(or --unsafe-open-pool for tests)")
            self.token = read_token(config.token_file)
        else:
            log.warning(_UNSAFE_OPEN)
        key = self.token or b""
        self.session = hmac.new(key, b"skillcred pool session", hashlib.sha256).hexdigest()
        self.csrf = hmac.new(key, b"skillcred pool csrf", hashlib.sha256).hexdigest()
        self.who = ("web token:" + hashlib.sha256(self.token).hexdigest()[:12]) if self.token else "web (open)"
        esco = None
        if config.esco:
            from skillcred.esco import default_taxonomy

            esco = default_taxonomy()
        self.framework = load_framework(config.frameworks, esco=esco)
        self.catalog = load_catalog(config.catalog) if config.catalog else None
        with Pool.open(config.target, create=False) as p:  # a missing pool: one line at start
            p.stats()

    # -- access -------------------------------------------------------------------------------

    def bearer_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        scheme, _, given = auth.partition(" ")
        return (self.token is not None and scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode("utf-8"), self.token))

    def cookie_ok(self, request: Request) -> bool:
        return hmac.compare_digest(request.cookies.get(COOKIE, "").encode("utf-8"), self.session.encode("ascii"))

    def allowed(self, request: Request, fields: Mapping[str, Any] | None = None) -> bool:
        """Open, a bearer token, or (a browser) the session cookie plus the form's CSRF value."""
        if self.token is None:
            log.warning(_UNSAFE_OPEN)
            return True
        if self.bearer_ok(request):
            return True
        csrf = fields.get("csrf") if fields is not None else None
        return self.cookie_ok(request) and isinstance(csrf, str) and hmac.compare_digest(
            csrf.encode("utf-8"), self.csrf.encode("ascii"))

    # -- searching ----------------------------------------------------------------------------

    def search(self, q: _Query) -> list[Any]:
        from skillcred.pool import Pool

        with Pool.open(self.config.target, create=False) as p:
            return p.search(q.profile, framework=self.framework, catalog=self.catalog,
                            min_essential=q.min_essential, regions=q.regions, limit=q.limit, operator=self.who,
                            profile_digest=q.digest)


# ============================================================================================
# Request bodies: a multipart form (read with the standard library: no extra dependency) or JSON


async def _fields(request: Request) -> dict[str, Any]:
    """The posted fields: text values as ``str``, the uploaded file as ``(filename, bytes)``.
    The body is already bounded (BodyLimitMiddleware); a field given twice is refused."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = parse_json(body, source="the request body")
        except SkillcredError as exc:
            raise _Refused(400, exc.message) from None
        if not isinstance(data, dict):
            raise _Refused(400, "the request body is a JSON object: {\"profile\": {...}, ...}")
        return data
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise _Refused(400, "the form is not UTF-8 form data") from None
        if any(len(v) > 1 for v in pairs.values()):
            raise _Refused(400, "a form field is given twice")
        return {k: v[0] for k, v in pairs.items()}
    if kind == "multipart/form-data":
        return _multipart(body, ctype)
    raise _Refused(415, "post a form (multipart/form-data) or JSON (application/json)")


def _multipart(body: bytes, ctype: str) -> dict[str, Any]:
    try:
        head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        raise _Refused(400, "the Content-Type header is not Latin-1") from None
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart() or msg.defects:
        raise _Refused(400, "the multipart form could not be read")
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise _Refused(400, "a part of the multipart form has no field name")
        if name in out:
            raise _Refused(400, f"the form field {name!r} is given twice")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            out[name] = (filename, data)
        else:
            try:
                out[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _Refused(400, f"the form field {name!r} is not UTF-8") from None
    return out


def _query(fields: Mapping[str, Any]) -> _Query:
    """The search's parameters, checked as ``pool search`` checks its options."""
    from skillcred.oid4vp._http import profile_from_data
    from skillcred.pool import parse_min_essential

    upload = fields.get("profile")
    if isinstance(upload, tuple):  # a file: the bytes pool search --profile would read
        filename, raw = upload
        source = f"profile {filename or '(unnamed upload)'}"
        if not raw:
            raise _Refused(400, "choose a job-profile file to upload")
        if len(raw) > MAX_PROFILE_BYTES:
            raise _Refused(413, f"{source} is {len(raw):,} bytes; the limit is {MAX_PROFILE_BYTES:,}")
        try:
            doc = parse_json(raw, source=source, max_bytes=MAX_PROFILE_BYTES)
        except SkillcredError as exc:
            raise _Refused(400, f"{source}: {exc.message}") from None
        digest = hashlib.sha256(raw).hexdigest()
    elif isinstance(upload, dict):  # JSON body: the profile document itself
        source = "profile"
        doc = upload
        canonical = json.dumps(upload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        if len(canonical) > MAX_PROFILE_BYTES:
            raise _Refused(413, f"the profile is over the {MAX_PROFILE_BYTES:,}-byte limit")
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    else:
        raise _Refused(400, "no job profile: upload a profile file (field 'profile')")
    if not isinstance(doc, dict):
        raise _Refused(400, f"{source}: expected a JSON object at the top level")
    try:
        profile = profile_from_data(doc, source=source)
    except SkillcredError as exc:
        raise _Refused(400, f"{source}: {exc.message}") from None

    k = fields.get("min_essential")
    try:
        if k is None or (isinstance(k, str) and not k.strip()):
            min_essential: int | float | None = None
        elif isinstance(k, str):
            min_essential = parse_min_essential(k)
        elif isinstance(k, (int, float)) and not isinstance(k, bool):
            min_essential = k
        else:
            raise InvalidArgument("min essential: a count, a fraction or a percentage")
    except SkillcredError as exc:
        raise _Refused(400, exc.message.replace("--min-essential", "min essential")) from None

    regions_in = fields.get("regions", fields.get("region", ""))
    if isinstance(regions_in, str):
        regions = tuple(r.strip() for r in regions_in.split(",") if r.strip())
    elif isinstance(regions_in, list) and all(isinstance(r, str) for r in regions_in):
        regions = tuple(r.strip() for r in regions_in if r.strip())
    else:
        raise _Refused(400, "region: a region code, or several separated by commas")

    limit_in = fields.get("limit", 50)
    try:
        limit = int(limit_in.strip() or 50) if isinstance(limit_in, str) else limit_in
    except ValueError:
        raise _Refused(400, f"limit: {limit_in!r} is not a number") from None
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise _Refused(400, f"limit: a number from 1 to {MAX_LIMIT}")
    return _Query(profile, digest, min_essential, regions, limit)


# ============================================================================================
# Pages


def _page(title: str, body: str, status: int = 200, *, headers: Mapping[str, str] | None = None) -> Response:
    html = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'><title>{for_html(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>\n")
    return Response(html.encode("utf-8"), status_code=status, media_type="text/html; charset=utf-8",
                    headers={**_HEADERS, **(headers or {})})


def _login_form(message: str | None = None) -> str:
    error = f"<p class='error' role='alert'>{for_html(message)}</p>" if message else ""
    return ("<h1>Talent pool: sign in</h1>" + error +
            f"<form method='post' action='{PREFIX}/login'>"
            "<label>Operator token <input type='password' name='token' autocomplete='current-password' required>"
            "</label><button type='submit'>Sign in</button></form>")


def _search_form(web: _PoolWeb) -> str:
    csrf = f"<input type='hidden' name='csrf' value='{web.csrf}'>" if web.token is not None else ""
    banner = ("<p class='warn'>This page is open to anyone who can reach it (--unsafe-open-pool).</p>"
              if web.token is None else
              f"<nav><form method='post' action='{PREFIX}/logout'>{csrf}<button type='submit'>Sign out</button>"
              "</form></nav>")
    return (banner + "<h1>Talent pool: search</h1>"
            f"<form method='post' action='{PREFIX}/search' enctype='multipart/form-data'>{csrf}"
            "<label>Job profile (the JSON file <code>pool search --profile</code> takes)"
            " <input type='file' name='profile' accept='.json,application/json' required></label>"
            "<label>Minimum essential requirements met (a count, 0.7 or 70%; empty: all)"
            " <input type='text' name='min_essential' inputmode='decimal'></label>"
            "<label>Region (e.g. NL-UT; several: commas; empty: all)"
            " <input type='text' name='region'></label>"
            f"<label>At most <input type='number' name='limit' value='50' min='1' max='{MAX_LIMIT}'> candidates"
            "</label><button type='submit'>Search</button></form>")


def _refusal_page(exc: _Refused) -> Response:
    back = f"<p><a href='{PREFIX}/'>Back to the search form</a></p>"
    return _page("Pool search: not done", f"<h1>Not searched</h1><p class='error' role='alert'>"
                 f"{for_html(exc.message)}</p>{back}", exc.status)


def _cookie(request: Request, value: str, *, max_age: int | None = None) -> str:
    """The session cookie: HttpOnly, SameSite=Strict, only under /pool; Secure unless the page
    is reached on this machine over plain http (a browser drops a Secure cookie there)."""
    secure = request.url.scheme == "https" or not is_loopback_host(request.url.hostname)
    parts = [f"{COOKIE}={value}", f"Path={PREFIX}", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def pool_router(config: PoolWebConfig) -> APIRouter:
    """The pool page's routes (under ``/pool``); checks the token file and the pool at once."""
    web = _PoolWeb(config)
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/")
    def index(request: Request) -> Response:
        """The search form, or (signed out) the sign-in form."""
        if web.token is not None and not (web.cookie_ok(request) or web.bearer_ok(request)):
            return _page("Talent pool: sign in", _login_form())
        return _page("Talent pool: search", _search_form(web))

    @router.post("/login")
    async def login(request: Request) -> Response:
        """Check the token from the form; set the session cookie (a value derived from it)."""
        try:
            fields = await _fields(request)
        except _Refused as exc:
            return _page("Talent pool: sign in", _login_form(exc.message), exc.status)
        given = fields.get("token")
        if web.token is None:
            return Response(status_code=303, headers={**_HEADERS, "Location": f"{PREFIX}/"})
        if not isinstance(given, str) or not hmac.compare_digest(given.strip().encode("utf-8"), web.token):
            log.warning("pool page: a sign-in with a wrong token")
            return _page("Talent pool: sign in", _login_form("That is not the operator token."), 401)
        return Response(status_code=303, headers={**_HEADERS, "Location": f"{PREFIX}/",
                                                  "Set-Cookie": _cookie(request, web.session)})

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        try:
            fields = await _fields(request)
        except _Refused as exc:
            return _refusal_page(exc)
        if not web.allowed(request, fields):
            return _page("Talent pool: sign in", _login_form("Sign in first."), 401)
        return Response(status_code=303, headers={**_HEADERS, "Location": f"{PREFIX}/",
                                                  "Set-Cookie": _cookie(request, "", max_age=0)})

    async def run(request: Request) -> tuple[_Query, list[Any]]:
        fields = await _fields(request)
        if not web.allowed(request, fields):
            raise _Refused(401, "sign in first: a valid operator token is required")
        q = _query(fields)
        try:
            return q, await run_in_threadpool(web.search, q)  # a search is database work: off the event loop
        except StoreError as exc:
            log.error("pool: %s", exc.message)
            raise _Refused(503, f"the pool is unavailable: {exc.message}") from None
        except SkillcredError as exc:
            raise _Refused(400, exc.message) from None

    @router.post("/search")
    async def search_page(request: Request) -> Response:
        """The ranked hits page: the renderer of ``pool search --html``."""
        try:
            q, hits = await run(request)
        except _Refused as exc:
            if exc.status == 401:
                return _page("Talent pool: sign in", _login_form("Sign in first."), 401)
            return _refusal_page(exc)
        again = f"<p><a href='{PREFIX}/'>New search</a></p>"
        return _page(f"Pool search: {q.profile.title}", again + hits_body(q.profile.title, hits))

    @router.post("/search.json")
    async def search_json(request: Request) -> Response:
        """Exactly the array of ``pool search --json``, best candidate first."""
        try:
            _q, hits = await run(request)
        except _Refused as exc:
            headers = {"WWW-Authenticate": 'Bearer realm="skillcred"'} if exc.status == 401 else None
            return problem(exc.status, {401: "Unauthorized", 413: "Profile too large", 415: "Unsupported media type",
                                        503: "Pool unavailable"}.get(exc.status, "Invalid input"),
                           exc.message, headers=headers)
        return json_response([h.to_dict() for h in hits])

    return router


def pool_web_config(config: Any) -> PoolWebConfig:
    """The pool page's part of a full service's ``ServiceConfig``: the same token file."""
    return PoolWebConfig(target=config.pool, token_file=config.token_file, unsafe_open_pool=config.unsafe_open_pool,
                         frameworks=tuple(config.pool_frameworks), esco=config.pool_esco, catalog=config.pool_catalog,
                         max_body_bytes=config.max_body_bytes)


def mount_pool(app: FastAPI, config: PoolWebConfig) -> None:
    """Add the pool page to an application (the full ``skillcred serve``, or a pool-only one)."""
    app.include_router(pool_router(config))


# ============================================================================================
# A pool-only service (no issuer folder), optionally with a verifier folder's endpoints


def create_pool_app(config: PoolWebConfig) -> FastAPI:
    """``skillcred serve --pool`` without ``--issuer``: the pool page and /health (and, with a
    verifier folder, its OpenID4VP endpoints)."""
    if config.verifier_dir:
        from skillcred.oid4vp._http import VerifierConfig, create_verifier_app

        app = create_verifier_app(VerifierConfig(verifier_dir=config.verifier_dir, trust_file=config.trust_file,
                                                 status_files=config.status_files,
                                                 max_body_bytes=config.max_body_bytes))
    else:
        app = FastAPI(title="skillcred talent pool", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/health")
        def health() -> Response:
            return json_response({"status": "ok"})

    mount_pool(app, config)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    return app


def pool_app_from_env() -> FastAPI:
    """uvicorn factory for a pool-only ``skillcred serve --pool``."""
    text = os.environ.get(POOL_CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{POOL_CONFIG_ENV} is not set: start the service with 'skillcred serve --pool'")
    return create_pool_app(PoolWebConfig.from_json(text))


def run_pool(config: PoolWebConfig, *, host: str, port: int, workers: int = 1, log_level: str = "info",
             access_log: bool = True) -> None:
    """Serve a pool-only application until interrupted."""
    import uvicorn

    os.environ[POOL_CONFIG_ENV] = config.to_json()
    uvicorn.run("skillcred.service.pool_web:pool_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=access_log, server_header=False,
                timeout_keep_alive=5, http="skillcred.service.app:NoDelayHTTPProtocol")


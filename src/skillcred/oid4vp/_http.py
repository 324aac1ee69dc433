"""The verifier's OpenID4VP endpoints, mounted by ``skillcred serve --verifier DIR``.

* ``GET /oid4vp/requests/{id}`` (the ``request_uri``): a fresh signed request object for that
  vacancy request -- a new transaction with its own nonce and state each time it is fetched;
* ``POST /oid4vp/response`` (the ``response_uri``, ``direct_post``): ``vp_token`` + ``state``,
  form-encoded. The state is consumed first (single use; unknown, used or expired is refused),
  then the response is checked (:func:`check_response`) and its outcome kept -- verified or not,
  with the reason -- for ``skillcred request results``. 200 when it verified, else 400 with
  ``{"error": "invalid_request", "reason": ..., "error_description": ...}``.
  A ``direct_post.jwt`` request (``request new --response-mode direct_post.jwt``) carries a fresh
  encryption key per transaction and takes only ``response=<JWE>`` (:mod:`skillcred.oid4vp._jwe`):
  the JWE's ``kid`` finds the transaction, it is decrypted, and its ``vp_token`` and ``state``
  then go through the same steps. A plain ``vp_token`` for it is refused
  (``response_encryption_required``), as is a JWE for a plain request (``response_mode_mismatch``).

Bodies larger than the service's ``max_body_bytes`` are refused (413) before they are parsed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from skillcred._internal.fileio import MAX_JSON_BYTES, load_json_object, read_bounded
from skillcred.claims import QUALIFICATION_PREFIX
from skillcred.errors import InvalidArgument, MalformedDocument, Oid4vpRefused, SkillcredError
from skillcred.match import PROFILE_SCHEMA, Framework, JobProfile, Requirement
from skillcred.oid4vp._jwe import (
    DEFAULT_ENC,
    ENCRYPTED_MODE,
    decrypt_response,
    encryption_metadata,
    new_encryption_key,
    peek_header,
)
from skillcred.oid4vp._request import DEFAULT_TTL, new_request_payload, sign_request_object
from skillcred.oid4vp._response import check_response
from skillcred.oid4vp._store import VerifierStore
from skillcred.schemas import validate
from skillcred.trust import TrustList
from skillcred.verify.verifier import VerificationPolicy, Verifier

log = logging.getLogger("skillcred.oid4vp")
PREFIX = "/oid4vp"
REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt"
DEFAULT_MAX_BODY = 1024 * 1024
VERIFIER_CONFIG_ENV = "SKILLCRED_OID4VP_CONFIG"


def profile_from_data(data: dict[str, Any], *, source: str = "profile") -> JobProfile:
    """A :class:`JobProfile` from a profile document (as :func:`skillcred.match.load_profile`)."""
    validate(data, PROFILE_SCHEMA, source=source)
    reqs = []
    for r in data["requirements"]:
        ref = r.get("skill") or r.get("achievement") or QUALIFICATION_PREFIX + str(r["qualification"])
        reqs.append(Requirement(ref=ref, label=r["label"], level=r.get("level"),
                                essential=r.get("essential", True), weight=float(r.get("weight", 1))))
    return JobProfile(title=data["title"], occupation=data.get("occupation"), requirements=tuple(reqs))


def request_uri_of(verifier_url: str, rid: str) -> str:
    return f"{verifier_url.rstrip('/')}{PREFIX}/requests/{rid}"


def response_uri_of(verifier_url: str) -> str:
    return f"{verifier_url.rstrip('/')}{PREFIX}/response"


def _refused(exc: Oid4vpRefused, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "reason": exc.reason, "error_description": exc.message},
                        status_code=status)


def oid4vp_router(store: VerifierStore, verifier: Callable[[], Verifier], *, max_body_bytes: int = DEFAULT_MAX_BODY,
                  framework: Framework | None = None, passphrase: bytes | None = None,
                  ttl: int = DEFAULT_TTL) -> APIRouter:
    """The endpoints (module docstring) for one verifier folder, checking with a ``verifier()``
    made per response (status lists are re-read each time: a list cached yesterday may be stale)."""
    key = store.key(passphrase)
    router = APIRouter(prefix=PREFIX)

    @router.get("/requests/{rid}", include_in_schema=True, summary="OpenID4VP request object (request_uri)")
    def request_object(rid: str) -> Response:
        try:
            req = store.request(rid)
        except InvalidArgument:
            return JSONResponse({"error": "invalid_request", "reason": "request_unknown",
                                 "error_description": "no such request"}, status_code=404)
        private_jwk = None
        encryption = None
        if req.response_mode == ENCRYPTED_MODE:  # a fresh key per transaction: one leak opens one response
            public_jwk, private_jwk = new_encryption_key()
            encryption = encryption_metadata(public_jwk, req.enc_values or (DEFAULT_ENC,))
        payload = new_request_payload(
            client_id=store.client_id, response_uri=response_uri_of(req.verifier_url), dcql_query=req.dcql_query,
            purpose=req.purpose, client_name=store.name, ttl=ttl, response_mode=req.response_mode,
            encryption_metadata=encryption)
        try:
            store.open_transaction(rid, payload, encryption_key=private_jwk)
        except Oid4vpRefused as exc:
            return _refused(exc, 503)
        token = sign_request_object(payload, key, kid=store.verification_method)
        return Response(token, media_type=REQUEST_MEDIA_TYPE, headers={"Cache-Control": "no-store"})

    @router.post("/response", summary="OpenID4VP response (response_uri, direct_post)")
    async def response(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return _refused(Oid4vpRefused("response_too_large", f"larger than {max_body_bytes} bytes"), 413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                return _refused(Oid4vpRefused("response_too_large", f"larger than {max_body_bytes} bytes"), 413)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _refused(Oid4vpRefused("response_malformed", "the response must be "
                                          "application/x-www-form-urlencoded (direct_post)"), 415)
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                                         max_num_fields=16)
        except (UnicodeDecodeError, ValueError):
            return _refused(Oid4vpRefused("response_malformed", "the form body cannot be parsed"))
        if any(len(v) != 1 for v in form.values()):
            return _refused(Oid4vpRefused("response_malformed", "a form field is given twice"))
        state = form.get("state", [""])[0]
        vp_token: str | dict[str, Any] = form.get("vp_token", [""])[0]
        if "response" in form:  # direct_post.jwt: state and vp_token are inside the JWE
            try:
                state, vp_token, wallet_error = _decrypted(store, form)
            except Oid4vpRefused as exc:
                log.info("oid4vp encrypted response refused: %s", exc.reason)
                return _refused(exc)
            if wallet_error is not None:  # the wallet's error response, encrypted as asked
                form["error"] = [wallet_error]
        elif state and (store.transaction(state) or {}).get("response_mode") == ENCRYPTED_MODE and vp_token:
            # not consumed: the genuine wallet may still send its encrypted answer
            return _refused(Oid4vpRefused("response_encryption_required", "this request asked for an encrypted "
                                          "response (direct_post.jwt): post response=<JWE>, not a plain vp_token"))
        if not state:
            return _refused(Oid4vpRefused("state_missing", "the response has no state"))
        if "error" in form and not vp_token:
            try:
                rid, _ = store.consume(state)
            except Oid4vpRefused as exc:
                return _refused(exc)
            store.add_response(rid, state, verified=False, reason=f"wallet_{form['error'][0]}"[:64], holder=None,
                               essential_coverage=None, score=None,
                               result={"verified": False, "reason": "wallet_error", "error": form["error"][0][:200]})
            return JSONResponse({})
        if not vp_token:
            return _refused(Oid4vpRefused("vp_token_malformed", "the response has no vp_token"))
        try:
            rid, claims = store.consume(state)
        except Oid4vpRefused as exc:
            log.info("oid4vp response refused: %s", exc.reason)
            return _refused(exc)
        req = store.request(rid)
        try:
            result = check_response(claims, vp_token, verifier=verifier(), profile=profile_from_data(req.profile),
                                    framework=framework)
        except Oid4vpRefused as exc:
            store.add_response(rid, state, verified=False, reason=exc.reason, holder=None, essential_coverage=None,
                               score=None, result={"verified": False, "reason": exc.reason, "message": exc.message})
            log.info("oid4vp response to %s refused: %s", rid, exc.reason)
            return _refused(exc)
        except SkillcredError as exc:
            store.add_response(rid, state, verified=False, reason=exc.code, holder=None, essential_coverage=None,
                               score=None, result={"verified": False, "reason": exc.code, "message": exc.message})
            return _refused(Oid4vpRefused("presentation_invalid", exc.message))
        rowid = store.add_response(rid, state, verified=True, reason=None, holder=result.holder,
                                   essential_coverage=result.match.essential_coverage, score=result.match.score,
                                   result=result.to_dict())
        return JSONResponse({"verified": True, "response_id": rowid})

    return router


def _decrypted(store: VerifierStore, form: dict[str, list[str]]) -> tuple[str, str | dict[str, Any], str | None]:
    """``(state, vp_token, error)`` of a ``direct_post.jwt`` response (``error``: a wallet's error
    response, then no vp_token): its JWE's ``kid`` finds the transaction (and its key), the JWE
    is checked and decrypted (:func:`decrypt_response`), and the state inside must be that
    transaction's. Nothing is consumed here: a JWE nobody can decrypt must not use up a
    transaction the genuine wallet is still answering."""
    extra = set(form) - {"response", "state"}
    if extra:
        raise Oid4vpRefused("response_malformed", f"an encrypted response carries only response= (not "
                            f"{', '.join(sorted(extra))} in the clear)")
    jwe = form["response"][0]
    header = peek_header(jwe)
    outer_state = form.get("state", [""])[0]
    named = store.transaction(outer_state) if outer_state else None
    if named is not None and named.get("response_mode") != ENCRYPTED_MODE:
        raise Oid4vpRefused("response_mode_mismatch", "an encrypted response to a request that asked for a plain "
                            "one (direct_post)")
    kid = header.get("kid")
    found = store.encryption_key(kid) if isinstance(kid, str) and kid else None
    if found is None:
        raise Oid4vpRefused("response_key_mismatch", "the response is encrypted to a key this verifier did not "
                            "give (another verifier's or another request's), or names none")
    state, private_jwk = found
    if private_jwk is None:  # the transaction ended: say how (used: a replay; expired)
        store.consume(state)
        raise Oid4vpRefused("state_used", "this request was already answered")  # consume raised; defensive
    claims = store.transaction(state) or {}
    offered = (claims.get("client_metadata") or {}).get("encrypted_response_enc_values_supported", [DEFAULT_ENC])
    params = decrypt_response(jwe, private_jwk, enc_values=offered)
    inner_state, vp_token = params.get("state"), params.get("vp_token")
    if inner_state != state:
        raise Oid4vpRefused("response_key_mismatch", "the encrypted response's state is not that of the request "
                            "whose key it was encrypted to")
    if outer_state and outer_state != state:
        raise Oid4vpRefused("response_malformed", "the state in the clear differs from the encrypted one")
    if isinstance(vp_token, str | dict) and vp_token:
        return state, vp_token, None
    if isinstance(params.get("error"), str) and params["error"] and not vp_token:
        return state, "", str(params["error"])
    raise Oid4vpRefused("vp_token_malformed", "the encrypted response has no vp_token")


@dataclass(frozen=True)
class VerifierConfig:
    """What a verifier-only ``skillcred serve --verifier DIR`` process needs."""

    verifier_dir: str
    trust_file: str | None = None
    status_files: tuple[str, ...] = ()
    status_cache: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    ttl: int = DEFAULT_TTL

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> VerifierConfig:
        data = json.loads(text)
        data["status_files"] = tuple(data.get("status_files", ()))
        return cls(**data)


def default_status_cache() -> Path:
    """The verifier's status-list cache (``skillcred status import``): $SKILLCRED_STATUS_CACHE, else
    ``~/.cache/skillcred/status`` (the same folder ``skillcred verify`` reads)."""
    env = os.environ.get("SKILLCRED_STATUS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillcred" / "status"


def _is_token_file(path: str | Path) -> bool:
    """An IETF Status List Token file (a compact JWS), not a JSON status-list credential."""
    head = read_bounded(path, max_bytes=MAX_JSON_BYTES, what="status list")[:64].lstrip()
    return head[:1] not in (b"{", b"[")


def status_lists(files: Sequence[str], cache: str | None) -> list[dict[str, Any]]:
    """The status-list credentials of ``files`` and of the cache folder (links and damaged files
    in the cache are skipped: the verdict then says the status is unavailable). Status List
    Tokens among ``files`` are :func:`status_tokens`'."""
    out = [load_json_object(f) for f in files if not _is_token_file(f)]
    folder = Path(cache) if cache else default_status_cache()
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            try:
                out.append(load_json_object(p, follow_symlinks=False))
            except SkillcredError:
                continue
    return out


def status_tokens(files: Sequence[str], cache: str | None) -> list[str]:
    """The IETF Status List Tokens (``statuslist+jwt``, for SD-JWT VCs) of ``files`` and of the
    cache folder (``*.jwt``, as ``skillcred status import`` writes them), read like the Bitstring
    lists: shape-checked here, verified by the Verifier when used; a damaged cached one is
    skipped (its credentials' status is then unavailable), a damaged given one refused."""
    from skillcred.token_status import peek_status_list_token

    def read(path: Path, *, cached: bool = False) -> str:
        raw = read_bounded(path, max_bytes=MAX_JSON_BYTES, what="status list token", follow_symlinks=not cached)
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise MalformedDocument("a Status List Token must be ASCII", path=str(path)) from None
        peek_status_list_token(text)
        return text

    out = []
    for f in files:
        if _is_token_file(f):
            try:
                out.append(read(Path(f)))
            except SkillcredError as exc:
                raise MalformedDocument(f"neither a BitstringStatusListCredential nor a Status List Token "
                                        f"({exc.message})", path=str(f)) from None
    folder = Path(cache) if cache else default_status_cache()
    if folder.is_dir():
        for p in sorted(folder.glob("*.jwt")):
            try:
                out.append(read(p, cached=True))
            except SkillcredError:
                continue
    return out


def verifier_factory(policy: VerificationPolicy, files: Sequence[str] = (), cache: str | None = None
                     ) -> Callable[[], Verifier]:
    """A fresh Verifier per response, with the status lists (Bitstring and Token) as they are now."""
    def make() -> Verifier:
        return Verifier(policy, status_lists=status_lists(files, cache),
                        token_status_lists=status_tokens(files, cache))
    return make


def create_verifier_app(config: VerifierConfig) -> FastAPI:
    """A verifier-only application: the OpenID4VP endpoints and /health, no issuer folder."""
    store = VerifierStore.open(config.verifier_dir)
    passphrase = os.environ.get("SKILLCRED_PASSPHRASE")
    trust = TrustList.load(config.trust_file) if config.trust_file else None
    make = verifier_factory(VerificationPolicy(trust=trust), config.status_files, config.status_cache)
    app = FastAPI(title="skillcred OpenID4VP verifier", docs_url=None, redoc_url=None)
    app.include_router(oid4vp_router(store, make, max_body_bytes=config.max_body_bytes,
                                     passphrase=passphrase.encode() if passphrase else None, ttl=config.ttl))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "verifier": store.did}

    return app


def verifier_app_from_env() -> FastAPI:
    """uvicorn factory for a verifier-only ``skillcred serve``."""
    text = os.environ.get(VERIFIER_CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{VERIFIER_CONFIG_ENV} is not set: start the verifier with 'skillcred serve --verifier'")
    return create_verifier_app(VerifierConfig.from_json(text))


def run_verifier(config: VerifierConfig, *, host: str, port: int, workers: int = 1, log_level: str = "info",
                 access_log: bool = True) -> None:
    """Serve a verifier-only app until interrupted."""
    import uvicorn

    os.environ[VERIFIER_CONFIG_ENV] = config.to_json()
    uvicorn.run("skillcred.oid4vp._http:verifier_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=access_log, server_header=False)


def mount_verifier(app: FastAPI, verifier_dir: str, policy: VerificationPolicy, *, max_body_bytes: int,
                   passphrase: bytes | None = None) -> None:
    """Add the OpenID4VP endpoints of ``verifier_dir`` to a full ``skillcred serve`` app, checking
    with the service's own verification policy (its trust list) and the status cache."""
    store = VerifierStore.open(verifier_dir)
    if passphrase is None and os.environ.get("SKILLCRED_PASSPHRASE"):
        passphrase = os.environ["SKILLCRED_PASSPHRASE"].encode("utf-8")
    # a wallet's presentation is always signed: the VC-API's leniency for unsigned ones is not taken
    own = dataclasses.replace(policy, allow_unsigned_presentations=False)
    app.include_router(oid4vp_router(store, verifier_factory(own), max_body_bytes=max_body_bytes,
                                     passphrase=passphrase))

"""``skillcred serve``: a W3C VC-API issuer and verifier over HTTP (FastAPI + uvicorn).

Endpoints (see ``docs/service.md``; the OpenAPI document is at ``/openapi.json``):

* ``POST /credentials/issue``     sign a posted credential as the service's issuer (bearer token)
* ``POST /credentials/status``    revoke / suspend / unsuspend (bearer token)
* ``POST /credentials/verify``    verify a credential (open)
* ``POST /presentations/verify``  verify a presentation, signed (challenge, domain) or unsigned
* ``GET  /status/{list}``         the signed Bitstring Status List credentials, with caching headers
* ``GET  /.well-known/did.json``  the issuer's DID document (did:web)
* ``GET  /health``                liveness

Verification is stateless: any number of instances verify independently. Issuing keeps state
in the registry (credential rows, status-list indexes): the SQLite file of the issuer folder
by default, or PostgreSQL (``--registry postgresql://...``) when several instances issue
behind a load balancer; index allocation is safe across instances in both (see
:mod:`skillcred.registry_pg`).

Status answers are 200 / 201 for success and 4xx with an RFC 9457 problem-details body
(``application/problem+json``) otherwise; a verification that does not pass is never a 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime as http_date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request, Security
from fastapi import Path as PathParam
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from skillcred import __version__
from skillcred._internal import strictjson
from skillcred._internal.fileio import MAX_SECRET_BYTES, check_depth, load_json_object, read_bounded
from skillcred._internal.integrity import check_related_resources
from skillcred._internal.jsonld import check_terms
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.did import web_did_document, web_did_url_path
from skillcred.errors import (
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    InvalidArgument,
    KeyFileError,
    MalformedDocument,
    SkillcredError,
    StoreError,
)
from skillcred.issuer import KEY_FILE, PROFILE_FILE, REGISTRY_FILE, IssuerProfile
from skillcred.keys import KeyPair, read_key_file
from skillcred.loader import default_loader
from skillcred.proofs import CRYPTOSUITES, add_proof
from skillcred.registry import PURPOSES, Allocation, Registry, StatusListInfo
from skillcred.registry_pg import PgRegistry, is_postgres_url, redact_url
from skillcred.status import BitstringStatusList, status_entry, status_list_credential
from skillcred.trust import TrustList
from skillcred.verify import Check, VerificationPolicy, Verifier
from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "ServiceConfig",
    "app_from_env",
    "create_app",
    "load_state",
    "run",
]

log = logging.getLogger("skillcred.service")

CONFIG_ENV = "SKILLCRED_SERVE_CONFIG"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
ENTRY_TYPE = "BitstringStatusListEntry"
PROBLEM_JSON = "application/problem+json"
WARNING_TYPE = "about:blank"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")
_LIST_NAME = r"^[A-Za-z0-9._-]{1,200}$"
_BODY_READ_TIMEOUT = 30.0
_UNSAFE_OPEN = ("UNSAFE: issuing and status changes are open to anyone who can reach this service "
                "(--unsafe-open-issuing)")


# ============================================================================================
# Configuration (one JSON object; workers started by uvicorn read it from the environment)


@dataclass(frozen=True)
class ServiceConfig:
    issuer_dir: str
    trust_file: str
    public_url: str
    registry: str | None = None
    token_file: str | None = None
    unsafe_open_issuing: bool = False
    passphrase_file: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: ``Cache-Control: max-age`` of served status lists (seconds)
    status_max_age: int = 60
    #: how long a served status list credential stays valid (its ``validUntil``)
    status_valid_hours: int = 24
    #: how often an instance re-reads the registry's status bits (seconds)
    status_refresh_seconds: float = 1.0
    #: database connections per worker process (PostgreSQL)
    pool_size: int = 4
    #: presentations holding more credentials are refused before any is checked
    max_credentials: int = MAX_PRESENTED_CREDENTIALS
    #: a status list issued (validFrom) before this xsd:dateTime is too old (VerificationPolicy)
    status_not_before: str | None = None
    #: use status lists a presentation carries; False: only this service's own lists count
    status_from_presentation: bool = True
    #: sign with an issuer key file that group or others can read (warns; refused otherwise)
    unsafe_allow_open_key_permissions: bool = False
    #: presentations' credentials need not be about their signer (a generic VC-API verifier,
    #: the W3C suites); warns. Default: holder binding required, as for a skills passport.
    unsafe_no_holder_binding: bool = False
    #: a presentation without credentials verifies (VC DM 2.0 §4.13); default: refused
    allow_empty_presentations: bool = False
    #: a verifier folder (skillcred request new): serve its OpenID4VP endpoints too (skillcred.oid4vp)
    verifier_dir: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        data = json.loads(text)
        return cls(**data)

    @property
    def status_base_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/status"


def _passphrase(config: ServiceConfig) -> bytes | None:
    if config.passphrase_file:
        data = read_bounded(config.passphrase_file, max_bytes=MAX_SECRET_BYTES, what="passphrase file",
                            error=KeyFileError).rstrip(b"\r\n")
        return data or None
    env = os.environ.get("SKILLCRED_PASSPHRASE")
    return env.encode("utf-8") if env else None


def _read_token(path: str) -> bytes:
    token = read_bounded(path, max_bytes=MAX_SECRET_BYTES, what="token file", error=InvalidArgument).strip()
    if not token:
        raise InvalidArgument(f"token file {path} is empty")
    if len(token) < 16:
        log.warning("the bearer token in %s is shorter than 16 characters; use a long random one", path)
    return token


def _load_issuer(config: ServiceConfig) -> tuple[IssuerProfile, KeyPair]:
    root = Path(config.issuer_dir)
    profile_path = root / PROFILE_FILE
    if not profile_path.exists():
        raise StoreError("not an issuer folder (no issuer.json; run 'skillcred issuer init')", path=str(root))
    profile = IssuerProfile.from_json(load_json_object(profile_path), source=str(profile_path))
    key = read_key_file(root / KEY_FILE, _passphrase(config), strict_permissions=True,
                        unsafe_allow_open_key_permissions=config.unsafe_allow_open_key_permissions)
    if not profile.verification_method.endswith("#" + key.public_multikey):
        raise StoreError("issuer key does not match issuer.json", path=str(root))
    return profile, key


# ============================================================================================
# Registry access from many threads (and, through the database, many processes)


class _Registries:
    """Registry connections for request threads.

    SQLite: one connection per thread (sqlite3 connections stay in their thread), and one
    writer per process at a time (the other process waits on the database lock). PostgreSQL:
    a small pool of connections; a broken one is dropped and replaced.
    """

    def __init__(self, config: ServiceConfig) -> None:
        target = config.registry or str(Path(config.issuer_dir) / REGISTRY_FILE)
        self.kind: Literal["sqlite", "postgresql"] = "postgresql" if is_postgres_url(target) else "sqlite"
        if self.kind == "sqlite" and target.startswith("sqlite:///"):
            target = target[len("sqlite://"):]
        self._target = target
        self._default_sqlite = config.registry is None
        self._local = threading.local()
        self._pool: queue.LifoQueue[PgRegistry] = queue.LifoQueue()
        self._size = max(1, config.pool_size)
        self._open = 0
        self._pool_lock = threading.Lock()
        self.write_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self.kind == "sqlite" else contextlib.nullcontext()
        )

    @property
    def where(self) -> str:
        return redact_url(self._target) if self.kind == "postgresql" else self._target

    def _open_sqlite(self) -> Registry:
        return Registry.open(self._target, create=not self._default_sqlite)

    @contextlib.contextmanager
    def use(self) -> Iterator[Registry | PgRegistry]:
        if self.kind == "sqlite":
            reg = getattr(self._local, "registry", None)
            if reg is None:
                reg = self._open_sqlite()
                self._local.registry = reg
            yield reg
            return
        pg = self._acquire()
        try:
            yield pg
        finally:
            if pg.closed:
                with self._pool_lock:
                    self._open -= 1
            else:
                self._pool.put(pg)

    def _acquire(self) -> PgRegistry:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._pool_lock:
            grow = self._open < self._size
            if grow:
                self._open += 1
        if grow:
            try:
                return PgRegistry.open(self._target)
            except BaseException:
                with self._pool_lock:
                    self._open -= 1
                raise
        try:
            return self._pool.get(timeout=30)
        except queue.Empty:
            raise StoreError("all registry connections are busy; try again", path=self.where) from None

    def check(self) -> None:
        """Open (and for SQLite close) one connection: fail at start, not at the first request."""
        if self.kind == "sqlite":
            self._open_sqlite().close()
        else:
            with self.use():
                pass

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break


# ============================================================================================
# Process state


@dataclass
class _ListEntry:
    name: str
    url: str
    fingerprint: str
    document: dict[str, Any]
    signed_at: datetime

    @property
    def etag(self) -> str:
        return f'W/"{self.fingerprint[:32]}"'


class ServiceState:
    """Everything one worker process holds: issuer key, trust list, registry access, caches."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.profile, self._key = _load_issuer(config)
        self.token: bytes | None = None
        if config.unsafe_open_issuing:
            if config.token_file:
                raise InvalidArgument("give either --token-file or --unsafe-open-issuing, not both")
        else:
            if not config.token_file:
                raise InvalidArgument("issuing needs a bearer token (--token-file), or --unsafe-open-issuing")
            self.token = _read_token(config.token_file)
        if not _IRI.match(config.public_url) or not config.public_url.startswith(("http://", "https://")):
            raise InvalidArgument(f"--public-url must be an http(s) URL, not {config.public_url!r}")
        trust = TrustList.load(config.trust_file)
        not_before = (parse_datetime(config.status_not_before, field="--status-not-before")
                      if config.status_not_before else None)
        # The one Verifier decides every verdict; what is particular to a VC-API service is
        # stated here as policy: unsigned presentations are verified as a well-formed
        # presentation plus its credentials (none accepted as the presenter's).
        self.policy = VerificationPolicy(trust=trust, max_credentials=config.max_credentials,
                                         status_not_before=not_before,
                                         status_from_presentation=config.status_from_presentation,
                                         require_credentials=not config.allow_empty_presentations,
                                         require_holder_binding=not config.unsafe_no_holder_binding,
                                         allow_unsigned_presentations=True)
        self.did_document: dict[str, Any] | None = None
        if self.profile.did_method == "web":
            did_file = Path(config.issuer_dir) / "did.json"
            self.did_document = (load_json_object(did_file) if did_file.exists()
                                 else web_did_document(self.profile.did, [self._key.public_key]))
        self.registries = _Registries(config)
        #: JSON-LD processing (pyld's caches) is not thread-safe; it is CPU-bound anyway
        self.cpu_lock = threading.Lock()
        self._lists_lock = threading.Lock()
        self._lists: dict[str, _ListEntry] = {}
        self._lists_checked = 0.0
        self._lists_forced = 0.0
        if self.profile.did not in trust.issuers:
            log.warning("this service's issuer %s is not in the trust list %s: credentials it issues "
                        "will not verify here", self.profile.did, config.trust_file)

    # -- issuing -----------------------------------------------------------------------------

    def issue(self, credential: Mapping[str, Any], options: IssueOptions | None) -> dict[str, Any]:
        """Sign a posted credential as this issuer; returns the verifiable credential."""
        check_depth(credential)
        doc = copy.deepcopy(dict(credential))
        version = _vc_version(doc)
        if "proof" in doc:
            raise InvalidArgument("the credential already has a proof: post the unsigned credential")
        types = doc.get("type")
        type_list = [types] if isinstance(types, str) else types
        if not isinstance(type_list, list) or not all(isinstance(t, str) for t in type_list) \
                or "VerifiableCredential" not in type_list:
            raise MalformedDocument("type must be VerifiableCredential or a list of strings that includes it")
        subjects = doc.get("credentialSubject")
        subject_list: list[Any] = subjects if isinstance(subjects, list) else [subjects]
        if not subject_list or not all(isinstance(s, dict) and s for s in subject_list):
            raise MalformedDocument("credentialSubject must be a non-empty object or a non-empty list of them")
        for s in subject_list:
            if "id" in s and not (isinstance(s["id"], str) and _IRI.match(s["id"])):
                raise MalformedDocument("credentialSubject id must be a URL")
        _check_data_model(doc, version)
        doc = self._set_issuer(doc)
        options = options or IssueOptions()
        credential_id = doc.get("id")
        if credential_id is not None:
            if not isinstance(credential_id, str) or not _IRI.match(credential_id):
                raise MalformedDocument("the credential id must be a URL")
            if options.credentialId is not None and options.credentialId != credential_id:
                raise InvalidArgument("options.credentialId differs from the credential's id")
        elif options.credentialId is not None:
            if not _IRI.match(options.credentialId):
                raise MalformedDocument("options.credentialId must be a URL")
            credential_id = options.credentialId
        else:
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            doc = _insert_after(doc, "@context", "id", credential_id)
        if version == "1.1" and "issuanceDate" not in doc:
            doc["issuanceDate"] = format_datetime(utcnow())
        purposes = _requested_purposes(options)
        existing = doc.get("credentialStatus")
        existing_list = [] if existing is None else existing if isinstance(existing, list) else [existing]
        for entry in existing_list:
            target = entry.get("statusListCredential") if isinstance(entry, dict) else None
            if isinstance(target, str) and target.startswith(self.config.status_base_url + "/"):
                raise InvalidArgument("status entries of this service's lists are allocated by the service: "
                                      "ask for them with options.credentialStatus")
        if version == "1.1":
            # VC 1.1's context defines neither Data Integrity proofs nor Bitstring status
            # entries: add the contexts that do (Data Integrity 1.0 §2.1), as other issuers do
            ctx = list(doc["@context"])
            for needed in (DATA_INTEGRITY_CONTEXT, *((STATUS_CONTEXT,) if purposes else ())):
                if needed not in ctx:
                    ctx.append(needed)
            doc["@context"] = ctx
        subject_id = next((s.get("id") for s in subject_list if isinstance(s.get("id"), str)), "")
        achievement = next((s["achievement"].get("id") for s in subject_list
                            if isinstance(s.get("achievement"), dict)
                            and isinstance(s["achievement"].get("id"), str)), "")
        until = doc.get("validUntil", doc.get("expirationDate"))
        suite = CRYPTOSUITES[self.profile.suite]

        def build(allocations: list[Allocation]) -> dict[str, Any]:
            out = dict(doc)
            if allocations:
                entries = [status_entry(a.list_url, a.index, a.purpose) for a in allocations]
                out["credentialStatus"] = existing_list + entries if existing is not None else (
                    entries if len(entries) > 1 else entries[0])
            with self.cpu_lock:
                if suite.canonicalization == "jcs":
                    check_terms(out, rdf=False)  # safe mode, no RDF needed (RDFC signing checks this itself)
                return add_proof(out, self._key, verification_method=self.profile.verification_method,
                                 cryptosuite=self.profile.suite)

        with self.registries.use() as reg, self.registries.write_lock:
            record, _new = reg.issue(
                credential_id=credential_id, row_key=None, subject=str(subject_id),
                achievement=str(achievement), kind="vc-api", issued_at=format_datetime(utcnow()),
                valid_until=until if isinstance(until, str) else None,
                status_base_url=self.config.status_base_url, list_size=self.profile.list_size,
                build=build, purposes=purposes,
            )
        if purposes:
            self.invalidate_lists()
        return record.document

    def _set_issuer(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The credential must name this service's issuer itself: a missing or null issuer is
        refused rather than filled in (VC DM 2.0 §4.7 and the VC-API issuer suite), so that
        what is posted is what is signed, apart from the proof and what options ask for."""
        did = self.profile.did
        if "issuer" not in doc:
            raise MalformedDocument(f"the credential has no issuer: set issuer to this service's DID {did}")
        issuer = doc["issuer"]
        if issuer is None:
            raise MalformedDocument(f"issuer must not be null: set it to this service's DID {did}")
        if isinstance(issuer, str):
            if issuer != did:
                raise InvalidArgument(f"this service issues as {did}, not as {issuer}")
            return doc
        if isinstance(issuer, dict):
            iid = issuer.get("id")
            if iid is None:
                raise MalformedDocument(f"the issuer object has no id: set its id to this service's DID {did}")
            if iid != did:
                raise InvalidArgument(f"this service issues as {did}, not as {iid!r}")
            return doc
        raise MalformedDocument("issuer must be a URL or an object with an id")

    # -- status ------------------------------------------------------------------------------

    def update_status(self, credential_id: str, changes: Sequence[StatusChange]) -> list[dict[str, Any]]:
        out = []
        with self.registries.use() as reg:
            reg.get(credential_id)  # 404 for an unknown credential, before anything changes
            for change in changes:
                with self.registries.write_lock:
                    changed = reg.set_status(credential_id, change.statusPurpose, change.status)
                out.append({"type": ENTRY_TYPE, "statusPurpose": change.statusPurpose,
                            "status": change.status, "changed": changed})
        self.invalidate_lists()
        return out

    def invalidate_lists(self) -> None:
        self._lists_checked = 0.0

    def status_lists(self, *, force: bool = False) -> dict[str, _ListEntry]:
        """The signed list credentials by name, re-read from the registry at most every
        ``status_refresh_seconds`` and re-signed only when their bits changed (or they age)."""
        with self._lists_lock:
            now_m = time.monotonic()
            if not force and self._lists_checked and now_m - self._lists_checked < self.config.status_refresh_seconds:
                return self._lists
            with self.registries.use() as reg:
                infos = reg.status_lists()
            now = utcnow().replace(microsecond=0)
            valid_for = timedelta(hours=self.config.status_valid_hours)
            fresh: dict[str, _ListEntry] = {}
            for info in infos:
                name = info.url.rstrip("/").rsplit("/", 1)[-1]
                fingerprint = hashlib.sha256(
                    f"{info.url}|{info.purpose}|{info.size}|{','.join(map(str, info.set_indexes))}".encode()
                ).hexdigest()
                old = self._lists.get(name)
                if old is not None and old.fingerprint == fingerprint and now - old.signed_at < valid_for / 4:
                    fresh[name] = old
                    continue
                fresh[name] = _ListEntry(name, info.url, fingerprint, self._sign_list(info, now, valid_for), now)
            self._lists = fresh
            self._lists_checked = time.monotonic()
            return fresh

    def _sign_list(self, info: StatusListInfo, now: datetime, valid_for: timedelta) -> dict[str, Any]:
        bits = BitstringStatusList(info.size)
        for idx in info.set_indexes:
            bits.set(idx, 1)
        unsigned = status_list_credential(url=info.url, issuer=self.profile.did, purpose=info.purpose,
                                          status_list=bits, valid_from=now, valid_until=now + valid_for)
        with self.cpu_lock:
            return add_proof(unsigned, self._key, verification_method=self.profile.verification_method,
                             cryptosuite=self.profile.suite, created=now)

    # -- verifying ---------------------------------------------------------------------------

    def _verifier(self, document: Any = None) -> Verifier:
        current = self.status_lists()
        # A list another instance opened moments ago is not in this instance's copy yet: look
        # again rather than call the status unknown (at most every 50 ms, whatever is posted).
        known = {e.url for e in current.values()}
        wanted = _own_list_urls(document, self.config.status_base_url + "/")
        if wanted - known and time.monotonic() - self._lists_forced > 0.05:
            self._lists_forced = time.monotonic()
            current = self.status_lists(force=True)
        lists = [e.document for e in current.values()]
        own = [self.did_document] if self.did_document is not None else []
        trusted = self.policy.trust.issuers if self.policy.trust else {}
        own = [d for d in own if d.get("id") not in trusted]  # the trust list's copy wins
        from skillcred._service_sdjwt_vc import own_token_status_lists  # an SD-JWT VC's Token Status List

        return Verifier(self.policy, status_lists=lists, did_documents=own,
                        token_status_lists=own_token_status_lists(self, document))

    def verify_credential(self, vc: Mapping[str, Any], options: VerifyOptions | None = None
                          ) -> tuple[list[Check], list[str]]:
        verifier = self._verifier(vc)
        with self.cpu_lock:
            report = verifier.check(vc)
        return list(report.checks) + _proof_option_checks(vc, options), list(report.warnings)

    def verify_presentation(self, vp: Mapping[str, Any], challenge: str | None,
                            domain: str | None) -> tuple[list[Check], list[str]]:
        """Signed or unsigned, through the one :class:`Verifier` under the service's policy,
        so the same file gets the same verdict here as from the library and the CLI."""
        check_depth(vp)
        verifier = self._verifier(vp)
        with self.cpu_lock:
            report = verifier.check(vp, challenge=challenge, domain=domain)
        return list(report.checks), list(report.warnings)


def _own_list_urls(document: Any, prefix: str) -> set[str]:
    """``statusListCredential`` URLs under ``prefix`` in a credential or a presentation's."""
    out: set[str] = set()
    docs = [document]
    if isinstance(document, Mapping) and "verifiableCredential" in document:
        inner = document["verifiableCredential"]
        docs += inner if isinstance(inner, list) else [inner]
    for doc in docs[:1000]:
        if not isinstance(doc, Mapping):
            continue
        raw = doc.get("credentialStatus")
        for entry in (raw if isinstance(raw, list) else [raw])[:100]:
            url = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
            if isinstance(url, str) and url.startswith(prefix):
                out.add(url.split("#", 1)[0])
    return out


def _proof_option_checks(vc: Mapping[str, Any], options: VerifyOptions | None) -> list[Check]:
    """VC-API verify options for a credential: expected proof purpose, challenge, domain."""
    if options is None:
        return []
    out = []
    purpose = options.expectedProofPurpose
    if purpose is not None and purpose != "assertionMethod":
        out.append(Check("credential.proof_purpose", 5, "failed", "credentials are verified for proof purpose "
                         f"assertionMethod; the expected purpose {purpose!r} cannot be met", "proof_purpose_mismatch"))
    raw = vc.get("proof")
    proofs = raw if isinstance(raw, list) else [raw]
    for name in ("challenge", "domain"):
        expected = getattr(options, name)
        if expected is None:
            continue
        for proof in proofs:
            value = proof.get(name) if isinstance(proof, dict) else None
            if not (value == expected or (isinstance(value, list) and expected in value)):
                out.append(Check(f"credential.{name}", 5, "failed",
                                 f"the proof does not carry the expected {name}", f"{name}_mismatch"))
                break
    return out


#: VC DM 2.0 §4: properties whose values are objects that MUST have a type (and, for
#: credentialSchema, an id); VC 1.1 states the same for these.
_TYPED_PROPERTIES = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService")
_DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_TIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _check_data_model(doc: Mapping[str, Any], version: str) -> None:
    """What JSON-LD safe mode does not catch: value shapes the data model requires."""
    for prop in _TYPED_PROPERTIES:
        if prop not in doc:
            continue
        value = doc[prop]
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                raise MalformedDocument(f"{prop} must be an object or a list of objects")
            t = item.get("type")
            if not (isinstance(t, str) or (isinstance(t, list) and t and all(isinstance(x, str) for x in t))):
                raise MalformedDocument(f"every {prop} object needs a type")
            if "id" in item and not (isinstance(item["id"], str) and _IRI.match(item["id"])):
                raise MalformedDocument(f"the id of a {prop} object must be a URL")
            if prop == "credentialSchema" and "id" not in item:
                raise MalformedDocument("every credentialSchema object needs an id")
    if "relatedResource" in doc:  # VC DM 2.0 §5.3: refused malformed, or pinned to other bytes
        related = check_related_resources(doc["relatedResource"], default_loader().pinned_bytes)
        if related.status == "failed":
            raise MalformedDocument(related.reason)
    dates = ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")
    pattern = _DATE_TIME_STAMP if version == "2.0" else _DATE_TIME
    for name in dates:
        if name in doc:
            value = doc[name]
            if not isinstance(value, str) or not pattern.match(value):
                raise MalformedDocument(f"{name} must be an XML Schema "
                                        f"{'dateTimeStamp (with a time zone)' if version == '2.0' else 'dateTime'}")
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise MalformedDocument(f"{name} {value!r} is not a valid date and time") from None


def _vc_version(doc: Mapping[str, Any]) -> Literal["2.0", "1.1"]:
    ctx = doc.get("@context")
    if isinstance(ctx, str):
        ctx = [ctx]
    if not isinstance(ctx, list) or not ctx or ctx[0] not in (VC_V2, VC_V1):
        raise MalformedDocument(f"@context must be a list starting with {VC_V2} (or {VC_V1})")
    if isinstance(doc.get("@context"), str):
        raise MalformedDocument("@context must be a list")
    return "2.0" if ctx[0] == VC_V2 else "1.1"


def _insert_after(doc: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with ``key`` placed right after ``after`` (or at the end)."""
    out: dict[str, Any] = {}
    placed = False
    for k, v in doc.items():
        out[k] = v
        if k == after:
            out[key] = value
            placed = True
    if not placed:
        out[key] = value
    return out


def _requested_purposes(options: IssueOptions) -> tuple[str, ...]:
    raw = options.credentialStatus
    if raw is None:
        return ()
    entries = raw if isinstance(raw, list) else [raw]
    purposes = [e.statusPurpose for e in entries]
    if len(set(purposes)) != len(purposes):
        raise InvalidArgument("options.credentialStatus names a status purpose twice")
    return tuple(p for p in PURPOSES if p in purposes)


def load_state(config: ServiceConfig) -> ServiceState:
    """Load and check everything a worker needs (raises :class:`SkillcredError` when it cannot)."""
    state = ServiceState(config)
    state.registries.check()
    return state


# ============================================================================================
# Request and response models (the OpenAPI document is generated from these)


def _object_schema(description: str, required: Sequence[str], extra: Mapping[str, Any] | None = None
                   ) -> dict[str, Any]:
    props: dict[str, Any] = {
        "@context": {"type": "array", "minItems": 1,
                     "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
        "id": {"type": "string"},
        "type": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    }
    props.update(extra or {})
    return {"type": "object", "description": description, "required": list(required),
            "properties": props, "additionalProperties": True}


_CREDENTIAL_PROPS = {
    "issuer": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    "credentialSubject": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
    "validFrom": {"type": "string"},
    "validUntil": {"type": "string"},
    "credentialStatus": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
}
CredentialJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "An unsigned credential (VC Data Model 2.0, or 1.1). issuer must be this service's issuer "
    "DID (a string, or an object with it as id); a missing or null issuer is refused.",
    ["@context", "type", "issuer", "credentialSubject"], _CREDENTIAL_PROPS))]
VerifiableCredentialJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "A verifiable credential (secured with a Data Integrity proof).",
    ["@context", "type"], {**_CREDENTIAL_PROPS, "proof": {"anyOf": [{"type": "object"}, {"type": "array"}]}}))]
VerifiablePresentationJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "A verifiable presentation, signed (Data Integrity, proofPurpose authentication) or unsigned.",
    ["@context", "type"], {"holder": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                           "verifiableCredential": {"anyOf": [{"type": "object"},
                                                              {"type": "array", "items": {"type": "object"}}]},
                           "proof": {"anyOf": [{"type": "object"}, {"type": "array"}]}}))]
AnyJson = Annotated[dict[str, Any], WithJsonSchema({"type": "object", "additionalProperties": True})]


class StatusOption(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: Literal["revocation", "suspension"] = "revocation"


class IssueOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    credentialStatus: StatusOption | list[StatusOption] | None = Field(
        default=None, description="Status entries to add, each allocated a random index in this "
                                  "service's status list of that purpose.")
    credentialId: str | None = Field(
        default=None, description="Id to register the credential under when it has no id of its own.")


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    credential: CredentialJson
    options: IssueOptions | None = None


class IssueResponse(BaseModel):
    verifiableCredential: VerifiableCredentialJson


class VerifyOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    expectedProofPurpose: str | None = Field(
        default=None, description="Credentials are verified for assertionMethod; any other value fails.")
    challenge: str | None = Field(default=None, description="When given, every proof must carry it.")
    domain: str | None = Field(default=None, description="When given, every proof must carry it.")


class VerifyCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiableCredential: VerifiableCredentialJson
    options: VerifyOptions | None = None


class PresentationOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    challenge: str | None = Field(default=None, description="The challenge the presentation's proof must carry.")
    domain: str | None = Field(default=None, description="The domain the presentation's proof must carry.")


class VerifyPresentationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiablePresentation: VerifiablePresentationJson
    options: PresentationOptions | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["BitstringStatusListEntry"]
    status: StrictBool = Field(default=True, description="true sets the status (revoke, suspend), "
                                                         "false clears it (unsuspend).")
    statusPurpose: Literal["revocation", "suspension"]


class UpdateStatusRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    credentialId: str = Field(min_length=1)
    credentialStatus: StatusChange | Annotated[list[StatusChange], Field(min_length=1)]


class StatusResult(BaseModel):
    type: str
    statusPurpose: str
    status: bool
    changed: bool


class UpdateStatusResponse(BaseModel):
    credentialId: str
    credentialStatus: list[StatusResult]


class ProblemDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    detail: str | None = None


class VerificationResult(BaseModel):
    verified: bool
    checks: list[str]
    warnings: list[ProblemDetail]
    errors: list[ProblemDetail]


class Problem(BaseModel):
    """RFC 9457 problem details; verification rejections also carry the VC-API fields."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    verified: bool | None = None
    checks: list[str] | None = None
    warnings: list[ProblemDetail] | None = None
    errors: list[ProblemDetail] | None = None


class Health(BaseModel):
    status: Literal["ok"]


# ============================================================================================
# Responses


class _StrictJSONRequest(Request):
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


class _StrictJSONRoute(APIRoute):
    """Routes whose JSON bodies are parsed by :class:`_StrictJSONRequest` (a violation is a 400)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJSONRequest(request.scope, request.receive))

        return strict


class DidJsonResponse(Response):
    media_type = "application/did+json"


def _json(body: Any, status: int = 200, media_type: str = "application/json",
          headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8"), status_code=status,
                    media_type=media_type, headers=dict(headers or {}))


def _problem(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
             headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return _json(body, status, PROBLEM_JSON, headers)


def _error_response(exc: SkillcredError) -> Response:
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
    return _problem(status, title, exc.message, type_=exc.problem_type, code=exc.code)


def _verification_response(checks: list[Check], warnings: list[str]) -> Response:
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
        return _json(body)
    first = errors[0] if errors else {"type": PARSING_ERROR, "detail": "nothing could be checked",
                                      "check": "document"}
    return _problem(400, "Verification failed", f"{first['check']}: {first['detail']}", type_=first["type"],
                    **body)


def _not_verified(title: str, detail: str, type_: str = PARSING_ERROR, status: int = 400, code: str = "") -> Response:
    err = {"type": type_, "title": title, "detail": detail}
    if code:
        err["code"] = code
    return _problem(status, title, detail, type_=type_, verified=False, checks=[], warnings=[], errors=[err])


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


_VERIFY_PATHS = ("/credentials/verify", "/presentations/verify")


def _responses(*codes: int, verify: bool = False) -> dict[int | str, dict[str, Any]]:
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


def create_app(config: ServiceConfig, state: ServiceState | None = None) -> FastAPI:
    """The FastAPI application for one worker process."""
    _configure_logging()
    st = state or load_state(config)
    if config.unsafe_open_issuing:
        log.warning(_UNSAFE_OPEN)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        st.registries.close()

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
    app.router.route_class = _StrictJSONRoute
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
        if request.url.path in _VERIFY_PATHS:
            extra.update(verified=False, checks=[], warnings=[])
        return _problem(422, "Invalid request", detail, type_=MALFORMED_VALUE_ERROR, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        title = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "Error")
        extra: dict[str, Any] = {}
        if request.url.path in _VERIFY_PATHS and exc.status_code == 400:
            extra.update(verified=False, checks=[], warnings=[],
                         errors=[{"type": PARSING_ERROR, "title": title, "detail": detail or title}])
        type_ = PARSING_ERROR if exc.status_code == 400 else "about:blank"
        return _problem(exc.status_code, title, detail, type_=type_, headers=exc.headers, **extra)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _problem(500, "Internal error", "unexpected error; see the service log")

    # -- issuing ---------------------------------------------------------------------------

    @app.post("/credentials/issue", status_code=201, response_model=None, tags=["issuer"],
              dependencies=[guard], summary="Issue a credential",
              responses={201: {"model": IssueResponse, "description": "The signed credential"},
                         **_responses(400, *auth_codes, 409, 413, 422, 503)})
    def issue_credential(body: IssueRequest) -> Response:
        """Sign the posted credential as this service's issuer (Data Integrity proof with the
        issuer's cryptosuite), record it in the registry and, with ``options.credentialStatus``,
        give it Bitstring Status List entries whose lists this service hosts."""
        try:
            vc = st.issue(body.credential, body.options)
        except SkillcredError as exc:
            return _error_response(exc)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            log.warning("issue: input could not be processed (%s)", type(exc).__name__, exc_info=True)
            return _problem(400, "Invalid input", f"the credential could not be processed ({type(exc).__name__})",
                            type_=MALFORMED_VALUE_ERROR)
        return _json({"verifiableCredential": vc}, 201)

    @app.post("/credentials/status", response_model=None, tags=["issuer"], dependencies=[guard],
              summary="Revoke, suspend or unsuspend a credential",
              responses={200: {"model": UpdateStatusResponse, "description": "The status after the change"},
                         **_responses(400, *auth_codes, 404, 413, 422, 503)})
    def update_status(body: UpdateStatusRequest) -> Response:
        """Set (``status: true``) or clear (``false``) a credential's revocation or suspension
        status. Revocation is permanent. Served status lists reflect the change at once on
        this instance and within ``status_refresh_seconds`` on the others."""
        changes = body.credentialStatus if isinstance(body.credentialStatus, list) else [body.credentialStatus]
        try:
            results = st.update_status(body.credentialId, changes)
        except SkillcredError as exc:
            return _error_response(exc)
        return _json({"credentialId": body.credentialId, "credentialStatus": results})

    # -- verifying -------------------------------------------------------------------------

    @app.post("/credentials/verify", response_model=None, tags=["verifier"], summary="Verify a credential",
              responses={200: {"model": VerificationResult, "description": "The credential verified"},
                         **_responses(400, 413, 422, 503, verify=True)})
    def verify_credential(body: VerifyCredentialRequest) -> Response:
        """Verify proof, issuer binding, validity period, status (this service's lists; others
        are not fetched, so their status is unknown and fails), trust (the --trust list) and
        credential schema. 200 only when everything passed; otherwise 400 with the errors."""
        try:
            checks, warnings = st.verify_credential(body.verifiableCredential, body.options)
        except StoreError as exc:
            return _not_verified("Registry unavailable", exc.message, "about:blank", status=503, code=exc.code)
        except SkillcredError as exc:
            return _not_verified("Verification failed", exc.message, exc.problem_type, code=exc.code)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            log.warning("verify: input could not be processed (%s)", type(exc).__name__, exc_info=True)
            return _not_verified("Verification failed", f"the credential could not be processed "
                                 f"({type(exc).__name__})", MALFORMED_VALUE_ERROR)
        return _verification_response(checks, warnings)

    @app.post("/presentations/verify", response_model=None, tags=["verifier"], summary="Verify a presentation",
              responses={200: {"model": VerificationResult, "description": "The presentation verified"},
                         **_responses(400, 413, 422, 503, verify=True)})
    def verify_presentation(body: VerifyPresentationRequest) -> Response:
        """A signed presentation must carry the expected ``options.challenge`` and
        ``options.domain`` (no challenge: rejected, a replay cannot be told apart). An unsigned
        presentation is accepted only without a challenge; its credentials are then verified
        on their own."""
        opts = body.options or PresentationOptions()
        try:
            checks, warnings = st.verify_presentation(body.verifiablePresentation, opts.challenge, opts.domain)
        except StoreError as exc:
            return _not_verified("Registry unavailable", exc.message, "about:blank", status=503, code=exc.code)
        except SkillcredError as exc:
            return _not_verified("Verification failed", exc.message, exc.problem_type, code=exc.code)
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            log.warning("verify: input could not be processed (%s)", type(exc).__name__, exc_info=True)
            return _not_verified("Verification failed", f"the presentation could not be processed "
                                 f"({type(exc).__name__})", MALFORMED_VALUE_ERROR)
        return _verification_response(checks, warnings)

    # -- status lists ----------------------------------------------------------------------

    @app.get("/status/{list_name}", response_model=None, tags=["status"],
             summary="A signed BitstringStatusListCredential",
             responses={200: {"model": None, "description": "The status list credential",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                        304: {"description": "Not modified (If-None-Match)"},
                        **_responses(404, 422, 503)})
    def get_status_list(list_name: Annotated[str, PathParam(pattern=_LIST_NAME)],
                        if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """Signed on demand, re-signed when a status changes; ``ETag`` and ``Cache-Control``
        let caches and verifiers keep a copy for ``status_max_age`` seconds."""
        try:
            entry = st.status_lists().get(list_name)
        except SkillcredError as exc:
            return _error_response(exc)
        if entry is None:
            return _problem(404, "Not found", f"no status list {list_name!r} here")
        headers = {"ETag": entry.etag, "Cache-Control": f"public, max-age={config.status_max_age}",
                   "Last-Modified": http_date(entry.signed_at, usegmt=True)}
        if if_none_match is not None and entry.etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers=headers)
        return _json(entry.document, headers=headers)

    @app.post("/status/{list_name}/publish", status_code=204, response_model=None, tags=["status"],
              dependencies=[guard], summary="Re-sign a status list now",
              responses={204: {"description": "The list is current"}, **_responses(*auth_codes, 404, 413, 422, 503)})
    def publish_status_list(list_name: Annotated[str, PathParam(pattern=_LIST_NAME)]) -> Response:
        """Lists are always served current; this only forces this instance to re-read the
        registry (for clients that publish explicitly, as the W3C status-list suite does)."""
        try:
            lists = st.status_lists(force=True)
        except SkillcredError as exc:
            return _error_response(exc)
        if list_name not in lists:
            return _problem(404, "Not found", f"no status list {list_name!r} here")
        return Response(status_code=204)

    from skillcred._service_sdjwt_vc import add_sdjwt_vc_routes  # SD-JWT VC type metadata, Token Status Lists

    add_sdjwt_vc_routes(app, st)

    # -- DID document, health --------------------------------------------------------------

    def did_document() -> Response:
        if st.did_document is None:
            return _problem(404, "Not found", f"the issuer {st.profile.did} is not a did:web")
        return _json(st.did_document, media_type="application/did+json")

    did_responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "The issuer's DID document",
              "content": {"application/did+json": {"schema": {"type": "object"}}}},
        **_responses(404)}
    app.add_api_route("/.well-known/did.json", did_document, methods=["GET"], response_model=None,
                      response_class=DidJsonResponse, tags=["did"], summary="The issuer's DID document (did:web)",
                      responses=did_responses)
    if st.did_document is not None:
        path = web_did_url_path(st.profile.did).split("/", 3)[3]
        if path != ".well-known/did.json":
            app.add_api_route(f"/{path}", did_document, methods=["GET"], response_model=None, tags=["did"],
                              response_class=DidJsonResponse,
                              summary="The issuer's DID document (did:web with a path)", responses=did_responses)

    @app.get("/health", response_model=None, tags=["service"], summary="Liveness",
             responses={200: {"model": Health, "description": "The service is up"}})
    async def health() -> Response:
        return _json({"status": "ok"})

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
                http="skillcred.service:NoDelayHTTPProtocol")

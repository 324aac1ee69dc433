"""What one service worker process holds: the configuration, the hosted issuer (key,
profile, DID document), registry access from many threads, the signed status lists and the
verification policy."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import logging
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from skillcred._internal.fileio import MAX_SECRET_BYTES, check_depth, load_json_object, read_bounded
from skillcred._internal.integrity import check_related_resources
from skillcred._internal.jsonld import check_terms
from skillcred._internal.registry_types import PURPOSES
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred._internal.urlpolicy import is_loopback_host
from skillcred.did import web_did_document
from skillcred.errors import (
    InvalidArgument,
    KeyFileError,
    MalformedDocument,
    StoreError,
)
from skillcred.issuer import REGISTRY_FILE, load_issuer_key, sign_status_list
from skillcred.keys import KeyPair
from skillcred.loader import default_loader
from skillcred.proofs import CRYPTOSUITES, add_proof
from skillcred.registry import Allocation, Registry, StatusListInfo
from skillcred.registry_pg import PgRegistry, is_postgres_url, redact_url
from skillcred.service.wire import IssueOptions, StatusChange, VerifyOptions
from skillcred.status import status_entry
from skillcred.trust import TrustList
from skillcred.verify import Check, VerificationPolicy, Verifier
from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "HostedIssuer",
    "IssuerSpec",
    "ServiceConfig",
    "ServiceState",
    "load_state",
    "read_token",
]

log = logging.getLogger("skillcred.service")

CONFIG_ENV = "SKILLCRED_SERVE_CONFIG"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
ENTRY_TYPE = "BitstringStatusListEntry"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")


# ============================================================================================
# Configuration (one JSON object; workers started by uvicorn read it from the environment)


#: the name of a hosted issuer configuration: one path segment of /issuers/{name}/...
ISSUER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class IssuerSpec:
    """One issuer configuration a service hosts: an issuer folder under a name, optionally with
    another cryptosuite than its issuer.json names (the same key, a second suite: an institute
    issuing eddsa-jcs-2022 beside eddsa-rdfc-2022 without a copied, hand-edited folder)."""

    name: str
    folder: str
    suite: str | None = None


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
    #: the primary configuration's name (``/issuers/{name}/...``); default: its folder's name
    issuer_name: str | None = None
    #: further issuer configurations, each at ``/issuers/{name}/...`` (the primary is issuer_dir)
    issuers: tuple[IssuerSpec, ...] = ()
    #: a talent pool (SQLite file or postgresql:// URL): serve its operator search page at /pool/
    pool: str | None = None
    #: the pool page open to anyone who can reach it (warns); default: the --token-file token
    unsafe_open_pool: bool = False
    #: the pool page's skill frameworks (over ESCO's hierarchy unless pool_esco is False) and catalog
    pool_frameworks: tuple[str, ...] = ()
    pool_esco: bool = True
    pool_catalog: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        data = json.loads(text)
        data["issuers"] = tuple(IssuerSpec(**s) for s in data.get("issuers", ()))
        data["pool_frameworks"] = tuple(data.get("pool_frameworks", ()))
        return cls(**data)

    def hosted(self) -> list[IssuerSpec]:
        """Every issuer configuration, the primary (``issuer_dir``) first."""
        primary = self.issuer_name or Path(self.issuer_dir).resolve().name
        return [IssuerSpec(primary, self.issuer_dir), *self.issuers]

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


def read_token(path: str) -> bytes:
    """A bearer token file (issuing, the pool page): bounded, not empty; a short one warns."""
    token = read_bounded(path, max_bytes=MAX_SECRET_BYTES, what="token file", error=InvalidArgument).strip()
    if not token:
        raise InvalidArgument(f"token file {path} is empty")
    if len(token) < 16:
        log.warning("the bearer token in %s is shorter than 16 characters; use a long random one", path)
    return token


# ============================================================================================
# Registry access from many threads (and, through the database, many processes)


class _Registries:
    """Registry connections for request threads.

    SQLite: one connection per thread (sqlite3 connections stay in their thread), and one
    writer per process at a time (the other process waits on the database lock). PostgreSQL:
    a small pool of connections; a broken one is dropped and replaced.
    """

    def __init__(self, config: ServiceConfig, folder: str) -> None:
        target = config.registry or str(Path(folder) / REGISTRY_FILE)
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


class HostedIssuer:
    """One issuer configuration of a service: its key and profile (with the suite it signs with),
    DID document, registry access, status base URL and signed status lists.

    The primary configuration's lists are at ``{public_url}/status/``; every other one's at
    ``{public_url}/issuers/{name}/status/``. Configurations sharing a registry (a suite twin of
    a folder, or institutes on one PostgreSQL database) see each other's rows: each serves and
    signs only the lists under its own base URL (the primary also those of its registry under
    no other configuration's base, as issued by ``skillcred issuer issue``), and changes the
    status only of credentials in its own issuer's name.
    """

    def __init__(self, spec: IssuerSpec, config: ServiceConfig, *, primary: bool, passphrase: bytes | None,
                 registries: _Registries, cpu_lock: threading.Lock) -> None:
        self.name = spec.name
        self.folder = spec.folder
        self.primary = primary
        profile, self._key = load_issuer_key(
            spec.folder, passphrase, unsafe_allow_open_key_permissions=config.unsafe_allow_open_key_permissions)
        if spec.suite is not None and spec.suite != profile.suite:
            suite = CRYPTOSUITES.get(spec.suite)
            if suite is None:
                raise InvalidArgument(f"issuer configuration {spec.name!r}: unknown cryptosuite {spec.suite!r} "
                                      f"(one of {', '.join(sorted(CRYPTOSUITES))})")
            if self._key.key_type not in suite.key_types:
                raise InvalidArgument(f"issuer configuration {spec.name!r}: {spec.suite} needs a "
                                      f"{' or '.join(suite.key_types)} key; {spec.folder} holds a "
                                      f"{self._key.key_type} key")
            profile = dataclasses.replace(profile, suite=spec.suite)
        self.profile = profile
        base = config.public_url.rstrip("/")
        self.status_base_url = config.status_base_url if primary else f"{base}/issuers/{spec.name}/status"
        #: other configurations' status base URLs: the primary leaves their lists to them
        self.others: tuple[str, ...] = ()
        self.did_document: dict[str, Any] | None = None
        if profile.did_method == "web":
            did_file = Path(spec.folder) / "did.json"
            self.did_document = (load_json_object(did_file) if did_file.exists()
                                 else web_did_document(profile.did, [self._key.public_key]))
        self.registries = registries
        self._cpu_lock = cpu_lock
        self._refresh = config.status_refresh_seconds
        self._valid_hours = config.status_valid_hours
        self._lists_lock = threading.Lock()
        self._lists: dict[str, _ListEntry] = {}
        self._lists_checked = 0.0
        self.lists_forced = 0.0

    @property
    def key(self) -> KeyPair:
        return self._key

    def serves(self, url: str) -> bool:
        """Whether this configuration serves (and signs) the status list at ``url``."""
        if url.startswith(self.status_base_url + "/"):
            return True
        return self.primary and not any(url.startswith(o + "/") for o in self.others)

    # -- issuing -----------------------------------------------------------------------------

    def issue(self, credential: Mapping[str, Any], options: IssueOptions | None) -> dict[str, Any]:
        """Sign a posted credential as this configuration's issuer; returns the verifiable credential."""
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
            if isinstance(target, str) and target.startswith(self.status_base_url + "/"):
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
            with self._cpu_lock:
                if suite.canonicalization == "jcs":
                    check_terms(out, rdf=False)  # safe mode, no RDF needed (RDFC signing checks this itself)
                return add_proof(out, self._key, verification_method=self.profile.verification_method,
                                 cryptosuite=self.profile.suite)

        with self.registries.use() as reg, self.registries.write_lock:
            record, _new = reg.issue(
                credential_id=credential_id, row_key=None, subject=str(subject_id),
                achievement=str(achievement), kind="vc-api", issued_at=format_datetime(utcnow()),
                valid_until=until if isinstance(until, str) else None,
                status_base_url=self.status_base_url, list_size=self.profile.list_size,
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
            record = reg.get(credential_id)  # 404 for an unknown credential, before anything changes
            if _issuer_id(record.document) != self.profile.did:
                # a shared registry holds other institutes' credentials: not theirs to change here
                raise StoreError(f"no credential {credential_id} issued by {self.profile.did}")
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
            if not force and self._lists_checked and now_m - self._lists_checked < self._refresh:
                return self._lists
            with self.registries.use() as reg:
                infos = [i for i in reg.status_lists() if self.serves(i.url)]
            now = utcnow().replace(microsecond=0)
            valid_for = timedelta(hours=self._valid_hours)
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
                fresh[name] = _ListEntry(name, info.url, fingerprint, self._sign_list(info, now, now + valid_for), now)
            self._lists = fresh
            self._lists_checked = time.monotonic()
            return fresh

    def _sign_list(self, info: StatusListInfo, now: datetime, until: datetime) -> dict[str, Any]:
        with self._cpu_lock:
            return sign_status_list(self.profile, self._key, info, valid_from=now, valid_until=until)


def _issuer_id(document: Mapping[str, Any]) -> Any:
    issuer = document.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


class ServiceState:
    """Everything one worker process holds: the hosted issuer configurations (the primary
    first), trust list and verification policy, registry access, caches.

    ``profile``, ``registries``, ``issue``, ``update_status`` and ``status_lists`` are the
    primary configuration's (the old single-issuer paths and the OpenID4VCI endpoints use it).
    """

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        passphrase = _passphrase(config)
        self.token: bytes | None = None
        if config.unsafe_open_issuing:
            if config.token_file:
                raise InvalidArgument("give either token_file or unsafe_open_issuing, not both", field="token_file")
        else:
            if not config.token_file:
                raise InvalidArgument("issuing needs a bearer token (token_file), or unsafe_open_issuing",
                                      field="token_file")
            self.token = read_token(config.token_file)
        if not _IRI.match(config.public_url) or not config.public_url.startswith(("http://", "https://")):
            raise InvalidArgument(f"public_url must be an http(s) URL, not {config.public_url!r}", field="public_url")
        if not config.public_url.startswith("https://") and not is_loopback_host(urlsplit(config.public_url).hostname):
            # offers, metadata and status-list URLs point here: plain http only for a service on this machine
            raise InvalidArgument(f"public_url {config.public_url!r} is plain http to another machine: use https "
                                  "(a TLS-terminating proxy in front of this service)", field="public_url")
        specs = config.hosted()
        seen: set[str] = set()
        for spec in specs:
            if not ISSUER_NAME.match(spec.name):
                raise InvalidArgument(f"issuer configuration name {spec.name!r} is not a path segment "
                                      "(letters, digits, '.', '_', '-'; name it with NAME=DIR)")
            if spec.name in seen:
                raise InvalidArgument(f"two issuer configurations are named {spec.name!r}: "
                                      "give each its own name with NAME=DIR")
            seen.add(spec.name)
        trust = TrustList.load(config.trust_file)
        not_before = (parse_datetime(config.status_not_before, field="status_not_before")
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
        #: JSON-LD processing (pyld's caches) is not thread-safe; it is CPU-bound anyway
        self.cpu_lock = threading.Lock()
        pools: dict[str, _Registries] = {}  # one pool per database: a suite twin shares its folder's
        self.hosted: dict[str, HostedIssuer] = {}
        for n, spec in enumerate(specs):
            regs = _Registries(config, spec.folder)
            regs = pools.setdefault(regs.where, regs)
            self.hosted[spec.name] = HostedIssuer(spec, config, primary=n == 0, passphrase=passphrase,
                                                  registries=regs, cpu_lock=self.cpu_lock)
        self.primary = next(iter(self.hosted.values()))
        for h in self.hosted.values():
            h.others = tuple(o.status_base_url for o in self.hosted.values() if o is not h)
            if h.profile.did not in trust.issuers:
                log.warning("this service's issuer %s (%s) is not in the trust list %s: credentials it issues "
                            "will not verify here", h.profile.did, h.name, config.trust_file)
        self._pools = list(pools.values())
        # the primary's, under the names the single-issuer service had
        self.profile = self.primary.profile
        self._key = self.primary.key
        self.did_document = self.primary.did_document
        self.registries = self.primary.registries

    def issue(self, credential: Mapping[str, Any], options: IssueOptions | None) -> dict[str, Any]:
        """Sign a posted credential as the primary issuer."""
        return self.primary.issue(credential, options)

    def update_status(self, credential_id: str, changes: Sequence[StatusChange]) -> list[dict[str, Any]]:
        return self.primary.update_status(credential_id, changes)

    def invalidate_lists(self) -> None:
        self.primary.invalidate_lists()

    def status_lists(self, *, force: bool = False) -> dict[str, _ListEntry]:
        return self.primary.status_lists(force=force)

    def check(self) -> None:
        """Open each registry once: fail at start, not at the first request."""
        for regs in self._pools:
            regs.check()

    def close(self) -> None:
        for regs in self._pools:
            regs.close()

    # -- verifying ---------------------------------------------------------------------------

    def _verifier(self, document: Any = None) -> Verifier:
        lists: list[dict[str, Any]] = []
        own: list[dict[str, Any]] = []
        for h in self.hosted.values():
            current = h.status_lists()
            # A list another instance opened moments ago is not in this instance's copy yet: look
            # again rather than call the status unknown (at most every 50 ms, whatever is posted).
            known = {e.url for e in current.values()}
            wanted = _own_list_urls(document, h.status_base_url + "/")
            if wanted - known and time.monotonic() - h.lists_forced > 0.05:
                h.lists_forced = time.monotonic()
                current = h.status_lists(force=True)
            lists += [e.document for e in current.values()]
            if h.did_document is not None and h.did_document not in own:
                own.append(h.did_document)
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
    state.check()
    return state

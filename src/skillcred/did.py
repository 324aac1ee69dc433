"""Decentralized identifiers, resolved offline.

* ``did:key`` (W3C CCG did:key, Multikey form) is self-describing: the DID document is derived
  from the key itself, so resolution needs nothing but the DID.
* ``did:web`` would normally be fetched over HTTPS from the institute's domain. skillcred never
  does that at verification time: a ``did:web`` resolves only from DID documents the user has
  stored locally (a trust list, ``--did-document FILE``). :func:`web_did_document` produces the
  ``did.json`` an institute publishes.
* Verification methods whose id is not a DID (an ``https://`` key id) resolve from controller
  documents given explicitly, the same way.

The resolver also answers the question Data Integrity asks of every proof: is this verification
method authorized, by its controller's document, for this proof purpose?
"""

from __future__ import annotations

import copy
import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from skillcred.errors import DidDocumentConflict, InvalidArgument, ResolutionError, UnsupportedFeature
from skillcred.keys import PublicKey

__all__ = [
    "DID_CONTEXTS",
    "DidResolver",
    "ResolvedMethod",
    "key_did",
    "key_did_document",
    "key_did_url",
    "web_did",
    "web_did_document",
    "web_did_url_path",
]

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
#: how a did:web refusal ends, in the library's words: the verifier recognises it inside a check
#: reason (a proof or status list check quotes the refusal) and hints ``did_documents``, which
#: a front end words as its own option (not promised API)
DID_DOCUMENTS_ADVICE = "or pass did_documents)"
_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)
_KEY_DID = re.compile(r"^did:key:(z[1-9A-HJ-NP-Za-km-z]+)$")
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(?:\.{_DNS_LABEL})*$")


def _check_web_host(host: str, port: int | None, source: str) -> None:
    """did:web names a domain (never an IP address, never user info), optionally a port."""
    is_ip = True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        is_ip = False
    if is_ip or not _DOMAIN.match(host):
        raise InvalidArgument(
            f"did:web needs a DNS domain name (no IP address, user info or '/'): {source!r}"
        )
    if port is not None and not 0 < port < 65536:
        raise InvalidArgument(f"did:web port out of range: {source!r}")


def key_did(public_key: PublicKey) -> str:
    """``did:key:<multikey>`` for a public key."""
    return f"did:key:{public_key.multikey}"


def key_did_url(public_key: PublicKey) -> str:
    """The verification method URL of a did:key: ``did:key:<mk>#<mk>``."""
    mk = public_key.multikey
    return f"did:key:{mk}#{mk}"


def key_did_document(did: str) -> dict[str, Any]:
    """Derive the DID document of a did:key (offline, deterministic)."""
    m = _KEY_DID.match(did)
    if not m:
        raise ResolutionError(f"not a did:key: {did!r}")
    mk = m.group(1)
    try:
        PublicKey.from_multikey(mk)  # validates codec and point
    except (InvalidArgument, UnsupportedFeature) as exc:
        raise ResolutionError(f"did:key does not hold a supported public key: {exc.message}") from exc
    return _key_document(did, mk)


def _key_document(did: str, mk: str) -> dict[str, Any]:
    """The did:key document of ``did`` (whose key ``mk`` is already decoded and valid): a new
    object each time, since the caller may change what it gets."""
    vm_id = f"{did}#{mk}"
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": mk}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }


def web_did(url: str) -> str:
    """The did:web for an https URL or bare domain (``https://roc.example/issuers/1``)."""
    if "://" not in url:
        url = "https://" + url
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise InvalidArgument(f"did:web needs an https URL or a domain, not {url!r}")
    if "@" in parsed.netloc:
        raise InvalidArgument("did:web URLs cannot carry user information (user:password@)")
    if parsed.query or parsed.fragment:
        raise InvalidArgument(f"did:web URLs have no query or fragment: {url!r}")
    try:
        port = parsed.port
    except ValueError:
        raise InvalidArgument(f"did:web URL has an invalid port: {url!r}") from None
    host = parsed.hostname
    _check_web_host(host, port, url)
    if port:
        host = f"{host}%3A{port}"
    parts = [p for p in parsed.path.split("/") if p]
    if parts and parts[-1] == "did.json":
        parts = parts[:-1]
    if parts[-2:] == [".well-known"]:
        parts = parts[:-1]
    segments = [urllib.parse.quote(urllib.parse.unquote(p), safe="") for p in parts]
    return ":".join(["did:web", host, *segments])


def web_did_url_path(did: str) -> str:
    """Where a did:web's document is published (``https://host/path/did.json``)."""
    if not did.startswith("did:web:"):
        raise InvalidArgument(f"not a did:web: {did!r}")
    segments = did[len("did:web:") :].split(":")
    if any(not seg for seg in segments):
        raise InvalidArgument(f"did:web has an empty host or path segment: {did!r}")
    host = urllib.parse.unquote(segments[0])
    name, colon, port_text = host.partition(":")
    if colon and not port_text.isdigit():
        raise InvalidArgument(f"did:web has an invalid port: {did!r}")
    _check_web_host(name, int(port_text) if colon else None, did)
    parts = [urllib.parse.unquote(s) for s in segments[1:]]
    if any(p in ("", ".", "..") or "/" in p or "?" in p or "#" in p for p in parts):
        raise InvalidArgument(
            f"did:web path segments cannot hold '/', '?', '#' or dot segments: {did!r}"
        )
    path = "/".join(urllib.parse.quote(p, safe="") for p in parts)
    return f"https://{host}/{path + '/' if path else '.well-known/'}did.json"


def web_did_document(
    did: str,
    public_keys: Iterable[PublicKey],
    *,
    also_known_as: Iterable[str] = (),
) -> dict[str, Any]:
    """The ``did.json`` an institute publishes for its did:web, with Multikey methods."""
    web_did_url_path(did)  # validates the did:web (domain, port, path segments)
    vms = []
    for pk in public_keys:
        vms.append(
            {
                "id": f"{did}#{pk.multikey}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": pk.multikey,
            }
        )
    if not vms:
        raise InvalidArgument("a DID document needs at least one key")
    ids = [vm["id"] for vm in vms]
    doc: dict[str, Any] = {"@context": list(DID_CONTEXTS), "id": did}
    aka = list(also_known_as)
    if aka:
        doc["alsoKnownAs"] = aka
    doc["verificationMethod"] = vms
    doc["authentication"] = list(ids)
    doc["assertionMethod"] = list(ids)
    return doc


@dataclass(frozen=True)
class ResolvedMethod:
    """A verification method, the document of its controller, and its public key."""

    id: str
    controller: str
    method: Mapping[str, Any]
    controller_document: Mapping[str, Any]
    public_key: PublicKey

    def authorized_for(self, purpose: str) -> bool:
        """Does the controller document list this method under ``purpose``?"""
        return _listed_under(self.controller_document, purpose, self.id)


def _absolute(ref: str, base: str) -> str:
    return base + ref if ref.startswith("#") else ref


def _listed_under(doc: Mapping[str, Any], purpose: str, vm_id: str) -> bool:
    entries = doc.get(purpose)
    if entries is None:
        return False
    if not isinstance(entries, list):
        entries = [entries]
    base = str(doc.get("id", ""))
    for entry in entries:
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(ref, str) and _absolute(ref, base) == vm_id:
            return True
    return False


def _public_key_of(vm: Mapping[str, Any]) -> PublicKey:
    vm_type = vm.get("type")
    try:
        if "publicKeyMultibase" in vm and vm_type in ("Multikey", "Ed25519VerificationKey2020"):
            return PublicKey.from_multikey(str(vm["publicKeyMultibase"]))
        if "publicKeyJwk" in vm and vm_type in ("JsonWebKey", "JsonWebKey2020"):
            jwk = vm["publicKeyJwk"]
            if not isinstance(jwk, dict) or "d" in jwk:
                raise InvalidArgument("publicKeyJwk must be a public JWK object")
            return PublicKey.from_jwk(jwk)
    except (InvalidArgument, UnsupportedFeature) as exc:
        raise ResolutionError(f"verification method {vm.get('id')!r}: {exc.message}") from exc
    raise ResolutionError(
        f"verification method {vm.get('id')!r} of type {vm_type!r} has no supported key "
        "(Multikey/publicKeyMultibase or JsonWebKey/publicKeyJwk)"
    )


#: did:key verification methods resolved before, by the exact URL asked for: (DID, its multikey,
#: the method's id, its public key). Why a process-wide table is safe: a did:key is
#: self-certifying, so what its URL resolves to is a pure function of that string (no stored
#: document can change it, and only successes are kept). A verifier meets the same issuer and
#: holder keys again and again; a hit builds the (fresh, mutable) documents without parsing the
#: DID, decoding the key or searching the document. Bounded.
_KEY_METHODS: dict[str, tuple[str, str, str, PublicKey]] = {}
_KEY_METHODS_LIMIT = 4096


class DidResolver:
    """Offline resolver: did:key by derivation, everything else from stored documents.

    ``documents`` are DID documents / controller documents keyed by their ``id`` (a did:web, an
    https URL). Nothing is ever fetched; an unknown DID is a :class:`ResolutionError`.

    ``authoritative`` maps DIDs to the documents the verifier itself vouches for (its trust
    list), or to ``None`` for a trusted DID whose document it does not hold. For those DIDs no
    other document counts: one that differs (a forger's ``did.json`` for a trusted institute's
    ``did:web``, handed over beside a presentation) cannot replace or extend the trusted one;
    the DID is then marked as conflicting and does not resolve at all
    (:class:`~skillcred.errors.DidDocumentConflict`), so every check that needs it fails with that
    name. A byte-for-byte-equal copy (as JSON) is harmless and accepted.
    """

    def __init__(
        self,
        documents: Iterable[Mapping[str, Any]] = (),
        *,
        authoritative: Mapping[str, Mapping[str, Any] | None] | None = None,
    ) -> None:
        self._docs: dict[str, Mapping[str, Any]] = {}
        #: DIDs whose document only the authoritative source may give (None: it gave none)
        self._pinned: set[str] = set()
        self._conflicts: dict[str, str] = {}
        for did, doc in (authoritative or {}).items():
            self._pinned.add(did)
            if doc is not None:
                if doc.get("id") != did:
                    raise InvalidArgument(f"the trusted DID document for {did} has id {doc.get('id')!r}")
                if not did.startswith("did:key:"):
                    self._store(doc)
        for doc in documents:
            self.add(doc)

    def add(self, document: Mapping[str, Any]) -> None:
        """Store a DID/controller document (its ``id`` is the key).

        A document for an authoritatively pinned DID that differs from the pinned one is not
        stored: it marks the DID as conflicting (see the class docstring)."""
        doc_id = document.get("id") if isinstance(document, Mapping) else None
        if not isinstance(doc_id, str) or not doc_id:
            raise InvalidArgument("a DID or controller document needs a string 'id'")
        if doc_id.startswith("did:key:"):
            raise InvalidArgument("did:key documents are derived, not stored")
        if doc_id in self._pinned:
            if self._docs.get(doc_id) != document:
                self._conflicts[doc_id] = (
                    f"a DID document for the trusted issuer {doc_id} was given that differs from the one in "
                    "the trust list; a document from elsewhere never replaces or extends the trusted one"
                    if doc_id in self._docs else
                    f"a DID document for the trusted issuer {doc_id} was given, but the trust list holds "
                    "none for it; only the trust list's document is used for a trusted DID "
                    "(store it with the trust list entry)")
            return
        self._store(document)

    def _store(self, document: Mapping[str, Any]) -> None:
        self._docs[str(document["id"])] = copy.deepcopy(dict(document))

    def conflicts(self) -> dict[str, str]:
        """DIDs that do not resolve because a document conflicted with the authoritative one."""
        return dict(self._conflicts)

    def known(self) -> list[str]:
        return sorted(self._docs)

    def resolve(self, did: str) -> dict[str, Any]:
        """Return the DID document for ``did`` (no fragment)."""
        if did in self._conflicts:
            raise DidDocumentConflict(self._conflicts[did])
        if did.startswith("did:key:"):
            return key_did_document(did)
        doc = self._docs.get(did)
        if doc is None:
            if did in self._pinned:
                raise ResolutionError(
                    f"{did} is a trusted issuer, but its trust list entry holds no DID document "
                    "(only the trust list's document is used for a trusted DID)"
                )
            if did.startswith("did:web:"):
                raise ResolutionError(
                    f"{did} is not resolvable offline: no stored DID document for it "
                    f"(add it to the trust list {DID_DOCUMENTS_ADVICE}", field="did_documents"
                )
            if did.startswith("did:"):
                method = did.split(":", 2)[1]
                if method not in ("key", "web"):
                    raise ResolutionError(f"DID method 'did:{method}' is not supported")
            raise ResolutionError(f"no controller document for {did!r} is available offline")
        return copy.deepcopy(dict(doc))

    def resolve_method(self, vm_url: str) -> ResolvedMethod:
        """Resolve a verification method URL to its key and its controller's document.

        Checks the binding both ways: the method's ``controller`` is the document that lists
        it, and that document's ``id`` is the base of the method URL.
        """
        if not isinstance(vm_url, str) or not vm_url:
            raise ResolutionError("verificationMethod must be a non-empty string")
        known = _KEY_METHODS.get(vm_url)
        if known is not None and type(self).resolve is _RESOLVE and known[0] not in self._conflicts:
            did, mk, vm_id, public_key = known
            doc = _key_document(did, mk)
            return ResolvedMethod(id=vm_id, controller=did, method=dict(doc["verificationMethod"][0]),
                                  controller_document=doc, public_key=public_key)
        key_url = vm_url
        base, _, fragment = vm_url.partition("#")
        doc = self.resolve(base)
        if not fragment and base.startswith("did:key:"):
            # A bare did:key (as in the Bitstring Status List REC examples) names its only key.
            vm_url = doc["verificationMethod"][0]["id"]
        vm = self._find_method(doc, vm_url)
        if vm is None:
            raise ResolutionError(f"{vm_url} is not a verification method of {doc.get('id')}")
        controller = vm.get("controller")
        if controller != doc.get("id"):
            raise ResolutionError(
                f"verification method {vm_url} names controller {controller!r}, "
                f"but it is listed by {doc.get('id')!r}"
            )
        resolved = ResolvedMethod(
            id=vm_url,
            controller=str(controller),
            method=vm,
            controller_document=doc,
            public_key=_public_key_of(vm),
        )
        if base.startswith("did:key:") and type(self).resolve is _RESOLVE:
            if len(_KEY_METHODS) >= _KEY_METHODS_LIMIT:
                _KEY_METHODS.clear()  # bounded: a service meeting ever new holders starts over
            _KEY_METHODS[key_url] = (base, doc["verificationMethod"][0]["publicKeyMultibase"], vm_url,
                                     resolved.public_key)
        return resolved

    @staticmethod
    def _find_method(doc: Mapping[str, Any], vm_url: str) -> Mapping[str, Any] | None:
        base = str(doc.get("id", ""))
        candidates: list[Any] = list(doc.get("verificationMethod") or [])
        for rel in _RELATIONSHIPS:
            entries = doc.get(rel) or []
            candidates.extend(e for e in (entries if isinstance(entries, list) else [entries]))
        for vm in candidates:
            if isinstance(vm, dict) and isinstance(vm.get("id"), str):
                if _absolute(vm["id"], base) == vm_url:
                    out = dict(vm)
                    out["id"] = vm_url
                    if isinstance(out.get("controller"), str):
                        out["controller"] = _absolute(out["controller"], base)
                    return out
        return None


#: :meth:`DidResolver.resolve` itself: a subclass that overrides it (a test's spy, a resolver of
#: its own) is always asked, never bypassed by the did:key table.
_RESOLVE = DidResolver.resolve

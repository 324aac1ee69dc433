"""did:web verifiers: an employer with its own domain signs request objects as
``decentralized_identifier:did:web:employer.example`` with a key it already has.

OpenID4VP 1.0 (§5.9.3, the ``decentralized_identifier`` prefix) has the wallet take the key
that verifies the request object from the DID document's ``verificationMethod``, picked by the
JOSE ``kid``. A method the document lists only for key agreement or capability delegation was
not given to speak for the DID, so both sides here also require it to be listed under
``authentication`` or ``assertionMethod`` (:data:`REQUEST_KEY_PURPOSES`): the verifier when it
adopts its key (:func:`verifier_method`), the wallet when it checks a request.

The wallet never fetches a did:web document (a fetch would tell the employer's web server who
scanned the QR code, and a network attacker could answer it): the worker is given the document
(with the vacancy, or kept in the wallet) and :func:`skillcred.oid4vp.verify_request_object`
resolves from those only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skillcred.did import DidResolver, ResolvedMethod, web_did_document, web_did_url_path
from skillcred.errors import InvalidArgument, ResolutionError, UnsupportedFeature
from skillcred.keys import PublicKey

#: the verification relationships a request-signing key must be listed under (one suffices)
REQUEST_KEY_PURPOSES = ("authentication", "assertionMethod")


def authorized_for_requests(method: ResolvedMethod) -> bool:
    """Is ``method`` listed by its DID document under one of :data:`REQUEST_KEY_PURPOSES`?"""
    return any(method.authorized_for(p) for p in REQUEST_KEY_PURPOSES)


def verifier_method(did: str, public_key: PublicKey,
                    document: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """``(verification method id, DID document)`` a did:web verifier signs requests with.

    With ``document`` (the ``did.json`` the employer already publishes): its ``id`` must be
    ``did`` and one of its methods must hold ``public_key`` and be authorised for requests
    (:data:`REQUEST_KEY_PURPOSES`); that method is used. Without: a new document with the key as
    its one Multikey method (to be published at the did:web's URL). :class:`InvalidArgument`
    naming what does not fit."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise InvalidArgument(f"a verifier DID with its own key is a did:web, not {did!r}")
    web_did_url_path(did)  # a well-formed did:web (host, port, path segments)
    if document is None:
        doc = web_did_document(did, [public_key])
        return str(doc["verificationMethod"][0]["id"]), doc
    if document.get("id") != did:
        raise InvalidArgument(f"the DID document is for {document.get('id')!r}, not {did}")
    resolver = DidResolver([document])
    candidates = list(document.get("verificationMethod") or [])
    for purpose in REQUEST_KEY_PURPOSES:
        entries = document.get(purpose) or []
        candidates.extend(entries if isinstance(entries, list) else [entries])
    seen: list[str] = []
    for vm in candidates:
        ref = vm.get("id") if isinstance(vm, Mapping) else vm
        if not isinstance(ref, str):
            continue
        vm_id = did + ref if ref.startswith("#") else ref
        if vm_id in seen:
            continue
        seen.append(vm_id)
        try:
            method = resolver.resolve_method(vm_id)
        except (ResolutionError, UnsupportedFeature, InvalidArgument):
            continue
        if method.public_key == public_key and authorized_for_requests(method):
            return vm_id, dict(document)
    raise InvalidArgument(f"the DID document of {did} lists no verification method with this key for "
                          f"{' or '.join(REQUEST_KEY_PURPOSES)}: wallets would refuse its requests")


def method_key(document: Mapping[str, Any], vm_id: str) -> PublicKey:
    """The public key of ``vm_id`` in a did:web verifier's own ``document`` (to check its key file)."""
    return DidResolver([document]).resolve_method(vm_id).public_key

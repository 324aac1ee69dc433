"""Selective disclosure with ``ecdsa-sd-2023`` (https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023).

Three parties, three steps:

* the issuer signs with :func:`add_base_proof`, naming the *mandatory* JSON pointers (what
  every presentation must reveal, e.g. ``/issuer``); the result goes to the holder only;
* the holder calls :func:`derive_proof` with the *selective* pointers it chooses to reveal
  (e.g. ``/credentialSubject/skill``); the result is the reveal document with a derived proof;
* the verifier checks the derived document with :func:`skillcred.proofs.check_proofs` like any
  other proof. A base proof given to a verifier fails (code ``sd_base_proof``): it carries the
  HMAC key that hides the undisclosed values' blank node labels and is not meant to be shown.

Keys: P-256 (SHA-256) or P-384 (SHA-384). The per-statement signatures always use a fresh
proof-scoped P-256 key.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from skillcred._internal.fileio import check_depth
from skillcred._internal.timeutil import format_datetime, utcnow
from skillcred.errors import InvalidArgument, ProofError
from skillcred.keys import KeyPair
from skillcred.loader import OfflineLoader
from skillcred.proofs._data_integrity import PROOF_TYPE, HashName
from skillcred.proofs._ecdsa_sd_2023 import (
    NAME,
    DerivedProofValue,
    create_base_proof_value,
    create_disclosure_data,
    parse_base_proof_value,
    proof_value_kind,
    serialize_derived_proof_value,
)

__all__ = ["add_base_proof", "derive_proof"]

_PURPOSES = ("assertionMethod", "authentication")


def _pointers(value: Sequence[str], what: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgument(f"{what} must be a list of JSON pointers")
    for p in value:
        if not isinstance(p, str) or (p and not p.startswith("/")):
            raise InvalidArgument(f"{what}: {p!r} is not a JSON pointer ('/a/b')")
    return list(value)


def add_base_proof(
    document: Mapping[str, Any],
    key: KeyPair,
    *,
    verification_method: str,
    mandatory_pointers: Sequence[str],
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    loader: OfflineLoader | None = None,
    hmac_key: bytes | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``ecdsa-sd-2023`` base proof (for the holder).

    ``mandatory_pointers`` are JSON pointers into ``document`` that every derived proof will
    reveal. ``hmac_key`` is for tests (default: a fresh random key of the hash's size).
    """
    if not isinstance(document, Mapping):
        raise InvalidArgument("document must be a JSON object")
    check_depth(document)
    if "proof" in document:
        raise ProofError("ecdsa-sd-2023 base proofs are made on a document without proofs")
    if key.key_type not in ("p256", "p384"):
        raise ProofError(f"{NAME} needs a p256 or p384 key, not {key.key_type}")
    if proof_purpose not in _PURPOSES:
        raise InvalidArgument(f"proof purpose must be one of {', '.join(_PURPOSES)}")
    pointers = _pointers(mandatory_pointers, "mandatory_pointers")
    proof: dict[str, Any] = {}
    if proof_id:
        proof["id"] = proof_id
    proof["type"] = PROOF_TYPE
    proof["cryptosuite"] = NAME
    proof["created"] = format_datetime(created or utcnow())
    if expires is not None:
        proof["expires"] = format_datetime(expires)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    proof["proofValue"] = create_base_proof_value(
        document, proof, key, pointers, hmac_key=hmac_key, loader=loader
    )
    out = copy.deepcopy(dict(document))
    out["proof"] = proof
    return out


def _base_proof_of(document: Mapping[str, Any]) -> dict[str, Any]:
    proofs = document.get("proof")
    candidates = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
    found = []
    for p in candidates:
        if isinstance(p, dict) and p.get("cryptosuite") == NAME and p.get("type") == PROOF_TYPE:
            if proof_value_kind(p.get("proofValue")) == "base":
                found.append(p)
    if len(found) != 1:
        raise ProofError(
            "the document has no ecdsa-sd-2023 base proof" if not found
            else "the document has more than one ecdsa-sd-2023 base proof"
        )
    return found[0]


def derive_proof(
    document_with_base_proof: Mapping[str, Any],
    *,
    selective_pointers: Sequence[str],
    loader: OfflineLoader | None = None,
) -> dict[str, Any]:
    """Return the reveal document: the mandatory and selected values, with a derived proof.

    ``selective_pointers`` are JSON pointers into the document (what the holder chooses to
    show, in addition to the issuer's mandatory pointers). Other proofs are not carried over.
    """
    if not isinstance(document_with_base_proof, Mapping):
        raise InvalidArgument("document must be a JSON object")
    check_depth(document_with_base_proof)
    pointers = _pointers(selective_pointers, "selective_pointers")
    proof = _base_proof_of(document_with_base_proof)
    base = parse_base_proof_value(proof["proofValue"])
    # The HMAC key is as long as the issuer's hash: 32 bytes for P-256, 48 for P-384.
    hash_name: HashName
    if len(base.hmac_key) == 32:
        hash_name = "sha256"
    elif len(base.hmac_key) == 48:
        hash_name = "sha384"
    else:
        raise ProofError("ecdsa-sd-2023 base proof: the HMAC key must be 32 or 48 bytes")
    unsecured = {k: v for k, v in document_with_base_proof.items() if k != "proof"}
    data = create_disclosure_data(unsecured, proof, pointers, hash_name=hash_name, loader=loader)
    new_proof = copy.deepcopy(proof)
    new_proof["proofValue"] = serialize_derived_proof_value(
        DerivedProofValue(
            data.base_signature,
            data.public_key,
            data.signatures,
            data.label_map,
            data.mandatory_indexes,
        )
    )
    reveal = data.reveal_document
    reveal["proof"] = new_proof
    return reveal

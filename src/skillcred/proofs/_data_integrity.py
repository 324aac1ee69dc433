"""W3C Verifiable Credential Data Integrity 1.0: the algorithms every cryptosuite shares.

Section references are to https://www.w3.org/TR/vc-data-integrity/ (DI) and to the suite
specifications https://www.w3.org/TR/vc-di-eddsa/ and https://www.w3.org/TR/vc-di-ecdsa/.

A suite is a transformation (RDFC-1.0 or JCS), a hash and a signature. The steps are:

* transform the unsecured document and the proof configuration (the proof without
  ``proofValue``; for RDFC with the document's ``@context`` copied in, for JCS carrying it);
* ``hashData = hash(canonical proof configuration) || hash(canonical document)``;
* sign ``hashData``; ``proofValue`` is the base58btc multibase of the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from skillcred._internal import jcs, rdfc
from skillcred._internal.jsonld import fast_path_enabled, planned_rows, to_rdf_rows
from skillcred.keys import KeyType
from skillcred.loader import OfflineLoader

HashName = Literal["sha256", "sha384"]
Canonicalization = Literal["rdfc", "jcs"]

PROOF_TYPE = "DataIntegrityProof"


@dataclass(frozen=True)
class Cryptosuite:
    """One Data Integrity cryptosuite: which keys, which transformation, which hash."""

    name: str
    spec: str
    key_types: tuple[KeyType, ...]
    canonicalization: Canonicalization
    hash_for_key: Callable[[KeyType], HashName]

    def hash_name(self, key_type: KeyType) -> HashName:
        return self.hash_for_key(key_type)


@dataclass(frozen=True)
class HashInput:
    """Everything that goes into the signature, kept for tests and diagnostics."""

    canonical_document: str
    canonical_proof_config: str
    document_hash: bytes
    proof_config_hash: bytes

    @property
    def hash_data(self) -> bytes:
        # DI suites: proofConfigHash first, then transformedDocumentHash.
        return self.proof_config_hash + self.document_hash


def _digest(name: HashName, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def canonical_form(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    hash_name: HashName,
    loader: OfflineLoader | None,
) -> str:
    """The suite's transformation of ``document`` (RDFC-1.0 N-Quads or JCS text).

    For RDFC the document goes to RDF through :func:`~skillcred._internal.jsonld.to_rdf_rows`:
    the JSON-LD fast path when it handles the document, pyld otherwise (identical rows).
    Before that, a document of a shape met before gets its dataset from the shape's plan
    (:mod:`skillcred._internal.rdfplan`: the same canonical form, without expanding it again),
    when RDFC-1.0 provably gives that dataset the same canonical form in any row order
    (:func:`~skillcred._internal.rdfc.canonicalize_rows_any_order`).
    """
    if suite.canonicalization == "jcs":
        return jcs.canonicalize_json(document).decode("utf-8")
    if fast_path_enabled():
        planned = planned_rows(document, loader)
        if planned is not None:
            nquads = rdfc.canonicalize_rows_any_order(planned, hash_algorithm=hash_name)
            if nquads is not None:
                return nquads
    rows = to_rdf_rows(document, loader=loader)
    return rdfc.canonicalize_rows(rows, hash_algorithm=hash_name)


def proof_configuration(
    suite: Cryptosuite, proof: Mapping[str, Any], document: Mapping[str, Any]
) -> dict[str, Any]:
    """The proof options that are signed: the proof minus ``proofValue``.

    RDFC suites canonicalize it with the document's ``@context`` (DI: "proof configuration").
    JCS suites sign the ``@context`` the proof itself carries (set when the proof was made).
    """
    config = {k: v for k, v in proof.items() if k != "proofValue"}  # shares values: only read
    if suite.canonicalization == "rdfc":
        if "@context" in document:
            config["@context"] = document["@context"]
    return config


def hash_input(
    suite: Cryptosuite,
    unsecured_document: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    key_type: KeyType,
    loader: OfflineLoader | None,
) -> HashInput:
    """Transform and hash the document and the proof configuration."""
    hash_name = suite.hash_name(key_type)
    doc_c14n = canonical_form(suite, unsecured_document, hash_name, loader)
    cfg_c14n = canonical_form(suite, proof_config, hash_name, loader)
    return HashInput(
        canonical_document=doc_c14n,
        canonical_proof_config=cfg_c14n,
        document_hash=_digest(hash_name, doc_c14n.encode("utf-8")),
        proof_config_hash=_digest(hash_name, cfg_c14n.encode("utf-8")),
    )

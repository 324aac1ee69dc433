"""Data Integrity proofs: add one to a document, check the ones it carries.

Supported cryptosuites (``SUPPORTED_CRYPTOSUITES``): ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``,
``ecdsa-rdfc-2019`` and ``ecdsa-jcs-2019`` (P-256 and P-384). :func:`check_proofs` also verifies
``ecdsa-sd-2023`` derived proofs (``VERIFIABLE_CRYPTOSUITES``); those are made with
:mod:`skillcred.proofs.selective`, not :func:`add_proof`.

* :func:`add_proof` signs the exact JSON object it is given and returns a new object with the
  proof appended (a proof set when one is already there).
* :func:`check_proofs` checks every proof and returns a :class:`ProofReport`; it never raises
  for a verification *outcome*, only for misuse.
* :func:`verify_proof` is the fail-closed form: it returns the report when every proof
  verified and raises :class:`~skillcred.errors.VerificationFailed` (carrying it) otherwise.

What a proof check covers (DI §4.3 Verify Proof, and the suite's verify algorithm): proof
shape, cryptosuite allowed, expected proof purpose / challenge / domain, ``expires``, the
verification method resolved offline and authorized by its controller document for the proof
purpose, the key type fitting the suite, and the signature. It does *not* cover issuer binding,
validity dates, status or trust: :mod:`skillcred.verify` adds those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from skillcred._internal import base58
from skillcred._internal.fileio import check_depth, copy_json
from skillcred._internal.strictjson import same_json
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.did import DidResolver, ResolvedMethod
from skillcred.errors import (
    DidDocumentConflict,
    InvalidArgument,
    MalformedDocument,
    ProofError,
    ResolutionError,
    SkillcredError,
    UnsupportedFeature,
    VerificationFailed,
)
from skillcred.keys import KeyPair
from skillcred.loader import OfflineLoader
from skillcred.proofs._data_integrity import (
    PROOF_TYPE,
    Cryptosuite,
    HashInput,
    canonical_form,
    hash_input,
    proof_configuration,
)
from skillcred.proofs._ecdsa import ECDSA_JCS_2019, ECDSA_RDFC_2019, ECDSA_SD_2023
from skillcred.proofs._eddsa import EDDSA_JCS_2022, EDDSA_RDFC_2022

__all__ = [
    "CRYPTOSUITES",
    "SUPPORTED_CRYPTOSUITES",
    "VERIFIABLE_CRYPTOSUITES",
    "CheckStatus",
    "ProofCheck",
    "ProofReport",
    "add_proof",
    "check_proofs",
    "default_suite_for",
    "signed_parts",
    "verify_proof",
]

CRYPTOSUITES: dict[str, Cryptosuite] = {
    s.name: s
    for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022, ECDSA_RDFC_2019, ECDSA_JCS_2019, ECDSA_SD_2023)
}
#: Suites :func:`add_proof` signs with (ecdsa-sd-2023 has its own functions in ``selective``).
SUPPORTED_CRYPTOSUITES: tuple[str, ...] = tuple(n for n in CRYPTOSUITES if n != ECDSA_SD_2023.name)
#: Suites :func:`check_proofs` verifies (its default ``allowed_suites``).
VERIFIABLE_CRYPTOSUITES: tuple[str, ...] = tuple(CRYPTOSUITES)
#: base58btc text of the longest supported signature (P-384 r||s, 96 bytes) is ~132 characters
MAX_SIGNATURE_CHARS = 200
PROOF_PURPOSES = ("assertionMethod", "authentication")

CheckStatus = Literal["passed", "failed", "not_applicable", "indeterminate"]


def default_suite_for(key: KeyPair) -> str:
    """The RDFC suite that fits a key type (what skillcred uses when none is named)."""
    return "eddsa-rdfc-2022" if key.key_type == "ed25519" else "ecdsa-rdfc-2019"


def _suite(name: str) -> Cryptosuite:
    try:
        return CRYPTOSUITES[name]
    except KeyError:
        raise UnsupportedFeature(
            f"cryptosuite {name!r} is not supported (supported: {', '.join(SUPPORTED_CRYPTOSUITES)})"
        ) from None


def _unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without ``proof``: a new top-level object sharing the values (the
    transformations only read it; whoever needs to change nested values copies first)."""
    return {k: v for k, v in document.items() if k != "proof"}


def signed_parts(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the document's Data Integrity proofs sign, as JSON-LD documents: the document
    without ``proof``, then each proof's configuration (the proof minus ``proofValue``, with
    the document's ``@context`` unless the proof carries its own).

    The verifier's terms check runs on these, so it covers exactly the signed data, and the
    RDF it computes is the RDF the canonicalization needs next (see
    :func:`skillcred._internal.jsonld.rows_memo`).
    """
    parts = [_unsecured(document)]
    for proof in _proofs_of(document):
        if isinstance(proof, Mapping):
            config = {k: v for k, v in proof.items() if k != "proofValue"}
            if "@context" not in config and "@context" in document:
                config["@context"] = document["@context"]
            parts.append(config)
    return parts


def _proofs_of(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def add_proof(
    document: Mapping[str, Any],
    key: KeyPair,
    *,
    verification_method: str,
    cryptosuite: str | None = None,
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    loader: OfflineLoader | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with a new Data Integrity proof.

    The signature covers ``document`` exactly as given (minus any existing ``proof``, or with
    the proofs named by ``previous_proof`` for a proof chain). ``created`` defaults to now.
    """
    if not isinstance(document, Mapping):
        raise InvalidArgument("document must be a JSON object")
    check_depth(document)
    suite = _suite(cryptosuite or default_suite_for(key))
    if suite.name == ECDSA_SD_2023.name:
        raise ProofError(
            "ecdsa-sd-2023 proofs are made with skillcred.proofs.selective.add_base_proof (issuer) "
            "and derive_proof (holder)"
        )
    if key.key_type not in suite.key_types:
        raise ProofError(
            f"{suite.name} needs a {' or '.join(suite.key_types)} key, not {key.key_type}"
        )
    if proof_purpose not in PROOF_PURPOSES:
        raise InvalidArgument(f"proof purpose must be one of {', '.join(PROOF_PURPOSES)}")
    existing = _proofs_of(document)
    proof: dict[str, Any] = {}
    if suite.canonicalization == "jcs" and "@context" in document:
        proof["@context"] = copy_json(document["@context"])
    if proof_id:
        proof["id"] = proof_id
    proof["type"] = PROOF_TYPE
    proof["cryptosuite"] = suite.name
    proof["created"] = format_datetime(created or utcnow())
    if expires is not None:
        proof["expires"] = format_datetime(expires)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain if isinstance(domain, str) else list(domain)
    if previous_proof is not None:
        proof["previousProof"] = previous_proof if isinstance(previous_proof, str) else list(previous_proof)

    unsecured = _with_previous(document, proof, existing)
    config = proof_configuration(suite, proof, unsecured)
    hashed = hash_input(suite, unsecured, config, key.key_type, loader)
    signature = key.sign(hashed.hash_data)
    proof["proofValue"] = base58.encode(signature)  # = multibase.encode(signature, "base58btc")

    out = {k: copy_json(v) for k, v in document.items()}
    prior = _proofs_of(out)
    out["proof"] = [*prior, proof] if prior else proof
    return out


def add_proof_to_own(
    document: dict[str, Any],
    key: KeyPair,
    *,
    verification_method: str,
    cryptosuite: str,
    created: datetime,
    config_cache: dict[str, str],
) -> dict[str, Any]:
    """:func:`add_proof` (assertionMethod, no expiry, challenge, domain or chain) for a
    document the caller has just built and will not change: an issuer's credential.

    The signature, and the proof, are exactly :func:`add_proof`'s; what batch issuing saves,
    about a tenth of signing a credential, is work that only guards against a caller's
    document: the depth walk (the credential model bounds it), the defensive deep copy (the
    result shares ``document``'s values) and canonicalizing the proof configuration again
    when it is one already seen (``config_cache``, canonical text by configuration: in a
    batch it changes only with ``created``, once a second). Not part of the public API.
    """
    suite = _suite(cryptosuite)
    if suite.name == ECDSA_SD_2023.name or key.key_type not in suite.key_types or "proof" in document:
        raise ProofError(f"add_proof_to_own: {suite.name} with a {key.key_type} key on a document without "
                         "a proof (use add_proof)")
    proof: dict[str, Any] = {}
    if suite.canonicalization == "jcs" and "@context" in document:
        proof["@context"] = copy_json(document["@context"])
    proof["type"] = PROOF_TYPE
    proof["cryptosuite"] = suite.name
    proof["created"] = format_datetime(created)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = "assertionMethod"
    config = proof_configuration(suite, proof, document)
    hash_name = suite.hash_name(key.key_type)
    config_key = f"{hash_name} {json.dumps(config, sort_keys=True, ensure_ascii=False)}"
    cfg_c14n = config_cache.get(config_key)
    if cfg_c14n is None:
        if len(config_cache) >= 64:  # a batch meets one a second: keep the table small
            config_cache.clear()
        cfg_c14n = config_cache[config_key] = canonical_form(suite, config, hash_name, None)
    doc_c14n = canonical_form(suite, document, hash_name, None)
    hashed = HashInput(doc_c14n, cfg_c14n, hashlib.new(hash_name, doc_c14n.encode("utf-8")).digest(),
                       hashlib.new(hash_name, cfg_c14n.encode("utf-8")).digest())
    proof["proofValue"] = base58.encode(key.sign(hashed.hash_data))
    return {**document, "proof": proof}


def _with_previous(
    document: Mapping[str, Any], proof: Mapping[str, Any], all_proofs: Sequence[Any]
) -> dict[str, Any]:
    """The unsecured document a proof signs: without proofs, plus those it chains to (DI §2.1.2)."""
    unsecured = _unsecured(document)
    prev = proof.get("previousProof")
    if prev is None:
        return unsecured
    wanted = [prev] if isinstance(prev, str) else list(prev)
    found = []
    for pid in wanted:
        match = [p for p in all_proofs if isinstance(p, dict) and p.get("id") == pid]
        if not match:
            raise MalformedDocument(f"previousProof {pid!r} is not among the document's proofs")
        found.append(match[0])
    unsecured["proof"] = found[0] if len(found) == 1 else found
    return unsecured


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of checking one proof."""

    index: int
    status: CheckStatus
    code: str
    reason: str
    cryptosuite: str | None = None
    verification_method: str | None = None
    proof_purpose: str | None = None
    controller: str | None = None
    #: ecdsa-sd-2023 only: statements deciding validity, status or the issuer that the issuer
    #: left selectively disclosable (the proof is valid; a verifier's policy refuses this)
    disclosable_decisive: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
            "cryptosuite": self.cryptosuite,
            "verificationMethod": self.verification_method,
            "proofPurpose": self.proof_purpose,
            "controller": self.controller,
        }


@dataclass(frozen=True)
class ProofReport:
    """Results for every proof of a document. Not a boolean: read ``verified``."""

    checks: tuple[ProofCheck, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        """True only when there is at least one proof and every proof passed."""
        return bool(self.checks) and all(c.status == "passed" for c in self.checks)

    @property
    def controllers(self) -> tuple[str, ...]:
        """Controllers of the verification methods of the proofs that passed."""
        return tuple(c.controller for c in self.checks if c.status == "passed" and c.controller)

    def __bool__(self) -> bool:
        raise TypeError("a ProofReport is not a boolean: use report.verified")

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "proofs": [c.to_dict() for c in self.checks]}


class _Fail(Exception):
    def __init__(self, code: str, reason: str, status: CheckStatus = "failed") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _check_one(
    index: int,
    proof: Any,
    document: Mapping[str, Any],
    all_proofs: Sequence[Any],
    *,
    resolver: DidResolver,
    expected_purpose: str | None,
    challenge: str | None,
    domain: str | None,
    at: datetime,
    allowed_suites: Iterable[str],
    loader: OfflineLoader | None,
) -> ProofCheck:
    suite_name: str | None = None
    vm_url: str | None = None
    purpose: str | None = None
    controller: str | None = None

    def result(status: CheckStatus, code: str, reason: str) -> ProofCheck:
        return ProofCheck(index, status, code, reason, suite_name, vm_url, purpose, controller)

    try:
        # DI §4.3 step 1-3: the proof is a well-formed DataIntegrityProof of an allowed suite.
        if not isinstance(proof, dict):
            raise _Fail("proof_malformed", "proof is not a JSON object")
        suite_name = proof.get("cryptosuite") if isinstance(proof.get("cryptosuite"), str) else None
        vm_url = proof.get("verificationMethod") if isinstance(proof.get("verificationMethod"), str) else None
        purpose = proof.get("proofPurpose") if isinstance(proof.get("proofPurpose"), str) else None
        if proof.get("type") != PROOF_TYPE:
            raise _Fail(
                "unsupported_proof_type",
                f"proof type {proof.get('type')!r} is not supported (only {PROOF_TYPE})",
            )
        if suite_name is None:
            raise _Fail("proof_malformed", "proof has no cryptosuite")
        if suite_name not in CRYPTOSUITES:
            raise _Fail("unsupported_cryptosuite", f"cryptosuite {suite_name!r} is not supported")
        if suite_name not in allowed_suites:
            raise _Fail("cryptosuite_not_allowed", f"cryptosuite {suite_name!r} is not allowed by policy")
        suite = CRYPTOSUITES[suite_name]
        if vm_url is None:
            raise _Fail("proof_malformed", "proof has no verificationMethod")
        if purpose is None:
            raise _Fail("proof_malformed", "proof has no proofPurpose")
        proof_value = proof.get("proofValue")
        selective = suite.name == ECDSA_SD_2023.name
        if selective:
            # the selective-disclosure algorithms load only when such a proof is met
            from skillcred.proofs._ecdsa_sd_2023 import proof_value_kind, verify_derived_proof

            try:
                kind = proof_value_kind(proof_value)
            except ProofError as exc:
                raise _Fail("proof_value_malformed", exc.message) from None
            if kind == "base":
                raise _Fail(
                    "sd_base_proof",
                    "this is an ecdsa-sd-2023 base proof, which is for the holder only: a verifier "
                    "needs a derived proof (skillcred.proofs.selective.derive_proof)",
                )
            signature = b""
        elif not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise _Fail("proof_value_malformed", "proofValue is missing or not base58btc multibase")
        elif len(proof_value) > MAX_SIGNATURE_CHARS:
            # refused before decoding: no supported signature is this long (P-384: 96 bytes)
            raise _Fail("proof_value_malformed",
                        f"proofValue is {len(proof_value):,} characters, longer than any supported signature")
        else:
            try:
                signature = base58.decode(proof_value)  # = multibase.decode, ~30x faster
            except Exception:
                raise _Fail("proof_value_malformed", "proofValue is not valid base58btc") from None

        # DI §4.3: expected purpose, challenge and domain come from the verifier, never the proof.
        if expected_purpose is not None and purpose != expected_purpose:
            raise _Fail(
                "proof_purpose_mismatch",
                f"proof purpose is {purpose!r}, the verifier expects {expected_purpose!r}",
            )
        if challenge is not None and proof.get("challenge") != challenge:
            got = proof.get("challenge")
            raise _Fail(
                "challenge_mismatch",
                "proof has no challenge" if got is None else "proof challenge does not match the expected one",
            )
        if domain is not None and domain not in _as_list(proof.get("domain")):
            got = proof.get("domain")
            raise _Fail(
                "domain_mismatch",
                "proof has no domain" if got is None else f"proof domain {got!r} is not {domain!r}",
            )
        if "created" in proof:
            parse_datetime(proof["created"], field="proof created")
        if "expires" in proof:
            if parse_datetime(proof["expires"], field="proof expires") < at:
                raise _Fail("proof_expired", f"proof expired at {proof['expires']}")

        # Resolve the verification method offline and check its controller authorizes it.
        try:
            method: ResolvedMethod = resolver.resolve_method(vm_url)
        except ResolutionError as exc:
            # a conflict with a trusted document keeps its own name (did_document_conflict)
            code = exc.code if isinstance(exc, DidDocumentConflict) else "verification_method_unresolved"
            raise _Fail(code, exc.message) from None
        controller = method.controller
        if not method.authorized_for(purpose):
            raise _Fail(
                "verification_method_not_authorized",
                f"{method.id} is not authorized for {purpose} by its controller {method.controller}",
            )
        key_type = method.public_key.key_type
        if key_type not in suite.key_types:
            raise _Fail(
                "key_type_mismatch",
                f"{suite.name} needs a {' or '.join(suite.key_types)} key; the method is {key_type}",
            )
        if suite.canonicalization == "jcs" and "@context" in proof:
            # eddsa-jcs-2022 / ecdsa-jcs-2019 verify: document @context must start with the proof's.
            doc_ctx, proof_ctx = _as_list(document.get("@context")), _as_list(proof["@context"])
            if doc_ctx[: len(proof_ctx)] != proof_ctx:
                raise _Fail("context_mismatch", "document @context does not start with the proof's @context")

        unsecured = _with_previous(document, proof, all_proofs)
        if selective:
            try:
                ok, code, why, decisive = verify_derived_proof(copy_json(unsecured), proof, method.public_key,
                                                               loader=loader)
            except ProofError as exc:
                raise _Fail("signature_invalid", exc.message) from None
            if not ok:
                raise _Fail(code, why)
            return replace(result("passed", "ok", f"{suite_name} derived proof by {vm_url} verified"),
                           disclosable_decisive=decisive)
        if suite.canonicalization == "jcs" and "@context" in proof and not (
                "@context" in unsecured and same_json(unsecured["@context"], proof["@context"])):
            # the proof's own @context is signed; an identical one keeps the document's value,
            # whose canonical form a presentation's canonicalization may have left (jcs.memo)
            unsecured["@context"] = proof["@context"]
        config = proof_configuration(suite, proof, unsecured)
        hashed: HashInput = hash_input(suite, unsecured, config, key_type, loader)
        if not method.public_key.verify(signature, hashed.hash_data):
            raise _Fail("signature_invalid", "signature does not match the document and proof options")
    except _Fail as f:
        return result(f.status, f.code, f.reason)
    except MalformedDocument as exc:
        return result("failed", exc.code, exc.message)
    except SkillcredError as exc:
        return result("failed", exc.code, exc.message)
    return result("passed", "ok", f"{suite_name} signature by {vm_url} verified")


def check_proofs(
    document: Mapping[str, Any],
    *,
    resolver: DidResolver | None = None,
    expected_purpose: str | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    at: datetime | None = None,
    allowed_suites: Iterable[str] = VERIFIABLE_CRYPTOSUITES,
    loader: OfflineLoader | None = None,
) -> ProofReport:
    """Check every proof on ``document``; returns a report, never raises for an outcome.

    ``expected_purpose``, ``challenge`` and ``domain`` are what the verifier expects; when
    ``expected_purpose`` is None each proof is checked against the purpose it declares (its
    verification method must still be authorized for it).
    """
    if not isinstance(document, Mapping):
        raise InvalidArgument("document must be a JSON object")
    try:
        check_depth(document)
    except MalformedDocument as exc:
        return ProofReport((ProofCheck(0, "failed", exc.code, exc.message),))
    return check_proofs_depth_checked(
        document, resolver=resolver, expected_purpose=expected_purpose, challenge=challenge,
        domain=domain, at=at, allowed_suites=allowed_suites, loader=loader,
    )


def check_proofs_depth_checked(
    document: Mapping[str, Any],
    *,
    resolver: DidResolver | None,
    expected_purpose: str | None,
    challenge: str | None = None,
    domain: str | None = None,
    at: datetime | None,
    allowed_suites: Iterable[str],
    loader: OfflineLoader | None,
) -> ProofReport:
    """:func:`check_proofs` for a document (or a part of one) already known to be within the
    nesting limit: the verifier checks the whole presentation once, not once per credential.
    (Not in ``__all__``: the verifier's entry, not a promised one.)"""
    proofs = _proofs_of(document)
    if not proofs:
        return ProofReport((ProofCheck(0, "failed", "proof_missing", "document has no proof"),))
    allowed = tuple(allowed_suites)
    when = at or utcnow()
    res = resolver or DidResolver()
    return ProofReport(
        tuple(
            _check_one(
                i,
                p,
                document,
                proofs,
                resolver=res,
                expected_purpose=expected_purpose,
                challenge=challenge,
                domain=domain,
                at=when,
                allowed_suites=allowed,
                loader=loader,
            )
            for i, p in enumerate(proofs)
        )
    )


def verify_proof(document: Mapping[str, Any], **kwargs: Any) -> ProofReport:
    """Like :func:`check_proofs`, but raise :class:`VerificationFailed` unless all proofs pass."""
    report = check_proofs(document, **kwargs)
    if not report.verified:
        first = next(c for c in report.checks if c.status != "passed")
        raise VerificationFailed(f"proof {first.index}: {first.reason}", report=report)
    return report

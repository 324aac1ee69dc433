"""Proof options, proof sets and chains, safe-mode JSON-LD and the offline loader."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import vectors_dir
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.errors import (
    ContextError,
    MalformedDocument,
    ProofError,
    StoreError,
    UnknownContext,
    UnsafeDocument,
    VerificationFailed,
)
from skillcred.keys import KeyPair
from skillcred.loader import OfflineLoader
from skillcred.proofs import SUPPORTED_CRYPTOSUITES, add_proof, check_proofs, verify_proof

V2 = "https://www.w3.org/ns/credentials/v2"


def credential(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:roc",
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialSubject": {"id": "did:example:jan", "name": "Jan de Vries"},
    }
    doc.update(extra)
    return doc


SUITE_KEYS = [
    ("eddsa-rdfc-2022", "ed25519"),
    ("eddsa-jcs-2022", "ed25519"),
    ("ecdsa-rdfc-2019", "p256"),
    ("ecdsa-rdfc-2019", "p384"),
    ("ecdsa-jcs-2019", "p256"),
    ("ecdsa-jcs-2019", "p384"),
]


@pytest.mark.parametrize(("suite", "kt"), SUITE_KEYS)
def test_each_suite_signs_and_verifies_and_detects_tampering(suite: str, kt: str) -> None:
    key = KeyPair.generate(kt)  # type: ignore[arg-type]
    signed = add_proof(credential(), key, verification_method=key_did_url(key.public_key), cryptosuite=suite)
    report = check_proofs(signed, expected_purpose="assertionMethod")
    assert report.verified, report.to_dict()
    assert report.controllers == (key_did(key.public_key),)
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["name"] = "Piet"
    bad = check_proofs(forged)
    assert not bad.verified
    assert bad.checks[0].code == "signature_invalid"


def test_all_supported_suites_are_exercised() -> None:
    assert {s for s, _ in SUITE_KEYS} == set(SUPPORTED_CRYPTOSUITES)


def test_suite_key_mismatch_is_refused() -> None:
    key = KeyPair.generate("ed25519")
    with pytest.raises(ProofError, match="ecdsa-rdfc-2019 needs a p256 or p384 key"):
        add_proof(credential(), key, verification_method=key_did_url(key.public_key),
                  cryptosuite="ecdsa-rdfc-2019")


def _auth_proof(key: KeyPair, **kw: Any) -> dict[str, Any]:
    return add_proof(credential(), key, verification_method=key_did_url(key.public_key),
                     proof_purpose="authentication", **kw)


def test_challenge_and_domain_must_match_what_the_verifier_expects() -> None:
    key = KeyPair.generate("ed25519")
    doc = _auth_proof(key, challenge="c-123", domain="https://werkgever.example")
    ok = check_proofs(doc, expected_purpose="authentication", challenge="c-123",
                      domain="https://werkgever.example")
    assert ok.verified
    cases = {
        "challenge_mismatch": {"challenge": "c-999", "domain": "https://werkgever.example"},
        "domain_mismatch": {"challenge": "c-123", "domain": "https://other.example"},
    }
    for code, kw in cases.items():
        rep = check_proofs(doc, expected_purpose="authentication", **kw)
        assert not rep.verified and rep.checks[0].code == code
    no_challenge = _auth_proof(key, domain="https://werkgever.example")
    rep = check_proofs(no_challenge, expected_purpose="authentication", challenge="c-123")
    assert rep.checks[0].code == "challenge_mismatch"
    assert "no challenge" in rep.checks[0].reason


def test_proof_purpose_must_match_and_be_authorized() -> None:
    key = KeyPair.generate("ed25519")
    doc = _auth_proof(key)
    rep = check_proofs(doc, expected_purpose="assertionMethod")
    assert rep.checks[0].code == "proof_purpose_mismatch"
    # A did:web whose document authorizes the key for authentication only.
    did = "did:web:roc.example"
    vm = f"{did}#key-1"
    controller_doc = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": key.public_multikey}],
        "authentication": [vm],
    }
    signed = add_proof(credential(issuer=did), key, verification_method=vm)
    rep = check_proofs(signed, resolver=DidResolver([controller_doc]))
    assert rep.checks[0].code == "verification_method_not_authorized"
    controller_doc["assertionMethod"] = [vm]
    assert check_proofs(signed, resolver=DidResolver([controller_doc])).verified


def test_unresolvable_did_web_fails_closed_without_network() -> None:
    key = KeyPair.generate("ed25519")
    signed = add_proof(credential(), key, verification_method="did:web:unknown.example#k")
    rep = check_proofs(signed)
    assert not rep.verified
    assert rep.checks[0].code == "verification_method_unresolved"
    assert "offline" in rep.checks[0].reason


def test_expired_proof_fails() -> None:
    key = KeyPair.generate("ed25519")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    doc = add_proof(credential(), key, verification_method=key_did_url(key.public_key),
                    created=now, expires=now + timedelta(days=1))
    assert check_proofs(doc, at=now + timedelta(hours=1)).verified
    rep = check_proofs(doc, at=now + timedelta(days=2))
    assert rep.checks[0].code == "proof_expired"


def test_wrong_length_and_garbage_proof_values_fail_cleanly() -> None:
    key = KeyPair.generate("ed25519")
    doc = add_proof(credential(), key, verification_method=key_did_url(key.public_key))
    for value in ["z" + "1" * 10, "zzzzzz", "uAAAA", "", 42, "z0OIl"]:
        forged = copy.deepcopy(doc)
        forged["proof"]["proofValue"] = value
        rep = check_proofs(forged)
        assert not rep.verified
        assert rep.checks[0].code in ("proof_value_malformed", "signature_invalid"), value


def test_report_is_not_a_boolean_and_verify_raises() -> None:
    key = KeyPair.generate("ed25519")
    doc = add_proof(credential(), key, verification_method=key_did_url(key.public_key))
    rep = check_proofs(doc)
    with pytest.raises(TypeError):
        bool(rep)
    forged = copy.deepcopy(doc)
    forged["validFrom"] = "2020-01-01T00:00:00Z"
    with pytest.raises(VerificationFailed) as info:
        verify_proof(forged)
    assert info.value.report.checks[0].code == "signature_invalid"
    assert not check_proofs(credential()).verified  # no proof at all


def test_proof_set_appends_and_both_verify() -> None:
    k1, k2 = KeyPair.generate("ed25519"), KeyPair.generate("p256")
    once = add_proof(credential(), k1, verification_method=key_did_url(k1.public_key))
    twice = add_proof(once, k2, verification_method=key_did_url(k2.public_key))
    assert isinstance(twice["proof"], list) and len(twice["proof"]) == 2
    rep = check_proofs(twice)
    assert rep.verified and len(rep.checks) == 2


@pytest.mark.parametrize(
    "name", ["signedProofSet1.json", "signedProofSet2.json", "signedProofChain1.json", "signedProofChain2.json"]
)
def test_w3c_proof_set_and_chain_vectors_verify(name: str) -> None:
    doc = json.loads((vectors_dir("eddsa-proof-set-chain") / name).read_text())
    rep = check_proofs(doc)
    assert rep.verified, rep.to_dict()
    # dropping a proof that a later proof chains to breaks the chain
    if "Chain" in name:
        chained = [p for p in doc["proof"] if "previousProof" in p]
        assert chained
        forged = copy.deepcopy(doc)
        prev = chained[0]["previousProof"]
        target = prev if isinstance(prev, str) else prev[0]
        forged["proof"] = [p for p in forged["proof"] if p.get("id") != target]
        assert len(forged["proof"]) == len(doc["proof"]) - 1
        rep = check_proofs(forged)
        assert not rep.verified
        assert any("previousProof" in c.reason for c in rep.checks)


# --- safe mode -------------------------------------------------------------------------------

def _sign(doc: dict[str, Any]) -> dict[str, Any]:
    key = KeyPair.generate("ed25519")
    return add_proof(doc, key, verification_method=key_did_url(key.public_key))


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.__setitem__("favouriteColour", "blue"), "favouriteColour"),
        (lambda d: d["credentialSubject"].__setitem__("lasNiveau", 3), "lasNiveau"),
        (lambda d: d["type"].append("SkillBadge"), "SkillBadge"),
        (lambda d: d.__setitem__("issuer", "not an iri"), "not an iri"),
    ],
)
def test_undefined_terms_are_refused_when_signing(mutate: Any, needle: str) -> None:
    doc = credential()
    mutate(doc)
    with pytest.raises(UnsafeDocument, match=needle):
        _sign(doc)


def test_undefined_term_added_after_signing_fails_verification() -> None:
    signed = _sign(credential())
    signed["credentialSubject"]["extra"] = "smuggled"
    rep = check_proofs(signed)
    assert not rep.verified
    assert rep.checks[0].code == "undefined_term"
    assert "extra" in rep.checks[0].reason


def test_protected_term_redefinition_is_refused() -> None:
    doc = credential()
    doc["@context"] = [V2, "https://www.w3.org/2018/credentials/v1"]
    with pytest.raises(ContextError, match="protected term"):
        _sign(doc)


def test_unknown_context_is_an_error_naming_it_not_a_fetch() -> None:
    doc = credential()
    doc["@context"] = [V2, "https://evil.example/context.jsonld"]
    with pytest.raises(UnknownContext) as info:
        _sign(doc)
    assert info.value.url == "https://evil.example/context.jsonld"
    assert "https://evil.example/context.jsonld" in str(info.value)


def test_loader_serves_only_bundled_contexts_and_checks_their_digest(tmp_path: Any, monkeypatch: Any) -> None:
    loader = OfflineLoader()
    assert V2 in loader.urls
    assert loader.document(V2)["@context"]["@protected"] is True
    with pytest.raises(UnknownContext):
        loader.document("https://www.w3.org/ns/credentials/v3")
    # A modified bundled file is refused rather than served.
    from skillcred import loader as loader_mod

    ctx_dir = tmp_path / "contexts"
    ctx_dir.mkdir()
    real = loader_mod.bundled_contexts()[V2]
    (ctx_dir / "credentials-v2.jsonld").write_bytes(
        real.path.read_bytes().replace(b"VerifiableCredential", b"VerifiableCredentiaI", 1))
    (ctx_dir / "MANIFEST.json").write_text(json.dumps({V2: {"file": "credentials-v2.jsonld", "sha256": real.sha256}}))
    monkeypatch.setattr(loader_mod, "data_dir", lambda name: ctx_dir)
    with pytest.raises(StoreError, match="does not match its pinned sha256"):
        OfflineLoader().document(V2)


def test_deeply_nested_document_is_a_clean_error() -> None:
    doc = credential()
    node: dict[str, Any] = doc["credentialSubject"]
    for _ in range(2000):
        child: dict[str, Any] = {}
        node["name"] = child
        node = child
    with pytest.raises(MalformedDocument, match="nests deeper"):
        _sign(doc)
    rep = check_proofs(doc)
    assert not rep.verified and rep.checks[0].code == "malformed_document"


@pytest.mark.parametrize(("suite", "kt"), SUITE_KEYS)
def test_signing_and_checking_leave_the_input_alone_and_share_nothing_with_it(suite: str, kt: str) -> None:
    """The transformations read the document without copying it (issue 8): the input must come
    out unchanged, and the signed copy must not share a nested object with it."""
    key = KeyPair.generate(kt)  # type: ignore[arg-type]
    vm = key_did_url(key.public_key)
    doc = credential(evidence=[{"id": "https://roc.example/ev/1", "name": "Werkstuk"}])
    first = add_proof(doc, key, verification_method=vm, cryptosuite=suite, proof_id="urn:uuid:p1")
    before = json.dumps(first)
    chained = add_proof(first, key, verification_method=vm, cryptosuite=suite, previous_proof="urn:uuid:p1")
    assert json.dumps(first) == before
    assert check_proofs(chained).verified
    assert json.dumps(first) == before

    def containers(node: Any) -> list[int]:
        out = []
        if isinstance(node, dict):
            out.append(id(node))
            for v in node.values():
                out += containers(v)
        elif isinstance(node, list):
            out.append(id(node))
            for v in node:
                out += containers(v)
        return out

    assert not set(containers(first)) & set(containers(chained))
    chained["credentialSubject"]["name"] = "Piet"
    chained["proof"][0]["created"] = "2000-01-01T00:00:00Z"
    assert json.dumps(first) == before
    assert check_proofs(first).verified

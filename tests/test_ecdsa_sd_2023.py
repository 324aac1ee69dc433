"""ecdsa-sd-2023 (vc-di-ecdsa selective disclosure): the W3C vectors and round trips.

The vectors (tests/vectors/ecdsa-sd-2023, employ/ and prc/) were generated with RFC 6979
deterministic ECDSA, so with the published keys and HMAC key every intermediate value *and* the
signatures are reproduced byte for byte. prc/: the base input is ``prc/addSignedSDBase.json``
minus ``proof`` (``prCredUnsigned.json`` does not match the prc/ vectors, see PROVENANCE.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import vectors_dir
from skillcred._internal import cbor, rdfc
from skillcred._internal.jsonld import to_rdf_rows
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, ProofError
from skillcred.keys import KeyPair
from skillcred.proofs import (
    SUPPORTED_CRYPTOSUITES,
    VERIFIABLE_CRYPTOSUITES,
    add_proof,
    check_proofs,
)
from skillcred.proofs import _ecdsa_sd_2023 as sd
from skillcred.proofs.selective import add_base_proof, derive_proof

SETS = {
    "employ": ("employMandatory.json", "employSelective.json"),
    "prc": ("prCredMandatory.json", "prCredSelective.json"),
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Vectors:
    def __init__(self, name: str) -> None:
        root = vectors_dir("ecdsa-sd-2023")
        self.dir = root / name
        keys = _load(root / "SDKeyMaterial.json")
        self.issuer = KeyPair.from_multikey(keys["baseKeyPair"]["secretKeyMultibase"])
        self.proof_key = KeyPair.from_multikey(keys["proofKeyPair"]["secretKeyMultibase"])
        self.hmac_key = bytes.fromhex(keys["hmacKeyString"])
        assert self.issuer.public_multikey == keys["baseKeyPair"]["publicKeyMultibase"]
        assert self.proof_key.public_multikey == keys["proofKeyPair"]["publicKeyMultibase"]
        mandatory, selective = SETS[name]
        self.mandatory = _load(root / mandatory)
        self.selective = _load(root / selective)
        self.signed = self.load("addSignedSDBase.json")
        self.document = {k: v for k, v in self.signed.items() if k != "proof"}
        self.proof = self.signed["proof"]
        self.proof_options = {k: v for k, v in self.proof.items() if k != "proofValue"}

    def load(self, name: str) -> Any:
        return _load(self.dir / name)


def _pairs(value: dict[int, str]) -> list[list[Any]]:
    return [[k, v] for k, v in value.items()]


@pytest.fixture(params=sorted(SETS), scope="module")
def vec(request: pytest.FixtureRequest) -> Vectors:
    return Vectors(request.param)


# ---- base proof (issuer) ---------------------------------------------------------------------


def test_base_canonical_forms_and_transformation(vec: Vectors) -> None:
    plain = rdfc.canonicalize_rows(to_rdf_rows(vec.document))
    assert plain.splitlines(keepends=True) == vec.load("addBaseDocCanon.json")
    t = sd.base_proof_transformation(
        vec.document, vec.mandatory, hmac_key=vec.hmac_key, hash_name="sha256"
    )
    assert t.grouped.nquads == vec.load("addBaseDocHMACCanon.json")
    expected = vec.load("addBaseTransform.json")
    assert t.mandatory_pointers == expected["mandatoryPointers"]
    assert _pairs(t.mandatory) == expected["mandatory"]["value"]
    assert _pairs(t.non_mandatory) == expected["nonMandatory"]["value"]
    assert t.hmac_key.hex().upper() == expected["hmacKeyString"].upper()


def test_pointer_values(vec: Vectors) -> None:
    for entry in vec.load("addPointerValues.json"):
        selection = sd.select_json_ld([entry["pointer"]], vec.document)
        assert selection is not None
        value: Any = selection
        for part in sd.parse_pointer(entry["pointer"]):
            value = value[int(part) if isinstance(value, list) else part]
        assert value == entry["value"]


def test_proof_config_and_hashes(vec: Vectors) -> None:
    config = dict(vec.proof_options, **{"@context": vec.document["@context"]})
    assert config == vec.load("addProofConfig.json")
    canon = sd.canonical_proof_config(vec.proof_options, vec.document, "sha256", None)
    assert canon == (vec.dir / "addProofConfigCanon.txt").read_text(encoding="utf-8")
    t = sd.base_proof_transformation(
        vec.document, vec.mandatory, hmac_key=vec.hmac_key, hash_name="sha256"
    )
    hashes = vec.load("addHashData.json")
    assert hashlib.sha256(canon.encode()).hexdigest() == hashes["proofHash"]
    assert sd.hash_mandatory_nquads(list(t.mandatory.values())).hex() == hashes["mandatoryHash"]


def test_base_proof_value_reproduced_byte_for_byte(vec: Vectors) -> None:
    value = sd.create_base_proof_value(
        vec.document, vec.proof_options, vec.issuer, vec.mandatory,
        hmac_key=vec.hmac_key, proof_key=vec.proof_key, deterministic=True,
    )
    assert value == vec.proof["proofValue"]
    parsed = sd.parse_base_proof_value(value)
    raw = vec.load("addRawBaseSignatureInfo.json")
    assert parsed.base_signature.hex() == raw["baseSignature"]
    assert sd.public_key_from_multikey_bytes(parsed.public_key).multikey == raw["publicKey"]
    assert [s.hex() for s in parsed.signatures] == raw["signatures"]
    assert parsed.mandatory_pointers == raw["mandatoryPointers"]
    recovered = vec.load("derivedRecoveredBaseData.json")
    assert parsed.hmac_key.hex() == recovered["hmacKey"]
    scoped = sd.public_key_from_multikey_bytes(parsed.public_key)
    assert scoped.multikey == recovered["proofPublicKey"]
    assert [s.hex() for s in parsed.signatures] == recovered["signatures"]
    # and the CBOR writer gives back the published bytes
    assert sd.serialize_base_proof_value(parsed) == vec.proof["proofValue"]


def test_add_base_proof_public_api_matches_vector(vec: Vectors) -> None:
    from datetime import datetime

    created = datetime.fromisoformat(vec.proof["created"].replace("Z", "+00:00"))
    signed = add_base_proof(
        vec.document, vec.issuer, verification_method=vec.proof["verificationMethod"],
        mandatory_pointers=vec.mandatory, created=created, hmac_key=vec.hmac_key,
    )
    assert {k: v for k, v in signed["proof"].items() if k != "proofValue"} == vec.proof_options
    # randomized signatures and proof key: same structure, and the holder can derive from it
    parsed = sd.parse_base_proof_value(signed["proof"]["proofValue"])
    assert parsed.hmac_key == vec.hmac_key and parsed.mandatory_pointers == vec.mandatory
    derived = derive_proof(signed, selective_pointers=vec.selective)
    body = {k: v for k, v in derived.items() if k != "proof"}
    assert body == vec.load("derivedUnsignedReveal.json")
    assert check_proofs(derived).verified


# ---- derived proof (holder) ------------------------------------------------------------------


def test_disclosure_data_reproduces_vectors(vec: Vectors) -> None:
    data = sd.create_disclosure_data(vec.document, vec.proof, vec.selective)
    groups = data.grouped.groups
    idx = vec.load("derivedGroupIndexes.json")
    assert list(groups["combined"].matching) == idx["combinedIndexes"]
    assert list(groups["mandatory"].matching) == idx["mandatoryIndexes"]
    assert list(groups["mandatory"].non_matching) == idx["nonMandatoryIndexes"]
    assert list(groups["selective"].matching) == idx["selectiveIndexes"]
    all_groups = vec.load("derivedAllGroupData.json")
    for name in ("mandatory", "selective", "combined"):
        assert _pairs(groups[name].matching) == all_groups["groups"][name]["matching"]["value"]
        expected = all_groups["groups"][name]
        assert _pairs(groups[name].non_matching) == expected["nonMatching"]["value"]
    assert data.grouped.nquads == all_groups["nquads"]
    # the skolem labels are random, the HMAC labels they map to are not
    hmac_labels = sorted(v for _, v in all_groups["labelMap"]["value"])
    assert sorted(data.grouped.label_map.values()) == hmac_labels
    adj_mandatory = vec.load("derivedAdjMandatoryIndexes.json")["adjMandatoryIndexes"]
    assert data.mandatory_indexes == adj_mandatory
    adj = vec.load("derivedAdjSignatures.json")
    assert [s.hex() for s in data.signatures] == adj["filteredSignatures"]
    disclosure = vec.load("derivedDisclosureData.json")
    assert data.base_signature.hex() == disclosure["baseSignature"]
    assert sd.public_key_from_multikey_bytes(data.public_key).multikey == disclosure["publicKey"]
    assert [s.hex() for s in data.signatures] == disclosure["signatures"]
    assert [[k, v] for k, v in data.label_map.items()] == disclosure["labelMap"]["value"]
    assert data.mandatory_indexes == disclosure["mandatoryIndexes"]
    assert data.reveal_document == vec.load("derivedUnsignedReveal.json")


def test_derive_proof_reproduces_the_published_reveal_document(vec: Vectors) -> None:
    derived = derive_proof(vec.signed, selective_pointers=vec.selective)
    assert derived == vec.load("derivedRevealDocument.json")


def test_other_selections_from_the_published_base_verify(vec: Vectors) -> None:
    nested = "/credentialSubject/" + (
        "employmentAuthorizationDocument" if "employ" in str(vec.dir) else "permanentResidentCard"
    )
    derived = derive_proof(vec.signed, selective_pointers=["/credentialSubject/givenName", nested])
    report = check_proofs(derived)
    assert report.verified, report.to_dict()
    subject = derived["credentialSubject"]
    assert set(subject) == {"type", "givenName", nested.rsplit("/", 1)[1]}
    text = json.dumps(derived)
    for hidden in ("SMITH", "Bahamas", "1999-07-17"):
        assert hidden not in text
    assert "validFrom" not in derived and "description" not in derived


# ---- verify derived proof (verifier) ---------------------------------------------------------


def test_verify_data_reproduces_vectors(vec: Vectors) -> None:
    reveal = vec.load("derivedRevealDocument.json")
    unsecured = {k: v for k, v in reveal.items() if k != "proof"}
    parsed = sd.parse_derived_proof_value(reveal["proof"]["proofValue"])
    dpv = vec.load("verifyDerivedProofValue.json")
    assert parsed.base_signature.hex() == dpv["baseSignature"]
    assert sd.public_key_from_multikey_bytes(parsed.public_key).multikey == dpv["publicKey"]
    assert [s.hex() for s in parsed.signatures] == dpv["signatures"]
    assert [[k, v] for k, v in parsed.label_map.items()] == dpv["labelMap"]
    assert parsed.mandatory_indexes == dpv["mandatoryIndexes"]
    _, nquads = sd.label_replacement_canonicalize_json_ld(
        unsecured, sd.create_label_map_function(parsed.label_map)
    )
    assert nquads == vec.load("verifyNQuads.json")
    data = sd.create_verify_data(unsecured, reveal["proof"])
    expected = vec.load("verifyCreateVerifyData.json")
    assert data.base_signature.hex() == expected["baseSignature"]
    assert data.proof_hash.hex() == expected["proofHash"]
    assert sd.public_key_from_multikey_bytes(data.public_key).multikey == expected["publicKey"]
    assert [s.hex() for s in data.signatures] == expected["signatures"]
    assert data.non_mandatory == expected["nonMandatory"]
    assert data.mandatory_hash.hex() == expected["mandatoryHash"]


def test_published_derived_document_verifies(vec: Vectors) -> None:
    reveal = vec.load("derivedRevealDocument.json")
    report = check_proofs(reveal, expected_purpose="assertionMethod")
    assert report.verified, report.to_dict()
    assert report.checks[0].cryptosuite == "ecdsa-sd-2023"


def test_base_proof_given_to_a_verifier_fails(vec: Vectors) -> None:
    report = check_proofs(vec.signed)
    assert not report.verified
    assert report.checks[0].code == "sd_base_proof"
    assert "holder only" in report.checks[0].reason


def test_tampered_published_derived_document_fails(vec: Vectors) -> None:
    reveal = vec.load("derivedRevealDocument.json")
    forged = copy.deepcopy(reveal)
    forged["credentialSubject"]["birthCountry"] = "Utopia"
    assert check_proofs(forged).checks[0].code == "signature_invalid"
    removed = copy.deepcopy(reveal)
    del removed["validUntil"]
    check = check_proofs(removed).checks[0]
    assert check.code == "signature_invalid" and "count" in check.reason
    mandatory_changed = copy.deepcopy(reveal)
    mandatory_changed["issuer"]["image"] = "data:image/png;base64,AAAA"
    check = check_proofs(mandatory_changed).checks[0]
    assert check.code == "signature_invalid" and "base signature" in check.reason


# ---- skillcred round trips -------------------------------------------------------------------

CITIZENSHIP = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/citizenship/v4rc1"]


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": CITIZENSHIP,
        "type": ["VerifiableCredential", "PermanentResidentCardCredential"],
        "issuer": {"id": issuer},
        "name": "Skills passport entry",
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialSubject": [
            {"type": ["Person"], "givenName": "JAN", "familyName": "DE VRIES",
             "birthCountry": "Netherlands"},
            {"type": ["Person"], "givenName": "PIET", "familyName": "JANSEN",
             "birthCountry": "Belgium"},
        ],
    }


Issued = tuple[KeyPair, dict[str, Any]]


@pytest.fixture(scope="module", params=["p256", "p384"])
def issued(request: pytest.FixtureRequest) -> Issued:
    key = KeyPair.generate(request.param)
    signed = add_base_proof(
        _credential(key_did(key.public_key)), key,
        verification_method=key_did_url(key.public_key),
        mandatory_pointers=["/issuer", "/validFrom"],
    )
    return key, signed


def test_skillcred_round_trip_reveals_only_the_selection(issued: Issued) -> None:
    key, signed = issued
    derived = derive_proof(signed, selective_pointers=["/credentialSubject/1/givenName"])
    report = check_proofs(derived)
    assert report.verified, report.to_dict()
    assert report.controllers == (key_did(key.public_key),)
    body = {k: v for k, v in derived.items() if k != "proof"}
    assert body == {
        "@context": CITIZENSHIP,
        "type": ["VerifiableCredential", "PermanentResidentCardCredential"],
        "issuer": {"id": key_did(key.public_key)},
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialSubject": [{"type": ["Person"], "givenName": "PIET"}],
    }
    text = json.dumps(derived)
    for hidden in ("JAN", "DE VRIES", "JANSEN", "Netherlands", "Belgium", "Skills passport entry"):
        assert f'"{hidden}"' not in text
    # the derived proof carries no HMAC key, and only the signatures of the revealed statements
    parsed = sd.parse_derived_proof_value(derived["proof"]["proofValue"])
    # the credential -> subject link, the subject's type and its givenName
    assert len(parsed.signatures) == 3


def test_skillcred_round_trip_tampering_fails(issued: Issued) -> None:
    _, signed = issued
    pointers = ["/credentialSubject/0/birthCountry", "/name"]
    derived = derive_proof(signed, selective_pointers=pointers)
    assert check_proofs(derived).verified
    forged = copy.deepcopy(derived)
    forged["credentialSubject"][0]["birthCountry"] = "Utopia"
    assert check_proofs(forged).checks[0].code == "signature_invalid"
    dropped = copy.deepcopy(derived)
    del dropped["name"]
    assert check_proofs(dropped).checks[0].code == "signature_invalid"
    added = copy.deepcopy(derived)
    added["credentialSubject"][0]["givenName"] = "JAN"  # true, but not signed for this reveal
    assert check_proofs(added).checks[0].code == "signature_invalid"
    swapped = copy.deepcopy(derived)
    swapped["validFrom"] = "2024-01-01T00:00:00Z"  # mandatory
    assert check_proofs(swapped).checks[0].code == "signature_invalid"


def test_only_mandatory_disclosure(issued: Issued) -> None:
    _, signed = issued
    derived = derive_proof(signed, selective_pointers=[])
    assert "credentialSubject" not in derived
    assert check_proofs(derived).verified


def test_base_proof_from_skillcred_is_refused_by_verifier(issued: Issued) -> None:
    _, signed = issued
    assert check_proofs(signed).checks[0].code == "sd_base_proof"


def test_misuse_is_refused() -> None:
    key = KeyPair.generate("p256")
    vm = key_did_url(key.public_key)
    doc = _credential(key_did(key.public_key))
    with pytest.raises(ProofError, match="add_base_proof"):
        add_proof(doc, key, verification_method=vm, cryptosuite="ecdsa-sd-2023")
    with pytest.raises(ProofError, match="p256 or p384"):
        ed = KeyPair.generate("ed25519")
        add_base_proof(doc, ed, verification_method=vm, mandatory_pointers=[])
    with pytest.raises(ProofError, match="does not match"):
        add_base_proof(doc, key, verification_method=vm, mandatory_pointers=["/nope"])
    with pytest.raises(InvalidArgument):
        add_base_proof(
            doc, key, verification_method=vm, mandatory_pointers="/issuer"  # type: ignore[arg-type]
        )
    signed = add_base_proof(doc, key, verification_method=vm, mandatory_pointers=["/issuer"])
    with pytest.raises(ProofError, match="does not match"):
        derive_proof(signed, selective_pointers=["/credentialSubject/7"])
    with pytest.raises(ProofError, match="no ecdsa-sd-2023 base proof"):
        derive_proof(doc, selective_pointers=[])
    assert "ecdsa-sd-2023" in VERIFIABLE_CRYPTOSUITES
    assert "ecdsa-sd-2023" not in SUPPORTED_CRYPTOSUITES


def test_malformed_proof_values_fail_closed(vec: Vectors) -> None:
    reveal = vec.load("derivedRevealDocument.json")
    for bad in ("zabc", "u", "u2V0C", "u" + "A" * 10, reveal["proof"]["proofValue"][:-8], 7):
        doc = copy.deepcopy(reveal)
        doc["proof"]["proofValue"] = bad
        assert check_proofs(doc).checks[0].code == "proof_value_malformed", bad
    with pytest.raises(ProofError):
        sd.parse_derived_proof_value(vec.proof["proofValue"])


def test_cbor_subset() -> None:
    value = [b"\x01" * 64, "x", [1, 24, 255, 256, 65536], {1: b"", 0: b"a"}]
    data = cbor.encode(value)
    assert cbor.decode(data) == value
    assert cbor.encode({1: b"", 0: b"a"}) == bytes.fromhex("a200416101 40".replace(" ", ""))
    bad_items = (
        b"\x18\x01", b"\x9f", b"\x81", b"\x00\x00", b"\xa2\x00\x00\x00\x00", b"\xc0\x00", b"\x20"
    )
    for bad in bad_items:
        with pytest.raises(cbor.CBORError):
            cbor.decode(bad)

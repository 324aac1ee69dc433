"""DIDs resolved offline: did:key derivation, did:web documents, authorization of methods.

Expected values come from the specs and their published examples: the did:key test vectors
of w3c-ccg/did-method-key, the verification methods used by the W3C Data Integrity test
vectors (tests/vectors), and the did:web method specification's DID-to-URL examples.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from conftest import NetworkBlocked, vectors_dir
from skillcred.did import (
    DidResolver,
    key_did,
    key_did_document,
    key_did_url,
    web_did,
    web_did_document,
    web_did_url_path,
)
from skillcred.errors import InvalidArgument, ResolutionError, SkillcredError
from skillcred.keys import KEY_TYPES, KeyPair, PublicKey, generate
from support.independent import b58decode

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(params=KEY_TYPES)
def key(request: pytest.FixtureRequest) -> KeyPair:
    return generate(request.param)


# --------------------------------------------------------------------------------------------
# did:key


def test_key_did_document_shape(key: KeyPair) -> None:
    mk = key.public_multikey
    did = key_did(key.public_key)
    assert did == "did:key:" + mk
    doc = key_did_document(did)
    assert doc["@context"] == [DID_V1, MULTIKEY_V1]
    assert doc["id"] == did
    vm_id = f"{did}#{mk}"
    assert key_did_url(key.public_key) == vm_id
    assert doc["verificationMethod"] == [
        {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": mk}
    ]
    for rel in ("authentication", "assertionMethod"):
        assert doc[rel] == [vm_id], rel
    # no X25519 key is derived, so keyAgreement must not point at a signing key
    assert "keyAgreement" not in doc or vm_id not in json.dumps(doc["keyAgreement"])


def test_key_did_resolves_to_its_key(key: KeyPair) -> None:
    url = key_did_url(key.public_key)
    m = DidResolver().resolve_method(url)
    assert m.id == url
    assert m.controller == key_did(key.public_key)
    assert m.public_key == key.public_key
    assert m.public_key.verify(key.sign(b"doc"), b"doc")
    assert m.authorized_for("assertionMethod")
    assert m.authorized_for("authentication")
    assert not m.authorized_for("keyAgreement")
    assert not m.authorized_for("noSuchPurpose")


def test_bare_key_did_resolves_to_its_only_method(key: KeyPair) -> None:
    did = key_did(key.public_key)
    m = DidResolver().resolve_method(did)
    assert m.id == f"{did}#{key.public_multikey}"
    assert m.public_key == key.public_key
    assert m.authorized_for("assertionMethod")


def test_key_did_with_foreign_fragment_fails(key: KeyPair) -> None:
    did = key_did(key.public_key)
    with pytest.raises(ResolutionError):
        DidResolver().resolve_method(did + "#key-1")
    other = generate("ed25519").public_multikey
    with pytest.raises(ResolutionError):
        DidResolver().resolve_method(f"{did}#{other}")


@pytest.mark.parametrize(
    "did",
    [
        "did:key:",
        "did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",  # truncated
        "did:key:z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a secret key (ed25519-priv)
        "did:key:z0OIl",
        # P-521 did:key from the w3c-ccg/did-method-key test vectors (not supported here)
        "did:key:z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyREXXzWgt3gGiwpoHq7K68X4m32D8HgzG8wv3sY5j7",
    ],
)
def test_bad_key_dids(did: str) -> None:
    with pytest.raises(ResolutionError):
        DidResolver().resolve(did)
    with pytest.raises(ResolutionError):
        DidResolver().resolve_method(did)
    with pytest.raises(ResolutionError):
        DidResolver().resolve_method(did + "#" + did.removeprefix("did:key:"))


def test_key_did_documents_cannot_be_stored() -> None:
    """A stored document must never override what a did:key derives to."""
    attacker = generate("ed25519")
    victim = generate("ed25519")
    did = key_did(victim.public_key)
    forged = key_did_document(key_did(attacker.public_key))
    forged = json.loads(json.dumps(forged).replace(attacker.public_multikey, victim.public_multikey, 1))
    forged["id"] = did
    with pytest.raises(InvalidArgument):
        DidResolver([forged])


#: w3c-ccg/did-method-key test-vectors, commit e7839a8e1ce1e17ff18bc0c95600753604efb1fe:
#: ed25519-x25519.json (did -> publicKeyBase58 of the raw key) and nist-curves.json (did -> JWK).
CCG_ED25519 = [
    ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"),
    ("did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG", "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt"),
    ("did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf", "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH"),
]
CCG_NIST = [
    ("did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv", "P-256",
     "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"),
    ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256",
     "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI", "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"),
    ("did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9", "P-384",
     "lInTxl8fjLKp_UCrxI0WDklahi-7-_6JbtiHjiRvMvhedhKVdHBfi2HCY8t_QJyc",
     "y6N1IC-2mXxHreETBW7K3mBcw0qGr3CWHCs-yl09yCQRLcyfGv7XhqAngHOu51Zv"),
    ("did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54", "P-384",
     "CA-iNoHDg1lL8pvX3d1uvExzVfCz7Rn6tW781Ub8K5MrDf2IMPyL0RTDiaLHC1JT",
     "Kpnrn8DkXUD3ge4mFxi-DKr0DYO2KuJdwNBrhzLRtfMa3WFMZBiPKUPfJj8dYNl_"),
]

@pytest.mark.parametrize(("did", "public_b58"), CCG_ED25519)
def test_ccg_ed25519_did_keys(did: str, public_b58: str) -> None:
    m = DidResolver().resolve_method(did)
    assert m.public_key.key_type == "ed25519"
    assert m.public_key.raw == b58decode(public_b58)
    assert m.authorized_for("assertionMethod")


@pytest.mark.parametrize(("did", "crv", "x", "y"), CCG_NIST)
def test_ccg_nist_did_keys(did: str, crv: str, x: str, y: str) -> None:
    m = DidResolver().resolve_method(did)
    jwk = m.public_key.jwk()
    assert (jwk["kty"], jwk["crv"], jwk["x"], jwk["y"]) == ("EC", crv, x, y)
    assert m.public_key == PublicKey.from_jwk({"kty": "EC", "crv": crv, "x": x, "y": y})


OFFICIAL_SIGNED = [
    ("eddsa-rdfc-2022", "signedDataInt.json", "keyPair.json"),
    ("ecdsa-rdfc-2019-p256", "signedECDSAP256.json", "p256KeyPair.json"),
    ("ecdsa-rdfc-2019-p384", "signedECDSAP384.json", "p384KeyPair.json"),
]


@pytest.mark.parametrize(("folder", "signed", "pair"), OFFICIAL_SIGNED)
def test_official_vector_verification_methods_resolve(folder: str, signed: str, pair: str) -> None:
    base = vectors_dir(folder)
    proof = json.loads((base / signed).read_text())["proof"]
    published = json.loads((base / pair).read_text())["publicKeyMultibase"]
    vm = proof["verificationMethod"]
    m = DidResolver().resolve_method(vm)
    assert m.id == vm
    assert m.public_key.multikey == published
    assert m.public_key == PublicKey.from_multikey(published)
    assert m.authorized_for(proof["proofPurpose"])


def test_bitstring_status_list_bare_did_key_vectors() -> None:
    """The Bitstring Status List REC examples use a bare did:key (no fragment)."""
    folder = vectors_dir("bitstring-status-list")
    for path in sorted(folder.glob("rec-signed-*.json")):
        proof = json.loads(path.read_text())["proof"]
        vm = proof["verificationMethod"]
        m = DidResolver().resolve_method(vm)
        assert m.public_key.multikey == vm.removeprefix("did:key:").split("#")[0]
        assert m.authorized_for(proof["proofPurpose"])


# --------------------------------------------------------------------------------------------
# offline only, and only the methods we support


def test_unknown_did_web_is_offline_error_not_a_network_call() -> None:
    try:
        DidResolver().resolve("did:web:roc.example:issuers:1")
    except NetworkBlocked:  # pragma: no cover - would mean a fetch was attempted
        pytest.fail("resolving an unknown did:web tried the network")
    except ResolutionError as exc:
        assert "offline" in str(exc)
    else:
        pytest.fail("an unknown did:web resolved")
    with pytest.raises(ResolutionError) as err:
        DidResolver().resolve_method("did:web:roc.example#key-1")
    assert not isinstance(err.value, NetworkBlocked)
    assert "offline" in str(err.value)


def test_unknown_https_controller_is_offline_error() -> None:
    with pytest.raises(ResolutionError) as err:
        DidResolver().resolve_method("https://roc.example/keys/1#key")
    assert "offline" in str(err.value)


@pytest.mark.parametrize("did", ["did:example:123", "did:ion:EiAnKD8", "did:ethr:0xabc", "did:peer:2.Ez"])
def test_unsupported_did_methods(did: str) -> None:
    with pytest.raises(ResolutionError) as err:
        DidResolver().resolve_method(did + "#key-1")
    assert "not supported" in str(err.value)


@pytest.mark.parametrize("value", ["", "#key-1", None, 42])
def test_bad_verification_method_values(value: Any) -> None:
    with pytest.raises(ResolutionError):
        DidResolver().resolve_method(value)


# --------------------------------------------------------------------------------------------
# did:web


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://roc.example/issuers/1", "did:web:roc.example:issuers:1"),
        ("roc.example", "did:web:roc.example"),
        ("https://roc.example", "did:web:roc.example"),
        ("https://roc.example/", "did:web:roc.example"),
        ("https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice"),
        # did:web spec: the inverse of these document locations
        ("https://w3c-ccg.github.io/.well-known/did.json", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/user/alice/did.json", "did:web:w3c-ccg.github.io:user:alice"),
        ("https://example.com:3000/user/alice/did.json", "did:web:example.com%3A3000:user:alice"),
    ],
)
def test_web_did(url: str, did: str) -> None:
    assert web_did(url) == did


@pytest.mark.parametrize("url", ["http://roc.example/issuers/1", "ftp://roc.example", "https://"])
def test_web_did_needs_https(url: str) -> None:
    with pytest.raises(InvalidArgument):
        web_did(url)


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # the examples of the did:web method specification (w3c-ccg/did-method-web)
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ],
)
def test_web_did_url_path_spec_examples(did: str, url: str) -> None:
    assert web_did_url_path(did) == url
    assert web_did(url) == did


def test_web_did_url_path_rejects_other_dids() -> None:
    with pytest.raises(InvalidArgument):
        web_did_url_path("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",  # no domain
        "did:web:example.com:",  # empty path segment
        "did:web:example.com::alice",
        # the did:web spec: the method-specific id MUST NOT include IP addresses
        "did:web:127.0.0.1",
        "did:web:127.0.0.1%3A8443:user",
        # a percent-encoded '@' would turn the domain into user info of another host
        "did:web:evil.example%40roc.example",
        # a percent-encoded '/' in the domain would move the document under another path
        "did:web:evil.example%2Froc.example",
        "did:web:example.com%3Anot-a-port",
        "did:web:example.com:..:admin",
    ],
)
def test_web_did_url_path_rejects_malformed_dids(did: str) -> None:
    with pytest.raises(InvalidArgument):
        web_did_url_path(did)
    with pytest.raises(InvalidArgument):
        web_did_document(did, [generate().public_key])


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/issuers/1",  # IP address
        "https://[::1]:8443/issuers/1",
        "https://issuer:s3cret-pw@roc.example/issuers/1",  # user info would be silently dropped
        "https://roc.example/issuers/1?v=2",  # a query cannot be expressed in a did:web
        "https://roc.example/issuers/1#key-1",
        "https://roc.example:99999/x",
    ],
)
def test_web_did_rejects_urls_it_cannot_express(url: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        web_did(url)
    assert "s3cret-pw" not in str(err.value)


def test_web_did_percent_encoding_round_trips() -> None:
    did = web_did("https://roc.example/vakschool de ring/1")
    assert did == "did:web:roc.example:vakschool%20de%20ring:1"
    assert web_did_url_path(did) == "https://roc.example/vakschool%20de%20ring/1/did.json"
    assert web_did(web_did_url_path(did)) == did


def test_web_did_document_resolves_and_authorizes() -> None:
    did = web_did("https://roc.example/issuers/1")
    k1, k2 = generate("ed25519"), generate("p384")
    doc = web_did_document(did, [k1.public_key, k2.public_key], also_known_as=["https://roc.example"])
    assert doc["id"] == did
    assert doc["@context"][:1] == [DID_V1]
    assert doc["alsoKnownAs"] == ["https://roc.example"]
    resolver = DidResolver([doc])
    assert resolver.known() == [did]
    for k in (k1, k2):
        vm_url = f"{did}#{k.public_multikey}"
        m = resolver.resolve_method(vm_url)
        assert m.public_key == k.public_key
        assert m.controller == did
        assert m.authorized_for("assertionMethod")
        assert m.authorized_for("authentication")
        assert not m.authorized_for("capabilityInvocation")
    # the stored copy is isolated from later edits of the caller's dict
    doc["assertionMethod"] = []
    assert resolver.resolve_method(f"{did}#{k1.public_multikey}").authorized_for("assertionMethod")
    with pytest.raises(ResolutionError):
        resolver.resolve_method(f"{did}#{generate('ed25519').public_multikey}")


def test_web_did_document_needs_keys_and_a_web_did() -> None:
    with pytest.raises(InvalidArgument):
        web_did_document("did:web:roc.example", [])
    with pytest.raises(InvalidArgument):
        web_did_document("did:key:z6Mk", [generate().public_key])


# --------------------------------------------------------------------------------------------
# authorization of verification methods by their controller document

DID = "did:web:roc.example"


def _vm(key: KeyPair, vm_id: str, controller: str = DID) -> dict[str, Any]:
    return {"id": vm_id, "type": "Multikey", "controller": controller,
            "publicKeyMultibase": key.public_multikey}


def test_method_listed_only_under_authentication_is_not_an_assertion_method() -> None:
    k = generate()
    doc = {"@context": [DID_V1, MULTIKEY_V1], "id": DID,
           "verificationMethod": [_vm(k, f"{DID}#key-1")], "authentication": [f"{DID}#key-1"]}
    m = DidResolver([doc]).resolve_method(f"{DID}#key-1")
    assert m.authorized_for("authentication")
    assert not m.authorized_for("assertionMethod")


def test_method_not_listed_anywhere_is_not_authorized() -> None:
    k = generate()
    doc = {"id": DID, "verificationMethod": [_vm(k, f"{DID}#key-1")]}
    m = DidResolver([doc]).resolve_method(f"{DID}#key-1")
    assert m.public_key == k.public_key
    assert not m.authorized_for("assertionMethod")
    assert not m.authorized_for("authentication")


def test_controller_mismatch_is_refused() -> None:
    k = generate()
    doc = {"id": DID, "verificationMethod": [_vm(k, f"{DID}#key-1", controller="did:web:evil.example")],
           "assertionMethod": [f"{DID}#key-1"]}
    with pytest.raises(ResolutionError):
        DidResolver([doc]).resolve_method(f"{DID}#key-1")


def test_method_of_another_document_is_not_borrowed() -> None:
    """A document cannot claim a method whose id is under another DID."""
    k = generate()
    other = "did:web:other.example"
    doc = {"id": DID, "verificationMethod": [_vm(k, f"{other}#key-1", controller=DID)],
           "assertionMethod": [f"{other}#key-1"]}
    resolver = DidResolver([doc])
    with pytest.raises(ResolutionError):
        resolver.resolve_method(f"{other}#key-1")
    with pytest.raises(ResolutionError):
        resolver.resolve_method(f"{DID}#key-1")


def test_relative_references() -> None:
    k = generate("p256")
    doc = {"@context": [DID_V1, MULTIKEY_V1], "id": DID,
           "verificationMethod": [_vm(k, "#key-1")], "assertionMethod": ["#key-1"]}
    m = DidResolver([doc]).resolve_method(f"{DID}#key-1")
    assert m.id == f"{DID}#key-1"
    assert m.public_key == k.public_key
    assert m.authorized_for("assertionMethod")
    assert not m.authorized_for("authentication")


def test_absolute_method_relative_relationship_and_vice_versa() -> None:
    k = generate()
    doc = {"id": DID, "verificationMethod": [_vm(k, f"{DID}#key-1")], "assertionMethod": ["#key-1"]}
    assert DidResolver([doc]).resolve_method(f"{DID}#key-1").authorized_for("assertionMethod")
    doc = {"id": DID, "verificationMethod": [_vm(k, "#key-1")], "assertionMethod": [f"{DID}#key-1"]}
    assert DidResolver([doc]).resolve_method(f"{DID}#key-1").authorized_for("assertionMethod")


def test_embedded_method_under_a_relationship() -> None:
    k = generate("p384")
    doc = {"id": DID, "assertionMethod": [_vm(k, f"{DID}#key-2")]}
    m = DidResolver([doc]).resolve_method(f"{DID}#key-2")
    assert m.public_key == k.public_key
    assert m.authorized_for("assertionMethod")
    assert not m.authorized_for("authentication")


def test_https_controller_document() -> None:
    k = generate()
    cid = "https://roc.example/issuers/1"
    doc = {"id": cid, "verificationMethod": [_vm(k, f"{cid}#key-1", controller=cid)],
           "assertionMethod": [f"{cid}#key-1"]}
    m = DidResolver([doc]).resolve_method(f"{cid}#key-1")
    assert m.public_key == k.public_key and m.authorized_for("assertionMethod")


def test_json_web_key_methods() -> None:
    k = generate("p256")
    vm = {"id": f"{DID}#jwk", "type": "JsonWebKey", "controller": DID, "publicKeyJwk": k.public_key.jwk()}
    doc = {"id": DID, "verificationMethod": [vm], "assertionMethod": [f"{DID}#jwk"]}
    m = DidResolver([doc]).resolve_method(f"{DID}#jwk")
    assert m.public_key == k.public_key
    # a JWK carrying the private part is refused
    vm_private = dict(vm, publicKeyJwk=k.private_jwk())
    doc = {"id": DID, "verificationMethod": [vm_private], "assertionMethod": [f"{DID}#jwk"]}
    with pytest.raises(ResolutionError) as err:
        DidResolver([doc]).resolve_method(f"{DID}#jwk")
    assert k.private_jwk()["d"] not in str(err.value)


@pytest.mark.parametrize(
    "vm_extra",
    [
        {"type": "Multikey", "publicKeyMultibase": "zNotAKey"},
        {"type": "Multikey"},
        {"type": "RsaVerificationKey2018", "publicKeyPem": "-----BEGIN PUBLIC KEY-----"},
        {"type": "JsonWebKey", "publicKeyJwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
        # the W3C vc-jose-cose P-521 key's coordinates under a curve skillcred does not support
        {"type": "JsonWebKey", "publicKeyJwk": {
            "kty": "EC", "crv": "P-192",
            "x": "Ac8mt4TvYd3TOrYtTk_YTQ5QQMpl58OnrU7uRxQEUoOO_6QnRBM0Xan8KQI_0dPKzcKBak0ZSEXcc5SNFUBHYfbP",
            "y": "ADP_cowssurHA7uMHy4IODl247oQjCxZWFX7Gtr3cFmfVIwEyKGegrJh9ooZy5FsvFVbYwAmLKVfGZs7O15RBsO-"}},
    ],
)
def test_methods_without_a_usable_key(vm_extra: dict[str, Any]) -> None:
    vm = {"id": f"{DID}#k", "controller": DID, **vm_extra}
    doc = {"id": DID, "verificationMethod": [vm], "assertionMethod": [f"{DID}#k"]}
    with pytest.raises(ResolutionError):
        DidResolver([doc]).resolve_method(f"{DID}#k")


@pytest.mark.parametrize("doc", [{}, {"id": ""}, {"id": 5}, {"verificationMethod": []}])
def test_documents_need_an_id(doc: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        DidResolver([doc])


def test_resolution_errors_are_skillcred_errors() -> None:
    assert issubclass(ResolutionError, SkillcredError)
    with pytest.raises(SkillcredError):
        DidResolver().resolve("did:web:nowhere.example")


def test_b64u_helper_sanity() -> None:
    # keeps the JWK coordinate comparisons above honest: a P-256 coordinate is 32 bytes
    assert len(b64u_decode(CCG_NIST[0][2])) == 32 and len(b64u_decode(CCG_NIST[2][2])) == 48

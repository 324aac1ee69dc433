"""The JCS proof path of presentations: each credential serialized once per verification.

Inside ``jcs.memo()`` (which ``rows_memo``, the verifier's per-verification scope, opens) a
presentation's canonical form is composed from its credentials' parts, and each credential's
form without its proof is left for that credential's own proof check. These tests prove the
composition is exactly RFC 8785 (against the reference serializer, which ``test_jcs.py`` pins
to the RFC's vectors, and against hand-written forms), that the shortcut is really taken
(counted, never timed), and that every refusal and every tampering still fails closed.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from skillcred._internal import jcs
from skillcred._internal.jcs import canonicalize_json
from skillcred._internal.jsonld import rows_memo
from skillcred._internal.strictjson import same_json
from skillcred.did import key_did, key_did_url
from skillcred.errors import MalformedDocument
from skillcred.keys import KeyPair
from skillcred.proofs import add_proof, check_proofs

_KEYS = [*"abcpqrvwz", "proof", "verifiableCredential", "type", "@context", "\ue000", "\U0001f600", "proofs", "pro"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 4 else 3)
    if kind == 0:
        return rng.choice(["x", "é", "\U0001f600", "\ue000", 'q"\\', "\n"])
    if kind == 1:
        return rng.choice([0, -7, 2**53, True, False, None])
    if kind == 2:
        return rng.choice(["did:key:z6Mk", "urn:uuid:1", ""])
    if kind == 3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def _memo_form(value: Any) -> bytes:
    with jcs.memo():
        return canonicalize_json(value)


def test_composed_form_equals_the_reference_on_generated_documents() -> None:
    # the split keys (proof, verifiableCredential) next to keys that sort around them in
    # UTF-16 order (U+E000 vs astral), nested, in lists, empty, and holding scalars
    rng = random.Random(8785)
    composed = 0
    for _ in range(3000):
        doc = {rng.choice(_KEYS): _value(rng) for _ in range(rng.randint(0, 7))}
        if rng.random() < 0.5:
            doc["verifiableCredential"] = [{"proof": _value(rng, 2), rng.choice(_KEYS): _value(rng, 2),
                                            rng.choice(_KEYS): _value(rng, 2)} for _ in range(rng.randint(0, 3))]
        if isinstance(doc.get("proof"), dict | list) or isinstance(doc.get("verifiableCredential"), dict | list):
            composed += 1
        assert _memo_form(doc) == jcs._reference(doc).encode("utf-8"), doc
    assert composed > 1000


def test_a_secured_object_is_composed_from_its_text_without_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two-run composition of a credential with its proof (``jcs._secured``): members that
    sort before and after "proof" in UTF-16 order (``pro``, ``proofs``, ``p\U0001f600``,
    U+E000 and astral keys), none on one side or the other, and the text left in the memo is
    the credential's form without its proof."""
    taken: list[bool] = []
    real = jcs._secured

    def counted(*args: Any) -> Any:
        out = real(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(jcs, "_secured", counted)
    rng = random.Random(2022)
    keys = ["@context", "id", "pro", "proof0", "proofs", "p\U0001f600", "prooe", "q", "\ue000", "\U0001f600", "z"]
    for _ in range(400):
        cred = {k: _value(rng, 2) for k in rng.sample(keys, rng.randint(0, 6))}
        cred["proof"] = {"type": "DataIntegrityProof", "proofValue": f"z{rng.randrange(10**9)}"}
        items = list(cred.items())
        rng.shuffle(items)
        cred = dict(items)
        vp = {"type": "VP", "verifiableCredential": [cred]}
        with jcs.memo():
            assert canonicalize_json(vp) == jcs._reference(vp).encode("utf-8"), vp
            unsecured = {k: v for k, v in cred.items() if k != "proof"}
            assert canonicalize_json(unsecured) == jcs._reference(unsecured).encode("utf-8"), unsecured
    assert len(taken) == 400 and all(taken)


def test_composed_form_by_hand() -> None:
    # sorted by UTF-16 code units: "@context" < "holder" < "proof" < "type" < "verifiableCredential"
    vp = {"verifiableCredential": [{"type": ["VC"], "proof": {"b": 1, "a": "x"}, "id": "urn:1"}, "jwt"],
          "type": "VP", "proof": [{"z": True}], "@context": ["c"], "holder": "did:h"}
    want = ('{"@context":["c"],"holder":"did:h","proof":[{"z":true}],"type":"VP",'
            '"verifiableCredential":[{"id":"urn:1","proof":{"a":"x","b":1},"type":["VC"]},"jwt"]}')
    assert _memo_form(vp) == want.encode()
    assert canonicalize_json(vp) == want.encode()


def test_refusals_survive_the_composition() -> None:
    floats = {"verifiableCredential": [{"proof": {"n": 0.5}, "x": 1e21}]}
    assert _memo_form(floats) == b'{"verifiableCredential":[{"proof":{"n":0.5},"x":1e+21}]}'
    for bad in (
        {"verifiableCredential": [{"proof": {}, "n": float("nan")}]},
        {"proof": {"v": 2**1100}},
        {"verifiableCredential": [{"proof": {"\ud800": 1}}]},  # lone surrogate key
        {"proof": {}, "verifiableCredential": [{1: "int key", "proof": {}}]},
        {"proof": {"s": "\udfff"}},
    ):
        with pytest.raises(MalformedDocument):
            canonicalize_json(bad)
        with pytest.raises(MalformedDocument):
            _memo_form(bad)


def test_circular_and_deep_values_are_refused_inside_the_memo() -> None:
    loop: list[Any] = []
    loop.append({"proof": loop})
    doc = {"verifiableCredential": loop}
    with pytest.raises(MalformedDocument, match="circular"):
        _memo_form(doc)
    self_proof: dict[str, Any] = {"a": 1}
    self_proof["proof"] = self_proof
    with pytest.raises(MalformedDocument, match="circular"):
        _memo_form(self_proof)
    deep: Any = {"proof": {}}
    for _ in range(5000):
        deep = {"proof": {}, "verifiableCredential": [deep]}
    with pytest.raises(MalformedDocument):
        _memo_form(deep)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    real = jcs._text

    def counted(value: Any) -> str:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(jcs, "_text", counted)
    return calls


def test_a_presented_credential_without_its_proof_is_not_serialized_again(monkeypatch: pytest.MonkeyPatch) -> None:
    creds = [{"@context": ["c"], "id": f"urn:{i}", "subject": {"n": i}, "proof": {"v": f"z{i}"}} for i in range(3)]
    vp = {"type": "VP", "verifiableCredential": creds}
    calls = _counting(monkeypatch)
    with jcs.memo():
        canonicalize_json(vp)
        before = len(calls)
        for c in creds:
            unsecured = {k: v for k, v in c.items() if k != "proof"}  # new object, same values
            assert canonicalize_json(unsecured) == jcs._reference(unsecured).encode()
        assert len(calls) == before  # all three taken from the memo
        # outside a presentation nothing is remembered: another credential is serialized
        other = {"id": "urn:9", "subject": {"n": 9}}
        canonicalize_json(other)
        assert len(calls) == before + 1
    # and the memo does not outlive its block
    canonicalize_json({k: v for k, v in creds[0].items() if k != "proof"})
    assert len(calls) == before + 2


def test_a_changed_credential_misses_the_memo() -> None:
    cred = {"id": "urn:1", "subject": {"n": 1}, "flag": 1, "proof": {"v": "z"}}
    with jcs.memo():
        canonicalize_json({"verifiableCredential": [cred]})
        # a scalar of another value or type, a replaced nested object, one member more or less
        for changed in ({"id": "urn:2", "subject": cred["subject"], "flag": 1},
                        {"id": "urn:1", "subject": cred["subject"], "flag": True},
                        {"id": "urn:1", "subject": cred["subject"], "flag": 1.0},
                        {"id": "urn:1", "subject": {"n": 2}, "flag": 1},
                        {"id": "urn:1", "subject": cred["subject"]},
                        {"id": "urn:1", "subject": cred["subject"], "flag": 1, "x": None}):
            assert canonicalize_json(changed) == jcs._reference(changed).encode(), changed


def test_same_json_tells_types_apart() -> None:
    assert same_json(["a", {"b": [1, None]}], ["a", {"b": [1, None]}])
    for a, b in ((1, True), (1, 1.0), (0, False), ("1", 1), ([1], (1,)), ({"a": 1}, {"b": 1}),
                 (["a", "b"], ["a"]), ({"a": 1, "b": 2}, {"b": 2, "a": 1}), (0.5, 0.25)):
        assert not same_json(a, b), (a, b)
    # equal floats have one canonical form (RFC 8785 writes a number from its value alone)
    assert same_json({"@version": 1.1}, {"@version": float("1.1")})


# -- through the proofs: a JCS presentation whose credential was tampered with -------------------

def _presentation(tamper: str | None) -> tuple[dict[str, Any], KeyPair]:
    issuer_key, holder_key = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    issuer = key_did(issuer_key.public_key)
    creds = []
    for i in range(3):
        c = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
             "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}", "issuer": issuer,
             "validFrom": "2025-01-01T00:00:00Z", "credentialSubject": {"id": f"did:example:{i}"}}
        creds.append(add_proof(c, issuer_key, verification_method=key_did_url(issuer_key.public_key),
                               cryptosuite="eddsa-jcs-2022"))
    if tamper == "subject":
        creds[1]["credentialSubject"]["id"] = "did:example:mallory"
    elif tamper == "proof_context":
        creds[1]["proof"]["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://example.org/x"]
    elif tamper == "context_type":
        creds[1]["@context"] = ["https://www.w3.org/ns/credentials/v2", {"@version": 1}]
        creds[1]["proof"]["@context"] = ["https://www.w3.org/ns/credentials/v2", {"@version": True}]
    vp = add_proof({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "holder": key_did(holder_key.public_key), "verifiableCredential": creds},
                   holder_key, verification_method=key_did_url(holder_key.public_key), cryptosuite="eddsa-jcs-2022",
                   proof_purpose="authentication", challenge="c1")
    return vp, holder_key


def _checked(vp: dict[str, Any]) -> tuple[bool, list[str]]:
    with rows_memo():  # the verifier's scope: the presentation first, then each credential
        vp_ok = check_proofs(vp, expected_purpose="authentication", challenge="c1").verified
        codes = [check_proofs(c, expected_purpose="assertionMethod").checks[0].code
                 for c in vp["verifiableCredential"]]
    return vp_ok, codes


def test_presented_credentials_verify_inside_the_scope() -> None:
    vp, _ = _presentation(None)
    assert _checked(vp) == (True, ["ok", "ok", "ok"])


@pytest.mark.parametrize("tamper", ["subject", "proof_context", "context_type"])
def test_a_tampered_credential_fails_although_the_holder_signed_over_it(tamper: str) -> None:
    vp, _ = _presentation(tamper)
    vp_ok, codes = _checked(vp)
    assert vp_ok  # the holder's signature covers the credential as tampered
    assert codes[0] == codes[2] == "ok"
    assert codes[1] in ("signature_invalid", "context_mismatch"), codes
    # the same outcome without the memo
    plain = [check_proofs(c, expected_purpose="assertionMethod").checks[0].code for c in vp["verifiableCredential"]]
    assert plain == codes


def test_the_presentation_signature_still_covers_its_credentials() -> None:
    vp, _ = _presentation(None)
    changed = copy.deepcopy(vp)
    changed["verifiableCredential"][2]["validFrom"] = "2024-01-01T00:00:00Z"
    vp_ok, codes = _checked(changed)
    assert not vp_ok
    assert codes[2] == "signature_invalid"

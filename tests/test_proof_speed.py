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
from collections import OrderedDict, UserList
from typing import Any

import pytest

from skillcred import did as did_module
from skillcred._internal import base58, jcs
from skillcred._internal.fileio import MAX_JSON_DEPTH, check_depth
from skillcred._internal.jcs import canonicalize_json
from skillcred._internal.jsonld import rows_memo
from skillcred._internal.strictjson import same_json
from skillcred.did import DidResolver, ResolvedMethod, key_did, key_did_url
from skillcred.errors import MalformedDocument, ResolutionError
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


# --------------------------------------------------------------------------------------------
# The proof path's per-proof work: did:key methods remembered, base58 and the depth walk


def _fields(m: ResolvedMethod) -> tuple[Any, ...]:
    return m.id, m.controller, m.method, m.controller_document, m.public_key


def test_a_remembered_did_key_method_is_the_one_resolved_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    key = KeyPair.generate("ed25519")
    url = key_did_url(key.public_key)
    monkeypatch.setattr(did_module, "_KEY_METHODS", {})
    first = DidResolver().resolve_method(url)
    assert url in did_module._KEY_METHODS
    second = DidResolver().resolve_method(url)
    assert _fields(second) == _fields(first)
    assert second.public_key == key.public_key and second.controller == key_did(key.public_key)
    assert second.authorized_for("assertionMethod") and second.authorized_for("authentication")
    # the documents handed out are fresh: a caller changing one changes nothing later
    second.controller_document["assertionMethod"].clear()  # type: ignore[attr-defined]
    second.method["controller"] = "did:example:mallory"  # type: ignore[index]
    third = DidResolver().resolve_method(url)
    assert _fields(third) == _fields(first) and third.authorized_for("assertionMethod")
    assert third.controller_document is not first.controller_document and third.method is not first.method


def test_the_did_key_table_is_taken_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(did_module, "_KEY_METHODS", {})
    monkeypatch.setattr(did_module, "_KEY_METHODS_LIMIT", 3)
    derived: list[str] = []
    real = did_module.key_did_document

    def counted(d: str) -> dict[str, Any]:
        derived.append(d)
        return real(d)

    monkeypatch.setattr(did_module, "key_did_document", counted)
    keys = [KeyPair.generate(t) for t in ("ed25519", "p256", "ed25519", "p384", "ed25519")]
    resolver = DidResolver()
    for k in keys:
        resolver.resolve_method(key_did_url(k.public_key))
        assert len(did_module._KEY_METHODS) <= 3
    assert len(derived) == 5
    resolver.resolve_method(key_did_url(keys[-1].public_key))  # still held: not derived again
    assert len(derived) == 5


def test_no_other_did_or_fragment_reaches_a_remembered_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(did_module, "_KEY_METHODS", {})
    a, b = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    mk_a, mk_b = a.public_key.multikey, b.public_key.multikey
    resolver = DidResolver()
    for k in (a, b):
        resolver.resolve_method(key_did_url(k.public_key))
    assert resolver.resolve_method(key_did_url(b.public_key)).public_key == b.public_key
    # A's DID with B's key as its fragment, another fragment, a longer one, a second fragment,
    # A's fragment on nothing: none of them is a method, however warm the table is
    for bad in (f"did:key:{mk_a}#{mk_b}", f"did:key:{mk_a}#key-1", f"did:key:{mk_a}#{mk_a}x",
                f"did:key:{mk_a}#{mk_a}#{mk_a}", f"#{mk_a}", f"did:key:{mk_b}#{mk_a}"):
        with pytest.raises(ResolutionError):
            resolver.resolve_method(bad)
        assert bad not in did_module._KEY_METHODS
    # a key one character off is another key (Ed25519 takes most 32-byte strings), never A's
    off = mk_a[:-1] + ("2" if mk_a[-1] != "2" else "3")
    other = resolver.resolve_method(f"did:key:{off}#{off}")
    assert other.public_key != a.public_key and other.public_key.multikey == off
    # the bare DID (and an empty fragment) names its only key, each in its own entry
    for bare_url in (f"did:key:{mk_a}", f"did:key:{mk_a}#"):
        for _ in range(2):
            bare = resolver.resolve_method(bare_url)
            assert bare.id == key_did_url(a.public_key) and bare.public_key == a.public_key
    # a credential signed by A that names B's method fails, with both remembered
    cred = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": key_did(a.public_key), "credentialSubject": {"id": "did:example:jan"}}
    forged = add_proof(cred, a, verification_method=key_did_url(b.public_key), cryptosuite="eddsa-jcs-2022")
    assert check_proofs(forged).checks[0].code == "signature_invalid"
    genuine = add_proof(cred, a, verification_method=key_did_url(a.public_key), cryptosuite="eddsa-jcs-2022")
    assert check_proofs(genuine).verified


def test_a_resolver_that_overrides_resolve_is_always_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(did_module, "_KEY_METHODS", {})
    key = KeyPair.generate("ed25519")
    url = key_did_url(key.public_key)
    DidResolver().resolve_method(url)  # remembered
    asked: list[str] = []

    class Spy(DidResolver):
        def resolve(self, did: str) -> dict[str, Any]:
            asked.append(did)
            return super().resolve(did)

    class Refusing(DidResolver):
        def resolve(self, did: str) -> dict[str, Any]:
            raise ResolutionError("this resolver knows no DID")

    Spy().resolve_method(url)
    Spy().resolve_method(url)
    assert asked == [key_did(key.public_key)] * 2
    with pytest.raises(ResolutionError, match="knows no DID"):
        Refusing().resolve_method(url)


@pytest.mark.parametrize("bad", ["z\ud800", "z1\x00", "z\x7f", "z1l", "z\u0661", "z\uff11", "z\U0001f600", "z1 1"])
def test_base58_refuses_every_character_outside_its_alphabet(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid character"):
        base58.decode(bad)


def test_base58_decodes_leading_zeros_and_every_digit() -> None:
    assert base58.decode("z") == b""
    assert base58.decode("z111") == b"\0\0\0"
    assert base58.decode("z11" + base58.ALPHABET[1:]) == b"\0\0" + (
        sum(i * 58**k for k, i in enumerate(range(57, 0, -1)))).to_bytes(43, "big").lstrip(b"\0")
    for i, c in enumerate(base58.ALPHABET[1:], start=1):
        assert base58.decode("z" + c) == bytes([i])


class _Dict(OrderedDict[str, Any]):
    pass


class _List(UserList[Any]):  # not a list subclass: a scalar to the walk, as before
    pass


class _RealList(list[Any]):
    pass


@pytest.mark.parametrize("wrap", ["dict_subclass", "list_subclass"])
def test_the_depth_walk_still_descends_into_subclasses(wrap: str) -> None:
    def nest(levels: int) -> Any:
        value: Any = 1.5
        for _ in range(levels - 1):
            value = _Dict(k=value) if wrap == "dict_subclass" else _RealList([True, None, "s", 7, value])
        return value

    check_depth(nest(MAX_JSON_DEPTH))
    with pytest.raises(MalformedDocument):
        check_depth(nest(MAX_JSON_DEPTH + 1))
    with pytest.raises(MalformedDocument):
        check_depth({"a": [False, None, 0.5, "x", 3, nest(MAX_JSON_DEPTH)]})
    check_depth({"a": _List([nest(MAX_JSON_DEPTH + 5)])})  # not a list: not walked (unchanged)


def test_the_astral_test_matches_the_characters() -> None:
    rng = random.Random(16)
    alphabet = ["a", "\u00e9", "\u20ac", "\ue000", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff",
                "\ud800", "\udfff"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert jcs._has_astral(text) == any(ord(c) > 0xFFFF for c in text), ascii(text)
    # an astral key sorts differently in UTF-16: with non-ASCII values around it, still RFC 8785
    doc = {"\U0001f600": "\u00e9", "\ue000": "\u20ac", "a": ["\u00e9", {"\U0001f600": 1, "\uffff": 2}]}
    assert canonicalize_json(doc) == jcs._reference(doc).encode("utf-8")
    # (by hand: U+1F600 is D83D DE00 in UTF-16, before U+E000 and U+FFFF; code points say after)
    assert canonicalize_json(doc).decode() == ('{"a":["\u00e9",{"\U0001f600":1,"\uffff":2}],'
                                               '"\U0001f600":"\u00e9","\ue000":"\u20ac"}')

"""Issue #14 items 4 and 7: one private JWS core, one strict CBOR codec, and a
:class:`VerifiedCredential` that only the verifier can make.

* ``skillcred._internal.jws`` is the JWS machinery ``jose`` and ``sdjwt`` share; it must stay below
  the roles (it imports no issuer, wallet, verifier or token-format module), and both formats
  must really go through it (one allow-list object, the same refusals).
* ``skillcred._internal.cbor`` is the only CBOR reader: the ``ecdsa-sd-2023`` subset by default,
  COSE_Sign1 with ``cose=True``, both strict (shortest heads, no indefinite lengths, no trailing
  bytes, no duplicate keys, bounded depth). COSE messages that a lax reader would accept are
  refused by ``verify_cose``.
* a hand-made ``VerifiedCredential`` (any way of calling the constructor) is refused, while the
  verifier's own still reach ``match()`` and survive renumbering and copies.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from pool_support import DOMAIN, build_world
from skillcred import jose, sdjwt
from skillcred._internal import cbor, jws
from skillcred._internal.fileio import load_json_object
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.errors import InvalidArgument, TokenInvalid
from skillcred.keys import KeyPair
from skillcred.match import load_profile, match
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, VerifiedCredential, VerifiedPresentation, Verifier
from skillcred.verify import report as report_module

SRC = REPO / "src" / "skillcred"


# -- the JWS core --------------------------------------------------------------------------------


def _imported_modules(path: Path) -> set[str]:
    """Every skillcred module a source file imports, at any depth (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("skillcred"):
            found.add(str(node.module))
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("skillcred"))
    return found


@pytest.mark.parametrize("module", ["jws.py", "cbor.py"])
def test_the_shared_cores_import_no_role_or_format_module(module: str) -> None:
    imported = _imported_modules(SRC / "_internal" / module)
    above = ("skillcred.jose", "skillcred.sdjwt", "skillcred.sdjwt_vc", "skillcred.token_status",
             "skillcred.issuer", "skillcred.wallet", "skillcred.verify", "skillcred.match",
             "skillcred.service", "skillcred.oid4vci", "skillcred.oid4vp", "skillcred.securing",
             "skillcred.secured", "skillcred.pool", "skillcred._cli")
    assert not {m for m in imported if m.startswith(above)}, imported


@pytest.mark.parametrize("module", ["sdjwt.py", "jose.py"])
def test_the_token_formats_take_no_private_name_from_each_other(module: str) -> None:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    taken = {(str(node.module), a.name) for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("skillcred")
             for a in node.names}
    assert not {(m, n) for m, n in taken if n.startswith("_")}, taken
    assert ("skillcred._internal", "jws") in taken  # and they really use the core


def test_jose_and_sdjwt_share_one_allow_list_and_one_parser() -> None:
    assert jose.ALLOWED_ALGORITHMS is jws.ALLOWED_ALGORITHMS
    assert sdjwt.ALLOWED_ALGORITHMS is jws.ALLOWED_ALGORITHMS
    assert not hasattr(jose, "_parse_compact") and not hasattr(jose, "_cbor_encode")


def _token(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{jws.b64u(jws.json_bytes(header))}.{jws.b64u(jws.json_bytes(payload))}.{jws.b64u(b'x' * 64)}"


@pytest.mark.parametrize(("header", "reason"), [
    ({"alg": "none", "typ": "vc+jwt"}, "alg_not_allowed"),
    ({"alg": "HS256", "typ": "vc+jwt"}, "alg_not_allowed"),
    ({"alg": "RS256", "typ": "vc+jwt"}, "alg_not_allowed"),
    ({"typ": "vc+jwt"}, "alg_missing"),
    ({"alg": "EdDSA", "typ": "vc+jwt", "crit": ["b64"]}, "crit_not_understood"),
    ({"alg": "EdDSA", "typ": "vc+jwt", "jwk": {"kty": "OKP"}}, "embedded_key_not_allowed"),
    ({"alg": "EdDSA", "typ": "vc+jwt", "x5u": "https://evil.example/k"}, "embedded_key_not_allowed"),
])
def test_jwt_and_sd_jwt_refuse_a_bad_header_alike(header: dict[str, Any], reason: str) -> None:
    """One parser: the same header is refused with the same reason by every format."""
    token = _token(header, {"type": ["VerifiableCredential"], "issuer": "did:example:x"})
    with pytest.raises(TokenInvalid) as as_jwt:
        jose.verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt")
    with pytest.raises(TokenInvalid) as as_sd_jwt:
        sdjwt.verify_sd_jwt(token + "~", resolver=DidResolver(), expected_nonce=None, expected_aud=None,
                            require_key_binding=False)
    with pytest.raises(TokenInvalid) as as_core:
        jws.parse_compact(token)
    assert as_jwt.value.reason == as_sd_jwt.value.reason == as_core.value.reason == reason


@pytest.mark.parametrize("part", ["header", "payload", "signature"])
def test_padded_or_non_canonical_base64url_is_refused_by_the_core(part: str) -> None:
    token = _token({"alg": "EdDSA", "typ": "vc+jwt"}, {"a": 1})
    parts = token.split(".")
    i = ["header", "payload", "signature"].index(part)
    for bad in (parts[i] + "=", parts[i] + "==", parts[i].replace("-", "+") + "+/"):
        broken = ".".join([*parts[:i], bad, *parts[i + 1:]])
        with pytest.raises(TokenInvalid) as err:
            jws.parse_compact(broken)
        assert err.value.reason == "malformed"


# -- one CBOR codec ------------------------------------------------------------------------------


def test_cose_mode_round_trips_what_cose_sign1_needs() -> None:
    value = cbor.Tag(18, [cbor.encode({1: -8, 4: b"kid", 16: "application/vc+cose"}, cose=True),
                          {-1: True, 7: False, 8: None, "x": [-1, -24, -25, -256, -65537]},
                          b"{}", b"\x00" * 64])
    data = cbor.encode(value, cose=True)
    assert data[0] == 0xD2  # tag 18 in one byte, as every COSE_Sign1 starts
    assert cbor.decode(data, cose=True) == value


@pytest.mark.parametrize("value", [-1, True, False, None, cbor.Tag(18, 1)])
def test_the_ecdsa_sd_mode_still_writes_only_its_subset(value: Any) -> None:
    with pytest.raises(cbor.CBORError):
        cbor.encode(value)
    assert cbor.decode(cbor.encode(value, cose=True), cose=True) == value


@pytest.mark.parametrize("data", [
    b"\x20",  # -1: negative integers
    b"\xf5", b"\xf6",  # true, null
    b"\xd2\x80",  # a tag
])
def test_the_ecdsa_sd_mode_reads_only_its_subset(data: bytes) -> None:
    with pytest.raises(cbor.CBORError):
        cbor.decode(data)
    cbor.decode(data, cose=True)  # the COSE mode reads each of them


@pytest.mark.parametrize("cose", [False, True])
@pytest.mark.parametrize(("data", "why"), [
    (b"\x18\x01", "shortest"),  # 1 written in two bytes
    (b"\x19\x00\x10", "shortest"),  # 16 written in three
    (b"\xd8\x12\x80", "shortest"),  # tag 18 written in two bytes
    (b"\x41", "truncated"),  # a byte string of 1 with no byte
    (b"\x5f\x41\x00\xff", "indefinite"),  # an indefinite byte string
    (b"\x9f\x00\xff", "indefinite"),  # an indefinite array
    (b"\x00\x00", "trailing"),
    (b"\xa2\x00\x00\x00\x00", "duplicate"),
    (b"\xf9\x3c\x00", "float"),  # half-precision 1.0
    (b"\xfb" + b"\x00" * 8, "float"),  # double 0.0
    (b"\xf7", "simple"),  # undefined
    (b"\x7f\x61\x61\xff", "indefinite"),  # an indefinite text string
    (b"\x62\xc3\x28", "UTF-8"),  # invalid UTF-8
])
def test_both_modes_are_strict(data: bytes, why: str, cose: bool) -> None:
    with pytest.raises(cbor.CBORError) as err:
        cbor.decode(data, cose=cose)
    assert why.lower() in str(err.value).lower() or why in ("simple", "float")


@pytest.mark.parametrize(("data", "cose"), [
    (b"\x81" * 9 + b"\x00", False), (b"\x81" * 33 + b"\x00", True),  # one level too deep
    (b"\xd2" * 33 + b"\x00", True),  # tags count as nesting too
])
def test_each_mode_bounds_its_depth(data: bytes, cose: bool) -> None:
    with pytest.raises(cbor.CBORError, match="deep"):
        cbor.decode(data, cose=cose)


def test_the_depth_bounds_are_reachable() -> None:
    assert cbor.decode(b"\x81" * 8 + b"\x00") is not None
    assert cbor.decode(b"\x81" * 32 + b"\x00", cose=True) is not None


@pytest.mark.parametrize("data", [
    b"\xa1\xf5\x00",  # a boolean key
    b"\xa1\xf6\x00",  # a null key
    b"\xa1\x41\x00\x00",  # a byte-string key
    b"\xa1\x80\x00",  # an array key
])
def test_cose_map_keys_are_integers_or_text(data: bytes) -> None:
    with pytest.raises(cbor.CBORError, match="key"):
        cbor.decode(data, cose=True)


def _cose(key: KeyPair, *, head_of_signature: bytes | None = None, trailing: bytes = b"") -> bytes:
    """A COSE_Sign1 credential signed by ``key``; optionally with the signature's byte-string
    length written in a longer form than needed (the same bytes, a second encoding)."""
    issuer = key_did(key.public_key)
    payload = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                          "type": ["VerifiableCredential"], "issuer": issuer,
                          "credentialSubject": {"id": "did:example:holder"}}).encode()
    token = jose.secure_credential_cose(json.loads(payload), key, kid=key_did_url(key.public_key))
    if head_of_signature is not None:
        signature = token[-64:]
        assert token[-66:-64] == b"\x58\x40"  # bstr of 64: head 0x58 0x40
        token = token[:-66] + head_of_signature + signature
    return token + trailing


def test_verify_cose_reads_through_the_shared_codec() -> None:
    key = KeyPair.generate("ed25519")
    result = jose.verify_cose(_cose(key), resolver=DidResolver(), expected_typ="vc+cose")
    assert result.controller == key_did(key.public_key)


@pytest.mark.parametrize(("head", "trailing"), [
    (b"\x59\x00\x40", b""),  # the signature length in two bytes instead of one
    (b"\x5a\x00\x00\x00\x40", b""),  # in four
    (b"\x5b" + (64).to_bytes(8, "big"), b""),  # in eight
    (None, b"\x00"),  # a byte after the message
])
def test_a_second_encoding_of_a_cose_message_is_refused(head: bytes | None, trailing: bytes) -> None:
    """The reader jose used to have took non-shortest heads: one message, many byte strings."""
    token = _cose(KeyPair.generate("ed25519"), head_of_signature=head, trailing=trailing)
    with pytest.raises(TokenInvalid) as err:
        jose.verify_cose(token, resolver=DidResolver(), expected_typ="vc+cose")
    assert err.value.reason == "malformed" and "COSE: " in err.value.message
    assert jose.peek_cose(token) == (None, None)


# -- VerifiedCredential is made by the verifier only ---------------------------------------------


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> VerifiedPresentation:
    """Jan's presentation of the shared pool world, through the real verifier."""
    world = build_world(tmp_path_factory.mktemp("consol"))
    verifier = Verifier(VerificationPolicy(trust=TrustList.load(world.trust)),
                        status_lists=[load_json_object(p) for p in world.status])
    result = verifier.assess(world.presentation("jan"), challenge=world.challenge("jan"), domain=DOMAIN)
    assert len(result.accepted) >= 3, result.report.failures()
    return result


def _fields(vc: VerifiedCredential) -> dict[str, Any]:
    return {f.name: getattr(vc, f.name) for f in dataclasses.fields(vc) if f.name != "_made_by"}


def test_the_verifier_still_makes_them_and_match_counts_them(assessed: VerifiedPresentation) -> None:
    good = assessed.accepted[0]
    assert isinstance(good, VerifiedCredential) and good.claims
    profile = load_profile(REPO / "examples" / "profiles" / "cnc-verspaner.json")
    assert match(profile, list(assessed.accepted)).coverage > match(profile, []).coverage == 0.0


def test_a_hand_made_one_is_refused(assessed: VerifiedPresentation) -> None:
    fields = _fields(assessed.accepted[0])
    with pytest.raises(InvalidArgument, match="made only by the verifier"):
        VerifiedCredential(**fields)
    with pytest.raises(InvalidArgument, match="made only by the verifier"):
        VerifiedCredential(0, None, "did:example:forger", "Forger", None, {})  # positional
    with pytest.raises(InvalidArgument, match="made only by the verifier"):
        VerifiedCredential(index=0, id=None, issuer="did:example:forger", issuer_name="Forger", subject=None,
                           document={})  # the fewest arguments


@pytest.mark.parametrize("token", [None, object(), True, "verifier", report_module])
def test_a_guessed_token_is_refused(assessed: VerifiedPresentation, token: object) -> None:
    with pytest.raises(InvalidArgument, match="made only by the verifier"):
        VerifiedCredential(**_fields(assessed.accepted[0]), _made_by=token)


def test_a_verified_one_survives_renumbering_and_copies(assessed: VerifiedPresentation) -> None:
    """OpenID4VP renumbers credentials across presentations with ``dataclasses.replace``; a
    copy or an unpickled one is still the verifier's (its token is the same object)."""
    import copy
    import pickle

    good = assessed.accepted[0]
    renumbered = dataclasses.replace(good, index=7)
    assert renumbered.index == 7 and renumbered.claims == good.claims
    for twin in (copy.copy(good), copy.deepcopy(good), pickle.loads(pickle.dumps(good))):
        assert twin == good
        assert dataclasses.replace(twin, index=3).index == 3


def test_the_maker_is_handed_out_once_and_the_verifier_has_it() -> None:
    with pytest.raises(InvalidArgument, match="already taken"):
        report_module.credential_maker()
    with pytest.raises(InvalidArgument, match="already taken"):  # and stays taken
        report_module.credential_maker()

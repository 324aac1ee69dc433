"""Issue #13 item 5: one strict JSON reader and canonical base64url, at every door.

Two parsers must never see two different documents in the same bytes, and one signed token
must have exactly one encoding. Refused everywhere (files, JWS/SD-JWT/KB-JWT/COSE, HTTP bodies):
duplicate member names, ``NaN``/``Infinity``/``-Infinity``, numbers that overflow to infinity,
text that is not UTF-8 (UTF-16/UTF-32 are not sniffed), a byte order mark, lone surrogates; and
base64url that is padded, uses ``+``/``/`` or whitespace, or has non-zero unused bits.

Tokens that matter are re-signed with the real key after the bytes are altered, so a refusal
proves the parser refused, not the signature check.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service_support import IssuerSetup, Server, make_issuer, start_server
from skillcred._internal import base64url, cbor, strictjson
from skillcred._internal.fileio import load_json_file, parse_json
from skillcred._internal.jws import json_bytes as _json_bytes
from skillcred._internal.jws import sign_jws as _sign_jws
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.errors import PARSING_ERROR, InvalidArgument, MalformedDocument, ProofError, TokenInvalid
from skillcred.jose import (
    _COSE_ALG_IDS,
    _sig_structure,
    envelop_credential,
    secure_credential_cose,
    secure_credential_jwt,
    verify_cose,
    verify_jwt,
)
from skillcred.keys import KeyPair, PublicKey
from skillcred.proofs import add_proof
from skillcred.proofs._ecdsa_sd_2023 import BaseProofValue, parse_base_proof_value, serialize_base_proof_value
from skillcred.sdjwt import _digest, issue_sd_jwt, present_sd_jwt, verify_sd_jwt
from skillcred.status import BitstringStatusList, StatusMalformed
from skillcred.wallet import read_credentials_input
from support.cli import CliResult, clean_env, run_cli

NONCE = "n-0S6_WzA2Mj"
AUD = "https://employer.example/verifier"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# -- helpers -------------------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def lenient_b64u(text: str) -> bytes:
    """What a lenient decoder (Python's default) makes of ``text``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flip_unused_bit(text: str) -> str:
    """The same bytes, encoded with the lowest unused bit of the last character set."""
    assert len(text) % 4 in (2, 3), "no unused bits at this length"
    variant = text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) ^ 1]
    assert variant != text and lenient_b64u(variant) == lenient_b64u(text)  # invisible to a lenient decoder
    return variant


def odd_length_json(obj: dict[str, Any]) -> bytes:
    """``obj`` as JSON whose base64url has unused bits (length not a multiple of 3)."""
    data = _json_bytes(obj)
    while len(data) % 3 == 0:
        obj = {**obj, "pad": obj.get("pad", "") + "x"}
        data = _json_bytes(obj)
    return data


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def holder_key() -> KeyPair:
    return KeyPair.generate("ed25519")


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "SkillCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "skill": "Welding level 3"},
        **extra,
    }


def vc_header(key: KeyPair) -> dict[str, Any]:
    return {"alg": "EdDSA", "kid": key_did_url(key.public_key), "typ": "vc+jwt", "cty": "vc"}


def signed(key: KeyPair, header_raw: bytes, payload_raw: bytes) -> str:
    """A compact JWS over exactly these header and payload bytes, validly signed by ``key``."""
    signing_input = f"{b64u(header_raw)}.{b64u(payload_raw)}"
    return f"{signing_input}.{b64u(key.sign(signing_input.encode()))}"


def resign(key: KeyPair, header_b64: str, payload_b64: str) -> str:
    """A compact JWS over exactly these (possibly non-canonical) segments, validly signed."""
    signing_input = f"{header_b64}.{payload_b64}"
    return f"{signing_input}.{b64u(key.sign(signing_input.encode()))}"


def refused(token: str, *, resolver: DidResolver | None = None) -> TokenInvalid:
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=resolver or DidResolver(), expected_typ="vc+jwt")
    return err.value


def issuer_payload(key: KeyPair, body: str) -> bytes:
    """A credential payload as raw JSON text, ``body`` spliced in as extra members."""
    cred = _json_bytes(credential(key_did(key.public_key))).decode()
    return (cred[:-1] + "," + body + "}").encode()


class SpyResolver(DidResolver):
    def resolve(self, did: str) -> dict[str, Any]:
        raise AssertionError(f"a key was resolved ({did}) for a token that must be refused first")


# -- the strict reader itself --------------------------------------------------------------------

_TEXT = '{"a": 1, "b": ["x", {"c": true}]}'

REFUSED: list[tuple[str, bytes | str, str]] = [
    ("dup_top", b'{"a": 1, "a": 2}', "duplicate member name 'a'"),
    ("dup_same_value", b'{"a": 1, "a": 1}', "duplicate member name 'a'"),
    ("dup_nested", b'{"x": {"y": {"a": 1, "b": 2, "a": 3}}}', "duplicate member name 'a'"),
    ("dup_in_array", b'[1, {"a": 1, "a": 2}]', "duplicate member name 'a'"),
    ("dup_escaped_spelling", b'{"alg": "EdDSA", "\\u0061lg": "none"}', "duplicate member name 'alg'"),
    ("dup_empty_name", b'{"": 1, "": 2}', "duplicate member name ''"),
    ("nan", b'{"a": NaN}', "NaN is not valid JSON"),
    ("infinity", b'{"a": Infinity}', "Infinity is not valid JSON"),
    ("minus_infinity", b'[-Infinity]', "-Infinity is not valid JSON"),
    ("nan_as_name_value_in_array", b'[1, 2, NaN]', "NaN is not valid JSON"),
    ("overflow", b'{"exp": 1e400}', "'1e400' is out of range"),
    ("overflow_negative", b'{"exp": -1e400}', "'-1e400' is out of range"),
    ("overflow_capital_e", b'{"exp": 1E+309}', "out of range"),
    ("overflow_fraction", b'[179769313486231580793728971405303415079934132710037826936173778980444968292764750'
                          b'6.0e300]', "out of range"),
    ("utf16_le_bom", _TEXT.encode("utf-16"), "not UTF-8"),
    ("utf16_le", _TEXT.encode("utf-16-le"), "not UTF-8"),
    ("utf16_be", _TEXT.encode("utf-16-be"), "not UTF-8"),
    ("utf16_be_bom", b"\xfe\xff" + _TEXT.encode("utf-16-be"), "not UTF-8"),
    ("utf32_le_bom", _TEXT.encode("utf-32"), "not UTF-8"),
    ("utf32_be", _TEXT.encode("utf-32-be"), "not UTF-8"),
    ("latin1", '{"name": "Jos\u00e9"}'.encode("latin-1"), "not UTF-8"),
    ("utf8_bom", b"\xef\xbb\xbf" + _TEXT.encode(), "byte order mark"),
    ("bom_in_str", "\ufeff" + _TEXT, "byte order mark"),
    ("lone_high_surrogate", b'["\\ud800"]', "lone surrogate"),
    ("lone_low_surrogate", b'{"n": "a\\udc00b"}', "lone surrogate"),
    ("reversed_pair", b'["\\ude00\\ud83d"]', "lone surrogate"),
    ("surrogate_in_name", b'{"\\uDBFF": 1}', "lone surrogate"),
    ("raw_surrogate_in_str", '["\ud800"]', "lone surrogate"),
    ("encoded_surrogate_bytes", b'["\xed\xa0\x80"]', "not UTF-8"),
    ("not_json", b"{not json", "not valid JSON"),
    ("trailing_data", b"{} {}", "not valid JSON"),
]


@pytest.mark.parametrize("data,expected", [(d, e) for _, d, e in REFUSED], ids=[n for n, _, _ in REFUSED])
def test_strict_reader_refuses(data: bytes | str, expected: str) -> None:
    with pytest.raises(MalformedDocument) as err:
        strictjson.loads(data, source="cred.json")
    assert expected in err.value.message
    assert err.value.path == "cred.json"
    assert str(err.value).startswith("cred.json: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("data,value", [
    (b'{"a": {"a": {"a": 1}}}', {"a": {"a": {"a": 1}}}),  # the same name at different levels
    (b'[{"a": 1}, {"a": 2}]', [{"a": 1}, {"a": 2}]),  # the same name in sibling objects
    (b'["\\ud83d\\ude00"]', ["\U0001f600"]),  # a surrogate pair is one character
    (b'["\\\\ud800"]', ["\\ud800"]),  # an escaped backslash, then text: no surrogate
    (b'[1.7976931348623157e308, -0.0, 1e-400, 12345678901234567890]',
     [1.7976931348623157e308, -0.0, 0.0, 12345678901234567890]),
    ('{"name": "Jos\u00e9 \u0141\u00f3d\u017a"}'.encode(), {"name": "Jos\u00e9 \u0141\u00f3d\u017a"}),
    ('{"name": "\U0001f600"}', {"name": "\U0001f600"}),
    (b' \n{"a": "\\u0000 inside a string is fine"}\n', {"a": "\x00 inside a string is fine"}),
])
def test_strict_reader_accepts_what_json_allows(data: bytes | str, value: Any) -> None:
    assert strictjson.loads(data) == value


def test_parse_json_and_file_loader_use_the_strict_reader(tmp_path: Path) -> None:
    for raw in (b'{"issuer": "did:example:roc", "issuer": "did:example:mallory"}', b'{"a": NaN}',
                _TEXT.encode("utf-16"), b"\xef\xbb\xbf" + _TEXT.encode()):
        with pytest.raises(MalformedDocument):
            parse_json(raw, source="x")
        path = tmp_path / "doc.json"
        path.write_bytes(raw)
        with pytest.raises(MalformedDocument) as err:
            load_json_file(path)
        assert err.value.path == str(path)
    with pytest.raises(MalformedDocument, match="not UTF-8"):  # text that cannot be UTF-8: no traceback
        parse_json('{"a": "\ud800"}', source="x")


# -- canonical base64url -------------------------------------------------------------------------


def test_base64url_round_trips_and_accepts_only_the_canonical_text() -> None:
    for n in range(0, 40):
        data = bytes(range(256))[n * 5 % 200:][:n]
        text = base64url.encode(data)
        assert base64url.decode(text) == data
        if len(text) % 4 in (2, 3):
            # a lenient decoder maps 4 (or 16) last characters to these same bytes: exactly
            # one of them, the canonical one, is accepted
            same = [text[:-1] + c for c in _ALPHABET if lenient_b64u(text[:-1] + c) == data]
            assert len(same) == (16 if len(text) % 4 == 2 else 4)
            accepted = []
            for variant in same:
                try:
                    base64url.decode(variant)
                    accepted.append(variant)
                except ValueError:
                    pass
            assert accepted == [text]


@pytest.mark.parametrize("text", ["QQ==", "QQ=", "QUI=", "Pz8/", "Pz8+", "Pz8-Pz8_ ", " Pz8", "Pz\n8", "Pz8\t",
                                  "QUJD\n", "A", "AAAAA", "QR", "QUJ", "é", "QQ\u00a0"])
def test_base64url_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        base64url.decode(text)


def test_base64url_refuses_non_strings() -> None:
    for value in (b"QQ", None, 1):
        with pytest.raises(ValueError):
            base64url.decode(value)  # type: ignore[arg-type]


# -- vc+jwt: NaN, Infinity, overflow and duplicates in a validly signed payload / header ---------


def test_the_token_builder_is_sound(key: KeyPair) -> None:
    """The control: the same construction with ordinary values verifies."""
    token = signed(key, _json_bytes(vc_header(key)), issuer_payload(key, '"exp": 4102444800'))
    assert verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt").payload["exp"] == 4102444800
    sig = token.split(".")[2]
    assert len(sig) % 4 == 2  # Ed25519 signatures have unused bits: the flip tests below are meaningful


@pytest.mark.parametrize("claims,expected", [
    ('"iat": NaN', "NaN"),
    ('"exp": NaN', "NaN"),
    ('"exp": Infinity', "Infinity"),
    ('"nbf": -Infinity', "-Infinity"),
    ('"exp": 1e400', "out of range"),
    ('"exp": 1E999', "out of range"),
    ('"credentialSubject2": {"score": NaN}', "NaN"),
])
def test_non_finite_numbers_in_a_signed_payload_are_refused(key: KeyPair, claims: str, expected: str) -> None:
    token = signed(key, _json_bytes(vc_header(key)), issuer_payload(key, claims))
    err = refused(token)
    assert err.reason == "malformed"
    assert "payload" in err.message and expected in err.message


@pytest.mark.parametrize("claims,name", [
    ('"iss": "did:example:mallory"', "iss"),
    ('"exp": 1, "exp": 4102444800', "exp"),
    ('"issuer": "did:example:mallory"', "issuer"),
    ('"validUntil": "2020-01-01T00:00:00Z", "validUntil": "2999-01-01T00:00:00Z"', "validUntil"),
    ('"credentialSubject": {"id": "did:example:alice", "skill": "Welding level 5"}', "credentialSubject"),
])
def test_duplicate_names_in_a_signed_payload_are_refused(key: KeyPair, claims: str, name: str) -> None:
    payload = issuer_payload(key, claims)
    if name == "iss":  # iss twice, the first equal to the issuer
        payload = issuer_payload(key, f'"iss": "{key_did(key.public_key)}", {claims}')
    token = signed(key, _json_bytes(vc_header(key)), payload)
    err = refused(token)
    assert err.reason == "malformed"
    assert f"duplicate member name {name!r}" in err.message


@pytest.mark.parametrize("header", [
    '{"alg":"EdDSA","alg":"none","typ":"vc+jwt","kid":"%s"}',
    '{"alg":"EdDSA","alg":"EdDSA","typ":"vc+jwt","kid":"%s"}',  # even the same value twice
    '{"alg":"none","alg":"EdDSA","typ":"vc+jwt","kid":"%s"}',
    '{"alg":"EdDSA","typ":"vc+jwt","typ":"vp+jwt","kid":"%s"}',
    '{"alg":"EdDSA","typ":"vc+jwt","kid":"%s","kid":"did:example:other#k"}',
    '{"alg":"EdDSA","typ":"vc+jwt","kid":"%s","cty":"vc","\\u0063ty":"vp"}',
])
def test_duplicate_names_in_a_signed_protected_header_are_refused_before_any_key_use(
        key: KeyPair, header: str) -> None:
    raw = (header % key_did_url(key.public_key)).encode()
    token = signed(key, raw, issuer_payload(key, '"jti": "urn:x:1"'))
    err = refused(token, resolver=SpyResolver())
    assert err.reason == "malformed" and "header" in err.message and "duplicate member name" in err.message


def test_a_non_utf8_payload_is_refused(key: KeyPair) -> None:
    for payload in (_json_bytes(credential(key_did(key.public_key))).decode().encode("utf-16"),
                    _json_bytes(credential(key_did(key.public_key))).decode().encode("utf-32-le"),
                    b"\xef\xbb\xbf" + _json_bytes(credential(key_did(key.public_key)))):
        err = refused(signed(key, _json_bytes(vc_header(key)), payload))
        assert err.reason == "malformed" and "payload" in err.message


# -- vc+jwt: base64url malleability --------------------------------------------------------------


def test_a_flipped_unused_bit_in_the_signature_is_refused(key: KeyPair) -> None:
    token = secure_credential_jwt(credential(key_did(key.public_key)), key, kid=key_did_url(key.public_key))
    h, p, s = token.split(".")
    err = refused(f"{h}.{p}.{flip_unused_bit(s)}")  # the signature bytes are unchanged
    assert err.reason == "malformed" and "signature" in err.message and "canonical" in err.message


def test_a_flipped_unused_bit_in_the_payload_is_refused(key: KeyPair) -> None:
    payload = odd_length_json(credential(key_did(key.public_key)))
    h = b64u(_json_bytes(vc_header(key)))
    token = resign(key, h, flip_unused_bit(b64u(payload)))  # signed over the altered text
    err = refused(token)
    assert err.reason == "malformed" and "payload" in err.message and "canonical" in err.message


def test_a_flipped_unused_bit_in_the_header_is_refused(key: KeyPair) -> None:
    header = odd_length_json(vc_header(key))
    token = resign(key, flip_unused_bit(b64u(header)), b64u(_json_bytes(credential(key_did(key.public_key)))))
    err = refused(token, resolver=SpyResolver())
    assert err.reason == "malformed" and "header" in err.message


@pytest.mark.parametrize("segment", [0, 1, 2])
def test_padded_segments_are_refused(key: KeyPair, segment: int) -> None:
    header = odd_length_json(vc_header(key))
    payload = odd_length_json(credential(key_did(key.public_key)))
    parts = [b64u(header), b64u(payload)]
    if segment < 2:
        parts[segment] += "=" * (-len(parts[segment]) % 4)
        token = resign(key, *parts)
    else:
        token = resign(key, *parts)
        token += "=" * (-len(token.split(".")[2]) % 4)
    assert lenient_b64u(token.split(".")[segment].rstrip("=")) == lenient_b64u(token.split(".")[segment])
    err = refused(token, resolver=SpyResolver() if segment == 0 else None)
    assert err.reason == "malformed"


def _with_url_chars(make: Any) -> str:
    """The first of make(0), make(1), ... whose text holds '-' or '_'."""
    for i in range(500):
        text = str(make(i))
        if "-" in text or "_" in text:
            return text
    raise AssertionError("no base64url text with '-' or '_' found")


@pytest.mark.parametrize("segment", [1, 2])
def test_standard_alphabet_characters_are_refused(key: KeyPair, segment: int) -> None:
    did, kid = key_did(key.public_key), key_did_url(key.public_key)
    for i in range(500):  # a token whose payload (or signature) text holds '-' or '_'
        token = secure_credential_jwt(credential(did, jti=f"urn:x:?>?>{i}"), key, kid=kid)
        if set(token.split(".")[segment]) & {"-", "_"}:
            break
    else:
        raise AssertionError("no base64url text with '-' or '_' found")
    parts = token.split(".")
    parts[segment] = parts[segment].replace("-", "+").replace("_", "/")
    token = resign(key, parts[0], parts[1]) if segment == 1 else ".".join(parts)
    err = refused(token)
    assert err.reason == "malformed" and "A-Z a-z 0-9 - _" in err.message


@pytest.mark.parametrize("where", ["inside", "end"])
@pytest.mark.parametrize("space", [" ", "\n", "\t", "\r\n"])
def test_whitespace_in_a_segment_is_refused(key: KeyPair, where: str, space: str) -> None:
    token = secure_credential_jwt(credential(key_did(key.public_key)), key, kid=key_did_url(key.public_key))
    h, p, _ = token.split(".")
    bad_p = p[:10] + space + p[10:] if where == "inside" else p + space
    assert lenient_b64u(bad_p.replace(space, "")) == lenient_b64u(p)
    err = refused(resign(key, h, bad_p))
    assert err.reason == "malformed"


# -- SD-JWT: disclosures and the KB-JWT ----------------------------------------------------------


def sd_jwt(key: KeyPair, disclosures: list[str], holder: KeyPair | None = None) -> str:
    """An SD-JWT whose issuer-signed payload references exactly ``disclosures`` (as encoded)."""
    did = key_did(key.public_key)
    # the digests sit inside credentialSubject: top-level ones are refused for a W3C credential
    payload: dict[str, Any] = {**credential(did), "_sd_alg": "sha-256"}
    payload["credentialSubject"] = {"id": "did:example:alice", "_sd": sorted(_digest(d) for d in disclosures)}
    if holder is not None:
        payload["cnf"] = {"jwk": holder.public_key.jwk()}
    header = {"alg": "EdDSA", "kid": key_did_url(key.public_key), "typ": "vc+sd-jwt", "cty": "vc"}
    return _sign_jws(header, _json_bytes(payload), key) + "~" + "".join(d + "~" for d in disclosures)


def verify_sd(token: str, **kw: Any) -> Any:
    opts: dict[str, Any] = {"expected_nonce": None, "expected_aud": None, "require_key_binding": False}
    opts.update(kw)
    return verify_sd_jwt(token, resolver=DidResolver(), **opts)


def test_the_sd_jwt_builder_is_sound(key: KeyPair) -> None:
    disclosure = b64u(b'["c2FsdHNhbHQ","address",{"city":"Utrecht","street":"Kerkstraat 1"}]')
    subject = verify_sd(sd_jwt(key, [disclosure])).claims["credentialSubject"]
    assert subject["address"] == {"city": "Utrecht", "street": "Kerkstraat 1"}


@pytest.mark.parametrize("raw,expected", [
    (b'["c2FsdHNhbHQ","address",{"city":"Utrecht","city":"Amsterdam"}]', "duplicate member name 'city'"),
    (b'["c2FsdHNhbHQ","score",{"value":1,"detail":{"v":1,"v":2}}]', "duplicate member name 'v'"),
    (b'["c2FsdHNhbHQ","score",NaN]', "NaN"),
    (b'["c2FsdHNhbHQ","score",-Infinity]', "-Infinity"),
    (b'["c2FsdHNhbHQ","score",1e400]', "out of range"),
    (b'["c2FsdHNhbHQ","name","\\udbff"]', "lone surrogate"),
])
def test_strict_json_in_a_disclosure(key: KeyPair, raw: bytes, expected: str) -> None:
    with pytest.raises(TokenInvalid) as err:
        verify_sd(sd_jwt(key, [b64u(raw)]))
    assert err.value.reason == "malformed"
    assert "disclosure" in err.value.message and expected in err.value.message


@pytest.mark.parametrize("variant", ["flipped_bit", "padded", "standard_alphabet", "whitespace"])
def test_a_non_canonical_disclosure_is_refused_even_when_the_issuer_signed_its_digest(
        key: KeyPair, variant: str) -> None:
    for i in range(500):  # an encoding with unused bits and a '-' or '_' in it
        raw = b'["c2FsdHNhbHQ%d","level","advanced?>?>"]' % i
        if len(raw) % 3 and set(b64u(raw)) & {"-", "_"}:
            break
    good = b64u(raw)
    bad = {"flipped_bit": flip_unused_bit(good),
           "padded": good + "=" * (-len(good) % 4),
           "standard_alphabet": good.replace("-", "+").replace("_", "/"),
           "whitespace": good[:8] + " " + good[8:]}[variant]
    assert bad != good
    assert verify_sd(sd_jwt(key, [good])).claims["credentialSubject"]["level"].startswith("advanced")  # the control
    with pytest.raises(TokenInvalid) as err:
        verify_sd(sd_jwt(key, [bad]))  # the digest of exactly this text is in the signed payload
    assert err.value.reason == "malformed" and "disclosure" in err.value.message


def kb_presentation(key: KeyPair, holder: KeyPair, kb_payload_raw: bytes,
                    kb_header_raw: bytes | None = None) -> str:
    issued = issue_sd_jwt(credential(key_did(key.public_key)), key, kid=key_did_url(key.public_key),
                          disclosable=["/credentialSubject/skill"], holder_jwk=holder.public_key.jwk())
    presented = present_sd_jwt(issued, disclose=["/credentialSubject/skill"], holder_key=None, nonce=None, aud=None)
    header = kb_header_raw or b'{"alg":"EdDSA","typ":"kb+jwt"}'
    raw = kb_payload_raw.replace(b"SD_HASH", _digest(presented).encode())
    return presented + signed(holder, header, raw)


def test_the_kb_jwt_builder_is_sound(key: KeyPair, holder_key: KeyPair) -> None:
    import time

    raw = b'{"iat":%d,"aud":"%s","nonce":"%s","sd_hash":"SD_HASH"}' % (int(time.time()), AUD.encode(), NONCE.encode())
    result = verify_sd(kb_presentation(key, holder_key, raw), expected_nonce=NONCE, expected_aud=AUD,
                       require_key_binding=True)
    assert result.key_bound


@pytest.mark.parametrize("kb_payload,expected", [
    (b'{"iat":NaN,"aud":"%(aud)s","nonce":"%(nonce)s","sd_hash":"SD_HASH"}', "NaN"),  # would pass freshness
    (b'{"iat":-Infinity,"aud":"%(aud)s","nonce":"%(nonce)s","sd_hash":"SD_HASH"}', "-Infinity"),
    (b'{"iat":1e400,"aud":"%(aud)s","nonce":"%(nonce)s","sd_hash":"SD_HASH"}', "out of range"),
    (b'{"iat":1,"iat":%(now)d,"aud":"%(aud)s","nonce":"%(nonce)s","sd_hash":"SD_HASH"}', "duplicate member name 'iat'"),
    (b'{"iat":%(now)d,"aud":"%(aud)s","nonce":"old","nonce":"%(nonce)s","sd_hash":"SD_HASH"}',
     "duplicate member name 'nonce'"),
    (b'{"iat":%(now)d,"aud":"https://other.example","aud":"%(aud)s","nonce":"%(nonce)s","sd_hash":"SD_HASH"}',
     "duplicate member name 'aud'"),
])
def test_strict_json_in_the_kb_jwt(key: KeyPair, holder_key: KeyPair, kb_payload: bytes, expected: str) -> None:
    import time

    raw = kb_payload % {b"aud": AUD.encode(), b"nonce": NONCE.encode(), b"now": int(time.time())}
    with pytest.raises(TokenInvalid) as err:
        verify_sd(kb_presentation(key, holder_key, raw), expected_nonce=NONCE, expected_aud=AUD,
                  require_key_binding=True)
    assert err.value.reason == "malformed"
    assert "KB-JWT" in err.value.message and expected in err.value.message


def test_duplicate_names_in_the_kb_jwt_header(key: KeyPair, holder_key: KeyPair) -> None:
    import time

    raw = b'{"iat":%d,"aud":"%s","nonce":"%s","sd_hash":"SD_HASH"}' % (int(time.time()), AUD.encode(), NONCE.encode())
    for header in (b'{"alg":"EdDSA","typ":"kb+jwt","typ":"kb+jwt"}', b'{"alg":"ES256","alg":"EdDSA","typ":"kb+jwt"}'):
        with pytest.raises(TokenInvalid) as err:
            verify_sd(kb_presentation(key, holder_key, raw, header), expected_nonce=NONCE, expected_aud=AUD,
                      require_key_binding=True)
        assert err.value.reason == "malformed" and "KB-JWT header" in err.value.message


def test_a_flipped_unused_bit_in_the_kb_jwt_signature(key: KeyPair, holder_key: KeyPair) -> None:
    import time

    raw = b'{"iat":%d,"aud":"%s","nonce":"%s","sd_hash":"SD_HASH"}' % (int(time.time()), AUD.encode(), NONCE.encode())
    token = kb_presentation(key, holder_key, raw)
    head, _, sig = token.rpartition(".")
    with pytest.raises(TokenInvalid) as err:
        verify_sd(f"{head}.{flip_unused_bit(sig)}", expected_nonce=NONCE, expected_aud=AUD,
                  require_key_binding=True)
    assert err.value.reason == "malformed" and "KB-JWT signature" in err.value.message


# -- COSE, JWK, multibase 'u' --------------------------------------------------------------------


def _cose(key: KeyPair, payload: bytes) -> bytes:
    protected = cbor.encode({1: _COSE_ALG_IDS["EdDSA"], 3: "application/vc", 4: key_did_url(key.public_key).encode(),
                             16: "application/vc+cose"}, cose=True)
    return b"\xd2" + cbor.encode([protected, {}, payload, key.sign(_sig_structure(protected, payload))], cose=True)


@pytest.mark.parametrize("members,expected", [
    ('"exp": NaN', "NaN"), ('"exp": Infinity', "Infinity"), ('"exp": 1e400', "out of range"),
    ('"issuer": "did:example:mallory"', "duplicate member name 'issuer'"),
])
def test_strict_json_in_a_cose_payload(key: KeyPair, members: str, expected: str) -> None:
    assert verify_cose(_cose(key, _json_bytes(credential(key_did(key.public_key)))), resolver=DidResolver(),
                       expected_typ="vc+cose")  # the control
    with pytest.raises(TokenInvalid) as err:
        verify_cose(_cose(key, issuer_payload(key, members)), resolver=DidResolver(), expected_typ="vc+cose")
    assert err.value.reason == "malformed" and expected in err.value.message


def test_cose_base64_text_must_be_canonical(key: KeyPair) -> None:
    cose = secure_credential_cose(credential(key_did(key.public_key)), key, kid=key_did_url(key.public_key))
    while len(cose) % 3 == 0:
        cose = secure_credential_cose(credential(key_did(key.public_key), pad="x" * (len(cose) % 7 + 1)), key,
                                      kid=key_did_url(key.public_key))
    text = base64.b64encode(cose).decode()
    assert verify_cose(text, resolver=DidResolver(), expected_typ="vc+cose")
    body = text.rstrip("=")
    std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    variant = body[:-1] + std[std.index(body[-1]) ^ 1]
    assert base64.b64decode(variant + "=" * (-len(variant) % 4)) == cose  # the same bytes
    with pytest.raises(TokenInvalid) as err:
        verify_cose(variant, resolver=DidResolver(), expected_typ="vc+cose")
    assert err.value.reason == "malformed" and "canonical" in err.value.message


@pytest.mark.parametrize("kind", ["ed25519", "p256", "p384"])
def test_jwk_coordinates_must_be_canonical_base64url(kind: str) -> None:
    jwk = KeyPair.generate(kind).public_key.jwk()  # type: ignore[arg-type]
    assert PublicKey.from_jwk(jwk).jwk() == jwk
    x = jwk["x"]
    bad = [x + "=" * (-len(x) % 4 or 4), x + "\n", " " + x, x[:-1] + "+", x[:-1] + "/"]
    if len(x) % 4 in (2, 3):  # Ed25519 / P-256 coordinates (43 characters); P-384's 64 have no unused bits
        bad.append(flip_unused_bit(x))
    for value in bad:
        with pytest.raises(InvalidArgument):
            PublicKey.from_jwk({**jwk, "x": value})


def test_status_list_encoded_list_must_be_canonical() -> None:
    bits = BitstringStatusList()
    for i in range(7, 4000, 97):  # until the encoding has unused bits and a '-' or '_'
        bits.set(i, 1)
        body = bits.encode()[1:]
        if len(body) % 4 in (2, 3) and set(body) & {"-", "_"}:
            break
    else:
        raise AssertionError("no suitable encodedList found")
    assert BitstringStatusList.decode("u" + body).get(7) == 1
    variants = ["u" + flip_unused_bit(body), "u" + body + "=" * (-len(body) % 4), "u" + body[:5] + " " + body[5:],
                "u" + body + "\n", "u" + body.replace("-", "+").replace("_", "/")]
    for bad in variants:
        with pytest.raises(StatusMalformed):
            BitstringStatusList.decode(bad)


def test_ecdsa_sd_proof_value_must_be_canonical() -> None:
    pointers = ["/issuer"]
    value = BaseProofValue(b"s" * 64, b"p" * 35, b"h" * 32, [b"q" * 64], pointers)
    text = serialize_base_proof_value(value)
    while len(text[1:]) % 4 not in (2, 3):
        pointers.append("/x")
        text = serialize_base_proof_value(BaseProofValue(b"s" * 64, b"p" * 35, b"h" * 32, [b"q" * 64], pointers))
    assert parse_base_proof_value(text).mandatory_pointers == pointers
    for bad in ("u" + flip_unused_bit(text[1:]), text + "=" * (4 - len(text[1:]) % 4), text[:9] + "\n" + text[9:]):
        with pytest.raises(ProofError):
            parse_base_proof_value(bad)


# -- documents through the library and the CLI ---------------------------------------------------

DUP_ISSUER = (b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], '
              b'"issuer": "did:example:roc", "issuer": "did:example:mallory", '
              b'"credentialSubject": {"id": "did:example:alice"}}')


def test_credential_input_with_a_duplicate_issuer_is_refused() -> None:
    with pytest.raises(MalformedDocument) as err:
        read_credentials_input(DUP_ISSUER, "cred.json")
    assert "duplicate member name 'issuer'" in str(err.value) and err.value.path == "cred.json"


def cli(tmp: Path, *args: str | Path, stdin: bytes | None = None) -> CliResult:
    env = clean_env(drop=("SKILLCRED_", "XDG_"), HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / ".config"),
                    XDG_CACHE_HOME=str(tmp / ".cache"))
    proc = run_cli(*args, env=env, stdin=stdin)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("name,raw,expected", [
    ("dup_issuer", DUP_ISSUER, "duplicate member name 'issuer'"),
    ("nan", DUP_ISSUER.replace(b'"issuer": "did:example:mallory", ', b'"validUntil": NaN, '), "NaN"),
    ("overflow", DUP_ISSUER.replace(b'"issuer": "did:example:mallory", ', b'"x": 1e400, '), "out of range"),
    ("utf16", DUP_ISSUER.replace(b'"issuer": "did:example:mallory", ', b"").decode().encode("utf-16"), "not UTF-8"),
    ("utf32", DUP_ISSUER.replace(b'"issuer": "did:example:mallory", ', b"").decode().encode("utf-32"), "not UTF-8"),
    ("bom", b"\xef\xbb\xbf" + DUP_ISSUER.replace(b'"issuer": "did:example:mallory", ', b""), "byte order mark"),
])
def test_cli_verify_refuses_a_non_strict_file_with_exit_2(tmp_path: Path, name: str, raw: bytes,
                                                          expected: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(raw)
    proc = cli(tmp_path, "verify", path)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert any(str(path) in ln and expected in ln for ln in lines), proc.stderr
    assert proc.stdout == ""
    stdin = cli(tmp_path, "verify", "-", stdin=raw)  # the same through stdin
    assert stdin.returncode == 2 and "<stdin>" in stdin.stderr and expected in stdin.stderr


def unsigned_vp(*tokens: str) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
            "verifiableCredential": [envelop_credential(t) for t in tokens]}


def cli_proof_check(tmp: Path, token: str) -> dict[str, Any]:
    path = tmp / "vp.json"
    path.write_text(json.dumps(unsigned_vp(token)))
    proc = cli(tmp, "verify", path, "--json")
    assert proc.returncode == 1, proc.stderr  # an unsigned presentation never verifies; the credential is judged
    report = json.loads(proc.stdout)
    return dict(next(c for c in report["checks"] if c["id"] == "credential[0].proof"))


@pytest.mark.parametrize("members,expected", [
    ('"exp": NaN', "NaN"), ('"exp": Infinity', "Infinity"), ('"exp": 1e400', "out of range"),
    ('"issuer": "did:example:mallory"', "duplicate member name 'issuer'"),
])
def test_cli_verify_refuses_an_enveloped_token_with_non_strict_json(tmp_path: Path, key: KeyPair, members: str,
                                                                    expected: str) -> None:
    control = signed(key, _json_bytes(vc_header(key)), issuer_payload(key, '"exp": 4102444800'))
    assert cli_proof_check(tmp_path, control)["status"] == "passed"
    check = cli_proof_check(tmp_path, signed(key, _json_bytes(vc_header(key)), issuer_payload(key, members)))
    assert check["status"] == "failed" and check["code"] == "malformed" and expected in check["reason"]


def test_cli_verify_refuses_an_enveloped_token_with_a_flipped_signature_bit(tmp_path: Path, key: KeyPair) -> None:
    token = secure_credential_jwt(credential(key_did(key.public_key)), key, kid=key_did_url(key.public_key))
    h, p, sig = token.split(".")
    check = cli_proof_check(tmp_path, f"{h}.{p}.{flip_unused_bit(sig)}")
    assert check["status"] == "failed" and check["code"] == "malformed" and "canonical" in check["reason"]


# -- HTTP bodies ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> IssuerSetup:
    return make_issuer(tmp_path_factory.mktemp("strict-service"))


@pytest.fixture(scope="module")
def server(setup: IssuerSetup) -> Iterator[Server]:
    srv = start_server(setup)
    yield srv
    srv.stop()


_BODY = json.dumps({"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                                             "type": ["VerifiableCredential"], "issuer": "did:example:roc",
                                             "credentialSubject": {"id": "did:example:alice"}}})

BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("utf16_le_bom", _BODY.encode("utf-16"), "not UTF-8"),
    ("utf16_le", _BODY.encode("utf-16-le"), "not UTF-8"),
    ("utf16_be_bom", b"\xfe\xff" + _BODY.encode("utf-16-be"), "not UTF-8"),
    ("utf16_be", _BODY.encode("utf-16-be"), "not UTF-8"),
    ("utf32_le_bom", _BODY.encode("utf-32"), "not UTF-8"),
    ("utf32_le", _BODY.encode("utf-32-le"), "not UTF-8"),
    ("utf32_be_bom", b"\x00\x00\xfe\xff" + _BODY.encode("utf-32-be"), "not UTF-8"),
    ("utf32_be", _BODY.encode("utf-32-be"), "not UTF-8"),
    ("utf8_bom", b"\xef\xbb\xbf" + _BODY.encode(), "byte order mark"),
    ("nan", _BODY.replace('"issuer"', '"x": NaN, "issuer"').encode(), "NaN"),
    ("infinity", _BODY.replace('"issuer"', '"x": [Infinity], "issuer"').encode(), "Infinity"),
    ("overflow", _BODY.replace('"issuer"', '"x": 1e400, "issuer"').encode(), "out of range"),
    ("dup_nested", _BODY.replace('"issuer"', '"issuer": "did:example:mallory", "issuer"').encode(),
     "duplicate member name 'issuer'"),
    ("dup_top", _BODY[:-1].encode() + b', "verifiableCredential": {}}', "duplicate member name 'verifiableCredential'"),
    ("lone_surrogate", _BODY.replace("alice", "alice\\ud800").encode(), "lone surrogate"),
]


@pytest.mark.loopback
@pytest.mark.parametrize("raw,expected", [(r, e) for _, r, e in BAD_BODIES], ids=[n for n, _, _ in BAD_BODIES])
def test_service_refuses_non_strict_json_bodies(server: Server, setup: IssuerSetup, raw: bytes, expected: str) -> None:
    client = server.client()
    for path, headers in (("/credentials/verify", {}), ("/presentations/verify", {}),
                          ("/credentials/issue", setup.auth), ("/credentials/status", setup.auth)):
        reply = client.request("POST", path, raw=raw, headers=headers)
        assert reply.status == 400, (path, reply.status, reply.raw[:300])
        assert reply.content_type == "application/problem+json"
        body = reply.json
        assert body["status"] == 400 and body["type"] == PARSING_ERROR
        assert expected in body["detail"], body
        if path.endswith("/verify"):
            assert body["verified"] is False and body["errors"][0]["type"] == PARSING_ERROR


@pytest.mark.loopback
def test_service_charset_parameter_does_not_make_utf16_acceptable(server: Server) -> None:
    for content_type in ("application/json; charset=utf-16", "application/json; charset=UTF-32",
                         "application/ld+json"):
        for raw in (_BODY.encode("utf-16"), _BODY.encode("utf-32-be")):
            reply = server.client().request("POST", "/credentials/verify", raw=raw,
                                            headers={"Content-Type": content_type})
            assert reply.status == 400 and reply.json["type"] == PARSING_ERROR, reply.raw[:300]
    # not declared as JSON at all: never parsed, so never accepted either
    reply = server.client().request("POST", "/credentials/verify", raw=_BODY.encode("utf-16"),
                                    headers={"Content-Type": "text/plain"})
    assert 400 <= reply.status < 500 and reply.json["verified"] is False


@pytest.mark.loopback
def test_service_still_reads_a_plain_utf8_body(server: Server) -> None:
    """The control: the same body in UTF-8 is parsed (and then judged: an unsigned credential fails)."""
    reply = server.client().request("POST", "/credentials/verify", raw=_BODY.encode())
    assert reply.status == 400 and reply.json["verified"] is False
    assert "credential.shape" in reply.json["checks"]  # parsed and judged, not refused as a body
    assert reply.json["errors"][0]["code"] == "proof_missing"


@pytest.mark.loopback
def test_service_refuses_an_enveloped_token_with_non_strict_json(server: Server, key: KeyPair) -> None:
    holder = KeyPair.generate("ed25519")

    def credential_errors(token: str) -> list[dict[str, Any]]:
        """The credential's proof errors, from a presentation signed by a holder (so the service
        unwraps and verifies the enveloped token, as it does for a candidate's presentation)."""
        vp = {**unsigned_vp(token), "holder": key_did(holder.public_key)}
        vp = add_proof(vp, holder, verification_method=key_did_url(holder.public_key),
                       proof_purpose="authentication", challenge="c-1", domain="employer.example")
        reply = server.client().post("/presentations/verify", {
            "verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "employer.example"}})
        assert reply.status in (200, 400), reply.raw[:300]
        assert not [e for e in reply.json["errors"] if e["check"].startswith("presentation.")], reply.json
        return [e for e in reply.json["errors"] if e["check"] == "credential[0].proof"]

    assert credential_errors(signed(key, _json_bytes(vc_header(key)), issuer_payload(key, '"exp": 4102444800'))) == []
    h, p, sig = secure_credential_jwt(credential(key_did(key.public_key)), key,
                                      kid=key_did_url(key.public_key)).split(".")
    for token in [signed(key, _json_bytes(vc_header(key)), issuer_payload(key, members))
                  for members in ('"exp": NaN', '"exp": Infinity', '"issuer": "did:example:mallory"')] + [
                      f"{h}.{p}.{flip_unused_bit(sig)}"]:
        errors = credential_errors(token)
        assert errors and errors[0]["code"] == "malformed", errors

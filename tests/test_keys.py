"""Key pairs: signing, encodings (Multikey, JWK) and key files.

Expected values come from outside skillcred: jwcrypto (an independent JOSE implementation)
signs and verifies against our keys, the official W3C test-vector key pairs
(tests/vectors, see PROVENANCE.md) and the w3c-ccg did:key test vectors give the
Multikey encodings, and a base58btc decoder written here (with the multicodec table's
varint prefixes) checks the Multikey bytes without going through ``multiformats``.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from conftest import vectors_dir
from skillcred.errors import (
    InvalidArgument,
    KeyFileError,
    SkillcredError,
    StoreError,
    UnsupportedFeature,
    WrongPassphrase,
)
from skillcred.keys import KEY_TYPES, KeyPair, PublicKey, generate, read_key_file, write_key_file
from support.independent import PRIV_PREFIX, PUB_PREFIX, b58decode, b58encode

# --------------------------------------------------------------------------------------------
# independent helpers (no skillcred, no multiformats)

# base58btc and the multicodec key table: support.independent
#: the human-visible prefixes the did:key / Multikey specs show for each key type
MULTIKEY_START = {"ed25519": "z6Mk", "p256": "zDn", "p384": "z82"}
JWS_ALG = {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384"}
SIG_LEN = {"ed25519": 64, "p256": 64, "p384": 96}
COORD_LEN = {"p256": 32, "p384": 48}


def multibase_b58_decode(value: str) -> bytes:
    assert value.startswith("z"), value
    return b58decode(value[1:])


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compressed_point_from_jwk(jwk: dict[str, Any]) -> bytes:
    x, y = b64u_decode(jwk["x"]), b64u_decode(jwk["y"])
    return bytes([2 + (int.from_bytes(y, "big") & 1)]) + x


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[index] ^= 1 << bit
    return bytes(b)


def jws_sign_with_jwcrypto(private_jwk: dict[str, str], alg: str, payload: bytes) -> tuple[bytes, bytes]:
    """Sign with jwcrypto; return (JWS signing input, raw signature bytes)."""
    key = jwcrypto_jwk.JWK(**private_jwk)
    token = jwcrypto_jws.JWS(payload)
    token.add_signature(key, alg=alg, protected=json.dumps({"alg": alg}))
    header, body, sig = token.serialize(compact=True).split(".")
    return f"{header}.{body}".encode("ascii"), b64u_decode(sig)


def jwcrypto_verifies(public_jwk: dict[str, str], signing_input: bytes, signature: bytes) -> bool:
    header, body = signing_input.decode("ascii").split(".")
    sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    token = jwcrypto_jws.JWS()
    try:
        token.deserialize(f"{header}.{body}.{sig}", key=jwcrypto_jwk.JWK(**public_jwk))
    except jwcrypto_jws.InvalidJWSSignature:
        return False
    return True


def secret_hex(key: KeyPair) -> str:
    """Hex of the private bytes, computed through cryptography's own PKCS#8 export."""
    raw = key._key  # the cryptography object; only used to derive the secret we look for
    if isinstance(raw, ed25519.Ed25519PrivateKey):
        return raw.private_bytes_raw().hex()
    assert isinstance(raw, ec.EllipticCurvePrivateKey)
    return raw.private_numbers().private_value.to_bytes(COORD_LEN[key.key_type], "big").hex()


@pytest.fixture(params=KEY_TYPES)
def key_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def keys_by_type() -> dict[str, KeyPair]:
    return {kt: generate(kt) for kt in KEY_TYPES}


# --------------------------------------------------------------------------------------------
# generate, sign, verify


def test_generate_gives_requested_type_and_fresh_keys(key_type: str) -> None:
    a, b = KeyPair.generate(key_type), KeyPair.generate(key_type)  # type: ignore[arg-type]
    assert a.key_type == b.key_type == key_type
    assert a.public_multikey != b.public_multikey
    assert a.secret_multikey != b.secret_multikey


def test_generate_unknown_type_is_refused() -> None:
    with pytest.raises(UnsupportedFeature):
        KeyPair.generate("rsa")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedFeature):
        KeyPair.generate("p521")  # type: ignore[arg-type]


def test_sign_verify_round_trip(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type[key_type]
    data = b"skills passport \x00\xff payload"
    sig = key.sign(data)
    assert len(sig) == SIG_LEN[key_type]
    assert key.public_key.verify(sig, data) is True
    # another key of the same type does not verify it
    assert KeyPair.generate(key_type).public_key.verify(sig, data) is False  # type: ignore[arg-type]


def test_flipped_bit_in_data_fails(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type[key_type]
    data = b"credentialSubject: Jan, welding level 3"
    sig = key.sign(data)
    for i in (0, len(data) // 2, len(data) - 1):
        for bit in (0, 7):
            assert key.public_key.verify(sig, flip_bit(data, i, bit)) is False
    assert key.public_key.verify(sig, data + b"\x00") is False
    assert key.public_key.verify(sig, b"") is False


def test_flipped_bit_in_signature_fails_without_raising(
    key_type: str, keys_by_type: dict[str, KeyPair]
) -> None:
    key = keys_by_type[key_type]
    data = b"some document"
    sig = key.sign(data)
    n = len(sig)
    for i in (0, 1, n // 2 - 1, n // 2, n - 1):
        for bit in (0, 3, 7):
            assert key.public_key.verify(flip_bit(sig, i, bit), data) is False


@pytest.mark.parametrize("mangle", ["empty", "short", "long", "zeros", "ones", "swap_halves"])
def test_malformed_signature_is_false_not_an_exception(
    key_type: str, keys_by_type: dict[str, KeyPair], mangle: str
) -> None:
    key = keys_by_type[key_type]
    data = b"doc"
    sig = key.sign(data)
    n = len(sig)
    bad = {
        "empty": b"",
        "short": sig[:-1],
        "long": sig + b"\x00",
        "zeros": b"\x00" * n,
        "ones": b"\xff" * n,  # r, s >= curve order for ECDSA
        "swap_halves": sig[n // 2 :] + sig[: n // 2],
    }[mangle]
    assert key.public_key.verify(bad, data) is False


@pytest.mark.parametrize("kt", ["p256", "p384"])
def test_ecdsa_der_signature_is_not_accepted(kt: str) -> None:
    """Data Integrity ECDSA signatures are IEEE P1363 r||s; a DER signature must not pass."""
    key = KeyPair.generate(kt)  # type: ignore[arg-type]
    data = b"doc"
    priv = key._key
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    from cryptography.hazmat.primitives import hashes

    der = priv.sign(data, ec.ECDSA(hashes.SHA256() if kt == "p256" else hashes.SHA384()))
    assert key.public_key.verify(der, data) is False


def test_ecdsa_uses_the_suite_hash() -> None:
    """P-256 signs SHA-256, P-384 signs SHA-384 (checked with cryptography directly)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    for kt, h in (("p256", hashes.SHA256()), ("p384", hashes.SHA384())):
        key = KeyPair.generate(kt)  # type: ignore[arg-type]
        data = b"hash me"
        sig = key.sign(data)
        n = COORD_LEN[kt]
        der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
        pub = key._key.public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        pub.verify(der, data, ec.ECDSA(h))  # raises if the wrong hash was used


# --------------------------------------------------------------------------------------------
# cross-implementation: jwcrypto


def test_jwcrypto_signs_we_verify(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type[key_type]
    alg = JWS_ALG[key_type]
    signing_input, sig = jws_sign_with_jwcrypto(key.private_jwk(), alg, b'{"vc":"skills"}')
    assert len(sig) == SIG_LEN[key_type]
    assert key.public_key.verify(sig, signing_input) is True
    assert key.public_key.verify(sig, signing_input + b"x") is False
    assert key.public_key.jws_algorithm == alg


def test_we_sign_jwcrypto_verifies(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type[key_type]
    alg = JWS_ALG[key_type]
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(b'{"vc":"skills"}').rstrip(b"=")
    signing_input = header + b"." + body
    sig = key.sign(signing_input)
    assert jwcrypto_verifies(key.public_key.jwk(), signing_input, sig) is True
    # the check is not vacuous: jwcrypto rejects a damaged signature
    assert jwcrypto_verifies(key.public_key.jwk(), signing_input, flip_bit(sig, 5)) is False


def test_public_jwk_matches_what_jwcrypto_derives_from_the_private_jwk(
    key_type: str, keys_by_type: dict[str, KeyPair]
) -> None:
    key = keys_by_type[key_type]
    theirs = jwcrypto_jwk.JWK(**key.private_jwk()).export_public(as_dict=True)
    ours = key.public_key.jwk()
    for member in ("kty", "crv", "x", "y"):
        assert ours.get(member) == theirs.get(member), member
    assert "d" not in ours
    # and it round-trips through our parser
    assert PublicKey.from_jwk(theirs).multikey == key.public_multikey


def test_private_jwk_loads_in_cryptography_as_the_same_key(
    key_type: str, keys_by_type: dict[str, KeyPair]
) -> None:
    key = keys_by_type[key_type]
    exported = jwcrypto_jwk.JWK(**key.private_jwk()).export_to_pem(private_key=True, password=None)
    loaded = serialization.load_pem_private_key(exported, password=None)
    assert KeyPair.from_cryptography(loaded).public_multikey == key.public_multikey  # type: ignore[arg-type]


VC_JOSE_KEYS = ["vm-ed25519.json", "vm-p256.json", "vm-p384.json"]


@pytest.mark.parametrize("name", VC_JOSE_KEYS)
def test_vc_jose_cose_test_suite_jwks(name: str) -> None:
    """The W3C vc-jose-cose test-suite keys: our JWK parser agrees, jwcrypto signs, we verify."""
    vm = json.loads((vectors_dir("vc-jose-cose") / name).read_text())
    pub = PublicKey.from_jwk(vm["publicKeyJwk"])
    assert pub.jwk()["x"] == vm["publicKeyJwk"]["x"]
    assert pub.jwk().get("y") == vm["publicKeyJwk"].get("y")
    secret = {k: v for k, v in vm["secretKeyJwk"].items() if k in ("kty", "crv", "x", "y", "d")}
    alg = vm["publicKeyJwk"]["alg"]
    signing_input, sig = jws_sign_with_jwcrypto(secret, alg, b"payload")
    assert pub.verify(sig, signing_input) is True
    assert pub.jws_algorithm == alg


def test_p521_jwk_is_a_jose_key() -> None:
    """P-521 is read from a JWK (ES512, the vc-jose-cose suite's key), never made or stored."""
    vm = json.loads((vectors_dir("vc-jose-cose") / "vm-p521.json").read_text())
    key = PublicKey.from_jwk(vm["publicKeyJwk"])
    assert key.key_type == "p521" and key.jws_algorithm == "ES512"
    assert key.jwk() == {k: vm["publicKeyJwk"][k] for k in ("kty", "crv", "x", "y")}
    with pytest.raises(UnsupportedFeature):
        PublicKey.from_jwk({**vm["publicKeyJwk"], "crv": "P-192"})


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "OKP", "crv": "Ed25519"},  # no x
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},  # 3 bytes
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},  # (0, 0) is not on the curve
        {"kty": "EC", "crv": "P-384"},
        {"kty": 5, "crv": None},
    ],
)
def test_from_jwk_rejects_bad_input(jwk: dict[str, Any]) -> None:
    with pytest.raises(SkillcredError) as err:
        PublicKey.from_jwk(jwk)
    assert isinstance(err.value, InvalidArgument | UnsupportedFeature)


def test_from_jwk_rejects_other_key_types() -> None:
    for jwk in ({"kty": "RSA", "crv": "x", "n": "AQAB", "e": "AQAB"}, {"kty": "OKP", "crv": "X25519", "x": "A" * 43}):
        with pytest.raises(UnsupportedFeature):
            PublicKey.from_jwk(jwk)


# --------------------------------------------------------------------------------------------
# Multikey: official key pairs and independent decoding

OFFICIAL_KEY_FILES = [
    ("eddsa-rdfc-2022", "keyPair.json", "ed25519"),
    ("eddsa-jcs-2022", "keyPair.json", "ed25519"),
    ("ecdsa-rdfc-2019-p256", "p256KeyPair.json", "p256"),
    ("ecdsa-jcs-2019-p256", "p256KeyPair.json", "p256"),
    ("ecdsa-rdfc-2019-p384", "p384KeyPair.json", "p384"),
    ("ecdsa-jcs-2019-p384", "p384KeyPair.json", "p384"),
    ("ob-v3p0-eddsa-rdfc-2022", "keyPair.json", "ed25519"),
]


def _secret_of(pair: dict[str, Any]) -> str:
    # vc-di-eddsa names it privateKeyMultibase, vc-di-ecdsa and the OB guide secretKeyMultibase
    return str(pair.get("secretKeyMultibase") or pair["privateKeyMultibase"])


@pytest.mark.parametrize(("folder", "name", "kt"), OFFICIAL_KEY_FILES)
def test_official_key_pairs(folder: str, name: str, kt: str) -> None:
    pair = json.loads((vectors_dir(folder) / name).read_text())
    key = KeyPair.from_multikey(_secret_of(pair))
    assert key.key_type == kt
    assert key.public_multikey == pair["publicKeyMultibase"]
    assert key.public_multikey.startswith(MULTIKEY_START[kt])
    assert PublicKey.from_multikey(pair["publicKeyMultibase"]).multikey == pair["publicKeyMultibase"]
    # signing with the decoded secret verifies under the published public key
    assert PublicKey.from_multikey(pair["publicKeyMultibase"]).verify(key.sign(b"m"), b"m")


@pytest.mark.parametrize(("folder", "name", "kt"), OFFICIAL_KEY_FILES[:6])
def test_secret_multikey_round_trips_official_encoding(folder: str, name: str, kt: str) -> None:
    """The W3C vectors use the 32/48-byte raw secret; our encoder must produce the same text."""
    pair = json.loads((vectors_dir(folder) / name).read_text())
    secret = _secret_of(pair)
    assert KeyPair.from_multikey(secret).secret_multikey == secret
    raw = multibase_b58_decode(secret)
    assert raw[:2] == PRIV_PREFIX[kt]


def test_open_badges_64_byte_secret_matches_its_hex() -> None:
    """OB 3.0 guide key: secretKeyMultibase is seed||public; privateKeyHex/publicKeyHex agree."""
    pair = json.loads((vectors_dir("ob-v3p0-eddsa-rdfc-2022") / "keyPair.json").read_text())
    key = KeyPair.from_multikey(pair["secretKeyMultibase"])
    seed = bytes.fromhex(pair["privateKeyHex"])[:32]
    reference = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert reference.public_key().public_bytes_raw().hex() == pair["publicKeyHex"]
    assert key.public_key.raw.hex() == pair["publicKeyHex"]
    # a 64-byte secret whose public half does not belong to the seed is refused
    bad_raw = PRIV_PREFIX["ed25519"] + seed + bytes(32)
    with pytest.raises(InvalidArgument) as err:
        KeyPair.from_multikey("z" + b58encode(bad_raw))
    assert seed.hex() not in str(err.value)


def test_multikey_bytes_decoded_independently(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    """publicKeyMultibase = 'z' + base58btc(varint(codec) || key), key from the JWK coordinates."""
    key = keys_by_type[key_type]
    mk = key.public_multikey
    assert mk.startswith(MULTIKEY_START[key_type])
    raw = multibase_b58_decode(mk)
    assert raw[:2] == PUB_PREFIX[key_type]
    jwk = jwcrypto_jwk.JWK(**key.private_jwk()).export_public(as_dict=True)
    if key_type == "ed25519":
        assert raw[2:] == b64u_decode(jwk["x"])
    else:
        assert raw[2:] == compressed_point_from_jwk(jwk)
    # secret multikey: prefix + the private scalar / seed that jwcrypto sees as d
    sraw = multibase_b58_decode(key.secret_multikey)
    assert sraw[:2] == PRIV_PREFIX[key_type]
    assert sraw[2:] == b64u_decode(key.private_jwk()["d"])


#: w3c-ccg/did-method-key test-vectors (commit e7839a8e1ce1e17ff18bc0c95600753604efb1fe),
#: ed25519-x25519.json (seed -> did:key) and nist-curves.json (JWK -> did:key).
CCG_ED25519 = [
    ("00" * 32, "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("00" * 31 + "01", "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
]
CCG_NIST = [
    ("P-256", "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
     "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"),
    ("P-256", "YjRs6vNvw4sYrzVVY8ipkEpDAD9PFqw1sUnvPRMA-WI",
     "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"),
    ("P-384", "hAyGZNj9031guBCdpAOaZkO-E5m-LKLYnMIq0-msrp8JLctseaOeNTHmP3uKVWwX",
     "z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9"),
    ("P-384", "Xe1HHeh-UsrJPRNLR_Y06VTrWpZYBXi7a7kiRqCgwnAOlJZPwE-xzL3DIIVMavAL",
     "z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54"),
]


@pytest.mark.parametrize(("seed_hex", "multikey"), CCG_ED25519)
def test_ccg_did_key_ed25519_seeds(seed_hex: str, multikey: str) -> None:
    key = KeyPair.from_cryptography(ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)))
    assert key.public_multikey == multikey


@pytest.mark.parametrize(("crv", "d", "multikey"), CCG_NIST)
def test_ccg_did_key_nist_curves(crv: str, d: str, multikey: str) -> None:
    curve = ec.SECP256R1() if crv == "P-256" else ec.SECP384R1()
    priv = ec.derive_private_key(int.from_bytes(b64u_decode(d), "big"), curve)
    assert KeyPair.from_cryptography(priv).public_multikey == multikey
    assert PublicKey.from_multikey(multikey).multikey == multikey


def test_from_multikey_accepts_only_public_codecs(keys_by_type: dict[str, KeyPair]) -> None:
    for key in keys_by_type.values():
        with pytest.raises(UnsupportedFeature) as err:
            PublicKey.from_multikey(key.secret_multikey)  # a secret given where a public key goes
        assert key.secret_multikey not in str(err.value)
        with pytest.raises(SkillcredError):
            KeyPair.from_multikey(key.public_multikey)  # and the reverse


@pytest.mark.parametrize(
    "value",
    [
        "",
        "z",
        "hello",
        "z0OIl",  # not base58 characters
        "uAAAA",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",  # truncated by one character
        "zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKV",  # truncated P-256
        "z82LkuBieyGShVBhvtE2zoiD6Kma4tJGFtkAhxR5pfkp5QPw4LutoYWhvQCnGjdVn14kuj",  # truncated P-384
    ],
)
def test_from_multikey_rejects_garbage(value: str) -> None:
    with pytest.raises(SkillcredError) as err:
        PublicKey.from_multikey(value)
    assert isinstance(err.value, InvalidArgument | UnsupportedFeature)
    assert "\n" not in str(err.value)


def test_multikey_must_be_base58btc_and_compressed(keys_by_type: dict[str, KeyPair]) -> None:
    """Multikey (Controlled Identifiers 1.0; vc-di-ecdsa/eddsa): publicKeyMultibase is base58btc
    ('z') of the multicodec prefix and the raw Ed25519 key / the *compressed* SEC1 point; other
    encodings of the same key must not be accepted (one key, one Multikey)."""
    for kt, key in keys_by_type.items():
        raw = PUB_PREFIX[kt] + key.public_key.raw
        assert "z" + b58encode(raw) == key.public_multikey  # sanity: the canonical form
        base16 = "f" + raw.hex()
        base64url = "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        for other in (base16, base64url):
            with pytest.raises(InvalidArgument):
                PublicKey.from_multikey(other)
        if kt != "ed25519":
            jwk = key.public_key.jwk()
            uncompressed = PUB_PREFIX[kt] + b"\x04" + b64u_decode(jwk["x"]) + b64u_decode(jwk["y"])
            with pytest.raises(InvalidArgument):
                PublicKey.from_multikey("z" + b58encode(uncompressed))
        secret_raw = multibase_b58_decode(key.secret_multikey)
        with pytest.raises(InvalidArgument):
            KeyPair.from_multikey("f" + secret_raw.hex())


def test_from_multikey_rejects_point_not_on_curve_and_wrong_lengths() -> None:
    # P-256 (SEC 2 / FIPS 186-4 curve constants): find an x with no point on the curve.
    p = 2**256 - 2**224 + 2**192 + 2**96 - 1
    b = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    x = next(x for x in range(1, 100) if pow((x**3 - 3 * x + b) % p, (p - 1) // 2, p) != 1)
    not_on_curve = b"\x02" + x.to_bytes(32, "big")
    x_too_big = b"\x02" + b"\xff" * 32  # x >= p
    bad_prefix = b"\x05" + (5).to_bytes(32, "big")  # 0x05 is no SEC1 point form
    for point in (not_on_curve, x_too_big, bad_prefix):
        with pytest.raises(InvalidArgument):
            PublicKey.from_multikey("z" + b58encode(PUB_PREFIX["p256"] + point))
    for kt, n in (("ed25519", 31), ("ed25519", 33), ("p256", 32), ("p384", 33)):
        with pytest.raises(InvalidArgument):
            PublicKey.from_multikey("z" + b58encode(PUB_PREFIX[kt] + b"\x02" * n))
    # a supported encoding of an unsupported key (secp256k1-pub 0xe7, x25519-pub 0xec)
    for prefix in (bytes([0xE7, 0x01]) + b"\x02" + bytes(32), bytes([0xEC, 0x01]) + bytes(32)):
        with pytest.raises(UnsupportedFeature):
            PublicKey.from_multikey("z" + b58encode(prefix))


def test_public_keys_compare_by_key() -> None:
    k = generate("p256")
    assert PublicKey.from_multikey(k.public_multikey) == k.public_key
    assert generate("p256").public_key != k.public_key
    assert len({k.public_key, PublicKey.from_multikey(k.public_multikey), generate("p256").public_key}) == 2
    assert KeyPair.from_multikey(k.secret_multikey) == k
    assert generate("p256") != k


# --------------------------------------------------------------------------------------------
# key files

PASS = b"correct horse battery staple 42"
WRONG = b"Tr0ub4dor&3-not-the-passphrase"


@pytest.fixture
def zero_umask() -> Any:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_key_file_is_pkcs8_pem_mode_0600(
    tmp_path: Path, key_type: str, keys_by_type: dict[str, KeyPair], zero_umask: None
) -> None:
    key = keys_by_type[key_type]
    path = tmp_path / "issuer.pem"
    write_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(data, password=None)  # cryptography, directly
    assert KeyPair.from_cryptography(loaded).public_multikey == key.public_multikey  # type: ignore[arg-type]
    assert read_key_file(path).public_multikey == key.public_multikey


def test_encrypted_key_file(
    tmp_path: Path, key_type: str, keys_by_type: dict[str, KeyPair], zero_umask: None
) -> None:
    key = keys_by_type[key_type]
    path = tmp_path / "enc.pem"
    write_key_file(path, key, PASS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    assert secret_hex(key).encode() not in data
    # really encrypted: cryptography needs the passphrase, and it works with it
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    loaded = serialization.load_pem_private_key(data, password=PASS)
    assert KeyPair.from_cryptography(loaded).public_multikey == key.public_multikey  # type: ignore[arg-type]
    reread = read_key_file(path, PASS)
    assert reread.public_multikey == key.public_multikey
    assert key.public_key.verify(reread.sign(b"x"), b"x")  # the secret half came back too


def test_wrong_passphrase(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    path = tmp_path / "enc.pem"
    write_key_file(path, keys_by_type["ed25519"], PASS)
    with pytest.raises(WrongPassphrase) as err:
        read_key_file(path, WRONG)
    msg = str(err.value)
    assert str(path) in msg
    assert WRONG.decode() not in msg and PASS.decode() not in msg
    assert "\n" not in msg
    assert isinstance(err.value, KeyFileError)


def test_missing_passphrase_for_encrypted_file(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    path = tmp_path / "enc.pem"
    write_key_file(path, keys_by_type["p384"], PASS)
    for none in (None, b""):
        with pytest.raises(WrongPassphrase) as err:
            read_key_file(path, none)
        assert str(path) in str(err.value)


def _one_line_naming(err: BaseException, path: Path) -> None:
    msg = str(err)
    assert str(path) in msg
    assert "\n" not in msg
    assert "Traceback" not in msg


@pytest.mark.parametrize("encrypted", [False, True])
def test_truncated_key_file(tmp_path: Path, key_type: str, keys_by_type: dict[str, KeyPair], encrypted: bool) -> None:
    src = tmp_path / "full.pem"
    write_key_file(src, keys_by_type[key_type], PASS if encrypted else None)
    data = src.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 40):
        path = tmp_path / f"cut{cut}.pem"
        path.write_bytes(data[:cut])
        with pytest.raises(KeyFileError) as err:
            read_key_file(path, PASS if encrypted else None)
        _one_line_naming(err.value, path)


@pytest.mark.parametrize(
    "content",
    [b"", b"\n", os.urandom(300), b"-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----\n",
     b'{"kty": "OKP"}'],
    ids=["empty", "newline", "random", "bad-body", "json"],
)
def test_foreign_key_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as err:
        read_key_file(path)
    _one_line_naming(err.value, path)


def _pem(key: Any, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["rsa", "rsa-traditional", "secp256k1", "p521", "ed448"])
def test_unsupported_key_types_in_key_files(tmp_path: Path, kind: str) -> None:
    if kind.startswith("rsa"):
        k: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        data = _pem(k, serialization.PrivateFormat.TraditionalOpenSSL if kind == "rsa-traditional"
                    else serialization.PrivateFormat.PKCS8)
    elif kind == "secp256k1":
        data = _pem(ec.generate_private_key(ec.SECP256K1()))
    elif kind == "p521":
        data = _pem(ec.generate_private_key(ec.SECP521R1()))
    else:
        data = _pem(ed448.Ed448PrivateKey.generate())
    path = tmp_path / f"{kind}.pem"
    path.write_bytes(data)
    with pytest.raises(KeyFileError) as err:
        read_key_file(path)
    _one_line_naming(err.value, path)


def test_missing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pem"
    with pytest.raises(KeyFileError) as err:
        read_key_file(path)
    _one_line_naming(err.value, path)


def test_directory_as_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as err:
        read_key_file(tmp_path)
    _one_line_naming(err.value, tmp_path)


def test_refuses_to_overwrite(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    path = tmp_path / "k.pem"
    write_key_file(path, keys_by_type["ed25519"])
    before = path.read_bytes()
    with pytest.raises(KeyFileError) as err:
        write_key_file(path, keys_by_type["p256"])
    assert str(path) in str(err.value)
    assert path.read_bytes() == before
    # explicit overwrite works and keeps mode 0600
    path.chmod(0o644)
    write_key_file(path, keys_by_type["p256"], overwrite=True)
    assert read_key_file(path).public_multikey == keys_by_type["p256"].public_multikey
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_into_missing_directory(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    path = tmp_path / "no" / "such" / "dir" / "k.pem"
    with pytest.raises(StoreError) as err:
        write_key_file(path, keys_by_type["ed25519"])
    assert str(path) in str(err.value)
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_write_into_read_only_directory(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError):
            write_key_file(folder / "k.pem", keys_by_type["ed25519"])
        assert _leftovers(folder) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("existing", [False, True])
def test_failure_mid_write_leaves_no_partial_file(
    tmp_path: Path, keys_by_type: dict[str, KeyPair], monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    """Disk full while writing: no half-written key, no temp file, an old key stays intact."""
    import errno

    import skillcred._internal.fileio as fileio

    path = tmp_path / "k.pem"
    old = b""
    if existing:
        write_key_file(path, keys_by_type["p384"])
        old = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", disk_full)
    with pytest.raises((OSError, SkillcredError)):
        write_key_file(path, keys_by_type["ed25519"], overwrite=True)
    monkeypatch.undo()
    if existing:
        assert _leftovers(tmp_path) == ["k.pem"]
        assert path.read_bytes() == old
    else:
        assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------
# secrets stay secret


def test_repr_and_str_never_show_the_secret(key_type: str, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type[key_type]
    secret_mk = key.secret_multikey
    hexed = secret_hex(key)
    d = key.private_jwk()["d"]
    for text in (repr(key), str(key), f"{key}", repr([key]), repr(key.public_key), str(key.public_key)):
        assert secret_mk not in text
        assert secret_mk[4:20] not in text
        assert hexed not in text and hexed.upper() not in text
        assert d not in text
    assert "d" not in key.public_key.jwk()


def test_errors_never_show_the_secret(tmp_path: Path, keys_by_type: dict[str, KeyPair]) -> None:
    key = keys_by_type["ed25519"]
    secret_mk = key.secret_multikey
    hexed = secret_hex(key)
    errors: list[SkillcredError] = []
    # a secret key typed where a public key is expected, with a typo (invalid base58 '0')
    for bad in (secret_mk, secret_mk + "0", secret_mk[:10] + "0" + secret_mk[11:], "x" + secret_mk[1:]):
        with pytest.raises(SkillcredError) as err:
            PublicKey.from_multikey(bad)
        errors.append(err.value)
    for bad in (secret_mk + "0", secret_mk[:-5], "x" + secret_mk[1:]):
        with pytest.raises(SkillcredError) as err:
            KeyPair.from_multikey(bad)
        errors.append(err.value)
    # key file errors
    path = tmp_path / "k.pem"
    write_key_file(path, key, PASS)
    with pytest.raises(SkillcredError) as err:
        read_key_file(path, WRONG)
    errors.append(err.value)
    for e in errors:
        text = f"{e} {e!r} {e.to_dict()}"
        # no run of 8+ characters of the secret's key part (past the 4-char codec prefix)
        body = secret_mk[4:]
        assert not any(body[i : i + 8] in text for i in range(len(body) - 7)), text
        assert hexed not in text
        assert PASS.decode() not in text and WRONG.decode() not in text

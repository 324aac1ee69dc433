"""OpenID4VP ``direct_post.jwt`` (issue 19): responses encrypted to the verifier (OpenID4VP 1.0
§8.3; JWE, RFC 7516, with ECDH-ES direct key agreement, RFC 7518 §4.6).

Verifier side: ``request new --response-mode direct_post.jwt`` gives every request object a fresh
P-256 key (``client_metadata.jwks``, ``use: enc``, ``alg: ECDH-ES``, a ``kid``) and the offered
``enc`` values; the response endpoint takes ``response=<JWE>`` only for such requests. Attack
classes, each with variants, each with its named reason: a JWE to another key (another kid; our
kid but another key; another transaction's key), an altered JWE (ciphertext, tag, iv, header),
an enc not offered, a key agreement not offered (``dir``, RSA, key wrapping), compression, the
wrong response mode (plain to an encrypted request, encrypted to a plain one), a replay.
Wallet side: only an ECDH-ES P-256 encryption key is used (symmetric, RSA, other curves, signing
keys, private keys, points off the curve: refused by name) with an ``enc`` it makes.

The JWE layout is checked against an ECDH-ES + Concat KDF + AES-GCM computed here from RFC 7518
with ``cryptography`` alone, so a mistake shared by our encrypt and decrypt would not pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk

from oid4vp_support import World, http_get, http_post, make_world, new_request, run, verifier_server
from skillcred._internal import base64url
from skillcred._internal.fileio import load_json_object
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, Oid4vpRefused, Oid4vpRequestInvalid
from skillcred.keys import KeyPair
from skillcred.match import load_profile
from skillcred.oid4vp import (
    ResponseEncryption,
    build_vp_token,
    client_id_for,
    decrypt_response,
    encrypt_response,
    encryption_metadata,
    new_encryption_key,
    new_request_payload,
    parse_request_uri,
    plan_response,
    query_from_profile,
    response_encryption,
    sign_request_object,
    verify_request_object,
)
from skillcred.oid4vp._store import DB_FILE, VerifierStore
from skillcred.wallet import Wallet

LOOPBACK = "--unsafe-allow-http-loopback"
MAG = "http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498"
BLUEPRINTS = "http://data.europa.eu/esco/skill/68b6ef08-d823-489d-a95c-752ae6f6e6a7"
JWT_MODE = ("--response-mode", "direct_post.jwt")


def _b64(data: bytes) -> str:
    return base64url.encode(data)


def _reason(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.reason)


# -- the JWE itself, against RFC 7518 computed independently -----------------------------------


def _concat_kdf(z: bytes, enc: str, bits: int, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """RFC 7518 §4.6.2: one SHA-256 round is enough for 128 and 256 bits."""
    other = (struct.pack(">I", len(enc)) + enc.encode() + struct.pack(">I", len(apu)) + apu
             + struct.pack(">I", len(apv)) + apv + struct.pack(">I", bits))
    return hashlib.sha256(struct.pack(">I", 1) + z + other).digest()[:bits // 8]


def _private_key(jwk: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(base64url.decode(jwk["x"]), "big"),
                                        int.from_bytes(base64url.decode(jwk["y"]), "big"), ec.SECP256R1())
    return ec.EllipticCurvePrivateNumbers(int.from_bytes(base64url.decode(jwk["d"]), "big"), pub).private_key()


def _public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(int.from_bytes(base64url.decode(jwk["x"]), "big"),
                                         int.from_bytes(base64url.decode(jwk["y"]), "big"),
                                         ec.SECP256R1()).public_key()


def _rfc_decrypt(token: str, private_jwk: dict[str, Any]) -> dict[str, Any]:
    h, ek, iv, ct, tag = token.split(".")
    assert ek == ""
    header = json.loads(base64url.decode(h))
    epk = _public_key(header["epk"])
    z = _private_key(private_jwk).exchange(ec.ECDH(), epk)
    bits = {"A128GCM": 128, "A256GCM": 256}[header["enc"]]
    cek = _concat_kdf(z, header["enc"], bits, base64url.decode(header.get("apu", "")),
                      base64url.decode(header.get("apv", "")))
    plain = AESGCM(cek).decrypt(base64url.decode(iv), base64url.decode(ct) + base64url.decode(tag), h.encode())
    return dict(json.loads(plain))


def _rfc_encrypt(params: dict[str, Any], public_jwk: dict[str, Any], *, enc: str = "A128GCM",
                 header_extra: dict[str, Any] | None = None, apv: bytes = b"") -> str:
    """A JWE made the way another wallet would, from the RFC, not by skillcred."""
    eph = ec.generate_private_key(ec.SECP256R1())
    nums = eph.public_key().public_numbers()
    epk = {"kty": "EC", "crv": "P-256", "x": _b64(nums.x.to_bytes(32, "big")), "y": _b64(nums.y.to_bytes(32, "big"))}
    header = {"alg": "ECDH-ES", "enc": enc, "kid": public_jwk["kid"], "epk": epk, **(header_extra or {})}
    if apv:
        header["apv"] = _b64(apv)
    h = _b64(json.dumps(header).encode())
    z = eph.exchange(ec.ECDH(), _public_key(public_jwk))
    cek = _concat_kdf(z, enc, {"A128GCM": 128, "A256GCM": 256}[enc], b"", apv)
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, json.dumps(params).encode(), h.encode())
    return f"{h}..{_b64(iv)}.{_b64(sealed[:-16])}.{_b64(sealed[-16:])}"


@pytest.fixture(scope="module")
def keypair() -> tuple[dict[str, Any], dict[str, Any]]:
    return new_encryption_key()


def test_a_fresh_key_is_a_p256_encryption_key_named_by_its_thumbprint() -> None:
    public, private = new_encryption_key()
    other, _ = new_encryption_key()
    assert {k: public[k] for k in ("kty", "crv", "use", "alg")} == {"kty": "EC", "crv": "P-256", "use": "enc",
                                                                     "alg": "ECDH-ES"}
    assert "d" not in public and "d" in private and public["kid"] == private["kid"] != other["kid"]
    # RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no spaces
    members = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    assert public["kid"] == _b64(hashlib.sha256(members.encode()).digest())
    meta = encryption_metadata(public, ("A256GCM", "A128GCM"))
    assert meta == {"jwks": {"keys": [public]}, "encrypted_response_enc_values_supported": ["A256GCM", "A128GCM"]}
    for bad in ((), ("A192GCM",), ("A128CBC-HS256",)):
        with pytest.raises(ValueError):
            encryption_metadata(public, bad)


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_what_the_wallet_encrypts_decrypts_by_the_rfc_and_back(keypair: tuple[dict[str, Any], dict[str, Any]],
                                                              enc: str) -> None:
    public, private = keypair
    params = {"vp_token": {"q": ["eyJ.x.y~"]}, "state": "st-1"}
    token = encrypt_response(params, ResponseEncryption(public, enc))
    h, ek, *_ = token.split(".")
    header = json.loads(base64url.decode(h))
    assert header["alg"] == "ECDH-ES" and header["enc"] == enc and header["kid"] == public["kid"]
    assert header["epk"]["crv"] == "P-256" and "d" not in header["epk"] and "zip" not in header
    assert ek == ""  # ECDH-ES direct: no encrypted key
    assert _rfc_decrypt(token, private) == params
    # and a JWE made from the RFC (another wallet, with an apv as @openid4vc/openid4vp sends) is read
    theirs = _rfc_encrypt(params, public, enc=enc, apv=b"the-nonce")
    assert decrypt_response(theirs, private, enc_values=[enc]) == params


def _flip(token: str, part: int) -> str:
    parts = token.split(".")
    raw = bytearray(base64url.decode(parts[part]))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = _b64(bytes(raw))
    return ".".join(parts)


def _with_header(token: str, **change: Any) -> str:
    parts = token.split(".")
    header = {**json.loads(base64url.decode(parts[0])), **change}
    parts[0] = _b64(json.dumps({k: v for k, v in header.items() if v is not None}).encode())
    return ".".join(parts)


def _jwcrypto_jwe(params: dict[str, Any], key: jwcrypto_jwk.JWK, header: dict[str, Any]) -> str:
    box = jwcrypto_jwe.JWE(json.dumps(params).encode(), protected=json.dumps(header),
                           algs=[header["alg"], header["enc"]])
    box.add_recipient(key)
    return str(box.serialize(compact=True))


@pytest.mark.parametrize("attack", [
    "other_key_same_kid", "other_kid", "no_kid", "ciphertext", "tag", "iv", "header_member_added", "epk_swapped",
    "epk_off_curve",
    "enc_not_offered", "enc_a192", "alg_dir", "alg_rsa", "alg_key_wrap", "zip", "encrypted_key_present",
    "four_parts", "garbage_header", "too_large", "not_json_inside",
])
def test_an_encrypted_response_the_verifier_must_not_read(keypair: tuple[dict[str, Any], dict[str, Any]],
                                                          attack: str) -> None:
    public, private = keypair
    params = {"vp_token": {"q": ["x"]}, "state": "s"}
    good = encrypt_response(params, ResponseEncryption(public, "A128GCM"))
    reason = "response_not_decryptable"
    other_public, _ = new_encryption_key()
    if attack == "other_key_same_kid":  # made for another key, claiming ours
        token = _rfc_encrypt(params, {**other_public, "kid": public["kid"]})
    elif attack == "other_kid":
        token, reason = encrypt_response(params, ResponseEncryption(other_public, "A128GCM")), "response_key_mismatch"
    elif attack == "no_kid":
        token, reason = _with_header(good, kid=None), "response_key_mismatch"
    elif attack == "ciphertext":
        token = _flip(good, 3)
    elif attack == "tag":
        token = _flip(good, 4)
    elif attack == "iv":
        token = _flip(good, 2)
    elif attack == "header_member_added":  # the protected header is the AAD
        token = _with_header(good, typ="JWT")
    elif attack == "epk_swapped":
        token = _with_header(good, epk={k: other_public[k] for k in ("kty", "crv", "x", "y")})
    elif attack == "epk_off_curve":  # an invalid-curve point would leak bits of our key
        epk = json.loads(base64url.decode(good.split(".")[0]))["epk"]
        token = _with_header(good, epk=_off_curve(epk))
    elif attack == "enc_not_offered":  # well made, but with an enc the request did not offer
        token, reason = encrypt_response(params, ResponseEncryption(public, "A256GCM")), "response_enc_not_offered"
    elif attack == "enc_a192":
        token, reason = _with_header(good, enc="A192GCM"), "response_enc_not_offered"
    elif attack == "alg_dir":  # a symmetric key: anyone who guesses or is given it can forge
        oct_key = jwcrypto_jwk.JWK.generate(kty="oct", size=128)
        token = _jwcrypto_jwe(params, oct_key, {"alg": "dir", "enc": "A128GCM", "kid": public["kid"]})
        reason = "response_alg_not_allowed"
    elif attack == "alg_rsa":
        rsa = jwcrypto_jwk.JWK.generate(kty="RSA", size=2048)
        token = _jwcrypto_jwe(params, rsa, {"alg": "RSA-OAEP-256", "enc": "A128GCM", "kid": public["kid"]})
        reason = "response_alg_not_allowed"
    elif attack == "alg_key_wrap":
        ec_key = jwcrypto_jwk.JWK(**{k: public[k] for k in ("kty", "crv", "x", "y")})
        token = _jwcrypto_jwe(params, ec_key, {"alg": "ECDH-ES+A128KW", "enc": "A128GCM", "kid": public["kid"]})
        reason = "response_alg_not_allowed"
    elif attack == "zip":
        token = _with_header(good, zip="DEF")
    elif attack == "encrypted_key_present":
        parts = good.split(".")
        token = ".".join([parts[0], _b64(b"k" * 16), *parts[2:]])
    elif attack == "four_parts":
        token = ".".join(good.split(".")[:4])
    elif attack == "garbage_header":
        token = "!!!." + ".".join(good.split(".")[1:])
    elif attack == "too_large":
        token, reason = good + "A" * (1024 * 1024), "response_too_large"
    else:  # a JWE of a JSON array: the response parameters are an object
        box = jwcrypto_jwe.JWE(b"[1]", protected=json.dumps({"alg": "ECDH-ES", "enc": "A128GCM",
                                                               "kid": public["kid"]}), algs=["ECDH-ES", "A128GCM"])
        box.add_recipient(jwcrypto_jwk.JWK(**{k: public[k] for k in ("kty", "crv", "x", "y")}))
        token, reason = str(box.serialize(compact=True)), "response_malformed"
    with pytest.raises(Oid4vpRefused) as exc:
        decrypt_response(token, private, enc_values=["A128GCM"])
    assert _reason(exc) == reason
    assert decrypt_response(good, private, enc_values=["A128GCM"]) == params  # the good one still reads


# -- the wallet's choice of key and enc ---------------------------------------------------------


def _enc_request(keys: list[Any] | None, offered: list[str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if keys is not None:
        meta["jwks"] = {"keys": keys}
    if offered is not None:
        meta["encrypted_response_enc_values_supported"] = offered
    return {"response_mode": "direct_post.jwt", "client_metadata": meta}


def _off_curve(public: dict[str, Any]) -> dict[str, Any]:
    y = int.from_bytes(base64url.decode(public["y"]), "big") ^ 1
    return {**public, "y": _b64(y.to_bytes(32, "big"))}


@pytest.mark.parametrize(("keys", "offered", "reason"), [
    (None, None, "encryption_key_unsupported"),
    ([], None, "encryption_key_unsupported"),
    ([{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0", "kid": "s", "use": "enc", "alg": "dir"}], None,
     "encryption_key_unsupported"),
    ("rsa", None, "encryption_key_unsupported"),
    ("p384", None, "encryption_key_unsupported"),
    ("use_sig", None, "encryption_key_unsupported"),
    ("alg_rsa_oaep", None, "encryption_key_unsupported"),
    ("private", None, "encryption_key_unsupported"),
    ("off_curve", None, "encryption_key_unsupported"),
    ("no_kid", None, "encryption_key_unsupported"),
    ("good", ["A192GCM", "A128CBC-HS256"], "encryption_enc_unsupported"),
])
def test_the_wallet_refuses_a_request_it_cannot_encrypt_to(keypair: tuple[dict[str, Any], dict[str, Any]],
                                                           keys: Any, offered: list[str] | None, reason: str) -> None:
    public, private = keypair
    if isinstance(keys, str):
        rsa = json.loads(jwcrypto_jwk.JWK.generate(kty="RSA", size=2048).export_public())
        p384 = json.loads(jwcrypto_jwk.JWK.generate(kty="EC", crv="P-384").export_public())
        keys = [{"rsa": {**rsa, "kid": "r", "use": "enc", "alg": "RSA-OAEP-256"},
                 "p384": {**p384, "kid": "p", "use": "enc", "alg": "ECDH-ES"},
                 "use_sig": {**public, "use": "sig"}, "alg_rsa_oaep": {**public, "alg": "RSA-OAEP"},
                 "private": private, "off_curve": _off_curve(public),
                 "no_kid": {k: v for k, v in public.items() if k != "kid"}, "good": public}[keys]]
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        response_encryption(_enc_request(keys, offered))
    assert _reason(exc) == reason


def test_the_wallet_picks_the_usable_key_and_the_first_enc_it_makes(
        keypair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    public, _ = keypair
    rsa = {**json.loads(jwcrypto_jwk.JWK.generate(kty="RSA", size=2048).export_public()), "kid": "r"}
    chosen = response_encryption(_enc_request([rsa, {**public, "use": "sig"}, public], ["A192GCM", "A256GCM",
                                                                                         "A128GCM"]))
    assert chosen is not None and chosen.kid == public["kid"] and chosen.enc == "A256GCM"
    # no enc offered: A128GCM, the spec's default; use/alg left out of the key: taken as fit
    bare = {k: public[k] for k in ("kty", "crv", "x", "y", "kid")}
    default = response_encryption(_enc_request([bare]))
    assert default is not None and default.enc == "A128GCM" and default.to_dict() == {
        "alg": "ECDH-ES", "enc": "A128GCM", "kid": public["kid"]}
    assert response_encryption({"response_mode": "direct_post", "client_metadata": {"jwks": {"keys": [public]}}}) \
        is None


def _signed_request(world: World, key: KeyPair, **meta: Any) -> str:
    path = world.dir / "weld.json"
    query = query_from_profile(load_profile(path), raw_requirements=load_json_object(path)["requirements"])
    payload = new_request_payload(client_id=client_id_for(key_did(key.public_key)),
                                  response_uri="https://werk.example/oid4vp/response", dcql_query=query,
                                  response_mode="direct_post.jwt",
                                  encryption_metadata=meta or encryption_metadata(new_encryption_key()[0]))
    return sign_request_object(payload, key, kid=key_did_url(key.public_key))


def test_a_signed_encrypting_request_is_checked_before_the_worker_is_asked(world: World) -> None:
    key = KeyPair.generate()
    request = verify_request_object(_signed_request(world, key))
    assert request["response_mode"] == "direct_post.jwt"
    assert response_encryption(request) is not None
    rsa = {**json.loads(jwcrypto_jwk.JWK.generate(kty="RSA", size=2048).export_public()), "kid": "r"}
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        verify_request_object(_signed_request(world, key, jwks={"keys": [rsa]}))
    assert _reason(exc) == "encryption_key_unsupported"
    with pytest.raises(InvalidArgument):  # encryption metadata belongs with direct_post.jwt only, and back
        new_request_payload(client_id=client_id_for(key_did(key.public_key)), response_uri="https://w.example/r",
                            dcql_query={"credentials": [{"id": "a", "format": "jwt_vc_json"}]},
                            response_mode="direct_post.jwt")


# -- the verifier's endpoint, over loopback HTTP ------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = make_world(tmp_path_factory.mktemp("oid4vp-enc"))
    (w.dir / "weld.json").write_text(json.dumps({
        "type": "SkillcredJobProfile", "id": "https://werk.example/v/2", "title": "Lasser",
        "requirements": [{"skill": MAG, "label": "lassen", "essential": True, "weight": 1},
                         {"skill": BLUEPRINTS, "label": "tekenen", "essential": False, "weight": 1}]}))
    return w


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("verifier") / "v"
    VerifierStore.init(folder, name="Metaalbedrijf De Vries")
    with verifier_server(world, folder, max_body_bytes=256 * 1024) as url:
        yield folder, url


def _get(url: str) -> bytes:
    status, data, _ = http_get(url)
    assert status == 200
    return data


def _post(url: str, fields: dict[str, str]) -> tuple[int, Any]:
    return http_post(url, urllib.parse.urlencode(fields).encode())


def _fetch(uri: str) -> dict[str, Any]:
    client_id, request_uri = parse_request_uri(uri)
    return verify_request_object(_get(request_uri), expected_client_id=client_id)


def _token(world: World, request: dict[str, Any]) -> dict[str, list[Any]]:
    w = Wallet.open(world.wallet)
    return build_vp_token(w, plan_response(w, request), key=w.holder_key(b"pw"))


def _sealed(world: World, request: dict[str, Any], **change: Any) -> str:
    enc = response_encryption(request)
    assert enc is not None
    return encrypt_response({"vp_token": _token(world, request), "state": request["state"], **change}, enc)


def _encrypted_uri(world: World, folder: Path, url: str, *extra: str) -> str:
    return new_request(world, folder, url, "--no-qr", *JWT_MODE, *extra, profile=world.dir / "weld.json")


def _key_rows(folder: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(folder / DB_FILE) as db:
        return [(str(r[0]), str(r[1]), r[2]) for r in db.execute("SELECT kid, state, private_jwk FROM "
                                                                   "transaction_keys")]


def _results(world: World, folder: Path) -> list[dict[str, Any]]:
    proc = run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir, ok=False)
    return list(json.loads(proc.stdout)["responses"])


@pytest.mark.loopback
def test_an_encrypted_request_carries_a_fresh_key_per_request_object(world: World,
                                                                    served: tuple[Path, str]) -> None:
    folder, url = served
    uri = _encrypted_uri(world, folder, url, "--enc", "A256GCM", "--enc", "A128GCM")
    first, second = _fetch(uri), _fetch(uri)
    for request in (first, second):
        assert request["response_mode"] == "direct_post.jwt"
        meta = request["client_metadata"]
        (key,) = meta["jwks"]["keys"]
        assert {key[k] for k in ("kty", "crv", "use", "alg")} == {"EC", "P-256", "enc", "ECDH-ES"}
        assert "d" not in key and key["kid"]
        assert meta["encrypted_response_enc_values_supported"] == ["A256GCM", "A128GCM"]
    kids = {r["client_metadata"]["jwks"]["keys"][0]["kid"] for r in (first, second)}
    assert len(kids) == 2  # one key per transaction
    stored = {kid: (state, jwk) for kid, state, jwk in _key_rows(folder)}
    for request in (first, second):
        kid = request["client_metadata"]["jwks"]["keys"][0]["kid"]
        assert stored[kid][0] == request["state"] and stored[kid][1] is not None
    # a plain request (the default) offers no key
    plain = _fetch(new_request(world, folder, url, "--no-qr", profile=world.dir / "weld.json"))
    assert plain["response_mode"] == "direct_post" and "jwks" not in plain["client_metadata"]


@pytest.mark.loopback
def test_the_worker_answers_encrypted_and_the_key_is_gone_afterwards(world: World,
                                                                     served: tuple[Path, str]) -> None:
    folder, url = served
    uri = _encrypted_uri(world, folder, url)
    dry = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--dry-run", cwd=world.dir)
    shown = json.loads(dry.stdout)
    assert shown["response_mode"] == "direct_post.jwt" and shown["encrypted"]["alg"] == "ECDH-ES"
    assert shown["encrypted"]["enc"] == "A128GCM" and "would be sent encrypted" in dry.stderr
    assert f"Answer to: {url}/oid4vp/response (encrypted: only the verifier can read it)" in dry.stderr
    before = len(_results(world, folder))
    ended_before = {row[0] for row in _key_rows(folder) if row[2] is None}
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir)
    assert "accepted" in proc.stderr
    results = _results(world, folder)
    assert len(results) == before + 1  # the dry run sent nothing
    assert results[-1]["verified"] and results[-1]["holder"] == world.holder
    assert results[-1]["essential_coverage"] == 1.0
    rows = _key_rows(folder)
    # the dry run's transaction is still open, its key kept ...
    assert [row[2] is not None for row in rows if row[1] == shown["state"]] == [True]
    # ... the answered one's private key is deleted; its kid stays, to name a replay
    assert len({row[0] for row in rows if row[2] is None} - ended_before) == 1


@pytest.mark.loopback
def test_attacks_on_the_encrypted_endpoint_are_refused_by_name(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = _encrypted_uri(world, folder, url)
    request = _fetch(uri)
    response_uri, state = request["response_uri"], request["state"]
    public = request["client_metadata"]["jwks"]["keys"][0]
    token = _token(world, request)
    params = {"vp_token": token, "state": state}
    other_public, _ = new_encryption_key()
    refusals = {
        # a plain post to an encrypted request: refused, and it does not use up the transaction
        "response_encryption_required": {"vp_token": json.dumps(token), "state": state},
        "response_key_mismatch": {"response": encrypt_response(params, ResponseEncryption(other_public, "A128GCM"))},
        "response_not_decryptable": {"response": _rfc_encrypt(params, {**other_public, "kid": public["kid"]})},
        "response_enc_not_offered": {"response": encrypt_response(params, ResponseEncryption(public, "A256GCM"))},
        "response_alg_not_allowed": {"response": _jwcrypto_jwe(params, jwcrypto_jwk.JWK.generate(kty="oct", size=128),
                                                               {"alg": "dir", "enc": "A128GCM",
                                                                "kid": public["kid"]})},
        "response_malformed": {"response": _sealed(world, request), "vp_token": json.dumps(token)},
    }
    for reason, fields in refusals.items():
        status, reply = _post(response_uri, fields)
        assert (status, reply["reason"]) == (400, reason), (reason, reply)
    status, reply = _post(response_uri, {"response": _flip(_sealed(world, request), 4)})  # the tag
    assert (status, reply["reason"]) == (400, "response_not_decryptable")
    # another transaction's state sealed with this one's key: the key binds the state
    other = _fetch(uri)
    status, reply = _post(response_uri, {"response": _sealed(world, request, state=other["state"])})
    assert (status, reply["reason"]) == (400, "response_key_mismatch")
    # none of that used the transaction up: the genuine answer (made from the RFC, as another
    # wallet would) is accepted, and the same JWE again is a replay
    genuine = _rfc_encrypt(params, public)
    status, reply = _post(response_uri, {"response": genuine})
    assert status == 200 and reply["verified"] is True
    for _ in range(2):
        status, reply = _post(response_uri, {"response": genuine})
        assert (status, reply["reason"]) == (400, "state_used")
    # a JWE for a plain request: refused by its state (no key was ever given for it)
    plain = _fetch(new_request(world, folder, url, "--no-qr", profile=world.dir / "weld.json"))
    status, reply = _post(plain["response_uri"], {"response": _rfc_encrypt({"vp_token": {}, "state": plain["state"]},
                                                                           public), "state": plain["state"]})
    assert (status, reply["reason"]) == (400, "response_mode_mismatch")
    status, reply = _post(plain["response_uri"], {"response": encrypt_response(
        {"vp_token": {}, "state": plain["state"]}, ResponseEncryption(other_public, "A128GCM"))})
    assert (status, reply["reason"]) == (400, "response_key_mismatch")
    status, reply = _post(plain["response_uri"], {"vp_token": json.dumps(_token(world, plain)),
                                                  "state": plain["state"]})
    assert status == 200  # the plain request still answers plainly


@pytest.mark.loopback
def test_the_inner_response_gets_the_same_checks_as_a_plain_one(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    request = _fetch(_encrypted_uri(world, folder, url))
    stale = _token(world, {**request, "nonce": "old"})
    enc = response_encryption(request)
    assert enc is not None
    status, reply = _post(request["response_uri"], {"response": encrypt_response(
        {"vp_token": stale, "state": request["state"]}, enc)})
    assert (status, reply["reason"]) == (400, "nonce_mismatch")
    assert _results(world, folder)[-1]["reason"] == "nonce_mismatch"
    empty = _fetch(_encrypted_uri(world, folder, url))
    enc = response_encryption(empty)
    assert enc is not None
    status, reply = _post(empty["response_uri"], {"response": encrypt_response({"state": empty["state"]}, enc)})
    assert (status, reply["reason"]) == (400, "vp_token_malformed")


def test_enc_without_the_encrypted_mode_is_a_usage_error(world: World, tmp_path: Path) -> None:
    proc = run("request", "new", "--profile", str(world.dir / "weld.json"), "--verifier-url", "https://werk.example",
               "--verifier", str(tmp_path / "v"), "--enc", "A256GCM", "--no-qr", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "--enc applies to --response-mode direct_post.jwt" in proc.stderr
    assert not (tmp_path / "v").exists()  # nothing half-made
    proc = run("request", "new", "--profile", str(world.dir / "weld.json"), "--verifier-url", "https://werk.example",
               "--verifier", str(tmp_path / "v"), "--response-mode", "direct_post.jwt", "--enc", "A192GCM",
               cwd=world.dir, ok=False)
    assert proc.returncode == 2 and not (tmp_path / "v").exists()


def test_a_transactions_key_is_deleted_when_it_is_answered_or_has_expired(tmp_path: Path) -> None:
    import time

    store = VerifierStore.init(tmp_path / "v")
    query = {"credentials": [{"id": "a", "format": "jwt_vc_json"}]}
    plain = store.add_request(title="p", purpose=None, verifier_url="https://w.example", profile={}, dcql_query=query)
    req = store.add_request(title="t", purpose=None, verifier_url="https://w.example", profile={}, dcql_query=query,
                            response_mode="direct_post.jwt", enc_values=("A256GCM", "A128GCM"))
    assert (store.request(plain.id).response_mode, store.request(plain.id).enc_values) == ("direct_post", ())
    assert (store.request(req.id).response_mode, store.request(req.id).enc_values) == ("direct_post.jwt",
                                                                                       ("A256GCM", "A128GCM"))
    now = int(time.time())
    (_, live), (_, old), (_, later) = new_encryption_key(), new_encryption_key(), new_encryption_key()
    store.open_transaction(req.id, {"state": "live", "exp": now + 600}, encryption_key=live)
    store.open_transaction(req.id, {"state": "old", "exp": now - 5}, encryption_key=old)
    assert store.encryption_key(old["kid"]) == ("old", old)
    store.open_transaction(req.id, {"state": "later", "exp": now + 600}, encryption_key=later)
    assert store.encryption_key(old["kid"]) == ("old", None)  # expired: swept by the next request object
    assert store.consume("live")[0] == req.id
    assert store.encryption_key(live["kid"]) == ("live", None)  # answered: gone at once
    assert store.encryption_key(later["kid"]) == ("later", later)
    assert store.encryption_key("never-given") is None
    with pytest.raises(Oid4vpRefused) as exc:
        store.consume("live")
    assert _reason(exc) == "state_used"


@pytest.mark.loopback
def test_a_wallets_encrypted_error_response_is_kept_as_its_refusal(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    request = _fetch(_encrypted_uri(world, folder, url))
    enc = response_encryption(request)
    assert enc is not None
    sealed = encrypt_response({"error": "access_denied", "state": request["state"]}, enc)
    status, reply = _post(request["response_uri"], {"response": sealed})
    assert status == 200 and reply == {}
    kept = _results(world, folder)[-1]
    assert kept["verified"] is False and kept["reason"] == "wallet_access_denied"
    status, reply = _post(request["response_uri"], {"response": sealed})  # and it, too, is single-use
    assert (status, reply["reason"]) == (400, "state_used")

"""skillcred.jose: vc+jwt / vp+jwt issuing and the verifier's refusals (each with a named reason)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from skillcred.did import DidResolver, key_did, key_did_url, web_did_document
from skillcred.errors import InvalidArgument, TokenInvalid, UnsupportedFeature
from skillcred.jose import (
    envelop_credential,
    key_pair_from_jwk,
    secure_credential_jwt,
    secure_presentation_jwt,
    unwrap_enveloped_credential,
    verify_enveloped_credential,
    verify_jwt,
)
from skillcred.keys import KeyPair

WEB_DID = "did:web:roc.example"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(obj: Any) -> str:
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def unb64u(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "SkillCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "skill": "Welding level 3"},
        **extra,
    }


@pytest.fixture(scope="module")
def ed_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def web_keys() -> tuple[KeyPair, KeyPair]:
    return KeyPair.generate("p256"), KeyPair.generate("p384")


@pytest.fixture(scope="module")
def resolver(web_keys: tuple[KeyPair, KeyPair]) -> DidResolver:
    doc = web_did_document(WEB_DID, [k.public_key for k in web_keys])
    return DidResolver([doc])


def vm_of(did: str, key: KeyPair) -> str:
    return f"{did}#{key.public_multikey}"


class SpyResolver(DidResolver):
    """Fails the test if any key is resolved."""

    def resolve(self, did: str) -> dict[str, Any]:
        raise AssertionError(f"a key was resolved ({did}) for a token that must be refused first")


# -- round trips ---------------------------------------------------------------------------------


def test_did_key_ed25519_round_trip(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    cred = credential(did)
    token = secure_credential_jwt(cred, ed_key, kid=key_did_url(ed_key.public_key))
    header = unb64u(token.split(".")[0])
    assert header == {"alg": "EdDSA", "kid": key_did_url(ed_key.public_key), "typ": "vc+jwt", "cty": "vc"}
    assert unb64u(token.split(".")[1]) == cred  # the payload IS the credential
    result = verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt")
    assert result.payload == cred
    assert result.controller == did
    assert result.kid == key_did_url(ed_key.public_key)


@pytest.mark.parametrize("index,alg", [(0, "ES256"), (1, "ES384")])
def test_did_web_ecdsa_round_trip(index: int, alg: str, web_keys: tuple[KeyPair, KeyPair],
                                  resolver: DidResolver) -> None:
    key = web_keys[index]
    token = secure_credential_jwt(credential({"id": WEB_DID, "name": "ROC"}), key, kid=vm_of(WEB_DID, key))
    assert unb64u(token.split(".")[0])["alg"] == alg
    result = verify_jwt(token, resolver=resolver, expected_typ="vc+jwt")
    assert result.controller == WEB_DID
    assert result.verification_method == vm_of(WEB_DID, key)


def test_presentation_with_enveloped_credential(ed_key: KeyPair, web_keys: tuple[KeyPair, KeyPair],
                                                resolver: DidResolver) -> None:
    issuer_key = web_keys[0]
    vc_token = secure_credential_jwt(credential(WEB_DID), issuer_key, kid=vm_of(WEB_DID, issuer_key))
    env = envelop_credential(vc_token)
    assert env["id"] == f"data:application/vc+jwt,{vc_token}"
    assert env["type"] == "EnvelopedVerifiableCredential"
    assert unwrap_enveloped_credential(env) == ("application/vc+jwt", vc_token)
    assert verify_enveloped_credential(env, resolver=resolver).controller == WEB_DID

    holder = key_did(ed_key.public_key)
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": [env],
    }
    vp_token = secure_presentation_jwt(vp, ed_key, kid=key_did_url(ed_key.public_key))
    assert unb64u(vp_token.split(".")[0])["typ"] == "vp+jwt"
    result = verify_jwt(vp_token, resolver=resolver, expected_typ="vp+jwt")
    assert result.controller == holder
    assert [c.controller for c in result.credentials] == [WEB_DID]

    # a presentation holding an unsecured credential is refused (VC-JOSE-COSE: MUST be enveloped)
    bad = dict(vp, verifiableCredential=[credential(WEB_DID)])
    bad_token = secure_presentation_jwt(bad, ed_key, kid=key_did_url(ed_key.public_key))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(bad_token, resolver=resolver, expected_typ="vp+jwt")
    assert err.value.reason == "credential_invalid"


# -- algorithm allow-list: refused before any key is used ----------------------------------------


def _token(header: dict[str, Any], payload: dict[str, Any], sig: bytes = b"") -> str:
    return f"{b64u_json(header)}.{b64u_json(payload)}.{b64u(sig)}"


def test_alg_none_is_refused(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    token = _token({"alg": "none", "typ": "vc+jwt", "kid": key_did_url(ed_key.public_key)}, credential(did))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "alg_not_allowed"
    assert err.value.code == "token_invalid"


@pytest.mark.parametrize("secret_kind", ["raw", "jwk_json", "multikey"])
def test_hs256_with_the_public_key_as_hmac_secret_is_refused(ed_key: KeyPair, secret_kind: str) -> None:
    """Algorithm confusion: an attacker HMACs with the (public) verification key as secret."""
    pk = ed_key.public_key
    secret = {
        "raw": pk.raw,
        "jwk_json": json.dumps(pk.jwk()).encode(),
        "multikey": pk.multikey.encode(),
    }[secret_kind]
    header = {"alg": "HS256", "typ": "vc+jwt", "cty": "vc", "kid": key_did_url(pk)}
    signing_input = f"{b64u_json(header)}.{b64u_json(credential(key_did(pk)))}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64u(sig)}"
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "alg_not_allowed"
    assert "HMAC" in str(err.value)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES521", "HS512", "ES256K", "NONE", "eddsa"])
def test_other_algorithms_are_refused(alg: str, ed_key: KeyPair) -> None:
    token = _token({"alg": alg, "typ": "vc+jwt", "kid": key_did_url(ed_key.public_key)},
                   credential(key_did(ed_key.public_key)), b"x" * 64)
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "alg_not_allowed"


def test_es256_header_with_an_ed25519_kid_is_refused(ed_key: KeyPair) -> None:
    """The header alg must be the one the resolved key's type implies."""
    did = key_did(ed_key.public_key)
    header = {"alg": "ES256", "typ": "vc+jwt", "cty": "vc", "kid": key_did_url(ed_key.public_key)}
    signing_input = f"{b64u_json(header)}.{b64u_json(credential(did))}"
    token = f"{signing_input}.{b64u(ed_key.sign(signing_input.encode()))}"  # a valid Ed25519 sig
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "alg_key_mismatch"


@pytest.mark.parametrize("member", ["jwk", "jku", "x5c", "crit"])
def test_header_keys_and_crit_are_refused(member: str, ed_key: KeyPair) -> None:
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key_did_url(ed_key.public_key),
              member: ed_key.public_key.jwk() if member == "jwk" else ["x"]}
    token = _token(header, credential(key_did(ed_key.public_key)), b"x" * 64)
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason in ("embedded_key_not_allowed", "crit_not_understood")


# -- integrity and binding -----------------------------------------------------------------------


def test_tampered_payload_is_refused(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    token = secure_credential_jwt(credential(did), ed_key, kid=key_did_url(ed_key.public_key))
    h, _, s = token.split(".")
    forged = credential(did)
    forged["credentialSubject"]["skill"] = "Welding level 5"
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(f"{h}.{b64u_json(forged)}.{s}", resolver=DidResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "signature_invalid"


def test_kid_of_a_key_the_issuer_does_not_control(ed_key: KeyPair, web_keys: tuple[KeyPair, KeyPair],
                                                  resolver: DidResolver) -> None:
    """A valid signature by someone's own did:key on a credential naming the institute."""
    token = secure_credential_jwt(credential(WEB_DID), ed_key, kid=key_did_url(ed_key.public_key))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=resolver, expected_typ="vc+jwt")
    assert err.value.reason == "issuer_key_mismatch"


def test_iss_must_match_issuer(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    token = secure_credential_jwt(credential(did, iss="did:example:mallory"), ed_key,
                                  kid=key_did_url(ed_key.public_key))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "iss_mismatch"


def test_media_types_are_checked(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    token = secure_credential_jwt(credential(did), ed_key, kid=key_did_url(ed_key.public_key))
    with pytest.raises(TokenInvalid) as err:  # a credential offered as a presentation
        verify_jwt(token, resolver=DidResolver(), expected_typ="vp+jwt")
    assert err.value.reason == "media_type_invalid"
    # "application/vc+jwt" is the same media type as "vc+jwt" (RFC 7515 §4.1.9)
    header = {"alg": "EdDSA", "typ": "application/vc+jwt", "cty": "vp", "kid": key_did_url(ed_key.public_key)}
    signing_input = f"{b64u_json(header)}.{b64u_json(credential(did))}"
    bad_cty = f"{signing_input}.{b64u(ed_key.sign(signing_input.encode()))}"
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(bad_cty, resolver=DidResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "media_type_invalid"


def test_vc_and_vp_claims(ed_key: KeyPair) -> None:
    did = key_did(ed_key.public_key)
    with pytest.raises(InvalidArgument):
        secure_credential_jwt(credential(did, vc={}), ed_key, kid=key_did_url(ed_key.public_key))
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key_did_url(ed_key.public_key)}
    signing_input = f"{b64u_json(header)}.{b64u_json(credential(did, vp='x'))}"
    token = f"{signing_input}.{b64u(ed_key.sign(signing_input.encode()))}"
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=DidResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "vc_vp_claim_present"


def test_purpose_and_validity(web_keys: tuple[KeyPair, KeyPair]) -> None:
    key = web_keys[0]
    doc = web_did_document(WEB_DID, [key.public_key])
    doc["authentication"] = []  # the key may issue, not authenticate
    r = DidResolver([doc])
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
          "holder": WEB_DID, "verifiableCredential": []}
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(secure_presentation_jwt(vp, key, kid=vm_of(WEB_DID, key)), resolver=r, expected_typ="vp+jwt")
    assert err.value.reason == "key_not_authorized"

    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = secure_credential_jwt(credential(WEB_DID, validUntil="2025-01-01T00:00:00Z"), key,
                                  kid=vm_of(WEB_DID, key))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=r, expected_typ="vc+jwt", at=now)
    assert err.value.reason == "expired"
    exp = secure_credential_jwt(credential(WEB_DID, exp=int((now - timedelta(hours=1)).timestamp())), key,
                                kid=vm_of(WEB_DID, key))
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(exp, resolver=r, expected_typ="vc+jwt", at=now)
    assert err.value.reason == "expired"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.AA=", "bnVsbA.e30.AA"])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason in ("malformed", "alg_missing")


def test_duplicate_header_members_are_refused() -> None:
    raw_header = b'{"alg":"EdDSA","alg":"none","typ":"vc+jwt"}'
    token = f"{b64u(raw_header)}.e30.AA"
    with pytest.raises(TokenInvalid) as err:
        verify_jwt(token, resolver=SpyResolver(), expected_typ="vc+jwt")
    assert err.value.reason == "malformed"


def test_key_pair_from_jwk() -> None:
    key = KeyPair.generate("p384")
    again = key_pair_from_jwk(key.private_jwk())
    assert again.public_key == key.public_key
    with pytest.raises(InvalidArgument):
        key_pair_from_jwk(key.public_key.jwk())
    p521 = {"kty": "EC", "crv": "P-521",
            "x": "Ac8mt4TvYd3TOrYtTk_YTQ5QQMpl58OnrU7uRxQEUoOO_6QnRBM0Xan8KQI_0dPKzcKBak0ZSEXcc5SNFUBHYfbP",
            "y": "ADP_cowssurHA7uMHy4IODl247oQjCxZWFX7Gtr3cFmfVIwEyKGegrJh9ooZy5FsvFVbYwAmLKVfGZs7O15RBsO-",
            "d": "ABLav_lS-i3hVtEiYGNHwl7xdAu93Qc0O1httqelzCTs8uEmiSjkoKX6tCKwz--beZSL5a8qtdoC4mazTMtvsS4h"}
    # ES512 (the vc-jose-cose suite's P-521 key) is a JOSE key since P-521 support landed
    assert key_pair_from_jwk(p521).key_type == "p521"
    with pytest.raises(UnsupportedFeature):
        key_pair_from_jwk({**p521, "crv": "secp256k1"})


def test_cose_round_trip_and_envelope(web_keys: tuple[KeyPair, KeyPair], resolver: DidResolver,
                                      ed_key: KeyPair) -> None:
    from skillcred.jose import envelop_cose_credential, secure_credential_cose, verify_cose

    key = web_keys[1]
    cose = secure_credential_cose(credential(WEB_DID), key, kid=vm_of(WEB_DID, key))
    assert cose[:1] == b"\xd2"  # tagged COSE_Sign1
    assert verify_cose(cose, resolver=resolver, expected_typ="vc+cose").controller == WEB_DID
    env = envelop_cose_credential(cose)
    assert env["id"].startswith("data:application/vc+cose;base64,")
    assert verify_enveloped_credential(env, resolver=resolver).controller == WEB_DID
    with pytest.raises(TokenInvalid) as err:
        verify_cose(cose[:-3], resolver=resolver, expected_typ="vc+cose")
    assert err.value.reason == "malformed"
    with pytest.raises(TokenInvalid) as err:
        verify_cose(cose, resolver=resolver, expected_typ="vp+cose")
    assert err.value.reason == "media_type_invalid"
    tampered = cose.replace(b"Welding level 3", b"Welding level 5")
    with pytest.raises(TokenInvalid) as err:
        verify_cose(tampered, resolver=resolver, expected_typ="vc+cose")
    assert err.value.reason == "signature_invalid"
    with pytest.raises(TokenInvalid) as err:  # COSE inside a data: URL must be base64
        unwrap_enveloped_credential(dict(env, id="data:application/vc+cose,abc"))
    assert err.value.reason == "enveloped_credential_malformed"
    with pytest.raises(TokenInvalid) as err:
        unwrap_enveloped_credential({"type": "VerifiableCredential", "id": "data:application/vc+jwt,x"})
    assert err.value.reason == "credential_not_enveloped"


@pytest.mark.parametrize("alg_id", [5, -37, -47, -257, 0, None])
def test_cose_algorithms_outside_the_allow_list(alg_id: Any, ed_key: KeyPair) -> None:
    """HMAC 256/256 (5), PS256, ES256K, RS256, no alg: refused before any key is resolved."""
    from skillcred._internal import cbor
    from skillcred.jose import verify_cose

    header: dict[Any, Any] = {3: "application/vc", 4: key_did_url(ed_key.public_key).encode(),
                              16: "application/vc+cose"}
    if alg_id is not None:
        header[1] = alg_id
    payload = json.dumps(credential(key_did(ed_key.public_key))).encode()
    cose = b"\xd2" + cbor.encode([cbor.encode(header, cose=True), {}, payload, b"x" * 64], cose=True)
    with pytest.raises(TokenInvalid) as err:
        verify_cose(cose, resolver=SpyResolver(), expected_typ="vc+cose")
    assert err.value.reason == "alg_not_allowed"

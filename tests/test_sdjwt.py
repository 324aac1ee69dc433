"""skillcred.sdjwt: issuing, presenting (with key binding) and verifying SD-JWTs.

The vc-jose-cose-test-suite SD-JWT fixtures (expected.json cases 17-26) run in
tests/test_jose_vectors.py; ``test_fixture_selective_credential`` below checks the
reconstructed claims of one of them in detail.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import vectors_dir
from skillcred.did import DidResolver, web_did_document
from skillcred.errors import InvalidArgument, TokenInvalid
from skillcred.keys import KeyPair
from skillcred.sdjwt import issue_sd_jwt, present_sd_jwt, verify_sd_jwt

ISSUER = "did:web:roc.example"
NONCE = "n-0S6_WzA2Mj"
AUD = "https://employer.example/verifier"
BIRTH = "1990-04-17"
SCORE = "87.5/100"
NAME = "Alice Jansen"


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def payload_of(jwt: str) -> dict[str, Any]:
    return json.loads(b64u_decode(jwt.split(".")[1]))


@pytest.fixture(scope="module")
def issuer_key() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture(scope="module")
def holder_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def resolver(issuer_key: KeyPair) -> DidResolver:
    return DidResolver([web_did_document(ISSUER, [issuer_key.public_key])])


def kid_of(key: KeyPair) -> str:
    return f"{ISSUER}#{key.public_multikey}"


def skills_credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "SkillCredential"],
        "issuer": ISSUER,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:alice",
            "name": NAME,
            "birthDate": BIRTH,
            "achievement": {"name": "Welding MIG/MAG", "eqf": 4},
            "level": "advanced",
            "score": SCORE,
            "address": {"street": "Kerkstraat 1", "city": "Utrecht"},
            "phoneNumbers": ["+31 6 1111 1111", "+31 6 2222 2222"],
        },
    }


DISCLOSABLE = [
    "/credentialSubject/name",
    "/credentialSubject/birthDate",
    "/credentialSubject/achievement",
    "/credentialSubject/level",
    "/credentialSubject/score",
    "/credentialSubject/address",
    "/credentialSubject/address/street",
    "/credentialSubject/address/city",
    "/credentialSubject/phoneNumbers/0",
]


@pytest.fixture(scope="module")
def sd_jwt(issuer_key: KeyPair, holder_key: KeyPair) -> str:
    return issue_sd_jwt(skills_credential(), issuer_key, kid=kid_of(issuer_key),
                        disclosable=DISCLOSABLE, holder_jwk=holder_key.public_key.jwk())


def present(sd_jwt: str, key: KeyPair, disclose: list[str], **kw: Any) -> str:
    args: dict[str, Any] = {"holder_key": key, "nonce": NONCE, "aud": AUD}
    args.update(kw)
    return present_sd_jwt(sd_jwt, disclose=disclose, **args)


def verify(token: str, resolver: DidResolver, **kw: Any) -> Any:
    args: dict[str, Any] = {"resolver": resolver, "expected_nonce": NONCE, "expected_aud": AUD}
    args.update(kw)
    return verify_sd_jwt(token, **args)


# -- the round trip and what the verifier learns --------------------------------------------------


def test_round_trip_discloses_only_achievement_and_level(sd_jwt: str, holder_key: KeyPair,
                                                         resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/achievement", "/credentialSubject/level"])
    result = verify(token, resolver)
    subject = result.claims["credentialSubject"]
    assert subject == {
        "id": "did:example:alice",
        "achievement": {"name": "Welding MIG/MAG", "eqf": 4},
        "level": "advanced",
        "phoneNumbers": ["+31 6 2222 2222"],  # element 1 was never disclosable; element 0 is hidden
    }
    assert result.disclosed_pointers == ("/credentialSubject/achievement", "/credentialSubject/level")
    assert result.issuer == ISSUER
    assert result.key_bound and result.holder_jwk == holder_key.public_key.jwk()
    assert "_sd_alg" not in result.claims and "_sd" not in json.dumps(result.claims)

    # No trace of the undisclosed values: not in the raw bytes, not in any decoded part.
    parts = token.split("~")
    decoded = [b64u_decode(seg) for part in parts for seg in part.split(".") if seg]
    for secret in (BIRTH, SCORE, NAME, "Kerkstraat", "Utrecht", "1111 1111"):
        assert secret not in token
        for blob in decoded:
            assert secret.encode() not in blob, secret
    assert len(parts) == 1 + 2 + 1  # jwt, two disclosures, KB-JWT


def test_nested_pointer_releases_its_ancestors_only(sd_jwt: str, holder_key: KeyPair,
                                                    resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/address/street",
                                         "/credentialSubject/phoneNumbers/0"])
    result = verify(token, resolver)
    subject = result.claims["credentialSubject"]
    assert subject["address"] == {"street": "Kerkstraat 1"}  # city stays hidden
    assert subject["phoneNumbers"] == ["+31 6 1111 1111", "+31 6 2222 2222"]
    assert "Utrecht" not in token
    assert set(result.disclosed_pointers) == {
        "/credentialSubject/address", "/credentialSubject/address/street",
        "/credentialSubject/phoneNumbers/0",
    }


def test_disclosing_a_whole_object_releases_its_nested_disclosures(sd_jwt: str, holder_key: KeyPair,
                                                                   resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/address"])
    assert verify(token, resolver).claims["credentialSubject"]["address"] == {
        "street": "Kerkstraat 1", "city": "Utrecht"}


def test_everything_hidden_and_unknown_pointer(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    result = verify(present(sd_jwt, holder_key, []), resolver)
    assert set(result.claims["credentialSubject"]) == {"id", "phoneNumbers"}
    with pytest.raises(InvalidArgument):
        present(sd_jwt, holder_key, ["/credentialSubject/nope"])


def test_decoys_hide_the_number_of_claims(issuer_key: KeyPair) -> None:
    disclosable = ["/credentialSubject/name", "/credentialSubject/birthDate"]
    counts = set()
    for _ in range(12):
        token = issue_sd_jwt(skills_credential(), issuer_key, kid=kid_of(issuer_key), disclosable=disclosable)
        sd = payload_of(token.split("~")[0])["credentialSubject"]["_sd"]
        assert len(sd) > len(disclosable)
        assert sd == sorted(sd)
        counts.add(len(sd) - len(disclosable))
        assert len(token.split("~")) == 2 + len(disclosable)  # jwt, disclosures, trailing ""
    assert counts <= {2, 3, 4, 5}
    token = issue_sd_jwt(skills_credential(), issuer_key, kid=kid_of(issuer_key),
                         disclosable=disclosable, decoys=0)
    assert len(payload_of(token.split("~")[0])["credentialSubject"]["_sd"]) == 2


def test_issuer_jwt_shape(sd_jwt: str) -> None:
    jwt, *disclosures = sd_jwt.split("~")
    header = json.loads(b64u_decode(jwt.split(".")[0]))
    assert header == {"alg": "ES256", "kid": header["kid"], "typ": "vc+sd-jwt", "cty": "vc"}
    payload = payload_of(jwt)
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"]["jwk"]["crv"] == "Ed25519"
    assert sd_jwt.endswith("~") and disclosures[-1] == ""
    for d in disclosures[:-1]:
        arr = json.loads(b64u_decode(d))
        assert len(b64u_decode(arr[0])) == 16  # 128-bit salt


def test_sd_jwt_vc_typ(issuer_key: KeyPair, resolver: DidResolver) -> None:
    token = issue_sd_jwt({"iss": ISSUER, "given_name": "Alice"}, issuer_key, kid=kid_of(issuer_key),
                         disclosable=["/given_name"], typ="dc+sd-jwt",
                         vct="https://credentials.example/skill")
    assert json.loads(b64u_decode(token.split(".")[0]))["typ"] == "dc+sd-jwt"
    result = verify_sd_jwt(token, resolver=resolver, expected_nonce=None, expected_aud=None,
                           require_key_binding=False)
    assert result.claims == {"iss": ISSUER, "given_name": "Alice", "vct": "https://credentials.example/skill"}
    with pytest.raises(InvalidArgument):
        issue_sd_jwt({"iss": ISSUER}, issuer_key, kid="k", disclosable=[], typ="dc+sd-jwt")


@pytest.mark.parametrize("pointer", ["/issuer/../x", "/@context", "/credentialSubject/nope", "",
                                     "credentialSubject"])
def test_bad_disclosable_pointers(pointer: str, issuer_key: KeyPair) -> None:
    with pytest.raises(InvalidArgument):
        issue_sd_jwt(skills_credential(), issuer_key, kid="k", disclosable=[pointer])


# -- the verifier's refusals ----------------------------------------------------------------------


def _reason(token: str, resolver: DidResolver, **kw: Any) -> str:
    with pytest.raises(TokenInvalid) as err:
        verify(token, resolver, **kw)
    return err.value.reason


def test_tampered_disclosure(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    jwt, *disclosures, _ = sd_jwt.split("~")
    parsed = [json.loads(b64u_decode(d)) for d in disclosures]
    level = next(i for i, d in enumerate(parsed) if d[1] == "level")
    forged = list(disclosures)
    forged[level] = b64u(json.dumps([parsed[level][0], "level", "expert"]).encode())
    token = jwt + "~" + "".join(d + "~" for d in forged)
    kb = present(token.replace(forged[level] + "~", ""), holder_key, [])  # any valid-looking KB
    assert _reason(token + kb.split("~")[-1], resolver) == "disclosure_unreferenced"
    assert _reason(token, resolver, require_key_binding=False) == "disclosure_unreferenced"


def test_wrong_nonce_and_aud(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/level"])
    assert _reason(token, resolver, expected_nonce="another") == "nonce_mismatch"
    assert _reason(token, resolver, expected_aud="https://evil.example") == "aud_mismatch"
    assert verify(token, resolver).claims["credentialSubject"]["level"] == "advanced"


def test_disclosure_presented_twice(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/level"], holder_key=None)
    jwt, disclosure, _ = token.split("~")
    doubled = f"{jwt}~{disclosure}~{disclosure}~"
    assert _reason(doubled, resolver, require_key_binding=False) == "disclosure_duplicate"


def test_digest_referenced_twice(issuer_key: KeyPair, resolver: DidResolver) -> None:
    """An issuer-signed payload listing one digest in two places is refused."""
    import hashlib

    disclosure = b64u(json.dumps(["c2FsdHNhbHRzYWx0c2FsdA", "level", "advanced"]).encode())
    digest = b64u(hashlib.sha256(disclosure.encode()).digest())
    cred = skills_credential()
    cred["credentialSubject"]["_sd"] = [digest]
    cred["credentialSubject"]["achievement"]["_sd"] = [digest]
    from skillcred._internal.jws import json_bytes as _json_bytes
    from skillcred._internal.jws import sign_jws as _sign_jws

    jwt = _sign_jws({"alg": "ES256", "typ": "vc+sd-jwt", "kid": kid_of(issuer_key)}, _json_bytes(cred), issuer_key)
    token = f"{jwt}~{disclosure}~"
    assert _reason(token, resolver, require_key_binding=False) == "digest_duplicate"
    # and a disclosure with a reserved name
    bad = b64u(json.dumps(["c2FsdHNhbHRzYWx0c2FsdA", "_sd", ["x"]]).encode())
    assert _reason(f"{jwt}~{bad}~", resolver, require_key_binding=False) == "reserved_claim_name"


def test_sd_hash_binds_the_disclosures(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    token = present(sd_jwt, holder_key, ["/credentialSubject/level", "/credentialSubject/achievement"])
    jwt, d1, d2, kb = token.split("~")
    assert _reason(f"{jwt}~{d1}~{kb}", resolver) == "sd_hash_mismatch"  # one disclosure dropped
    full = sd_jwt.split("~")
    extra = next(d for d in full[1:-1] if json.loads(b64u_decode(d))[1:2] == ["name"])
    assert _reason(f"{jwt}~{d1}~{d2}~{extra}~{kb}", resolver) == "sd_hash_mismatch"


def test_key_binding_checks(sd_jwt: str, holder_key: KeyPair, resolver: DidResolver) -> None:
    no_kb = present(sd_jwt, holder_key, ["/credentialSubject/level"], holder_key=None)
    assert _reason(no_kb, resolver) == "key_binding_missing"
    assert verify(no_kb, resolver, require_key_binding=False).key_bound is False

    with pytest.raises(InvalidArgument):  # a thief's key is not the cnf key
        present(sd_jwt, KeyPair.generate("ed25519"), [])
    # a KB-JWT signed by another key (forged around the holder-side check)
    other = KeyPair.generate("ed25519")
    good = present(sd_jwt, holder_key, ["/credentialSubject/level"])
    from skillcred._internal.jws import json_bytes as _json_bytes
    from skillcred._internal.jws import sign_jws as _sign_jws

    kb_payload = payload_of(good.split("~")[-1])
    forged_kb = _sign_jws({"alg": "EdDSA", "typ": "kb+jwt"}, _json_bytes(kb_payload), other)
    assert _reason(good.rsplit("~", 1)[0] + "~" + forged_kb, resolver) == "kb_signature_invalid"
    wrong_typ = _sign_jws({"alg": "EdDSA", "typ": "JWT"}, _json_bytes(kb_payload), holder_key)
    assert _reason(good.rsplit("~", 1)[0] + "~" + wrong_typ, resolver) == "media_type_invalid"

    old = present(sd_jwt, holder_key, [], iat=int((datetime.now(UTC) - timedelta(hours=1)).timestamp()))
    assert _reason(old, resolver) == "kb_stale"
    future = present(sd_jwt, holder_key, [], iat=int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))
    assert _reason(future, resolver) == "kb_iat_in_future"
    with pytest.raises(InvalidArgument):
        verify_sd_jwt(good, resolver=resolver, expected_nonce=None, expected_aud=AUD)


def test_issuer_binding_and_alg(holder_key: KeyPair, resolver: DidResolver) -> None:
    impostor = KeyPair.generate("p256")
    token = issue_sd_jwt(skills_credential(), impostor, kid=f"did:key:{impostor.public_multikey}#"
                         f"{impostor.public_multikey}", disclosable=["/credentialSubject/name"])
    assert _reason(token, resolver, require_key_binding=False) == "issuer_key_mismatch"
    jwt = token.split("~")[0]
    _h, p, _ = jwt.split(".")
    none_header = b64u(json.dumps({"alg": "none", "typ": "vc+sd-jwt"}).encode())
    assert _reason(f"{none_header}.{p}.~", resolver, require_key_binding=False) == "alg_not_allowed"


def test_validity_period(issuer_key: KeyPair, resolver: DidResolver) -> None:
    cred = skills_credential() | {"validUntil": "2025-01-01T00:00:00Z"}
    token = issue_sd_jwt(cred, issuer_key, kid=kid_of(issuer_key), disclosable=["/credentialSubject/name"])
    assert _reason(token, resolver, require_key_binding=False) == "expired"
    ok = verify(token, resolver, require_key_binding=False, at=datetime(2024, 6, 1, tzinfo=UTC))
    assert ok.claims["credentialSubject"]["name"] == NAME


def test_fixture_selective_credential() -> None:
    """vc-jose-cose case 20: both disclosures (firstName, lastName) land in credentialSubject."""
    folder = vectors_dir("vc-jose-cose")
    vm = json.loads((folder / "vm-p384.json").read_text())
    vm.pop("secretKeyJwk")
    ctl = vm["controller"]
    r = DidResolver([{"id": ctl, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}])
    token = (folder / "credential-sdjwt-selective.txt").read_text()
    result = verify_sd_jwt(token, resolver=r, expected_nonce=None, expected_aud=None,
                           require_key_binding=False)
    assert result.claims["credentialSubject"] == {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "birthDate": "1990-01-01",
        "firstName": "Jane", "lastName": "Doe"}
    assert result.disclosed_pointers == ("/credentialSubject/firstName", "/credentialSubject/lastName")


def test_deeply_nested_payload_is_refused(issuer_key: KeyPair, resolver: DidResolver) -> None:
    from skillcred._internal.jws import json_bytes as _json_bytes
    from skillcred._internal.jws import sign_jws as _sign_jws

    deep: Any = "x"
    for _ in range(150):
        deep = {"n": deep}
    cred = skills_credential() | {"deep": deep}
    jwt = _sign_jws({"alg": "ES256", "typ": "vc+sd-jwt", "kid": kid_of(issuer_key)}, _json_bytes(cred), issuer_key)
    assert _reason(jwt + "~", resolver, require_key_binding=False) == "malformed"

"""OpenID4VCI 1.0 issuance, framework-free: offers, the token / nonce / credential steps, key
proofs, holder binding, the wallet side, and the offline ``skillcred offer`` command.

The HTTP layer, ``skillcred serve`` and the npm peers are in ``test_oid4vci_interop.py``; here
the wallet talks to :class:`Oid4vciIssuer` directly (``DirectHttp``), which answers with the same
protocol errors the endpoints send.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from conftest import REPO
from skillcred._internal.base64url import decode as b64u_decode
from skillcred._internal.base64url import encode as b64u
from skillcred.did import DidResolver, key_did, key_did_url
from skillcred.errors import Oid4vciError, WalletError
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.oid4vci import (
    OfferInput,
    Oid4vciIssuer,
    create_offers,
    make_key_proof,
    parse_offer_uri,
    receive,
)
from skillcred.oid4vci.issuer import MAX_TX_ATTEMPTS, RateLimit
from skillcred.oid4vci.offers import PRE_AUTHORIZED_GRANT, configuration_id
from skillcred.oid4vci.proof import PROOF_TYP, check_key_proof
from skillcred.sdjwt import verify_sd_jwt
from skillcred.secured import SecuredCredential
from skillcred.wallet import Wallet
from support.cli import CliResult, clean_env, run_cli
from support.oid4vci_direct import DirectHttp

URL = "https://issuer.roc-techniek.example"
EXAMPLES = REPO / "examples" / "achievements"
MIG = EXAMPLES / "mig-mag-lassen.yaml"
FORKLIFT = EXAMPLES / "heftruck-certificaat.yaml"
NOW = 1_900_000_000


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    folder: Path
    issuer: Issuer
    oid: Oid4vciIssuer
    clock: Clock
    wallet: Wallet
    holder: KeyPair

    def offer(self, fmt: str = "jwt_vc_json", *, tx_code: bool = False, level: str | None = "3",
              path: Path = MIG, valid_seconds: int = 3600, name: str = "Jan Jansen") -> Any:
        return create_offers(self.issuer.registry, [OfferInput(load_achievement(path), name, level, fmt)],  # type: ignore[arg-type]
                             credential_issuer=URL, tx_code=tx_code, valid_seconds=valid_seconds,
                             now=int(self.clock.now))[0]

    def token(self, offer: Any, tx_code: str | None = None) -> str:
        form = {"grant_type": [PRE_AUTHORIZED_GRANT], "pre-authorized_code": [code_of(offer)]}
        if tx_code is not None:
            form["tx_code"] = [tx_code]
        return str(self.oid.token(form, client="127.0.0.1")["access_token"])

    def nonce(self) -> str:
        return str(self.oid.nonce()["c_nonce"])

    def proof(self, key: KeyPair | None = None, **kw: Any) -> str:
        kw.setdefault("audience", URL)
        kw.setdefault("nonce", self.nonce())
        kw.setdefault("issued_at", int(self.clock.now))
        return make_key_proof(key or self.holder, **kw)

    def credential(self, token: str, proof: str | None, cid: str) -> dict[str, Any]:
        body: dict[str, Any] = {"credential_configuration_id": cid}
        if proof is not None:
            body["proofs"] = {"jwt": [proof]}
        return self.oid.credential(f"Bearer {token}", body)


def code_of(offer: Any) -> str:
    return str(offer.document["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    init_issuer(tmp_path / "issuer", name="ROC Techniek", url="https://roc-techniek.example")
    issuer = Issuer.open(tmp_path / "issuer")
    clock = Clock(int(time.time()))  # the wallet's key proofs are made now
    oid = Oid4vciIssuer.for_issuer(issuer, URL, clock=clock)
    holder = KeyPair.generate("ed25519")
    wallet = Wallet.init(tmp_path / "wallet", key=holder)
    yield World(tmp_path / "issuer", issuer, oid, clock, wallet, holder)
    issuer.close()


def assert_refused(error: str, call: Any, *args: Any, **kw: Any) -> Oid4vciError:
    with pytest.raises(Oid4vciError) as info:
        call(*args, **kw)
    assert info.value.error == error, info.value
    return info.value


# --------------------------------------------------------------------------------------------
# offers


def test_an_offer_uri_carries_the_offer_and_the_registry_only_hashes(world: World) -> None:
    offer = world.offer(tx_code=True)
    assert offer.uri.startswith("openid-credential-offer://?credential_offer=")
    parsed = parse_offer_uri(offer.uri)
    assert parsed == offer.document
    assert parsed["credential_issuer"] == URL
    assert parsed["credential_configuration_ids"] == [configuration_id(load_achievement(MIG), "jwt_vc_json")]
    grant = parsed["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"] == {"input_mode": "numeric", "length": 6,
                                "description": "The code the institute sent you separately"}
    assert offer.tx_code is not None and offer.tx_code.isdigit() and len(offer.tx_code) == 6
    assert offer.tx_code not in unquote(offer.uri)  # the transaction code travels separately
    raw = (world.folder / "registry.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in world.folder.glob("registry.sqlite-wal"))
    assert grant["pre-authorized_code"].encode() not in raw  # only hashes are kept
    with sqlite3.connect(world.folder / "registry.sqlite") as db:
        (state, tx_hash), = db.execute("SELECT state, tx_code_hash FROM oid4vci_offers").fetchall()
    assert state == "offered" and tx_hash and offer.tx_code not in tx_hash


def test_each_offer_has_its_own_code_and_the_configuration_is_per_achievement_and_format(world: World) -> None:
    a, b = world.offer(), world.offer()
    assert code_of(a) != code_of(b) and a.id != b.id
    ldp = world.offer("ldp_vc")
    fork = world.offer(path=FORKLIFT, level=None)
    assert a.configuration_id == b.configuration_id != ldp.configuration_id != fork.configuration_id
    configs = world.oid.credential_issuer_metadata()["credential_configurations_supported"]
    assert set(configs) == {a.configuration_id, ldp.configuration_id, fork.configuration_id}
    assert configs[a.configuration_id]["format"] == "jwt_vc_json"
    assert configs[a.configuration_id]["credential_definition"]["type"] == ["VerifiableCredential",
                                                                             "OpenBadgeCredential"]
    assert configs[ldp.configuration_id]["format"] == "ldp_vc"
    assert "@context" in configs[ldp.configuration_id]["credential_definition"]
    assert configs[fork.configuration_id]["credential_metadata"]["display"][0]["name"] == \
        load_achievement(FORKLIFT).achievement.name
    for config in configs.values():
        assert config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA"]


@pytest.mark.parametrize(("kw", "needle"), [
    ({"level": "9"}, "level '9'"),
    ({"level": None}, "needs a level"),
    ({"name": " "}, "name must not be empty"),
    ({"name": "Jan\nJansen"}, "one line"),
    ({"valid_seconds": 10}, "valid between"),
    ({"valid_seconds": 200 * 86400}, "valid between"),
])
def test_offers_that_could_not_be_issued_are_refused_when_made(world: World, kw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle) as raised:
        world.offer(**kw)
    if "level" in kw:  # the library names the parameter; the command line shows --level (test_layers.py)
        assert getattr(raised.value, "field", None) == "level"
    assert world.issuer.registry.offered_configurations() == {}


def test_an_unknown_format_or_issuer_url_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        world.offer("vc+jwt")
    for url in ("ftp://x.example", "https://x.example/?a=b", "x.example"):
        with pytest.raises(ValueError, match="credential issuer"):
            create_offers(world.issuer.registry, [OfferInput(load_achievement(MIG), "Jan", "3")],
                          credential_issuer=url)


@pytest.mark.parametrize("uri", [
    "https://example.org/",
    "openid-credential-offer://?credential_offer=not-json",
    "openid-credential-offer://?credential_offer=%5B%5D",
    "openid-credential-offer://?credential_offer=%7B%7D",
    "openid-credential-offer://?x=1",
    "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa",
    "mailto:someone@example.org",
    "openid-credential-offer://?credential_offer=" + "A" * 20000,
])
def test_malformed_offer_uris_are_refused(uri: str) -> None:
    assert_refused("invalid_request", parse_offer_uri, uri)


def test_an_offer_without_a_pre_authorized_code_is_refused() -> None:
    doc = {"credential_issuer": URL, "credential_configuration_ids": ["x"],
           "grants": {"authorization_code": {"issuer_state": "s"}}}
    uri = "openid-credential-offer://?credential_offer=" + json.dumps(doc)
    assert "pre-authorized code" in assert_refused("invalid_request", parse_offer_uri, uri).message


# --------------------------------------------------------------------------------------------
# the token endpoint


def test_a_pre_authorized_code_is_exchanged_once(world: World) -> None:
    offer = world.offer()
    answer = world.oid.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code_of(offer)})
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 300 and len(answer["access_token"]) > 30
    assert "already been redeemed" in assert_refused("invalid_grant", world.token, offer).message
    assert world.issuer.registry.offer(offer.id).state == "token"


def test_an_unknown_or_expired_code_is_an_invalid_grant(world: World) -> None:
    offer = world.offer(valid_seconds=60)
    fake = type(offer)(offer.id, offer.uri, None, offer.configuration_id, 0,
                       {"grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "guessed"}}})
    assert "unknown" in assert_refused("invalid_grant", world.token, fake).message
    world.clock.now += 61
    assert "expired" in assert_refused("invalid_grant", world.token, offer).message
    world.clock.now -= 30  # a replayed request from before the expiry is still the same offer
    assert world.token(offer)


def test_the_transaction_code_is_required_checked_and_limited(world: World) -> None:
    offer = world.offer(tx_code=True)
    assert offer.tx_code is not None
    assert "tx_code" in assert_refused("invalid_request", world.token, offer).message
    wrong = f"{(int(offer.tx_code) + 1) % 10**6:06d}"
    assert "wrong transaction code" in assert_refused("invalid_grant", world.token, offer, wrong).message
    assert world.token(offer, offer.tx_code)


def test_too_many_wrong_transaction_codes_void_the_offer(world: World) -> None:
    offer = world.offer(tx_code=True)
    assert offer.tx_code is not None
    wrong = f"{(int(offer.tx_code) + 1) % 10**6:06d}"
    for _ in range(MAX_TX_ATTEMPTS - 1):
        assert_refused("invalid_grant", world.token, offer, wrong)
    assert "void" in assert_refused("invalid_grant", world.token, offer, wrong).message
    assert "void" in assert_refused("invalid_grant", world.token, offer, offer.tx_code).message  # even the right one
    assert world.issuer.registry.offer(offer.id).state == "dead"


def test_a_transaction_code_given_to_an_offer_without_one_is_ignored(world: World) -> None:
    offer = world.offer()
    assert world.token(offer, "123456")


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "authorization_code", "pre-authorized_code": "x"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ({"pre-authorized_code": "x"}, "invalid_request"),
    ({"grant_type": PRE_AUTHORIZED_GRANT}, "invalid_request"),
    ({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": ["a", "b"]}, "invalid_request"),
    ({"grant_type": [PRE_AUTHORIZED_GRANT, PRE_AUTHORIZED_GRANT], "pre-authorized_code": "a"}, "invalid_request"),
    ({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "a" * 600}, "invalid_request"),
    ({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": ""}, "invalid_request"),
])
def test_malformed_token_requests(world: World, form: dict[str, Any], error: str) -> None:
    assert_refused(error, world.oid.token, form)


def test_the_token_endpoint_is_rate_limited_per_client(world: World) -> None:
    oid = Oid4vciIssuer.for_issuer(world.issuer, URL, clock=world.clock, token_rate=(3, 60.0))
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "guess"}
    for _ in range(3):
        assert_refused("invalid_grant", oid.token, form, client="10.0.0.1")
    err = assert_refused("slow_down", oid.token, form, client="10.0.0.1")
    assert err.status == 429
    assert_refused("invalid_grant", oid.token, form, client="10.0.0.2")  # another client is not held up
    world.clock.now += 61
    assert_refused("invalid_grant", oid.token, form, client="10.0.0.1")  # the window moved on


def test_the_open_nonce_endpoint_is_rate_limited_per_client(world: World) -> None:
    oid = Oid4vciIssuer.for_issuer(world.issuer, URL, clock=world.clock, nonce_rate=(2, 60.0))
    nonces = {oid.nonce(client="10.0.0.1")["c_nonce"] for _ in range(2)}
    assert len(nonces) == 2
    assert assert_refused("slow_down", oid.nonce, client="10.0.0.1").status == 429
    assert oid.nonce(client="10.0.0.2")["c_nonce"] not in nonces


def test_the_rate_limiter_forgets_the_oldest_clients_first() -> None:
    clock = Clock()
    limit = RateLimit(1, 60, clock=clock, max_clients=2)
    assert limit.allow("a") and limit.allow("b") and not limit.allow("a")
    assert limit.allow("c")  # 'b' is now the oldest and is forgotten next
    assert not limit.allow("c") and not limit.allow("a")


# --------------------------------------------------------------------------------------------
# the credential endpoint and key proofs


@pytest.mark.parametrize("fmt", ["jwt_vc_json", "ldp_vc", "dc+sd-jwt"])
def test_the_credential_is_bound_to_the_proof_key_and_recorded_like_cli_issuing(world: World, fmt: str) -> None:
    offer = world.offer(fmt)
    token = world.token(offer)
    answer = world.credential(token, world.proof(), offer.configuration_id)
    (item,) = answer["credentials"]
    credential = item["credential"]
    holder = key_did(world.holder.public_key)
    record = world.issuer.registry.get(world.issuer.registry.offer(offer.id).credential_id or "")
    assert record.row_key == f"oid4vci:{offer.id}" and record.subject == holder
    assert record.achievement == load_achievement(MIG).achievement.id
    if fmt == "dc+sd-jwt":  # an SD-JWT VC: one Token Status List entry mirroring its revocation index
        assert set(record.document["status"]) == {"status_list"}
        assert "/tokens/" in record.document["status"]["status_list"]["uri"]
    else:
        purposes = {e["statusPurpose"] for e in record.document["credentialStatus"]}
        assert purposes == {"revocation", "suspension"}
    if fmt == "ldp_vc":
        assert credential == record.document and credential["proof"]["type"] == "DataIntegrityProof"
        claims = credential
    else:
        assert credential == record.document["token"]
        secured = SecuredCredential.from_file_bytes(credential.encode())
        assert secured.format == ("jwt" if fmt == "jwt_vc_json" else "sd-jwt")
        if fmt == "dc+sd-jwt":
            assert secured.typ == "dc+sd-jwt" and secured.document["sub"] == holder
            assert secured.document["cnf"] == {"jwk": world.holder.public_key.jwk()}
        else:
            assert secured.document["credentialSubject"]["id"] == holder
        claims = record.document  # the claims, with every disclosure
    assert claims["credentialSubject"]["id"] == holder
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == "Jan Jansen"
    assert world.issuer.registry.offer(offer.id).state == "issued"
    assert world.issuer.revoke(record.id) and world.issuer.registry.get(record.id).revoked


def test_a_jwk_proof_binds_to_the_did_key_of_that_jwk_and_an_sd_jwt_carries_it_as_cnf(world: World) -> None:
    key = KeyPair.generate("p256")
    offer = world.offer("dc+sd-jwt")
    answer = world.credential(world.token(offer), world.proof(key, use_jwk=True), offer.configuration_id)
    token = answer["credentials"][0]["credential"]
    result = verify_sd_jwt(token, resolver=DidResolver(), expected_nonce=None, expected_aud=None,
                           require_key_binding=False, expected_typ="dc+sd-jwt")
    assert result.holder_jwk == key.public_key.jwk()
    assert result.claims["sub"] == key_did(key.public_key)


def test_the_access_token_gives_one_credential(world: World) -> None:
    offer = world.offer()
    token = world.token(offer)
    world.credential(token, world.proof(), offer.configuration_id)
    err = assert_refused("invalid_token", world.credential, token, world.proof(), offer.configuration_id)
    assert err.status == 401 and "already been used" in err.message
    assert world.issuer.registry.count() == 1


def test_an_expired_or_unknown_access_token_is_refused(world: World) -> None:
    offer = world.offer()
    token = world.token(offer)
    err = assert_refused("invalid_token", world.credential, "not-a-token", world.proof(), offer.configuration_id)
    assert err.status == 401
    proof = world.proof()
    world.clock.now += 301
    assert "expired" in assert_refused("invalid_token", world.credential, token, proof, offer.configuration_id).message
    for header in (None, "", "Basic abc", f"Bearer {'x' * 600}", "Bearer "):
        assert assert_refused("invalid_token", world.oid.credential, header, {}).status == 401
    assert world.issuer.registry.count() == 0


def test_a_refused_request_can_be_corrected_with_the_same_token(world: World) -> None:
    offer = world.offer()
    token = world.token(offer)
    assert_refused("invalid_proof", world.credential, token, world.proof(audience="https://evil.example"),
            offer.configuration_id)
    assert_refused("unsupported_credential_configuration", world.credential, token, world.proof(), "other.config")
    assert world.issuer.registry.offer(offer.id).state == "token"
    assert world.credential(token, world.proof(), offer.configuration_id)["credentials"]


@pytest.mark.parametrize(("body", "error"), [
    ({}, "invalid_credential_request"),
    ({"credential_configuration_id": 7}, "invalid_credential_request"),
    ({"credential_identifier": "x"}, "invalid_credential_request"),
    ({"proofs": {"jwt": ["a", "b"]}}, "invalid_credential_request"),
    ({"proofs": {"jwt": []}}, "invalid_credential_request"),
    ({"proofs": {"ldp_vp": [{}]}}, "invalid_proof"),
    ({"proofs": {"jwt": "a"}}, "invalid_credential_request"),
    ({"proof": {"proof_type": "cwt", "cwt": "x"}}, "invalid_proof"),
    ({"proof": {}, "proofs": {}}, "invalid_credential_request"),
])
def test_malformed_credential_requests(world: World, body: dict[str, Any], error: str) -> None:
    offer = world.offer()
    token = world.token(offer)
    assert_refused(error, world.oid.credential, f"Bearer {token}", body)
    assert_refused("invalid_credential_request", world.oid.credential, f"Bearer {token}", ["not", "an", "object"])


def test_a_request_without_a_key_proof_is_refused(world: World) -> None:
    offer = world.offer()
    assert_refused("invalid_proof", world.credential, world.token(offer), None, offer.configuration_id)


def test_the_older_single_proof_form_is_accepted(world: World) -> None:
    offer = world.offer()
    body = {"credential_configuration_id": offer.configuration_id, "proof": {"proof_type": "jwt", "jwt": world.proof()}}
    assert world.oid.credential(f"Bearer {world.token(offer)}", body)["credentials"]


def test_a_key_proof_with_a_wrong_missing_or_reused_nonce_is_invalid_nonce(world: World) -> None:
    offer = world.offer()
    token = world.token(offer)
    cid = offer.configuration_id
    assert_refused("invalid_nonce", world.credential, token, world.proof(nonce="made-up"), cid)
    assert_refused("invalid_nonce", world.credential, token, world.proof(nonce=None), cid)
    nonce = world.nonce()
    world.clock.now += 301
    late = world.offer()
    assert_refused("invalid_nonce", world.credential, world.token(late), world.proof(nonce=nonce),
            late.configuration_id)  # expired
    offer2 = world.offer()
    nonce = world.nonce()
    world.credential(world.token(offer2), world.proof(nonce=nonce), offer2.configuration_id)
    offer3 = world.offer()
    assert_refused("invalid_nonce", world.credential, world.token(offer3), world.proof(nonce=nonce),
            offer3.configuration_id)  # used once already


def test_a_key_proof_for_another_audience_is_invalid(world: World) -> None:
    offer = world.offer()
    token = world.token(offer)
    for aud in ("https://evil.example", URL + "/", [URL, "https://evil.example"], None):
        proof = world.proof(audience=aud)  # type: ignore[arg-type]
        assert "not for this issuer" in assert_refused("invalid_proof", world.credential, token, proof,
                                                 offer.configuration_id).message


def _forged(header: dict[str, Any], payload: dict[str, Any], key: KeyPair | None = None,
            signature: bytes | None = None) -> str:
    head = b64u(json.dumps(header).encode())
    body = b64u(json.dumps(payload).encode())
    sig = signature if signature is not None else (key.sign(f"{head}.{body}".encode()) if key else b"")
    return f"{head}.{body}.{b64u(sig)}"


@pytest.mark.parametrize(("header", "needle"), [
    ({"alg": "none"}, "not accepted"),
    ({"alg": "HS256"}, "not accepted"),
    ({"alg": "ES384"}, "not accepted"),
    ({"alg": "RS256"}, "not accepted"),
    ({"alg": "ES256"}, "does not fit"),  # an Ed25519 key under an ECDSA alg
    ({"alg": "EdDSA", "typ": "JWT"}, "typ"),
    ({"alg": "EdDSA", "typ": None}, "typ"),
    ({"alg": "EdDSA", "typ": "openid4vci-proof+JWT"}, "typ"),
    ({"alg": "EdDSA", "crit": ["exp"]}, "critical"),
    ({"alg": "EdDSA", "x5c": ["MII"]}, "exactly one"),
])
def test_key_proof_headers_are_checked_before_the_signature(world: World, header: dict[str, Any], needle: str) -> None:
    full = {"typ": PROOF_TYP, "kid": key_did_url(world.holder.public_key), **header}
    full = {k: v for k, v in full.items() if v is not None}
    proof = _forged(full, {"aud": URL, "iat": NOW, "nonce": world.nonce()}, world.holder)
    assert needle in assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW).message


def test_a_p256_key_proof_needs_es256(world: World) -> None:
    key = KeyPair.generate("p256")
    proof = make_key_proof(key, audience=URL, nonce="n", issued_at=NOW)
    assert check_key_proof(proof, audience=URL, now=NOW).holder == key_did(key.public_key)
    head = json.loads(b64u_decode(proof.split(".")[0]))
    head["alg"] = "EdDSA"
    forged = _forged(head, {"aud": URL, "iat": NOW, "nonce": "n"}, key)
    assert "does not fit" in assert_refused("invalid_proof", check_key_proof, forged, audience=URL, now=NOW).message


@pytest.mark.parametrize(("kid_or_jwk", "needle"), [
    ({"kid": "did:web:evil.example#key-1"}, "did:key"),
    ({"kid": "https://evil.example/key"}, "did:key"),
    ({"kid": 5}, "did:key"),
    ({"kid": "did:key:zNotAKey"}, "unusable"),
    ({"jwk": "a string"}, "public key"),
    ({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, "public key"),
    ({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "unusable"),
    ({}, "exactly one"),
])
def test_key_proof_keys_must_be_a_did_key_or_a_public_jwk(world: World, kid_or_jwk: dict[str, Any],
                                                          needle: str) -> None:
    proof = _forged({"typ": PROOF_TYP, "alg": "EdDSA", **kid_or_jwk}, {"aud": URL, "iat": NOW}, world.holder)
    assert needle in assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW).message


def test_a_private_jwk_or_both_kid_and_jwk_are_refused(world: World) -> None:
    priv = world.holder.private_jwk()
    proof = _forged({"typ": PROOF_TYP, "alg": "EdDSA", "jwk": priv}, {"aud": URL, "iat": NOW}, world.holder)
    assert "public key" in assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW).message
    both = {"typ": PROOF_TYP, "alg": "EdDSA", "jwk": world.holder.public_key.jwk(),
            "kid": key_did_url(world.holder.public_key)}
    proof = _forged(both, {"aud": URL, "iat": NOW}, world.holder)
    assert "exactly one" in assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW).message


def test_a_kid_naming_another_keys_fragment_is_refused(world: World) -> None:
    other = KeyPair.generate("ed25519")
    kid = f"{key_did(world.holder.public_key)}#{other.public_multikey}"
    proof = _forged({"typ": PROOF_TYP, "alg": "EdDSA", "kid": kid}, {"aud": URL, "iat": NOW}, world.holder)
    assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW)


def test_a_key_proof_signed_by_another_key_or_tampered_is_refused(world: World) -> None:
    other = KeyPair.generate("ed25519")
    header = {"typ": PROOF_TYP, "alg": "EdDSA", "kid": key_did_url(world.holder.public_key)}
    payload = {"aud": URL, "iat": NOW, "nonce": "n"}
    for proof in (_forged(header, payload, other), _forged(header, payload, signature=b"\0" * 64),
                  _forged(header, payload, signature=b"")):
        refusal = assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW)
        assert "does not verify" in refusal.message
    good = _forged(header, payload, world.holder)
    head, _, sig = good.split(".")
    tampered = f"{head}.{b64u(json.dumps({**payload, 'aud': URL + '/x'}).encode())}.{sig}"
    refusal = assert_refused("invalid_proof", check_key_proof, tampered, audience=URL, now=NOW)
    assert "does not verify" in refusal.message


@pytest.mark.parametrize("iat", [NOW - 301, NOW + 61, None, "1900000000", True, NOW - 10**6])
def test_a_key_proof_must_be_recent(world: World, iat: Any) -> None:
    payload: dict[str, Any] = {"aud": URL, "nonce": "n"}
    if iat is not None:
        payload["iat"] = iat
    proof = _forged({"typ": PROOF_TYP, "alg": "EdDSA", "kid": key_did_url(world.holder.public_key)}, payload,
                    world.holder)
    assert_refused("invalid_proof", check_key_proof, proof, audience=URL, now=NOW)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.!!.!!", 7, None, "x" * 9000,
                                   b64u(b"[1]") + ".e30.", b64u(b"{}") + "." + b64u(b"[]") + "."])
def test_garbage_key_proofs_are_invalid_proof(token: Any) -> None:
    assert_refused("invalid_proof", check_key_proof, token, audience=URL, now=NOW)


# --------------------------------------------------------------------------------------------
# the wallet side (library)


@pytest.mark.parametrize("fmt", ["jwt_vc_json", "ldp_vc", "dc+sd-jwt"])
def test_the_wallet_receives_verifies_and_stores(world: World, fmt: str) -> None:
    offer = world.offer(fmt, tx_code=True)
    http = DirectHttp(world.oid, URL)
    seen: list[Any] = []
    result = receive(world.wallet, offer.uri, world.holder, tx_code=offer.tx_code,
                     confirm=lambda s: seen.append(s) or True, http=http)
    (summary,) = seen
    assert (summary.issuer_name, summary.credential_name, summary.fmt, summary.needs_tx_code) == \
        ("ROC Techniek", "MIG/MAG-lassen", fmt, True)
    assert http.calls == ["/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server",
                          "/oid4vci/token", "/oid4vci/nonce", "/oid4vci/credential"]
    entry = result.entry
    assert entry.id == world.issuer.registry.offer(offer.id).credential_id
    assert [e.id for e in world.wallet.entries()] == [entry.id]
    assert entry.achievement == "MIG/MAG-lassen"


def test_declining_an_offer_redeems_nothing(world: World) -> None:
    offer = world.offer()
    http = DirectHttp(world.oid, URL)
    with pytest.raises(WalletError, match="declined"):
        receive(world.wallet, offer.uri, world.holder, confirm=lambda s: False, http=http)
    assert "/oid4vci/token" not in http.calls
    assert world.issuer.registry.offer(offer.id).state == "offered"
    assert world.wallet.entries() == []


def test_an_offer_needing_a_transaction_code_stops_before_redeeming(world: World) -> None:
    offer = world.offer(tx_code=True)
    http = DirectHttp(world.oid, URL)
    assert_refused("invalid_request", receive, world.wallet, offer.uri, world.holder, http=http)
    assert "/oid4vci/token" not in http.calls and world.issuer.registry.offer(offer.id).state == "offered"


def test_the_wallet_refuses_a_credential_about_someone_else(world: World) -> None:
    """An issuer that ignores the key proof and issues to another subject: not stored."""
    offer = world.offer()
    stranger = KeyPair.generate("ed25519")

    class Substituting(DirectHttp):
        def request(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
            if url.endswith("/oid4vci/credential"):
                data = json.loads(kw["data"])
                data["proofs"]["jwt"] = [world.proof(stranger)]
                kw["data"] = json.dumps(data).encode()
            return super().request(method, url, **kw)

    with pytest.raises(WalletError, match="not this wallet's holder"):
        receive(world.wallet, offer.uri, world.holder, http=Substituting(world.oid, URL))
    assert world.wallet.entries() == []


def test_the_wallet_refuses_a_credential_in_another_format_or_unsigned(world: World) -> None:

    class Swapping(DirectHttp):
        def __init__(self, oid: Oid4vciIssuer, replacement: Any) -> None:
            super().__init__(oid, URL)
            self.replacement = replacement

        def request(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
            status, body = super().request(method, url, **kw)
            if url.endswith("/oid4vci/credential"):
                body = {"credentials": [{"credential": self.replacement(body["credentials"][0]["credential"])}]}
            return status, body

    def as_sd_jwt(token: str) -> str:
        return token + "~"

    for swap, needle in ((as_sd_jwt, "not the jwt_vc_json"), (lambda t: {"a": 1}, "must be a string"),
                         (lambda t: t[:-4] + "AAAA", "does not verify")):
        with pytest.raises(WalletError, match=needle):
            receive(world.wallet, world.offer("jwt_vc_json").uri, world.holder, http=Swapping(world.oid, swap))
    assert world.wallet.entries() == []


def test_the_wallet_refuses_metadata_naming_another_issuer(world: World) -> None:
    offer = world.offer()

    class Lying(DirectHttp):
        def request(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
            status, body = super().request(method, url, **kw)
            if url.endswith("openid-credential-issuer"):
                body = {**body, "credential_issuer": "https://evil.example"}
            return status, body

    assert_refused("invalid_request", receive, world.wallet, offer.uri, world.holder, http=Lying(world.oid, URL))


def test_the_wallet_speaks_only_https_and_http_to_this_machine_only_when_unsafe() -> None:
    from skillcred.oid4vci.wallet import _check_url

    _check_url("https://a.example/x", what="test")
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://[::1]:1/x"):
        assert_refused("invalid_request", _check_url, url, what="test")
        _check_url(url, what="test", unsafe_allow_http_loopback=True)
    for url in ("http://a.example/x", "http://10.0.0.1/x", "file:///etc/passwd", "ftp://a.example/", "https:///x"):
        assert_refused("invalid_request", _check_url, url, what="test")
        assert_refused("invalid_request", _check_url, url, what="test", unsafe_allow_http_loopback=True)


def test_a_wallet_with_a_p384_key_cannot_make_key_proofs(tmp_path: Path, world: World) -> None:
    key = KeyPair.generate("p384")
    wallet = Wallet.init(tmp_path / "w384", key=key)
    with pytest.raises(WalletError, match="ES256 or EdDSA"):
        receive(wallet, world.offer().uri, key, http=DirectHttp(world.oid, URL))


# --------------------------------------------------------------------------------------------
# skillcred offer (offline, no key needed)


def cli(*args: str | Path) -> CliResult:
    proc = run_cli(*args, env=clean_env())
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def assert_one_line_error(proc: CliResult, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def issuer_dir(tmp_path: Path) -> Path:
    init_issuer(tmp_path / "iss", name="ROC Techniek", url="https://roc-techniek.example",
                status_base_url="https://creds.roc-techniek.example/status")
    return tmp_path / "iss"


def test_offer_prints_the_uri_first_then_a_qr_code_and_the_tx_code_on_stderr(issuer_dir: Path, tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    png = tmp_path / "offer.png"
    proc = cli("offer", "--issuer", issuer_dir, "--achievement", MIG, "--subject-name", "Jan Jansen",
               "--level", "3", "--format", "dc+sd-jwt", "--tx-code", "--qr-png", png)
    assert proc.returncode == 0, proc.stderr
    uri, *qr = proc.stdout.splitlines()
    offer = parse_offer_uri(uri)
    assert offer["credential_issuer"] == "https://creds.roc-techniek.example"  # the status lists' host
    assert offer["credential_configuration_ids"][0].endswith(".dc+sd-jwt")
    assert len(qr) > 20 and all(set(line) <= set(" \xa0▀▄█") for line in qr)  # half blocks, no-break spaces
    (tx_line,) = [line for line in proc.stderr.splitlines() if line.startswith("transaction code: ")]
    tx = tx_line.split()[2]
    assert tx.isdigit() and len(tx) == 6 and tx not in proc.stdout
    (decoded,) = zxingcpp.read_barcodes(Image.open(png))
    assert decoded.text == uri
    with Issuer.open(issuer_dir) as issuer:
        oid = Oid4vciIssuer.for_issuer(issuer, "https://creds.roc-techniek.example")
        code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        assert_refused("invalid_request", oid.token, {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})
        assert oid.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": tx})


def test_offer_public_url_overrides_and_an_offer_without_tx_code_prints_none(issuer_dir: Path) -> None:
    proc = cli("offer", "--issuer", issuer_dir, "--achievement", FORKLIFT, "--subject-name", "Jan",
               "--public-url", "https://serve.example/roc/")
    assert proc.returncode == 0, proc.stderr
    offer = parse_offer_uri(proc.stdout.splitlines()[0])
    assert offer["credential_issuer"] == "https://serve.example/roc"
    assert "tx_code" not in offer["grants"][PRE_AUTHORIZED_GRANT]
    assert "transaction code" not in proc.stderr


def test_offer_batch_writes_a_mail_merge_file(issuer_dir: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,level,achievement\n"
                      "Jan Jansen,jan@example.org,3,\n"
                      f"=HYPERLINK(\"x\"),evil@example.org,,{FORKLIFT}\n"
                      "Fatima El Amrani,fatima@example.org,4,\n", encoding="utf-8")
    out = tmp_path / "merge.csv"
    proc = cli("offer", "--issuer", issuer_dir, "--achievement", MIG, "--batch", roster, "-o", out, "--tx-code")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == str(out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["name"] for r in rows] == ["Jan Jansen", "'=HYPERLINK(\"x\")", "Fatima El Amrani"]
    assert [r["email"] for r in rows] == ["jan@example.org", "evil@example.org", "fatima@example.org"]
    assert len({r["offer_uri"] for r in rows}) == 3 and len({r["offer_id"] for r in rows}) == 3
    assert all(r["tx_code"].isdigit() and len(r["tx_code"]) == 6 for r in rows)
    ids = [parse_offer_uri(r["offer_uri"])["credential_configuration_ids"][0] for r in rows]
    assert ids[0] == ids[2] != ids[1]
    assert out.stat().st_mode & 0o077 == 0  # links that redeem credentials: private to the institute
    with sqlite3.connect(issuer_dir / "registry.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM oid4vci_offers").fetchone()[0] == 3


def test_offer_batch_is_all_or_nothing(issuer_dir: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,level\nJan,3\nPiet,9\n", encoding="utf-8")
    proc = cli("offer", "--issuer", issuer_dir, "--achievement", MIG, "--batch", roster, "-o", tmp_path / "m.csv")
    assert_one_line_error(proc, "line 3", "level '9'")
    assert not (tmp_path / "m.csv").exists()
    with sqlite3.connect(issuer_dir / "registry.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM oid4vci_offers").fetchone()[0] == 0


@pytest.mark.parametrize(("args", "needles"), [
    (["--achievement", str(MIG), "--subject-name", "Jan", "--level", "7"], ("level '7'",)),
    (["--achievement", str(MIG), "--subject-name", "Jan"], ("needs --level",)),
    (["--achievement", str(MIG)], ("--subject-name",)),
    (["--subject-name", "Jan"], ("--achievement",)),
    (["--achievement", str(MIG), "--subject-name", "Jan", "--level", "3", "-o", "x.csv"], ("-o is for --batch",)),
    (["--achievement", str(MIG), "--subject-name", "Jan", "--level", "3", "--public-url", "ftp://x"],
     ("http(s) URL",)),
])
def test_offer_refusals_are_one_line(issuer_dir: Path, args: list[str], needles: tuple[str, ...]) -> None:
    assert_one_line_error(cli("offer", "--issuer", issuer_dir, *args), *needles)


def test_offer_needs_an_issuer_folder_and_batch_needs_out(tmp_path: Path, issuer_dir: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_one_line_error(cli("offer", "--issuer", tmp_path / "empty", "--achievement", MIG, "--subject-name", "J"),
                          "not an issuer folder")
    roster = tmp_path / "r.csv"
    roster.write_text("name\nJan\n", encoding="utf-8")
    assert_one_line_error(cli("offer", "--issuer", issuer_dir, "--achievement", FORKLIFT, "--batch", roster),
                          "needs -o")
    bad = tmp_path / "bad.csv"
    bad.write_text("who\nJan\n", encoding="utf-8")
    assert_one_line_error(cli("offer", "--issuer", issuer_dir, "--achievement", FORKLIFT, "--batch", bad,
                              "-o", tmp_path / "o.csv"), "'name' column")

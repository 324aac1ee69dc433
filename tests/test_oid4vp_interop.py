"""OpenID4VP interop on loopback, both directions, against ``@openid4vc/openid4vp`` 0.4 and ``dcql``
3 (tests/interop/oid4vp/, pinned): a peer wallet answers a skillcred request (a vc+jwt and an
SD-JWT in one response) and the result verifies; ``skillcred present --oid4vp`` answers a request
made by a peer verifier and the peer accepts. Negative: a replayed response, a wrong nonce, a
response made for another verifier, a missing required credential (at skillcred's verifier), an
altered request object and a replay (at skillcred's wallet). The dcql package also judges
skillcred's queries and credentials, as a differential check of its DCQL evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop_support import peer_dir, run_node
from oid4vp_support import World, make_world, new_request, run, verifier_server
from oid4vp_support import peer_verifier as _peer_verifier
from skillcred._internal.fileio import load_json_object
from skillcred.match import load_profile
from skillcred.oid4vp import match_credential, query_from_profile
from skillcred.oid4vp._store import VerifierStore
from skillcred.wallet import Wallet

#: the test services are plain http on 127.0.0.1: the wallet needs the unsafe switch to reach them
LOOPBACK = "--unsafe-allow-http-loopback"
MAG = "http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498"
BLUEPRINTS = "http://data.europa.eu/esco/skill/68b6ef08-d823-489d-a95c-752ae6f6e6a7"
CNC_SKILL = "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"

pytestmark = pytest.mark.loopback


def _profile(*reqs: tuple[str, bool]) -> dict[str, Any]:
    return {"type": "SkillcredJobProfile", "id": "https://werk.example/v/1", "title": "Lasser + tekenen",
            "requirements": [{"skill": s, "label": s[-8:], "essential": e, "weight": 1} for s, e in reqs]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    peer_dir("oid4vp")  # fail early (not skip) when Node is there but the peer is not installed
    w = make_world(tmp_path_factory.mktemp("oid4vp-interop"))
    (w.dir / "weld-read.json").write_text(json.dumps(_profile((MAG, True), (BLUEPRINTS, False))))
    (w.dir / "cnc-only.json").write_text(json.dumps(_profile((CNC_SKILL, True), (BLUEPRINTS, False))))
    return w


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("verifier") / "v"
    VerifierStore.init(folder, name="Metaalbedrijf De Vries")
    with verifier_server(world, folder) as url:
        yield folder, url


def _peer_input(world: World, uri: str, **extra: Any) -> dict[str, Any]:
    """What the peer wallet holds: the worker's key and the vc+jwt and SD-JWT credentials."""
    w = Wallet.open(world.wallet)
    creds = []
    for e in w.entries():
        s = w.secured(e.id)
        if s.format in ("jwt", "sd-jwt"):
            creds.append({"format": "jwt_vc_json" if s.format == "jwt" else "vc+sd-jwt", "token": s.token,
                          "claims": dict(s.document)})
    key = w.holder_key(b"pw")
    return {"uri": uri, "holder": {"did": w.holder, "kid": w.verification_method, "jwk": key.private_jwk()},
            "credentials": creds, **extra}


def _request_uri(world: World, folder: Path, url: str) -> str:
    return new_request(world, folder, url, "--no-qr", "--format", "jwt_vc_json", "--format", "vc+sd-jwt",
                       profile=world.dir / "weld-read.json")


def _results(world: World, folder: Path) -> dict[str, Any]:
    proc = run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir, ok=False)
    return dict(json.loads(proc.stdout))


def test_a_peer_wallet_answers_a_skillcred_request_and_it_verifies(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _request_uri(world, folder, url)))
    assert out["submitted"] == [{"status": 200, "body": {"verified": True, "response_id": 1}}]
    # the dcql package chose what skillcred's own wallet would: welding (SD-JWT), drawing (vc+jwt)
    assert sorted(out["matched"]) == ["essential_vc_sd_jwt", "optional_jwt_vc_json"]
    assert out["request"]["client_name"] == "Metaalbedrijf De Vries"
    result = _results(world, folder)["responses"][0]
    assert result["verified"] and result["holder"] == world.holder and result["essential_coverage"] == 1.0
    checked = {r["query"] for r in result["reports"]}
    assert checked == {"essential_vc_sd_jwt", "optional_jwt_vc_json"}


@pytest.mark.parametrize(("extra", "reason"), [
    ({"tamper": "nonce"}, "nonce_mismatch"),
    ({"tamper": "aud"}, "audience_mismatch"),
    ({"drop": ["essential_vc_sd_jwt"]}, "dcql_unsatisfied"),
])
def test_a_peer_wallets_bad_response_is_refused_by_name(world: World, served: tuple[Path, str],
                                                        extra: dict[str, Any], reason: str) -> None:
    folder, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _request_uri(world, folder, url), **extra))
    assert out["submitted"][0]["status"] == 400
    assert out["submitted"][0]["body"]["reason"] == reason
    assert _results(world, folder)["responses"][-1]["reason"] == reason


def test_a_peer_wallets_replayed_response_is_refused(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _request_uri(world, folder, url),
                                                                  replay=True))
    first, second = out["submitted"]
    assert first["status"] == 200 and second["status"] == 400 and second["body"]["reason"] == "state_used"


def test_skillcred_present_answers_a_peer_verifiers_request(world: World) -> None:
    with _peer_verifier(BLUEPRINTS) as (started, received):
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir)
    assert "Peer verifier (openid4vp 0.4)" in proc.stderr and "accepted" in proc.stderr
    assert received == [{"accepted": True, "holder": world.holder, "queries": ["drawing"]}]


def test_skillcred_refuses_a_peer_request_object_altered_on_the_way(world: World) -> None:
    with _peer_verifier(BLUEPRINTS, "request") as (started, received):
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "request_signature_invalid" in proc.stderr
    assert received == []  # nothing was sent


def test_skillcred_reports_the_peers_refusal_of_a_replay(world: World) -> None:
    with _peer_verifier(BLUEPRINTS) as (started, received):
        run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir)
        again = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir, ok=False)
    assert again.returncode == 1 and "replayed" in again.stderr
    assert [r["accepted"] for r in received] == [True, False]


def test_skillcred_says_when_it_cannot_answer_a_peer_request(world: World) -> None:
    with _peer_verifier("http://data.europa.eu/esco/skill/none") as (started, received):
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 1 and "dcql_unsatisfied" in proc.stderr and received == []


@pytest.mark.parametrize("profile", ["weld-read.json", "cnc-only.json"])
def test_the_dcql_package_agrees_with_skillcreds_evaluation(world: World, profile: str) -> None:
    """Differential: the same query and credentials (the worker's three, and altered copies) judged
    by the dcql package and by skillcred.oid4vp -- the same credentials answer the same queries."""
    path = world.dir / profile
    query = query_from_profile(load_profile(path), raw_requirements=load_json_object(path)["requirements"])
    w = Wallet.open(world.wallet)
    fmt = {"di": "ldp_vc", "jwt": "jwt_vc_json", "sd-jwt": "vc+sd-jwt"}
    creds: list[dict[str, Any]] = []
    for e in w.entries():
        s = w.secured(e.id)
        doc = json.loads(json.dumps(dict(s.document)))
        for f in fmt.values():  # every credential in every format: format decides too
            creds.append({"format": f, "claims": doc})
        other = json.loads(json.dumps(doc))
        for a in other["credentialSubject"]["achievement"].get("alignment", []):
            a["targetUrl"] += "-not"
        creds.append({"format": fmt[s.format], "claims": other})
        untyped = {**doc, "type": ["VerifiableCredential"]}
        creds.append({"format": fmt[s.format], "claims": untyped})
    theirs = run_node("oid4vp", "dcql_match.mjs", input_json={"query": query, "credentials": creds})
    ours: dict[str, list[int]] = {cq["id"]: [] for cq in query["credentials"]}
    for i, c in enumerate(creds):
        for m in match_credential(query, c["format"], c["claims"]):
            ours[m.query_id].append(i)
    assert theirs == ours
    assert any(ours.values())  # the comparison is not vacuous


# -- direct_post.jwt: responses encrypted to the verifier (ECDH-ES P-256, A128GCM/A256GCM) --------


def _encrypted_request_uri(world: World, folder: Path, url: str, *extra: str) -> str:
    return new_request(world, folder, url, "--no-qr", "--format", "jwt_vc_json", "--format", "vc+sd-jwt",
                       "--response-mode", "direct_post.jwt", *extra, profile=world.dir / "weld-read.json")


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_a_peer_wallet_answers_an_encrypted_skillcred_request(world: World, served: tuple[Path, str],
                                                              enc: str) -> None:
    folder, url = served
    uri = _encrypted_request_uri(world, folder, url, "--enc", enc)
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, uri))
    assert out["encrypted"] is True and out["request"]["response_mode"] == "direct_post.jwt"
    (sent,) = out["submitted"]
    assert sent["status"] == 200 and sent["body"]["verified"] is True
    result = _results(world, folder)["responses"][-1]
    assert result["verified"] and result["holder"] == world.holder and result["essential_coverage"] == 1.0


@pytest.mark.parametrize(("jwe", "reason"), [
    ({"tamper": "other-key"}, "response_not_decryptable"),  # made for another key, claiming ours
    ({"tamper": "other-kid"}, "response_key_mismatch"),
    ({"tamper": "tag"}, "response_not_decryptable"),
    ({"tamper": "ciphertext"}, "response_not_decryptable"),
    ({"tamper": "dir"}, "response_alg_not_allowed"),
    ({"enc": "A256GCM"}, "response_enc_not_offered"),  # the request offered A128GCM only
])
def test_a_peer_wallets_bad_encrypted_response_is_refused_by_name(world: World, served: tuple[Path, str],
                                                                  jwe: dict[str, str], reason: str) -> None:
    folder, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _encrypted_request_uri(world, folder, url),
                                                                  jwe=jwe))
    (sent,) = out["submitted"]
    assert sent["status"] == 400 and sent["body"]["reason"] == reason


def test_a_peer_wallets_replayed_encrypted_response_is_refused(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _encrypted_request_uri(world, folder, url),
                                                                  replay=True))
    first, second = out["submitted"]
    assert first["status"] == 200 and second["status"] == 400 and second["body"]["reason"] == "state_used"


def test_skillcred_present_answers_a_peer_verifiers_encrypted_request(world: World) -> None:
    with _peer_verifier(BLUEPRINTS, "jwt") as (started, received):
        dry = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--dry-run", cwd=world.dir)
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir)
    assert json.loads(dry.stdout)["encrypted"] == {"alg": "ECDH-ES", "enc": "A128GCM", "kid": started["jwk"]["kid"]}
    assert "accepted" in proc.stderr
    assert received == [{"accepted": True, "holder": world.holder, "queries": ["drawing"]}]


@pytest.mark.parametrize(("tamper", "reason"), [
    ("jwt-rsa", "encryption_key_unsupported"),
    ("jwt-oct", "encryption_key_unsupported"),
    ("jwt-a192", "encryption_enc_unsupported"),
])
def test_skillcred_will_not_answer_a_peer_request_it_cannot_encrypt_to(world: World, tamper: str,
                                                                       reason: str) -> None:
    with _peer_verifier(BLUEPRINTS, tamper) as (started, received):
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and reason in proc.stderr
    assert received == []  # nothing was sent, in the clear or otherwise


def test_the_peer_verifier_decrypts_skillcreds_jwe_and_refuses_altered_ones(world: World) -> None:
    """skillcred's wallet library makes the response for the peer's encrypted request; the peer
    (its decryptJwe: node's crypto) reads it, and refuses a JWE to another key, an altered tag, an
    enc it did not offer, ``alg: dir`` and a replay of the accepted one."""
    from jwcrypto import jwe as jwcrypto_jwe
    from jwcrypto import jwk as jwcrypto_jwk

    from skillcred._internal import base64url
    from skillcred.oid4vp import (
        ResponseEncryption,
        build_vp_token,
        encrypt_response,
        fetch_request_object,
        new_encryption_key,
        parse_request_uri,
        plan_response,
        response_encryption,
        verify_request_object,
    )

    with _peer_verifier(BLUEPRINTS, "jwt") as (started, received):
        client_id, request_uri = parse_request_uri(started["uri"])
        with pytest.warns(UserWarning):
            token = fetch_request_object(request_uri, unsafe_allow_http_loopback=True)
        request = verify_request_object(token, expected_client_id=client_id)
        w = Wallet.open(world.wallet)
        params = {"vp_token": build_vp_token(w, plan_response(w, request), key=w.holder_key(b"pw")),
                  "state": request["state"]}
        enc = response_encryption(request)
        assert enc is not None and enc.kid == started["jwk"]["kid"]
        genuine = encrypt_response(params, enc)
        parts = genuine.split(".")
        tag = bytearray(base64url.decode(parts[4]))
        tag[0] ^= 1
        other, _ = new_encryption_key()
        box = jwcrypto_jwe.JWE(json.dumps(params).encode(), algs=["dir", "A128GCM"],
                               protected=json.dumps({"alg": "dir", "enc": "A128GCM", "kid": enc.kid}))
        box.add_recipient(jwcrypto_jwk.JWK.generate(kty="oct", size=128))
        attempts = [
            encrypt_response(params, ResponseEncryption({**other, "kid": enc.kid}, "A128GCM")),
            ".".join([*parts[:4], base64url.encode(bytes(tag))]),
            encrypt_response(params, ResponseEncryption(enc.jwk, "A256GCM")),
            str(box.serialize(compact=True)),
            genuine,
            genuine,
        ]
        for jwe in attempts:
            _post_form(request["response_uri"], {"response": jwe})
    reasons = [r.get("reason", "") for r in received]
    assert [r["accepted"] for r in received] == [False, False, False, False, True, False]
    assert "does not decrypt" in reasons[0] and "does not decrypt" in reasons[1]
    assert "enc A256GCM not offered" in reasons[2] and "alg dir not allowed" in reasons[3]
    assert reasons[5] == "replayed" and received[4]["holder"] == world.holder


def _post_form(url: str, fields: dict[str, str]) -> int:
    import urllib.error
    import urllib.parse
    import urllib.request

    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)

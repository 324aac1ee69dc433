"""OpenID4VP 1.0 (issue 19): signed request objects, the wallet's answer, the verifier's checks,
the endpoints of ``skillcred serve --verifier`` and the command line on both sides.

Attack classes, each with its variants, each failing with a named reason: an altered request
object (payload, header, signature, alg none, another key, another client id, expired, an
unsupported response mode); a replayed response (same body twice, the state of an answered
request); a wrong nonce (per format); a response made for another verifier (per format); a
required credential missing; a credential that does not answer its query; mixed holders; a
tampered presentation; malformed and oversized bodies.
"""

from __future__ import annotations

import base64
import copy
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oid4vp_support import SECRET_NAME, World, http_get, http_post, make_world, new_request, run, verifier_server
from skillcred._internal import base64url
from skillcred._internal.fileio import load_json_object
from skillcred.did import key_did, key_did_url, web_did_document
from skillcred.errors import InvalidArgument, Oid4vpRefused, Oid4vpRequestInvalid
from skillcred.keys import KeyPair
from skillcred.match import load_profile
from skillcred.oid4vp import (
    build_vp_token,
    check_response,
    client_id_for,
    new_request_payload,
    parse_request_uri,
    parse_vp_token,
    plan_response,
    query_from_profile,
    request_uri_for,
    sign_request_object,
    verify_request_object,
)
from skillcred.oid4vp._http import status_lists
from skillcred.oid4vp._store import VerifierStore, ranked
from skillcred.trust import TrustList
from skillcred.verify.verifier import VerificationPolicy, Verifier
from skillcred.wallet import Wallet

#: the test services are plain http on 127.0.0.1: the wallet needs the unsafe switch to reach them
LOOPBACK = "--unsafe-allow-http-loopback"
MAG = "http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498"
CNC_SKILL = "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"
BLUEPRINTS = "http://data.europa.eu/esco/skill/68b6ef08-d823-489d-a95c-752ae6f6e6a7"
UNHELD = "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-00000000dead"


def _profile_doc(*reqs: tuple[str, bool, int | None]) -> dict[str, Any]:
    return {"type": "SkillcredJobProfile", "id": "https://werk.example/vacatures/1", "title": "Allround vakman",
            "requirements": [{"skill": s, "label": s.rsplit("/", 1)[-1][:8], "essential": e, "weight": 1,
                              **({"level": lvl} if lvl else {})} for s, e, lvl in reqs]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = make_world(tmp_path_factory.mktemp("oid4vp"))
    # one requirement per credential: each of the three formats answers a query of its own
    (w.dir / "mixed.json").write_text(json.dumps(_profile_doc((MAG, True, 3), (CNC_SKILL, True, 3),
                                                              (BLUEPRINTS, False, 2))))
    (w.dir / "unheld.json").write_text(json.dumps(_profile_doc((UNHELD, True, None), (BLUEPRINTS, False, None))))
    return w


@pytest.fixture(scope="module")
def verifier_key() -> KeyPair:
    return KeyPair.generate()


def _request(world: World, key: KeyPair, profile: str = "mixed.json", **kw: Any) -> dict[str, Any]:
    path = world.dir / profile
    query = query_from_profile(load_profile(path), raw_requirements=load_json_object(path)["requirements"])
    return new_request_payload(client_id=client_id_for(key_did(key.public_key)),
                               response_uri="https://werk.example/oid4vp/response", dcql_query=query,
                               purpose="Vacature", client_name="Werk BV", **kw)


def _verifier(world: World) -> Verifier:
    return Verifier(VerificationPolicy(trust=TrustList.load(world.trust)),
                    status_lists=status_lists((), str(world.status_cache)))


def _token(world: World, request: dict[str, Any], wallet: Path | None = None) -> dict[str, list[Any]]:
    w = Wallet.open(wallet or world.wallet)
    plan = plan_response(w, request)
    return build_vp_token(w, plan, key=w.holder_key(b"pw"))


def _check(world: World, request: dict[str, Any], token: Any, profile: str = "mixed.json") -> Any:
    return check_response(request, json.dumps(token) if not isinstance(token, str) else token,
                          verifier=_verifier(world), profile=load_profile(world.dir / profile))


def _reason(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.reason)


# -- request objects ------------------------------------------------------------------------------


def _jar(payload: dict[str, Any], key: KeyPair) -> str:
    return sign_request_object(payload, key, kid=key_did_url(key.public_key))


def test_a_signed_request_object_verifies_and_carries_fresh_nonce_and_state(world: World,
                                                                          verifier_key: KeyPair) -> None:
    a, b = _request(world, verifier_key), _request(world, verifier_key)
    assert a["nonce"] != b["nonce"] and a["state"] != b["state"] and len(a["nonce"]) >= 16
    claims = verify_request_object(_jar(a, verifier_key), expected_client_id=a["client_id"])
    assert claims["client_id"].startswith("decentralized_identifier:did:key:")
    assert claims["response_mode"] == "direct_post" and claims["response_type"] == "vp_token"
    header = json.loads(base64url.decode(_jar(a, verifier_key).split(".")[0]))
    assert header["typ"] == "oauth-authz-req+jwt" and header["kid"] == key_did_url(verifier_key.public_key)


def _resign_header(token: str, change: dict[str, Any], key: KeyPair | None) -> str:
    h, p, s = token.split(".")
    header = {**json.loads(base64url.decode(h)), **change}
    h2 = base64url.encode(json.dumps(header).encode())
    sig = base64url.encode(key.sign(f"{h2}.{p}".encode())) if key else s
    return f"{h2}.{p}.{sig}"


def _alter_payload(token: str, **change: Any) -> str:
    h, p, s = token.split(".")
    payload = {**json.loads(base64url.decode(p)), **change}
    return f"{h}.{base64url.encode(json.dumps(payload).encode())}.{s}"


@pytest.mark.parametrize("attack", ["response_uri", "dcql_query", "nonce", "signature_bytes", "typ",
                                    "alg_none", "other_key", "kid_of_other_did", "uri_names_other_client"])
def test_an_altered_request_object_is_refused_by_name(world: World, verifier_key: KeyPair, attack: str) -> None:
    payload = _request(world, verifier_key)
    token = _jar(payload, verifier_key)
    expected = payload["client_id"]
    reason = "request_signature_invalid"
    other = KeyPair.generate()
    if attack == "response_uri":
        token = _alter_payload(token, response_uri="https://attacker.example/collect")
    elif attack == "dcql_query":
        q = copy.deepcopy(payload["dcql_query"])
        q["credentials"][0]["claims"].append({"id": "name", "path": ["credentialSubject", "name"]})
        token = _alter_payload(token, dcql_query=q)
    elif attack == "nonce":
        token = _alter_payload(token, nonce="chosen-by-attacker")
    elif attack == "signature_bytes":
        h, p, s = token.split(".")
        token = f"{h}.{p}.{base64url.encode(bytes(b ^ 1 for b in base64url.decode(s)))}"
    elif attack == "typ":
        token, reason = _resign_header(token, {"typ": "JWT"}, verifier_key), "request_typ_invalid"
    elif attack == "alg_none":
        token, reason = _resign_header(token, {"alg": "none"}, None), "request_alg_not_allowed"
    elif attack == "other_key":  # signed by someone else, claiming the verifier's kid
        h, p, _ = token.split(".")
        token = f"{h}.{p}.{base64url.encode(other.sign(f'{h}.{p}'.encode()))}"
    elif attack == "kid_of_other_did":
        token, reason = _resign_header(token, {"kid": key_did_url(other.public_key)}, other), "client_id_mismatch"
    else:  # the QR code names one verifier, the fetched object is another's (validly signed)
        foreign = _request(world, other)
        token, reason = _jar(foreign, other), "client_id_mismatch"
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        verify_request_object(token, expected_client_id=expected)
    assert _reason(exc) == reason


@pytest.mark.parametrize(("change", "reason"), [
    ({"response_mode": "direct_post.jwt"}, "encryption_key_unsupported"),  # no key to encrypt to
    ({"response_mode": "fragment"}, "response_mode_unsupported"),
    ({"response_type": "code"}, "response_type_unsupported"),
    ({"response_uri": "javascript:alert(1)"}, "response_uri_invalid"),
    ({"exp": 1}, "request_expired"),
    ({"state": ""}, "request_malformed"),
    ({"dcql_query": {"credentials": [{"id": "x", "format": "mso_mdoc"}]}}, "dcql_query_invalid"),
    ({"client_id": "redirect_uri:https://werk.example"}, "client_id_unsupported"),
])
def test_a_validly_signed_request_this_wallet_must_not_answer(world: World, verifier_key: KeyPair,
                                                            change: dict[str, Any], reason: str) -> None:
    payload = {**_request(world, verifier_key), **change}
    if change.get("client_id", "").startswith("redirect_uri"):
        h = base64url.encode(json.dumps({"alg": "EdDSA", "typ": "oauth-authz-req+jwt", "kid": "x#1"}).encode())
        p = base64url.encode(json.dumps(payload).encode())
        token = f"{h}.{p}.{base64url.encode(verifier_key.sign(f'{h}.{p}'.encode()))}"
    else:
        token = _jar(payload, verifier_key)
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        verify_request_object(token)
    assert _reason(exc) == reason


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 300_000, "e30.e30"])
def test_garbage_request_objects(garbage: str) -> None:
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        verify_request_object(garbage)
    assert _reason(exc) in {"request_malformed", "request_too_large"}


def test_a_did_web_verifier_needs_its_document(world: World) -> None:
    key = KeyPair.generate()
    did = "did:web:werk.example"
    doc = web_did_document(did, [key.public_key])
    kid = doc["verificationMethod"][0]["id"]
    payload = {**_request(world, key), "client_id": client_id_for(did)}
    token = sign_request_object(payload, key, kid=kid)
    with pytest.raises(Oid4vpRequestInvalid) as exc:
        verify_request_object(token)
    assert _reason(exc) == "client_id_unresolved" and exc.value.field == "verifier_did_document"
    assert "(verifier_did_document)" in str(exc.value)
    assert verify_request_object(token, did_documents=[doc])["client_id"] == "decentralized_identifier:" + did
    with pytest.raises(InvalidArgument):  # the kid must be a key of the client id's DID
        sign_request_object(payload, key, kid=key_did_url(key.public_key))


@pytest.mark.parametrize(("uri", "expected"), [
    ("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Fw.example%2Fr%2F1",
     ("decentralized_identifier:did:key:z6Mk", "https://w.example/r/1")),
    ("https://w.example/r/1", (None, "https://w.example/r/1")),
    (request_uri_for("decentralized_identifier:did:key:z6Mk", "http://127.0.0.1:9/r?x=1&y=2"),
     ("decentralized_identifier:did:key:z6Mk", "http://127.0.0.1:9/r?x=1&y=2")),
])
def test_parse_request_uri(uri: str, expected: tuple[str | None, str]) -> None:
    assert parse_request_uri(uri) == expected


@pytest.mark.parametrize("uri", ["", "openid4vp://?client_id=x", "openid4vp://?request_uri=file%3A%2F%2F%2Fetc",
                                 "openid4vp://?client_id=x&dcql_query=%7B%7D", "ftp://x/y"])
def test_parse_request_uri_refuses(uri: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_request_uri(uri)


# -- the wallet's answer and the verifier's checks -------------------------------------------------


def test_three_formats_answer_one_request_and_verify(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key)
    token = _token(world, request)
    assert set(token) == {"essential_ldp_vc", "optional_jwt_vc_json", "essential_vc_sd_jwt"}
    assert isinstance(token["essential_ldp_vc"][0], dict) and isinstance(token["optional_jwt_vc_json"][0], str)
    result = _check(world, request, token)
    assert result.holder == world.holder
    assert {c.id for c in result.credentials} == {world.sd, world.jwt, world.di}
    assert result.match.essential_coverage == 1.0
    assert result.to_dict()["verified"] is True


def test_only_what_the_vacancy_asks_is_sent(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="mixed.json")
    sd = _token(world, request)["essential_vc_sd_jwt"][0]
    decoded = b"".join(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
                       for seg in sd.split("~")[1:-1])
    assert SECRET_NAME.encode() not in decoded and SECRET_NAME.encode() not in sd.encode()
    payload = base64url.decode(sd.split("~")[0].split(".")[1])
    assert MAG.encode() in payload + decoded  # the alignment asked for is shown
    assert b"niveau-3" in decoded  # the result (level) was disclosable, and asked for
    # a vacancy about welding only: the CNC and drawing credentials are not sent at all
    (world.dir / "weld.json").write_text(json.dumps(_profile_doc((MAG, True, None))))
    weld = _token(world, _request(world, verifier_key, profile="weld.json"))
    assert list(weld) == ["essential_vc_sd_jwt"] and len(weld["essential_vc_sd_jwt"]) == 1


@pytest.mark.parametrize("query", ["essential_ldp_vc", "optional_jwt_vc_json", "essential_vc_sd_jwt"])
def test_a_wrong_nonce_fails_in_every_format(world: World, verifier_key: KeyPair, query: str) -> None:
    request = _request(world, verifier_key)
    token = _token(world, {**request, "nonce": "an-old-nonce"})
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, {query: token[query]})
    assert _reason(exc) == "nonce_mismatch"


@pytest.mark.parametrize("query", ["essential_ldp_vc", "optional_jwt_vc_json", "essential_vc_sd_jwt"])
def test_a_response_made_for_another_verifier_fails_in_every_format(world: World, verifier_key: KeyPair,
                                                                    query: str) -> None:
    request = _request(world, verifier_key)
    other = client_id_for(key_did(KeyPair.generate().public_key))
    token = _token(world, {**request, "client_id": other})  # same nonce, other audience
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, {query: token[query]})
    assert _reason(exc) == "audience_mismatch"


@pytest.mark.parametrize("query", ["essential_ldp_vc", "optional_jwt_vc_json", "essential_vc_sd_jwt"])
def test_a_lying_presentation_header_is_caught_by_the_verifier(world: World, verifier_key: KeyPair,
                                                               query: str) -> None:
    """The nonce/aud read first are only for the reason: a presentation that shows the right
    ones without being signed over them still fails the Verifier's own checks."""
    request = _request(world, verifier_key)
    token = _token(world, {**request, "nonce": "old"})
    pres = token[query][0]
    if query == "essential_ldp_vc":
        pres["proof"]["challenge"] = request["nonce"]
    elif query == "optional_jwt_vc_json":
        h, p, s = pres.split(".")
        pres = f"{h}.{base64url.encode(json.dumps({**json.loads(base64url.decode(p)), 'nonce': request['nonce']}).encode())}.{s}"  # noqa: E501
    else:
        head, kb = pres.rsplit("~", 1)
        h, p, s = kb.split(".")
        kbp = {**json.loads(base64url.decode(p)), "nonce": request["nonce"]}
        pres = f"{head}~{h}.{base64url.encode(json.dumps(kbp).encode())}.{s}"
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, {query: [pres]})
    assert _reason(exc) == "presentation_invalid"


def test_a_missing_required_credential_fails(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="unheld.json")
    w = Wallet.open(world.wallet)
    plan = plan_response(w, request)
    assert not plan.satisfied and plan.missing  # the wallet can tell
    assert [a.query_id for a in plan.answers] == ["optional_jwt_vc_json"]
    token = build_vp_token(w, plan, key=w.holder_key(b"pw"))
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, token, profile="unheld.json")
    assert _reason(exc) == "dcql_unsatisfied"


def test_dropping_the_only_required_answer_fails(world: World, verifier_key: KeyPair) -> None:
    (world.dir / "weld2.json").write_text(json.dumps(_profile_doc((MAG, True, None), (BLUEPRINTS, False, None))))
    request = _request(world, verifier_key, profile="weld2.json")
    token = _token(world, request)
    assert _check(world, request, token, profile="weld2.json").holder == world.holder
    del token["essential_vc_sd_jwt"]
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, token, profile="weld2.json")
    assert _reason(exc) == "dcql_unsatisfied"


def test_a_credential_must_answer_the_query_it_is_given_for(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key)
    token = _token(world, request)
    # the CNC credential (ldp_vc) given under a query asking for welding, in the right format
    q = copy.deepcopy(request["dcql_query"])
    q["credentials"][0]["claims"] = [{"id": "skill", "path": ["credentialSubject", "achievement", "alignment",
                                                               None, "targetUrl"], "values": [MAG]}]
    q["credentials"][0]["claim_sets"] = [["skill"]]
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, {**request, "dcql_query": q}, {"essential_ldp_vc": token["essential_ldp_vc"]})
    assert _reason(exc) == "dcql_claims_missing"


def test_presentations_of_two_holders_in_one_response_fail(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key)
    mine = _token(world, request)
    theirs = _token(world, request, wallet=world.other_wallet)
    assert list(theirs) == ["essential_vc_sd_jwt"]
    mixed = {"essential_ldp_vc": mine["essential_ldp_vc"], "essential_vc_sd_jwt": theirs["essential_vc_sd_jwt"]}
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, mixed)
    assert _reason(exc) == "holder_mismatch"


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda t: {"not_asked": t["essential_ldp_vc"]}, "query_unknown"),
    (lambda t: {"optional_jwt_vc_json": t["essential_ldp_vc"]}, "format_mismatch"),
    (lambda t: {"essential_ldp_vc": t["optional_jwt_vc_json"]}, "format_mismatch"),
    (lambda t: {"essential_vc_sd_jwt": [t["essential_vc_sd_jwt"][0].rsplit("~", 1)[0] + "~"]}, "key_binding_missing"),
    (lambda t: {"essential_vc_sd_jwt": []}, "vp_token_malformed"),
    (lambda t: {"essential_ldp_vc": t["essential_ldp_vc"] * 51}, "too_many_presentations"),
])
def test_malformed_answers_are_named(world: World, verifier_key: KeyPair, mutate: Any, reason: str) -> None:
    request = _request(world, verifier_key)
    token = _token(world, request)
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, mutate(token))
    assert _reason(exc) == reason


@pytest.mark.parametrize("raw", ["", "[]", "{}", "{\"a\": 1, \"a\": 2}", "NaN", "\"x\""])
def test_vp_token_must_be_a_strict_json_object(raw: str) -> None:
    with pytest.raises(Oid4vpRefused) as exc:
        parse_vp_token(raw)
    assert _reason(exc) == "vp_token_malformed"


def test_a_tampered_disclosure_fails(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key)
    sd = _token(world, request)["essential_vc_sd_jwt"][0]
    jwt, first, *rest = sd.split("~")
    claim = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    claim[1] = {"forged": True} if not isinstance(claim[1], str) else "forged"
    forged = base64.urlsafe_b64encode(json.dumps(claim).encode()).rstrip(b"=").decode()
    with pytest.raises(Oid4vpRefused) as exc:
        _check(world, request, {"essential_vc_sd_jwt": ["~".join([jwt, forged, *rest])]})
    assert _reason(exc) == "presentation_invalid"


# -- the store: single use, expiry ----------------------------------------------------------------


def test_a_transaction_is_answerable_once_and_until_it_expires(tmp_path: Path, world: World,
                                                               verifier_key: KeyPair) -> None:
    store = VerifierStore.init(tmp_path / "v", name="Werk BV")
    req = store.add_request(title="t", purpose=None, verifier_url="http://127.0.0.1:1", profile={},
                            dcql_query=_request(world, verifier_key)["dcql_query"])
    payload = _request(world, verifier_key)
    store.open_transaction(req.id, payload)
    assert store.consume(payload["state"])[0] == req.id
    for _ in range(2):
        with pytest.raises(Oid4vpRefused) as exc:
            store.consume(payload["state"])
        assert _reason(exc) == "state_used"
    with pytest.raises(Oid4vpRefused) as exc:
        store.consume("never-issued")
    assert _reason(exc) == "state_unknown"
    old = {**_request(world, verifier_key), "exp": 10}
    store.open_transaction(req.id, old)
    with pytest.raises(Oid4vpRefused) as exc:
        store.consume(old["state"])
    assert _reason(exc) == "request_expired"
    with pytest.raises(Exception, match="already a verifier folder"):
        VerifierStore.init(tmp_path / "v")


def test_ranked_puts_essential_coverage_first(tmp_path: Path) -> None:
    store = VerifierStore.init(tmp_path / "v")
    req = store.add_request(title="t", purpose=None, verifier_url="http://x", profile={}, dcql_query={})
    for i, (ess, score, ok) in enumerate([(0.5, 0.9, True), (1.0, 0.1, True), (1.0, 0.5, True), (1.0, 1.0, False)]):
        store.add_response(req.id, f"s{i}", verified=ok, reason=None, holder=f"h{i}", essential_coverage=ess,
                           score=score, result={})
    assert [r.holder for r in ranked(store.responses(req.id))] == ["h2", "h1", "h0"]


# -- over HTTP and the command line (loopback) -----------------------------------------------------


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("verifier") / "v"
    VerifierStore.init(folder, name="Metaalbedrijf De Vries")
    with verifier_server(world, folder, max_body_bytes=256 * 1024) as url:
        yield folder, url


_get, _post = http_get, http_post


def _fetch(uri: str) -> dict[str, Any]:
    client_id, request_uri = parse_request_uri(uri)
    status, data, ctype = _get(request_uri)
    assert status == 200 and ctype.startswith("application/oauth-authz-req+jwt")
    return verify_request_object(data, expected_client_id=client_id)


def _form(token: Any, state: str) -> bytes:
    return urllib.parse.urlencode({"vp_token": json.dumps(token), "state": state}).encode()


def _results(world: World, folder: Path) -> dict[str, Any]:
    proc = run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir, ok=False)
    assert proc.returncode in (0, 1), proc.stderr
    return dict(json.loads(proc.stdout))


@pytest.mark.loopback
def test_request_new_prints_the_uri_first_then_a_qr_code(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    proc = run("request", "new", "--profile", str(world.dir / "mixed.json"), "--verifier-url", url, LOOPBACK,
               "--verifier", str(folder), cwd=world.dir)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A")
    assert len(lines) > 10 and "█" in proc.stdout  # the terminal QR code
    zxingcpp = pytest.importorskip("zxingcpp")
    import qrcode
    img = qrcode.make(lines[0]).convert("L")  # the same payload, decoded by an independent reader
    assert zxingcpp.read_barcodes(img)[0].text == lines[0]


@pytest.mark.loopback
def test_each_fetch_is_a_new_transaction_and_unknown_requests_are_404(world: World,
                                                                     served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr")
    a, b = _fetch(uri), _fetch(uri)
    assert a["nonce"] != b["nonce"] and a["state"] != b["state"]
    assert a["client_metadata"]["client_name"] == "Metaalbedrijf De Vries"
    assert a["skillcred_purpose"] == "Vacature lasser"
    assert _get(url + "/oid4vp/requests/nope")[0] == 404


@pytest.mark.loopback
def test_the_worker_answers_with_present_oid4vp_and_the_employer_reads_ranked_results(
        world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json")
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir)
    # what the worker is shown before consenting: who, why, what, and exactly which claims
    for shown in ("Metaalbedrijf De Vries", "Vacature lasser", "MIG/MAG-lassen", "/credentialSubject/result",
                  "the whole credential", "accepted"):
        assert shown in proc.stderr, shown
    # the other worker shows welding only: an essential requirement evidenced is enough to answer
    run("present", "--wallet", "w2", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir)
    out = _results(world, folder)
    latest = [r for r in out["responses"] if r["verified"]]
    assert latest and latest[0]["essential_coverage"] == 1.0 and latest[0]["holder"] == world.holder
    assert {"verified", "essential_coverage", "score", "match", "reports"} <= set(latest[0])
    assert [r["holder"] for r in out["ranked"][:2]] == [world.holder, world.other_holder]
    text = run("request", "results", "--verifier", str(folder), cwd=world.dir).stdout
    assert "1. " + world.holder in text
    page = run("request", "results", "--verifier", str(folder), "--html", cwd=world.dir).stdout
    assert page.startswith("<!doctype html>") and world.holder in page


@pytest.mark.loopback
def test_ranking_over_several_candidates(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    (world.dir / "weld-read.json").write_text(json.dumps(_profile_doc((MAG, True, None), (BLUEPRINTS, True, None))))
    uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "weld-read.json")
    run("present", "--wallet", "w2", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir, ok=False)  # w2: welding only
    run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir)
    out = _results(world, folder)
    assert [r["holder"] for r in out["ranked"]] == [world.holder, world.other_holder]
    assert out["ranked"][0]["essential_coverage"] > out["ranked"][1]["essential_coverage"]


@pytest.mark.loopback
def test_a_replayed_response_is_refused(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    request = _fetch(new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json"))
    body = _form(_token(world, request), request["state"])
    status, reply = _post(request["response_uri"], body)
    assert status == 200 and reply["verified"] is True
    for _ in range(2):
        status, reply = _post(request["response_uri"], body)
        assert status == 400 and reply["reason"] == "state_used"


@pytest.mark.loopback
def test_the_verifier_refuses_by_name_over_http(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json")
    request = _fetch(uri)
    token = _token(world, request)
    response_uri = request["response_uri"]
    assert _post(response_uri, _form(token, "not-a-state"))[1]["reason"] == "state_unknown"
    assert _post(response_uri, b"vp_token=%7B%7D")[1]["reason"] == "state_missing"
    assert _post(response_uri, json.dumps({"vp_token": token}).encode(), "application/json")[0] == 415
    big = urllib.parse.urlencode({"vp_token": "x" * 300_000, "state": request["state"]}).encode()
    assert _post(response_uri, big) == (413, {"error": "invalid_request", "reason": "response_too_large",
                                              "error_description": "response_too_large: larger than 262144 bytes"})
    assert _post(response_uri, b"state=a&state=b&vp_token=x")[1]["reason"] == "response_malformed"
    # a wrong nonce: refused, and the state is spent (the attempt is kept, with its reason)
    stale = _token(world, {**request, "nonce": "old"})
    status, reply = _post(response_uri, _form(stale, request["state"]))
    assert status == 400 and reply["reason"] == "nonce_mismatch"
    assert _post(response_uri, _form(token, request["state"]))[1]["reason"] == "state_used"
    refused = [r for r in _results(world, folder)["responses"] if r["reason"] == "nonce_mismatch"]
    assert refused and refused[-1]["verified"] is False
    # a response to another verifier's request (its nonce and audience) posted here
    other = _fetch(uri)
    foreign = _token(world, {**other, "client_id": client_id_for(key_did(KeyPair.generate().public_key))})
    assert _post(response_uri, _form(foreign, other["state"]))[1]["reason"] == "audience_mismatch"


@pytest.mark.loopback
def test_present_dry_run_sends_nothing_and_shows_the_response(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json")
    before = len(_results(world, folder)["responses"])
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--dry-run", cwd=world.dir)
    shown = json.loads(proc.stdout)
    assert set(shown) == {"response_uri", "state", "vp_token"}
    assert SECRET_NAME not in proc.stdout
    assert len(_results(world, folder)["responses"]) == before


@pytest.mark.loopback
def test_present_without_yes_off_a_terminal_sends_nothing(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json")
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "--yes" in proc.stderr


@pytest.mark.loopback
def test_the_wallet_refuses_a_request_from_another_client_id(world: World, served: tuple[Path, str]) -> None:
    folder, url = served
    uri = new_request(world, folder, url, "--no-qr")
    _, request_uri = parse_request_uri(uri)
    forged = request_uri_for(client_id_for(key_did(KeyPair.generate().public_key)), request_uri)
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", forged, "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "client_id_mismatch" in proc.stderr
    warning, error = proc.stderr.strip().splitlines()  # the unsafe switch's warning, one error line
    assert warning.startswith("skillcred: warning: UNSAFE: --unsafe-allow-http-loopback")  # nothing shown/sent
    assert error.startswith("skillcred: error:")
    gone = request_uri_for(parse_request_uri(uri)[0] or "", url + "/oid4vp/requests/withdrawn")
    proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", gone, "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "request_unavailable" in proc.stderr


@pytest.mark.loopback
def test_the_wallet_reports_a_refusal_with_its_reason(world: World, served: tuple[Path, str],
                                                      tmp_path: Path) -> None:
    """A verifier whose trust list does not name the institute: the response is refused and the
    wallet exits 1 naming why."""
    folder = tmp_path / "v2"
    VerifierStore.init(folder, name="Andere werkgever")
    empty = TrustList(path=tmp_path / "empty-trust.json")
    empty.save()
    with verifier_server(world, folder, trust=tmp_path / "empty-trust.json") as url2:
        uri = new_request(world, folder, url2, "--no-qr", profile=world.dir / "mixed.json")
        proc = run("present", "--wallet", "w", LOOPBACK, "--oid4vp", uri, "--yes", cwd=world.dir, ok=False)
    assert proc.returncode == 1 and "presentation_invalid" in proc.stderr and "issuer_untrusted" in proc.stderr


@pytest.mark.loopback
def test_the_full_service_mounts_the_verifier_endpoints(world: World, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``skillcred serve --issuer ... --verifier DIR``: the VC-API app gains the OpenID4VP
    endpoints, checking with the service's trust list (and never accepting unsigned presentations)."""
    from oid4vp_support import serve_app
    from service_support import make_issuer
    from skillcred.service import ServiceConfig, create_app

    issuer = make_issuer(tmp_path / "svc")
    folder = tmp_path / "v"
    VerifierStore.init(folder, name="Werk BV")
    monkeypatch.setenv("SKILLCRED_STATUS_CACHE", str(world.status_cache))
    config = ServiceConfig(issuer_dir=str(issuer.folder), trust_file=str(world.trust),
                           public_url="http://127.0.0.1:1", token_file=str(issuer.token_file),
                           verifier_dir=str(folder))
    with serve_app(create_app(config)) as url:
        uri = new_request(world, folder, url, "--no-qr", profile=world.dir / "mixed.json")
        request = _fetch(uri)
        status, reply = _post(request["response_uri"], _form(_token(world, request), request["state"]))
        assert status == 200 and reply["verified"] is True
        assert _get(url + "/health")[0] == 200  # the VC-API is still there


def test_present_keeps_its_current_forms(world: World) -> None:
    proc = run("present", "--wallet", "w", "--select", "cnc", cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "--challenge" in proc.stderr
    proc = run("present", "--wallet", "w", "--select", "cnc", "--challenge", "c", "--domain", "d.example",
               cwd=world.dir)
    assert json.loads(proc.stdout)["proof"]["challenge"] == "c"
    proc = run("present", "--wallet", "w", "--oid4vp", "openid4vp://?x", "--challenge", "c", cwd=world.dir,
               ok=False)
    assert proc.returncode == 2 and "do not apply" in proc.stderr
    proc = run("present", "--wallet", "w", "--select", "cnc", "--yes", "--challenge", "c", "--domain", "d",
               cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "apply to --oid4vp" in proc.stderr


def test_request_new_refuses_bad_input_in_one_line(world: World, tmp_path: Path) -> None:
    for args, needle in [
        (["--profile", str(world.dir / "mixed.json"), "--verifier-url", "ftp://x"], "--verifier-url"),
        (["--profile", str(world.dir / "trust.json"), "--verifier-url", "https://werk.example"], "trust.json"),
    ]:
        proc = run("request", "new", *args, "--verifier", str(tmp_path / "v"), cwd=world.dir, ok=False)
        assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "v").exists()  # nothing half-made
    proc = run("request", "results", "--verifier", str(tmp_path / "none"), cwd=world.dir, ok=False)
    assert proc.returncode == 2 and "not a verifier folder" in proc.stderr

"""The SD-JWT VC profile (``dc+sd-jwt``) through the wallet protocols (issues 18 and 19).

* OpenID4VCI ``dc+sd-jwt`` issues the real SD-JWT VC: ``typ dc+sd-jwt``, the skillcred ``vct``
  (the same in the credential issuer metadata, its type metadata served by the service), ``cnf``
  = the key proof's key, a Token Status List entry and the registry row; a peer wallet and the
  ``@sd-jwt/sd-jwt-vc`` peer accept it;
* OpenID4VP DCQL asks for SD-JWT VCs by ``meta.vct_values`` and flat claim paths; the wallet
  discloses only the asked claims, the verifier checks the KB-JWT and the claims, then runs the
  Verifier and the match; one response may mix an SD-JWT VC, a vc+jwt and a Data Integrity
  credential; the npm peer wallet answers with a dc+sd-jwt;
* ``skillcred serve``'s own verify endpoints and the OpenID4VP verifier read Token Status Lists;
* ``issue --batch --format dc+sd-jwt`` records and writes SD-JWT VCs like single issuing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop_support import run_node
from oid4vp_support import ACH, SECRET_NAME, World, new_request, run, verifier_server
from service_support import free_port, make_issuer, running
from skillcred._internal.fileio import load_json_object
from skillcred.did import key_did
from skillcred.errors import MalformedDocument, Oid4vpRefused
from skillcred.issuer import EvidenceInput, Issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.match import load_profile
from skillcred.oid4vci import OfferInput, Oid4vciIssuer, create_offers, make_key_proof
from skillcred.oid4vci.offers import PRE_AUTHORIZED_GRANT
from skillcred.oid4vp import (
    build_vp_token,
    check_query,
    check_response,
    client_id_for,
    new_request_payload,
    plan_response,
    query_from_profile,
)
from skillcred.oid4vp._http import status_tokens, verifier_factory
from skillcred.oid4vp._store import VerifierStore
from skillcred.sdjwt import present_sd_jwt
from skillcred.sdjwt_vc import VCT_BY_KIND, metadata_integrity, sd_jwt_claims, well_known_path
from skillcred.secured import SecuredCredential
from skillcred.token_status import peek_status_list_token
from skillcred.trust import TrustList
from skillcred.verify.verifier import VerificationPolicy
from skillcred.wallet import Wallet

URL = "https://issuer.roc.example"
MIG = ACH / "mig-mag-lassen.yaml"
MAG = "http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498"
CNC_SKILL = "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"
BLUEPRINTS = "http://data.europa.eu/esco/skill/68b6ef08-d823-489d-a95c-752ae6f6e6a7"


def _part(token: str, n: int) -> dict[str, Any]:
    seg = token.split("~")[0].split(".")[n]
    out: dict[str, Any] = json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
    return out


def _disclosed_names(token: str) -> set[str]:
    names = set()
    for d in token.split("~")[1:-1]:
        arr = json.loads(base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)))
        names.add(arr[1])
    return names


# -- OpenID4VCI: the real SD-JWT VC -----------------------------------------------------------


class _Vci:
    def __init__(self, root: Path, key_type: str = "ed25519") -> None:
        self.setup = make_issuer(root, key_type=key_type)
        self.issuer = Issuer.open(self.setup.folder)
        self.oid = Oid4vciIssuer.for_issuer(self.issuer, URL)

    def receive(self, holder: KeyPair, *, use_jwk: bool = False, path: Path = MIG,
                level: str | None = "3") -> tuple[str, Any]:
        (offer,) = create_offers(self.issuer.registry, [OfferInput(load_achievement(path), "Jan Jansen", level,
                                                                   "dc+sd-jwt")], credential_issuer=URL)
        code = offer.document["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        token = self.oid.token({"grant_type": [PRE_AUTHORIZED_GRANT], "pre-authorized_code": [code]})["access_token"]
        proof = make_key_proof(holder, audience=URL, nonce=self.oid.nonce()["c_nonce"], use_jwk=use_jwk)
        answer = self.oid.credential(f"Bearer {token}", {"credential_configuration_id": offer.configuration_id,
                                                         "proofs": {"jwt": [proof]}})
        return str(answer["credentials"][0]["credential"]), offer


@pytest.fixture
def vci(tmp_path: Path) -> Iterator[_Vci]:
    v = _Vci(tmp_path)
    yield v
    v.issuer.close()


@pytest.mark.parametrize(("key_type", "use_jwk"), [("ed25519", False), ("p256", True), ("p256", False)])
def test_oid4vci_dc_sd_jwt_is_the_sd_jwt_vc_bound_to_the_proof_key(vci: _Vci, key_type: str, use_jwk: bool) -> None:
    holder = KeyPair.generate(key_type)  # type: ignore[arg-type]
    token, offer = vci.receive(holder, use_jwk=use_jwk)
    header, payload = _part(token, 0), _part(token, 1)
    assert header["typ"] == "dc+sd-jwt"
    assert payload["vct"] == VCT_BY_KIND["skill"] and payload["iss"] == vci.setup.did
    assert payload["cnf"] == {"jwk": holder.public_key.jwk()}
    assert "credentialSubject" not in payload and "@context" not in payload  # flat claims, not the W3C model
    record = vci.issuer.registry.get(vci.issuer.registry.offer(offer.id).credential_id or "")
    assert record.row_key == f"oid4vci:{offer.id}" and record.subject == key_did(holder.public_key)
    assert record.document["token"] == token
    # the Token Status List entry mirrors the revocation index: revoking sets it to 1
    slot = payload["status"]["status_list"]
    (uri, status_token), = vci.issuer.token_status_lists()
    assert uri == slot["uri"] and peek_status_list_token(status_token).status_list().get(slot["idx"]) == 0
    assert vci.issuer.revoke(record.id)
    (_uri, after), = vci.issuer.token_status_lists()
    assert peek_status_list_token(after).status_list().get(slot["idx"]) == 1


def test_the_metadata_names_the_real_vct_for_the_sd_jwt_vc_configuration_only(vci: _Vci) -> None:
    holder = KeyPair.generate()
    token, offer = vci.receive(holder)
    # the metadata lists configurations of offers a wallet can still take: one more of each
    for fmt in ("dc+sd-jwt", "jwt_vc_json", "ldp_vc"):
        create_offers(vci.issuer.registry, [OfferInput(load_achievement(MIG), "Piet", "3", fmt)],  # type: ignore[arg-type]
                      credential_issuer=URL)
    configs = vci.oid.credential_issuer_metadata()["credential_configurations_supported"]
    dc = configs[offer.configuration_id]
    assert dc["format"] == "dc+sd-jwt" and dc["vct"] == _part(token, 1)["vct"]
    assert [c.get("vct") for c in configs.values() if c["format"] != "dc+sd-jwt"] == [None, None]


def test_a_diploma_offered_as_dc_sd_jwt_gets_the_diploma_vct(vci: _Vci) -> None:
    diploma = next(p for p in sorted(ACH.glob("*.yaml")) if load_achievement(p).kind == "diploma")
    token, offer = vci.receive(KeyPair.generate(), path=diploma, level=None)
    assert _part(token, 1)["vct"] == VCT_BY_KIND["diploma"]
    create_offers(vci.issuer.registry, [OfferInput(load_achievement(diploma), "Piet", None, "dc+sd-jwt")],
                  credential_issuer=URL)  # an open offer keeps the configuration in the metadata
    configs = vci.oid.credential_issuer_metadata()["credential_configurations_supported"]
    assert configs[offer.configuration_id]["vct"] == VCT_BY_KIND["diploma"]


@pytest.mark.loopback
def test_peer_wallet_receives_a_dc_sd_jwt_and_the_sd_jwt_vc_peer_verifies_it(tmp_path: Path) -> None:
    setup = make_issuer(tmp_path, key_type="p256")  # the SD-JWT VC peer verifies ES256
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    uri = run("offer", "--issuer", str(setup.folder), "--achievement", str(MIG), "--subject-name", "Jan Jansen",
              "--level", "3", "--format", "dc+sd-jwt", "--public-url", url, "--unsafe-allow-http-loopback",
              cwd=tmp_path).stdout.splitlines()[0]
    with Issuer.open(setup.folder) as iss:
        issuer_jwk = iss.public_key.jwk()
    with running(setup, "--public-url", url, port=port) as server:
        got = run_node("oid4vci", "wallet.mjs", input_json={"offer": uri, "alg": "ES256", "signer": "jwk"})
        (token,) = got["credentials"]
        (seen,) = got["sd_jwt_vc"]  # the peer wallet checked typ, vct = the metadata's, cnf = its key
        assert seen["typ"] == "dc+sd-jwt" and seen["vct"] == got["vct"] == VCT_BY_KIND["skill"]
        client = server.client()
        meta = client.get(well_known_path(got["vct"]))
        assert meta.status == 200 and metadata_integrity(meta.json) == _part(token, 1)["vct#integrity"]
        # the token status list as the institute publishes it (status publish)
        with Issuer.open(setup.folder) as iss:
            ((uri_, status_token),) = iss.token_status_lists()
        assert uri_ == seen["status"]["status_list"]["uri"]
        out = run_node("sdjwt", "peer.mjs", "verify", input_json={
            "token": token, "issuer_public_jwk": issuer_jwk, "status_list_token": status_token,
            "type_metadata": meta.json})
        assert out["ok"], out
        assert out["payload"]["vct"] == VCT_BY_KIND["skill"] and out["payload"]["cnf"]["jwk"] == got["holder_jwk"]
        with Issuer.open(setup.folder) as iss:
            (record,) = [r for r in iss.registry.records() if r.row_key and r.row_key.startswith("oid4vci:")]
            iss.revoke(record.id)
            ((_uri, revoked),) = iss.token_status_lists()
    out = run_node("sdjwt", "peer.mjs", "verify", input_json={
        "token": token, "issuer_public_jwk": issuer_jwk, "status_list_token": revoked, "type_metadata": meta.json})
    assert not out["ok"]


# -- OpenID4VP: DCQL for SD-JWT VCs -----------------------------------------------------------


def _profile_doc(*reqs: tuple[str, bool, int | None]) -> dict[str, Any]:
    return {"type": "SkillcredJobProfile", "id": "https://werk.example/vacatures/7", "title": "Vakman",
            "requirements": [{"skill": s, "label": s.rsplit("/", 1)[-1][:8], "essential": e, "weight": 1,
                              **({"level": lvl} if lvl else {})} for s, e, lvl in reqs]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Wallet ``w``: MIG/MAG welding as an SD-JWT VC (with a name never to disclose), drawing as
    vc+jwt, CNC as Data Integrity; ``w2``: another worker's welding SD-JWT VC. Both kinds of status
    list (Bitstring, Token) imported into the verifier's cache."""
    d = tmp_path_factory.mktemp("dc-oid4vp")
    issuer = run("issuer", "init", "roc", "--name", "ROC", "--url", "https://roc.example", cwd=d).stdout.split()[0]
    holder = run("wallet", "init", "--wallet", "w", cwd=d).stdout.split()[0]
    other = run("wallet", "init", "--wallet", "w2", cwd=d).stdout.split()[0]
    sd = run("issue", "--issuer", "roc", "--achievement", str(MIG), "--subject", holder, "--name", SECRET_NAME,
             "--level", "3", "--format", "dc+sd-jwt", "-o", "lassen.sdjwt", cwd=d).stdout.split()[0]
    jwt = run("issue", "--issuer", "roc", "--achievement", str(ACH / "technisch-tekeninglezen.yaml"),
              "--subject", holder, "--level", "2", "--format", "jwt", "-o", "tekenen.jwt", cwd=d).stdout.split()[0]
    di = run("issue", "--issuer", "roc", "--achievement", str(ACH / "cnc-programmeren.yaml"),
             "--subject", holder, "--level", "3", "-o", "cnc.json", cwd=d).stdout.split()[0]
    run("issue", "--issuer", "roc", "--achievement", str(MIG), "--subject", other, "--level", "2",
        "--format", "dc+sd-jwt", "-o", "other.sdjwt", cwd=d)
    run("wallet", "add", "--wallet", "w", "lassen.sdjwt", "tekenen.jwt", "cnc.json", cwd=d)
    run("wallet", "add", "--wallet", "w2", "other.sdjwt", cwd=d)
    run("status", "publish", "--issuer", "roc", "--out-dir", "pub", cwd=d)
    run("status", "import", "pub/revocation-1", "pub/suspension-1", "pub/tokens/revocation-1.jwt",
        "--cache", "status-cache", cwd=d)
    run("trust", "add", "--trust", "trust.json", issuer, "--name", "ROC", cwd=d)
    (d / "mixed.json").write_text(json.dumps(_profile_doc((MAG, True, 3), (CNC_SKILL, True, 3),
                                                          (BLUEPRINTS, False, 2))))
    (d / "weld.json").write_text(json.dumps(_profile_doc((MAG, True, None))))
    return World(d, issuer, holder, other, sd, jwt, di)


@pytest.fixture(scope="module")
def verifier_key() -> KeyPair:
    return KeyPair.generate()


def _request(world: World, key: KeyPair, profile: str = "mixed.json",
             formats: tuple[str, ...] | None = None) -> dict[str, Any]:
    path = world.dir / profile
    kw = {"formats": formats} if formats else {}
    query = query_from_profile(load_profile(path), raw_requirements=load_json_object(path)["requirements"], **kw)
    return new_request_payload(client_id=client_id_for(key_did(key.public_key)),
                               response_uri="https://werk.example/oid4vp/response", dcql_query=query,
                               purpose="Vacature", client_name="Werk BV")


def _token(world: World, request: dict[str, Any], wallet: Path | None = None) -> dict[str, list[Any]]:
    w = Wallet.open(wallet or world.wallet)
    return build_vp_token(w, plan_response(w, request), key=w.holder_key(b"pw"))


def _check(world: World, request: dict[str, Any], token: Any, profile: str = "mixed.json") -> Any:
    make = verifier_factory(VerificationPolicy(trust=TrustList.load(world.trust)), (), str(world.status_cache))
    return check_response(request, json.dumps(token) if not isinstance(token, str) else token,
                          verifier=make(), profile=load_profile(world.dir / profile))


def _refused(world: World, request: dict[str, Any], token: Any, profile: str = "mixed.json") -> str:
    with pytest.raises(Oid4vpRefused) as info:
        _check(world, request, token, profile)
    return str(info.value.reason)


def test_the_dcql_query_asks_sd_jwt_vcs_by_vct_and_flat_claims(world: World, verifier_key: KeyPair) -> None:
    query = _request(world, verifier_key, formats=("dc+sd-jwt",))["dcql_query"]
    check_query(query)
    (essential, optional) = query["credentials"]
    assert essential["format"] == "dc+sd-jwt" and essential["meta"] == {"vct_values": list(VCT_BY_KIND.values())}
    assert "type_values" not in essential["meta"]
    paths = {tuple(c["path"]) for c in essential["claims"]}
    assert ("skill_1",) in paths and ("result_level",) in paths
    assert all(len(p) == 1 for p in paths)  # flat: no nested objects or arrays
    skill = next(c for c in essential["claims"] if c["path"] == ["skill_1"])
    assert sorted(skill["values"]) == sorted([MAG, CNC_SKILL])
    assert next(c for c in optional["claims"] if c["path"] == ["skill_1"])["values"] == [BLUEPRINTS]
    assert essential["claim_sets"][0] == ["skill_1", "level"]  # with the level first, then without
    assert ["skill_1"] in essential["claim_sets"]
    assert query["credential_sets"][0] == {"options": [["essential_dc_sd_jwt"]], "required": True}


def test_the_wallet_discloses_only_the_asked_sd_jwt_vc_claims_and_it_verifies(world: World,
                                                                               verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="weld.json", formats=("dc+sd-jwt",))
    token = _token(world, request)
    assert list(token) == ["essential_dc_sd_jwt"]
    (pres,) = token["essential_dc_sd_jwt"]
    assert _part(pres, 0)["typ"] == "dc+sd-jwt"
    names = _disclosed_names(pres)
    shown = sd_jwt_claims(pres)
    assert MAG in {v for k, v in shown.items() if k.startswith("skill_")}
    assert names and all(n.startswith("skill_") and "_" not in n[len("skill_"):] for n in names), names
    assert len(names) == 1  # the one matching slot: not its name/framework, no other skill, no person
    assert SECRET_NAME not in json.dumps(shown) and "holder_name" not in shown
    kb = _part(pres.rsplit("~", 1)[1], 1)
    assert kb["nonce"] == request["nonce"] and kb["aud"] == request["client_id"]
    result = _check(world, request, token, "weld.json")
    assert result.holder == world.holder and [c.id for c in result.credentials] == [world.sd]
    assert result.match.essential_coverage == 1.0
    status = next(c for r in result.reports for c in r["checks"] if c["id"].endswith(".status"))
    assert status["status"] == "passed"  # read from the cached Token Status List


def test_a_level_requirement_discloses_the_result_level(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, formats=("dc+sd-jwt",))
    (pres,) = _token(world, request)["essential_dc_sd_jwt"]
    names = _disclosed_names(pres)
    assert "result_level" in names and "holder_name" not in names and len(names) == 2
    result = _check(world, request, {"essential_dc_sd_jwt": [pres]})
    graded = {r.requirement.ref: r.evidence.level for r in result.match.requirements if r.evidence is not None}
    assert graded.get(MAG) == 3


def test_an_sd_jwt_vc_a_vc_jwt_and_a_data_integrity_credential_answer_one_request(world: World,
                                                                                   verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, formats=("dc+sd-jwt", "jwt_vc_json", "ldp_vc"))
    token = _token(world, request)
    assert set(token) == {"essential_dc_sd_jwt", "essential_ldp_vc", "optional_jwt_vc_json"}
    result = _check(world, request, token)
    assert result.holder == world.holder
    assert {c.id for c in result.credentials} == {world.sd, world.jwt, world.di}
    assert result.match.essential_coverage == 1.0 and result.to_dict()["verified"] is True


def _kb_token(world: World, request: dict[str, Any], *, nonce: str | None = None, aud: str | None = None,
              disclose: list[str] | None = None, wallet: Path | None = None) -> dict[str, list[str]]:
    w = Wallet.open(wallet or world.wallet)
    secured = next(s for e in w.entries() if (s := w.secured(e.id)).typ == "dc+sd-jwt")
    assert secured.token is not None
    claims = sd_jwt_claims(secured.token)
    slot = next(k for k, v in claims.items() if v == MAG)
    pres = present_sd_jwt(secured.token, disclose=[f"/{slot}"] if disclose is None else disclose,
                          holder_key=w.holder_key(b"pw"), nonce=nonce or request["nonce"],
                          aud=aud or request["client_id"], iat=int(time.time()))
    return {"essential_dc_sd_jwt": [pres]}


@pytest.mark.parametrize(("change", "reason"), [
    ({"nonce": "stale-nonce"}, "nonce_mismatch"),
    ({"aud": "decentralized_identifier:did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
     "audience_mismatch"),
    ({"aud": "https://werk.example"}, "audience_mismatch"),
    ({"disclose": []}, "dcql_claims_missing"),  # the asked skill withheld
])
def test_a_bad_sd_jwt_vc_answer_is_refused_by_name(world: World, verifier_key: KeyPair, change: dict[str, Any],
                                                   reason: str) -> None:
    request = _request(world, verifier_key, profile="weld.json", formats=("dc+sd-jwt",))
    assert _check(world, request, _kb_token(world, request), "weld.json").holder == world.holder
    assert _refused(world, request, _kb_token(world, request, **change), "weld.json") == reason


def test_an_sd_jwt_vc_without_key_binding_or_under_the_wrong_format_is_refused(world: World,
                                                                                verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="weld.json", formats=("dc+sd-jwt", "vc+sd-jwt"))
    (good,) = _kb_token(world, request)["essential_dc_sd_jwt"]
    bare = good.rsplit("~", 1)[0] + "~"
    assert _refused(world, request, {"essential_dc_sd_jwt": [bare]}, "weld.json") == "key_binding_missing"
    # an SD-JWT VC given as the W3C vc+sd-jwt answer (and the reverse reading) is not that format
    assert _refused(world, request, {"essential_vc_sd_jwt": [good]}, "weld.json") == "format_mismatch"


def test_another_workers_sd_jwt_vc_or_a_tampered_one_is_refused(world: World, verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="weld.json", formats=("dc+sd-jwt",))
    mine = _kb_token(world, request)["essential_dc_sd_jwt"][0]
    theirs = _kb_token(world, request, wallet=world.other_wallet)["essential_dc_sd_jwt"][0]
    # two holders in one response
    assert _refused(world, request, {"essential_dc_sd_jwt": [mine, theirs]}, "weld.json") == "holder_mismatch"
    # a disclosure swapped for a made-up one: the digest is not in the signed token
    head, *disclosures, kb = mine.split("~")
    forged = base64.urlsafe_b64encode(json.dumps(["salt", "skill_1", MAG]).encode()).decode().rstrip("=")
    assert _refused(world, request, {"essential_dc_sd_jwt": ["~".join([head, forged, kb])]},
                    "weld.json") == "presentation_invalid"
    assert disclosures  # (the genuine answer did disclose)


def test_a_suspended_sd_jwt_vc_is_refused_through_the_token_status_list(tmp_path: Path, world: World,
                                                                         verifier_key: KeyPair) -> None:
    request = _request(world, verifier_key, profile="weld.json", formats=("dc+sd-jwt",))
    token = _kb_token(world, request, wallet=world.other_wallet)
    profile = load_profile(world.dir / "weld.json")
    policy = VerificationPolicy(trust=TrustList.load(world.trust))
    other_id = _part((world.dir / "other.sdjwt").read_text(), 1)["jti"]
    with Issuer.open(world.dir / "roc", b"pw") as iss:
        iss.suspend(other_id)
        (_uri, suspended), = iss.token_status_lists()
        iss.unsuspend(other_id)  # the module's world stays as it was
    given = tmp_path / "revocation-1.jwt"
    given.write_text(suspended + "\n")
    # a list given as a file (serve --verifier --status-list) is newer than the cache's: it counts
    make = verifier_factory(policy, (str(given),), str(tmp_path / "empty-cache"))
    with pytest.raises(Oid4vpRefused) as info:
        check_response(request, json.dumps(token), verifier=make(), profile=profile)
    assert info.value.reason == "presentation_invalid" and "suspended" in str(info.value)
    # with no token status list at all the status is unknown: refused too (fail closed)
    make = verifier_factory(policy, (), str(tmp_path / "empty-cache"))
    with pytest.raises(Oid4vpRefused) as info:
        check_response(request, json.dumps(token), verifier=make(), profile=profile)
    assert info.value.reason == "presentation_invalid" and "status" in str(info.value)
    # and with the cached (valid) one it passes
    assert _check(world, request, token, "weld.json").holder == world.other_holder


def test_status_tokens_reads_files_and_the_cache_and_refuses_a_damaged_file(tmp_path: Path, world: World) -> None:
    cached = status_tokens((), str(world.status_cache))
    assert len(cached) == 1 and peek_status_list_token(cached[0]).uri.endswith("/tokens/revocation-1.jwt")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "broken.jwt").write_text("not.a.token\n")
    (cache / "link.jwt").symlink_to(world.dir / "pub" / "tokens" / "revocation-1.jwt")
    assert status_tokens((), str(cache)) == []  # damaged and linked cache files are skipped
    bad = tmp_path / "bad.jwt"
    bad.write_text("garbage")
    with pytest.raises(MalformedDocument, match="Status List Token"):
        status_tokens((str(bad),), str(cache))
    # a JSON (Bitstring) list among the files is not a token, and a token is not a Bitstring list
    bitstring = str(world.dir / "pub" / "revocation-1")
    assert status_tokens((bitstring,), str(cache)) == []


@pytest.mark.loopback
def test_the_npm_peer_wallet_answers_with_a_dc_sd_jwt_and_it_verifies(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "v"
    VerifierStore.init(folder, name="Metaalbedrijf De Vries")
    w = Wallet.open(world.wallet)
    creds = []
    for e in w.entries():
        s = w.secured(e.id)
        if s.typ == "dc+sd-jwt" and s.token:
            creds.append({"format": "dc+sd-jwt", "token": s.token, "claims": sd_jwt_claims(s.token)})
    assert len(creds) == 1
    key = w.holder_key(b"pw")
    with verifier_server(world, folder) as url:
        uri = new_request(world, folder, url, "--no-qr", "--format", "dc+sd-jwt", profile=world.dir / "weld.json")
        holder = {"did": w.holder, "kid": w.verification_method, "jwk": key.private_jwk()}
        out = run_node("oid4vp", "wallet.mjs", input_json={"uri": uri, "holder": holder, "credentials": creds})
        assert out["matched"] == ["essential_dc_sd_jwt"]
        assert out["submitted"] == [{"status": 200, "body": {"verified": True, "response_id": 1}}]
        results = json.loads(run("request", "results", "--verifier", str(folder), "--json", cwd=world.dir).stdout)
        (first,) = results["responses"]
        assert first["verified"] and first["holder"] == world.holder and first["essential_coverage"] == 1.0
        assert {r["query"] for r in first["reports"]} == {"essential_dc_sd_jwt"}
        # the peer disclosed only what the dcql package matched: the one skill slot
        proof = next(c for c in first["reports"][0]["checks"] if c["id"] == "credential.proof")
        assert "disclosed: /skill_" in proof["reason"] and "holder_name" not in proof["reason"], proof
        assert "," not in proof["reason"].split("disclosed:", 1)[1], proof
        bad = run_node("oid4vp", "wallet.mjs", input_json={
            "uri": new_request(world, folder, url, "--no-qr", "--format", "dc+sd-jwt",
                               profile=world.dir / "weld.json"),
            "holder": holder, "credentials": creds, "tamper": "nonce"})
        assert bad["submitted"][0]["status"] == 400 and bad["submitted"][0]["body"]["reason"] == "nonce_mismatch"


# -- skillcred serve's own verify endpoints ---------------------------------------------------


@pytest.mark.loopback
def test_serve_verifies_its_own_sd_jwt_vcs_status_from_its_token_status_lists(tmp_path: Path) -> None:
    setup = make_issuer(tmp_path)
    holder = KeyPair.generate("p256")
    with Issuer.open(setup.folder) as iss:
        rec, _ = iss.issue(load_achievement(ACH / "cnc-programmeren.yaml"), key_did(holder.public_key), name="Jan",
                           level="3", fmt="dc+sd-jwt", evidence=EvidenceInput(narrative="x", assessor="A"))
    secured = SecuredCredential.from_record(rec.document)
    envelope = secured.envelope()
    wallet = Wallet.init(tmp_path / "wallet", key=holder)
    wallet.add(SecuredCredential.from_file_bytes(rec.document["token"].encode()))
    (entry,) = wallet.entries()
    vp = wallet.present([wallet.secured(entry.id)], key=holder, challenge="c-1", domain="employer.example",
                        disclose=[])
    presented = {"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "employer.example"}}
    with running(setup) as server:
        c = server.client()
        ok = c.post("/credentials/verify", {"verifiableCredential": envelope})
        assert ok.status == 200, ok.raw
        assert "credential.status" in ok.json["checks"]
        shown = c.post("/presentations/verify", presented)
        assert shown.status == 200, shown.raw
        assert "credential[0].status" in shown.json["checks"]
        # suspended through the service, then revoked: its own Token Status List says so at once
        reply = c.post("/credentials/status", {"credentialId": rec.id, "credentialStatus": [
            {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "suspension"}]},
            headers=setup.auth)
        assert reply.status == 200, reply.raw
        suspended = c.post("/credentials/verify", {"verifiableCredential": envelope})
        assert suspended.status == 400 and suspended.json["errors"][0]["code"] == "suspended"
        with Issuer.open(setup.folder) as iss:
            iss.revoke(rec.id)
        revoked = c.post("/credentials/verify", {"verifiableCredential": envelope})
        assert revoked.status == 400 and revoked.json["errors"][0]["code"] == "revoked"
        answer = c.post("/presentations/verify", presented)
        assert answer.status == 400 and answer.json["errors"][0]["code"] == "revoked"


# -- issue --batch --format dc+sd-jwt ---------------------------------------------------------


def test_issue_batch_in_dc_sd_jwt_records_and_writes_sd_jwt_vcs(tmp_path: Path) -> None:
    run("issuer", "init", "roc", "--name", "ROC", "--url", "https://roc.example", cwd=tmp_path)
    holders = [run("wallet", "init", "--wallet", f"w{i}", cwd=tmp_path).stdout.split()[0] for i in range(2)]
    roster = tmp_path / "klas.csv"
    roster.write_text("subject,name,level\n" + "".join(f"{h},Leerling {i},3\n" for i, h in enumerate(holders))
                      + "did:web:school.example,Geen Sleutel,3\n")
    proc = run("issue", "--issuer", "roc", "--achievement", str(MIG), "--batch", str(roster), "--out-dir", "out",
               "--format", "dc+sd-jwt", cwd=tmp_path, ok=False)
    assert proc.returncode == 2 and "issued 2, already issued 0, failed 1" in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("skillcred: error:")]
    assert len(errors) == 1 and "klas.csv:4:" in errors[0] and "key" in errors[0]
    files = sorted((tmp_path / "out").iterdir())
    assert [f.suffix for f in files] == [".sdjwt", ".sdjwt"]
    with Issuer.open(tmp_path / "roc", b"pw") as iss:
        records = iss.registry.records()
        assert sorted(r.subject for r in records) == sorted(holders)
        (_uri, lst), = iss.token_status_lists()
    for f in files:
        token = f.read_text().strip()
        payload = _part(token, 1)
        assert _part(token, 0)["typ"] == "dc+sd-jwt" and payload["vct"] == VCT_BY_KIND["skill"]
        assert payload["status"]["status_list"]["uri"] == peek_status_list_token(lst).uri
    assert len({_part(f.read_text(), 1)["status"]["status_list"]["idx"] for f in files}) == 2
    # a holder's wallet takes its file like a singly issued one; a re-run issues nothing twice
    mine = next(f for f in files if _part(f.read_text(), 1)["sub"] == holders[0])
    run("wallet", "add", "--wallet", "w0", str(mine), cwd=tmp_path)
    again = run("issue", "--issuer", "roc", "--achievement", str(MIG), "--batch", str(roster), "--out-dir", "out",
                "--format", "dc+sd-jwt", cwd=tmp_path, ok=False)
    assert "issued 0, already issued 2, failed 1" in again.stdout
    assert sorted((tmp_path / "out").iterdir()) == files


def test_issue_batch_library_refuses_an_unknown_format(tmp_path: Path) -> None:
    from skillcred.errors import InvalidArgument

    setup = make_issuer(tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text("subject\ndid:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp\n")
    with Issuer.open(setup.folder) as iss, pytest.raises(InvalidArgument, match="format"):
        iss.issue_batch(roster, tmp_path / "out", default_achievement=load_achievement(MIG), fmt="vc+sd-jwt")
    assert not any((tmp_path / "out").iterdir())

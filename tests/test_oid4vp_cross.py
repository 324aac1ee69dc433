"""Cross-format OpenID4VP interop, both directions (issue 19, item 5): an SD-JWT VC
(``dc+sd-jwt``), a ``jwt_vc_json`` and a Data Integrity (``ldp_vc``) credential in one response.

Peer: ``@openid4vc/openid4vp`` 0.4 + ``dcql`` 3 (tests/interop/oid4vp/), whose Data Integrity
presentations are signed by the peer itself (di.mjs: eddsa-jcs-2022 written from the spec with
node's crypto), around a credential skillcred issued with eddsa-jcs-2022. One direction: the peer
wallet answers a skillcred request for all three and skillcred's verifier accepts it, its match
report counting all three. The other: ``skillcred present --oid4vp`` answers a peer verifier asking
for the three, and the peer (its own signature checks, then the dcql package's result) accepts.

Negative, each refused by name at skillcred's verifier: a Data Integrity VP with the wrong
challenge, with the wrong domain; one credential of three missing (each of them); a credential
filed under the wrong query id (an unknown id, another format's query, a query of its own format
whose claims it does not show). At the peer verifier: a skillcred response missing one of the
three, and a replay.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from interop_support import peer_dir, run_node
from oid4vp_support import ACH, World, make_world, peer_verifier, run, verifier_server
from skillcred.errors import InvalidArgument
from skillcred.keys import KeyPair
from skillcred.match import JobProfile, Requirement
from skillcred.oid4vp import query_from_profile, request_uri_for
from skillcred.oid4vp._http import request_uri_of
from skillcred.oid4vp._store import VerifierStore
from skillcred.oid4vp._suites import vp_cryptosuite
from skillcred.oid4vp._wallet import oid4vp_format
from skillcred.sdjwt_vc import sd_jwt_claims
from skillcred.wallet import Wallet

LOOPBACK = "--unsafe-allow-http-loopback"
MAG = "http://data.europa.eu/esco/skill/60ff3eac-7d4d-4e51-87b8-74c3b5d62498"
BLUEPRINTS = "http://data.europa.eu/esco/skill/68b6ef08-d823-489d-a95c-752ae6f6e6a7"
CNC_SKILL = "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"
#: the three queries of the cross-format request: each format answers one, all three required
THREE = {"welding": ("dc+sd-jwt", MAG), "cnc": ("ldp_vc", CNC_SKILL), "drawing": ("jwt_vc_json", BLUEPRINTS)}

pytestmark = pytest.mark.loopback


def _profile(*reqs: tuple[str, bool]) -> dict[str, Any]:
    return {"type": "SkillcredJobProfile", "id": "https://werk.example/v/3", "title": "Lassen, CNC en tekenen",
            "requirements": [{"skill": s, "label": s[-8:], "essential": e, "weight": 1} for s, e in reqs]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The OpenID4VP world plus wallet ``w3``: welding as an SD-JWT VC (dc+sd-jwt), drawing as
    vc+jwt, CNC as Data Integrity with eddsa-jcs-2022 (a suite the peer checks itself)."""
    peer_dir("oid4vp")  # fail early (not skip) when Node is there but the peer is not installed
    w = make_world(tmp_path_factory.mktemp("oid4vp-cross"))
    d = w.dir
    holder = run("wallet", "init", "--wallet", "w3", cwd=d).stdout.split()[0]
    for ach, fmt, out, extra in [("mig-mag-lassen", "dc+sd-jwt", "w3-lassen.dcsd", ()),
                                 ("technisch-tekeninglezen", "jwt", "w3-tekenen.jwt", ()),
                                 ("cnc-programmeren", "di", "w3-cnc.json", ("--suite", "eddsa-jcs-2022"))]:
        run("issue", "--issuer", "roc", "--achievement", str(ACH / f"{ach}.yaml"), "--subject", holder,
            "--level", "3", "--format", fmt, *extra, "-o", out, cwd=d)
    run("wallet", "add", "--wallet", "w3", "w3-lassen.dcsd", "w3-tekenen.jwt", "w3-cnc.json", cwd=d)
    # the new credentials' status entries: publish and import the lists again
    run("status", "publish", "--issuer", "roc", "--out-dir", "pub3", cwd=d)
    run("status", "import", "pub3/revocation-1", "pub3/suspension-1", "pub3/tokens/revocation-1.jwt", "--cache",
        "status-cache", cwd=d)
    (d / "three.json").write_text(json.dumps(_profile((MAG, True), (CNC_SKILL, True), (BLUEPRINTS, False))))
    return w


def _w3(world: World) -> Wallet:
    return Wallet.open(world.dir / "w3")


def _one_query(qid: str, fmt: str, skill: str) -> dict[str, Any]:
    """The query skillcred makes for one essential skill in one format, renamed ``qid``."""
    profile = JobProfile(title="one", occupation=None,
                         requirements=(Requirement(ref=skill, label=skill[-8:], level=None, essential=True,
                                                   weight=1.0),))
    one = query_from_profile(profile, formats=(fmt,), raw_requirements=[{"skill": skill}])["credentials"][0]
    return {**one, "id": qid}


def _three_query() -> dict[str, Any]:
    """One query per format (THREE) and no credential_sets: every one is required (DCQL)."""
    return {"credentials": [_one_query(qid, fmt, skill) for qid, (fmt, skill) in THREE.items()]}


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VerifierStore, str]]:
    folder = tmp_path_factory.mktemp("verifier") / "v"
    store = VerifierStore.init(folder, name="Metaalbedrijf De Vries")
    with verifier_server(world, folder) as url:
        yield store, url


def _request_uri(store: VerifierStore, url: str, query: dict[str, Any] | None = None) -> str:
    """A request for the three-requirement vacancy (stored as ``request new`` stores one), asking
    ``query`` (default: the three formats, all required)."""
    profile = _profile((MAG, True), (CNC_SKILL, True), (BLUEPRINTS, False))
    req = store.add_request(title=profile["title"], purpose="Vacature", verifier_url=url, profile=profile,
                            dcql_query=query or _three_query())
    return request_uri_for(store.client_id, request_uri_of(url, req.id))


def _peer_input(world: World, uri: str, **extra: Any) -> dict[str, Any]:
    """What the peer wallet holds: w3's key and its three credentials, each as its format carries it."""
    w = _w3(world)
    creds = []
    for e in w.entries():
        s = w.secured(e.id)
        fmt = oid4vp_format(s)
        if fmt == "ldp_vc":
            creds.append({"format": fmt, "document": dict(s.document), "claims": dict(s.document)})
        elif fmt == "dc+sd-jwt":
            assert s.token is not None
            creds.append({"format": fmt, "token": s.token, "claims": sd_jwt_claims(s.token)})
        else:
            creds.append({"format": fmt, "token": s.token, "claims": dict(s.document)})
    assert sorted(c["format"] for c in creds) == ["dc+sd-jwt", "jwt_vc_json", "ldp_vc"]
    key = w.holder_key(b"pw")
    return {"uri": uri, "holder": {"did": w.holder, "kid": w.verification_method, "jwk": key.private_jwk()},
            "credentials": creds, **extra}


def _last(store: VerifierStore) -> Any:
    return store.responses(store.request().id)[-1]


# -- the peer wallet answers skillcred's verifier -------------------------------------------------


def test_a_peer_wallets_three_format_response_verifies_and_matches(world: World,
                                                                  served: tuple[VerifierStore, str]) -> None:
    store, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _request_uri(store, url)))
    assert out["submitted"] == [{"status": 200, "body": {"verified": True, "response_id": _last(store).id}}]
    assert sorted(out["matched"]) == ["cnc", "drawing", "welding"]  # the dcql package's choice
    r = _last(store)
    assert r.verified and r.holder == _w3(world).holder and r.essential_coverage == 1.0
    assert {(rep["query"], rep["verified"]) for rep in r.result["reports"]} == \
        {("welding", True), ("cnc", True), ("drawing", True)}
    # the match report counts all three: each requirement met by the credential of its format
    met = {req["skill"]: req["status"] for req in r.result["match"]["requirements"]}
    assert met == {MAG: "met", CNC_SKILL: "met", BLUEPRINTS: "met"}
    assert r.result["coverage"] == 1.0
    # the peer's own eddsa-jcs-2022 holder proof is what skillcred verified for the ldp_vc answer
    cnc = next(rep for rep in r.result["reports"] if rep["query"] == "cnc")
    assert "eddsa-jcs-2022" in json.dumps(cnc)


@pytest.mark.parametrize(("extra", "reason"), [
    ({"tamper": "challenge"}, "nonce_mismatch"),
    ({"tamper": "domain"}, "audience_mismatch"),
    ({"drop": ["cnc"]}, "dcql_unsatisfied"),
    ({"drop": ["welding"]}, "dcql_unsatisfied"),
    ({"drop": ["drawing"]}, "dcql_unsatisfied"),
    ({"move": {"cnc": "cnc-elsewhere"}}, "query_unknown"),
    ({"move": {"cnc": "drawing", "drawing": "cnc"}}, "format_mismatch"),
])
def test_a_bad_three_format_response_is_refused_by_name(world: World, served: tuple[VerifierStore, str],
                                                        extra: dict[str, Any], reason: str) -> None:
    store, url = served
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, _request_uri(store, url), **extra))
    assert out["submitted"][0]["status"] == 400, out
    assert out["submitted"][0]["body"]["reason"] == reason
    assert _last(store).reason == reason and not _last(store).verified


def test_a_credential_under_a_query_of_its_format_it_does_not_answer_is_refused(
        world: World, served: tuple[VerifierStore, str]) -> None:
    """A fourth, optional ldp_vc query for welding: the CNC Data Integrity credential filed under
    it (the format fits, the claims do not) is ``dcql_claims_missing``."""
    store, url = served
    query = _three_query()
    query["credentials"].append(_one_query("welding_di", "ldp_vc", MAG))
    query["credential_sets"] = [{"options": [[q]], "required": True} for q in THREE] + \
        [{"options": [["welding_di"]], "required": False}]
    uri = _request_uri(store, url, query)
    ok = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, uri))
    assert ok["submitted"][0]["status"] == 200  # the query itself is answerable as asked
    uri = _request_uri(store, url, query)
    out = run_node("oid4vp", "wallet.mjs", input_json=_peer_input(world, uri, move={"cnc": "welding_di"}))
    assert out["submitted"][0]["status"] == 400 and out["submitted"][0]["body"]["reason"] == "dcql_claims_missing"


# -- skillcred's wallet answers the peer verifier -------------------------------------------------


def _peer_verifier(*args: str) -> contextlib.AbstractContextManager[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The peer verifier in its three-format mode (oid4vp_support.peer_verifier)."""
    return peer_verifier("three", *args)


def test_skillcred_answers_a_peer_request_for_three_formats(world: World) -> None:
    with _peer_verifier(MAG, CNC_SKILL, BLUEPRINTS) as (started, received):
        proc = run("present", "--wallet", "w3", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir)
    assert "accepted" in proc.stderr
    for fmt in ("[dc+sd-jwt]", "[ldp_vc]", "[jwt_vc_json]"):  # what the worker was shown
        assert fmt in proc.stderr, proc.stderr
    assert received == [{"accepted": True, "holder": _w3(world).holder,
                         "queries": ["cnc", "drawing", "welding"],
                         "checked": {"cnc": "ldp_vc", "drawing": "jwt_vc_json", "welding": "dc+sd-jwt"}}]


def test_the_peer_refuses_skillcreds_response_missing_one_of_three(world: World) -> None:
    with _peer_verifier(MAG, CNC_SKILL, BLUEPRINTS) as (started, received):
        # the worker narrows the answer to two credentials: the third required one is missing
        proc = run("present", "--wallet", "w3", LOOPBACK, "--oid4vp", started["uri"], "--yes", "--select",
                   "MIG", "--select", "CNC", cwd=world.dir, ok=False)
    assert proc.returncode == 1 and "dcql_unsatisfied" in proc.stderr and received == []  # skillcred stops first


def test_the_peer_refuses_a_replayed_three_format_response(world: World) -> None:
    with _peer_verifier(MAG, CNC_SKILL, BLUEPRINTS) as (started, received):
        run("present", "--wallet", "w3", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir)
        again = run("present", "--wallet", "w3", LOOPBACK, "--oid4vp", started["uri"], "--yes", cwd=world.dir,
                    ok=False)
    assert again.returncode == 1 and "replayed" in again.stderr
    assert [r["accepted"] for r in received] == [True, False]


# -- the wallet signs Data Integrity presentations in a suite the verifier takes -------------------


@pytest.mark.parametrize(("key_type", "listed", "expected"), [
    ("ed25519", None, "eddsa-rdfc-2022"),  # the verifier lists nothing: the key's default
    ("ed25519", ["eddsa-rdfc-2022", "eddsa-jcs-2022"], "eddsa-rdfc-2022"),
    ("ed25519", ["ecdsa-jcs-2019", "eddsa-jcs-2022"], "eddsa-jcs-2022"),  # the first this key can make
    ("p256", ["eddsa-jcs-2022", "ecdsa-jcs-2019"], "ecdsa-jcs-2019"),
    ("ed25519", ["ecdsa-sd-2023", "bbs-2023"], None),  # nothing this key can make: refused, not guessed
])
def test_the_presentation_suite_is_one_the_verifier_lists(key_type: str, listed: list[str] | None,
                                                         expected: str | None) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    meta = {} if listed is None else {"vp_formats_supported": {"ldp_vc": {"cryptosuite_values": listed}}}
    request = {"client_metadata": meta}
    if expected is None:
        with pytest.raises(InvalidArgument, match="cannot make"):
            vp_cryptosuite(request, key)
    else:
        assert vp_cryptosuite(request, key) == expected

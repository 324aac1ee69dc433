"""OpenID4VP interop on loopback, both directions, against ``@openid4vc/openid4vp`` 0.4 and ``dcql``
3 (tests/interop/oid4vp/, pinned): a peer wallet answers a skillcred request (a vc+jwt and an
SD-JWT in one response) and the result verifies; ``skillcred present --oid4vp`` answers a request
made by a peer verifier and the peer accepts. Negative: a replayed response, a wrong nonce, a
response made for another verifier, a missing required credential (at skillcred's verifier), an
altered request object and a replay (at skillcred's wallet). The dcql package also judges
skillcred's queries and credentials, as a differential check of its DCQL evaluation.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop_support import node_or_skip, peer_dir, run_node
from oid4vp_support import World, make_world, new_request, run, verifier_server
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


@contextlib.contextmanager
def _peer_verifier(skill: str, *args: str) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The peer verifier running; yields (its first line: uri, client_id) and, after the block,
    the responses it logged (one line each)."""
    folder = peer_dir("oid4vp")
    proc = subprocess.Popen([node_or_skip(), str(folder / "verifier.mjs"), skill, *args], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first:
        proc.kill()
        pytest.fail(f"the peer verifier did not start: {proc.communicate()[1][-2000:]}")
    received: list[dict[str, Any]] = []
    try:
        yield json.loads(first), received
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=60)
        received.extend(json.loads(line) for line in rest.splitlines() if line.strip())


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

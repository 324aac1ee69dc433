"""SD-JWT VC and Token Status List against another implementation: the OpenWallet Foundation's
``@sd-jwt/sd-jwt-vc`` and ``@sd-jwt/jwt-status-list`` (0.19.0, tests/interop/sdjwt/).

Both directions: the peer verifies skillcred's ``dc+sd-jwt`` (without and with a Key Binding JWT,
with the Token Status List and the type metadata ``skillcred serve`` hands out), skillcred
verifies the peer's (issued by the peer, disclosures withheld); the peer reads skillcred's status
lists and skillcred reads the peer's. Negative cases in each direction, so a peer that accepts
everything could not pass."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from interop_support import run_node
from service_support import make_issuer, running
from skillcred.did import DidResolver, key_did
from skillcred.errors import TokenInvalid
from skillcred.issuer import EvidenceInput, Issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.sdjwt import present_sd_jwt, verify_sd_jwt
from skillcred.sdjwt_vc import VCT_BY_KIND, metadata_integrity, type_metadata
from skillcred.secured import SecuredCredential
from skillcred.token_status import TokenStatusList, peek_status_list_token
from skillcred.verify import Verifier

ROOT = Path(__file__).resolve().parents[1]
CNC = ROOT / "examples" / "achievements" / "cnc-programmeren.yaml"
AUD = "https://employer.example"


def _payload(token: str) -> dict[str, Any]:
    part = token.split("~")[0].split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


class _Setup:
    def __init__(self, root: Path) -> None:
        self.setup = make_issuer(root, key_type="p256")
        self.holder = KeyPair.generate("p256")
        with Issuer.open(self.setup.folder) as iss:
            self.issuer_jwk = iss._key.public_key.jwk()
            self.issuer_did = iss.profile.did
            self.kid = iss.profile.verification_method

    def issue(self) -> Any:
        with Issuer.open(self.setup.folder) as iss:
            rec, _ = iss.issue(load_achievement(CNC), key_did(self.holder.public_key), name="Jan", level="3",
                               fmt="dc+sd-jwt", evidence=EvidenceInput(narrative="x", assessor="A"))
        return rec

    def status_tokens(self) -> dict[str, str]:
        with Issuer.open(self.setup.folder) as iss:
            return dict(iss.token_status_lists())


@pytest.fixture
def env(tmp_path: Path) -> _Setup:
    return _Setup(tmp_path)


def _peer_verify(env: _Setup, token: str, status_token: str, **kw: Any) -> Any:
    return run_node("sdjwt", "peer.mjs", "verify", input_json={
        "token": token, "issuer_public_jwk": env.issuer_jwk, "status_list_token": status_token, **kw})


# -- the peer verifies skillcred's --------------------------------------------------------------


def test_peer_verifies_skillcred_token_without_key_binding(env: _Setup) -> None:
    rec = env.issue()
    token = rec.document["token"]
    uri = _payload(token)["status"]["status_list"]["uri"]
    out = _peer_verify(env, token, env.status_tokens()[uri], type_metadata=type_metadata("skill"))
    assert out["ok"], out
    assert out["header"]["typ"] == "dc+sd-jwt"
    assert out["payload"]["vct"] == VCT_BY_KIND["skill"]
    assert out["payload"]["holder_name"] == "Jan"  # the holder has every disclosure
    assert out["type_metadata"] == [VCT_BY_KIND["skill"]]  # the peer's own type metadata schema accepts ours


def test_peer_verifies_skillcred_presentation_with_key_binding(env: _Setup) -> None:
    token = env.issue().document["token"]
    uri = _payload(token)["status"]["status_list"]["uri"]
    presented = present_sd_jwt(token, disclose=["/skill_2"], holder_key=env.holder, nonce="n-42", aud=AUD)
    out = _peer_verify(env, presented, env.status_tokens()[uri], kb=True, nonce="n-42")
    assert out["ok"], out
    assert out["kb"]["aud"] == AUD and out["kb"]["nonce"] == "n-42"
    assert "skill_2" in out["payload"] and "holder_name" not in out["payload"]
    wrong = _peer_verify(env, presented, env.status_tokens()[uri], kb=True, nonce="another-nonce")
    assert not wrong["ok"]


def test_peer_refuses_a_revoked_or_tampered_skillcred_token(env: _Setup) -> None:
    rec = env.issue()
    token = rec.document["token"]
    uri = _payload(token)["status"]["status_list"]["uri"]
    assert _peer_verify(env, token, env.status_tokens()[uri])["ok"]
    jwt, rest = token.split("~", 1)
    h, _p, s = jwt.split(".")
    claims = _payload(token)
    claims["achievement_name"] = "Something else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert not _peer_verify(env, f"{h}.{forged}.{s}~{rest}", env.status_tokens()[uri])["ok"]
    with Issuer.open(env.setup.folder) as iss:
        iss.revoke(rec.id)
    out = _peer_verify(env, token, env.status_tokens()[uri])
    assert not out["ok"] and "Status" in out["error"]


@pytest.mark.loopback
def test_peer_verifies_with_what_skillcred_serve_hosts(env: _Setup) -> None:
    rec = env.issue()
    token = rec.document["token"]
    uri = _payload(token)["status"]["status_list"]["uri"]
    path = "/status/tokens/" + uri.rsplit("/", 1)[1]
    with running(env.setup, "--public-url", "https://roc.example") as server:
        client = server.client()
        reply = client.get(path, headers={"Accept": "application/statuslist+jwt"})
        assert reply.status == 200 and reply.content_type == "application/statuslist+jwt"
        status_token = reply.raw.decode()
        again = client.get(path, headers={"If-None-Match": reply.headers["etag"]})
        assert again.status == 304
        meta = client.get("/.well-known/vct/skillcred/vct/v1/skill-credential")
        assert meta.status == 200
        assert metadata_integrity(meta.json) == _payload(token)["vct#integrity"]
        assert client.get("/.well-known/vct/skillcred/vct/v1/nothing").status == 404
        assert client.get("/status/tokens/nothing.jwt").status == 404
        out = _peer_verify(env, token, status_token, type_metadata=meta.json)
        assert out["ok"], out
        with Issuer.open(env.setup.folder) as iss:
            iss.suspend(rec.id)
        suspended = client.get(path).raw.decode()
    assert peek_status_list_token(suspended).status_list().get(_payload(token)["status"]["status_list"]["idx"]) == 2
    assert not _peer_verify(env, token, suspended)["ok"]


# -- skillcred verifies the peer's --------------------------------------------------------------


def _peer_claims(env: _Setup, **extra: Any) -> dict[str, Any]:
    return {"iss": env.issuer_did, "sub": key_did(env.holder.public_key), "vct": VCT_BY_KIND["skill"],
            "iat": 1_780_000_000, "cnf": {"jwk": env.holder.public_key.jwk()},
            "achievement_id": "https://roc.example/achievements/cnc", "achievement_name": "CNC (peer)",
            "skill_1": "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8",
            "skill_1_name": "CNC", "skill_2": "http://data.europa.eu/esco/skill/d9818afc-1dec-4944-8c9c-e3ae8fad176d",
            "holder_name": "Jan", **extra}


def _peer_issue(env: _Setup, claims: dict[str, Any], present: dict[str, Any] | None = None,
                nonce: str | None = None) -> Any:
    with Issuer.open(env.setup.folder) as iss:
        private = iss._key.private_jwk()
    return run_node("sdjwt", "peer.mjs", "issue", input_json={
        "issuer_private_jwk": private, "issuer_public_jwk": env.issuer_jwk, "issuer_kid": env.kid,
        "holder_private_jwk": env.holder.private_jwk(), "claims": claims,
        "disclosure_frame": {"_sd": ["skill_1", "skill_1_name", "skill_2", "holder_name"]},
        "present": present, "nonce": nonce, "aud": AUD})


def test_skillcred_verifies_a_peer_token_with_disclosures_withheld(env: _Setup) -> None:
    out = _peer_issue(env, _peer_claims(env), present={"skill_1": True, "skill_1_name": True}, nonce="n-7")
    res = verify_sd_jwt(out["presented"], resolver=DidResolver(), expected_nonce="n-7", expected_aud=AUD,
                        expected_typ="dc+sd-jwt")
    assert res.key_bound and res.claims["skill_1_name"] == "CNC"
    assert "skill_2" not in res.claims and "holder_name" not in res.claims
    # the whole verifier: the peer's token is an SD-JWT VC of skillcred's type, read for matching
    env_ = SecuredCredential("sd-jwt", {}, out["presented"].rsplit("~", 1)[0] + "~", typ="dc+sd-jwt").envelope()
    report = Verifier().check(env_)
    checks = {c.id: (c.status, c.code) for c in report.checks}
    assert checks["credential.type_metadata"] == ("passed", "ok")
    assert checks["credential.proof"][0] == "passed" and checks["credential.issuer"][0] == "passed"
    assert checks["credential.status"][0] == "not_applicable"  # the peer's token names no status
    result = Verifier().assess(env_)
    (vc,) = result.accepted
    assert {c.ref for c in vc.claims} >= {"http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"}
    assert "http://data.europa.eu/esco/skill/d9818afc-1dec-4944-8c9c-e3ae8fad176d" not in {c.ref for c in vc.claims}


def test_skillcred_refuses_a_peer_token_with_a_wrong_nonce_or_unknown_type(env: _Setup) -> None:
    out = _peer_issue(env, _peer_claims(env), present={"skill_1": True}, nonce="n-7")
    with pytest.raises(TokenInvalid) as exc:
        verify_sd_jwt(out["presented"], resolver=DidResolver(), expected_nonce="n-8", expected_aud=AUD,
                      expected_typ="dc+sd-jwt")
    assert exc.value.reason == "nonce_mismatch"
    other = _peer_issue(env, _peer_claims(env, vct="https://peer.example/vct/forklift"))
    report = Verifier().check(SecuredCredential("sd-jwt", {}, other["token"], typ="dc+sd-jwt").envelope())
    assert {c.id: c.code for c in report.checks}["credential.type_metadata"] == "vct_unknown"
    assert not report.verified
    bad = _peer_issue(env, _peer_claims(env, achievement_name={"nested": "object"}))
    report = Verifier().check(SecuredCredential("sd-jwt", {}, bad["token"], typ="dc+sd-jwt").envelope())
    assert {c.id: c.code for c in report.checks}["credential.type_metadata"] == "vct_schema_invalid"


def test_skillcred_refuses_a_peer_token_signed_by_someone_else(env: _Setup) -> None:
    mallory = KeyPair.generate("p256")
    out = run_node("sdjwt", "peer.mjs", "issue", input_json={
        "issuer_private_jwk": mallory.private_jwk(), "issuer_kid": env.kid, "claims": _peer_claims(env),
        "disclosure_frame": {"_sd": ["skill_1"]}})
    report = Verifier().check(SecuredCredential("sd-jwt", {}, out["token"], typ="dc+sd-jwt").envelope())
    assert not report.verified
    assert {c.id: c.status for c in report.checks}["credential.proof"] == "failed"


# -- Token Status Lists, both ways --------------------------------------------------------------


def test_peer_reads_skillcred_status_lists(env: _Setup) -> None:
    recs = [env.issue() for _ in range(3)]
    with Issuer.open(env.setup.folder) as iss:
        iss.revoke(recs[0].id)
        iss.suspend(recs[1].id)
    uri = _payload(recs[0].document["token"])["status"]["status_list"]["uri"]
    idx = [_payload(r.document["token"])["status"]["status_list"]["idx"] for r in recs]
    out = run_node("sdjwt", "peer.mjs", "status", input_json={"token": env.status_tokens()[uri], "indexes": idx})
    assert out == {"bits": 2, "statuses": [1, 2, 0]}


@pytest.mark.parametrize("bits", [1, 2])
def test_skillcred_reads_a_status_list_made_by_the_peer(env: _Setup, bits: int) -> None:
    rec = env.issue()
    ref = _payload(rec.document["token"])["status"]["status_list"]
    statuses = [0] * 131_072
    statuses[ref["idx"]] = 1
    with Issuer.open(env.setup.folder) as iss:
        private = iss._key.private_jwk()
    out = run_node("sdjwt", "peer.mjs", "make_status", input_json={
        "statuses": statuses, "bits": bits, "iss": env.issuer_did, "uri": ref["uri"], "kid": env.kid,
        "private_jwk": private})
    read = peek_status_list_token(out["token"])
    lst = read.status_list()
    assert lst.bits == bits and lst.get(ref["idx"]) == 1 and lst.get((ref["idx"] + 1) % 131_072) == 0
    report = Verifier(token_status_lists=[out["token"]]).check(SecuredCredential.from_record(rec.document).envelope())
    status = next(c for c in report.checks if c.id == "credential.status")
    assert (status.status, status.code) == ("failed", "revoked")


@pytest.mark.parametrize("lst,bits,expected", [
    ("eNrbuRgAAhcBXQ", 1, [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]),
    ("eNo76fITAAPfAgc", 2, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]),
])
def test_draft_vectors_read_alike_by_both(lst: str, bits: int, expected: list[int]) -> None:
    ours = TokenStatusList.decode(lst, bits)
    assert [ours.get(i) for i in range(len(expected))] == expected
    peer = run_node("sdjwt", "peer.mjs", "decode_lst", input_json={"lst": lst, "bits": bits, "count": len(expected)})
    assert peer["statuses"] == expected

"""IETF SD-JWT VC (``dc+sd-jwt``, draft-ietf-oauth-sd-jwt-vc): issuing the EU wallet profile from an
Open Badges achievement, its type metadata, and the verifier, wallet and matching reading it.

The attack classes: a forged or altered token, an unknown or substituted ``vct`` (fail closed,
never fetched), decisive claims made disclosable, key binding (missing, wrong nonce/aud, stale,
another key), claims that break the type's schema."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from skillcred.did import DidResolver, key_did
from skillcred.errors import InvalidArgument, TokenInvalid
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.sdjwt import issue_sd_jwt, present_sd_jwt, verify_sd_jwt
from skillcred.sdjwt_vc import (
    VCT_BY_KIND,
    check_type_metadata,
    credential_view,
    flat_claims,
    issue_sd_jwt_vc,
    metadata_integrity,
    type_metadata,
    well_known_path,
)
from skillcred.secured import SecuredCredential
from skillcred.verify import VerificationPolicy, Verifier
from support.cli import CliResult, clean_env, run_cli

ROOT = Path(__file__).resolve().parents[1]
CNC = ROOT / "examples" / "achievements" / "cnc-programmeren.yaml"
DIPLOMA = ROOT / "examples" / "achievements" / "mbo-verspaner-diploma.yaml"


def _b64u_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _disclosures(token: str) -> list[list[Any]]:
    return [_b64u_json(d) for d in token.split("~")[1:-1]]


@pytest.fixture
def issuer_dir(tmp_path: Path) -> Path:
    init_issuer(tmp_path / "roc", name="ROC Techniek", url="https://roc.example", key_type="p256")
    return tmp_path / "roc"


@pytest.fixture
def holder() -> KeyPair:
    return KeyPair.generate("p256")


def _issue(issuer_dir: Path, holder: KeyPair, achievement: Path = CNC, level: str | None = "3",
           **kw: Any) -> Any:
    with Issuer.open(issuer_dir) as iss:
        rec, _ = iss.issue(load_achievement(achievement), key_did(holder.public_key), name="Jan de Vries",
                           level=level, fmt="dc+sd-jwt",
                           evidence=EvidenceInput(narrative="Programmed a part", assessor="M. Jansen"), **kw)
    return rec


def _envelope(token: str) -> dict[str, Any]:
    return SecuredCredential("sd-jwt", {}, token, typ="dc+sd-jwt").envelope()


def _checks(report: Any) -> dict[str, tuple[str, str]]:
    return {c.id: (c.status, c.code) for c in report.checks}


# -- issuing ------------------------------------------------------------------------------------


def test_issued_token_is_a_flat_dc_sd_jwt_with_the_registered_claims(issuer_dir: Path, holder: KeyPair) -> None:
    rec = _issue(issuer_dir, holder)
    token = rec.document["token"]
    header = _b64u_json(token.split(".")[0])
    payload = _b64u_json(token.split(".")[1])
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256" and header["kid"].startswith("did:key:")
    assert payload["vct"] == VCT_BY_KIND["skill"]
    assert payload["vct#integrity"] == metadata_integrity(type_metadata("skill"))
    assert payload["iss"].startswith("did:key:") and payload["sub"] == key_did(holder.public_key)
    assert payload["cnf"] == {"jwk": holder.public_key.jwk()}
    assert isinstance(payload["iat"], int) and isinstance(payload["nbf"], int)
    assert set(payload["status"]["status_list"]) == {"idx", "uri"}
    assert payload["status"]["status_list"]["uri"] == "https://roc.example/status/tokens/revocation-1.jwt"
    # no nested objects or arrays among the claims (NL wallet profile), beyond cnf, status and _sd
    for name, value in payload.items():
        if name not in ("cnf", "status", "_sd"):
            assert not isinstance(value, dict | list), name
    assert "@context" not in payload and "credentialSubject" not in payload


def test_skills_and_personal_details_are_disclosable_the_achievement_is_not(issuer_dir: Path,
                                                                           holder: KeyPair) -> None:
    token = _issue(issuer_dir, holder).document["token"]
    payload = _b64u_json(token.split(".")[1])
    hidden = {d[1] for d in _disclosures(token)}
    assert {"holder_name", "result_level", "assessor", "evidence_narrative", "skill_1"} <= hidden
    assert not hidden & {"iss", "sub", "vct", "cnf", "status", "exp", "nbf", "iat", "achievement_name",
                         "achievement_id", "issuer_name"}
    assert payload["achievement_name"] .startswith("CNC-programmeren")
    assert "holder_name" not in payload and "skill_1" not in payload


def test_dc_sd_jwt_needs_a_holder_key(issuer_dir: Path) -> None:
    with Issuer.open(issuer_dir) as iss, pytest.raises(InvalidArgument, match="holder's key"):
        iss.issue(load_achievement(CNC), "did:web:worker.example", level="3", fmt="dc+sd-jwt")


def test_an_explicit_holder_jwk_binds_the_token(issuer_dir: Path, holder: KeyPair) -> None:
    other = KeyPair.generate("ed25519")
    rec = _issue(issuer_dir, holder, holder_jwk=other.public_key.jwk())
    assert _b64u_json(rec.document["token"].split(".")[1])["cnf"] == {"jwk": other.public_key.jwk()}


def test_library_api_issue_sd_jwt_vc(issuer_dir: Path, holder: KeyPair) -> None:
    rec = _issue(issuer_dir, holder)
    view = rec.document
    key = KeyPair.generate("ed25519")
    doc = {**{k: v for k, v in view.items() if k not in ("securedAs", "token")},
           "issuer": {"id": key_did(key.public_key), "name": "X"}}
    token = issue_sd_jwt_vc(doc, key, kid=f"{key_did(key.public_key)}#{key.public_multikey}",
                            holder_jwk=holder.public_key.jwk(), status={"idx": 3, "uri": "https://x.example/t"})
    res = verify_sd_jwt(token, resolver=DidResolver(), expected_nonce=None, expected_aud=None,
                        require_key_binding=False, expected_typ="dc+sd-jwt")
    assert res.claims["status"] == {"status_list": {"idx": 3, "uri": "https://x.example/t"}}
    assert res.claims["skill_2"].startswith("http://data.europa.eu/esco/skill/")
    with pytest.raises(InvalidArgument, match="credential schema"):
        issue_sd_jwt_vc({k: v for k, v in doc.items() if k != "credentialSchema"}, key, kid="k",
                        holder_jwk=None)


def test_mapping_round_trips_to_the_open_badges_reading(issuer_dir: Path, holder: KeyPair) -> None:
    with Issuer.open(issuer_dir) as iss:
        rec_di, _ = iss.issue(load_achievement(CNC), key_did(holder.public_key), name="Jan", level="3")
    claims, pointers = flat_claims(rec_di.document)
    view = credential_view(claims)
    src = rec_di.document["credentialSubject"]["achievement"]
    assert view["credentialSubject"]["achievement"]["id"] == src["id"]
    assert [a["targetUrl"] for a in view["credentialSubject"]["achievement"]["alignment"]] == \
        [a["targetUrl"] for a in src["alignment"]]
    assert view["credentialSubject"]["identifier"][0]["identityHash"] == "Jan"
    assert view["issuer"]["id"] == rec_di.document["issuer"]["id"]
    assert "/skill_1" in pointers and "/achievement_name" not in pointers


def test_diploma_alignments_stay_visible(issuer_dir: Path, holder: KeyPair) -> None:
    token = _issue(issuer_dir, holder, achievement=DIPLOMA, level=None).document["token"]
    payload = _b64u_json(token.split(".")[1])
    assert payload["vct"] == VCT_BY_KIND["diploma"]
    assert any(k.startswith("alignment_") for k in payload), "qualification/level alignments are visible"


# -- type metadata ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VCT_BY_KIND))
def test_type_metadata_document(kind: str) -> None:
    doc = type_metadata(kind)
    assert doc["vct"] == VCT_BY_KIND[kind] and doc["name"]
    assert doc["display"][0]["rendering"]["simple"]["logo"]["uri"].startswith("data:image/svg+xml;base64,")
    assert doc["schema"]["type"] == "object" and doc["schema"]["additionalProperties"] is False
    assert any(c["path"] == ["skill_1"] and c["sd"] == "always" for c in doc["claims"])
    assert any(c["path"] == ["achievement_name"] and c["sd"] == "never" for c in doc["claims"])
    digest = hashlib.sha256(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()).digest()
    assert metadata_integrity(doc) == "sha256-" + base64.b64encode(digest).decode()
    assert well_known_path(doc["vct"]) == "/.well-known/vct/skillcred/vct/v1/" + doc["vct"].rsplit("/", 1)[1]


def test_unknown_vct_is_refused_unless_given_as_trusted() -> None:
    claims = {"iss": "did:key:z", "vct": "https://other.example/vct/x", "iat": 1}
    with pytest.raises(TokenInvalid) as exc:
        check_type_metadata(claims)
    assert exc.value.reason == "vct_unknown"
    meta = {"vct": "https://other.example/vct/x", "name": "X",
            "schema": {"type": "object", "required": ["iss"], "properties": {"iat": {"type": "integer"}}}}
    assert check_type_metadata(claims, {meta["vct"]: meta})["name"] == "X"
    with pytest.raises(TokenInvalid) as exc:
        check_type_metadata({**claims, "iat": "yesterday"}, {meta["vct"]: meta})
    assert exc.value.reason == "vct_schema_invalid"


@pytest.mark.parametrize("change", [
    {"vct#integrity": "sha256-AAAA"},
    {"achievement_name": ["a", "list"]},
    {"unexpected_claim": "x"},
    {"vct": VCT_BY_KIND["skill"] + "-v2"},
])
def test_claims_that_do_not_fit_the_bundled_type_are_refused(change: dict[str, Any]) -> None:
    claims = {"iss": "did:key:z", "vct": VCT_BY_KIND["skill"], "iat": 1, "achievement_id": "a",
              "achievement_name": "A", **change}
    with pytest.raises(TokenInvalid) as exc:
        check_type_metadata(claims)
    assert exc.value.reason in ("vct_integrity_mismatch", "vct_schema_invalid", "vct_unknown")


def test_trusted_metadata_cannot_replace_a_bundled_type() -> None:
    with pytest.raises(InvalidArgument, match="bundled"):
        Verifier(type_metadata=[{"vct": VCT_BY_KIND["skill"], "name": "mine"}])
    with pytest.raises(InvalidArgument, match="extends"):
        Verifier(type_metadata=[{"vct": "https://x.example/t", "extends": "https://y.example/t"}])


# -- verifying ----------------------------------------------------------------------------------


def test_verifier_accepts_the_token_and_reads_its_claims(issuer_dir: Path, holder: KeyPair) -> None:
    rec = _issue(issuer_dir, holder)
    with pytest.warns(match="status"):
        policy = VerificationPolicy(unsafe_accept_unknown_status=True)
    result = Verifier(policy).assess(_envelope(rec.document["token"]))
    checks = _checks(result.report)
    assert checks["credential.type_metadata"] == ("passed", "ok")
    assert checks["credential.schema"] == ("passed", "ok")
    assert checks["credential.proof"][0] == "passed" and checks["credential.issuer"][0] == "passed"
    assert result.report.verified
    (vc,) = result.accepted
    refs = {c.ref for c in vc.claims}
    assert any(r and r.startswith("http://data.europa.eu/esco/") for r in refs)
    assert vc.subject == key_did(holder.public_key)


def test_status_is_indeterminate_without_the_token_status_list(issuer_dir: Path, holder: KeyPair) -> None:
    rec = _issue(issuer_dir, holder)
    report = Verifier().check(_envelope(rec.document["token"]))
    assert _checks(report)["credential.status"] == ("indeterminate", "status_unavailable")
    assert not report.verified


def test_foreign_vct_is_indeterminate_and_fails_closed(holder: KeyPair) -> None:
    key = KeyPair.generate("p256")
    did = key_did(key.public_key)
    token = issue_sd_jwt({"iss": did, "iat": 1, "achievement_name": "X"}, key, kid=f"{did}#{key.public_multikey}",
                         disclosable=[], typ="dc+sd-jwt", vct="https://other.example/vct/welder")
    report = Verifier().check(_envelope(token))
    assert _checks(report)["credential.type_metadata"] == ("indeterminate", "vct_unknown")
    assert not report.verified
    meta = {"vct": "https://other.example/vct/welder", "name": "Welder"}
    report = Verifier(type_metadata=[meta]).check(_envelope(token))
    assert _checks(report)["credential.type_metadata"] == ("passed", "ok")


def test_tampered_or_forged_tokens_fail(issuer_dir: Path, holder: KeyPair) -> None:
    token = _issue(issuer_dir, holder).document["token"]
    jwt, rest = token.split("~", 1)
    h, p, s = jwt.split(".")
    payload = _b64u_json(p)
    payload["achievement_name"] = "Something better"
    forged_p = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    cases = {
        "payload changed": f"{h}.{forged_p}.{s}~{rest}",
        "signature cut": f"{h}.{p}.{s[:-4]}AAAA~{rest}",
        "foreign disclosure": token + base64.urlsafe_b64encode(b'["salt","skill_9","x"]').rstrip(b"=").decode() + "~",
    }
    for name, bad in cases.items():
        report = Verifier().check(_envelope(bad))
        assert _checks(report)["credential.proof"][0] == "failed", name
        assert not report.verified


def test_a_disclosable_decisive_claim_is_refused_whoever_issued_it(holder: KeyPair) -> None:
    key = KeyPair.generate("p256")
    did = key_did(key.public_key)
    for decisive in ("exp", "status", "iss"):
        claims = {"iss": did, "iat": 1, "exp": 4_000_000_000, "status": {"status_list": {"idx": 1, "uri": "u"}}}
        with pytest.raises(InvalidArgument):
            issue_sd_jwt(claims, key, kid=f"{did}#{key.public_multikey}", disclosable=[f"/{decisive}"],
                         typ="dc+sd-jwt", vct=VCT_BY_KIND["skill"])


def _kb_presentation(token: str, holder: KeyPair, disclose: list[str], nonce: str = "n-1",
                     aud: str = "https://employer.example", iat: int | None = None) -> str:
    return present_sd_jwt(token, disclose=disclose, holder_key=holder, nonce=nonce, aud=aud, iat=iat)


def test_key_binding_is_checked_in_a_presentation(issuer_dir: Path, holder: KeyPair) -> None:
    token = _issue(issuer_dir, holder).document["token"]
    good = _kb_presentation(token, holder, ["/skill_1"])
    res = verify_sd_jwt(good, resolver=DidResolver(), expected_nonce="n-1", expected_aud="https://employer.example",
                        expected_typ="dc+sd-jwt")
    assert res.key_bound and "skill_1" in res.claims and "holder_name" not in res.claims
    import time

    bad = {
        "nonce_mismatch": dict(nonce="other"),
        "aud_mismatch": dict(aud="https://someone-else.example"),
        "kb_stale": dict(iat=int(time.time()) - 3600),
    }
    for reason, kw in bad.items():
        with pytest.raises(TokenInvalid) as exc:
            verify_sd_jwt(_kb_presentation(token, holder, ["/skill_1"], **kw), resolver=DidResolver(),
                          expected_nonce="n-1", expected_aud="https://employer.example", expected_typ="dc+sd-jwt")
        assert exc.value.reason == reason
    with pytest.raises(TokenInvalid) as exc:
        verify_sd_jwt(token, resolver=DidResolver(), expected_nonce="n-1", expected_aud="https://employer.example",
                      expected_typ="dc+sd-jwt")
    assert exc.value.reason == "key_binding_missing"
    # a KB-JWT over other disclosures than those presented
    other = _kb_presentation(token, holder, ["/holder_name"])
    swapped = good.rsplit("~", 1)[0] + "~" + other.rsplit("~", 1)[1]
    with pytest.raises(TokenInvalid) as exc:
        verify_sd_jwt(swapped, resolver=DidResolver(), expected_nonce="n-1", expected_aud="https://employer.example",
                      expected_typ="dc+sd-jwt")
    assert exc.value.reason == "sd_hash_mismatch"
    with pytest.raises(InvalidArgument):  # another key cannot make the KB-JWT
        _kb_presentation(token, KeyPair.generate("p256"), ["/skill_1"])


def test_wallet_add_keeps_the_token_and_reads_the_achievement(issuer_dir: Path, holder: KeyPair,
                                                              tmp_path: Path) -> None:
    from skillcred.wallet import Wallet

    rec = _issue(issuer_dir, holder)
    wallet = Wallet.init(tmp_path / "wallet", key=holder)
    wallet.add(SecuredCredential.from_file_bytes(rec.document["token"].encode()))
    (entry,) = wallet.entries()
    assert entry.achievement .startswith("CNC-programmeren") and entry.format == "sd-jwt"
    assert entry.subject == key_did(holder.public_key)


def test_wallet_and_open_read_the_open_badges_view(issuer_dir: Path, holder: KeyPair) -> None:
    rec = _issue(issuer_dir, holder)
    opened = SecuredCredential.from_file_bytes(rec.document["token"].encode()).open(resolver=DidResolver())
    assert opened.media_type == "application/dc+sd-jwt"
    assert opened.to_record() == rec.document
    assert opened.document["credentialSubject"]["achievement"]["name"] .startswith("CNC-programmeren")


def test_presented_from_the_wallet_only_disclosed_skills_match(issuer_dir: Path, holder: KeyPair,
                                                              tmp_path: Path) -> None:
    from skillcred.match import load_profile, match
    from skillcred.wallet import Wallet

    with Issuer.open(issuer_dir) as iss:
        did = iss.profile.did
    rec = _issue(issuer_dir, holder)
    wallet = Wallet.init(tmp_path / "wallet", key=holder)
    wallet.add(SecuredCredential.from_file_bytes(rec.document["token"].encode()))
    (entry,) = wallet.entries()
    stored = wallet.secured(entry.id)
    disclosed = [f"/{d[1]}" for d in _disclosures(rec.document["token"]) if d[1] in ("skill_2", "result_level")]
    vp = wallet.present([stored], key=holder, challenge="c-1", domain="employer.example", disclose=disclosed)
    assert vp["verifiableCredential"][0]["id"].startswith("data:application/dc+sd-jwt,")
    with pytest.warns(match="status"):
        policy = VerificationPolicy(unsafe_accept_unknown_status=True)
    result = Verifier(policy).assess(vp, challenge="c-1", domain="employer.example")
    checks = _checks(result.report)
    assert checks["credential[0].holder_binding"] == ("passed", "ok"), result.report.checks
    assert result.report.verified
    (vc,) = result.accepted
    program_cnc = "http://data.europa.eu/esco/skill/bf942c60-8539-4951-83ee-63f770da1cb8"  # skill_2
    assert {c.ref for c in vc.claims if c.kind == "skill"} == {program_cnc}  # withheld skills do not exist
    report = match(load_profile(ROOT / "examples" / "profiles" / "cnc-verspaner.json"), result.accepted)
    graded = {r.requirement.ref: r.status for r in report.requirements}
    assert graded[program_cnc] == "met"  # level 3 disclosed, level 3 required
    assert graded["http://data.europa.eu/esco/skill/d9818afc-1dec-4944-8c9c-e3ae8fad176d"] != "met"
    # replayed to another employer, or with another challenge: the KB-JWT and the proof say no
    assert not Verifier(policy).check(vp, challenge="c-2", domain="employer.example").verified
    assert not Verifier(policy).check(vp, challenge="c-1", domain="other.example").verified
    assert vc.issuer == did


def _cli(*args: str) -> CliResult:
    proc = run_cli(*args, env=clean_env(drop=("SKILLCRED_PASSPHRASE", "SKILLCRED_DEBUG")))
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_cli_verify_a_foreign_vct_only_with_trusted_type_metadata(tmp_path: Path) -> None:
    key = KeyPair.generate("p256")
    did = key_did(key.public_key)
    token = issue_sd_jwt({"iss": did, "iat": 1_780_000_000, "achievement_name": "Welder"}, key,
                         kid=f"{did}#{key.public_multikey}", disclosable=["/achievement_name"], typ="dc+sd-jwt",
                         vct="https://other.example/vct/welder")
    (tmp_path / "t.sdjwt").write_text(token + "\n")
    empty = str(tmp_path / "no-cache")
    res = _cli("verify", str(tmp_path / "t.sdjwt"), "--status-cache", empty)
    assert res.returncode == 1 and "vct_unknown" in res.stdout + res.stderr
    meta = tmp_path / "welder.json"
    meta.write_text(json.dumps({"vct": "https://other.example/vct/welder", "name": "Welder",
                                "schema": {"type": "object", "required": ["achievement_name"]}}))
    res = _cli("verify", str(tmp_path / "t.sdjwt"), "--status-cache", empty, "--type-metadata", str(meta))
    assert res.returncode == 0, res.stdout + res.stderr
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"vct": "https://other.example/vct/welder",
                                  "schema": {"type": "object", "required": ["licence_number"]}}))
    res = _cli("verify", str(tmp_path / "t.sdjwt"), "--status-cache", empty, "--type-metadata", str(strict))
    assert res.returncode == 1 and "vct_schema_invalid" in res.stdout + res.stderr
    bundled = tmp_path / "mine.json"
    bundled.write_text(json.dumps({"vct": VCT_BY_KIND["skill"], "name": "mine"}))
    res = _cli("verify", str(tmp_path / "t.sdjwt"), "--status-cache", empty, "--type-metadata", str(bundled))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def test_cli_wallet_add_takes_a_dc_sd_jwt(issuer_dir: Path, holder: KeyPair, tmp_path: Path) -> None:
    from skillcred.wallet import Wallet

    rec = _issue(issuer_dir, holder)
    (tmp_path / "c.sdjwt").write_text(rec.document["token"] + "\n")
    Wallet.init(tmp_path / "w", key=holder)
    res = _cli("wallet", "add", "--wallet", str(tmp_path / "w"), str(tmp_path / "c.sdjwt"))
    assert res.returncode == 0, res.stderr
    assert rec.id in res.stdout + res.stderr
    again = _cli("wallet", "add", "--wallet", str(tmp_path / "w"), str(tmp_path / "c.sdjwt"))
    assert again.returncode == 2 and "already in the wallet" in again.stderr


@pytest.mark.parametrize("status", ["revoked?", ["a"], {"status_list": {"idx": -1, "uri": "u"}},
                                    {"status_list": {"idx": "7", "uri": "u"}}, {"other_mechanism": {}}])
def test_a_malformed_or_unknown_status_never_passes(status: Any) -> None:
    key = KeyPair.generate("p256")
    did = key_did(key.public_key)
    token = issue_sd_jwt({"iss": did, "iat": 1_780_000_000, "status": status}, key,
                         kid=f"{did}#{key.public_multikey}", disclosable=[], typ="dc+sd-jwt",
                         vct="https://other.example/vct/x")
    report = Verifier(type_metadata=[{"vct": "https://other.example/vct/x"}]).check(_envelope(token))
    check = next(c for c in report.checks if c.id == "credential.status")
    assert check.status in ("failed", "indeterminate") and not report.verified

"""Issue 13, the high-severity classes: paths by which an employer ends up with a wrong "yes".

1. A DID document from the candidate replaces the trusted one (did:web forgery).
2. The trust scope ("who may attest what") applied to every claim that gap analysis counts.
3. A selectively disclosed credential hiding what would make it fail (SD-JWT, ecdsa-sd-2023).

Every credential is signed with real keys from real issuer folders; the forger holds its own
key for the *same* did:web as a trusted institute. Expected outcomes come from the rules in the
issue and docs/verifying.md (threat model), not from running the code under test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.did import DidResolver
from skillcred.errors import DidDocumentConflict, InvalidArgument, ResolutionError, TokenInvalid
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair, read_key_file
from skillcred.match import Framework, JobProfile, Requirement, match
from skillcred.proofs import add_proof, check_proofs
from skillcred.proofs.selective import add_base_proof, derive_proof
from skillcred.sdjwt import issue_sd_jwt, present_sd_jwt, verify_sd_jwt
from skillcred.securing import holder_jwk_for
from skillcred.trust import TrustedIssuer, TrustList
from skillcred.verify import VerificationPolicy, VerificationReport, VerifiedPresentation, Verifier
from skillcred.wallet import Wallet
from support.cli import CliResult, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
CHALLENGE, DOMAIN = "c-5e1f0a", "werkgever.example"
# a real ESCO v1.1.1 skill the example CNC badge is not aligned to ("use CAM software")
ESCO_SKILL = "http://data.europa.eu/esco/skill/7a757fa5-9a6f-43ab-9e66-f8f4dba1ffcb"
ROC_SKILLS = "https://skills.roc-techniek.example/"


@dataclass
class World:
    root: Path
    roc: Issuer  # did:key, the trusted institute
    noord: Issuer  # did:web, trusted, its did.json in the trust list
    forger: Issuer  # did:web with the SAME DID as noord, its own key
    wallet: Wallet
    holder_key: KeyPair
    noord_doc: dict[str, Any]
    forged_doc: dict[str, Any]

    def key(self, iss: Issuer) -> KeyPair:
        return read_key_file(iss.folder / "issuer-key.pem")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("sec-verdicts")
    init_issuer(root / "roc", name="ROC Techniek", url="https://roc-techniek.example")
    init_issuer(root / "noord", name="Lasinstituut Noord", url="https://lasinstituut-noord.example", did_method="web")
    init_issuer(root / "forger", name="Lasinstituut Noord", url="https://lasinstituut-noord.example",
                did_method="web")
    roc, noord, forger = (Issuer.open(root / n) for n in ("roc", "noord", "forger"))
    assert forger.profile.did == noord.profile.did  # the point of the attack
    wallet = Wallet.init(root / "wallet")
    w = World(root, roc, noord, forger, wallet, wallet.holder_key(), load_json_object(root / "noord" / "did.json"),
              load_json_object(root / "forger" / "did.json"))
    assert w.noord_doc != w.forged_doc
    yield w
    for iss in (roc, noord, forger):
        iss.close()


def issue(iss: Issuer, file: str, holder: str, level: str | None = None) -> dict[str, Any]:
    record, _ = iss.issue(load_achievement(ACHIEVEMENTS / file), holder, level=level)
    return dict(record.document)


def present(w: World, creds: list[Any]) -> dict[str, Any]:
    return w.wallet.present(creds, key=w.holder_key, challenge=CHALLENGE, domain=DOMAIN)


def present_as_is(w: World, creds: list[Any]) -> dict[str, Any]:
    """A presentation signed by the holder around credentials exactly as given (no derivation)."""
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": w.wallet.holder, "verifiableCredential": creds}
    return add_proof(vp, w.holder_key, verification_method=w.wallet.verification_method,
                     proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)


def trust(w: World, roc: list[str] | None = None, *, noord_doc: dict[str, Any] | bool | None = True) -> TrustList:
    tl = TrustList()
    tl.add(w.roc.profile.did, name="ROC Techniek", may_attest=roc or ())
    if noord_doc is not False:
        tl.add(w.noord.profile.did, name="Lasinstituut Noord", did_document=w.noord_doc)
        if noord_doc is None:  # a hand-written trust file may hold an entry without its document
            tl.issuers[w.noord.profile.did] = TrustedIssuer(id=w.noord.profile.did, name="Lasinstituut Noord")
    return tl


def lists(*issuers: Issuer) -> list[dict[str, Any]]:
    return [doc for iss in issuers for _, doc in iss.status_list_credentials()]


def assess(w: World, doc: dict[str, Any], tl: TrustList | None, *, did_documents: list[dict[str, Any]] = (),
           status: list[dict[str, Any]] | None = None) -> VerifiedPresentation:
    verifier = Verifier(VerificationPolicy(trust=tl), did_documents=did_documents,
                        status_lists=lists(w.roc, w.noord) if status is None else status)
    return verifier.assess(doc, challenge=CHALLENGE, domain=DOMAIN)


def the(report: VerificationReport, cid: str) -> Any:
    found = [c for c in report.checks if c.id == cid]
    assert len(found) == 1, [c.id for c in report.checks]
    return found[0]


def sign(w: World, iss: Issuer, doc: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in doc.items() if k != "proof"}
    return add_proof(body, w.key(iss), verification_method=iss.profile.verification_method,
                     cryptosuite=iss.profile.suite)


# ==============================================================================================
# 1. a DID document from elsewhere never replaces or extends the trusted one
# ==============================================================================================


def forged(w: World) -> dict[str, Any]:
    """A welding certificate 'from Lasinstituut Noord', signed by the forger's key."""
    return issue(w.forger, "mig-mag-lassen.yaml", w.wallet.holder, "3")


def test_forged_did_document_beside_trusted_one_is_a_named_failure(world: World) -> None:
    vp = present(world, [forged(world)])
    result = assess(world, vp, trust(world), did_documents=[world.forged_doc], status=lists(world.forger))
    assert result.report.verified is False and result.accepted == ()
    proof = the(result.report, "credential[0].proof")
    assert proof.status == "failed" and proof.code == "did_document_conflict"
    assert "trust list" in proof.reason


def test_without_the_forged_document_the_forgery_fails_on_the_signature(world: World) -> None:
    result = assess(world, present(world, [forged(world)]), trust(world), status=lists(world.forger))
    assert the(result.report, "credential[0].proof").status == "failed"
    assert result.accepted == ()


def test_extending_the_trusted_document_with_the_forgers_key_is_a_conflict(world: World) -> None:
    extended = copy.deepcopy(world.noord_doc)
    for vm in world.forged_doc["verificationMethod"]:
        vm = dict(vm, id=vm["id"].replace("#", "#extra-"))
        extended["verificationMethod"].append(vm)
        extended["assertionMethod"].append(vm["id"])
    doc = {k: v for k, v in forged(world).items() if k != "proof"}
    doc = add_proof(doc, world.key(world.forger),
                    verification_method=extended["verificationMethod"][-1]["id"], cryptosuite="eddsa-rdfc-2022")
    result = assess(world, present(world, [doc]), trust(world), did_documents=[extended],
                    status=lists(world.forger))
    assert the(result.report, "credential[0].proof").code == "did_document_conflict"
    assert result.accepted == ()


def test_genuine_credentials_of_that_issuer_also_fail_while_a_conflict_stands(world: World) -> None:
    genuine = issue(world.noord, "mig-mag-lassen.yaml", world.wallet.holder, "3")
    ok = assess(world, present(world, [genuine]), trust(world))
    assert ok.report.verified is True
    conflicted = assess(world, present(world, [genuine]), trust(world), did_documents=[world.forged_doc])
    assert conflicted.report.verified is False  # fail closed: which document is right is not guessed
    assert the(conflicted.report, "credential[0].proof").code == "did_document_conflict"


def test_an_identical_copy_of_the_trusted_document_is_harmless(world: World) -> None:
    genuine = issue(world.noord, "mig-mag-lassen.yaml", world.wallet.holder, "3")
    result = assess(world, present(world, [genuine]), trust(world), did_documents=[copy.deepcopy(world.noord_doc)])
    assert result.report.verified is True


def test_a_trusted_entry_without_a_document_takes_none_from_elsewhere(world: World) -> None:
    tl = trust(world, noord_doc=None)
    assert tl.issuers[world.noord.profile.did].did_document is None
    genuine = issue(world.noord, "mig-mag-lassen.yaml", world.wallet.holder, "3")
    for extra in ([world.noord_doc], [world.forged_doc]):
        result = assess(world, present(world, [genuine]), tl, did_documents=extra)
        assert result.report.verified is False
        assert the(result.report, "credential[0].proof").status == "failed"


def test_untrusted_did_web_may_still_come_from_a_file(world: World) -> None:
    """The rule pins trusted DIDs only; without a trust list a --did-document still resolves."""
    genuine = issue(world.noord, "mig-mag-lassen.yaml", world.wallet.holder, "3")
    result = assess(world, present(world, [genuine]), None, did_documents=[world.noord_doc])
    assert the(result.report, "credential[0].proof").status == "passed"


def test_resolver_rules_directly(world: World) -> None:
    did = world.noord.profile.did
    r = DidResolver([world.forged_doc], authoritative={did: world.noord_doc})
    with pytest.raises(DidDocumentConflict):
        r.resolve(did)
    assert did in r.conflicts()
    r = DidResolver([world.noord_doc], authoritative={did: world.noord_doc})
    assert r.resolve(did)["verificationMethod"] == world.noord_doc["verificationMethod"]
    r = DidResolver([world.noord_doc], authoritative={did: None})
    with pytest.raises(ResolutionError):
        r.resolve(did)
    with pytest.raises(InvalidArgument):
        DidResolver(authoritative={did: world.forged_doc | {"id": "did:web:elsewhere.example"}})


def test_status_list_from_the_forger_cannot_stand_in(world: World) -> None:
    """A genuine credential, and a 'status list' the forger signed for the same DID: the list
    cannot be verified against the trusted document, so status is not established."""
    genuine = issue(world.noord, "mig-mag-lassen.yaml", world.wallet.holder, "3")
    result = assess(world, present(world, [genuine]), trust(world), status=lists(world.forger))
    status = the(result.report, "credential[0].status")
    assert status.status == "indeterminate" and result.report.verified is False


def _cli(*args: str | Path, home: Path) -> CliResult:
    return run_cli(*args, env={"HOME": str(home), "PATH": "/usr/bin:/bin", "SKILLCRED_PASSPHRASE": ""})


def test_cli_verify_match_rank_refuse_the_forged_document(world: World, tmp_path: Path) -> None:
    vp = present(world, [forged(world)])
    (tmp_path / "apps").mkdir()
    vp_path = tmp_path / "apps" / "jan.json"
    vp_path.write_bytes(dump_json(vp))
    (tmp_path / "apps" / "challenges.json").write_text(json.dumps({"jan.json": {"challenge": CHALLENGE,
                                                                                 "domain": DOMAIN}}))
    tl = trust(world)
    tl.path = tmp_path / "trust.json"
    tl.save()
    forged_path = tmp_path / "did.json"
    forged_path.write_bytes(dump_json(world.forged_doc))
    status = []
    for i, doc in enumerate(lists(world.forger)):
        p = tmp_path / f"status-{i}.json"
        p.write_bytes(dump_json(doc))
        status += ["--status-list", p]
    common = ["--trust", tl.path, "--did-document", forged_path, *status]
    out = _cli("verify", vp_path, "--challenge", CHALLENGE, "--domain", DOMAIN, "--json", *common, home=tmp_path)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] is False
    assert any(c["code"] == "did_document_conflict" for c in report["checks"])
    profile = REPO / "examples" / "profiles" / "lasser.json"
    out = _cli("match", vp_path, "--profile", profile, "--challenge", CHALLENGE, "--domain", DOMAIN, "--json",
               *common, home=tmp_path)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert all(r["status"] == "missing" for r in data["match"]["requirements"]) if "match" in data else \
        all(r["status"] == "missing" for r in data["requirements"])
    assert "did_document_conflict" in out.stdout
    out = _cli("rank", tmp_path / "apps", "--profile", profile, "--json", *common, home=tmp_path)
    assert "differs from the one in the trust list" in out.stdout, out.stdout + out.stderr
    rows = json.loads(out.stdout)
    row = rows[0] if isinstance(rows, list) else rows["candidates"][0]
    assert row["essential_coverage"] == 0


# ==============================================================================================
# 2. the trust scope applies to every claim gap analysis counts
# ==============================================================================================


def _profile(*reqs: tuple[str, str]) -> JobProfile:
    return JobProfile("test", None, tuple(Requirement(ref, label, None, True, 1.0) for ref, label in reqs))


def _roc_credential(w: World, change: Any) -> dict[str, Any]:
    """A cnc credential of ROC about the holder, changed by ``change(doc)`` and signed again."""
    doc = issue(w.roc, "cnc-programmeren.yaml", w.wallet.holder, "3")
    doc = copy.deepcopy({k: v for k, v in doc.items() if k != "proof"})
    change(doc)
    return sign(w, w.roc, doc)


QUALIFICATION_ALIGNMENT = {"type": ["Alignment"], "targetName": "Kwalificatie Verspaner",
                           "targetUrl": "https://kwalificaties.example/crebo/25751", "targetFramework": "CREBO",
                           "targetCode": "25751", "targetType": "ceterms:Credential"}


def test_qualification_alignment_on_a_competency_does_not_award_the_diploma(world: World) -> None:
    doc = _roc_credential(world, lambda d: d["credentialSubject"]["achievement"]["alignment"].append(
        QUALIFICATION_ALIGNMENT))
    fw = Framework()
    fw.merge({"skills": [], "qualifications": [{"code": "25751", "covers": [{"skill": ESCO_SKILL, "level": 3}]}]})
    for tl in (trust(world, ["Competency"]), trust(world)):  # restricted, and even unrestricted
        result = assess(world, present(world, [doc]), tl)
        assert result.report.verified is True  # the competency itself is fine
        rep = match(_profile(("qualification:25751", "MBO-diploma"), (ESCO_SKILL, "CNC (ESCO)")), result.accepted,
                    framework=fw)
        assert [r.status for r in rep.requirements] == ["missing", "missing"]
        assert any("qualification" in why and "diploma" in why for _c, why in rep.not_counted)


def test_competency_only_issuer_cannot_attest_a_diploma(world: World) -> None:
    diploma = issue(world.roc, "mbo-verspaner-diploma.yaml", world.wallet.holder)
    result = assess(world, present(world, [diploma]), trust(world, ["Competency"]))
    assert the(result.report, "credential[0].trust").code == "issuer_not_trusted_for_kind"
    rep = match(_profile(("qualification:25751", "MBO-diploma")), result.accepted)
    assert rep.requirements[0].status == "missing"


def test_achievement_id_in_another_framework_is_not_counted(world: World) -> None:
    """Trusted for ROC's own skills only, the institute picks an ESCO URI as achievement id."""
    doc = _roc_credential(world, lambda d: d["credentialSubject"]["achievement"].__setitem__("id", ESCO_SKILL))
    tl = trust(world, [f"framework:{ROC_SKILLS}"])
    result = assess(world, present(world, [doc]), tl)
    trust_check = the(result.report, "credential[0].trust")
    assert trust_check.status == "passed" and "NOT counted" in trust_check.reason  # its ROC skills are fine
    rep = match(_profile((ESCO_SKILL, "CNC (ESCO)"), (ROC_SKILLS + "cnc-programmeren", "CNC (ROC)")),
                result.accepted)
    assert [r.status for r in rep.requirements] == ["missing", "met"]
    assert any(ESCO_SKILL in why for _c, why in rep.not_counted)


def test_framework_name_does_not_cover_another_frameworks_uri(world: World) -> None:
    """The targetFramework label is the issuer's word: 'ROC Techniek Vaardigheden' on an ESCO URI
    is not counted for an issuer trusted for that name, nor is an 'ESCO' label on a non-ESCO URI
    for an issuer trusted for ESCO."""
    def relabel(d: dict[str, Any]) -> None:
        d["credentialSubject"]["achievement"]["alignment"].append(
            {"type": ["Alignment"], "targetName": "CNC", "targetUrl": ESCO_SKILL,
             "targetFramework": "ROC Techniek Vaardigheden"})
        d["credentialSubject"]["achievement"]["alignment"].append(
            {"type": ["Alignment"], "targetName": "fake", "targetUrl": "https://fake.example/skill",
             "targetFramework": "ESCO"})
    doc = _roc_credential(world, relabel)
    reqs = _profile((ESCO_SKILL, "CNC (ESCO)"), ("https://fake.example/skill", "fake"))
    # trusted by name for ROC's framework: neither; trusted for ESCO: the real ESCO URI only
    for may, expected in ((["framework:ROC Techniek Vaardigheden"], ["missing", "missing"]),
                          (["framework:ESCO"], ["met", "missing"])):
        result = assess(world, present(world, [doc]), trust(world, may))
        rep = match(reqs, result.accepted)
        assert [r.status for r in rep.requirements] == expected, may


def test_every_subject_and_achievement_is_judged(world: World) -> None:
    """Second subject: a diploma about somebody else; second achievement: a diploma for the holder.
    With Competency-only trust neither counts; unrestricted, the holder's counts, the other's not."""
    diploma = issue(world.roc, "mbo-verspaner-diploma.yaml", world.wallet.holder)
    dip_ach = diploma["credentialSubject"]["achievement"]
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

    def two_subjects(d: dict[str, Any]) -> None:
        d["credentialSubject"] = [d["credentialSubject"], {"id": other, "type": ["AchievementSubject"],
                                                           "achievement": copy.deepcopy(dip_ach)}]

    def two_achievements(d: dict[str, Any]) -> None:
        d["credentialSubject"]["achievement"] = [d["credentialSubject"]["achievement"], copy.deepcopy(dip_ach)]

    reqs = _profile(("qualification:25751", "MBO-diploma"), (ROC_SKILLS + "cnc-programmeren", "CNC"))
    for change in (two_subjects, two_achievements):
        # (another issuer's credential: no schema of ours constrains it to one subject)
        doc = _roc_credential(world, lambda d, change=change: (change(d), d.pop("credentialSchema", None)))
        for tl, expected in ((trust(world, ["Competency"]), ["missing", "met"]),
                             (trust(world), ["missing" if change is two_subjects else "met", "met"])):
            result = assess(world, present(world, [doc]), tl)
            assert len(result.accepted) == 1, result.report.failures()
            rep = match(reqs, result.accepted)
            assert [r.status for r in rep.requirements] == expected, (change.__name__, expected)
            if expected[0] == "missing":
                assert rep.not_counted, change.__name__


def test_verify_and_match_judge_with_the_same_rule(world: World) -> None:
    """What the trust check names as outside the scope is exactly what match does not count."""
    doc = _roc_credential(world, lambda d: d["credentialSubject"]["achievement"]["alignment"].append(
        {"type": ["Alignment"], "targetName": "CNC", "targetUrl": ESCO_SKILL, "targetFramework": "ESCO"}))
    result = assess(world, present(world, [doc]), trust(world, [f"framework:{ROC_SKILLS}"]))
    vc = result.accepted[0]
    assert ESCO_SKILL not in {c.ref for c in vc.claims}
    assert all(c.ref is None or c.ref.startswith(ROC_SKILLS) for c in vc.claims if c.kind == "skill")
    # the example badge is aligned to real ESCO skills itself: the check's one-line reason names
    # the first of them (and elides the rest); the credential's list names every one, ours too
    assert "skill program a CNC controller, framework ESCO" in the(result.report, "credential[0].trust").reason
    assert any("skill CNC, framework ESCO" in what for what, _why in vc.not_counted)
    assert any("skill program a CNC controller, framework ESCO" in what for what, _why in vc.not_counted)


def test_no_claim_within_the_scope_fails_the_trust_check(world: World) -> None:
    doc = issue(world.roc, "cnc-programmeren.yaml", world.wallet.holder, "3")
    result = assess(world, present(world, [doc]), trust(world, ["framework:https://other.example/"]))
    assert the(result.report, "credential[0].trust").code == "issuer_not_trusted_for_kind"
    assert result.accepted == ()


# ==============================================================================================
# 3. selective disclosure cannot hide what decides validity, status, issuer or holder binding
# ==============================================================================================


DECISIVE = ["/validUntil", "/validFrom", "/credentialStatus", "/issuer", "/type", "/credentialSubject/id"]


def _sd_claims(w: World) -> dict[str, Any]:
    doc = issue(w.roc, "cnc-programmeren.yaml", w.wallet.holder, "3")
    return {k: v for k, v in doc.items() if k != "proof"}


@pytest.mark.parametrize("pointer", DECISIVE)
def test_issuer_of_skillcred_refuses_to_make_decisive_claims_disclosable(world: World, pointer: str) -> None:
    with pytest.raises(InvalidArgument):
        issue_sd_jwt(_sd_claims(world), world.key(world.roc), kid=world.roc.profile.verification_method,
                     disclosable=[pointer])


def _raw_sd_jwt(key: KeyPair, kid: str, payload: dict[str, Any], hidden: dict[str, Any]) -> tuple[str, list[str]]:
    """An SD-JWT made the way another library would, with ``hidden`` members of the top level (or
    nested, by dotted key) made disclosable; returns (token without disclosures, disclosures)."""
    import base64
    import hashlib
    import secrets

    from skillcred._internal.jws import sign_jws as _sign_jws

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    body = copy.deepcopy(payload)
    disclosures = []
    for dotted, value in hidden.items():
        *parents, name = dotted.split(".")
        node = body
        for p in parents:
            node = node[p]
        node.pop(name, None)
        disc = b64(json.dumps([b64(secrets.token_bytes(16)), name, value]).encode())
        node.setdefault("_sd", []).append(b64(hashlib.sha256(disc.encode()).digest()))
        disclosures.append(disc)
    body["_sd_alg"] = "sha-256"
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": "vc+sd-jwt", "cty": "vc"}
    return _sign_jws(header, json.dumps(body).encode(), key), disclosures


@pytest.mark.parametrize(("hidden", "withheld"), [
    *((h, w) for h in ("validUntil", "credentialStatus", "validFrom", "issuer", "type",
                       "credentialStatus.statusListIndex", "cnf") for w in (False, True)),
    ("credentialSubject.id", False),  # withheld, it fails holder binding: see the next test
])
def test_sd_jwt_with_a_disclosable_decisive_claim_is_refused(world: World, hidden: str, withheld: bool) -> None:
    claims = _sd_claims(world)
    claims["cnf"] = {"jwk": holder_jwk_for(world.wallet.holder)}
    if hidden.startswith("credentialStatus."):
        claims["credentialStatus"] = claims["credentialStatus"][0]
    value: Any = claims
    for part in hidden.split("."):
        value = value[part]
    jwt, discs = _raw_sd_jwt(world.key(world.roc), world.roc.profile.verification_method, claims, {hidden: value})
    token = jwt + "~" + ("" if withheld else "".join(d + "~" for d in discs))
    resolver = DidResolver()
    with pytest.raises(TokenInvalid) as info:
        verify_sd_jwt(token, resolver=resolver, expected_nonce=None, expected_aud=None, require_key_binding=False)
    assert info.value.reason == "decisive_claim_disclosable"


def _withheld_in_a_presentation(w: World, claims: dict[str, Any], hidden: dict[str, Any]) -> VerifiedPresentation:
    """An SD-JWT with ``hidden`` made disclosable by its issuer, presented with nothing disclosed,
    key-bound to this verifier, inside a presentation signed by the holder."""
    claims["cnf"] = {"jwk": holder_jwk_for(w.wallet.holder)}
    jwt, _discs = _raw_sd_jwt(w.key(w.roc), w.roc.profile.verification_method, claims, hidden)
    token = present_sd_jwt(jwt + "~", disclose=[], holder_key=w.holder_key, nonce=CHALLENGE, aud=DOMAIN)
    envelope = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["EnvelopedVerifiableCredential"],
                "id": "data:application/vc+sd-jwt," + token}
    return assess(w, present_as_is(w, [envelope]), trust(w))


def test_sd_jwt_withholding_the_subject_id_fails_holder_binding(world: World) -> None:
    result = _withheld_in_a_presentation(world, _sd_claims(world), {"credentialSubject.id": world.wallet.holder})
    assert result.accepted == ()
    assert the(result.report, "credential[0].holder_binding").status == "failed"


def test_sd_jwt_from_another_library_withholding_validity_fails_in_the_verifier(world: World) -> None:
    """Through the whole Verifier: an expired credential whose validUntil the issuer made
    disclosable, presented with validUntil withheld, is not accepted."""
    from datetime import timedelta

    from skillcred._internal.timeutil import format_datetime, utcnow

    claims = _sd_claims(world)
    claims["validFrom"] = format_datetime(utcnow() - timedelta(days=30))
    claims["validUntil"] = format_datetime(utcnow() - timedelta(days=1))
    result = _withheld_in_a_presentation(world, claims, {"validUntil": claims["validUntil"]})
    assert result.accepted == ()
    assert the(result.report, "credential[0].proof").code == "decisive_claim_disclosable"


def test_sd_jwt_disclosures_inside_credential_subject_still_work(world: World) -> None:
    claims = _sd_claims(world)
    claims["cnf"] = {"jwk": holder_jwk_for(world.wallet.holder)}
    token = issue_sd_jwt(claims, world.key(world.roc), kid=world.roc.profile.verification_method,
                         disclosable=["/credentialSubject/result"], holder_jwk=holder_jwk_for(world.wallet.holder))
    out = verify_sd_jwt(token, resolver=DidResolver(), expected_nonce=None, expected_aud=None,
                        require_key_binding=False)
    assert "result" in out.claims["credentialSubject"]
    withheld = token.split("~", 1)[0] + "~"
    out = verify_sd_jwt(withheld, resolver=DidResolver(), expected_nonce=None, expected_aud=None,
                        require_key_binding=False)
    assert "result" not in out.claims["credentialSubject"] and out.claims["validFrom"] == claims["validFrom"]


ALL_DECISIVE_POINTERS = ["/issuer", "/validFrom", "/validUntil", "/credentialStatus", "/type"]


@dataclass
class SdInstitute:
    body: dict[str, Any]  # an unsigned skill credential about the holder
    key: KeyPair
    method: str
    verifier: Verifier  # trusts the institute, holds its status lists

    def derived(self, mandatory: list[str], shown: list[str]) -> dict[str, Any]:
        base = add_base_proof(self.body, self.key, verification_method=self.method, mandatory_pointers=mandatory)
        return derive_proof(base, selective_pointers=shown)


@pytest.fixture
def sd_institute(world: World, tmp_path: Path) -> Iterator[SdInstitute]:
    init_issuer(tmp_path / "sd", name="SD Institute", url="https://sd.example", key_type="p256")
    with Issuer.open(tmp_path / "sd") as sd_iss:
        doc = issue(sd_iss, "cnc-programmeren.yaml", world.wallet.holder, "3")
        tl = TrustList()
        tl.add(sd_iss.profile.did, name="SD Institute")
        yield SdInstitute({k: v for k, v in doc.items() if k != "proof"},
                          read_key_file(tmp_path / "sd" / "issuer-key.pem"), sd_iss.profile.verification_method,
                          Verifier(VerificationPolicy(trust=tl),
                                   status_lists=[d for _, d in sd_iss.status_list_credentials()]))


@pytest.mark.parametrize("optional", [["/validUntil"], ["/credentialStatus"], ["/validFrom"],
                                      ["/validUntil", "/credentialStatus"]])
def test_ecdsa_sd_2023_decisive_statements_must_be_mandatory(world: World, sd_institute: SdInstitute,
                                                              optional: list[str]) -> None:
    mandatory = [p for p in ALL_DECISIVE_POINTERS if p not in optional]
    shown = sd_institute.derived(mandatory, [*optional, "/credentialSubject"])
    assert check_proofs(shown).verified is True  # the proof is valid by the suite; the policy refuses it
    result = sd_institute.verifier.assess(present_as_is(world, [shown]), challenge=CHALLENGE, domain=DOMAIN)
    assert result.accepted == ()
    assert the(result.report, "credential[0].proof").code == "decisive_claim_disclosable"
    good = sd_institute.derived(ALL_DECISIVE_POINTERS, ["/credentialSubject"])  # all mandatory: accepted
    result = sd_institute.verifier.assess(present_as_is(world, [good]), challenge=CHALLENGE, domain=DOMAIN)
    assert result.report.verified is True, result.report.failures()


def test_ecdsa_sd_2023_issuer_not_mandatory_is_refused(world: World, sd_institute: SdInstitute) -> None:
    shown = sd_institute.derived(["/validFrom", "/validUntil", "/credentialStatus"],
                                 ["/issuer", "/type", "/credentialSubject"])
    result = sd_institute.verifier.assess(present_as_is(world, [shown]), challenge=CHALLENGE, domain=DOMAIN)
    assert the(result.report, "credential[0].proof").code == "decisive_claim_disclosable"

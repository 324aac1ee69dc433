"""Employer verification as a library: every way a presentation can be wrong is rejected, and
the report names the check that caught it (``Check.id`` and ``Check.code``), never just
``verified is False``.

The credentials come from real issuer folders built from ``examples/achievements``: institute
A (did:key), institute B (did:web, its did.json stored in the trust list) and a third,
unrelated institute C (did:key) that plays the forger. The holder is a real wallet. Status lists
are the ones the institutes publish. Expected codes are the documented ones (the verifier's
numbered pipeline and docs/verifying.md), not read back from the code under test.
"""

from __future__ import annotations

import copy
import inspect
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.fileio import load_json_object
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.did import key_did
from skillcred.errors import InvalidArgument, SkillcredSecurityWarning, VerificationFailed
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair, read_key_file
from skillcred.proofs import add_proof
from skillcred.status import BitstringStatusList
from skillcred.trust import TrustList
from skillcred.verify import (
    Check,
    VerificationPolicy,
    VerificationReport,
    VerifiedCredential,
    VerifiedPresentation,
    Verifier,
)
from skillcred.verify import verifier as verifier_module
from skillcred.wallet import Wallet

ACHIEVEMENTS = REPO / "examples" / "achievements"
CHALLENGE = "3f6c1a52-9d0e-4c1b-8a57-employer-challenge"
DOMAIN = "werkgever.example"
OTHER = key_did(KeyPair.generate("ed25519").public_key)  # somebody who is not the holder

FILES = {
    "cnc": ("cnc-programmeren.yaml", "3"),  # Competency, framework "ROC Techniek Vaardigheden", 5 years
    "mig": ("mig-mag-lassen.yaml", "2"),  # Certification, 3 years
    "diploma": ("mbo-verspaner-diploma.yaml", None),  # Diploma, no end date
}

# Every family a credential in a presentation is checked for, with its step in the pipeline
# (src/skillcred/verify/verifier.py docstring, docs/verifying.md).
CREDENTIAL_STEPS = {"shape": 1, "contexts": 2, "terms": 2, "proof": 5, "issuer": 6, "validity": 7,
                    "status": 8, "trust": 9, "schema": 10, "holder_binding": 11}
PRESENTATION_STEPS = {"shape": 1, "contexts": 2, "terms": 2, "proof": 4, "challenge": 4, "domain": 4}


@dataclass
class World:
    a: Issuer  # did:key institute
    b: Issuer  # did:web institute
    c: Issuer  # an unrelated did:key institute (the forger)
    folders: dict[str, Path]
    b_did_document: dict[str, Any]
    wallet: Wallet
    holder_key: KeyPair

    def key_of(self, name: str) -> KeyPair:
        """An institute's signing key, read from its folder like any key file."""
        return read_key_file(self.folders[name] / "issuer-key.pem")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("verify")
    folders = {n: root / n for n in "abc"}
    init_issuer(folders["a"], name="ROC Techniek", url="https://roc-techniek.example")
    init_issuer(folders["b"], name="Lasinstituut Noord", url="https://lasinstituut-noord.example", did_method="web")
    init_issuer(folders["c"], name="Diplomafabriek", url="https://diplomafabriek.example")
    issuers = {n: Issuer.open(f) for n, f in folders.items()}
    wallet = Wallet.init(root / "wallet")
    w = World(issuers["a"], issuers["b"], issuers["c"], folders, load_json_object(folders["b"] / "did.json"),
              wallet, wallet.holder_key())
    assert w.a.profile.did.startswith("did:key:") and w.b.profile.did.startswith("did:web:")
    yield w
    for iss in issuers.values():
        iss.close()


def issue(iss: Issuer, what: str = "cnc", subject: str | None = None, holder: str | None = None,
          **kw: Any) -> dict[str, Any]:
    file, level = FILES[what]
    record, new = iss.issue(load_achievement(ACHIEVEMENTS / file), subject or str(holder), level=level, **kw)
    assert new
    return dict(record.document)


def cred(w: World, iss: Issuer | None = None, what: str = "cnc", **kw: Any) -> dict[str, Any]:
    """A fresh credential about the wallet's holder."""
    return issue(iss or w.a, what, holder=w.wallet.holder, **kw)


def lists(*issuers: Issuer, **kw: Any) -> list[dict[str, Any]]:
    """The status-list credentials these institutes publish right now."""
    return [doc for iss in issuers for _, doc in iss.status_list_credentials(**kw)]


def trust_list(w: World, *, a: list[str] | None = None, b: bool = True) -> TrustList:
    """A trust list with institute A (restricted to ``a`` if given) and B (with its did.json)."""
    tl = TrustList()
    tl.add(w.a.profile.did, name="ROC Techniek", may_attest=a or ())
    if b:
        tl.add(w.b.profile.did, name="Lasinstituut Noord", did_document=w.b_did_document)
    return tl


def present(w: World, creds: list[dict[str, Any]], challenge: str = CHALLENGE, domain: str = DOMAIN) -> dict[str, Any]:
    return w.wallet.present(creds, key=w.holder_key, challenge=challenge, domain=domain)


def verifier(w: World, *, trust: TrustList | bool | None = True, status: list[dict[str, Any]] | None = None,
             **policy: Any) -> Verifier:
    tl = trust_list(w) if trust is True else (trust or None)
    return Verifier(VerificationPolicy(trust=tl, **policy),
                    status_lists=lists(w.a, w.b) if status is None else status)


def check(w: World, doc: dict[str, Any], *, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN,
          at: datetime | None = None, **kw: Any) -> VerificationReport:
    return verifier(w, **kw).check(doc, challenge=challenge, domain=domain, at=at)


def the(report: VerificationReport, cid: str) -> Check:
    found = [c for c in report.checks if c.id == cid]
    assert len(found) == 1, f"{cid}: {[c.id for c in report.checks]}"
    return found[0]


def assert_check(report: VerificationReport, cid: str, status: str, code: str) -> Check:
    c = the(report, cid)
    assert (c.status, c.code) == (status, code), f"{cid}: {c}"
    assert c.reason
    if status in ("failed", "indeterminate"):
        assert report.verified is False
    return c


def assert_all_ok(report: VerificationReport) -> None:
    bad = [c for c in report.checks if c.status not in ("passed", "not_applicable")]
    assert not bad, bad
    assert report.verified is True


def unsigned(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    del out["proof"]
    return out


def sign_as(w: World, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Sign ``doc`` (already without proof) with institute ``name``'s real key and method."""
    iss = {"a": w.a, "b": w.b, "c": w.c}[name]
    return add_proof(doc, w.key_of(name), verification_method=iss.profile.verification_method,
                     cryptosuite=iss.profile.suite)


# --------------------------------------------------------------------------------------------
# The good case


def test_presentation_from_two_institutes_did_key_and_did_web_verifies(world: World) -> None:
    cnc, diploma = cred(world, world.a, "cnc"), cred(world, world.b, "diploma")
    vp = present(world, [cnc, diploma])
    # B's DID document is known to the verifier only through the trust list
    v = Verifier(VerificationPolicy(trust=trust_list(world)), status_lists=lists(world.a, world.b))
    result = v.assess(vp, challenge=CHALLENGE, domain=DOMAIN)
    report = result.report
    assert_all_ok(report)
    assert report.kind == "presentation" and report.presentation_id == vp["id"]
    assert report.warnings == ()
    for i in (0, 1):
        steps = {c.family: c.step for c in report.for_credential(i)}
        assert steps == CREDENTIAL_STEPS
        assert all(c.status == "passed" for c in report.for_credential(i))
    assert {c.family: c.step for c in report.checks if c.id.startswith("presentation.")} == PRESENTATION_STEPS
    reason = the(report, "credential[0].status").reason  # which copy of each list decided
    assert reason.startswith("not revoked (validFrom ") and "; not suspended (validFrom " in reason
    assert reason.count("held by the verifier") == 2
    assert result.holder == world.wallet.holder
    assert [(c.index, c.id, c.issuer) for c in result.accepted] == [
        (0, cnc["id"], world.a.profile.did), (1, diploma["id"], world.b.profile.did)]
    assert all(isinstance(c, VerifiedCredential) for c in result.accepted)
    assert result.rejected == ()
    assert report.credential_ids == (cnc["id"], diploma["id"])


def test_a_single_credential_verifies_without_holder_binding(world: World) -> None:
    doc = cred(world, world.b, "mig")
    report = check(world, doc, challenge=None, domain=None)
    assert_all_ok(report)
    assert report.kind == "credential"
    expected = {f"credential.{f}" for f in CREDENTIAL_STEPS if f != "holder_binding"}
    assert {c.id for c in report.checks} == expected


# --------------------------------------------------------------------------------------------
# 5-6: proofs and the issuer's key


def test_tampered_claim_fails_the_credential_proof(world: World) -> None:
    doc = cred(world)
    doc["credentialSubject"]["result"][0]["achievedLevel"] = "https://roc-techniek.example/rubric/niveau-5"
    report = check(world, present(world, [doc]))  # the holder signs the tampered copy
    assert_check(report, "presentation.proof", "passed", "ok")
    assert_check(report, "credential[0].proof", "failed", "signature_invalid")
    assert_check(report, "credential[0].issuer", "indeterminate", "proof_invalid")
    assert report.verified is False


def test_tampering_a_signed_presentation_fails_both_proofs(world: World) -> None:
    vp = present(world, [cred(world)])
    vp["verifiableCredential"][0]["validUntil"] = "2099-01-01T00:00:00Z"
    report = check(world, vp)
    assert_check(report, "presentation.proof", "failed", "signature_invalid")
    assert_check(report, "credential[0].proof", "failed", "signature_invalid")


def test_credential_naming_institute_a_but_signed_by_institute_c_is_an_issuer_key_mismatch(world: World) -> None:
    doc = unsigned(issue(world.c, "cnc", holder=world.wallet.holder))
    doc["issuer"] = {**doc["issuer"], "id": world.a.profile.did, "name": world.a.profile.name}
    forged = sign_as(world, "c", doc)
    report = check(world, present(world, [forged]))
    assert_check(report, "credential[0].proof", "passed", "ok")  # a fine signature ...
    c = assert_check(report, "credential[0].issuer", "failed", "issuer_key_mismatch")  # ... by the wrong key
    assert world.c.profile.did in c.reason and world.a.profile.did in c.reason
    assert report.verified is False


def test_proof_value_of_the_wrong_length_fails_the_proof(world: World) -> None:
    from multiformats import multibase

    doc = cred(world)
    doc["proof"]["proofValue"] = multibase.encode(b"\x01" * 63, "base58btc")
    report = check(world, doc, challenge=None, domain=None)
    assert_check(report, "credential.proof", "failed", "signature_invalid")


# --------------------------------------------------------------------------------------------
# 7: validity period


def test_expired_credential(world: World) -> None:
    doc = cred(world)  # 5 years
    end = parse_datetime(doc["validUntil"])
    vp = present(world, [doc])
    assert_check(check(world, vp, at=end + timedelta(days=1)), "credential[0].validity", "failed", "expired")
    assert_check(check(world, vp, at=end - timedelta(days=1)), "credential[0].validity", "passed", "ok")
    # within the 5-minute clock skew still valid, beyond it not
    assert_check(check(world, vp, at=end + timedelta(minutes=4)), "credential[0].validity", "passed", "ok")
    assert_check(check(world, vp, at=end + timedelta(minutes=6)), "credential[0].validity", "failed", "expired")


def test_credential_that_expired_yesterday_fails_now(world: World) -> None:
    now = utcnow().replace(microsecond=0)
    doc = cred(world, valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))
    report = check(world, present(world, [doc]))
    assert_check(report, "credential[0].validity", "failed", "expired")
    assert_check(report, "credential[0].status", "passed", "ok")  # only the dates are wrong


def test_not_yet_valid_credential(world: World) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=30)
    doc = cred(world, valid_from=start)
    vp = present(world, [doc])
    assert_check(check(world, vp), "credential[0].validity", "failed", "not_yet_valid")
    assert_check(check(world, vp, at=start + timedelta(days=1)), "credential[0].validity", "passed", "ok")


# --------------------------------------------------------------------------------------------
# 8: status


def test_revoked_credential(world: World) -> None:
    doc = cred(world)
    assert world.a.revoke(doc["id"])
    report = check(world, present(world, [doc]))  # the revocation list as now published
    c = assert_check(report, "credential[0].status", "failed", "revoked")
    assert "revoked" in c.reason


def test_suspended_credential_and_lifting_the_suspension(world: World) -> None:
    doc = cred(world, world.b, "mig")
    vp = present(world, [doc])
    assert world.b.suspend(doc["id"])
    assert_check(check(world, vp), "credential[0].status", "failed", "suspended")
    assert world.b.unsuspend(doc["id"])
    assert_all_ok(check(world, vp))


def test_status_lists_carried_in_the_presentation_are_used(world: World) -> None:
    doc = cred(world)
    assert world.a.revoke(doc["id"])
    vp = present(world, [doc, *lists(world.a)])
    report = check(world, vp, status=[])
    assert [c for c in report.checks if c.id.startswith("credential[1]")] == []  # lists are not credentials
    assert_check(report, "credential[0].status", "failed", "revoked")
    fine = present(world, [cred(world), *lists(world.a)])
    assert_all_ok(check(world, fine, status=[]))


def test_status_list_not_available_fails_closed(world: World) -> None:
    vp = present(world, [cred(world)])
    report = check(world, vp, status=[])
    c = assert_check(report, "credential[0].status", "indeterminate", "status_unavailable")
    assert "not available" in c.reason
    assert report.verified is False
    with pytest.raises(VerificationFailed):
        verifier(world, status=[]).verify(vp, challenge=CHALLENGE, domain=DOMAIN)


def test_unknown_status_accepted_only_with_the_unsafe_switch_which_warns(world: World) -> None:
    vp = present(world, [cred(world)])
    with pytest.warns(SkillcredSecurityWarning, match="status"):
        v = verifier(world, status=[], unsafe_accept_unknown_status=True)
    report = v.check(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert_check(report, "credential[0].status", "not_applicable", "unsafe_status_unknown")
    assert "UNSAFE" in the(report, "credential[0].status").reason
    assert report.verified is True


def test_unsafe_switch_does_not_hide_a_revocation(world: World) -> None:
    doc = cred(world)
    world.a.revoke(doc["id"])
    with pytest.warns(SkillcredSecurityWarning):
        v = verifier(world, unsafe_accept_unknown_status=True)
    report = v.check(present(world, [doc]), challenge=CHALLENGE, domain=DOMAIN)
    assert_check(report, "credential[0].status", "failed", "revoked")


def test_stale_status_list(world: World) -> None:
    vp = present(world, [cred(world)])
    old = lists(world.a, world.b, now=utcnow() - timedelta(days=10))  # valid for 7 days, so 3 days past
    assert_check(check(world, vp, status=old), "credential[0].status", "indeterminate", "status_list_stale")
    # the current lists, verified as of 8 days from now (past their validUntil): status is
    # judged as of now (a future one cannot be known), dates at that time, and it says so
    later = utcnow() + timedelta(days=8)
    report = check(world, vp, at=later)
    assert "as of now" in assert_check(report, "credential[0].status", "passed", "ok").reason
    assert_check(report, "credential[0].validity", "passed", "ok")
    assert report.verified is True
    assert any("in the future" in w for w in report.warnings)


def test_status_list_signed_by_someone_else_than_the_issuer(world: World) -> None:
    doc = cred(world)
    vp = present(world, [doc])
    forged = [sign_as(world, "c", unsigned(lst)) for lst in lists(world.a)]  # issuer still says A
    c = assert_check(check(world, vp, status=forged), "credential[0].status", "indeterminate",
                     "status_list_wrong_issuer")
    assert "not issued by the credential's issuer" in c.reason
    renamed = []
    for lst in lists(world.a):
        u = unsigned(lst)
        u["issuer"] = world.c.profile.did
        renamed.append(sign_as(world, "c", u))
    assert_check(check(world, vp, status=renamed), "credential[0].status", "indeterminate",
                 "status_list_wrong_issuer")


def test_status_list_with_cleared_bits_does_not_verify(world: World) -> None:
    doc = cred(world)
    world.a.revoke(doc["id"])
    doctored = lists(world.a)
    for lst in doctored:
        lst["credentialSubject"]["encodedList"] = BitstringStatusList().encode()  # "nobody revoked"
    report = check(world, present(world, [doc]), status=doctored)
    assert_check(report, "credential[0].status", "indeterminate", "status_list_invalid")


# --------------------------------------------------------------------------------------------
# 9: trust


def test_issuer_not_in_the_trust_list(world: World) -> None:
    tl = TrustList()
    tl.add(world.b.profile.did, name="Lasinstituut Noord", did_document=world.b_did_document)
    report = check(world, present(world, [cred(world, world.a)]), trust=tl)
    c = assert_check(report, "credential[0].trust", "failed", "issuer_untrusted")
    assert world.a.profile.did in c.reason


def test_issuer_trusted_only_for_diplomas_cannot_attest_a_skill(world: World) -> None:
    tl = trust_list(world, a=["Diploma"])
    report = check(world, present(world, [cred(world, world.a, "cnc"), cred(world, world.a, "diploma")]), trust=tl)
    assert_check(report, "credential[0].trust", "failed", "issuer_not_trusted_for_kind")
    assert_check(report, "credential[1].trust", "passed", "ok")


@pytest.mark.parametrize(("may_attest", "cnc_ok", "mig_ok"), [
    (["framework:ESCO"], True, True),  # both example badges are aligned to real ESCO skills too
    (["framework:CREBO"], False, False),  # the diploma's framework: neither badge names it
    (["framework:ROC Techniek Vaardigheden"], True, True),
    (["framework:https://skills.roc-techniek.example/"], True, True),
    (["framework:https://skills.roc-techniek.example/mig"], False, True),
    (["Certification", "framework:ROC Techniek Vaardigheden"], False, True),
])
def test_framework_restriction(world: World, may_attest: list[str], cnc_ok: bool, mig_ok: bool) -> None:
    report = check(world, present(world, [cred(world, world.a, "cnc"), cred(world, world.a, "mig")]),
                   trust=trust_list(world, a=may_attest))
    for i, ok in enumerate((cnc_ok, mig_ok)):
        if ok:
            assert_check(report, f"credential[{i}].trust", "passed", "ok")
        else:
            assert_check(report, f"credential[{i}].trust", "failed", "issuer_not_trusted_for_kind")


def test_without_a_trust_list_trust_is_not_checked_and_says_so(world: World) -> None:
    vp = present(world, [cred(world, world.a)])
    report = check(world, vp, trust=None)
    c = assert_check(report, "credential[0].trust", "not_applicable", "trust_not_checked")
    assert "NOT PERFORMED" in c.reason
    assert any("no trust list" in w for w in report.warnings)
    assert report.verified is True  # the verdict is that of the other checks
    doc = cred(world, world.a)
    world.a.revoke(doc["id"])
    report = check(world, present(world, [doc]), trust=None)
    assert_check(report, "credential[0].trust", "not_applicable", "trust_not_checked")
    assert_check(report, "credential[0].status", "failed", "revoked")
    assert report.verified is False


# --------------------------------------------------------------------------------------------
# 3-4: the presentation (challenge, domain, holder)


def test_wrong_challenge(world: World) -> None:
    vp = present(world, [cred(world)], challenge="an-old-challenge")
    report = check(world, vp)
    assert_check(report, "presentation.proof", "failed", "challenge_mismatch")
    assert the(report, "presentation.challenge").status == "failed"
    assert report.verified is False


def test_proof_without_a_challenge(world: World) -> None:
    vp = unsigned(present(world, [cred(world)]))
    vp = add_proof(vp, world.holder_key, verification_method=world.wallet.verification_method,
                   proof_purpose="authentication", domain=DOMAIN)
    report = check(world, vp)
    c = assert_check(report, "presentation.proof", "failed", "challenge_mismatch")
    assert "no challenge" in c.reason


def test_wrong_domain(world: World) -> None:
    vp = present(world, [cred(world)], domain="another-employer.example")
    assert_check(check(world, vp), "presentation.proof", "failed", "domain_mismatch")


def test_verifier_without_a_challenge_is_indeterminate(world: World) -> None:
    vp = present(world, [cred(world)])
    result = verifier(world).assess(vp, challenge=None, domain=DOMAIN)
    assert_check(result.report, "presentation.challenge", "indeterminate", "challenge_not_given")
    assert result.report.verified is False
    assert result.accepted == ()
    assert [r[0] for r in result.rejected] == [0]
    with pytest.warns(SkillcredSecurityWarning, match="challenge"):
        v = verifier(world, unsafe_no_challenge=True)
    report = v.check(vp, challenge=None, domain=DOMAIN)
    assert_check(report, "presentation.challenge", "not_applicable", "unsafe_no_challenge")
    assert report.verified is True


def test_presentation_signed_for_assertion_instead_of_authentication(world: World) -> None:
    vp = unsigned(present(world, [cred(world)]))
    vp = add_proof(vp, world.holder_key, verification_method=world.wallet.verification_method,
                   proof_purpose="assertionMethod", challenge=CHALLENGE, domain=DOMAIN)
    assert_check(check(world, vp), "presentation.proof", "failed", "proof_purpose_mismatch")


def test_credential_about_someone_else_is_not_bound_to_the_holder(world: World, tmp_path: Path) -> None:
    other_wallet = Wallet.init(tmp_path / "w2")
    foreign = issue(world.a, "cnc", subject=OTHER)
    other_wallet.add(foreign, force_foreign=True)
    own = issue(world.a, "mig", subject=other_wallet.holder)
    other_wallet.add(own)
    # Wallet.select never presents a credential about someone else; a forger signs it anyway
    vp = other_wallet.present([other_wallet.get(foreign["id"]), other_wallet.get(own["id"])],
                              key=other_wallet.holder_key(), challenge=CHALLENGE, domain=DOMAIN)
    report = check(world, vp)
    idx = {cid: i for i, cid in enumerate(report.credential_ids)}
    c = assert_check(report, f"credential[{idx[foreign['id']]}].holder_binding", "failed", "subject_not_holder")
    assert OTHER in c.reason and other_wallet.holder in c.reason
    assert_check(report, f"credential[{idx[own['id']]}].holder_binding", "passed", "ok")
    assert_check(report, "presentation.proof", "passed", "ok")


def test_holder_field_naming_someone_else_than_the_signer(world: World) -> None:
    vp = unsigned(present(world, [cred(world)]))
    vp["holder"] = OTHER
    vp = add_proof(vp, world.holder_key, verification_method=world.wallet.verification_method,
                   proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    assert_check(check(world, vp), "presentation.holder", "failed", "holder_mismatch")


# --------------------------------------------------------------------------------------------
# 1-2 and 10: shape, contexts, terms, schema


def test_term_not_defined_by_the_contexts(world: World) -> None:
    doc = cred(world)
    doc["credentialSubject"]["salaryExpectation"] = "hoog"  # after signing: signing refuses undefined terms
    report = check(world, doc, challenge=None, domain=None)
    c = assert_check(report, "credential.terms", "failed", "undefined_term")
    assert "salaryExpectation" in c.reason
    assert the(report, "credential.proof").status == "failed"
    # the same inside a presentation (changed after the holder signed it)
    vp = present(world, [cred(world)])
    vp["verifiableCredential"][0]["credentialSubject"]["salaryExpectation"] = "hoog"
    report = check(world, vp)
    assert_check(report, "credential[0].terms", "failed", "undefined_term")
    assert the(report, "credential[0].proof").status == "failed"
    assert the(report, "presentation.proof").status == "failed"


def test_context_that_is_not_bundled(world: World) -> None:
    vp = present(world, [cred(world)])
    vp["verifiableCredential"][0]["@context"].append("https://evil.example/context.jsonld")
    report = check(world, vp)
    c = assert_check(report, "credential[0].contexts", "failed", "unknown_context")
    assert "https://evil.example/context.jsonld" in c.reason
    assert the(report, "credential[0].proof").status == "failed"


def test_credential_failing_its_schema_with_a_valid_signature(world: World) -> None:
    doc = unsigned(cred(world, world.a, "cnc"))
    del doc["credentialSubject"]["result"]  # a skill credential must say the level reached
    resigned = sign_as(world, "a", doc)  # properly signed by the real issuer
    report = check(world, present(world, [resigned]))
    assert_check(report, "credential[0].proof", "passed", "ok")
    assert_check(report, "credential[0].issuer", "passed", "ok")
    c = assert_check(report, "credential[0].schema", "failed", "schema_violation")
    assert "result" in c.reason
    assert report.verified is False


def test_neither_presentation_nor_credential(world: World) -> None:
    report = check(world, {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Thing"]})
    assert_check(report, "document.shape", "failed", "malformed_document")


def test_presentation_without_credentials(world: World) -> None:
    vp = present(world, [])
    report = check(world, vp)
    assert_check(report, "presentation.credentials", "failed", "no_credentials")


def test_a_presentation_with_more_credentials_than_the_policy_allows_is_refused_unchecked(
    world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An untrusted file must not buy unbounded work: past max_credentials nothing is
    canonicalized at all, and the report says why."""
    from skillcred._internal import fastld

    creds = [cred(world) for _ in range(3)]
    vp = present(world, creds)
    assert_all_ok(check(world, vp, max_credentials=3))

    strict = verifier(world, max_credentials=2)
    converted: list[int] = []
    real = fastld.to_rows
    monkeypatch.setattr(fastld, "to_rows", lambda *a: (converted.append(1), real(*a))[1])
    report = strict.check(vp, challenge=CHALLENGE, domain=DOMAIN)
    c = assert_check(report, "presentation.credentials", "failed", "too_many_credentials")
    assert "3 credentials" in c.reason and "2" in c.reason
    assert [x.id for x in report.checks] == ["presentation.credentials"]
    assert converted == []
    with pytest.raises(InvalidArgument):
        VerificationPolicy(max_credentials=0)


# --------------------------------------------------------------------------------------------
# Offline: no connection is ever opened


class _NoSocket:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("verification tried to open a socket")


def test_verification_completes_without_sockets(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    vp = present(world, [cred(world, world.a, "cnc"), cred(world, world.b, "diploma")])
    status = lists(world.a, world.b)
    tl = trust_list(world)
    monkeypatch.setattr(socket, "socket", _NoSocket)
    with pytest.raises(AssertionError):
        socket.socket()  # the replacement is in force
    result = Verifier(VerificationPolicy(trust=tl), status_lists=status).verify(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert result.report.verified is True
    assert len(result.accepted) == 2


# --------------------------------------------------------------------------------------------
# The library API


def test_check_never_raises_for_an_outcome(world: World) -> None:
    good = present(world, [cred(world)])
    bad_docs: list[Any] = [
        {}, [], {"type": "VerifiablePresentation"}, {"type": ["VerifiableCredential"], "proof": "x"},
        {**good, "proof": 5}, {**good, "verifiableCredential": ["not a credential", 5, None]},
        {**good, "@context": 5}, {**unsigned(good), "type": "VerifiablePresentation"},
    ]
    for doc in bad_docs:
        report = verifier(world).check(doc, challenge=CHALLENGE, domain=DOMAIN)
        assert isinstance(report, VerificationReport)
        assert report.verified is False
        assert report.failures()


def test_verify_raises_with_the_report_and_returns_on_success(world: World) -> None:
    good = present(world, [cred(world)])
    result = verifier(world).verify(good, challenge=CHALLENGE, domain=DOMAIN)
    assert isinstance(result, VerifiedPresentation) and result.report.verified is True
    with pytest.raises(VerificationFailed) as info:
        verifier(world).verify(good, challenge="another", domain=DOMAIN)
    report = info.value.report
    assert isinstance(report, VerificationReport)
    assert the(report, "presentation.proof").code == "challenge_mismatch"
    assert str(info.value).startswith("presentation.proof:")


def test_report_is_not_a_boolean(world: World) -> None:
    report = check(world, present(world, [cred(world)]))
    assert report.verified is True
    with pytest.raises(TypeError):
        bool(report)
    with pytest.raises(TypeError):
        if report:  # the mistake this guards against
            pass


def test_report_as_json(world: World) -> None:
    doc = cred(world)
    world.a.revoke(doc["id"])
    data = check(world, present(world, [doc])).to_dict()
    assert data["verified"] is False
    status = next(c for c in data["checks"] if c["id"] == "credential[0].status")
    assert status["status"] == "failed" and status["code"] == "revoked" and status["reason"]
    assert status["step"] == 8
    assert status["problem_type"].endswith("STATUS_VERIFICATION_ERROR")
    assert all({"id", "status", "reason", "code", "step"} <= set(c) for c in data["checks"])


def test_assess_accepts_only_credentials_whose_every_check_passed(world: World) -> None:
    good, revoked = cred(world, world.a, "cnc"), cred(world, world.a, "mig")
    world.a.revoke(revoked["id"])
    vp = present(world, [good, revoked, cred(world, world.b, "diploma")])
    result = verifier(world).assess(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert result.report.verified is False
    assert [c.id for c in result.accepted] == [good["id"], vp["verifiableCredential"][2]["id"]]
    for accepted in result.accepted:
        assert isinstance(accepted, VerifiedCredential)
        assert all(c.ok for c in result.report.for_credential(accepted.index))
        assert accepted.document == vp["verifiableCredential"][accepted.index]
    assert len(result.rejected) == 1
    index, cid, reason = result.rejected[0]
    assert (index, cid) == (1, revoked["id"])
    assert "status" in reason and "revoked" in reason
    # a presentation that itself fails gives nothing to rely on
    bad = verifier(world).assess(vp, challenge="wrong", domain=DOMAIN)
    assert bad.accepted == () and bad.holder is None
    assert [r[0] for r in bad.rejected] == [0, 1, 2]
    assert all("presentation" in r[2] for r in bad.rejected if r[0] != 1)


def test_failed_single_credential_is_never_accepted(world: World) -> None:
    doc = cred(world)
    world.a.revoke(doc["id"])
    result = verifier(world).assess(doc)
    assert result.report.verified is False
    assert result.accepted == ()
    assert len(result.rejected) == 1 and result.rejected[0][2]


def test_status_lists_carried_by_one_presentation_do_not_leak_into_the_next(world: World) -> None:
    """One Verifier checks many candidates (``skillcred rank``): what one presentation carried
    must not decide the outcome for another, nor depend on the order they were checked in."""
    v = verifier(world, status=[])
    carrying = present(world, [cred(world), *lists(world.a)])
    bare = present(world, [cred(world)])
    assert_all_ok(v.check(carrying, challenge=CHALLENGE, domain=DOMAIN))
    report = v.check(bare, challenge=CHALLENGE, domain=DOMAIN)
    assert_check(report, "credential[0].status", "indeterminate", "status_unavailable")


def test_the_employer_guide_lists_the_pipeline_steps_exactly() -> None:
    """docs/verifying.md repeats the numbered steps of the verifier's docstring word for word."""
    doc = inspect.getdoc(verifier_module) or ""
    start = doc.index("0. establish the verification time")
    end = doc.index("[credential[i].holder_binding]") + len("[credential[i].holder_binding]")
    steps = doc[start:end]
    guide = (REPO / "docs" / "verifying.md").read_text(encoding="utf-8")
    assert steps in guide
    for family in CREDENTIAL_STEPS:
        assert f"`credential[i].{family}`" in guide
    for family in PRESENTATION_STEPS:
        assert f"`presentation.{family}`" in guide


# --------------------------------------------------------------------------------------------
# The verifier's private copy, and the work it does once per run (issue 14 item 9)


@pytest.mark.parametrize("depth", [63, 64, 65, 66])
def test_the_depth_bound_is_check_depths_own(world: World, depth: int) -> None:
    """One walk copies the document, bounds its depth and collects its contexts; the bound is
    exactly ``check_depth``'s (a document check_depth accepts is never refused for depth)."""
    from skillcred._internal.fileio import MAX_JSON_DEPTH, check_depth
    from skillcred.errors import MalformedDocument

    doc = cred(world)
    nested: Any = "leaf"
    for _ in range(depth - 2):  # with the credential and its subject: depth + 1 levels, the leaf counted
        nested = [nested]
    doc["credentialSubject"]["deep"] = nested
    try:
        check_depth(doc)
        accepted = True
    except MalformedDocument:
        accepted = False
    assert accepted is (depth + 1 <= MAX_JSON_DEPTH)  # the parameters straddle the bound
    report = verifier(world).check(doc)
    shape = [c for c in report.checks if c.id == "document.shape"]
    if accepted:
        assert not shape  # no depth refusal: it goes on to the proof (which fails: "deep" is not signed)
        assert the(report, "credential.proof").status == "failed"
    else:
        assert [(c.status, c.code) for c in shape] == [("failed", "malformed_document")]
        assert "nests deeper than 64 levels" in shape[0].reason


def test_a_caller_changing_its_document_changes_nothing_verified(world: World) -> None:
    vc = cred(world)
    vp = present(world, [vc])
    result = verifier(world).assess(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert result.report.verified and len(result.accepted) == 1
    kept = copy.deepcopy(result.accepted[0].document)
    vp["verifiableCredential"][0]["credentialSubject"]["id"] = "did:example:someone-else"
    vp["verifiableCredential"][0]["issuer"] = "did:example:forger"
    assert result.accepted[0].document == kept
    assert result.accepted[0].document is not vp["verifiableCredential"][0]


def test_claims_and_list_dates_are_judged_once_per_credential_and_list(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The trust check and the counted claims share one judgement of a credential's claims, and
    a status list's dates are judged once per run however many entries point at it: counted
    calls, and the verdicts stay those of a fresh judgement each time."""
    calls = {"claims": 0, "dates": 0}
    real_claims, real_dates = verifier_module.credential_claims, verifier_module.Verifier._list_dates

    def counting_claims(doc: Any) -> Any:
        calls["claims"] += 1
        return real_claims(doc)

    def counting_dates(self: Verifier, *a: Any, **kw: Any) -> Any:
        calls["dates"] += 1
        return real_dates(self, *a, **kw)

    monkeypatch.setattr(verifier_module, "credential_claims", counting_claims)
    monkeypatch.setattr(verifier_module.Verifier, "_list_dates", counting_dates)
    creds = [cred(world) for _ in range(3)]
    v = verifier(world)
    result = v.assess(present(world, creds), challenge=CHALLENGE, domain=DOMAIN)
    assert result.report.verified and len(result.accepted) == 3
    assert all(c.claims for c in result.accepted)
    assert calls["claims"] == 3  # once per credential, not once per use
    entries = sum(len(c["credentialStatus"]) if isinstance(c["credentialStatus"], list) else 1 for c in creds)
    purposes = {e["statusPurpose"] for c in creds for e in (c["credentialStatus"] if isinstance(
        c["credentialStatus"], list) else [c["credentialStatus"]])}
    assert entries > len(purposes)  # several entries share each list
    assert calls["dates"] == len(purposes)  # one list per purpose here: judged once each
    # a stale list is still refused for every entry that points at it
    late = datetime.now().astimezone() + timedelta(days=3650)
    stale = v.assess(present(world, creds), challenge=CHALLENGE, domain=DOMAIN, at=late).report
    assert not stale.verified


def test_the_deciding_list_copy_is_chosen_once_for_an_institutes_credentials(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials of one institute point at the same lists: the copy that decides for a list,
    purpose and issuer is ranked and chosen for the first entry only (counted calls), and every
    later entry still gets its own verdict, word for word what a fresh verifier says."""
    calls = {"ranked": 0, "chosen": 0}
    real_ranked, real_chosen = Verifier._ranked, Verifier._newest_verified

    def counting_ranked(self: Verifier, *a: Any, **kw: Any) -> Any:
        calls["ranked"] += 1
        return real_ranked(self, *a, **kw)

    def counting_chosen(self: Verifier, *a: Any, **kw: Any) -> Any:
        calls["chosen"] += 1
        return real_chosen(self, *a, **kw)

    creds = [cred(world) for _ in range(4)]
    assert world.a.revoke(creds[2]["id"])
    v = verifier(world, trust=True)
    monkeypatch.setattr(Verifier, "_ranked", counting_ranked)
    monkeypatch.setattr(Verifier, "_newest_verified", counting_chosen)
    reports = [v.check(c) for c in creds]
    purposes = {e["statusPurpose"] for e in _as_entries(creds[0])}
    assert calls == {"ranked": len(purposes), "chosen": len(purposes)}  # the first credential's entries only
    assert [r.verified for r in reports] == [True, True, False, True]
    assert the(reports[2], "credential.status").status == "failed"
    assert the(reports[2], "credential.status").code == "revoked"
    monkeypatch.undo()
    for c, r in zip(creds, reports, strict=True):
        fresh = verifier(world, trust=True).check(c)
        assert the(r, "credential.status") == the(fresh, "credential.status")


def test_a_settled_list_copy_gives_way_to_a_newer_one_and_to_a_stapled_one(world: World) -> None:
    """What was settled is tied to the very tuple of copies it was chosen from: a list added to
    the verifier later, or a copy a presentation carries, is ranked and chosen afresh."""
    doc, other = cred(world), cred(world)
    v = verifier(world, trust=True)
    assert v.check(other).verified and v.check(doc).verified  # settled on the lists of now
    assert world.a.revoke(doc["id"])
    newer = lists(world.a, now=datetime.now(UTC) + timedelta(seconds=2))  # newer than the verifier's
    # a presentation stapling the newer list: its run's copies are another tuple
    stapled = world.wallet.present([doc, *[dict(x) for x in newer]], key=world.holder_key,
                                   challenge=CHALLENGE, domain=DOMAIN)
    report = v.check(stapled, challenge=CHALLENGE, domain=DOMAIN)
    assert the(report, "credential[0].status").code == "revoked"
    assert v.check(doc).verified  # the verifier's own lists still say not revoked
    for lst in newer:
        v.add_status_list(lst)
    assert the(v.check(doc), "credential.status").code == "revoked"
    assert v.check(other).verified


def _as_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    status = doc["credentialStatus"]
    return status if isinstance(status, list) else [status]

"""Work a verifier does once per document or once per verifier (issue 14 item 9), by counting
calls, never by timing: an employer checking many credentials of one institute reads each
status list's list-side facts once, ranks its copies once, and still judges every entry's own
bit and every change of the lists it is given.

The credentials come from a real issuer folder (``support.fixtures.issuer``); revocations and
suspensions are made through the issuer's registry, so the expected verdicts come from the
issuer's lists, not from the verifier's caches."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.timeutil import utcnow
from skillcred.claims import Claim
from skillcred.did import key_did
from skillcred.issuer import Issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.status import BitstringStatusList
from skillcred.trust import TrustList
from skillcred.verify import Check, VerificationPolicy, VerificationReport, Verifier
from skillcred.verify import verifier as verifier_module

ACHIEVEMENT = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


def _subject() -> str:
    return key_did(KeyPair.generate("ed25519").public_key)


@pytest.fixture(scope="module")
def creds(issuer: Issuer) -> list[dict[str, Any]]:
    """Six distinct credentials of one institute, each with a revocation and a suspension entry."""
    definition = load_achievement(ACHIEVEMENT)
    return [copy.deepcopy(dict(issuer.issue(definition, _subject(), level=str(2 + i % 3))[0].document))
            for i in range(6)]


@pytest.fixture()
def trust(issuer: Issuer, tmp_path: Any) -> TrustList:
    trusted = TrustList(path=tmp_path / "trust.json")
    trusted.add(issuer.profile.did, name="ROC Techniek")
    return trusted


def _lists(issuer: Issuer, **kw: Any) -> list[dict[str, Any]]:
    return [doc for _url, doc in issuer.status_list_credentials(**kw)]


def _status(report: VerificationReport) -> tuple[str, str]:
    check = next(c for c in report.checks if c.id == "credential.status")
    return check.status, check.code


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts of the list-side reads (``read_status``), list expansions and copy rankings."""
    calls = {"read_status": 0, "decode": 0, "ranked": 0}
    real_read, real_rank = verifier_module.read_status, verifier_module._newest_first
    real_decode = BitstringStatusList.decode.__func__  # type: ignore[attr-defined]

    def read_status(*a: Any, **kw: Any) -> Any:
        calls["read_status"] += 1
        return real_read(*a, **kw)

    def decode(cls: Any, *a: Any, **kw: Any) -> Any:
        calls["decode"] += 1
        return real_decode(cls, *a, **kw)

    def newest_first(*a: Any, **kw: Any) -> Any:
        calls["ranked"] += 1
        return real_rank(*a, **kw)

    monkeypatch.setattr(verifier_module, "read_status", read_status)
    monkeypatch.setattr(verifier_module, "_newest_first", newest_first)
    monkeypatch.setattr(BitstringStatusList, "decode", classmethod(decode))
    yield calls


def test_a_status_list_is_read_once_per_verifier_not_once_per_credential(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, counted: dict[str, int]) -> None:
    lists = _lists(issuer)
    assert len(lists) == 2  # a revocation and a suspension list
    v = Verifier(VerificationPolicy(trust=trust), status_lists=lists)
    for doc in creds:
        report = v.check(doc)
        assert report.verified, report.failures()
        assert _status(report) == ("passed", "ok")
    # each credential has two entries: 12 entries, but each list's own checks pass once
    assert counted["read_status"] == 2
    # expanded once per distinct bitstring (both lists are still all zeros: one expansion)
    assert counted["decode"] == len({lst["credentialSubject"]["encodedList"] for lst in lists})
    assert counted["ranked"] == 2
    # a second verifier does not share the first one's work
    Verifier(VerificationPolicy(trust=trust), status_lists=lists).check(creds[0])
    assert counted["read_status"] == 4


def test_each_entry_still_reads_its_own_bit(issuer: Issuer, trust: TrustList, counted: dict[str, int]) -> None:
    """After the list has been read once, a revoked and a suspended credential of the same lists
    are still refused, each for its own reason, and the good ones still pass."""
    definition = load_achievement(ACHIEVEMENT)
    docs = [dict(issuer.issue(definition, _subject(), level="3")[0].document) for _ in range(4)]
    issuer.revoke(docs[1]["id"])
    issuer.suspend(docs[2]["id"])
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    verdicts = [_status(v.check(d)) for d in [docs[0], docs[1], docs[2], docs[3], docs[1]]]
    assert verdicts == [("passed", "ok"), ("failed", "revoked"), ("failed", "suspended"),
                        ("passed", "ok"), ("failed", "revoked")]
    assert counted["read_status"] == 2  # the bits came from the lists read once


def test_a_newer_list_added_later_decides(issuer: Issuer, trust: TrustList, counted: dict[str, int]) -> None:
    """The remembered read belongs to the copy it was made on: a newer copy given to the same
    verifier afterwards (one that knows of a revocation) is read afresh and decides."""
    definition = load_achievement(ACHIEVEMENT)
    doc = dict(issuer.issue(definition, _subject(), level="2")[0].document)
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer, now=utcnow() - timedelta(hours=1)))
    assert _status(v.check(doc)) == ("passed", "ok")
    issuer.revoke(doc["id"])
    assert _status(v.check(doc)) == ("passed", "ok")  # the verifier's lists predate the revocation
    for newer in _lists(issuer):
        v.add_status_list(newer)
    assert _status(v.check(doc)) == ("failed", "revoked")
    assert counted["ranked"] == 4  # each list's copies ranked again once they changed


@pytest.mark.parametrize(("change", "code"), [
    (lambda e: e.update(statusListIndex=str(10**17)), "status_range_error"),  # past the list's end
    (lambda e: e.update(statusPurpose="suspension"), "status_verification_error"),  # not the list's purpose
    (lambda e: e.update(statusListIndex="-1"), "status_malformed"),
    (lambda e: e.update(statusListIndex=" 7"), "status_malformed"),
    (lambda e: e.update(statusListIndex="\u0667"), "status_malformed"),  # an Arabic-Indic seven
    (lambda e: e.update(statusSize=2), "status_malformed"),  # a wider entry without messages
])
def test_a_bad_entry_after_the_list_was_read_is_still_refused(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, change: Any, code: str) -> None:
    """Only an entry of the plain shape the first read accepted skips the list's checks; any
    other entry of the same list is read in full and refused as a fresh verifier refuses it."""
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    assert v.check(creds[0]).verified  # the revocation list has been read
    bad = copy.deepcopy(creds[1])
    revocation = next(e for e in bad["credentialStatus"] if e["statusPurpose"] == "revocation")
    change(revocation)
    fresh = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    assert _status(v.check(bad))[0] == "indeterminate"
    assert _status(v.check(bad)) == _status(fresh.check(bad))
    assert _status(fresh.check(bad))[1] == code


def test_a_copy_the_holder_staples_is_not_remembered(issuer: Issuer, creds: list[dict[str, Any]],
                                                    trust: TrustList, counted: dict[str, int]) -> None:
    """A copy a caller passes as the presentation's (``from_presentation``) is read for each run
    that uses it, never kept for the next credential."""
    v = Verifier(VerificationPolicy(trust=trust))
    for lst in _lists(issuer):
        v.add_status_list(lst, from_presentation=True)
    for doc in creds[:3]:
        assert _status(v.check(doc)) == ("passed", "ok")
    assert counted["read_status"] == 6  # two entries each, none skipped
    assert counted["ranked"] == 6


def test_a_list_s_dates_are_judged_once_per_copy_not_once_per_credential(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"is_stale": 0, "stale_after": 0}
    real_stale, real_after = verifier_module.is_stale, verifier_module.stale_after

    def is_stale(*a: Any, **kw: Any) -> Any:
        calls["is_stale"] += 1
        return real_stale(*a, **kw)

    def stale_after(*a: Any, **kw: Any) -> Any:
        calls["stale_after"] += 1
        return real_after(*a, **kw)

    monkeypatch.setattr(verifier_module, "is_stale", is_stale)
    monkeypatch.setattr(verifier_module, "stale_after", stale_after)
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    for doc in creds:
        assert _status(v.check(doc)) == ("passed", "ok")
    # two lists, six credentials checked at six different times: each list's dates read once
    assert calls == {"is_stale": 2, "stale_after": 2}


def test_a_list_s_remembered_dates_end_where_it_turns_stale(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList) -> None:
    """Lists valid from two hours ago to one hour ago: a time inside is judged valid, one past
    their validUntil stale and one before their validFrom not valid yet, in any order and
    however often each was seen before -- as a fresh verifier judges each of them."""
    now = utcnow().replace(microsecond=0)
    lists = _lists(issuer, now=now - timedelta(hours=2), valid_for=timedelta(hours=1))
    v = Verifier(VerificationPolicy(trust=trust), status_lists=lists)
    times = [(90, "ok"), (30, "status_list_stale"), (80, "ok"), (180, "status_list_not_yet_valid"),
             (70, "ok"), (100, "ok"), (59, "status_list_stale"), (61, "ok"), (200, "status_list_not_yet_valid")]
    for minutes_ago, code in times:
        at = now - timedelta(minutes=minutes_ago)
        status, got = _status(v.check(creds[0], at=at))
        assert got == code, f"{minutes_ago} minutes ago"
        assert status == ("passed" if code == "ok" else "indeterminate")
        fresh = Verifier(VerificationPolicy(trust=trust), status_lists=lists)
        assert _status(fresh.check(creds[0], at=at)) == (status, got)


@pytest.mark.parametrize("cls", [Check, Claim, VerificationReport])
def test_the_quick_constructors_take_exactly_the_declared_fields(cls: type) -> None:
    """Check, Claim and VerificationReport set their fields without the frozen dataclass's own
    __init__ (they are made for every check, claim and verification): the signature must stay
    the fields'."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields]


def test_a_quickly_made_check_and_claim_are_still_frozen_values() -> None:
    check = Check("credential.proof", 5, "failed", "the signature does not verify", "signature_invalid")
    assert vars(check) == {"id": "credential.proof", "step": 5, "status": "failed",
                           "reason": "the signature does not verify", "code": "signature_invalid", "hint": None}
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.reason = "fine"  # type: ignore[misc]
    same = Check("credential.proof", 5, "failed", "the signature does not verify", "signature_invalid")
    assert check == same and hash(check) == hash(same) and check != dataclasses.replace(check, step=6)
    assert dataclasses.replace(check, reason="x").code == "signature_invalid"
    assert Check("credential.shape", 1, "passed", "a VerifiableCredential").code == "ok"
    claim = Claim("skill", "http://data.europa.eu/esco/skill/x", 3, "did:example:jan", 0, "CNC", "Competency")
    assert (claim.framework, claim.url, claim.label, claim.from_diploma) == (None, None, None, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        claim.level = 5  # type: ignore[misc]
    assert claim == Claim(kind="skill", ref="http://data.europa.eu/esco/skill/x", level=3, subject="did:example:jan",
                          subject_index=0, achievement="CNC", achievement_type="Competency")
    assert {claim, dataclasses.replace(claim, level=3)} == {claim}


@pytest.fixture()
def list_proofs(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often a status list copy's proof verdict is asked for (``Verifier._status_proof``)."""
    calls = {"status_proof": 0}
    real = Verifier._status_proof

    def status_proof(self: Verifier, *a: Any, **kw: Any) -> Any:
        calls["status_proof"] += 1
        return real(self, *a, **kw)

    monkeypatch.setattr(Verifier, "_status_proof", status_proof)
    return calls


def test_the_deciding_list_copy_is_found_once_per_verifier_not_once_per_credential(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, list_proofs: dict[str, int]) -> None:
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    for doc in creds:
        assert _status(v.check(doc)) == ("passed", "ok")
    assert list_proofs["status_proof"] == 2  # two lists, six credentials: each copy judged once
    # a copy the holder staples is judged in every run that uses it
    stapled = Verifier(VerificationPolicy(trust=trust))
    for lst in _lists(issuer):
        stapled.add_status_list(lst, from_presentation=True)
    for doc in creds[:3]:
        assert _status(stapled.check(doc)) == ("passed", "ok")
    assert list_proofs["status_proof"] == 2 + 6


def test_the_remembered_copy_is_only_the_issuer_s(issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList,
                                                 tmp_path: Any) -> None:
    """The copy chosen for one issuer is never the answer for another: a credential naming the
    same lists but another issuer still finds no list of its issuer (as a fresh verifier)."""
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    assert _status(v.check(creds[0])) == ("passed", "ok")
    other = copy.deepcopy(creds[1])
    other["issuer"] = {**other["issuer"], "id": key_did(KeyPair.generate("ed25519").public_key)}
    fresh = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    at = utcnow()  # one moment for both: a reason that names the time must not differ by a second
    status = next(c for c in v.check(other, at=at).checks if c.id == "credential.status")
    expected = next(c for c in fresh.check(other, at=at).checks if c.id == "credential.status")
    assert (status.status, status.code) == ("indeterminate", "status_list_wrong_issuer")
    assert status == expected


def test_a_list_whose_proof_expires_is_judged_afresh_at_each_time(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, list_proofs: dict[str, int]) -> None:
    """A proof with ``expires`` depends on the time: its copy is never remembered as the one
    that decides, so once the proof has expired the list no longer decides (status unknown)."""
    from skillcred.proofs import add_proof

    now = utcnow().replace(microsecond=0)
    lists = []
    for lst in _lists(issuer, now=now - timedelta(hours=5), valid_for=timedelta(days=2)):
        unsigned = {k: v for k, v in lst.items() if k != "proof"}
        lists.append(add_proof(unsigned, issuer._key, verification_method=issuer.profile.verification_method,
                               created=now - timedelta(hours=5), expires=now - timedelta(hours=2)))
    v = Verifier(VerificationPolicy(trust=trust), status_lists=lists)
    before = now - timedelta(hours=3)
    assert _status(v.check(creds[0], at=before)) == ("passed", "ok")
    assert _status(v.check(creds[1], at=before)) == ("passed", "ok")
    assert list_proofs["status_proof"] == 4  # judged in each run, not remembered
    later = v.check(creds[2], at=now)
    fresh = Verifier(VerificationPolicy(trust=trust), status_lists=lists).check(creds[2], at=now)
    assert _status(later) == _status(fresh) == ("indeterminate", "status_list_invalid")
    assert _status(v.check(creds[2], at=before)) == ("passed", "ok")


def test_validity_dates_are_parsed_once_per_text(
        issuer: Issuer, creds: list[dict[str, Any]], trust: TrustList, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = verifier_module.parse_datetime

    def parse_datetime(value: Any, **kw: Any) -> Any:
        parsed.append(value)
        return real(value, **kw)

    monkeypatch.setattr(verifier_module, "parse_datetime", parse_datetime)
    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    # (the status lists may carry the very same validFrom text: made in the same second; so
    # count what the later checks parse, once the first has seen every text)
    assert v.check(creds[0]).verified
    assert creds[0]["validFrom"] in parsed
    parsed.clear()
    for doc in (creds[0], creds[0]):
        assert v.check(doc).verified
    assert creds[0]["validFrom"] not in parsed
    for doc in (creds[1], creds[1], creds[0]):
        assert v.check(doc).verified
    assert parsed.count(creds[1]["validFrom"]) <= 1
    # a date that does not parse is refused every time, naming its field; a future one still fails
    bad = copy.deepcopy(creds[0])
    bad["validUntil"] = "2026-13-01T00:00:00Z"
    for _ in range(2):
        check = next(c for c in v.check(bad).checks if c.id == "credential.validity")
        assert (check.status, check.code) == ("failed", "malformed_date") and "validUntil" in check.reason
    early = copy.deepcopy(creds[0])
    early["validFrom"] = "2999-01-01T00:00:00Z"
    for _ in range(2):
        check = next(c for c in v.check(early).checks if c.id == "credential.validity")
        assert (check.status, check.code) == ("failed", "not_yet_valid")


def test_check_and_assess_report_the_same_but_only_assess_counts_claims(
        issuer: Issuer, creds: list[dict[str, Any]], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` returns the report alone: it does not work out what an accepted credential
    counts, and an unrestricted trust entry passes without judging claim by claim; the
    report is the one ``assess`` makes, for an unrestricted, a restricted and no entry."""
    built = {"claims": 0}
    real = verifier_module.credential_claims

    def credential_claims(doc: Any) -> Any:
        built["claims"] += 1
        return real(doc)

    monkeypatch.setattr(verifier_module, "credential_claims", credential_claims)
    at = utcnow()
    for scope, verified in [((), True), (("Diploma",), False), (None, False)]:
        trusted = TrustList(path=tmp_path / f"trust-{scope}.json")
        if scope is not None:
            trusted.add(issuer.profile.did, name="ROC Techniek", may_attest=scope)
        v = Verifier(VerificationPolicy(trust=trusted), status_lists=_lists(issuer))
        built["claims"] = 0
        report = v.check(creds[0], at=at)
        assert built["claims"] == (1 if scope else 0)  # only a restricted entry judges claims
        assessed = v.assess(creds[0], at=at)
        assert report.to_dict() == assessed.report.to_dict() and report.verified is verified
        trust_check = next(c for c in report.checks if c.id == "credential.trust")
        assert trust_check.status == ("passed" if verified else "failed")
        if verified:
            assert assessed.accepted and assessed.accepted[0].claims
            assert trust_check.reason == "ROC Techniek is trusted for every kind of credential"
        else:
            assert not assessed.accepted


def test_a_quickly_made_report_is_still_a_frozen_value_and_verified_reads_every_check() -> None:
    ok = Check("credential.proof", 5, "passed", "signature verified")
    skipped = Check("credential.status", 8, "not_applicable", "no status entry")
    report = VerificationReport("credential", "2026-01-01T00:00:00Z", (ok, skipped), credential_ids=("urn:x",))
    assert vars(report) == {"kind": "credential", "checked_at": "2026-01-01T00:00:00Z", "checks": (ok, skipped),
                            "source": None, "presentation_id": None, "credential_ids": ("urn:x",), "warnings": ()}
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.checks = ()  # type: ignore[misc]
    assert report == dataclasses.replace(report) and hash(report) == hash(dataclasses.replace(report))
    assert report.verified
    for status in ("failed", "indeterminate"):
        bad = dataclasses.replace(ok, status=status)
        for checks in [(bad,), (ok, bad), (bad, skipped), (ok, skipped, bad)]:
            assert not dataclasses.replace(report, checks=checks).verified
    assert not dataclasses.replace(report, checks=()).verified  # nothing checked: not verified


def test_the_verification_time_is_named_as_before(issuer: Issuer, creds: list[dict[str, Any]],
                                                  trust: TrustList) -> None:
    """The remembered text of a second is the time's own, in UTC, for any zone and microsecond."""
    from datetime import datetime, timezone

    from skillcred._internal.timeutil import format_datetime

    v = Verifier(VerificationPolicy(trust=trust), status_lists=_lists(issuer))
    base = utcnow().replace(microsecond=0)
    zone = timezone(timedelta(hours=5, minutes=30))
    for at in [base, base.replace(microsecond=999_999), base + timedelta(seconds=1), base.astimezone(zone),
               base.replace(microsecond=10), base.astimezone(zone).replace(microsecond=500_000)]:
        report = v.check(creds[0], at=at)
        assert report.checked_at == format_datetime(at)
        validity = next(c for c in report.checks if c.id == "credential.validity")
        assert validity.reason.endswith(f"checked at {format_datetime(at)}")
    assert datetime.fromisoformat(v.check(creds[0], at=base).checked_at.replace("Z", "+00:00")) == base

"""The talent pool's fast paths (issue 20, scale) give the answers of the slow ones.

* search: candidates are selected by posting lists (all essentials intersected rarest first,
  later lists probed for the survivors; K of them counted, then pruned by the most each can
  still score) and ranked in SQL. Checked against the definition -- every stored candidate
  graded by match's own grading, filtered and sorted -- on a synthetic pool built to hit each
  path (levels and partial credit, inference through the ESCO hierarchy, qualifications,
  ties, revoked / expired / not yet valid / past consent, regions, small limits);
* refresh: one verification run per list, plain entries read as bits of the chosen copy
  (``Verifier.status_entries``) -- checked entry by entry against ``Verifier.status_entry``,
  including entries that must still be judged in full (out of range, another issuer, other
  shapes), and end to end through ``Pool.refresh``.

No test here measures time (benchmarks/pool.py does).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pool_support import FRAMEWORK, PROFILE
from skillcred._internal.timeutil import format_datetime
from skillcred.claims import QUALIFICATION_PREFIX
from skillcred.did import key_did, key_did_url
from skillcred.errors import SkillcredSecurityWarning
from skillcred.esco import default_taxonomy
from skillcred.keys import KeyPair
from skillcred.match import JobProfile, Requirement, load_framework, load_profile
from skillcred.pool import _MARGIN, CandidateRecord, ClaimRecord, CredentialRecord, Pool, StatusRef, _needed
from skillcred.proofs import add_proof
from skillcred.status import BitstringStatusList, StatusRangeError, status_list_credential
from skillcred.verify import VerificationPolicy, Verifier

NOW = datetime(2026, 6, 1, tzinfo=UTC)
REGIONS = ("NL-UT", "NL-ZH", "NL-GR")
URL = "https://institute.example/status/revocation-1"
RANGE_CODE = StatusRangeError.code


@pytest.fixture(scope="module")
def framework() -> Any:
    return load_framework([FRAMEWORK], esco=default_taxonomy())


@pytest.fixture(scope="module")
def profile(framework: Any) -> JobProfile:
    return example_profile(framework)


def example_profile(framework: Any) -> JobProfile:
    """Six essentials of the example profile (some with levels, some reached only through the
    ESCO hierarchy) and six optional ones, with different weights: every term of the ranking."""
    full = load_profile(PROFILE)
    ess = [r for r in full.requirements if r.essential]
    opt = [r for r in full.requirements if not r.essential]
    with_levels = [r for r in ess if r.level is not None][:3]
    broad = sorted((r for r in ess if r.level is None), key=lambda r: -len(framework.supporters(r.ref)))[:3]
    reqs = [*with_levels, *broad]
    reqs += [Requirement(r.ref, r.label, r.level if i % 2 else 3, False, 0.5 + i * 0.25) for i, r in enumerate(opt[:6])]
    return JobProfile("CNC-verspaner (test)", None, tuple(reqs))


def _records(profile: JobProfile, framework: Any, n: int, seed: int) -> list[CandidateRecord]:
    """Candidates holding each requirement (through one of its supporting references, so
    the hierarchy counts) with p=0.75 at level 1-4, some via a qualification; a share of
    their credentials revoked, expired or not yet valid, some consents past; many ties."""
    rng = random.Random(seed)
    quals = sorted(framework.qualifications)
    past, soon = format_datetime(NOW - timedelta(days=3)), format_datetime(NOW + timedelta(days=300))
    later = format_datetime(NOW + timedelta(days=30))
    out = []
    for c in range(n):
        creds = []
        for j, req in enumerate(profile.requirements):
            if rng.random() > 0.75:
                continue
            ref = rng.choice(sorted(framework.supporters(req.ref)))
            claims = [ClaimRecord("skill", ref, rng.choice((None, 1, 2, 3, 3, 4)), f"Badge {j}")]
            if quals and rng.random() < 0.05:
                claims.append(ClaimRecord("qualification", QUALIFICATION_PREFIX + rng.choice(quals), None,
                                          "Diploma", from_diploma=True))
            fate = rng.random()
            creds.append(CredentialRecord(
                key=f"urn:test:{c}:{j}", credential_id=f"urn:test:{c}:{j}", issuer="did:example:roc",
                issuer_name="ROC", valid_from=later if 0.04 < fate < 0.07 else "2024-01-01T00:00:00Z",
                valid_until=past if fate < 0.04 else None, claims=tuple(claims),
                state="revoked" if 0.07 < fate < 0.10 else "ok"))
        out.append(CandidateRecord(holder=f"did:example:c{c:04d}", credentials=tuple(creds),
                                   consent_until=past if rng.random() < 0.03 else soon,
                                   region=REGIONS[c % len(REGIONS)]))
    return out


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory, profile: JobProfile, framework: Any) -> Iterator[Pool]:
    pool = Pool.open(tmp_path_factory.mktemp("pool-perf") / "pool.sqlite")
    pool._put(_records(profile, framework, 400, seed=7), at=NOW - timedelta(days=1))
    yield pool
    pool.close()


def definition(pool: Pool, profile: JobProfile, framework: Any, *, min_essential: Any, regions: tuple[str, ...],
               limit: int) -> list[tuple[str, float, float]]:
    """What search must return: every stored candidate graded by match's grading, those
    meeting enough essentials, best first (coverage, score, holder), the first ``limit``."""
    sql = "SELECT holder FROM pool_candidates" + (f" WHERE region IN ({', '.join('?' * len(regions))})"
                                                  if regions else "")
    everyone = sorted(str(h) for (h,) in pool._db.execute(sql, regions))
    need = _needed(min_essential, sum(r.essential for r in profile.requirements))
    graded = pool._explain(everyone, profile, framework, None, int(NOW.timestamp()))
    ok = [h for h in graded if any(r.evidence is not None for r in h.report.requirements)
          and sum(r.requirement.essential and r.status == "met" for r in h.report.requirements) >= need]
    ok.sort(key=lambda h: (-round(h.report.essential_coverage, 4), -round(h.report.score, 4), h.holder))
    return [(h.holder, round(h.report.essential_coverage, 4), round(h.report.score, 4)) for h in ok[:limit]]


def found(pool: Pool, profile: JobProfile, framework: Any, **kw: Any) -> list[tuple[str, float, float]]:
    hits = pool.search(profile, framework=framework, at=NOW, **kw)
    return [(h.holder, round(h.report.essential_coverage, 4), round(h.report.score, 4)) for h in hits]


@pytest.mark.parametrize("limit", [1, 3, 7, 50, 400])
@pytest.mark.parametrize("min_essential", [None, 6, 5, 4, 0.5, 1, 0])
def test_search_is_the_definition(stocked: Pool, profile: JobProfile, framework: Any, min_essential: Any,
                                  limit: int) -> None:
    want = definition(stocked, profile, framework, min_essential=min_essential, regions=(), limit=limit)
    assert want, "the synthetic pool must have hits for every case"
    assert found(stocked, profile, framework, min_essential=min_essential, limit=limit) == want


@pytest.mark.parametrize("regions", [("NL-UT",), ("NL-ZH", "NL-GR"), ("NL-XX",)])
@pytest.mark.parametrize("min_essential", [None, 4])
def test_search_in_regions_is_the_definition(stocked: Pool, profile: JobProfile, framework: Any,
                                             regions: tuple[str, ...], min_essential: Any) -> None:
    want = definition(stocked, profile, framework, min_essential=min_essential, regions=regions, limit=5)
    assert found(stocked, profile, framework, min_essential=min_essential, regions=list(regions), limit=5) == want
    assert all(h.region in regions for h in stocked.search(profile, framework=framework, at=NOW,
                                                           min_essential=min_essential, regions=list(regions)))


def test_pruned_k_of_n_keeps_the_tie_at_the_cut(stocked: Pool, profile: JobProfile, framework: Any) -> None:
    """K of n with a limit far below the qualifying count: the pruning by what each can
    still score must not drop a candidate who ties the last one kept."""
    want = definition(stocked, profile, framework, min_essential=3, regions=(), limit=400)
    # a tie (same coverage and score) across the internal cut (limit + _MARGIN candidates)
    at = next((j for j in range(_MARGIN, len(want) - 1) if want[j][1:] == want[j + 1][1:]), None)
    assert at is not None, "the synthetic pool must have ties"
    limit = at - _MARGIN + 1
    assert found(stocked, profile, framework, min_essential=3, limit=limit) == want[:limit]
    assert found(stocked, profile, framework, min_essential=3, limit=limit + 1) == want[:limit + 1]


def test_nothing_that_no_longer_counts_is_found(stocked: Pool, profile: JobProfile, framework: Any) -> None:
    """Past consent, and candidates whose only claims are revoked, expired or not yet valid,
    are not found by any path (all essentials, K of n, no minimum)."""
    gone = {str(h) for (h,) in stocked._db.execute("SELECT holder FROM pool_candidates WHERE consent_until <= ?",
                                                   (format_datetime(NOW),))}
    assert gone
    for me in (None, 3, 0):
        hits = {h[0] for h in found(stocked, profile, framework, min_essential=me, limit=400)}
        assert hits and not hits & gone
    # and a candidate whose every credential is revoked is not found even with no minimum
    dead = {str(h) for (h,) in stocked._db.execute(
        "SELECT holder FROM pool_credentials GROUP BY holder HAVING SUM(state = 'ok') = 0")}
    assert not dead & {h[0] for h in found(stocked, profile, framework, min_essential=0, limit=400)}


def test_probe_path_gives_the_same_holders(stocked: Pool, profile: JobProfile, framework: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """All essentials: reading every posting list and probing the later ones for survivors
    find the same candidates."""
    import skillcred.pool as pool_module

    monkeypatch.setattr(pool_module, "_PROBE_FACTOR", 0)  # never probe
    scanned = found(stocked, profile, framework, limit=400)
    monkeypatch.setattr(pool_module, "_PROBE_FACTOR", 10**9)  # probe as soon as one list is read
    probed = found(stocked, profile, framework, limit=400)
    assert scanned == probed == definition(stocked, profile, framework, min_essential=None, regions=(), limit=400)


# -- refresh ----------------------------------------------------------------------------------


class Lists:
    """Two institutes with signing keys; institute 0's revocation list can be re-signed."""

    def __init__(self) -> None:
        self.keys = [KeyPair.generate("ed25519") for _ in range(2)]
        self.dids = [key_did(k.public_key) for k in self.keys]

    def signed(self, revoked: set[int], *, who: int = 0, url: str = URL, size: int = 131_072,
               purpose: str = "revocation") -> dict[str, Any]:
        bits = BitstringStatusList(size)
        for i in revoked:
            bits.set(i, 1)
        now = NOW.replace(microsecond=0)
        doc = status_list_credential(url=url, issuer=self.dids[who], purpose=purpose, status_list=bits,
                                     valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=7))
        return add_proof(doc, self.keys[who], verification_method=key_did_url(self.keys[who].public_key),
                         cryptosuite="eddsa-rdfc-2022", created=now - timedelta(hours=1))


def _verifier(*docs: dict[str, Any]) -> Verifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        return Verifier(VerificationPolicy(), status_lists=list(docs))


@pytest.fixture(scope="module")
def lists() -> Lists:
    return Lists()


def test_status_entries_is_status_entry_for_each(lists: Lists) -> None:
    """The batch gives, entry by entry, what the one-at-a-time judgement gives: plain entries
    (bit reads after the first), and every entry the fast path must not take."""
    revoked = {3, 7, 1000, 131_071}
    v = _verifier(lists.signed(revoked))
    good, other = lists.dids
    plain = [({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": str(i),
               "statusListCredential": URL}, good) for i in (0, 3, 4, 7, 999, 1000, 131_071)]
    odd: list[tuple[Any, str | None]] = [
        (plain[1][0], other),  # another issuer's credential: the list is not its issuer's
        (dict(plain[1][0], statusListIndex="131072"), good),  # past the end
        (dict(plain[1][0], statusListIndex="0003"), good),  # leading zeros: a plain decimal string still
        (dict(plain[1][0], statusListIndex=3), good),  # not a string
        (dict(plain[1][0], statusListIndex="-3"), good),
        (dict(plain[1][0], statusPurpose="suspension"), good),  # the list is for revocation
        (dict(plain[1][0], statusListCredential=URL + "#list"), good),
        (dict(plain[1][0], statusListCredential="https://elsewhere.example/list"), good),  # not held
        (dict(plain[1][0], statusSize=2), good),
        (dict(plain[1][0], statusMessage=[{"status": "0x0", "message": "ok"}]), good),
        (dict(plain[1][0], type="SomethingElse"), good),
        ("not an object", good),
    ]
    entries = plain + odd + plain  # the plain ones again, after the odd ones were judged
    batch = v.status_entries(entries, at=NOW)
    one_by_one = [v.status_entry(e, issuer=iss, at=NOW) for e, iss in entries]  # type: ignore[arg-type]
    assert batch == one_by_one
    assert [b[2] for b in batch[:7]] == ["ok", "revoked", "ok", "revoked", "ok", "revoked", "revoked"]
    assert batch[7][2] == "status_list_wrong_issuer"
    assert batch[8][0] == "indeterminate"


def test_status_entries_does_not_read_a_list_that_may_not_decide(lists: Lists) -> None:
    """A forged newer copy, a stale copy, another issuer's list: judged in full every time
    (no bit of them is ever read as a verdict)."""
    genuine = lists.signed({5})
    forged = lists.signed(set())
    forged["credentialSubject"]["encodedList"] = lists.signed({5, 6})["credentialSubject"]["encodedList"]
    wrong_issuer = lists.signed({5, 6}, who=1)
    entries = [({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": str(i),
                 "statusListCredential": URL}, lists.dids[0]) for i in (4, 5, 6)]
    for docs in ([forged], [wrong_issuer], [genuine, forged], [genuine, wrong_issuer]):
        v = _verifier(*docs)
        batch = v.status_entries(entries, at=NOW)
        assert batch == [v.status_entry(e, issuer=iss, at=NOW) for e, iss in entries]
    stale = _verifier(genuine).status_entries(entries, at=NOW + timedelta(days=30))
    assert {s[2] for s in stale} == {"status_list_stale"}
    assert [s[2] for s in _verifier(genuine, forged).status_entries(entries, at=NOW)] == ["ok", "revoked", "ok"]


def test_refresh_applies_a_list_bit_by_bit(tmp_path: Path, lists: Lists) -> None:
    """Pool.refresh with the batch judgement: exactly the newly set and the cleared bits
    change, references past the list's end and another issuer's are reported, not applied;
    the credential's claims stop (or start again) counting."""
    n = 300
    first = {i for i in range(n) if i % 17 == 0}
    records = []
    for c in range(n):
        issuer = lists.dids[1] if c == 5 else lists.dids[0]
        idx = 200_000 if c == 6 else c  # past the end of the list
        records.append(CandidateRecord(
            holder=f"did:example:r{c:03d}", consent_until=format_datetime(NOW + timedelta(days=100)),
            credentials=(CredentialRecord(key=f"urn:r:{c}", credential_id=f"urn:r:{c}", issuer=issuer,
                                          issuer_name="I", valid_from=None, valid_until=None,
                                          claims=(ClaimRecord("skill", "https://skills.example/x", 3, "X"),),
                                          status=(StatusRef(URL, idx, "revocation"),)),)))
    with Pool.open(tmp_path / "pool.sqlite") as pool:
        pool._put(records, at=NOW)
        report = pool.refresh(_verifier(lists.signed(first)), at=NOW, erase_ended_consent=False)
        changed = {c["index"] for c in report.changed}
        assert changed == first  # (5 and 6 are not in it: they are the two below)
        assert sorted((u["index"], u["code"]) for u in report.unknown) == [
            (5, "status_list_wrong_issuer"), (200_000, RANGE_CODE)]
        assert report.checked == n
        revoked = {str(h) for (h,) in pool._db.execute("SELECT holder FROM pool_credentials WHERE state = 'revoked'")}
        assert revoked == {f"did:example:r{c:03d}" for c in changed}
        live = {str(h) for (h,) in pool._db.execute("SELECT holder FROM pool_claims WHERE live = 1")}
        assert not live & revoked and len(live) == n - len(revoked)
        # a newer list: some lifted (as for a suspension lifted), some newly set
        second = {i for i in range(n) if i % 17 == 0 and i % 2 == 0} | {1, 2}
        again = pool.refresh(_verifier(lists.signed(second)), at=NOW, erase_ended_consent=False)
        assert {(c["index"], c["now"]) for c in again.changed} == \
            {(i, "revoked") for i in second - first} | {(i, "not revocation") for i in first - second}
        live = {str(h) for (h,) in pool._db.execute("SELECT holder FROM pool_claims WHERE live = 1")}
        assert live == {f"did:example:r{c:03d}" for c in range(n) if c not in second or c in (5, 6)}
        # the same list once more: nothing changes
        assert pool.refresh(_verifier(lists.signed(second)), at=NOW, erase_ended_consent=False).changed == []

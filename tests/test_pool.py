"""The talent pool (skillcred.pool) on SQLite: verify once, search many times, candidate in control.

The scenario checks (``check_*``) take any pool factory, so tests/test_pool_pg.py runs the same
ones against a real PostgreSQL server.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pool_support import CATALOG, FRAMEWORK, PROFILE, WHO, World, build_world
from skillcred._internal.fileio import load_json_object
from skillcred.errors import InvalidArgument, PoolError, SkillcredSecurityWarning
from skillcred.esco import default_taxonomy
from skillcred.match import Evidence, Requirement, load_catalog, load_framework, load_profile, match
from skillcred.pool import Pool, _needed, parse_min_essential
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, Verifier

PoolFactory = Callable[[], Pool]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("pool-world"))


@pytest.fixture(scope="module")
def framework() -> Any:
    return load_framework([FRAMEWORK], esco=default_taxonomy())


def verifier(world: World, status: list[Path] | None = None) -> Verifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        policy = VerificationPolicy(trust=TrustList.load(world.trust))
    return Verifier(policy, status_lists=[load_json_object(p) for p in (status or world.status)])


def add_all(world: World, pool: Pool, who: tuple[str, ...] = WHO, **kw: Any) -> None:
    v = verifier(world)
    for w in who:
        result = v.assess(world.presentation(w), challenge=world.challenge(w), domain="pool.uwv-werkbedrijf.example")
        pool.add(result, **kw)


def holders(hits: list[Any]) -> list[str]:
    return [h.holder for h in hits]


@pytest.fixture
def new_pool(tmp_path: Path) -> Iterator[PoolFactory]:
    opened: list[Pool] = []

    def make() -> Pool:
        p = Pool.open(tmp_path / f"pool{len(opened)}.sqlite")
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


# -- the scenarios (also run on PostgreSQL) ---------------------------------------------------------


def check_search_agrees_with_rank(world: World, framework: Any, pool: Pool) -> None:
    add_all(world, pool)
    prof, cat = load_profile(PROFILE), load_catalog(CATALOG)
    hits = pool.search(prof, framework=framework, catalog=cat, min_essential=0)
    # rank: verify each presentation again and match it (what `skillcred rank` does per file)
    v = verifier(world)
    reports = []
    for w in WHO:
        r = v.assess(world.presentation(w), challenge=world.challenge(w), domain="pool.uwv-werkbedrijf.example")
        reports.append(match(prof, list(r.accepted), framework=framework, catalog=cat, candidate=r.holder))
    reports.sort(key=lambda m: (-round(m.essential_coverage, 4), -round(m.score, 4), m.candidate or ""))
    assert holders(hits) == [m.candidate for m in reports]
    assert holders(hits) == [world.holders[w] for w in ("jan", "fatima", "sem", "kees")]
    for h, m in zip(hits, reports, strict=True):
        assert h.report.essential_coverage == pytest.approx(m.essential_coverage)
        assert h.report.score == pytest.approx(m.score)
        assert [r.status for r in h.report.requirements] == [r.status for r in m.requirements]
        assert [list(r.evidence.inference) if r.evidence else [] for r in h.report.requirements] == \
            [list(r.evidence.inference) if r.evidence else [] for r in m.requirements]
        assert h.report.plan is not None and m.plan is not None
        assert h.report.plan.total_hours == m.plan.total_hours
    assert hits[0].report.essential_coverage == pytest.approx(6 / 19)
    assert hits[2].report.essential_coverage == pytest.approx(10 / 57)  # Sem: partial levels count as in rank
    d = hits[0].to_dict()
    assert {"holder", "essential_coverage", "score", "met", "missing", "plan_hours"} <= set(d)
    assert d["plan_hours"] == 244
    assert "read standard blueprints" in d["met"]  # met through the diploma, with the inference named
    blueprints = next(r for r in hits[0].report.requirements if r.requirement.label == "read standard blueprints")
    assert blueprints.evidence is not None and any("diploma" in s for s in blueprints.evidence.inference)


def check_min_essential_filters(world: World, framework: Any, pool: Pool) -> None:
    add_all(world, pool)
    prof = load_profile(PROFILE)
    assert holders(pool.search(prof, framework=framework, min_essential=6)) == [world.holders["jan"]]
    assert holders(pool.search(prof, framework=framework, min_essential=5)) == \
        [world.holders["jan"], world.holders["fatima"]]
    # Sem meets 2 essentials (tools, supply machine); the partial ones do not count as met
    assert world.holders["sem"] in holders(pool.search(prof, framework=framework, min_essential=2))
    assert world.holders["sem"] not in holders(pool.search(prof, framework=framework, min_essential=3))
    assert pool.search(prof, framework=framework) == []  # nobody meets all 19
    assert holders(pool.search(prof, framework=framework, min_essential=0.3)) == [world.holders["jan"]]  # ceil(5.7)
    assert pool.search(prof, framework=framework, min_essential=0.35) == []  # ceil(6.65) = 7: nobody
    assert len(pool.search(prof, framework=framework, min_essential=0, limit=2)) == 2


def check_revocation_after_add_drops_out_after_refresh(world: World, framework: Any, pool: Pool, tag: str,
                                                        folder: str) -> None:
    add_all(world, pool, ("fatima", "sem"))
    prof = load_profile(PROFILE)
    before = holders(pool.search(prof, framework=framework, min_essential=2))
    assert world.holders["sem"] in before
    fresh = world.republish("revoke", tag, folder)
    # not yet refreshed: the pool does not know (no re-verification at query time)
    assert world.holders["sem"] in holders(pool.search(prof, framework=framework, min_essential=2))
    report = pool.refresh(verifier(world, fresh))
    assert [c["credential"] for c in report.changed] == [world.ids[tag]]
    assert report.changed[0]["now"] == "revoked"
    after = holders(pool.search(prof, framework=framework, min_essential=2))
    assert world.holders["sem"] not in after and world.holders["fatima"] in after
    assert pool.stats()["revoked"] == 1
    again = pool.refresh(verifier(world, fresh))
    assert again.changed == [] and again.checked == report.checked  # idempotent
    # re-adding the same (now revoked) presentation is refused a place: the verifier rejects it
    v = verifier(world, fresh)
    result = v.assess(world.presentation("sem"), challenge=world.challenge("sem"),
                      domain="pool.uwv-werkbedrijf.example")
    assert not result.accepted
    pool.add(result)
    assert world.holders["sem"] not in holders(pool.search(prof, framework=framework, min_essential=0))


def check_consent_and_erasure(world: World, framework: Any, pool: Pool) -> None:
    now = datetime.now(UTC)
    add_all(world, pool, ("jan",), consent_until=now + timedelta(days=2))
    add_all(world, pool, ("fatima", "kees"))
    prof = load_profile(PROFILE)
    jan, fatima, kees = world.holders["jan"], world.holders["fatima"], world.holders["kees"]
    assert jan in holders(pool.search(prof, framework=framework, min_essential=0))
    later = now + timedelta(days=3)
    assert jan not in holders(pool.search(prof, framework=framework, min_essential=0, at=later))  # at once
    assert fatima in holders(pool.search(prof, framework=framework, min_essential=0, at=later))
    assert pool.stats(at=later)["consent_ended"] == 1
    report = pool.refresh(verifier(world), at=later)
    assert report.consent_ended == 1 and pool.export(jan) is None  # erased, not just hidden
    # erasure on request, audit rows included
    exported = pool.export(fatima)
    assert exported is not None and exported["audit"] and exported["credentials"]
    assert "evidence" not in exported and exported["name"] is None
    assert pool.remove(fatima) is True
    assert pool.export(fatima) is None and pool.remove(fatima) is False
    assert fatima not in holders(pool.search(prof, framework=framework, min_essential=0))
    assert holders(pool.search(prof, framework=framework, min_essential=0)) == [kees]


def check_search_log_holds_no_claim_data(world: World, framework: Any, pool: Pool, dump: Callable[[], str]) -> None:
    add_all(world, pool)
    prof = load_profile(PROFILE)
    hits = pool.search(prof, framework=framework, min_essential=1, operator="consultant-17")
    log = pool.search_log()
    assert len(log) == 1 and log[0]["hits"] == len(hits) and log[0]["operator"] == "consultant-17"
    assert log[0]["profile"] == prof.title and log[0]["params"]["needed"] == 1
    text = dump()
    for w in WHO:
        assert world.holders[w] not in text
    for cid in world.ids.values():
        assert cid not in text
    assert "http://data.europa.eu/esco/skill" not in text and "ROC" not in text


def check_readding_replaces(world: World, framework: Any, pool: Pool) -> None:
    add_all(world, pool, ("jan",))
    jan = world.holders["jan"]
    exported = pool.export(jan)
    assert exported is not None and len(exported["credentials"]) == 4  # revoked + untrusted not stored
    # Jan presents again, only the plannen attestation this time: his claims are replaced
    w = world.wallets["jan"]
    plannen = next(d for d in world.docs["jan"] if "Plannen" in json.dumps(d))
    vp = w.present([plannen], key=w.holder_key(), challenge="again-1", domain="pool.uwv-werkbedrijf.example")
    pool.add(verifier(world).assess(vp, challenge="again-1", domain="pool.uwv-werkbedrijf.example"))
    exported = pool.export(jan)
    assert exported is not None and len(exported["credentials"]) == 1
    assert len(exported["audit"]) == 2
    hit = pool.search(load_profile(PROFILE), framework=framework, min_essential=0)[0]
    assert hit.report.essential_coverage == pytest.approx(1 / 19)
    assert pool.stats()["candidates"] == 1


# -- SQLite ---------------------------------------------------------------------------------------


def test_search_agrees_with_rank(world: World, framework: Any, new_pool: PoolFactory) -> None:
    check_search_agrees_with_rank(world, framework, new_pool())


def test_min_essential_counts_only_met_requirements(world: World, framework: Any, new_pool: PoolFactory) -> None:
    check_min_essential_filters(world, framework, new_pool())


def test_revoked_after_add_drops_out_after_refresh(world: World, framework: Any, new_pool: PoolFactory) -> None:
    check_revocation_after_add_drops_out_after_refresh(world, framework, new_pool(), "sem-cnc", "status-sqlite")


def test_suspension_is_lifted_by_a_later_refresh(world: World, framework: Any, new_pool: PoolFactory) -> None:
    pool = new_pool()
    add_all(world, pool, ("fatima",))
    prof = load_profile(PROFILE)
    fatima = world.holders["fatima"]
    lists = world.republish("suspend", "fatima-tekening", "status-susp")
    report = pool.refresh(verifier(world, lists))
    assert [c["now"] for c in report.changed] == ["suspended"]
    hit = pool.search(prof, framework=framework, min_essential=0)[0]
    assert hit.holder == fatima and "read standard blueprints" in hit.missing  # the drawing badge is out
    lists = world.republish("unsuspend", "fatima-tekening", "status-unsusp")
    report = pool.refresh(verifier(world, lists))
    assert [c["now"] for c in report.changed] == ["not suspension"]
    hit = pool.search(prof, framework=framework, min_essential=0)[0]
    assert "read standard blueprints" not in hit.missing


def test_a_status_list_that_does_not_verify_changes_nothing(world: World, framework: Any,
                                                           new_pool: PoolFactory) -> None:
    """A revocation in a list whose proof fails (here: the bitstring swapped after signing, the
    bits of an all-revoked list) is not applied: reported as unknown, the candidate stays."""
    pool = new_pool()
    add_all(world, pool, ("sem",))
    lists = world.republish("revoke", "cnc", "status-forged")  # Jan's badge: Sem's own bit stays clear
    all_set = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    for field_name, value in (("encodedList", all_set), ("statusPurpose", "suspension")):
        forged = []
        for p in lists:
            doc = load_json_object(p)
            doc["credentialSubject"][field_name] = value
            forged.append(doc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkillcredSecurityWarning)
            v = Verifier(VerificationPolicy(trust=TrustList.load(world.trust)), status_lists=forged)
        report = pool.refresh(v)
        assert report.changed == [] and report.unknown, report
        assert all(u["code"] == "status_list_invalid" or "verify" in u["reason"] for u in report.unknown)
    assert world.holders["sem"] in holders(pool.search(load_profile(PROFILE), framework=framework, min_essential=0))
    # a list the pool was not given changes nothing either, and is not an error
    assert pool.refresh(verifier(world, [])).changed == []


def test_consent_expiry_and_removal_take_effect_at_once(world: World, framework: Any, new_pool: PoolFactory) -> None:
    check_consent_and_erasure(world, framework, new_pool())


def test_search_log_holds_no_claim_data(world: World, framework: Any, tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    with Pool.open(path) as pool:
        def dump() -> str:
            with sqlite3.connect(path) as c:
                return json.dumps(c.execute("SELECT * FROM pool_search_log").fetchall())
        check_search_log_holds_no_claim_data(world, framework, pool, dump)


def test_readding_replaces_the_candidates_claims(world: World, framework: Any, new_pool: PoolFactory) -> None:
    check_readding_replaces(world, framework, new_pool())


def test_only_verified_presentations_get_in(world: World, new_pool: PoolFactory) -> None:
    pool = new_pool()
    v = verifier(world)
    bare = world.docs["fatima"][0]
    with pytest.raises(InvalidArgument, match="not a bare credential"):
        pool.add(v.assess(bare))
    wrong = v.assess(world.presentation("fatima"), challenge="another-challenge", domain="pool.uwv-werkbedrijf.example")
    with pytest.raises(InvalidArgument, match="challenge does not match"):
        pool.add(wrong)
    tampered = world.presentation("kees")
    tampered["id"] = "urn:uuid:00000000-0000-4000-8000-000000000bad"
    with pytest.raises(InvalidArgument, match="did not verify"):
        pool.add(v.assess(tampered, challenge=world.challenge("kees"), domain="pool.uwv-werkbedrijf.example"))
    ok = v.assess(world.presentation("kees"), challenge=world.challenge("kees"), domain="pool.uwv-werkbedrijf.example")
    with pytest.raises(InvalidArgument, match="already past"):
        pool.add(ok, consent_until=datetime(2020, 1, 1, tzinfo=UTC))
    assert pool.stats()["candidates"] == 0  # nothing half-written


def test_minimum_kept_unless_asked(world: World, new_pool: PoolFactory) -> None:
    pool = new_pool()
    v = verifier(world)
    doc = world.presentation("kees")
    result = v.assess(doc, challenge=world.challenge("kees"), domain="pool.uwv-werkbedrijf.example")
    pool.add(result)
    kept = pool.export(world.holders["kees"])
    assert kept is not None and kept["evidence_kept"] is False and "proof" not in json.dumps(kept)
    pool.add(result, keep_evidence=doc, region="NL-UT")
    kept = pool.export(world.holders["kees"])
    assert kept is not None and kept["evidence"] == doc and kept["region"] == "NL-UT"


def test_region_filter(world: World, framework: Any, new_pool: PoolFactory) -> None:
    pool = new_pool()
    v = verifier(world)
    for w, region in (("jan", "NL-UT"), ("fatima", "NL-NB"), ("kees", "NL-UT")):
        pool.add(v.assess(world.presentation(w), challenge=world.challenge(w), domain="pool.uwv-werkbedrijf.example"),
                 region=region)
    prof = load_profile(PROFILE)
    assert holders(pool.search(prof, framework=framework, min_essential=0, regions=["NL-UT"])) == \
        [world.holders["jan"], world.holders["kees"]]
    assert holders(pool.search(prof, framework=framework, min_essential=0, regions=["NL-NB", "NL-UT"]))[:2] == \
        [world.holders["jan"], world.holders["fatima"]]
    assert pool.search(prof, framework=framework, min_essential=0, regions=["BE-VAN"]) == []
    assert pool.stats()["regions"] == {"NL-NB": 1, "NL-UT": 2}


def test_missing_pool_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match="no pool here"):
        Pool.open(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


@pytest.mark.parametrize(("text", "n", "needed"), [
    ("7", 19, 7), ("0.7", 19, 14), ("70%", 19, 14), ("100%", 19, 19), ("1.0", 10, 10), ("0", 5, 0), ("40", 5, 5),
])
def test_min_essential_forms(text: str, n: int, needed: int) -> None:
    assert _needed(parse_min_essential(text), n) == needed


@pytest.mark.parametrize("bad", ["seven", "1.5", "-1", "0.0", "abc%"])
def test_min_essential_rejects_nonsense(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        _needed(parse_min_essential(bad), 10)


def test_supporters_is_the_exact_inverse_of_match_inference(framework: Any) -> None:
    """x in supporters(r) exactly when match links evidence for x to a requirement for r: over
    every skill the example profile, framework and their ESCO neighbourhood name."""
    from skillcred.match import _support

    prof = load_profile(PROFILE)
    targets = sorted({r.ref for r in prof.requirements[:25]} | set(framework.labels))
    refs = set(targets)
    esco = framework.esco
    for r in targets:
        refs.update(esco.narrower(r))
        refs.update(esco.broader(r))
    refs.update(framework.qualifications and [f"qualification:{c}" for c in framework.qualifications])
    indirect = 0
    for req_ref in targets:
        sup = framework.supporters(req_ref)
        req = Requirement(ref=req_ref, label="x", level=None, essential=True, weight=1)
        for x in sorted(refs):
            linked = _support(req, Evidence(x, None, None, "", "", "a"), framework) is not None
            assert linked == (x in sup), (req_ref, x)
            indirect += linked and x != req_ref
    assert indirect > 20  # narrower skills and the framework's equivalences were exercised


def test_expired_and_not_yet_valid_credentials_do_not_count(world: World, framework: Any,
                                                            new_pool: PoolFactory) -> None:
    """Sem's only credential (the CNC badge) is valid for five years: the pool keeps him (his
    consent runs ten), but no search past the badge's end, or before its start, finds him."""
    pool = new_pool()
    now = datetime.now(UTC)
    add_all(world, pool, ("sem", "kees"), consent_until=now + timedelta(days=3650))
    prof = load_profile(PROFILE)
    sem = world.holders["sem"]
    end = pool.export(sem)["credentials"][0]["valid_until"]  # type: ignore[index]
    assert end is not None
    until = datetime.fromisoformat(end.replace("Z", "+00:00"))
    assert sem in holders(pool.search(prof, framework=framework, min_essential=0, at=until - timedelta(days=1)))
    assert sem not in holders(pool.search(prof, framework=framework, min_essential=0, at=until + timedelta(days=1)))
    assert sem not in holders(pool.search(prof, framework=framework, min_essential=0, at=now - timedelta(days=2)))
    assert pool.stats(at=until + timedelta(days=1))["expired"] == 1

"""The structures the talent pool keeps for national scale (issue 20) stay exact.

* PostgreSQL keeps, per candidate, the ids of the references of its live claims (and "this
  reference at level >= l" keys) under a GIN index, and those claims as arrays
  (``pool_refsets``): a search for "every essential met" (and K of n, when everyone meeting
  all of them ranks first) takes its candidates from that index, a superset the ranking
  (from the arrays, in the same statement) then checks claim by claim; a claim below the
  required level does not pass the index. Checked here: answers equal the definition (every
  stored candidate graded by match, filtered, sorted) on both backends; the prefilter is
  really the path taken; nothing revoked, suspended, expired, not yet valid or past consent
  counts through it; add / refresh / remove (and a pool made before the sets existed) keep
  the sets equal to what the stored claims say -- or, for a candidate a refresh only took
  claims from (named in ``pool_stale``: its set is left as it was), a superset of them, whose
  ranking then reads the live claims themselves (search answers still equal the definition).
* refresh reads the issuer kept beside each status reference (also in a pool made before it
  was kept) and updates set-based by (list, position): the right credentials change.

No test here measures time (benchmarks/pool.py does).
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import skillcred.pool as pool_module
from pool_support import FRAMEWORK
from service_support import PgCluster, start_postgres
from skillcred._internal.timeutil import format_datetime, parse_datetime
from skillcred.errors import PoolError
from skillcred.esco import default_taxonomy
from skillcred.match import JobProfile, load_framework
from skillcred.pool import CandidateRecord, ClaimRecord, CredentialRecord, Pool, StatusRef, ref_id
from test_pool_perf import NOW, URL, Lists, _records, _verifier, definition, example_profile, found


@pytest.fixture(scope="module")
def framework() -> Any:
    return load_framework([FRAMEWORK], esco=default_taxonomy())


@pytest.fixture(scope="module")
def profile(framework: Any) -> JobProfile:
    return example_profile(framework)


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    yield from start_postgres()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.loopback)])
def stocked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, profile: JobProfile,
            framework: Any) -> Iterator[Pool]:
    """The same few hundred generated candidates (test_pool_perf's generator: levels, the
    ESCO hierarchy, qualifications, revoked / expired / not yet valid / past consent, ties)
    in each backend."""
    if request.param == "sqlite":
        pool = Pool.open(tmp_path_factory.mktemp("pool-scale") / "pool.sqlite")
    else:
        cluster = next(start_postgres())
        pool = Pool.open(cluster.new_database(), partitions=4)
    pool._put(_records(profile, framework, 300, seed=11), at=NOW - timedelta(days=1))
    yield pool
    pool.close()


@pytest.fixture
def pg_pool(pg_cluster: PgCluster) -> Iterator[Pool]:
    with Pool.open(pg_cluster.new_database(), partitions=4) as pool:
        yield pool


@pytest.mark.parametrize("limit", [1, 5, 50, 300])
@pytest.mark.parametrize("min_essential", [None, 6, 5, 3, 0.5, 0])
def test_search_is_the_definition_on_both_backends(stocked: Pool, profile: JobProfile, framework: Any,
                                                   min_essential: Any, limit: int) -> None:
    want = definition(stocked, profile, framework, min_essential=min_essential, regions=(), limit=limit)
    assert want, "the generated pool must have hits for every case"
    assert found(stocked, profile, framework, min_essential=min_essential, limit=limit) == want


@pytest.mark.parametrize("regions", [("NL-UT",), ("NL-ZH", "NL-GR")])
def test_search_in_regions_is_the_definition_on_both_backends(stocked: Pool, profile: JobProfile, framework: Any,
                                                              regions: tuple[str, ...]) -> None:
    for me in (None, 4):
        want = definition(stocked, profile, framework, min_essential=me, regions=regions, limit=20)
        assert found(stocked, profile, framework, min_essential=me, regions=list(regions), limit=20) == want


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many candidates each use of the reference-set prefilter kept (its condition
    counted on its own: the search ranks them in the same statement)."""
    calls: list[int] = []
    real = pool_module.Pool._refsets_prefilter

    def spy(self: Pool, *a: Any, **kw: Any) -> tuple[str, list[Any]] | None:
        got = real(self, *a, **kw)
        calls.append(0 if got is None else int(self._db.execute(
            f"SELECT COUNT(*) FROM pool_refsets WHERE {got[0]}", got[1])[0][0]))
        return got

    monkeypatch.setattr(pool_module.Pool, "_refsets_prefilter", spy)
    return calls


@pytest.mark.loopback
def test_postgres_takes_the_prefilter_and_it_is_a_superset(pg_pool: Pool, profile: JobProfile, framework: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """All essentials, and K of n with few enough asked for, go through the GIN prefilter;
    what it keeps holds every holder that qualifies (and may hold more: the validity dates
    are checked after it)."""
    pg_pool._put(_records(profile, framework, 300, seed=5), at=NOW - timedelta(days=1))
    calls = _spy(monkeypatch)
    every = definition(pg_pool, profile, framework, min_essential=None, regions=(), limit=300)
    assert found(pg_pool, profile, framework, limit=300) == every
    assert len(calls) == 1 and calls[0] >= len(every) > 0
    assert calls[0] > len(every), "the generated pool has candidates only a date keeps out"
    # K of n with a limit the all-essential holders fill: answered from the prefilter alone
    assert found(pg_pool, profile, framework, min_essential=3, limit=2) == definition(
        pg_pool, profile, framework, min_essential=3, regions=(), limit=2)
    assert len(calls) == 2
    # ... and with more asked for than meet them all: counted as before, the same answer
    assert found(pg_pool, profile, framework, min_essential=3, limit=300) == definition(
        pg_pool, profile, framework, min_essential=3, regions=(), limit=300)


def _hits(pool: Pool, profile: JobProfile, framework: Any, **kw: Any) -> list[dict[str, Any]]:
    return [h.to_dict() for h in pool.search(profile, framework=framework, at=NOW, **kw)]


@pytest.mark.loopback
def test_postgres_fan_out_over_connections_is_the_one_statement_answer(
        pg_pool: Pool, profile: JobProfile, framework: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The all-essentials ranking dealt out over several connections (each its share of the
    partitions, its own top, merged by the statement's order) gives exactly what one
    statement over every partition gives -- the same hits in the same order with the same
    explanations, at every cut (ties between holders included) -- and every partition is
    ranked by exactly one of the statements."""
    pg_pool._put(_records(profile, framework, 300, seed=11), at=NOW - timedelta(days=1))
    # two of the essentials kept essential (one with a level, one through the hierarchy), so
    # that more than ``limit`` candidates meet them all and every cut falls inside a shard's top
    profile = JobProfile(profile.title, None, tuple(dataclasses.replace(r, essential=r.essential and i in (0, 3))
                                                    for i, r in enumerate(profile.requirements)))
    cases: list[dict[str, Any]] = [{"limit": n} for n in (1, 2, 5, 50, 300)]
    cases += [{"min_essential": 3, "limit": 2}, {"regions": ["NL-UT"], "limit": 5}]
    monkeypatch.setattr(pool_module, "_SEARCH_CONNECTIONS", 1)
    one = [_hits(pg_pool, profile, framework, **kw) for kw in cases]
    assert all(one) and len(one[4]) > 50, "the generated pool must have hits for every case"
    sent: list[list[str]] = []
    real = pool_module._Postgres.fan_out

    def spy(self: Any, statements: Any, params: Any, settings: str) -> Any:
        sent.append(list(statements))
        return real(self, statements, params, settings)

    monkeypatch.setattr(pool_module._Postgres, "fan_out", spy)
    every = {f"pool_refsets_p{i}" for i in range(4)}
    for n in (2, 3, 4, 5):
        monkeypatch.setattr(pool_module, "_SEARCH_CONNECTIONS", n)
        sent.clear()
        assert [_hits(pg_pool, profile, framework, **kw) for kw in cases] == one, n
        assert len(sent) == len(cases) and all(len(s) == min(n, 4) for s in sent)
        for statements in sent:
            named = [set(re.findall(r"pool_refsets_p\d+", sql)) for sql in statements]
            assert set().union(*named) == every and sum(map(len, named)) == len(every)


@pytest.mark.loopback
def test_postgres_fan_out_connections_are_opened_once_and_closed_with_the_pool(
        pg_cluster: PgCluster, profile: JobProfile, framework: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The side connections are opened by the first search, reused by the next ones (one
    found closed is opened anew), closed by ``close``; a search inside a transaction of the
    pool runs its statements one after the other in that transaction (one snapshot) and
    opens none."""
    monkeypatch.setattr(pool_module, "_SEARCH_CONNECTIONS", 3)
    pool = Pool.open(pg_cluster.new_database(), partitions=4)
    try:
        pool._put(_records(profile, framework, 80, seed=3), at=NOW - timedelta(days=1))
        db = pool._db
        assert isinstance(db, pool_module._Postgres)
        with db.transaction():
            inside = _hits(pool, profile, framework, limit=10)
        assert db._side == [] and inside
        assert _hits(pool, profile, framework, limit=10) == inside
        side = list(db._side)
        assert len(side) == 2 and not any(c.closed for c in side)
        assert _hits(pool, profile, framework, limit=10) == inside
        assert db._side == side  # reused, not reopened
        side[0].close()  # as a server restart or a managed service's idle timeout would
        assert _hits(pool, profile, framework, limit=10) == inside
        assert len(db._side) == 2 and db._side[0] is side[1] and not db._side[1].closed
        side = list(db._side)
    finally:
        pool.close()
    assert all(c.closed for c in side)


@pytest.mark.loopback
def test_postgres_fan_out_reads_one_snapshot_on_every_connection(
        pg_pool: Pool, profile: JobProfile, framework: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection of a fan-out ranks the same snapshot: candidates removed (committed by
    another client) after the search's snapshot was taken but before its side connections
    ran are still ranked on every partition -- none of the shares sees the removal -- and the
    next search sees it on all of them."""
    pg_pool._put(_records(profile, framework, 300, seed=11), at=NOW - timedelta(days=1))
    profile = JobProfile(profile.title, None, tuple(dataclasses.replace(r, essential=r.essential and i in (0, 3))
                                                    for i, r in enumerate(profile.requirements)))
    monkeypatch.setattr(pool_module, "_SEARCH_CONNECTIONS", 4)
    db = pg_pool._db
    assert isinstance(db, pool_module._Postgres)
    ranked: list[list[list[tuple[Any, ...]]]] = []
    real = pool_module._Postgres.fan_out

    def spy(self: Any, statements: Any, params: Any, settings: str) -> Any:
        ranked.append(real(self, statements, params, settings))
        return ranked[-1]

    monkeypatch.setattr(pool_module._Postgres, "fan_out", spy)
    _hits(pg_pool, profile, framework, limit=20)
    before = ranked[-1]
    assert all(before), "every connection's share must have hits"
    gone = sorted({str(row[0]) for rows in before for row in rows})
    main_execute = db.conn.execute

    def remove_after_export(sql: Any, *args: Any, **kw: Any) -> Any:
        result = main_execute(sql, *args, **kw)
        if "pg_export_snapshot" in str(sql):
            with Pool.open(db._url, partitions=4) as other:  # another client, its own committed transaction
                assert all(other.remove(h) for h in gone)
        return result

    monkeypatch.setattr(db.conn, "execute", remove_after_export)
    _hits(pg_pool, profile, framework, limit=20)
    assert ranked[-1] == before  # no share saw the removal committed after the snapshot
    monkeypatch.setattr(db.conn, "execute", main_execute)
    _hits(pg_pool, profile, framework, limit=20)
    assert not {str(row[0]) for rows in ranked[-1] for row in rows} & set(gone)


@pytest.mark.loopback
@pytest.mark.parametrize("bad", [(0,), (1,), (0, 1), (2,)])
def test_postgres_fan_out_failure_is_a_pool_error_and_leaves_the_connections_usable(pg_pool: Pool,
                                                                                   bad: tuple[int, ...]) -> None:
    """A statement failing on any of the connections (this one or a side one) is the one-line
    pool error, raised on the caller's thread after all have finished; each connection's
    transaction is rolled back, so the next fan-out runs."""
    db = pg_pool._db
    assert isinstance(db, pool_module._Postgres)
    statements = ["SELECT pool_no_such_table.x FROM pool_no_such_table" if i in bad else f"SELECT {i + 1}"
                  for i in range(3)]
    with pytest.raises(PoolError, match=r"pool database error: relation \"pool_no_such_table\" does not exist$"):
        db.fan_out(statements, [], "SELECT set_config('enable_sort', 'off', true)")
    assert db.fan_out(["SELECT 1", "SELECT 2", "SELECT 3"], [], "SELECT 1") == [[(1,)], [(2,)], [(3,)]]
    assert db.execute("SELECT current_setting('enable_sort')") == [("on",)]  # the setting was local


def _one_claim_each(profile: JobProfile, framework: Any, fates: dict[str, str]) -> list[CandidateRecord]:
    """One candidate per fate, each holding every essential at level 4 in its own credential,
    except that the credential of the first essential has the fate (revoked, suspended,
    expired, not yet valid; or the candidate's consent is past)."""
    ess = [r for r in profile.requirements if r.essential]
    soon, past = format_datetime(NOW + timedelta(days=300)), format_datetime(NOW - timedelta(days=3))
    later = format_datetime(NOW + timedelta(days=30))
    out = []
    for who, fate in fates.items():
        creds = []
        for j, req in enumerate(ess):
            ref = sorted(framework.supporters(req.ref))[0]
            doomed = j == 0
            creds.append(CredentialRecord(
                key=f"urn:f:{who}:{j}", credential_id=f"urn:f:{who}:{j}", issuer="did:example:roc", issuer_name="ROC",
                valid_from=later if doomed and fate == "not-yet-valid" else None,
                valid_until=past if doomed and fate == "expired" else None,
                claims=(ClaimRecord("skill", ref, 4, f"Badge {j}"),),
                status=(StatusRef(URL, 1000 + len(out) * 10 + j, "revocation"),),
                state=fate if doomed and fate in ("revoked", "suspended") else "ok"))
        out.append(CandidateRecord(holder=f"did:example:{who}", credentials=tuple(creds),
                                   consent_until=past if fate == "consent-past" else soon))
    return out


FATES = {"ok": "ok", "revoked": "revoked", "suspended": "suspended", "expired": "expired",
         "notyet": "not-yet-valid", "noconsent": "consent-past", "ok2": "ok"}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.loopback)])
def test_nothing_that_no_longer_counts_passes_the_prefilter(backend: str, tmp_path: Path, profile: JobProfile,
                                                            framework: Any, request: pytest.FixtureRequest) -> None:
    """A claim revoked or suspended (stored so, or after refresh), expired, not yet valid or
    past consent never meets an essential, whatever path the search takes."""
    if backend == "sqlite":
        pool = Pool.open(tmp_path / "pool.sqlite")
    else:
        pool = Pool.open(request.getfixturevalue("pg_cluster").new_database(), partitions=4)
    with pool:
        pool._put(_one_claim_each(profile, framework, FATES), at=NOW - timedelta(days=1))
        n_ess = sum(r.essential for r in profile.requirements)
        for me in (None, n_ess):
            for limit in (1, 50):
                got = [h[0] for h in found(pool, profile, framework, min_essential=me, limit=limit)]
                assert got == ["did:example:ok", "did:example:ok2"][:limit]
        # K of n one below: the doomed ones come back, with the first essential missing
        hits = pool.search(profile, framework=framework, at=NOW, min_essential=n_ess - 1, limit=50)
        assert {h.holder for h in hits} == {f"did:example:{w}" for w in FATES if w != "noconsent"}
        for h in hits:
            if h.holder not in ("did:example:ok", "did:example:ok2"):
                assert len(h.missing) == 1
        # revoked after add: the refresh takes it out of every path at once
        lists = Lists()
        ok2 = next(r for r in _one_claim_each(profile, framework, FATES) if r.holder.endswith("ok2"))
        idx = ok2.credentials[0].status[0].index
        pool._db.execute("UPDATE pool_credentials SET issuer = ?", (lists.dids[0],))
        pool._db.execute("UPDATE pool_status SET issuer = ?", (lists.dids[0],))
        report = pool.refresh(_verifier(lists.signed({idx})), at=NOW, erase_ended_consent=False)
        assert [(c["holder"], c["now"]) for c in report.changed] == [("did:example:ok2", "revoked")]
        for me in (None, n_ess):
            assert [h[0] for h in found(pool, profile, framework, min_essential=me, limit=50)] == ["did:example:ok"]


def _at_levels(profile: JobProfile, framework: Any, levels: dict[str, int | None]) -> list[CandidateRecord]:
    """One candidate per entry, each holding every essential (one credential each) at the
    level it requires (1 where none is), except the third essential (which requires level 3),
    held at the entry's level."""
    ess = [r for r in profile.requirements if r.essential]
    assert ess[2].level == 3
    soon = format_datetime(NOW + timedelta(days=300))
    return [CandidateRecord(holder=f"did:example:{who}", consent_until=soon, credentials=tuple(
        CredentialRecord(key=f"urn:l:{who}:{j}", credential_id=f"urn:l:{who}:{j}", issuer="did:example:roc",
                         issuer_name="ROC", valid_from=None, valid_until=None,
                         claims=(ClaimRecord("skill", sorted(framework.supporters(req.ref))[0],
                                             level if j == 2 else (req.level or 1), f"Badge {j}"),))
        for j, req in enumerate(ess))) for who, level in levels.items()]


@pytest.mark.loopback
def test_the_prefilter_keeps_out_claims_below_the_required_level(pg_pool: Pool, profile: JobProfile,
                                                                 framework: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The level keys: a claim below the required level (or without a level) does not pass
    the prefilter at all; one at it, above it, or above the highest level keyed (8) does."""
    levels: dict[str, int | None] = {"at": 3, "above": 5, "top": 8, "beyond": 12, "below": 2, "one": 1,
                                     "zero": 0, "none": None}
    pg_pool._put(_at_levels(profile, framework, levels), at=NOW - timedelta(days=1))
    calls = _spy(monkeypatch)
    got = [h[0] for h in found(pg_pool, profile, framework, limit=50)]
    assert sorted(got) == sorted(f"did:example:{w}" for w in ("at", "above", "top", "beyond"))
    assert got == [h[0] for h in definition(pg_pool, profile, framework, min_essential=None, regions=(), limit=50)]
    assert calls == [4], "only those meeting the level are kept by the index"
    # one essential fewer: those below the level are found (by counting), with it missing
    n_ess = sum(r.essential for r in profile.requirements)
    hits = pg_pool.search(profile, framework=framework, at=NOW, min_essential=n_ess - 1, limit=50)
    assert {h.holder for h in hits} == {f"did:example:{w}" for w in levels}


def _refsets(pool: Pool) -> dict[str, tuple[list[int], list[tuple[Any, ...]]]]:
    """Each candidate's set: its keys, and its claim arrays as sorted (ref, level, from, until) rows."""
    return {str(h): (sorted(int(x) for x in refs), sorted(zip(cr, lv, vf, vu, strict=True), key=repr))
            for h, refs, cr, lv, vf, vu in pool._db.execute(
                "SELECT holder, refs, c_ref, c_lv, c_vf, c_vu FROM pool_refsets")}


def _keys_of(rid: int, level: int | None) -> set[int]:
    """The keys one claim gives, written out: its id, and for levels 1..min(level, 8) the id
    with that level XORed into its top byte (bits 56-59)."""
    return {rid} | {rid ^ (lv * 2 ** 56) for lv in range(1, min(level or 0, 8) + 1)}


def _expected_refsets(pool: Pool) -> dict[str, tuple[list[int], list[tuple[Any, ...]]]]:
    """What the sets must be, from the stored claims and credentials (not from the sets'
    own SQL): every candidate, the keys and the (id, level, validity) of its claims whose
    credential's state is ok."""
    keys: dict[str, set[int]] = {str(h): set() for (h,) in pool._db.execute("SELECT holder FROM pool_candidates")}
    rows: dict[str, list[tuple[Any, ...]]] = {h: [] for h in keys}
    for h, r, lv, vf, vu in pool._db.execute(
            "SELECT c.holder, p.ref, c.level, k.valid_from, k.valid_until FROM pool_claims c "
            "JOIN pool_refs p ON p.id = c.ref_id "
            "JOIN pool_credentials k ON k.holder = c.holder AND k.cred_key = c.cred_key WHERE k.state = 'ok'"):
        keys[str(h)] |= _keys_of(ref_id(str(r)), lv)
        epoch = [None if t is None else int(parse_datetime(str(t)).timestamp()) for t in (vf, vu)]
        rows[str(h)].append((ref_id(str(r)), lv, *epoch))
    return {h: (sorted(keys[h]), sorted(rows[h], key=repr)) for h in keys}


def _all_claim_rows(pool: Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every candidate's claims as (id, level, from, until) rows, whatever their credential's state."""
    rows: dict[str, list[tuple[Any, ...]]] = {str(h): [] for (h,) in pool._db.execute(
        "SELECT holder FROM pool_candidates")}
    for h, r, lv, vf, vu in pool._db.execute(
            "SELECT c.holder, p.ref, c.level, k.valid_from, k.valid_until FROM pool_claims c "
            "JOIN pool_refs p ON p.id = c.ref_id "
            "JOIN pool_credentials k ON k.holder = c.holder AND k.cred_key = c.cred_key"):
        epoch = [None if t is None else int(parse_datetime(str(t)).timestamp()) for t in (vf, vu)]
        rows[str(h)].append((ref_id(str(r)), lv, *epoch))
    return rows


def _stale(pool: Pool) -> set[str]:
    return {str(h) for (h,) in pool._db.execute("SELECT holder FROM pool_stale")}


def _assert_in_step(pool: Pool) -> set[str]:
    """Every candidate has a set; a set is exactly what its live claims give, unless its holder
    is named stale: then it holds every key and (counted) claim row they give, and only rows of
    the candidate's own stored claims; a stale holder has a credential that does not count.
    Returns the stale holders."""
    got, want, every = _refsets(pool), _expected_refsets(pool), _all_claim_rows(pool)
    stale = _stale(pool)
    assert got.keys() == want.keys() and stale <= got.keys()
    dead = {str(h) for (h,) in pool._db.execute("SELECT holder FROM pool_credentials WHERE state <> 'ok'")}
    assert stale <= dead
    for h, (keys, rows) in want.items():
        if h not in stale:
            assert got[h] == (keys, rows), h
            continue
        assert set(keys) <= set(got[h][0]), h
        assert not Counter(rows) - Counter(got[h][1]), h
        assert not Counter(got[h][1]) - Counter(every[h]), h
    return stale


def _states(pool: Pool) -> dict[tuple[str, str], str]:
    return {(str(h), str(k)): str(s) for h, k, s in pool._db.execute(
        "SELECT holder, cred_key, state FROM pool_credentials")}


@pytest.mark.loopback
@pytest.mark.parametrize("min_essential", [None, 6, 3, 0.5])
def test_search_with_stale_sets_is_the_definition(pg_pool: Pool, profile: JobProfile, framework: Any,
                                                  min_essential: Any) -> None:
    """After refreshes that revoke (many candidates' sets left stale: supersets) and lift
    (rebuilt), every search path still gives exactly the definition: a stale set's revoked
    claims never count, the lifted ones count again."""
    lists = Lists()
    # 30 candidates meeting every essential alike (so they tie, ranked by holder), then the
    # generated ones; every credential of the first 15 revoked, and some of everyone's: were
    # the stale sets' revoked claims counted, those 15 would fill the top and its margin
    alike = _at_levels(profile, framework, {f"a{i:02d}": 3 for i in range(30)})
    records = _with_status([*alike, *_records(profile, framework, 300, seed=17)], lists.dids[0])
    pg_pool._put(records, at=NOW - timedelta(days=1))
    revoked = {s.index for n, r in enumerate(records) for c in r.credentials for s in c.status
               if n < 15 or s.index % 29 == 0}
    for dead in (revoked, {i for i in revoked if i % 2}):
        pg_pool.refresh(_verifier(lists.signed(dead)), at=NOW, erase_ended_consent=False)
        assert _assert_in_step(pg_pool)
        for limit in (1, 10, 40, 330):
            want = definition(pg_pool, profile, framework, min_essential=min_essential, regions=(), limit=limit)
            assert want
            assert found(pg_pool, profile, framework, min_essential=min_essential, limit=limit) == want
        assert found(pg_pool, profile, framework, min_essential=min_essential, regions=["NL-UT"], limit=20) == (
            definition(pg_pool, profile, framework, min_essential=min_essential, regions=("NL-UT",), limit=20))


@pytest.mark.loopback
def test_the_ranking_statement_alone_orders_like_the_definition(pg_pool: Pool, profile: JobProfile,
                                                                 framework: Any) -> None:
    """The all-essentials ranking from the reference sets, before the margin and match's own
    re-sort could hide a slip: its first ``limit`` holders are the definition's, in order (the
    per-candidate scoring, its double-precision credits and the tie by holder), also with
    stale sets whose revoked claims must not count and holders who meet nothing."""
    lists = Lists()
    alike = _at_levels(profile, framework, {f"a{i:02d}": 3 for i in range(20)})
    partial = _at_levels(profile, framework, {f"p{i:02d}": lv for i, lv in enumerate((1, 2, 2, 4, 5))})
    records = _with_status([*alike, *partial, *_records(profile, framework, 200, seed=23)], lists.dids[0])
    pg_pool._put(records, at=NOW - timedelta(days=1))
    n_ess = sum(r.essential for r in profile.requirements)
    when = int(NOW.timestamp())

    def ranked(limit: int) -> list[str]:
        return pg_pool._select(profile, framework, need=n_ess, regions=(), now=when, limit=limit)

    def want(limit: int) -> list[str]:
        return [h for h, _, _ in definition(pg_pool, profile, framework, min_essential=None, regions=(),
                                            limit=limit)]

    every = want(400)
    assert len(every) > 20, "the generated pool must have many holders meeting every essential"
    for limit in (1, 7, 20, 21, 400):
        assert ranked(limit) == every[:limit]
    # the first ten alike holders' credentials revoked: their sets are stale supersets
    dead = {s.index for n, r in enumerate(records) for c in r.credentials for s in c.status if n < 10}
    pg_pool.refresh(_verifier(lists.signed(dead)), at=NOW, erase_ended_consent=False)
    assert _stale(pg_pool) >= {f"did:example:a{i:02d}" for i in range(10)}
    after = want(400)
    assert not {f"did:example:a{i:02d}" for i in range(10)} & set(after) and after != every
    for limit in (1, 10, 25, 400):
        assert ranked(limit) == after[:limit]


def _with_status(records: list[CandidateRecord], issuer: str) -> list[CandidateRecord]:
    """The generated candidates with ``issuer``'s credentials, each with its own position
    (candidate * 20 + credential) in one revocation list."""
    return [CandidateRecord(
        holder=r.holder, consent_until=r.consent_until, region=r.region,
        credentials=tuple(CredentialRecord(key=c.key, credential_id=c.credential_id, issuer=issuer,
                                           issuer_name="I", valid_from=c.valid_from, valid_until=c.valid_until,
                                           claims=c.claims, state=c.state,
                                           status=(StatusRef(URL, n * 20 + j, "revocation"),))
                          for j, c in enumerate(r.credentials)))
        for n, r in enumerate(records)]


@pytest.mark.loopback
def test_add_refresh_remove_keep_the_sets_in_step(pg_pool: Pool, profile: JobProfile, framework: Any) -> None:
    lists = Lists()
    records = _with_status(_records(profile, framework, 120, seed=3), lists.dids[0])
    pg_pool._put(records, at=NOW - timedelta(days=1))
    first = _refsets(pg_pool)
    assert first == _expected_refsets(pg_pool) and len(first) == 120
    # revoke some (among them credentials already stored revoked, which stay so), then lift some
    revoked = {i for i in range(0, 120 * 20, 7)}
    before = _states(pg_pool)
    pg_pool.refresh(_verifier(lists.signed(revoked)), at=NOW, erase_ended_consent=False)
    after = _states(pg_pool)
    # revocations only take claims away: no set is rewritten, the holders who lost a
    # credential are named stale (the sets are then supersets), exactly those
    newly_dead = {h for (h, k), s in after.items() if s != "ok" and before[(h, k)] == "ok"}
    assert newly_dead and _refsets(pg_pool) == first
    assert _assert_in_step(pg_pool) == newly_dead
    second = _refsets(pg_pool)
    assert second != _expected_refsets(pg_pool)
    lifted = {i for i in revoked if i % 2}
    pg_pool.refresh(_verifier(lists.signed(revoked - lifted)), at=NOW, erase_ended_consent=False)
    # a credential that counts again: its holder's set is rebuilt (exact), no longer stale
    back = {h for (h, k), s in _states(pg_pool).items() if s == "ok" and after[(h, k)] != "ok"}
    third = _refsets(pg_pool)
    still = _assert_in_step(pg_pool)
    assert back and not back & still and still == newly_dead - back
    assert any(len(third[h][1]) > len(second[h][1]) for h in back)
    # re-adding replaces the candidate's set; removing erases it
    who = records[0].holder
    new = CandidateRecord(holder=who, consent_until=records[0].consent_until, credentials=(CredentialRecord(
        key="urn:new", credential_id="urn:new", issuer=lists.dids[0], issuer_name="I", valid_from=None,
        valid_until=None, claims=(ClaimRecord("skill", "https://skills.example/only-this", 2, "New"),)),))
    pg_pool._put([new], at=NOW)
    only = ref_id("https://skills.example/only-this")
    assert _refsets(pg_pool)[who] == (sorted({only, only ^ 2 ** 56, only ^ 2 ** 57}), [(only, 2, None, None)])
    assert who not in _stale(pg_pool)
    stale = sorted(still)[0]
    assert pg_pool.remove(stale)
    assert stale not in _refsets(pg_pool) and stale not in _stale(pg_pool)
    assert pg_pool.remove(who)
    assert who not in _refsets(pg_pool)
    _assert_in_step(pg_pool)
    # consent ended: refresh erases the candidate, and its set with it
    pg_pool.refresh(_verifier(lists.signed(revoked - lifted)), at=NOW, erase_ended_consent=True)
    _assert_in_step(pg_pool)
    assert len(_refsets(pg_pool)) == len([r for r in records[1:] if r.consent_until > format_datetime(NOW)
                                          and r.holder != stale])


@pytest.mark.loopback
def test_a_pool_made_before_the_sets_gets_them_on_open(pg_cluster: PgCluster, profile: JobProfile,
                                                       framework: Any) -> None:
    """Opening a pool without ``pool_refsets`` (or without the issuer beside its status
    references) builds them from the stored rows, so the prefilter loses nobody."""
    url = pg_cluster.new_database()
    lists = Lists()
    with Pool.open(url, partitions=4) as pool:
        pool._put(_with_status(_records(profile, framework, 150, seed=9), lists.dids[0]), at=NOW - timedelta(days=1))
        want_sets = _refsets(pool)
        want = definition(pool, profile, framework, min_essential=None, regions=(), limit=150)
        pool._db.execute("DROP TABLE pool_refsets")
        pool._db.execute("ALTER TABLE pool_status DROP COLUMN issuer")
    with Pool.open(url, partitions=4) as pool:
        assert _refsets(pool) == want_sets
        assert found(pool, profile, framework, limit=150) == want
        assert {str(i) for (i,) in pool._db.execute("SELECT DISTINCT issuer FROM pool_status")} == {lists.dids[0]}
        report = pool.refresh(_verifier(lists.signed({0, 20, 21})), at=NOW, erase_ended_consent=False)
        assert report.unknown == [] and report.checked == len(pool._db.execute("SELECT 1 FROM pool_status"))
        _assert_in_step(pool)


@pytest.mark.loopback
def test_a_pool_made_before_the_level_keys_and_claim_arrays_gets_them_on_open(
        pg_cluster: PgCluster, profile: JobProfile, framework: Any) -> None:
    """A pool whose sets hold only plain reference ids (the format before the level keys and
    the claim arrays) and whose claims index holds every claim: opening it rebuilds every set
    from the stored claims, so the search, which asks for level keys, still loses nobody, and
    the claims index of live claims only; later refreshes keep the new form."""
    url = pg_cluster.new_database()
    lists = Lists()
    with Pool.open(url, partitions=4) as pool:
        pool._put(_with_status(_records(profile, framework, 150, seed=13), lists.dids[0]), at=NOW - timedelta(days=1))
        want_sets = _refsets(pool)
        want = {me: definition(pool, profile, framework, min_essential=me, regions=(), limit=150)
                for me in (None, 4)}
        assert want[None], "the generated pool must have hits"
        # the old form: the plain ids of the live claims, no arrays, no level keys
        pool._db.execute("UPDATE pool_refsets r SET refs = COALESCE((SELECT array_agg(DISTINCT c.ref_id "
                         "ORDER BY c.ref_id) FROM pool_claims c WHERE c.holder = r.holder AND c.live = 1), '{}')")
        pool._db.execute("ALTER TABLE pool_refsets DROP COLUMN c_ref, DROP COLUMN c_lv, DROP COLUMN c_vf, "
                         "DROP COLUMN c_vu")
        # ... and the claims index of every claim, the live flag among its columns
        pool._db.execute("DROP INDEX pool_claims_by_ref")
        pool._db.execute("CREATE INDEX pool_claims_by_ref ON pool_claims (ref_id) INCLUDE (holder, level, live, "
                         "valid_from, valid_until, consent_until, region)")
        assert _refsets_plain(pool) != {h: keys for h, (keys, _) in want_sets.items()}
    with Pool.open(url, partitions=4) as pool:
        assert _refsets(pool) == want_sets == _expected_refsets(pool)
        for me in (None, 4):
            assert found(pool, profile, framework, min_essential=me, limit=150) == want[me]
        assert pool._db.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pool_refsets_by_ref'")
        (claims_index,), = pool._db.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pool_claims_by_ref'")
        assert str(claims_index).endswith("WHERE (live = 1)")
        for me in (3, 0.5):  # the counting paths read that index
            assert found(pool, profile, framework, min_essential=me, limit=150) == definition(
                pool, profile, framework, min_essential=me, regions=(), limit=150)
        pool.refresh(_verifier(lists.signed({0, 20, 41})), at=NOW, erase_ended_consent=False)
        _assert_in_step(pool)


@pytest.mark.loopback
def test_a_pool_made_before_the_stale_marks_gets_the_table_on_open(pg_cluster: PgCluster, profile: JobProfile,
                                                                   framework: Any) -> None:
    """A pool made before ``pool_stale`` gains it (empty: every set was exact) when opened, with
    no pass over the sets; its next refresh marks and searches as a new pool's does."""
    url, lists = pg_cluster.new_database(), Lists()
    records = _with_status(_records(profile, framework, 60, seed=4), lists.dids[0])
    with Pool.open(url, partitions=4) as pool:
        pool._put(records, at=NOW - timedelta(days=1))
        pool._db.execute("DROP TABLE pool_stale")
        want_sets = _refsets(pool)
    with Pool.open(url, partitions=4) as pool:
        assert _stale(pool) == set() and _refsets(pool) == want_sets
        pool.refresh(_verifier(lists.signed(set(range(0, 60 * 20, 5)))), at=NOW, erase_ended_consent=False)
        assert _assert_in_step(pool) and _refsets(pool) == want_sets
        for me in (None, 3):
            assert found(pool, profile, framework, min_essential=me, limit=20) == definition(
                pool, profile, framework, min_essential=me, regions=(), limit=20)


def _refsets_plain(pool: Pool) -> dict[str, list[int]]:
    return {str(h): sorted(int(x) for x in refs)
            for h, refs in pool._db.execute("SELECT holder, refs FROM pool_refsets")}


def test_sqlite_pool_made_before_the_issuer_column(tmp_path: Path, profile: JobProfile, framework: Any) -> None:
    """An older SQLite pool gains the issuer beside its status references on open, filled
    from the credentials, and refresh then judges each reference by its own issuer."""
    lists = Lists()
    path = tmp_path / "pool.sqlite"
    recs = [CandidateRecord(holder=f"did:example:o{i}", consent_until=format_datetime(NOW + timedelta(days=9)),
                            credentials=(CredentialRecord(
                                key=f"urn:o:{i}", credential_id=f"urn:o:{i}", issuer=lists.dids[i % 2],
                                issuer_name="I", valid_from=None, valid_until=None,
                                claims=(ClaimRecord("skill", "https://skills.example/x", 3, "X"),),
                                status=(StatusRef(URL, i, "revocation"),)),)) for i in range(6)]
    with Pool.open(path) as pool:
        pool._put(recs, at=NOW)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE pool_status DROP COLUMN issuer")
    conn.commit()
    conn.close()
    with Pool.open(path) as pool:
        report = pool.refresh(_verifier(lists.signed({0, 1, 2, 3})), at=NOW, erase_ended_consent=False)
        # institute 0's list: its own credentials (even indexes) revoked, institute 1's refused
        assert sorted(c["index"] for c in report.changed) == [0, 2]
        assert sorted((u["index"], u["code"]) for u in report.unknown) == [
            (1, "status_list_wrong_issuer"), (3, "status_list_wrong_issuer"), (5, "status_list_wrong_issuer")]


SUSPENSIONS = "https://institute.example/status/suspension-1"
#: positions on both sides of byte boundaries (the database reads bit i of byte i / 8 from
#: its most significant end), the list's last entry and one past it
POSITIONS = (0, 1, 6, 7, 8, 9, 15, 16, 17, 1000, 131_071, 131_072)


def _positioned(lists: Lists) -> list[CandidateRecord]:
    """One credential per position of ``POSITIONS`` on the revocation list of institute 0,
    each also on its suspension list (same position); and as many on the same revocation
    list whose stored issuer is institute 1 (the list is not its issuer's)."""
    out = []
    for who in (0, 1):
        for i in POSITIONS:
            key = f"urn:c:{who}:{i}"
            out.append(CandidateRecord(
                holder=f"did:example:p{who}-{i}", consent_until=format_datetime(NOW + timedelta(days=9)),
                credentials=(CredentialRecord(
                    key=key, credential_id=key, issuer=lists.dids[who], issuer_name="I", valid_from=None,
                    valid_until=None, claims=(ClaimRecord("skill", "https://skills.example/x", 3, "X"),),
                    status=(StatusRef(URL, i, "revocation"), StatusRef(SUSPENSIONS, i, "suspension"))),)))
    return out


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.loopback)])
def test_refresh_flips_exactly_the_bits_that_differ(backend: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    """PostgreSQL compares the stored bits with the list inside the database (SQLite reads
    them out): on both, exactly the references whose bit differs change, at the right
    positions across byte boundaries; the entry past the list's end and those of another
    issuer are reported, never applied; lifting a revocation of a credential still suspended
    leaves it suspended, lifting both makes it count again."""
    lists = Lists()
    if backend == "sqlite":
        pool = Pool.open(tmp_path / "pool.sqlite")
    else:
        pool = Pool.open(request.getfixturevalue("pg_cluster").new_database(), partitions=4)
    with pool:
        pool._put(_positioned(lists), at=NOW)
        total = 2 * 2 * len(POSITIONS)
        revoked = {1, 7, 8, 16, 1000, 131_071}
        suspended = {7, 9, 131_071}
        v = _verifier(lists.signed(revoked), lists.signed(suspended, url=SUSPENSIONS, purpose="suspension"))
        report = pool.refresh(v, at=NOW, erase_ended_consent=False)
        assert report.checked == total
        assert sorted((c["list"], c["index"], c["holder"], c["now"]) for c in report.changed) == sorted(
            [(URL, i, f"did:example:p0-{i}", "revoked") for i in revoked]
            + [(SUSPENSIONS, i, f"did:example:p0-{i}", "suspended") for i in suspended])
        # institute 1's references (on both lists) and the position past the end (institute
        # 0's, on both lists; institute 1's past-end ones are counted once, as its own)
        assert len(report.unknown) == 2 * len(POSITIONS) + 2
        assert {(u["list"], u["index"]) for u in report.unknown if u["code"] != "status_list_wrong_issuer"} == {
            (URL, 131_072), (SUSPENSIONS, 131_072)}

        def states() -> dict[str, str]:
            return {str(k): str(s) for k, s in pool._db.execute("SELECT cred_key, state FROM pool_credentials")}

        def live() -> set[str]:
            return {str(k) for (k,) in pool._db.execute("SELECT cred_key FROM pool_claims WHERE live = 1")}

        want = {f"urn:c:0:{i}": "revoked" if i in revoked else "suspended" if i in suspended else "ok"
                for i in POSITIONS}
        want |= {f"urn:c:1:{i}": "ok" for i in POSITIONS}
        assert states() == want
        assert live() == {k for k, s in want.items() if s == "ok"}
        # lift every revocation; 9 and 131071 stay suspended; then lift 7's suspension too
        report = pool.refresh(_verifier(lists.signed(set()), lists.signed(suspended - {7}, url=SUSPENSIONS,
                                                                          purpose="suspension")),
                              at=NOW, erase_ended_consent=False)
        assert sorted((c["index"], c["now"]) for c in report.changed) == sorted(
            [(i, "not revocation") for i in revoked] + [(7, "not suspension")])
        want = {k: "ok" for k in want} | {"urn:c:0:9": "suspended", "urn:c:0:131071": "suspended"}
        assert states() == want
        assert live() == {k for k, s in want.items() if s == "ok"}
        if backend == "postgresql":
            _assert_in_step(pool)
        # the same lists again: nothing differs, nothing changes
        again = pool.refresh(_verifier(lists.signed(set()), lists.signed(suspended - {7}, url=SUSPENSIONS,
                                                                         purpose="suspension")),
                             at=NOW, erase_ended_consent=False)
        assert again.changed == [] and again.checked == total


@pytest.mark.loopback
def test_refresh_writes_bits_where_it_read_them_and_by_key_when_they_moved(
        pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL writes a changed bit at the place (partition, ctid) its comparison scan read
    it; a row that moved in between (rewritten: another row version) is not written there by
    mistake and is written by its key instead -- either way exactly the changed bits."""
    lists = Lists()
    revoked = {1, 7, 8, 1000}
    real = pool_module.Pool._write_bits_in_place
    for moved in (False, True):
        with Pool.open(pg_cluster.new_database(), partitions=4) as pool:
            pool._put(_positioned(lists), at=NOW)
            left: list[int] = []

            def spy(self: Pool, url: str, placed: Any, _real: Any = real, _moved: bool = moved,
                    _left: list[int] = left) -> Any:
                if _moved:  # every row of the list gets a new version (and place) first
                    self._db.execute("UPDATE pool_status SET size = size WHERE list_url = ?", (url,))
                got = _real(self, url, placed)
                _left.append(len(got))
                return got

            monkeypatch.setattr(pool_module.Pool, "_write_bits_in_place", spy)
            report = pool.refresh(_verifier(lists.signed(revoked)), lists=[URL], at=NOW, erase_ended_consent=False)
            assert sorted(c["index"] for c in report.changed) == sorted(revoked)
            assert left == [len(revoked) if moved else 0]
            assert {int(i) for (i,) in pool._db.execute(
                "SELECT idx FROM pool_status WHERE list_url = ? AND is_set = 1", (URL,))} == revoked
            assert {str(k) for (k,) in pool._db.execute("SELECT cred_key FROM pool_credentials "
                                                        "WHERE state = 'revoked'")} == {
                f"urn:c:0:{i}" for i in revoked}
            again = pool.refresh(_verifier(lists.signed(revoked)), lists=[URL], at=NOW, erase_ended_consent=False)
            assert again.changed == []


# -- the benchmark's bulk loader --------------------------------------------------------------


def _bench() -> Any:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import pool as bench  # benchmarks/pool.py

    return bench


def _contents(pool: Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row the pool's searches and refresh read (not the audit times)."""
    out = {}
    for table, cols in (("pool_candidates", "holder, region, consent_until, name, evidence"),
                        ("pool_credentials", "holder, cred_key, credential_id, issuer, issuer_name, valid_from, "
                                             "valid_until, state"),
                        ("pool_claims", pool_module._CLAIM_COLUMNS),
                        ("pool_status", "holder, cred_key, list_url, idx, purpose, size, is_set, issuer"),
                        ("pool_refs", "id, ref, n"), ("pool_audit", "holder, action, operator")):
        out[table] = sorted((tuple(r) for r in pool._db.execute(f"SELECT {cols} FROM {table}")), key=repr)
    if pool._db.postgres:
        out["pool_refsets"] = sorted((h, r, c, tuple(a)) for h, r, c, a in pool._db.execute(
            "SELECT holder, region, consent_until, refs FROM pool_refsets"))
    return out


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.loopback)])
def test_bulk_loader_stores_what_the_record_path_stores(backend: str, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    """benchmarks/pool.py's bulk loader (rows generated directly, COPY / executemany, indexes
    after) leaves the pool exactly as loading the same generated candidates through
    ``Pool._put`` does: same rows in every table, same reference counts, same indexes."""
    import random

    bench = _bench()
    occ = bench.occupations(random.Random(3))[:12]
    pools = []
    for way in ("record", "bulk"):
        if backend == "sqlite":
            pool = Pool.open(tmp_path / f"{way}.sqlite")
        else:
            pool = Pool.open(request.getfixturevalue("pg_cluster").new_database(), partitions=4)
        inst = bench.Institutes(random.Random(3))
        inst.dids = [f"did:example:institute-{i}" for i in range(4)]  # the same issuers both ways
        monkey = pytest.MonkeyPatch()
        monkey.setattr(bench, "CHUNK", 70)  # several chunks, the last one short
        try:
            (bench.load if way == "record" else bench.bulk_load)(pool, 333, 8, occ, inst, NOW)
        finally:
            monkey.undo()
        pools.append((pool, inst))
    (record, r_inst), (bulk, b_inst) = pools
    with record, bulk:
        want, got = _contents(record), _contents(bulk)
        assert len(want["pool_candidates"]) == 333 and len(want["pool_claims"]) > 333
        assert {r[-1] for r in want["pool_credentials"]} == {"ok", "revoked"}
        assert got == want
        assert (b_inst.next, b_inst.revoked) == (r_inst.next, r_inst.revoked)
        if backend == "sqlite":
            index_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        else:
            index_sql = ("SELECT indexname, indexdef FROM pg_indexes WHERE starts_with(tablename, 'pool_') "
                         "ORDER BY indexname")
        assert record._db.execute(index_sql) == bulk._db.execute(index_sql)

"""The talent pool: verified, consented candidates an agency or a sector fund can search.

``rank`` verifies every presentation again on each run: right for a folder of applications,
useless for 400,000 job seekers. The pool verifies each presentation **once**, with the one
:class:`~skillcred.verify.Verifier`, and keeps only what was disclosed and verified: per
candidate (the holder DID, a pseudonym) the countable claims of each accepted credential (the
same :class:`~skillcred.claims.Claim` list ``match`` grades), the credential's issuer, id,
validity window and status-list references, and the consent record. Never the presentation
itself (unless ``keep_evidence``), never a name (unless the candidate disclosed one and the
operator enabled it).

A search grades the stored claims with :func:`skillcred.match.match_evidence`, the grading of
``match``/``rank``; candidates are first selected by posting lists (an index range per claim
reference, from :meth:`skillcred.match.Framework.supporters`, the exact inverse of match's
inference: essentials intersected rarest first, or counted for K of n) and ranked in SQL by
the same formula, so only the top candidates are graded in Python for their explanations.
Nothing revoked, suspended (after :meth:`Pool.refresh`), expired, not yet valid or past its
consent counts -- checked at query time against the clock.

Every search is logged (operator, time, profile title and digest, parameters, hit count) and
the log holds no candidate data; ``add``/``remove`` leave audit rows naming the holder, which
:meth:`Pool.remove` erases with everything else.

Storage: SQLite (one file, the default) or PostgreSQL (``postgresql://...``, psycopg 3), where
the per-candidate tables are hash-partitioned by holder (see docs/pool.md). On PostgreSQL each
candidate also has a reference set (``pool_refsets``: its live claims' references, also "at
level >= l", GIN-indexed, and the claims themselves as arrays): an all-essentials search takes
a superset of its candidates from the index and ranks them exactly from those rows in the same
statement; add, refresh and remove keep it in step (a refresh that only takes claims away
leaves the row, a superset, and marks it stale: those holders are ranked from their claims).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.claims import QUALIFICATION_PREFIX, Claim
from skillcred.errors import InvalidArgument, PoolError
from skillcred.match import (
    Catalog,
    Framework,
    JobProfile,
    MatchReport,
    claims_evidence,
    match_evidence,
)
from skillcred.verify.report import VerifiedPresentation
from skillcred.verify.verifier import Verifier

__all__ = [
    "DEFAULT_CONSENT_DAYS",
    "CandidateRecord",
    "ClaimRecord",
    "CredentialRecord",
    "Pool",
    "PoolHit",
    "RefreshReport",
    "StatusRef",
    "is_postgres_target",
    "parse_min_essential",
    "record_from",
]

#: consent lasts this long when the candidate (or operator) does not say: a year, then the
#: candidate must present again (docs/pool.md)
DEFAULT_CONSENT_DAYS = 365
#: how many more candidates than asked are graded in Python (ties at the cut-off)
_MARGIN = 10
#: PostgreSQL: connections an all-essentials search fans out over (each ranks its share of the
#: reference-set partitions, the top of each merged here). PostgreSQL 15 runs none of that
#: statement in parallel itself (its per-candidate LATERAL aggregate is parallel-restricted),
#: so one connection used one core for the GIN scans of all 16 partitions and the scoring.
_SEARCH_CONNECTIONS = 2
#: what ``pg_export_snapshot()`` returns (e.g. ``00000003-0000001B-1``): checked before it is
#: written into ``SET TRANSACTION SNAPSHOT``, which takes no parameter
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(?:-[0-9]+)?")
DEFAULT_PARTITIONS = 16


@dataclass(frozen=True)
class StatusRef:
    """One ``credentialStatus`` entry of a stored credential (list, index, purpose)."""

    list_url: str
    index: int
    purpose: str
    size: int = 1
    set: bool = False  # the bit as last seen (refresh keeps it)


@dataclass(frozen=True)
class ClaimRecord:
    """A countable claim as stored: what :class:`~skillcred.claims.Claim` says that grading uses."""

    kind: str
    ref: str
    level: int | None
    achievement: str
    label: str | None = None
    from_diploma: bool = False

    def claim(self) -> Claim:
        return Claim(kind=self.kind, ref=self.ref, level=self.level,  # type: ignore[arg-type]
                     subject=None, subject_index=0, achievement=self.achievement, achievement_type=None,
                     label=self.label, from_diploma=self.from_diploma)


@dataclass(frozen=True)
class CredentialRecord:
    key: str  # the credential id, or a stand-in for one without
    credential_id: str | None
    issuer: str
    issuer_name: str
    valid_from: str | None
    valid_until: str | None
    claims: tuple[ClaimRecord, ...]
    status: tuple[StatusRef, ...] = ()
    state: str = "ok"


@dataclass(frozen=True)
class CandidateRecord:
    """What the pool holds about one candidate."""

    holder: str
    consent_until: str
    credentials: tuple[CredentialRecord, ...]
    region: str | None = None
    name: str | None = None
    evidence: str | None = None  # the raw presentation, only with keep_evidence


@dataclass(frozen=True)
class PoolHit:
    """One search result: the candidate's match report (every requirement with the claim and
    inference that met it) and the figures the ranking used."""

    holder: str
    region: str | None
    report: MatchReport

    @property
    def missing(self) -> list[str]:
        return [r.requirement.label for r in self.report.requirements
                if r.requirement.essential and r.status != "met"]

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "holder": self.holder,
            "region": self.region,
            "essential_coverage": round(r.essential_coverage, 4),
            "score": round(r.score, 4),
            "met": [x.requirement.label for x in r.requirements if x.status == "met"],
            "missing": self.missing,
            "plan_hours": r.plan.total_hours if r.plan is not None else None,
            "report": r.to_dict(),
        }


@dataclass
class RefreshReport:
    """What one :meth:`Pool.refresh` changed."""

    checked: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    expired_credentials: int = 0
    consent_ended: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "changed": self.changed, "unknown": self.unknown,
                "expired_credentials": self.expired_credentials, "consent_ended_erased": self.consent_ended}


# -- storage --------------------------------------------------------------------------------------

_TABLES: tuple[tuple[str, str, bool], ...] = (
    # (name, columns, partitioned by holder on PostgreSQL)
    ("pool_candidates", "holder TEXT NOT NULL, region TEXT, consent_until TEXT NOT NULL, added_at TEXT NOT NULL, "
                        "name TEXT, evidence TEXT, PRIMARY KEY (holder)", True),
    ("pool_credentials", "holder TEXT NOT NULL, cred_key TEXT NOT NULL, credential_id TEXT, issuer TEXT NOT NULL, "
                         "issuer_name TEXT NOT NULL, valid_from TEXT, valid_until TEXT, "
                         "state TEXT NOT NULL DEFAULT 'ok', PRIMARY KEY (holder, cred_key)", True),
    # one row per countable claim, with what decides whether it counts now copied in (the
    # credential's state and validity, the candidate's consent and region as epoch seconds),
    # so a search reads one index range per reference and joins nothing
    ("pool_claims", "ref_id BIGINT NOT NULL, holder TEXT NOT NULL, cred_key TEXT NOT NULL, seq INTEGER NOT NULL, "
                    "kind TEXT NOT NULL, level INTEGER, achievement TEXT NOT NULL, label TEXT, "
                    "from_diploma INTEGER NOT NULL, live INTEGER NOT NULL, valid_from BIGINT, valid_until BIGINT, "
                    "consent_until BIGINT NOT NULL, region TEXT", True),
    ("pool_refs", "id BIGINT NOT NULL PRIMARY KEY, ref TEXT NOT NULL, n BIGINT NOT NULL DEFAULT 0", False),
    # the credential's issuer beside each reference: refresh judges a list's references
    # without joining pool_credentials (the join the 200k plans showed)
    ("pool_status", "holder TEXT NOT NULL, cred_key TEXT NOT NULL, list_url TEXT NOT NULL, idx INTEGER NOT NULL, "
                    "purpose TEXT NOT NULL, size INTEGER NOT NULL, is_set INTEGER NOT NULL DEFAULT 0, issuer TEXT",
     True),
    ("pool_audit", "holder TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL, operator TEXT", True),
    ("pool_search_log", "at TEXT NOT NULL, operator TEXT, profile TEXT NOT NULL, profile_digest TEXT NOT NULL, "
                        "params TEXT NOT NULL, hits INTEGER NOT NULL", False),
)
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS pool_claims_by_holder ON pool_claims (holder, cred_key)",
    "CREATE INDEX IF NOT EXISTS pool_status_by_list ON pool_status (list_url, idx)",
    "CREATE INDEX IF NOT EXISTS pool_status_by_holder ON pool_status (holder, cred_key)",
    "CREATE INDEX IF NOT EXISTS pool_audit_by_holder ON pool_audit (holder)",
    "CREATE INDEX IF NOT EXISTS pool_candidates_by_consent ON pool_candidates (consent_until)",
    # refresh (and stats) count the credentials whose validity ended: without it a scan of
    # every credential (2.5 s of a refresh at a million candidates)
    "CREATE INDEX IF NOT EXISTS pool_credentials_by_valid_until ON pool_credentials (valid_until) "
    "WHERE valid_until IS NOT NULL",
)
#: the claims table per backend: SQLite keeps it clustered by reference (WITHOUT ROWID), PostgreSQL
#: an index by reference holding every column a search reads (index-only scans), of the live
#: claims only: every query reading it asks ``live = 1``, and a refresh that revokes a
#: credential then writes its claims' new row versions into the holder index alone (the
#: restate's update of ``live`` was most of a 1 %-revocation refresh at a million candidates)
_SQLITE_CLAIMS_KEY = ", PRIMARY KEY (ref_id, holder, cred_key, seq)) WITHOUT ROWID"
_PG_CLAIMS_INDEX = ("CREATE INDEX IF NOT EXISTS pool_claims_by_ref ON pool_claims (ref_id) INCLUDE "
                    "(holder, level, valid_from, valid_until, consent_until, region) WHERE live = 1")
_CLAIM_COLUMNS = ("ref_id, holder, cred_key, seq, kind, level, achievement, label, from_diploma, live, valid_from, "
                  "valid_until, consent_until, region")
_PER_HOLDER = ("pool_claims", "pool_status", "pool_credentials", "pool_audit", "pool_candidates")
#: PostgreSQL only: per candidate, one row with its live claims (state ok; any validity) and its
#: consent and region, so a search for "every essential met" reads neither pool_claims nor an
#: index per claim. ``refs`` (under a GIN index) holds each claim's reference id and, for a claim
#: at level v, the keys "this reference at level >= l" for l = 1..min(v, 8) (:func:`_level_key`):
#: ``refs && keys(e1) AND refs && keys(e2) ...`` is then answered by the index alone and keeps a
#: superset of the candidates meeting every essential at its level (only a date can still fail).
#: The aligned arrays ``c_ref, c_lv, c_vf, c_vu`` (reference, level, validity as epoch seconds,
#: one entry per live claim) let the exact ranking of those candidates run on this row alone.
#: Kept in step by add (``_put``), refresh (``_restate``) and remove -- except that a refresh
#: which only takes claims away (a credential revoked or suspended) leaves the row as it is and
#: names its holder in ``pool_stale`` (below): the row's keys and arrays are then a superset of
#: its live claims, which keeps the prefilter correct, and the ranking reads that holder's live
#: claims from ``pool_claims`` instead of the arrays.
_PG_REFSETS = ("pool_refsets", "holder TEXT NOT NULL, region TEXT, consent_until BIGINT NOT NULL, "
                               "refs BIGINT[] NOT NULL, c_ref BIGINT[] NOT NULL DEFAULT '{}', "
                               "c_lv INTEGER[] NOT NULL DEFAULT '{}', c_vf BIGINT[] NOT NULL DEFAULT '{}', "
                               "c_vu BIGINT[] NOT NULL DEFAULT '{}', PRIMARY KEY (holder)")
#: PostgreSQL only: the holders whose ``pool_refsets`` row may still hold claims that no longer
#: count (a credential revoked or suspended since the row was built). Rewriting a row and its
#: ~120 GIN keys per changed candidate was most of a 1 %-revocation refresh at a million
#: candidates (14-18 s of 27-37 s); a row here is one narrow insert. Revocations are rare, so it
#: stays small; a refresh that lifts a credential (claims come back) rebuilds that row exactly
#: and takes its holder out, as re-adding the candidate does.
_PG_STALE = ("pool_stale", "holder TEXT NOT NULL PRIMARY KEY", False)
_PG_REFSETS_INDEX = "CREATE INDEX IF NOT EXISTS pool_refsets_by_ref ON pool_refsets USING gin (refs)"
_PG_REFSETS_COLUMNS = "holder, region, consent_until, refs, c_ref, c_lv, c_vf, c_vu"
#: the levels a reference set keys (:func:`_level_key`); a claim above it is keyed up to it
_REFSET_LEVELS = 8
#: the reference set columns a row of claims ``a`` (its aligned arrays) gives
_PG_REFSETS_SET = (
    "refs = ARRAY(SELECT DISTINCT k.x FROM unnest(a.c_ref, a.c_lv) AS u(r, lv) CROSS JOIN LATERAL "
    "(SELECT u.r UNION ALL SELECT u.r # (CAST(g AS BIGINT) << 56) FROM generate_series(1, "
    f"LEAST(COALESCE(u.lv, 0), {_REFSET_LEVELS})) AS g) AS k(x) ORDER BY k.x), "  # LEAST skips a NULL
    "c_ref = a.c_ref, c_lv = a.c_lv, c_vf = a.c_vf, c_vu = a.c_vu")
_PG_CLAIM_ARRAYS = ", ".join(f"array_agg(c.{col} ORDER BY c.cred_key, c.seq) AS {name}" for col, name in (
    ("ref_id", "c_ref"), ("level", "c_lv"), ("valid_from", "c_vf"), ("valid_until", "c_vu")))
#: one candidate's live claims as aligned arrays (always one row: empty arrays without any)
_PG_REFSETS_OF = ("(SELECT " + ", ".join(f"COALESCE({name}, '{{{{}}}}') AS {name}" for name in (
    "c_ref", "c_lv", "c_vf", "c_vu")) + " FROM (SELECT " + _PG_CLAIM_ARRAYS
                  + " FROM pool_claims c WHERE c.holder = {h} AND c.live = 1) AS x)")
#: every candidate's (with a live claim), in one pass over the claims (backfill)
_PG_REFSETS_ALL = f"(SELECT c.holder, {_PG_CLAIM_ARRAYS} FROM pool_claims c WHERE c.live = 1 GROUP BY c.holder)"


def _level_key(rid: int, level: int) -> int:
    """The reference set key of "reference ``rid`` at level >= ``level``" (1..8): the id with
    the level in its top byte (XOR; as PostgreSQL's ``#`` and ``<<`` compute it). Another
    reference's id may equal it by chance: that only lets one more candidate through the
    prefilter, which the exact ranking then judges."""
    return rid ^ (min(level, _REFSET_LEVELS) << 56)


def _refset_keys(claims: Iterable[tuple[int, int | None]]) -> list[int]:
    """The GIN keys of a candidate's live claims ``(reference id, level)``, sorted."""
    keys: set[int] = set()
    for rid, level in claims:
        keys.add(rid)
        if level is not None:
            keys.update(_level_key(rid, lv) for lv in range(1, min(level, _REFSET_LEVELS) + 1))
    return sorted(keys)


def is_postgres_target(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class _Db:
    """The few things the pool needs of a database, written once with ``?`` placeholders."""

    postgres = False
    where: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def transaction(self) -> Any:  # a context manager: both backends' is a generator
        raise NotImplementedError

    def temp_holders(self, holders: Sequence[str]) -> None:
        """Make this connection's temporary ``pool_q (holder)`` hold exactly ``holders``: the
        candidates a search step semi-joins (never shared between connections, never stored)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _Sqlite(_Db):
    def __init__(self, path: Path, create: bool) -> None:
        self.where = str(path)
        if not create and not path.exists():
            raise PoolError("no pool here (create it with 'skillcred pool add')", path=str(path))
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA cache_size=-131072")  # 128 MiB: the claims index is read at random
            self.conn.execute("PRAGMA temp_store=MEMORY")  # a search's grouping
            self.conn.execute("PRAGMA foreign_keys=OFF")
            for name, cols, _ in _TABLES:
                tail = _SQLITE_CLAIMS_KEY if name == "pool_claims" else ")"
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols}{tail}")
            if "issuer" not in {str(r[1]) for r in self.conn.execute("PRAGMA table_info(pool_status)")}:
                # a pool made before the issuer was kept beside its status references
                self.conn.execute("ALTER TABLE pool_status ADD COLUMN issuer TEXT")
                self.conn.execute("UPDATE pool_status SET issuer = (SELECT k.issuer FROM pool_credentials k "
                                  "WHERE k.holder = pool_status.holder AND k.cred_key = pool_status.cred_key)")
            for stmt in _INDEXES:
                self.conn.execute(stmt)
        except sqlite3.Error as exc:
            raise PoolError(f"cannot open the pool database: {exc}", path=str(path)) from None
        self._depth = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise PoolError(f"pool database error: {exc}", path=self.where) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise PoolError(f"pool database error: {exc}", path=self.where) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    def temp_holders(self, holders: Sequence[str]) -> None:
        try:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS pool_q (holder TEXT PRIMARY KEY) WITHOUT ROWID")
            # a deferred transaction on the temporary database only: no lock on the pool itself
            own = not self.conn.in_transaction
            if own:
                self.conn.execute("BEGIN")
            self.conn.execute("DELETE FROM pool_q")
            self.conn.executemany("INSERT INTO pool_q (holder) VALUES (?)", ((h,) for h in holders))
            if own:
                self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise PoolError(f"pool database error: {exc}", path=self.where) from None

    def close(self) -> None:
        self.conn.close()


class _Postgres(_Db):
    postgres = True

    def __init__(self, url: str, partitions: int) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise PoolError("a PostgreSQL pool needs psycopg: pip install 'skillcred[serve]'") from exc
        from skillcred.registry_pg import redact_url

        self.where = redact_url(url)
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise PoolError(f"cannot connect to the pool database: {str(exc).splitlines()[0]}",
                            path=self.where) from None
        try:
            # no JIT in this session: the pool's statements are short, and their cost estimates
            # (a correlated subquery per changed candidate, many references per search) pass
            # jit_above_cost, so LLVM compiled each for a second or two before running it
            self.conn.execute("SET jit = off")
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(23569, 20)")  # several instances may start
                had_refsets = self.conn.execute("SELECT to_regclass('pool_refsets')").fetchone()
                had_status = self.conn.execute("SELECT to_regclass('pool_status')").fetchone()
                for name, cols, partitioned in (*_TABLES, (*_PG_REFSETS, True), _PG_STALE):
                    if not partitioned:
                        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
                        continue
                    self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols}) PARTITION BY HASH (holder)")
                    for i in range(partitions):
                        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name}_p{i} PARTITION OF {name} "
                                          f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {i})")
                if had_status is not None and had_status[0] is not None and not self.conn.execute(
                        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = 'pool_status' AND column_name = 'issuer'").fetchall():
                    # a pool made before the issuer was kept beside its status references
                    self.conn.execute("ALTER TABLE pool_status ADD COLUMN issuer TEXT")
                    self.conn.execute("UPDATE pool_status s SET issuer = k.issuer FROM pool_credentials k "
                                      "WHERE k.holder = s.holder AND k.cred_key = s.cred_key")
                if had_refsets is None or had_refsets[0] is None:
                    # a pool made before the per-candidate reference sets: one row each, filled below
                    self.conn.execute(
                        "INSERT INTO pool_refsets (holder, region, consent_until, refs) SELECT p.holder, p.region, "
                        "CAST(EXTRACT(EPOCH FROM CAST(p.consent_until AS TIMESTAMPTZ)) AS BIGINT), '{}' "
                        "FROM pool_candidates p")
                    self._fill_refsets()
                elif not self.conn.execute(
                        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = 'pool_refsets' AND column_name = 'c_ref'").fetchall():
                    # a pool made before the level keys and the claim arrays: add them, rebuild every
                    # row (and the index, once, after: cheaper than updating it row by row)
                    self.conn.execute("DROP INDEX IF EXISTS pool_refsets_by_ref")
                    for col, kind in (("c_ref", "BIGINT"), ("c_lv", "INTEGER"), ("c_vf", "BIGINT"),
                                      ("c_vu", "BIGINT")):
                        self.conn.execute(f"ALTER TABLE pool_refsets ADD COLUMN {col} {kind}[] NOT NULL DEFAULT '{{}}'")
                    self._fill_refsets()
                old_index = self.conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                              "AND indexname = 'pool_claims_by_ref'").fetchone()
                if old_index is not None and " WHERE " not in str(old_index[0]):
                    # a pool made before the claims index held only live claims: built anew below
                    self.conn.execute("DROP INDEX pool_claims_by_ref")
                for stmt in (*_INDEXES, _PG_CLAIMS_INDEX, _PG_REFSETS_INDEX):
                    self.conn.execute(stmt)
        except psycopg.Error as exc:
            self.conn.close()
            raise PoolError(f"cannot set up the pool tables: {str(exc).splitlines()[0]}", path=self.where) from None
        self._depth = 0
        self._temp = False
        self._url = url  # for the search's side connections (never shown: ``where`` is redacted)
        self._side: list[Any] = []
        self._parts: dict[str, list[str]] = {}

    def partitions(self, table: str) -> list[str]:
        """The partitions of one of the pool's tables, by name (read once per connection:
        they are made with the tables and never change)."""
        if table not in self._parts:
            self._parts[table] = [str(n) for (n,) in self.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(? AS regclass) ORDER BY c.relname", [table])]
        return self._parts[table]

    def fan_out(self, statements: Sequence[str], params: Sequence[Any],
                settings: str) -> list[list[tuple[Any, ...]]]:
        """Run read-only statements at once, one per connection (this one and side connections
        opened on first use), after ``settings`` (a SELECT of ``set_config(..., true)``): the
        rows of each, in order. All of them read **one snapshot**: this connection opens a
        read-only repeatable-read transaction and exports its snapshot, each side connection
        imports it (``SET TRANSACTION SNAPSHOT``, as ``pg_dump --jobs`` does) before its
        statement, and the exporting transaction stays open until every side has finished --
        so a refresh or removal committing meanwhile is seen by none of them or (a search
        after it) by all, never by half the partitions. Inside a transaction of this
        connection they run one after the other in it instead (its snapshot)."""
        if self._depth or len(statements) < 2:
            with self.transaction():
                self.execute(settings)
                return [self.execute(sql, params) for sql in statements]
        psycopg = self._psycopg
        for gone in [c for c in self._side if c.closed or c.broken]:
            gone.close()  # (a server restart, an idle timeout of a managed service): opened anew below
        self._side = [c for c in self._side if not c.closed]
        try:
            while len(self._side) < len(statements) - 1:
                side = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
                side.execute("SET jit = off")
                self._side.append(side)
        except psycopg.Error as exc:
            raise PoolError(f"cannot connect to the pool database: {str(exc).splitlines()[0]}",
                            path=self.where) from None
        values = tuple(params)
        out: list[list[tuple[Any, ...]]] = [[] for _ in statements]
        failed: list[BaseException] = []

        snapshot = ""

        def run(i: int, conn: Any) -> None:
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    if i:
                        conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    conn.execute(settings)
                    out[i] = conn.execute(statements[i].replace("?", "%s"), values).fetchall()
            except BaseException as exc:  # raised on the caller's thread below
                failed.append(exc)

        try:
            with self.conn.transaction():
                self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                row = self.conn.execute("SELECT pg_export_snapshot()").fetchone()
                snapshot = str(row[0]) if row else ""
                if not _SNAPSHOT_ID.fullmatch(snapshot):  # it is spliced into a statement below
                    raise PoolError(f"the pool database exported an unexpected snapshot id {snapshot!r}",
                                    path=self.where)
                threads = [threading.Thread(target=run, args=(i, conn), daemon=True)
                           for i, conn in enumerate(self._side[:len(statements) - 1], start=1)]
                for t in threads:
                    t.start()
                try:
                    self.conn.execute(settings)
                    out[0] = self.conn.execute(statements[0].replace("?", "%s"), values).fetchall()
                except psycopg.Error as exc:
                    failed.append(exc)
                finally:
                    for t in threads:  # the snapshot lives as long as this transaction
                        t.join()
                if failed:
                    raise failed[0]
        except psycopg.Error as exc:
            failed.append(exc)
        for problem in failed:
            if isinstance(problem, psycopg.Error):
                raise PoolError(f"pool database error: {str(problem).splitlines()[0]}", path=self.where) from None
            raise problem
        return out

    def _fill_refsets(self) -> None:
        """Upgrade-on-open: every candidate's reference set from its stored live claims, in one
        grouped pass (a candidate without any keeps the empty arrays it has)."""
        self.conn.execute("SET LOCAL work_mem = '256MB'")
        self.conn.execute(f"UPDATE pool_refsets r SET {_PG_REFSETS_SET} FROM {_PG_REFSETS_ALL} AS a "
                          "WHERE r.holder = a.holder")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self.conn.execute(sql.replace("?", "%s"), tuple(params))
            return cur.fetchall() if cur.description else []
        except self._psycopg.Error as exc:
            raise PoolError(f"pool database error: {str(exc).splitlines()[0]}", path=self.where) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), list(rows))
        except self._psycopg.Error as exc:
            raise PoolError(f"pool database error: {str(exc).splitlines()[0]}", path=self.where) from None

    def copy(self, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
        """Bulk load (``COPY``): ingest of many candidates at once."""
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)

    def temp_holders(self, holders: Sequence[str]) -> None:
        try:
            if not self._temp:
                self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS pool_q (holder TEXT PRIMARY KEY)")
                self._temp = True
            with self.conn.transaction():
                self.conn.execute("TRUNCATE pool_q")
                self.copy("pool_q", "holder", ((h,) for h in holders))
                # temporary tables are never auto-analysed: without this the planner guesses
                # their size and may scan every partition instead of probing
                self.conn.execute("ANALYZE pool_q")
        except self._psycopg.Error as exc:
            raise PoolError(f"pool database error: {str(exc).splitlines()[0]}", path=self.where) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        self._depth = 1
        try:
            with self.conn.transaction():
                yield
        except self._psycopg.Error as exc:
            raise PoolError(f"pool database error: {str(exc).splitlines()[0]}", path=self.where) from None
        finally:
            self._depth = 0

    def close(self) -> None:
        for side in self._side:
            side.close()
        self.conn.close()


def _clean(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (SQLite could): the same value in both."""
    return None if value is None else value.replace("\x00", "\ufffd")


def ref_id(ref: str) -> int:
    """A reference's 64-bit id (the first 8 bytes of its SHA-256, signed): claims store the id,
    ``pool_refs`` the text; a collision is detected on insert and refused."""
    return int.from_bytes(hashlib.sha256(ref.encode("utf-8")).digest()[:8], "big", signed=True)


def _epoch(iso: str | None) -> int | None:
    return None if iso is None else int(parse_datetime(iso).timestamp())


def _norm_time(value: Any, what: str) -> str | None:
    if value is None:
        return None
    return format_datetime(parse_datetime(value, field=what))


def _status_refs(doc: Mapping[str, Any]) -> tuple[StatusRef, ...]:
    entries = doc.get("credentialStatus")
    out: list[StatusRef] = []
    for e in entries if isinstance(entries, list) else [entries] if entries is not None else []:
        if not isinstance(e, Mapping) or e.get("type") != "BitstringStatusListEntry":
            continue
        url, idx, purpose = e.get("statusListCredential"), e.get("statusListIndex"), e.get("statusPurpose")
        try:
            index = int(str(idx))
            size = int(str(e.get("statusSize", 1)))
        except ValueError:
            continue
        if isinstance(url, str) and isinstance(purpose, str):
            out.append(StatusRef(url.split("#", 1)[0], index, purpose, size))
    return tuple(out)


def record_from(result: VerifiedPresentation, *, consent_until: datetime, region: str | None = None,
                keep_evidence: Mapping[str, Any] | None = None, keep_names: bool = False) -> CandidateRecord:
    """The minimum the pool keeps of a verified presentation: the countable claims of each
    accepted credential and what decides whether they still count (validity, status)."""
    if result.report.kind != "presentation":
        raise InvalidArgument("the pool takes a verified presentation (a holder's signature over a challenge), "
                              "not a bare credential")
    bad = next((c for c in result.report.checks if c.id.startswith("presentation") and not c.ok), None)
    if bad is not None or result.holder is None:
        why = f"{bad.id}: {bad.reason}" if bad else "no authenticated presenter"
        raise InvalidArgument(f"the presentation did not verify ({why})")
    creds: list[CredentialRecord] = []
    name: str | None = None
    for i, vc in enumerate(result.accepted):
        doc = vc.document
        claims = tuple(ClaimRecord(kind=c.kind, ref=c.ref, level=c.level, achievement=c.achievement,
                                   label=c.label, from_diploma=c.from_diploma)
                       for c in vc.claims if c.ref is not None)
        creds.append(CredentialRecord(
            key=vc.id or f"urn:skillcred:pool:credential:{i}", credential_id=vc.id, issuer=vc.issuer,
            issuer_name=vc.issuer_name,
            valid_from=_norm_time(doc.get("validFrom") or doc.get("issuanceDate"), "validFrom"),
            valid_until=_norm_time(doc.get("validUntil") or doc.get("expirationDate"), "validUntil"),
            claims=claims, status=_status_refs(doc)))
        if keep_names and name is None:
            subjects = doc.get("credentialSubject")
            for s in subjects if isinstance(subjects, list) else [subjects]:
                if isinstance(s, Mapping) and s.get("id") == result.holder and isinstance(s.get("name"), str):
                    name = s["name"]
                    break
    return CandidateRecord(holder=result.holder, consent_until=format_datetime(consent_until),
                           credentials=tuple(creds), region=region, name=name,
                           evidence=json.dumps(keep_evidence, ensure_ascii=False) if keep_evidence else None)


@dataclass(frozen=True)
class _ReqRow:
    index: int
    essential: int
    weight: float


#: one requirement -> reference row of a search: (requirement index, reference id, fixed level
#: (a qualification's coverage), whether to use it, the level required)
_RR = tuple[int, int, int | None, int, int | None]
_RR_ROW = ("(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), "
           "CAST(? AS INTEGER))")
_LEVEL = "(CASE WHEN rr.use_fixed = 1 THEN rr.fixed ELSE c.level END)"
#: match's credit of one claim for one requirement (``_grade``): 1 when met, level/required when
#: partly, 0 without a level
_CREDIT = (f"(CASE WHEN rr.need IS NULL THEN 1.0 WHEN {_LEVEL} >= rr.need THEN 1.0 WHEN {_LEVEL} IS NULL "
           f"THEN 0.0 ELSE {_LEVEL} * 1.0 / rr.need END)")
#: the same in double precision, as match computes it (PostgreSQL reads ``1.0`` as NUMERIC, whose
#: arithmetic was a tenth of the reference-set ranking: ~24 credits per candidate, thousands of
#: candidates); the ranking still rounds to 9 places before it compares
_CREDIT_F8 = (_CREDIT.replace("THEN 1.0", "THEN CAST(1 AS DOUBLE PRECISION)")
              .replace("THEN 0.0", "THEN CAST(0 AS DOUBLE PRECISION)")
              .replace("* 1.0 /", "* CAST(1 AS DOUBLE PRECISION) /"))
#: probe a posting list for the surviving holders (instead of reading all of it) once reading
#: it would cost this many times more rows than the probes
_PROBE_FACTOR = 4


def _partial_max(level: int | None) -> float:
    """The most credit a requirement not met can give (``_grade``: level/required, levels are
    whole numbers): none without a required level."""
    return 0.0 if level is None or level <= 1 else (level - 1) / level


def _all_of_shortcut(rr: Sequence[_RR], rq: Sequence[_ReqRow]) -> bool:
    """K of n: whether anyone meeting every essential requirement ranks above everyone who
    misses one -- coverage 1, and anyone missing one stays below 1 (an unmet requirement
    gives at most its partial credit, < 1; also once rounded as ranked). Then, when at least
    ``limit`` holders meet them all, they are the top whatever K is."""
    partial: dict[int, float] = {}
    for row in rr:
        if rq[row[0]].essential:
            partial.setdefault(row[0], _partial_max(row[4]))
    n_ess = len(partial)
    return n_ess > 0 and round((n_ess - 1 + max(partial.values(), default=0.0)) / n_ess, 4) < 1


def _requirement_rows(profile: JobProfile, fw: Framework) -> tuple[list[_RR], list[_ReqRow]]:
    """Each requirement's supporting references, resolved once per search: the references
    whose claims count for it (:meth:`Framework.supporters`, the inverse of match's inference)
    and the qualifications that cover one of them (at the level they cover)."""
    rr: list[_RR] = []
    rq: list[_ReqRow] = []
    for i, req in enumerate(profile.requirements):
        rq.append(_ReqRow(i, int(req.essential), req.weight))
        sup = fw.supporters(req.ref)
        for ref in sorted(sup):
            rr.append((i, ref_id(ref), None, 0, req.level))
        if not req.ref.startswith(QUALIFICATION_PREFIX):
            for code, covers in sorted(fw.qualifications.items()):
                levels = [lv for skill, lv in covers if skill in sup]
                if levels:
                    best = max(levels, key=lambda v: -1 if v is None else v)
                    rr.append((i, ref_id(QUALIFICATION_PREFIX + code), best, 1, req.level))
    return rr, rq


class Pool:
    """A talent pool in SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL)."""

    def __init__(self, db: _Db) -> None:
        self._db = db
        #: where the pool is, for messages (a PostgreSQL URL without its password)
        self.where = db.where
        #: a search fills the connection's one temporary table of candidates: one at a time
        self._search_lock = threading.Lock()
        #: reference id -> its text, as read from ``pool_refs`` for explanations: an id never
        #: changes its text (it is the text's digest, a collision is refused, rows are never
        #: deleted), so what was read once holds for the pool's lifetime, in any process
        self._ref_text: dict[int, str] = {}

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True, partitions: int = DEFAULT_PARTITIONS) -> Pool:
        if is_postgres_target(target):
            return cls(_Postgres(str(target), partitions))
        return cls(_Sqlite(Path(target), create))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding -----------------------------------------------------------------------------------

    def add(self, result: VerifiedPresentation, *, consent_until: datetime | None = None, region: str | None = None,
            keep_evidence: Mapping[str, Any] | None = None, keep_names: bool = False, operator: str | None = None,
            at: datetime | None = None) -> CandidateRecord:
        """Store what a verified presentation showed; replaces that candidate's earlier claims.

        ``consent_until`` defaults to :data:`DEFAULT_CONSENT_DAYS` from now; a consent already
        past is refused (the candidate would be stored only to be invisible)."""
        now = at or utcnow()
        until = consent_until or now + timedelta(days=DEFAULT_CONSENT_DAYS)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if until <= now:
            raise InvalidArgument(f"consent until {format_datetime(until)} is already past")
        record = record_from(result, consent_until=until, region=region, keep_evidence=keep_evidence,
                             keep_names=keep_names)
        self._put([record], at=now, operator=operator)
        return record

    def _put(self, records: Iterable[CandidateRecord], *, at: datetime | None = None,
             operator: str | None = None, replace: bool = True) -> int:
        """Store records (replacing each holder's earlier ones) in one transaction. Records
        must come from verified presentations (:meth:`add`); the benchmark loads synthetic
        ones through here, ``replace=False`` (new holders only: no deletes; ``COPY`` on
        PostgreSQL)."""
        now = format_datetime(at or utcnow())
        cands: list[tuple[Any, ...]] = []
        creds: list[tuple[Any, ...]] = []
        claims: list[tuple[Any, ...]] = []
        refs: dict[int, str] = {}
        status: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        refsets: list[tuple[Any, ...]] = []
        holders: list[str] = []
        for r in records:
            h = _clean(r.holder)
            holders.append(str(h))
            cands.append((h, _clean(r.region), r.consent_until, now, _clean(r.name), _clean(r.evidence)))
            audit.append((h, now, "add", _clean(operator)))
            consent = _epoch(r.consent_until)
            live_claims: list[tuple[int, int | None, int | None, int | None]] = []
            for c in r.credentials:
                k = _clean(c.key)
                creds.append((h, k, _clean(c.credential_id), _clean(c.issuer), _clean(c.issuer_name),
                              c.valid_from, c.valid_until, c.state))
                vf, vu, live = _epoch(c.valid_from), _epoch(c.valid_until), int(c.state == "ok")
                for seq, cl in enumerate(c.claims):
                    ref = str(_clean(cl.ref))
                    rid = ref_id(ref)
                    if refs.setdefault(rid, ref) != ref:
                        raise PoolError(f"reference id collision: {ref} and {refs[rid]}", path=self.where)
                    claims.append((rid, h, k, seq, cl.kind, cl.level, _clean(cl.achievement), _clean(cl.label),
                                   int(cl.from_diploma), live, vf, vu, consent, _clean(r.region)))
                    if live:
                        live_claims.append((rid, cl.level, vf, vu))
                status.extend((h, k, _clean(s.list_url), s.index, s.purpose, s.size, int(s.set), _clean(c.issuer))
                              for s in c.status)
            refsets.append((h, _clean(r.region), consent, _refset_keys((c[0], c[1]) for c in live_claims),
                            *([c[i] for c in live_claims] for i in range(4))))
        ref_rows = sorted(refs.items())
        counts: dict[int, int] = {}
        for row in claims:
            counts[row[0]] = counts.get(row[0], 0) + 1
        if not replace and isinstance(self._db, _Postgres):
            with self._db.transaction():
                db = self._db
                self._add_refs(ref_rows, counts)
                db.copy("pool_candidates", "holder, region, consent_until, added_at, name, evidence", cands)
                db.copy("pool_credentials", "holder, cred_key, credential_id, issuer, issuer_name, valid_from, "
                        "valid_until, state", creds)
                db.copy("pool_claims", _CLAIM_COLUMNS, claims)
                db.copy("pool_status", "holder, cred_key, list_url, idx, purpose, size, is_set, issuer", status)
                db.copy("pool_audit", "holder, at, action, operator", audit)
                db.copy("pool_refsets", _PG_REFSETS_COLUMNS, refsets)
            return len(cands)
        with self._db.transaction():
            if replace:
                self._delete(holders, keep_audit=True)
            self._add_refs(ref_rows, counts)
            self._db.executemany("INSERT INTO pool_candidates (holder, region, consent_until, added_at, name, "
                                 "evidence) VALUES (?, ?, ?, ?, ?, ?)", cands)
            self._db.executemany("INSERT INTO pool_credentials (holder, cred_key, credential_id, issuer, "
                                 "issuer_name, valid_from, valid_until, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                                 "ON CONFLICT DO NOTHING", creds)
            self._db.executemany(f"INSERT INTO pool_claims ({_CLAIM_COLUMNS}) VALUES "
                                 f"({', '.join('?' * 14)})", claims)
            self._db.executemany("INSERT INTO pool_status (holder, cred_key, list_url, idx, purpose, size, is_set, "
                                 "issuer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", status)
            self._db.executemany("INSERT INTO pool_audit (holder, at, action, operator) VALUES (?, ?, ?, ?)", audit)
            if self._db.postgres:
                self._db.executemany(f"INSERT INTO pool_refsets ({_PG_REFSETS_COLUMNS}) VALUES (?, ?, ?, "
                                     "CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS INTEGER[]), "
                                     "CAST(? AS BIGINT[]), CAST(? AS BIGINT[]))", refsets)
        return len(cands)

    def _add_refs(self, rows: Sequence[tuple[int, str]], counts: Mapping[int, int]) -> None:
        """Record the text of each reference id and count its claims (an estimate for search
        planning: removals do not decrement it); a different text under a known id is refused."""
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            self._db.executemany("INSERT INTO pool_refs (id, ref, n) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                                 "SET n = pool_refs.n + excluded.n", [(rid, ref, counts.get(rid, 0))
                                                                      for rid, ref in chunk])
            marks = ", ".join("?" * len(chunk))
            known = dict(self._db.execute(f"SELECT id, ref FROM pool_refs WHERE id IN ({marks})",
                                          [rid for rid, _ in chunk]))
            for rid, ref in chunk:
                if known.get(rid) != ref:
                    raise PoolError(f"reference id collision: {ref} and {known.get(rid)}", path=self.where)

    def _delete(self, holders: Sequence[str], *, keep_audit: bool) -> int:
        gone = 0
        tables = [t for t in _PER_HOLDER if not (keep_audit and t == "pool_audit")]
        if self._db.postgres:
            tables[:0] = [_PG_REFSETS[0], _PG_STALE[0]]
        for i in range(0, len(holders), 500):
            chunk = holders[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for t in tables:
                if t == "pool_candidates":
                    gone += len(self._db.execute(f"SELECT holder FROM {t} WHERE holder IN ({marks})", chunk))
                self._db.execute(f"DELETE FROM {t} WHERE holder IN ({marks})", chunk)
        return gone

    # -- the candidate's rights -------------------------------------------------------------------

    def remove(self, holder: str) -> bool:
        """Erase everything held about ``holder``, audit rows included (they name the holder).
        The search log names no candidate, so nothing of it needs erasing."""
        with self._db.transaction():
            return self._delete([holder], keep_audit=False) > 0

    def export(self, holder: str) -> dict[str, Any] | None:
        """Everything the pool holds about ``holder`` (None: nothing)."""
        rows = self._db.execute("SELECT region, consent_until, added_at, name, evidence FROM pool_candidates "
                                "WHERE holder = ?", (holder,))
        if not rows:
            return None
        region, consent, added, name, evidence = rows[0]
        creds = []
        for key, cid, iss, iname, vf, vu, state in self._db.execute(
                "SELECT cred_key, credential_id, issuer, issuer_name, valid_from, valid_until, state "
                "FROM pool_credentials WHERE holder = ? ORDER BY cred_key", (holder,)):
            claims = [{"kind": k, "ref": r, "level": lv, "achievement": a, "label": lb, "from_diploma": bool(fd)}
                      for k, r, lv, a, lb, fd in self._db.execute(
                          "SELECT c.kind, r.ref, c.level, c.achievement, c.label, c.from_diploma FROM pool_claims c "
                          "JOIN pool_refs r ON r.id = c.ref_id WHERE c.holder = ? AND c.cred_key = ? ORDER BY c.seq",
                          (holder, key))]
            status = [{"list": u, "index": i, "purpose": p, "set": bool(s)} for u, i, p, s in self._db.execute(
                "SELECT list_url, idx, purpose, is_set FROM pool_status WHERE holder = ? AND cred_key = ? "
                "ORDER BY list_url, idx", (holder, key))]
            creds.append({"credential": cid, "issuer": iss, "issuer_name": iname, "valid_from": vf,
                          "valid_until": vu, "state": state, "claims": claims, "status": status})
        audit = [{"at": a, "action": act, "operator": op} for a, act, op in self._db.execute(
            "SELECT at, action, operator FROM pool_audit WHERE holder = ? ORDER BY at", (holder,))]
        return {"holder": holder, "region": region, "consent_until": consent, "added_at": added, "name": name,
                "evidence_kept": evidence is not None, **({"evidence": json.loads(evidence)} if evidence else {}),
                "credentials": creds, "audit": audit,
                "note": "the search log records searches (operator, time, profile, hit count), never who was found"}

    def stats(self, *, at: datetime | None = None) -> dict[str, Any]:
        now = format_datetime(at or utcnow())

        def one(sql: str, params: Sequence[Any] = ()) -> int:
            return int(self._db.execute(sql, params)[0][0] or 0)

        return {
            "candidates": one("SELECT COUNT(*) FROM pool_candidates"),
            "searchable": one("SELECT COUNT(*) FROM pool_candidates WHERE consent_until > ?", (now,)),
            "consent_ended": one("SELECT COUNT(*) FROM pool_candidates WHERE consent_until <= ?", (now,)),
            "credentials": one("SELECT COUNT(*) FROM pool_credentials"),
            "revoked": one("SELECT COUNT(*) FROM pool_credentials WHERE state = 'revoked'"),
            "suspended": one("SELECT COUNT(*) FROM pool_credentials WHERE state = 'suspended'"),
            "expired": one("SELECT COUNT(*) FROM pool_credentials WHERE valid_until IS NOT NULL AND valid_until < ?",
                           (now,)),
            "claims": one("SELECT COUNT(*) FROM pool_claims"),
            "searches": one("SELECT COUNT(*) FROM pool_search_log"),
            "regions": {str(r): int(n) for r, n in self._db.execute(
                "SELECT region, COUNT(*) FROM pool_candidates WHERE region IS NOT NULL GROUP BY region "
                "ORDER BY region")},
        }

    def search_log(self) -> list[dict[str, Any]]:
        return [{"at": a, "operator": o, "profile": p, "profile_digest": d, "params": json.loads(pa), "hits": h}
                for a, o, p, d, pa, h in self._db.execute(
                    "SELECT at, operator, profile, profile_digest, params, hits FROM pool_search_log ORDER BY at")]

    # -- search -----------------------------------------------------------------------------------

    def search(self, profile: JobProfile, *, framework: Framework | None = None, catalog: Catalog | None = None,
               min_essential: int | float | None = None, regions: Sequence[str] = (), limit: int = 50,
               at: datetime | None = None, operator: str | None = None,
               profile_digest: str | None = None) -> list[PoolHit]:
        """Candidates who meet every essential requirement (``min_essential`` None), at least
        K of them (an int), or at least that fraction (a float in (0, 1]), ranked like
        ``rank``: essential coverage, then weighted score, then holder. Each hit is explained
        by its match report; ``catalog`` adds the training plan for its gaps."""
        fw = framework or Framework()
        now = at or utcnow()
        if limit < 1:
            raise InvalidArgument("limit must be at least 1")
        essentials = [r for r in profile.requirements if r.essential]
        need = _needed(min_essential, len(essentials))
        when = int(now.timestamp())
        with self._search_lock:
            selected = self._select(profile, fw, need=need, regions=regions, now=when, limit=limit + _MARGIN)
        hits = self._explain(selected, profile, fw, catalog, when)
        hits = [h for h in hits if sum(r.requirement.essential and r.status == "met"
                                       for r in h.report.requirements) >= need]
        hits.sort(key=lambda h: (-round(h.report.essential_coverage, 4), -round(h.report.score, 4), h.holder))
        hits = hits[:limit]
        digest = profile_digest or hashlib.sha256(repr(profile).encode("utf-8")).hexdigest()
        params = {"min_essential": min_essential, "needed": need, "regions": list(regions), "limit": limit,
                  "at": format_datetime(now)}
        with self._db.transaction():
            self._db.execute("INSERT INTO pool_search_log (at, operator, profile, profile_digest, params, hits) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (format_datetime(utcnow()), _clean(operator),
                                                           _clean(profile.title), digest,
                                                           json.dumps(params, sort_keys=True), len(hits)))
        return hits

    def _select(self, profile: JobProfile, fw: Framework, *, need: int, regions: Sequence[str], now: int,
                limit: int) -> list[str]:
        """The top candidates by the SQL form of match's scoring (credit per requirement: 1 when
        met, level/required when partly, 0 otherwise; the best claim per requirement), best
        first, ranked in the database (only ``limit`` holders come back).

        Two steps, so a search reads little more than the claims that decide it:

        1. *which candidates qualify* (``need`` > 0): each essential requirement's posting list
           (the holders with a counting claim that meets it, one index range per supporting
           reference) -- all essentials: intersected rarest first, the later lists only probed
           for the survivors once few are left; K of them: counted per holder;
        2. *their ranking*: every requirement's credit for the qualifying holders only (kept in
           a temporary table the ranking query semi-joins), summed and ordered in SQL.
        """
        rr, rq = _requirement_rows(profile, fw)
        if not rr:
            return []
        n_ess = sum(r.essential for r in rq)
        region_sql = f" AND c.region IN ({', '.join('?' * len(regions))})" if regions else ""
        live = ("c.live = 1 AND (c.valid_until IS NULL OR c.valid_until >= ?) "
                "AND (c.valid_from IS NULL OR c.valid_from <= ?) AND c.consent_until > ?" + region_sql)
        live_params: list[Any] = [now, now, now, *regions]
        if need > 0 and self._db.postgres and (need == n_ess or _all_of_shortcut(rr, rq)):
            # the GIN index of the reference sets: a superset of the holders meeting every
            # essential, ranked exactly (the ranking query checks each claim and counts)
            prefilter = self._refsets_prefilter(rr, rq, regions=regions, now=now)
            top: list[str] = []
            if prefilter is not None:
                # ranked from those rows' claim arrays (live claims only; the consent and the
                # region were the prefilter's): only the validity dates are left to check
                top = self._rank(rr, rq, live="(c.valid_until IS NULL OR c.valid_until >= ?) "
                                 "AND (c.valid_from IS NULL OR c.valid_from <= ?)", live_params=[now, now],
                                 restrict=False, need=n_ess, limit=limit, refsets=prefilter)
            # K of n: when at least ``limit`` holders meet every essential, they are the top
            # (see _qualifying's shortcut); otherwise count as below
            if need == n_ess or len(top) >= limit:
                return top
        restrict = False
        if need > 0:
            qualifying = self._qualifying(rr, rq, need=need, all_of=need == n_ess, live=live, live_params=live_params,
                                          limit=limit)
            if not qualifying:
                return []
            self._fill_candidates(qualifying)
            restrict = True
        return self._rank(rr, rq, live=live, live_params=live_params, restrict=restrict, need=need, limit=limit)

    def _refsets_prefilter(self, rr: Sequence[_RR], rq: Sequence[_ReqRow], *, regions: Sequence[str],
                           now: int) -> tuple[str, list[Any]] | None:
        """PostgreSQL: the condition (SQL, parameters) on ``pool_refsets`` that keeps the holders
        whose reference set holds, for every essential requirement, a key of a claim that
        would meet it (one GIN index scan, each ``&&`` a scan key), searchable by consent and
        in the regions; None when an essential can never be met. The keys of a requirement:
        a supporting reference "at level >= required" (:func:`_level_key`), the plain
        reference without a required level, a qualification when it covers the level. A
        superset of those meeting every essential: only the validity dates are left.

        The conditions come rarest first: the GIN scan takes its scan keys in the order
        written, the first proposing the candidates the others then skip to, so a common
        first key makes every other list be read further (at a million candidates, the 22
        essentials' keys commonest first: 94-102 ms; rarest first: 77-86 ms). The size of a key
        is estimated from the claim counts of its references (``pool_refs``), a level key's
        as that count over the level (it holds the claims at that level or above)."""
        by_req: dict[int, set[int]] = {r.index: set() for r in rq if r.essential}
        base: list[tuple[int, int, int]] = []  # (requirement, reference, divisor of its claim count)
        for req, rid, fixed, use_fixed, need in rr:
            if req not in by_req:
                continue
            if use_fixed:
                if need is None or (fixed is not None and fixed >= need):
                    by_req[req].add(rid)
                    base.append((req, rid, 1))
            elif need is None or need < 1:
                by_req[req].add(rid)
                base.append((req, rid, 1))
            else:
                by_req[req].add(_level_key(rid, need))
                base.append((req, rid, min(need, _REFSET_LEVELS)))
        if not all(by_req.values()):
            return None  # an essential nothing could ever meet
        sizes = self._posting_sizes(sorted({rid for _, rid, _ in base}))
        estimate: dict[int, float] = dict.fromkeys(by_req, 0.0)
        for req, rid, divisor in base:
            estimate[req] += sizes.get(rid, 0) / divisor
        order = sorted(by_req, key=lambda i: (estimate[i], i))
        region_sql = f" AND region IN ({', '.join('?' * len(regions))})" if regions else ""
        overlaps = "".join(" AND refs && CAST(? AS BIGINT[])" for _ in by_req)
        return (f"consent_until > ?{region_sql}{overlaps}",
                [now, *regions, *(sorted(by_req[i]) for i in order)])

    def _rank(self, rr: Sequence[_RR], rq: Sequence[_ReqRow], *, live: str, live_params: Sequence[Any],
              restrict: bool, need: int, limit: int, refsets: tuple[str, list[Any]] | None = None) -> list[str]:
        """The ranking query: each requirement's credit by match's formula for the holders
        with claims (only those in ``pool_q`` when ``restrict``; with ``refsets``, a condition
        on ``pool_refsets`` (:meth:`_refsets_prefilter`), the claims of the rows it keeps, read
        from their arrays), those meeting ``need`` essentials, best first, the first ``limit``."""
        restrict_sql = " AND c.holder IN (SELECT holder FROM pool_q)" if restrict else ""
        source = "rr CROSS JOIN pool_claims c WHERE c.ref_id = rr.ref_id AND "
        sets_sql, sets_params = "", []
        if refsets is not None:
            # the rows the GIN index keeps, each unnested into its claims and matched to the
            # requirements' references by hash: no claims table, no index probe per claim
            # (a stale row -- pool_stale names its holder -- may still hold claims a refresh
            # took away: that holder's live claims are read from pool_claims, by holder)
            sets_sql = (f"s AS (SELECT r.holder, r.c_ref, r.c_lv, r.c_vf, r.c_vu, x.holder IS NOT NULL AS stale "
                        f"FROM pool_refsets r LEFT JOIN pool_stale x ON x.holder = r.holder WHERE {refsets[0]}), ")
            sets_params = refsets[1]
            # the arrays unnested in the select list (zipped, as unnest(a, b, ...) would): a
            # streaming ProjectSet node, where unnest in FROM is a function scan that first
            # copies each row's claims into a tuplestore of its own -- a third of the per-row
            # scoring at a million candidates (2,548 rows, 23 vs 33 µs each, same results)
            source = ("(SELECT unnest(s.c_ref) AS ref_id, unnest(s.c_lv) AS level, unnest(s.c_vf) AS valid_from, "
                      "unnest(s.c_vu) AS valid_until WHERE NOT s.stale "
                      "UNION ALL SELECT k.ref_id, k.level, k.valid_from, k.valid_until "
                      "FROM pool_claims k WHERE s.stale AND k.holder = s.holder AND k.live = 1) c "
                      "JOIN rr ON rr.ref_id = c.ref_id WHERE ")
        if restrict and self._db.postgres:
            # few holders, many claims per reference: read each holder's claims (the holder
            # index, one partition each) and match them to the references by hash, instead
            # of reading every reference's posting list and keeping the holders' rows
            # (OFFSET 0 keeps the planner from flattening the per-holder subquery)
            source = ("pool_q q CROSS JOIN LATERAL (SELECT * FROM pool_claims c WHERE c.holder = q.holder "
                      "OFFSET 0) c JOIN rr ON rr.ref_id = c.ref_id WHERE ")
            restrict_sql = ""
        rows_sql = ", ".join([_RR_ROW] * len(rr))
        rq_sql = ", ".join(["(CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS DOUBLE PRECISION))"] * len(rq))
        # ROUND over NUMERIC: both databases round the same way, so ties break by holder in both
        collate = ' COLLATE "C"' if self._db.postgres else ""  # code-point order, as Python sorts
        rq_cte = f"rq(req, essential, weight) AS (VALUES {rq_sql})"
        ess, weight, join = "rq.essential", "rq.weight", "per JOIN rq ON rq.req = per.req"
        rq_params: list[Any] = [x for r in rq for x in (r.index, r.essential, r.weight)]
        if refsets is not None:
            # each requirement's essential flag and weight by subscript (one row of two
            # arrays), not a join: the planner guesses a handful of (holder, requirement)
            # rows where there are tens of thousands and would join them in a nested loop
            rq_cte = "rq(essential, weight) AS (SELECT CAST(? AS INTEGER[]), CAST(? AS DOUBLE PRECISION[]))"
            ess, weight, join = "rq.essential[per.req + 1]", "rq.weight[per.req + 1]", "per CROSS JOIN rq"
            rq_params = [[r.essential for r in rq], [r.weight for r in rq]]
        if refsets is not None:
            # each kept row scored on its own (a LATERAL aggregate over its own claims, the
            # requirement rows hashed once for all of them), not grouped by (holder,
            # requirement) and then by holder across all the rows: those two hash aggregates
            # over tens of thousands of text-keyed groups were about half of the statement at
            # a million candidates (the holder is pool_refsets' key: one row, one score)
            # the requirement rows as five aligned arrays, not a VALUES list of five parameters
            # each (~70 rows): a statement a third as long to send, parse and plan, and one the
            # driver's cache of converted queries keeps; the planner counts the arrays' elements
            sql = ("WITH rr(req, ref_id, fixed, use_fixed, need) AS (SELECT * FROM unnest(CAST(? AS INTEGER[]), "
                   "CAST(? AS BIGINT[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]))), "
                   f"{rq_cte}, {sets_sql}"
                   "t AS (SELECT s.holder, a.ess_sum, a.w_sum, a.met_n FROM s CROSS JOIN rq CROSS JOIN LATERAL "
                   f"(SELECT SUM(per.credit * {ess}) AS ess_sum, SUM(per.credit * {weight}) AS w_sum, "
                   f"SUM(CASE WHEN {ess} = 1 AND per.credit >= 1 THEN 1 ELSE 0 END) AS met_n "
                   f"FROM (SELECT rr.req AS req, MAX({_CREDIT_F8}) AS credit FROM {source}{live} "
                   "GROUP BY rr.req) per) a) "
                   "SELECT holder, ROUND(CAST(ess_sum AS NUMERIC), 9), ROUND(CAST(w_sum AS NUMERIC), 9) "
                   "FROM t WHERE met_n >= ? "
                   "ORDER BY ROUND(CAST(ess_sum AS NUMERIC), 9) DESC, ROUND(CAST(w_sum AS NUMERIC), 9) DESC, "
                   f"holder{collate} LIMIT ?")
        else:
            sql = (f"WITH rr(req, ref_id, fixed, use_fixed, need) AS (VALUES {rows_sql}), {rq_cte}, {sets_sql}"
                   f"per AS (SELECT c.holder AS holder, rr.req AS req, MAX({_CREDIT}) AS credit "
                   f"FROM {source}{live}{restrict_sql} "
                   "GROUP BY c.holder, rr.req) "
                   f"SELECT per.holder, SUM(per.credit * {ess}) AS ess_sum, SUM(per.credit * {weight}) AS w_sum, "
                   f"SUM(CASE WHEN {ess} = 1 AND per.credit >= 1 THEN 1 ELSE 0 END) AS met_n "
                   f"FROM {join} GROUP BY per.holder "
                   f"HAVING SUM(CASE WHEN {ess} = 1 AND per.credit >= 1 THEN 1 ELSE 0 END) >= ? "
                   f"ORDER BY ROUND(CAST(SUM(per.credit * {ess}) AS NUMERIC), 9) DESC, "
                   f"ROUND(CAST(SUM(per.credit * {weight}) AS NUMERIC), 9) DESC, "
                   f"per.holder{collate} LIMIT ?")
        params: list[Any] = ([[row[j] for row in rr] for j in range(5)] if refsets is not None
                             else [x for row in rr for x in row])
        params += [*rq_params, *sets_params, *live_params, need, limit]
        if restrict and self._db.postgres:
            with self._db.transaction():
                # the per-holder scan stays a nested loop (LATERAL); joining the requirement
                # rows to the (holder, requirement) credits by hash, not 50 passes per row
                self._db.execute("SET LOCAL enable_nestloop = off")
                return [str(row[0]) for row in self._db.execute(sql, params)]
        if refsets is not None and isinstance(self._db, _Postgres):
            # group each candidate's credits by hash, not by a sort per candidate (a tenth of
            # the statement at a million candidates); and plan every run for its own values:
            # once psycopg prepares a statement it has run five times, the server soon
            # switches to a generic plan, which ran it 70 ms slower at a million
            settings = ("SELECT set_config('enable_sort', 'off', true), "
                        "set_config('plan_cache_mode', 'force_custom_plan', true)")
            # the partitions dealt out over _SEARCH_CONNECTIONS connections, each ranking its
            # share in the same statement (its own top ``limit``: a candidate's row is in one
            # partition), merged by the statement's own order -- the rounded sums, then the
            # holder in code-point order, which COLLATE "C" is for UTF-8 -- so the first
            # ``limit`` are the statement's over all partitions. All read one snapshot (fan_out).
            parts = self._db.partitions("pool_refsets")
            n = min(_SEARCH_CONNECTIONS, len(parts))
            statements = [sql]
            if n > 1:
                assert sql.count(" FROM pool_refsets r ") == 1
                statements = [sql.replace(" FROM pool_refsets r ", " FROM (" + " UNION ALL ".join(
                    f"SELECT * FROM {name}" for name in parts[i::n]) + ") r ") for i in range(n)]
            ranked = [row for rows in self._db.fan_out(statements, params, settings) for row in rows]
            ranked.sort(key=lambda row: (-row[1], -row[2], str(row[0])))
            return [str(row[0]) for row in ranked[:limit]]
        return [str(row[0]) for row in self._db.execute(sql, params)]

    def _qualifying(self, rr: Sequence[_RR], rq: Sequence[_ReqRow], *, need: int, all_of: bool, live: str,
                    live_params: Sequence[Any], limit: int) -> set[str]:
        """The holders who meet at least ``need`` essential requirements (all of them when
        ``all_of``), from the essential requirements' posting lists; of those, only the ones
        whose essential coverage can still reach the ``limit``-th best (the others cannot
        rank in the top ``limit`` whatever their other claims)."""
        by_req: dict[int, list[_RR]] = {}
        for row in rr:
            if rq[row[0]].essential:
                by_req.setdefault(row[0], []).append(row)
        sizes = self._posting_sizes(sorted({row[1] for rows in by_req.values() for row in rows}))
        order = sorted(by_req, key=lambda i: (sum(sizes.get(row[1], 0) for row in by_req[i]), i))
        meets = f"(rr.need IS NULL OR {_LEVEL} >= rr.need)"

        def posting(rows: Sequence[_RR], probe: bool) -> set[str]:
            sql = (f"WITH rr(req, ref_id, fixed, use_fixed, need) AS (VALUES {', '.join([_RR_ROW] * len(rows))}) "
                   f"SELECT c.holder FROM rr CROSS JOIN pool_claims c WHERE c.ref_id = rr.ref_id AND {live} "
                   f"AND {meets}" + (" AND c.holder IN (SELECT holder FROM pool_q)" if probe else ""))
            return {h for (h,) in self._db.execute(sql, [*(x for row in rows for x in row), *live_params])}

        partial_max = {i: _partial_max(by_req[i][0][4]) for i in order}
        # K of n: when at least ``limit`` holders meet every essential requirement, they are
        # the top whatever K is -- coverage 1, and anyone missing one stays below 1 (an unmet
        # requirement gives at most its partial credit, < 1; also once rounded as ranked)
        shortcut = not all_of and _all_of_shortcut(rr, rq)
        if all_of or shortcut:
            found: set[str] | None = None
            for i in order:
                if found is not None and len(found) * len(by_req[i]) * _PROBE_FACTOR < sum(
                        sizes.get(row[1], 0) for row in by_req[i]):
                    self._fill_candidates(found)
                    found &= posting(by_req[i], probe=True)
                else:
                    got = posting(by_req[i], probe=False)
                    found = got if found is None else found & got
                if not found:
                    break
            if all_of:
                return found or set()
            if found is not None and len(found) >= limit:
                return found
        # K of them: count per holder; and, so that only holders who can reach the top are
        # ranked, what each can score at most -- met requirements give 1, an unmet one at most
        # its best partial credit ((level-1)/level, only where a level is required)
        counts: Counter[str] = Counter()
        slack: Counter[str] = Counter()
        for i in order:
            got = posting(by_req[i], probe=False)
            counts.update(got)
            if partial_max[i]:
                slack.update(dict.fromkeys(got, partial_max[i]))
        qualifying = {h: n for h, n in counts.items() if n >= need}
        if len(qualifying) <= limit:
            return set(qualifying)
        total_partial = sum(partial_max.values())
        floor = sorted(qualifying.values(), reverse=True)[limit - 1]  # at least `limit` holders reach it
        return {h for h, n in qualifying.items() if n + total_partial - slack[h] >= floor - 1e-9}

    def _posting_sizes(self, ids: Sequence[int]) -> dict[int, int]:
        """Claims per reference id (kept on insert; an estimate, removals do not decrement
        it): it only orders the posting lists and picks scan or probe."""
        counts: dict[int, int] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            counts.update((int(a), int(b)) for a, b in self._db.execute(
                f"SELECT id, n FROM pool_refs WHERE id IN ({', '.join('?' * len(chunk))})", chunk))
        return counts

    def _ref_texts(self, ids: Iterable[int]) -> dict[int, str]:
        """The text of each reference id (from the memo; the ones not yet in it read from
        ``pool_refs``, 500 at a time)."""
        memo = self._ref_text
        missing = sorted(i for i in ids if i not in memo)
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            memo.update((int(a), str(b)) for a, b in self._db.execute(
                f"SELECT id, ref FROM pool_refs WHERE id IN ({', '.join('?' * len(chunk))})", chunk))
        return memo

    def _fill_candidates(self, holders: Iterable[str]) -> None:
        """The session's temporary table of candidate holders (one per connection, emptied and
        refilled per step: never shared, never persisted)."""
        self._db.temp_holders(sorted(holders))

    def _explain(self, selected: Sequence[str], profile: JobProfile, fw: Framework,
                 catalog: Catalog | None, now: int) -> list[PoolHit]:
        """Grade the selected candidates' counting claims with match's own grading."""
        if not selected:
            return []
        # the selected holders: an IN list on SQLite; on PostgreSQL an array joined by holder,
        # so each holder probes its own partition (an IN list goes whole to all of them)
        if self._db.postgres:
            keys: list[Any] = [list(selected)]

            def of(table: str, alias: str) -> str:
                return f"unnest(CAST(? AS TEXT[])) AS v(holder) JOIN {table} {alias} ON {alias}.holder = v.holder"
            where = "TRUE"
        else:
            keys = list(selected)
            marks = ", ".join("?" * len(selected))

            def of(table: str, alias: str) -> str:
                return f"{table} {alias}"
            where = f"{{a}}.holder IN ({marks})"
        # each candidate's region and credentials in one statement (one round trip and one plan
        # fewer per search; a candidate without credentials keeps its row through the LEFT JOIN)
        region_of: dict[str, str | None] = {}
        creds: dict[tuple[str, str], tuple[Any, str, str]] = {}
        for h, region, k, cid, iss, iname in self._db.execute(
                "SELECT p.holder, p.region, t.cred_key, t.credential_id, t.issuer, t.issuer_name "
                f"FROM {of('pool_candidates', 'p')} LEFT JOIN pool_credentials t ON t.holder = p.holder "
                f"WHERE {where.format(a='p')}", keys):
            region_of[str(h)] = region
            if k is not None:
                creds[(str(h), str(k))] = (cid, str(iss), str(iname))
        # the claims unordered and with their reference ids: sorted here (holder, credential,
        # then the claim's place in it, as grading needs them) and the ids named from the
        # pool's memo -- the database's sort and its join of every reference were a third of
        # this statement at a million candidates
        rows = sorted(self._db.execute(
            "SELECT c.holder, c.cred_key, c.seq, c.kind, c.ref_id, c.level, c.achievement, c.label, c.from_diploma "
            f"FROM {of('pool_claims', 'c')} WHERE {where.format(a='c')} "
            "AND c.live = 1 AND (c.valid_until IS NULL OR c.valid_until >= ?) "
            "AND (c.valid_from IS NULL OR c.valid_from <= ?) AND c.consent_until > ?", [*keys, now, now, now]),
            key=lambda r: (str(r[0]), str(r[1]), int(r[2])))
        text = self._ref_texts({int(r[4]) for r in rows})
        claims: dict[tuple[str, str], list[Claim]] = {}
        for h, k, _seq, kind, rid, level, ach, label, fd in rows:
            ref = text.get(int(rid))
            if ref is not None:  # (every stored id has its text; as the join this replaces, skip one that had not)
                claims.setdefault((str(h), str(k)), []).append(Claim(
                    kind=kind, ref=ref, level=level, subject=None, subject_index=0, achievement=ach,
                    achievement_type=None, label=label, from_diploma=bool(fd)))
        by_holder: dict[str, list[tuple[str, list[Claim]]]] = {}
        for (h, k), cl in claims.items():  # in the sorted order of the rows
            by_holder.setdefault(h, []).append((k, cl))
        out = []
        for holder in selected:
            evidence = []
            for k, cl in by_holder.get(holder, []):
                cid, iss, iname = creds[(holder, k)]
                evidence.extend(claims_evidence(cl, credential=cid, issuer=iss, issuer_name=iname, framework=fw))
            report = match_evidence(profile, evidence, framework=fw, catalog=catalog, candidate=holder,
                                    prefilter=True)
            out.append(PoolHit(holder, region_of.get(holder), report))
        return out

    # -- status and dates -------------------------------------------------------------------------

    def refresh(self, verifier: Verifier, *, lists: Iterable[str] | None = None, at: datetime | None = None,
                erase_ended_consent: bool = True) -> RefreshReport:
        """Apply the status lists ``verifier`` holds to every stored reference to them, in one
        pass per list (the index on list and position), judged by the verifier's own rules
        (the list's proof and issuer must check out; a stale list changes nothing and is
        reported). Then count what dates ended, and erase candidates whose consent ended."""
        now = at or utcnow()
        report = RefreshReport()
        urls = sorted(set(lists) if lists is not None else {str(r[0]) for r in self._db.execute(
            "SELECT DISTINCT list_url FROM pool_status")})
        for url in urls:
            if self._db.postgres:
                self._refresh_list_pg(verifier, url, now, report)
                continue
            # one index range (list, position); the issuer is kept beside each reference
            rows = self._db.execute("SELECT holder, cred_key, idx, purpose, size, is_set, issuer FROM pool_status "
                                    "WHERE list_url = ?", (url,))
            updates = self._judge(verifier, url, rows, now, report)
            if updates:
                updates.sort(key=lambda u: (u[3], u[4]))  # the index's order: list, position
                with self._db.transaction():
                    self._db.executemany("UPDATE pool_status SET is_set = ? WHERE list_url = ? AND idx = ? "
                                         "AND holder = ? AND cred_key = ?",
                                         [(u[0], u[3], u[4], u[1], u[2]) for u in updates])
                    self._restate({(u[1], u[2]) for u in updates},
                                  revoked={(u[1], u[2]) for u in updates if u[0] and u[5] == "revocation"})
        when = format_datetime(now)
        report.expired_credentials = int(self._db.execute(
            "SELECT COUNT(*) FROM pool_credentials WHERE valid_until IS NOT NULL AND valid_until < ?", (when,))[0][0])
        if erase_ended_consent:
            ended = [str(r[0]) for r in self._db.execute(
                "SELECT holder FROM pool_candidates WHERE consent_until <= ?", (when,))]
            if ended:
                with self._db.transaction():
                    report.consent_ended = self._delete(ended, keep_audit=False)
        return report

    @staticmethod
    def _judge(verifier: Verifier, url: str, rows: Sequence[tuple[Any, ...]], now: datetime,
               report: RefreshReport) -> list[tuple[int, str, str, str, int, str]]:
        """Judge stored references ``(holder, cred_key, idx, purpose, size, is_set, issuer)``
        of one list with the verifier (one run for them all: its proof and dates judged once,
        its bitstring expanded once; then each reference is one bit read), counting them and
        reporting changes and unknowns; the changed ones as ``(now_set, holder, cred_key,
        list, idx, purpose)``."""
        verdicts = verifier.status_entries(
            (({"type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": str(idx),
               "statusListCredential": url, **({"statusSize": size} if size != 1 else {})}, issuer)
             for _h, _k, idx, purpose, size, _s, issuer in rows), at=now)
        updates: list[tuple[int, str, str, str, int, str]] = []
        for (holder, key, idx, purpose, _size, is_set, _iss), (status, reason, code) in zip(rows, verdicts,
                                                                                           strict=True):
            report.checked += 1
            if status == "indeterminate" or (status == "failed" and code not in ("revoked", "suspended")):
                if code != "status_unavailable":
                    report.unknown.append({"list": url, "index": idx, "reason": reason, "code": code})
                continue
            now_set = 1 if status == "failed" else 0
            if now_set != is_set:
                updates.append((now_set, holder, key, url, idx, purpose))
                report.changed.append({"holder": holder, "credential": key, "list": url, "index": idx,
                                       "purpose": purpose, "now": code if now_set else f"not {purpose}"})
        return updates

    def _refresh_list_pg(self, verifier: Verifier, url: str, now: datetime, report: RefreshReport) -> None:
        """:meth:`refresh` of one list on PostgreSQL, the comparison done in the database.
        The (purpose, issuer) of one stored reference names the list's usual group; when the
        verifier's copy of the list may decide that group (:meth:`Verifier.status_list_bits`:
        proof, issuer, purpose, dates judged as for the first entry), one scan sends the
        list's bitstring and returns only the group's references whose stored bit differs
        from it (``get_bit``) and every reference outside the group -- nothing of the other
        millions leaves the server. Those outside (another purpose or issuer, a multi-bit
        entry, an index outside the list) and all of a list that may not decide are judged
        one by one as on SQLite: the same outcomes. The count of references checked is an
        index-only count."""
        first = self._db.execute("SELECT purpose, size, issuer FROM pool_status WHERE list_url = ? LIMIT 1", (url,))
        if not first:
            return
        purpose, size, issuer = first[0]
        bits = (verifier.status_list_bits(url, str(purpose), issuer, at=now)
                if size == 1 and purpose in ("revocation", "suspension") else None)
        updates: list[tuple[int, str, str, str, int, str]] = []  # to write by (list, position)
        restated: list[tuple[int, str, str, str, int, str]] = []  # written already: only restated
        with self._db.transaction():
            if bits is None:
                rows = self._db.execute("SELECT holder, cred_key, idx, purpose, size, is_set, issuer FROM pool_status "
                                        "WHERE list_url = ?", (url,))
                updates.extend(self._judge(verifier, url, rows, now, report))
            else:
                lst = bits[0]
                group = "purpose = ? AND size = 1 AND issuer IS NOT DISTINCT FROM ? AND idx >= 0 AND idx < ?"
                # the bit of index i: byte i / 8, counted from its most significant bit
                # (get_bit counts from the least significant). One pass counts the list's
                # references (an index-only count before it: 0.4-1.4 s at a million) and
                # gathers the differing ones, each with its partition and place (tableoid,
                # ctid): the changed bits are then written where the scan just read them. The
                # subquery (kept apart by OFFSET 0) works out "differs" once per row; the rest
                # (the group test, the partition's name) only for the few rows gathered
                cols = ("holder", "cred_key", "idx", "purpose", "size", "is_set", "issuer", f"({group})",
                        "CAST(CAST(toid AS REGCLASS) AS TEXT)", "CAST(tid AS TEXT)")
                (total, *arrays), = self._db.execute(
                    "SELECT COUNT(*), " + ", ".join(f"array_agg({c}) FILTER (WHERE differs)" for c in cols)
                    + " FROM (SELECT holder, cred_key, idx, purpose, size, is_set, issuer, tableoid AS toid, "
                    f"ctid AS tid, NOT ({group} AND is_set = get_bit(CAST(? AS BYTEA), (idx / 8) * 8 + 7 - "
                    "mod(idx, 8))) AS differs FROM pool_status WHERE list_url = ? OFFSET 0) AS x",
                    [purpose, issuer, lst.size, purpose, issuer, lst.size, lst.to_bytes(), url])
                total = int(total)
                rows = list(zip(*(a or [] for a in arrays), strict=True))
                decided = sorted((r for r in rows if r[7]), key=lambda r: (int(r[2]), str(r[0]), str(r[1])))
                others = [r[:7] for r in rows if not r[7]]
                report.checked += total - len(others)
                word = {"revocation": "revoked", "suspension": "suspended"}[str(purpose)]
                placed: dict[str, list[tuple[str, int, int, str, str]]] = {}
                for holder, key, idx, _p, _size, is_set, _iss, _d, part, ctid in decided:
                    now_set = 1 - int(is_set)
                    report.changed.append({"holder": holder, "credential": key, "list": url, "index": idx,
                                           "purpose": purpose, "now": word if now_set else f"not {purpose}"})
                    placed.setdefault(str(part), []).append((str(ctid), now_set, int(idx), str(holder), str(key)))
                    restated.append((now_set, str(holder), str(key), url, int(idx), str(purpose)))
                if placed:
                    for knob in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
                        self._db.execute(f"SET LOCAL {knob} = off")  # as below: probe, row by row
                    updates.extend(self._write_bits_in_place(url, placed))
                # outside the group: judged in full (the verifier says what each is)
                updates.extend(self._judge(verifier, url, others, now, report))
            if updates or restated:
                # a few changed rows in big tables: probe the indexes (nested loops, partition
                # by partition) -- the planner guesses an array's length at 100 and, on a small
                # pool, scans every partition and hashes instead, which grows with the pool
                for knob in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
                    self._db.execute(f"SET LOCAL {knob} = off")
                # one set-based statement by (list, position), not a round trip each
                updates.sort(key=lambda u: (u[3], u[4]))
                if updates:
                    self._db.execute(
                        "UPDATE pool_status s SET is_set = v.now_set FROM unnest(CAST(? AS INTEGER[]), "
                        "CAST(? AS INTEGER[]), CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS v(idx, now_set, holder, "
                        "cred_key) WHERE s.list_url = ? AND s.idx = v.idx AND s.holder = v.holder "
                        "AND s.cred_key = v.cred_key",
                        [[u[4] for u in updates], [u[0] for u in updates], [u[1] for u in updates],
                         [u[2] for u in updates], url])
                every = [*restated, *updates]
                self._restate({(u[1], u[2]) for u in every},
                              revoked={(u[1], u[2]) for u in every if u[0] and u[5] == "revocation"})

    def _write_bits_in_place(self, url: str, placed: Mapping[str, Sequence[tuple[str, int, int, str, str]]]
                             ) -> list[tuple[int, str, str, str, int, str]]:
        """Write changed bits at the places the comparison scan read them (``placed``: per
        partition, ``(ctid, now_set, idx, holder, cred_key)``): a TID scan per row, no index
        probe in each of the partitions (the probes were 1.7-2.7 s of a refresh at a million
        candidates). Each row is still matched on its key; one that moved since the scan (a
        concurrent change) is returned, to be written by key."""
        left: list[tuple[int, str, str, str, int, str]] = []
        for part, items in sorted(placed.items()):
            if not re.fullmatch(r"[A-Za-z0-9_]+", part):  # the server's own partition names
                left.extend((n, h, k, url, i, "") for _t, n, i, h, k in items)
                continue
            done = {(str(h), str(k), int(i)) for h, k, i in self._db.execute(
                f"UPDATE {part} s SET is_set = v.now_set FROM unnest(CAST(? AS TID[]), CAST(? AS INTEGER[]), "
                "CAST(? AS INTEGER[]), CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS v(t, now_set, idx, holder, "
                "cred_key) WHERE s.ctid = v.t AND s.list_url = ? AND s.idx = v.idx AND s.holder = v.holder "
                "AND s.cred_key = v.cred_key RETURNING s.holder, s.cred_key, s.idx",
                [[t for t, *_ in items], [n for _t, n, *_ in items], [i for _t, _n, i, _h, _k in items],
                 [h for *_, h, _k in items], [k for *_, k in items], url])}
            left.extend((n, h, k, url, i, "") for _t, n, i, h, k in items if (h, k, i) not in done)
        return left

    def _restate(self, keys: set[tuple[str, str]], *, revoked: set[tuple[str, str]] | None = None) -> None:
        """A credential's state from its status references: revoked wins over suspended. A
        credential in ``revoked`` (a revocation bit of it was just set) is revoked whatever
        else is set, so only the others' set references are read (one query per 500 holders;
        the common refresh, revocations only, reads none)."""
        revoked = revoked or set()
        purposes: dict[tuple[str, str], set[str]] = {k: ({"revocation"} if k in revoked else set()) for k in keys}
        holders = sorted({h for h, k in keys if (h, k) not in revoked})
        if self._db.postgres:
            self._restate_pg(purposes, [k for k in sorted(keys) if k not in revoked])
            return
        for i in range(0, len(holders), 500):
            chunk = holders[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for h, k, p in self._db.execute("SELECT holder, cred_key, purpose FROM pool_status "
                                            f"WHERE holder IN ({marks}) AND is_set = 1", chunk):
                if (h, k) in purposes:
                    purposes[(h, k)].add(str(p))
        rows: list[tuple[str, str, str]] = []
        for (holder, key), set_purposes in sorted(purposes.items()):
            state = ("revoked" if "revocation" in set_purposes else "suspended" if "suspension" in set_purposes
                     else "ok")
            rows.append((state, holder, key))
        self._db.executemany("UPDATE pool_credentials SET state = ? WHERE holder = ? AND cred_key = ?", rows)
        self._db.executemany("UPDATE pool_claims SET live = ? WHERE holder = ? AND cred_key = ?",
                             [(int(state == "ok"), h, k) for state, h, k in rows])

    def _restate_pg(self, purposes: dict[tuple[str, str], set[str]], unknown: Sequence[tuple[str, str]]) -> None:
        """:meth:`_restate` on PostgreSQL, set-based: the set references of the credentials
        whose state is not known yet (``unknown``), then the credentials' states, their
        claims' ``live`` and the reference sets: a candidate with a credential that counts again
        gets its set rebuilt from its live claims; one whose credentials only stopped counting
        keeps its set (a superset) and is named in ``pool_stale`` (one narrow row, no GIN
        write). Every statement joins
        ``unnest`` arrays of keys to the tables, so each key probes only its own partition
        (an ``= ANY(array)`` is sent whole to every partition: 16 probes per key)."""
        if unknown:
            for h, k, p in self._db.execute(
                    "SELECT s.holder, s.cred_key, s.purpose FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) "
                    "AS v(holder, cred_key) JOIN pool_status s ON s.holder = v.holder AND s.cred_key = v.cred_key "
                    "WHERE s.is_set = 1", [[h for h, _ in unknown], [k for _, k in unknown]]):
                if (h, k) in purposes:
                    purposes[(h, k)].add(str(p))
        keys = sorted(purposes)
        states = ["revoked" if "revocation" in purposes[key] else "suspended" if "suspension" in purposes[key]
                  else "ok" for key in keys]
        arrays = [[h for h, _ in keys], [k for _, k in keys], states]
        changed = self._db.execute(
            "UPDATE pool_credentials t SET state = v.state FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), "
            "CAST(? AS TEXT[])) AS v(holder, cred_key, state) WHERE t.holder = v.holder AND t.cred_key = v.cred_key "
            "AND t.state <> v.state RETURNING t.holder, t.state", arrays)
        self._db.execute("UPDATE pool_claims t SET live = CASE WHEN v.state = 'ok' THEN 1 ELSE 0 END "
                         "FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS v(holder, "
                         "cred_key, state) WHERE t.holder = v.holder AND t.cred_key = v.cred_key "
                         "AND t.live <> CASE WHEN v.state = 'ok' THEN 1 ELSE 0 END", arrays)
        lifted = sorted({str(h) for h, state in changed if state == "ok"})
        died = sorted({str(h) for h, state in changed if state != "ok"} - set(lifted))
        if lifted:
            # claims count again: the row is rebuilt from the live claims, exact again
            self._db.execute(f"UPDATE pool_refsets r SET {_PG_REFSETS_SET} FROM unnest(CAST(? AS TEXT[])) "
                             f"AS v(holder) CROSS JOIN LATERAL {_PG_REFSETS_OF.format(h='v.holder')} AS a "
                             "WHERE r.holder = v.holder", [lifted])
            self._db.execute("DELETE FROM pool_stale WHERE holder = ANY(CAST(? AS TEXT[]))", [lifted])
        if died:
            self._db.execute("INSERT INTO pool_stale (holder) SELECT * FROM unnest(CAST(? AS TEXT[])) "
                             "ON CONFLICT DO NOTHING", [died])


def _needed(min_essential: int | float | None, n_essential: int) -> int:
    """How many essential requirements a hit must meet."""
    if min_essential is None:
        return n_essential
    if isinstance(min_essential, bool):
        raise InvalidArgument("min_essential is a count or a fraction")
    if isinstance(min_essential, float):
        if not 0 < min_essential <= 1:
            raise InvalidArgument(f"a fraction of essential requirements is in (0, 1], not {min_essential}")
        return min(n_essential, math.ceil(min_essential * n_essential - 1e-9))
    if min_essential < 0:
        raise InvalidArgument(f"min_essential cannot be negative ({min_essential})")
    return min(int(min_essential), n_essential)


def parse_min_essential(text: str | None) -> int | float | None:
    """``--min-essential``: a count (``7``), a fraction (``0.7``) or a percentage (``70%``)."""
    if text is None:
        return None
    t = text.strip()
    try:
        if t.endswith("%"):
            return float(t[:-1]) / 100
        if "." in t:
            return float(t)
        return int(t)
    except ValueError:
        raise InvalidArgument(f"min_essential: {text!r} is not a count, a fraction or a percentage",
                              field="min_essential") from None

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
``match``/``rank``; candidates are first selected in SQL by an index on the claim reference,
using :meth:`skillcred.match.Framework.supporters` (the exact inverse of match's inference),
and scored there by the same formula, so only the top candidates are graded in Python for
their explanations. Nothing revoked, suspended (after :meth:`Pool.refresh`), expired, not yet
valid or past its consent counts -- checked at query time against the clock.

Every search is logged (operator, time, profile title and digest, parameters, hit count) and
the log holds no candidate data; ``add``/``remove`` leave audit rows naming the holder, which
:meth:`Pool.remove` erases with everything else.

Storage: SQLite (one file, the default) or PostgreSQL (``postgresql://...``, psycopg 3), where
the per-candidate tables are hash-partitioned by holder (see docs/pool.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
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
    ("pool_status", "holder TEXT NOT NULL, cred_key TEXT NOT NULL, list_url TEXT NOT NULL, idx INTEGER NOT NULL, "
                    "purpose TEXT NOT NULL, size INTEGER NOT NULL, is_set INTEGER NOT NULL DEFAULT 0", True),
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
)
#: the claims table per backend: SQLite keeps it clustered by reference (WITHOUT ROWID), PostgreSQL
#: an index by reference holding every column a search reads (index-only scans)
_SQLITE_CLAIMS_KEY = ", PRIMARY KEY (ref_id, holder, cred_key, seq)) WITHOUT ROWID"
_PG_CLAIMS_INDEX = ("CREATE INDEX IF NOT EXISTS pool_claims_by_ref ON pool_claims (ref_id) INCLUDE "
                    "(holder, level, live, valid_from, valid_until, consent_until, region)")
_CLAIM_COLUMNS = ("ref_id, holder, cred_key, seq, kind, level, achievement, label, from_diploma, live, valid_from, "
                  "valid_until, consent_until, region")
_PER_HOLDER = ("pool_claims", "pool_status", "pool_credentials", "pool_audit", "pool_candidates")


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
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(23569, 20)")  # several instances may start
                for name, cols, partitioned in _TABLES:
                    if not partitioned:
                        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
                        continue
                    self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols}) PARTITION BY HASH (holder)")
                    for i in range(partitions):
                        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {name}_p{i} PARTITION OF {name} "
                                          f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {i})")
                for stmt in (*_INDEXES, _PG_CLAIMS_INDEX):
                    self.conn.execute(stmt)
        except psycopg.Error as exc:
            self.conn.close()
            raise PoolError(f"cannot set up the pool tables: {str(exc).splitlines()[0]}", path=self.where) from None
        self._depth = 0

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


class Pool:
    """A talent pool in SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL)."""

    def __init__(self, db: _Db) -> None:
        self._db = db
        #: where the pool is, for messages (a PostgreSQL URL without its password)
        self.where = db.where

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
        holders: list[str] = []
        for r in records:
            h = _clean(r.holder)
            holders.append(str(h))
            cands.append((h, _clean(r.region), r.consent_until, now, _clean(r.name), _clean(r.evidence)))
            audit.append((h, now, "add", _clean(operator)))
            consent = _epoch(r.consent_until)
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
                status.extend((h, k, _clean(s.list_url), s.index, s.purpose, s.size, int(s.set)) for s in c.status)
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
                db.copy("pool_status", "holder, cred_key, list_url, idx, purpose, size, is_set", status)
                db.copy("pool_audit", "holder, at, action, operator", audit)
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
            self._db.executemany("INSERT INTO pool_status (holder, cred_key, list_url, idx, purpose, size, is_set) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", status)
            self._db.executemany("INSERT INTO pool_audit (holder, at, action, operator) VALUES (?, ?, ?, ?)", audit)
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
        first. Reads the claims of the profile's references only (the clustered/covering index)."""
        rr: list[tuple[int, int, int | None, int, int | None]] = []
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
        if not rr:
            return []
        n_ess = sum(r.essential for r in rq)
        rr_sql = ", ".join(["(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), "
                            "CAST(? AS INTEGER))"] * len(rr))
        live = "c.live = 1 AND (c.valid_until IS NULL OR c.valid_until >= ?) " \
               "AND (c.valid_from IS NULL OR c.valid_from <= ?) AND c.consent_until > ?"
        params: list[Any] = [x for row in rr for x in row]
        params += [now, now, now]
        region_sql = ""
        if regions:
            region_sql = f" AND c.region IN ({', '.join('?' * len(regions))})"
            params += list(regions)
        # all essentials on PostgreSQL: only candidates holding the rarest essential
        # requirement's claims can qualify (a hash semi-join on one short index range). Not on
        # SQLite: its planner turns the same IN into a point lookup per holder and reference.
        prefilter = ""
        if need and need == n_ess and self._db.postgres:
            ids = self._rarest([r for r in rr if rq[r[0]].essential])
            prefilter = (f" AND c.holder IN (SELECT c.holder FROM pool_claims c WHERE c.ref_id IN "
                         f"({', '.join('?' * len(ids))}) AND {live})")
            params += [*ids, now, now, now]
        lvl = "(CASE WHEN rr.use_fixed = 1 THEN rr.fixed ELSE c.level END)"
        credit = (f"(CASE WHEN rr.need IS NULL THEN 1.0 WHEN {lvl} >= rr.need THEN 1.0 WHEN {lvl} IS NULL THEN 0.0 "
                  f"ELSE {lvl} * 1.0 / rr.need END)")
        # CROSS JOIN: SQLite then keeps rr as the outer loop (one primary-key range per
        # reference); PostgreSQL plans it as the inner join it is
        sql = (f"WITH rr(req, ref_id, fixed, use_fixed, need) AS (VALUES {rr_sql}) "
               f"SELECT c.holder, rr.req, MAX({credit}) FROM rr CROSS JOIN pool_claims c "
               f"WHERE c.ref_id = rr.ref_id AND {live}{region_sql}{prefilter} GROUP BY c.holder, rr.req")
        # the per-candidate sums in Python: cheaper than a second grouping in the database
        ess: dict[str, float] = {}
        weighted: dict[str, float] = {}
        met: dict[str, int] = {}
        for holder, req, value in self._db.execute(sql, params):
            row = rq[int(req)]
            credit_value = float(value)
            if row.essential:
                ess[holder] = ess.get(holder, 0.0) + credit_value
                if credit_value >= 1:
                    met[holder] = met.get(holder, 0) + 1
            weighted[holder] = weighted.get(holder, 0.0) + credit_value * row.weight
        ranked = sorted((h for h in weighted if met.get(h, 0) >= need),
                        key=lambda h: (-round(ess.get(h, 0.0), 9), -round(weighted[h], 9), h))
        return [str(h) for h in ranked[:limit]]

    def _rarest(self, rows: Sequence[tuple[int, int, int | None, int, int | None]]) -> list[int]:
        """The reference ids of the essential requirement the fewest claims can meet (by the
        claim counts kept per reference: an estimate, it only picks where to start)."""
        by_req: dict[int, list[int]] = {}
        for req, rid, *_ in rows:
            by_req.setdefault(req, []).append(rid)
        ids = sorted({rid for rid_list in by_req.values() for rid in rid_list})
        counts: dict[int, int] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            counts.update((int(a), int(b)) for a, b in self._db.execute(
                f"SELECT id, n FROM pool_refs WHERE id IN ({', '.join('?' * len(chunk))})", chunk))
        req = min(by_req, key=lambda r: (sum(counts.get(x, 0) for x in by_req[r]), r))
        return sorted(set(by_req[req]))

    def _explain(self, selected: Sequence[str], profile: JobProfile, fw: Framework,
                 catalog: Catalog | None, now: int) -> list[PoolHit]:
        """Grade the selected candidates' counting claims with match's own grading."""
        if not selected:
            return []
        marks = ", ".join("?" * len(selected))
        region_of = {str(h): r for h, r in self._db.execute(
            f"SELECT holder, region FROM pool_candidates WHERE holder IN ({marks})", selected)}
        creds = {(str(h), str(k)): (cid, str(iss), str(iname)) for h, k, cid, iss, iname in self._db.execute(
            f"SELECT holder, cred_key, credential_id, issuer, issuer_name FROM pool_credentials "
            f"WHERE holder IN ({marks})", selected)}
        claims: dict[tuple[str, str], list[Claim]] = {}
        for h, k, kind, ref, level, ach, label, fd in self._db.execute(
                "SELECT c.holder, c.cred_key, c.kind, r.ref, c.level, c.achievement, c.label, c.from_diploma "
                f"FROM pool_claims c JOIN pool_refs r ON r.id = c.ref_id WHERE c.holder IN ({marks}) "
                "AND c.live = 1 AND (c.valid_until IS NULL OR c.valid_until >= ?) "
                "AND (c.valid_from IS NULL OR c.valid_from <= ?) AND c.consent_until > ? "
                "ORDER BY c.holder, c.cred_key, c.seq", [*selected, now, now, now]):
            claims.setdefault((str(h), str(k)), []).append(ClaimRecord(kind, ref, level, ach, label, bool(fd)).claim())
        by_holder: dict[str, list[tuple[str, list[Claim]]]] = {}
        for (h, k), cl in sorted(claims.items()):
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
            rows = self._db.execute("SELECT s.holder, s.cred_key, s.idx, s.purpose, s.size, s.is_set, k.issuer "
                                    "FROM pool_status s JOIN pool_credentials k ON k.holder = s.holder AND "
                                    "k.cred_key = s.cred_key WHERE s.list_url = ? ORDER BY s.idx", (url,))
            updates: list[tuple[int, str, str, str, int]] = []
            for holder, key, idx, purpose, size, is_set, issuer in rows:
                entry = {"type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": str(idx),
                         "statusListCredential": url, **({"statusSize": size} if size != 1 else {})}
                status, reason, code = verifier.status_entry(entry, issuer=issuer, at=now)
                report.checked += 1
                if status == "indeterminate" or (status == "failed" and code not in ("revoked", "suspended")):
                    if code != "status_unavailable":
                        report.unknown.append({"list": url, "index": idx, "reason": reason, "code": code})
                    continue
                now_set = 1 if status == "failed" else 0
                if now_set != is_set:
                    updates.append((now_set, holder, key, url, idx))
                    report.changed.append({"holder": holder, "credential": key, "list": url, "index": idx,
                                           "purpose": purpose, "now": code if now_set else f"not {purpose}"})
            if updates:
                with self._db.transaction():
                    self._db.executemany("UPDATE pool_status SET is_set = ? WHERE holder = ? AND cred_key = ? "
                                         "AND list_url = ? AND idx = ?", updates)
                    self._restate({(u[1], u[2]) for u in updates})
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

    def _restate(self, keys: set[tuple[str, str]]) -> None:
        """A credential's state from its status references: revoked wins over suspended."""
        rows: list[tuple[str, str, str]] = []
        for holder, key in sorted(keys):
            purposes = {str(p) for (p,) in self._db.execute(
                "SELECT purpose FROM pool_status WHERE holder = ? AND cred_key = ? AND is_set = 1", (holder, key))}
            state = "revoked" if "revocation" in purposes else "suspended" if "suspension" in purposes else "ok"
            rows.append((state, holder, key))
        self._db.executemany("UPDATE pool_credentials SET state = ? WHERE holder = ? AND cred_key = ?", rows)
        self._db.executemany("UPDATE pool_claims SET live = ? WHERE holder = ? AND cred_key = ?",
                             [(int(state == "ok"), h, k) for state, h, k in rows])


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
        raise InvalidArgument(f"--min-essential: {text!r} is not a count, a fraction or a percentage") from None

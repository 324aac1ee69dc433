#!/usr/bin/env python3
"""Talent pool at scale: synthetic candidates from real ESCO occupation profiles, searched,
refreshed and ingested (issue 20). Prints numbers; asserts nothing about time.

The generator (seeded): ~200 ESCO occupations of the embedded snapshot, candidates spread over
them Zipf-like; each holds each of its occupation's essential skills with p=fit (fit uniform
in 0.4-1 per candidate) and each optional one with p=0.08 (at levels 1-5), in badges of
1-4 skills (each badge also claims its achievement id) from 4 institutes with revocation
status lists; 2 % of credentials revoked,
2 % expired, 1 % of candidates past their consent, 12 regions. Candidates are loaded in
chunks, so memory stays flat (the peak RSS is printed along the way), by the bulk loader: the
stored rows generated directly and streamed (``COPY`` on PostgreSQL, ``executemany`` in big
transactions on SQLite), indexes built after -- it bypasses verification, synthetic data
only; ``--record-load`` goes through ``Pool._put`` (what ``add`` stores after verifying).

Then, for the most common occupation's profile (levels 3 on its first three essentials):

* ``search`` all essentials, top 50, explanations included (cold = first search of the
  process, including ESCO lookups; warm = again), and at least 70 % of the essentials;
* ``refresh`` after revoking 1 % of one institute's credentials in a newly signed list;
* the ingest rate of ``pool add`` (verification-bound): real signed presentations verified
  and added, on one core and with parallel verifier workers;
* the database size, per million candidates.

    python benchmarks/pool.py --n 100000                     # SQLite (a temp file)
    python benchmarks/pool.py --n 1000000 --postgres --pg-log /tmp/pool-pg.log  # a throwaway PostgreSQL
    python benchmarks/pool.py --n 1000000 --postgres-url postgresql://...
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pwd
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import skillcred.pool as pool_module
from skillcred._internal.batch import fork_map
from skillcred._internal.fileio import dump_json, load_json_object
from skillcred._internal.timeutil import format_datetime
from skillcred.did import key_did, key_did_url
from skillcred.errors import SkillcredSecurityWarning
from skillcred.esco import default_taxonomy, job_profile
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.match import load_framework, load_profile
from skillcred.pool import CandidateRecord, ClaimRecord, CredentialRecord, Pool, StatusRef, record_from, ref_id
from skillcred.proofs import add_proof
from skillcred.status import BitstringStatusList, status_list_credential
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, Verifier
from skillcred.wallet import Wallet

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
REGIONS = ("NL-DR", "NL-FL", "NL-FR", "NL-GE", "NL-GR", "NL-LI", "NL-NB", "NL-NH", "NL-OV", "NL-UT", "NL-ZE",
           "NL-ZH")
WORDS = ("operator", "technician", "assistant", "worker", "engineer", "mechanic", "manager", "cook", "driver",
         "nurse", "welder", "installer")
CHUNK = 10_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Institutes:
    """Four institutes with real did:key keys: their revocation lists can be signed."""

    def __init__(self, rng: random.Random) -> None:
        # keys drawn from the seeded generator: a --reuse run re-creates the same institutes
        # (the stored status references name their DIDs); synthetic keys, benchmark only
        self.keys = [KeyPair.from_cryptography(Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)))
                     for _ in range(4)]
        self.dids = [key_did(k.public_key) for k in self.keys]
        self.names = [f"Institute {i}" for i in range(4)]
        self.urls = [f"https://institute-{i}.example/status/revocation-1" for i in range(4)]
        self.next = [0, 0, 0, 0]
        self.revoked: list[set[int]] = [set(), set(), set(), set()]

    def signed_list(self, i: int) -> dict[str, Any]:
        size = max(131_072, 1 << (self.next[i] - 1).bit_length())
        bits = BitstringStatusList(size)
        for idx in self.revoked[i]:
            bits.set(idx, 1)
        now = datetime.now(UTC).replace(microsecond=0)
        doc = status_list_credential(url=self.urls[i], issuer=self.dids[i], purpose="revocation", status_list=bits,
                                     valid_from=now, valid_until=now + timedelta(days=7))
        return add_proof(doc, self.keys[i], verification_method=key_did_url(self.keys[i].public_key),
                         cryptosuite="eddsa-rdfc-2022", created=now)


def occupations(rng: random.Random) -> list[tuple[str, list[str], list[str]]]:
    tax = default_taxonomy()
    seen: dict[str, tuple[str, list[str], list[str]]] = {}
    for w in WORDS:
        for hit in tax.search(w, kind="occupation", lang="en", limit=30):
            if hit.uri in seen:
                continue
            skills = tax.occupation_skills(hit.uri)
            ess = [s.uri for s in skills if s.essential]
            opt = [s.uri for s in skills if not s.essential]
            if len(ess) >= 8:
                seen[hit.uri] = (hit.uri, ess, opt)
    occ = sorted(seen.values())
    rng.shuffle(occ)
    return occ[:200]


def zipf(n: int) -> tuple[list[float], float]:
    """Cumulative Zipf-like weights (1/rank) of ``n`` occupations, for a bisected draw (what
    ``random.choices`` does, without rebuilding them per candidate)."""
    cum = list(accumulate(1 / (k + 1) for k in range(n)))
    return cum, cum[-1]


@dataclass(frozen=True)
class _Cred:
    """One synthetic credential's draws."""
    j: int
    skills: list[str]
    institute: int
    idx: int
    revoked: bool
    level: int
    ach: str
    expired: bool


def draws(n: int, seed: int, occ: list[tuple[str, list[str], list[str]]],
          inst: Institutes) -> Iterator[tuple[int, str, list[_Cred], bool, str]]:
    """The random draws of ``n`` candidates, in one order for both loaders (so the record path
    and the bulk rows hold the same candidates): per candidate its number, occupation URI,
    credentials, whether its consent has ended, and its region. Allocates the institutes'
    status indexes (and revocations) as it goes."""
    rng = random.Random(seed)
    cum, total = zipf(len(occ))  # the first occupation is the most common
    for c in range(n):
        o_uri, ess, opt = occ[bisect(cum, rng.random() * total, 0, len(cum) - 1)]
        fit = rng.uniform(0.4, 1.0)  # how well this candidate fits their own occupation
        held = [s for s in ess if rng.random() < fit] + [s for s in opt if rng.random() < 0.08]
        rng.shuffle(held)
        creds: list[_Cred] = []
        j = 0
        while held:
            k = 1 + int(rng.random() * 4)
            skills, held = held[:k], held[k:]
            i = int(rng.random() * 4)
            idx = inst.next[i]
            inst.next[i] += 1
            revoked = rng.random() < 0.02
            if revoked:
                inst.revoked[i].add(idx)
            level = 1 + int(rng.random() * 5)
            ach = f"Badge {o_uri.rsplit('/', 1)[-1][:8]}-{j}"
            creds.append(_Cred(j, skills, i, idx, revoked, level, ach, rng.random() < 0.02))
            j += 1
        consent_ended = rng.random() < 0.01
        yield c, o_uri, creds, consent_ended, REGIONS[int(rng.random() * len(REGIONS))]


def candidates(n: int, seed: int, occ: list[tuple[str, list[str], list[str]]], inst: Institutes,
               now: datetime) -> Iterator[CandidateRecord]:
    soon, past = format_datetime(now + timedelta(days=365)), format_datetime(now - timedelta(days=30))
    for c, o_uri, drawn, consent_ended, region in draws(n, seed, occ, inst):
        creds = []
        for d in drawn:
            claims = (ClaimRecord("achievement", f"urn:bench:achievement:{o_uri[-12:]}:{len(d.skills)}", d.level,
                                  d.ach),
                      *(ClaimRecord("skill", s, d.level, d.ach) for s in d.skills))
            creds.append(CredentialRecord(
                key=f"urn:bench:{c}:{d.j}", credential_id=f"urn:bench:{c}:{d.j}", issuer=inst.dids[d.institute],
                issuer_name=inst.names[d.institute], valid_from="2024-01-01T00:00:00Z",
                valid_until=past if d.expired else None, claims=claims,
                status=(StatusRef(inst.urls[d.institute], d.idx, "revocation", 1, d.revoked),),
                state="revoked" if d.revoked else "ok"))
        yield CandidateRecord(holder=f"did:example:cand-{c}", consent_until=past if consent_ended else soon,
                              credentials=tuple(creds), region=region)


def load(pool: Pool, n: int, seed: int, occ: Any, inst: Institutes, now: datetime | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    chunk: list[CandidateRecord] = []
    marks: list[tuple[int, float]] = []
    done = 0
    for rec in candidates(n, seed, occ, inst, now or datetime.now(UTC)):
        chunk.append(rec)
        if len(chunk) == CHUNK:
            done += pool._put(chunk, replace=False)
            chunk = []
            if done % max(CHUNK, n // 10) == 0:
                marks.append((done, round(rss_mb(), 1)))
                print(f"  loaded {done:>9,} candidates, {time.perf_counter() - started:7.1f} s, "
                      f"peak RSS {rss_mb():.0f} MB", file=sys.stderr)
    if chunk:
        done += pool._put(chunk, replace=False)
    seconds = time.perf_counter() - started
    return {"candidates": done, "seconds": round(seconds, 1), "per_second": round(done / seconds),
            "peak_rss_mb_by_progress": marks}


# -- the bulk loader: stored rows generated directly -----------------------------------------------

#: the pool's secondary indexes, dropped before a bulk load and built after it (one sort each
#: instead of a B-tree insert per row); the primary keys stay
SECONDARY = ("pool_claims_by_holder", "pool_status_by_list", "pool_status_by_holder", "pool_audit_by_holder",
             "pool_candidates_by_consent", "pool_claims_by_ref", "pool_refsets_by_ref")


def bulk_rows(n: int, seed: int, occ: list[tuple[str, list[str], list[str]]], inst: Institutes, now: datetime,
              chunk: int = CHUNK) -> Iterator[tuple[dict[str, list[tuple[Any, ...]]], dict[int, str]]]:
    """The rows ``Pool._put`` would store for ``candidates(n, seed, ...)`` -- the same random
    draws in the same order, so the same candidates -- generated directly, ``chunk``
    candidates at a time (per table), with the references they use (id -> text).

    This bypasses verification (and ``_put``'s per-record work): synthetic data only. The
    ingest rate of real ``pool add`` is measured separately (:func:`ingest_rate`)."""
    soon, past = format_datetime(now + timedelta(days=365)), format_datetime(now - timedelta(days=30))
    soon_e, past_e = int((now + timedelta(days=365)).timestamp()), int((now - timedelta(days=30)).timestamp())
    vf = "2024-01-01T00:00:00Z"
    vf_e = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    added = format_datetime(datetime.now(UTC))
    ids: dict[str, int] = {}

    def rid(ref: str) -> int:
        got = ids.get(ref)
        if got is None:
            got = ids[ref] = ref_id(ref)
        return got

    tables: dict[str, list[tuple[Any, ...]]] = {t: [] for t in ("cands", "creds", "claims", "status", "audit", "sets")}
    for c, o_uri, drawn, consent_ended, region in draws(n, seed, occ, inst):
        holder = f"did:example:cand-{c}"
        creds: list[tuple[Any, ...]] = []
        claims: list[list[Any]] = []
        live_claims: list[tuple[int, int | None, int | None, int | None]] = []
        for d in drawn:
            i = d.institute
            key = f"urn:bench:{c}:{d.j}"
            live = 0 if d.revoked else 1
            vu, vu_e = (past, past_e) if d.expired else (None, None)
            creds.append((holder, key, key, inst.dids[i], inst.names[i], vf, vu, "revoked" if d.revoked else "ok"))
            refs = (f"urn:bench:achievement:{o_uri[-12:]}:{len(d.skills)}", *d.skills)
            for seq, ref in enumerate(refs):
                r = rid(ref)
                claims.append([r, holder, key, seq, "skill" if seq else "achievement", d.level, d.ach, None, 0, live,
                               vf_e, vu_e])
                if live:
                    live_claims.append((r, d.level, vf_e, vu_e))
            tables["status"].append((holder, key, inst.urls[i], d.idx, "revocation", 1, int(d.revoked),
                                     inst.dids[i]))
        consent, consent_e = (past, past_e) if consent_ended else (soon, soon_e)
        tables["cands"].append((holder, region, consent, added, None, None))
        tables["creds"].extend(creds)
        tables["claims"].extend((*row, consent_e, region) for row in claims)
        tables["audit"].append((holder, added, "add", None))
        tables["sets"].append((holder, region, consent_e, pool_module._refset_keys((x[0], x[1]) for x in live_claims),
                               *([x[i] for x in live_claims] for i in range(4))))
        if (c + 1) % chunk == 0 or c + 1 == n:
            yield tables, {v: k for k, v in ids.items()}
            tables = {t: [] for t in tables}


_SQLITE_INSERT = {
    "cands": "INSERT INTO pool_candidates (holder, region, consent_until, added_at, name, evidence) "
             "VALUES (?, ?, ?, ?, ?, ?)",
    "creds": "INSERT INTO pool_credentials (holder, cred_key, credential_id, issuer, issuer_name, valid_from, "
             "valid_until, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "claims": f"INSERT INTO pool_claims ({pool_module._CLAIM_COLUMNS}) VALUES ({', '.join('?' * 14)})",
    "status": "INSERT INTO pool_status (holder, cred_key, list_url, idx, purpose, size, is_set, issuer) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "audit": "INSERT INTO pool_audit (holder, at, action, operator) VALUES (?, ?, ?, ?)",
}
_PG_COPY = {
    "cands": ("pool_candidates", "holder, region, consent_until, added_at, name, evidence"),
    "creds": ("pool_credentials", "holder, cred_key, credential_id, issuer, issuer_name, valid_from, valid_until, "
                                  "state"),
    "claims": ("pool_claims", pool_module._CLAIM_COLUMNS),
    "status": ("pool_status", "holder, cred_key, list_url, idx, purpose, size, is_set, issuer"),
    "audit": ("pool_audit", "holder, at, action, operator"),
    "sets": ("pool_refsets", pool_module._PG_REFSETS_COLUMNS),
}


def _copy_field(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, list):
        return "{" + ",".join("NULL" if x is None else str(x) for x in v) + "}"
    return str(v)


def copy_text(rows: list[tuple[Any, ...]]) -> str:
    """Rows as ``COPY`` text: the generated values hold no tab, newline or backslash (checked
    by the loader test against the record path), so only NULL and arrays need a form."""
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)


def bulk_load(pool: Pool, n: int, seed: int, occ: Any, inst: Institutes,
              now: datetime | None = None) -> dict[str, Any]:
    """Load ``n`` synthetic candidates as stored rows: secondary indexes dropped, ``COPY``
    per table per chunk (PostgreSQL) or ``executemany`` in one transaction per chunk with the
    claims sorted by the clustering key (SQLite), the reference counts kept, the indexes
    built after. Memory stays flat (one chunk at a time)."""
    db = pool._db
    started = time.perf_counter()
    marks: list[tuple[int, float]] = []
    counts: dict[int, int] = {}
    texts: dict[int, str] = {}
    for name in SECONDARY:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    done = 0
    for tables, refs in bulk_rows(n, seed, occ, inst, now or datetime.now(UTC)):
        texts.update(refs)
        for row in tables["claims"]:
            counts[row[0]] = counts.get(row[0], 0) + 1
        if db.postgres:
            with db.transaction(), db.conn.cursor() as cur:  # type: ignore[attr-defined]
                for key, (table, cols) in _PG_COPY.items():
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                        cp.write(copy_text(tables[key]))
        else:
            tables["claims"].sort(key=lambda r: (r[0], r[1], r[2], r[3]))
            with db.transaction():
                for key, sql in _SQLITE_INSERT.items():
                    db.executemany(sql, tables[key])
        done += len(tables["cands"])
        if done % max(CHUNK, n // 10) == 0 or done == n:
            marks.append((done, round(rss_mb(), 1)))
            print(f"  loaded {done:>9,} candidates, {time.perf_counter() - started:7.1f} s, "
                  f"peak RSS {rss_mb():.0f} MB", file=sys.stderr)
    loaded = time.perf_counter() - started
    with db.transaction():
        pool._add_refs(sorted(texts.items()), counts)
    for stmt in (*pool_module._INDEXES, *((pool_module._PG_CLAIMS_INDEX, pool_module._PG_REFSETS_INDEX)
                                          if db.postgres else ())):
        db.execute(stmt)
    seconds = time.perf_counter() - started
    return {"candidates": done, "seconds": round(seconds, 1), "rows_seconds": round(loaded, 1),
            "index_seconds": round(seconds - loaded, 1), "per_second": round(done / seconds),
            "peak_rss_mb_by_progress": marks, "path": "bulk rows (no verification)"}


def timed_search(pool: Pool, prof: Any, fw: Any, **kw: Any) -> dict[str, Any]:
    started = time.perf_counter()
    hits = pool.search(prof, framework=fw, limit=50, **kw)
    ms = (time.perf_counter() - started) * 1000
    assert all(h.report.requirements for h in hits)  # explanations are there
    return {"ms": round(ms, 1), "hits": len(hits),
            "best": hits[0].to_dict()["essential_coverage"] if hits else None}


def refresh_one_percent(pool: Pool, inst: Institutes, rng: random.Random) -> dict[str, Any]:
    i = 0
    live = [x for x in range(inst.next[i]) if x not in inst.revoked[i]]
    newly = set(rng.sample(live, max(1, inst.next[i] // 100)))
    inst.revoked[i] |= newly
    doc = inst.signed_list(i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        verifier = Verifier(VerificationPolicy(), status_lists=[doc])
    started = time.perf_counter()
    report = pool.refresh(verifier, lists=[inst.urls[i]], erase_ended_consent=False)
    seconds = time.perf_counter() - started
    return {"institute_credentials": inst.next[i], "newly_revoked": len(newly), "checked": report.checked,
            "changed": len(report.changed), "unknown": len(report.unknown), "seconds": round(seconds, 2)}


def restore_reused(pool: Pool, inst: Institutes, original: list[set[int]]) -> dict[str, Any]:
    """Undo what a ``--reuse`` run changed, so the next one finds the pool as loaded: erase the
    candidates ingested through verification (holders outside the generator's ``cand-N``) and
    refresh every institute's list with its drawn revocations only (un-revoking the 1 %)."""
    extra = [str(h) for (h,) in pool._db.execute(
        "SELECT holder FROM pool_candidates WHERE holder NOT LIKE ?", ("did:example:cand-%",))]
    for h in extra:
        pool.remove(h)
    for i, drawn in enumerate(original):
        inst.revoked[i] = set(drawn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkillcredSecurityWarning)
        verifier = Verifier(VerificationPolicy(), status_lists=[inst.signed_list(i) for i in range(4)])
    started = time.perf_counter()
    report = pool.refresh(verifier, lists=inst.urls, erase_ended_consent=False)
    return {"removed": len(extra), "changed": len(report.changed), "unknown": len(report.unknown),
            "seconds": round(time.perf_counter() - started, 2)}


# -- ingest through verification ----------------------------------------------------------------

DOMAIN = "pool.bench.example"


def presentations(root: Path, n: int, seed: int) -> tuple[list[tuple[dict[str, Any], str]], Path, list[Path]]:
    rng = random.Random(seed)
    init_issuer(root / "issuer", name="ROC (benchmark)", url="https://roc-techniek.example")
    files = ("cnc-programmeren.yaml", "technisch-tekeninglezen.yaml", "plannen-en-organiseren.yaml")
    ach = {f: load_achievement(EXAMPLES / "achievements" / f) for f in files}
    ev = EvidenceInput(narrative="Werkvoorbereiding CNC-cel.", workplace="Metaalbedrijf", hours=320, assessor="P.")
    out = []
    with Issuer.open(root / "issuer") as iss:
        for c in range(n):
            key = KeyPair.generate("ed25519")
            w = Wallet.init(root / "wallets" / f"w{c}", key=key)
            docs = [iss.issue(ach[f], w.holder, level=str(rng.randint(1, 3)),
                              evidence=ev if f.startswith("plannen") else None)[0].document for f in files]
            ch = f"{rng.getrandbits(64):016x}"
            out.append((w.present(docs, key=key, challenge=ch, domain=DOMAIN), ch))
        iss.publish_status(root / "status")
        did = iss.profile.did
    tl = TrustList(path=root / "trust.json")
    tl.add(did, name="ROC (benchmark)")
    tl.save()
    return out, tl.path, sorted(p for p in (root / "status").iterdir() if p.name != "index.json")


def _verify_one(item: tuple[dict[str, Any], str], verifier: Verifier, until: datetime) -> CandidateRecord:
    doc, ch = item
    return record_from(verifier.assess(doc, challenge=ch, domain=DOMAIN), consent_until=until)


def ingest_rate(pool: Pool, n: int, seed: int, jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="skillcred-pool-ingest-") as tmp:
        items, trust, status = presentations(Path(tmp), n, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkillcredSecurityWarning)
            verifier = Verifier(VerificationPolicy(trust=TrustList.load(trust)),
                                status_lists=[load_json_object(p) for p in status])
        until = datetime.now(UTC) + timedelta(days=365)
        started = time.perf_counter()
        for doc, ch in items:  # what `pool add` does per presentation
            pool.add(verifier.assess(doc, challenge=ch, domain=DOMAIN), consent_until=until)
        one = time.perf_counter() - started
        started = time.perf_counter()
        records = fork_map(_verify_one, items, (verifier, until), jobs=jobs)
        pool._put(records)
        par = time.perf_counter() - started
    return {"presentations": n, "credentials_each": 3, "one_core_per_second": round(n / one, 1),
            f"{jobs}_workers_per_second": round(n / par, 1)}


# -- a throwaway PostgreSQL ----------------------------------------------------------------------


@contextlib.contextmanager
def postgres(keep_log: str | None = None) -> Iterator[str]:
    bindir = next(p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) if (p / "initdb").exists())
    root = Path(tempfile.mkdtemp(prefix="skillcred-pool-pg-"))
    kw: dict[str, Any] = {}
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, sock = root / "data", root / "sock"
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LC_ALL": "C"}

    def pg(*cmd: str) -> None:
        subprocess.run([str(bindir / cmd[0]), *cmd[1:]], check=True, capture_output=True, env=env, cwd=root, **kw)

    pg("initdb", "-D", str(data), "-U", "skillcred", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
    sock.mkdir()
    if kw:
        os.chown(sock, kw["user"], kw["group"])
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=1GB "
            "-c max_wal_size=8GB -c max_parallel_workers_per_gather=2 "
            # the plans of slow statements (EXPLAIN ANALYZE) in the server log, kept with --pg-log
            "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=100 "
            "-c auto_explain.log_analyze=on")
    pg("pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
    try:
        yield f"postgresql://skillcred@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        if keep_log:
            with contextlib.suppress(OSError):
                shutil.copyfile(root / "log", keep_log)
        shutil.rmtree(root, ignore_errors=True)


def db_size(pool: Pool, path: Path | None) -> int:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return int(pool._db.execute("SELECT pg_database_size(current_database())")[0][0])


def run(target: str | Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    occ = occupations(rng)
    inst = Institutes(rng)
    original: list[set[int]] = []
    out: dict[str, Any] = {"backend": "postgresql" if isinstance(target, str) else "sqlite", "n": args.n}
    with Pool.open(target, partitions=args.partitions) as pool:
        if args.reuse:
            # an earlier --load-only run with the same --n and --seed filled this pool: the
            # draws are repeated (not stored) so the searches and the refresh see the same world
            held = pool.stats()["candidates"]
            if held != args.n and not (args.restore_only and held > args.n):  # extra: ingested
                raise SystemExit(f"--reuse: the pool holds {held} candidates, not --n {args.n}")
            for _ in bulk_rows(args.n, args.seed, occ, inst, datetime.now(UTC)):
                pass  # only the institutes' allocation and revocation state is wanted
            out["load"] = "reused"
            original = [set(r) for r in inst.revoked]
            if args.restore_only:
                out["restored"] = restore_reused(pool, inst, original)
                return out
        else:
            loader = load if args.record_load else bulk_load
            out["load"] = loader(pool, args.n, args.seed, occ, inst)
            # PostgreSQL: VACUUM sets the visibility map, without which no scan is index-only
            pool._db.execute("VACUUM ANALYZE" if isinstance(target, str) else "ANALYZE")
        if args.load_only:
            out["claims"] = pool.stats()["claims"]
            out["db_bytes"] = db_size(pool, target if isinstance(target, Path) else None)
            return out
        size = db_size(pool, target if isinstance(target, Path) else None)
        out["db_bytes"] = size
        out["db_mb_per_million"] = round(size / 1e6 / (args.n / 1e6), 1)
        out["claims"] = pool.stats()["claims"]
        with tempfile.TemporaryDirectory() as tmp:
            prof_doc = job_profile(default_taxonomy(), occ[0][0])
            for r in [r for r in prof_doc["requirements"] if r["essential"]][:3]:
                r["level"] = 3
            (Path(tmp) / "p.json").write_bytes(dump_json(prof_doc))
            prof = load_profile(Path(tmp) / "p.json")
        fw = load_framework([], esco=default_taxonomy())
        out["profile"] = {"occupation": prof.title, "essential": sum(r.essential for r in prof.requirements),
                          "requirements": len(prof.requirements)}
        out["search_all_cold"] = timed_search(pool, prof, fw)
        out["search_all"] = timed_search(pool, prof, fw)
        out["search_70pct"] = timed_search(pool, prof, fw, min_essential=0.7)
        out["search_70pct_region"] = timed_search(pool, prof, fw, min_essential=0.7, regions=["NL-UT"])
        out["refresh_1pct_of_one_institute"] = refresh_one_percent(pool, inst, rng)
        out["search_all_after_refresh"] = timed_search(pool, prof, fw)
        out["ingest_verified"] = ingest_rate(pool, args.ingest, args.seed, args.jobs)
        if args.reuse:
            out["restored"] = restore_reused(pool, inst, original)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL on loopback")
    parser.add_argument("--postgres-url", help="use this PostgreSQL database instead")
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--pg-log", help="keep the throwaway server's log (slow statements' plans) here")
    parser.add_argument("--ingest", type=int, default=100, help="real presentations for the ingest rate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--record-load", action="store_true",
                        help="load through Pool._put (the record path) instead of the bulk row loader")
    parser.add_argument("--load-only", action="store_true",
                        help="load the pool at --postgres-url and stop (searched later with --reuse)")
    parser.add_argument("--reuse", action="store_true",
                        help="search the pool an earlier --load-only run (same --n, --seed) left at --postgres-url")
    parser.add_argument("--restore-only", action="store_true",
                        help="with --reuse: only put the pool back as loaded (a --reuse run does this at its end)")
    args = parser.parse_args()
    if args.restore_only and not args.reuse:
        parser.error("--restore-only goes with --reuse")
    if (args.load_only or args.reuse) and not args.postgres_url:
        parser.error("--load-only and --reuse need --postgres-url (a server that outlives the run)")
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "python": platform.python_version(), "system": platform.platform()}
    with contextlib.suppress(OSError):
        machine["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                              if line.startswith("model name"))
    if args.postgres_url:
        result = run(args.postgres_url, args)
    elif args.postgres:
        with postgres(args.pg_log) as url:
            result = run(url, args)
    else:
        with tempfile.TemporaryDirectory(prefix="skillcred-pool-") as tmp:
            result = run(Path(tmp) / "pool.sqlite", args)
    result["machine"] = machine
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

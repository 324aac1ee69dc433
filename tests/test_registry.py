"""The SQLite registry: several processes at once, a crash mid-issue, list allocation and rollover.

What the registry holds is read back with :mod:`sqlite3` directly, not through the code under
test.
"""

from __future__ import annotations

import json
import multiprocessing
import select
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred.did import key_did
from skillcred.errors import InvalidArgument, StoreError
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.registry import Allocation, Registry

ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = b"registry test passphrase"
BASE = "https://roc-techniek.example/status"
LIST_ENTRIES = 131_072
WORKERS = 4
PER_WORKER = 100
HANG_GUARD = 300.0  # seconds; only keeps a stuck child from hanging the run, never a verdict


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Several processes issuing into one issuer folder at the same time


def _worker(folder: str, worker: int, count: int, barrier: Any, out: str) -> None:
    """Runs in a spawned process: issue ``count`` credentials, record their ids in ``out``."""
    definition = load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml")
    subjects = [key_did(KeyPair.generate("ed25519").public_key) for _ in range(count)]
    ids = []
    with Issuer.open(folder, PASSPHRASE) as iss:
        barrier.wait(timeout=60)
        for i, subject in enumerate(subjects):
            record, new = iss.issue(definition, subject, name=f"Student {worker}-{i}",
                                    level=str(1 + i % 5), row_key=f"w{worker}-{i}")
            assert new
            ids.append(record.id)
    Path(out).write_text(json.dumps(ids), encoding="utf-8")


def test_processes_issuing_concurrently_get_distinct_indexes(tmp_path: Path) -> None:
    folder = tmp_path / "roc"
    init_issuer(folder, name="ROC Techniek", url="https://roc-techniek.example", passphrase=PASSPHRASE)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    outs = [tmp_path / f"ids-{w}.json" for w in range(WORKERS)]
    procs = [ctx.Process(target=_worker, args=(str(folder), w, PER_WORKER, barrier, str(outs[w])))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=HANG_GUARD)
    hung = [p for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    if hung:
        pytest.fail(f"hang guard: {len(hung)} of {WORKERS} writers still running after {HANG_GUARD:.0f}s")
    # Writers stuck on each other's lock are caught without a clock: a writer that waits out
    # the 60 s busy timeout gets StoreError and exits non-zero.
    assert [p.exitcode for p in procs] == [0] * WORKERS

    total = WORKERS * PER_WORKER
    db = folder / "registry.sqlite"
    issued_ids = {i for o in outs for i in json.loads(o.read_text(encoding="utf-8"))}
    assert len(issued_ids) == total
    rows = query(db, "SELECT id, row_key, document FROM credentials")
    assert len(rows) == total
    assert {r[0] for r in rows} == issued_ids
    assert len({r[1] for r in rows}) == total

    allocations = query(db, "SELECT credential_id, purpose, list_url, idx FROM allocations")
    assert len(allocations) == 2 * total
    by_credential = {(c, p): (u, i) for c, p, u, i in allocations}
    for purpose in ("revocation", "suspension"):
        slots = [(u, i) for c, p, u, i in allocations if p == purpose]
        assert len(slots) == total
        assert len(set(slots)) == total, f"duplicate {purpose} index"
        assert all(0 <= i < LIST_ENTRIES for _, i in slots)
    # Every stored credential carries exactly the slots the registry allocated to it.
    for cred_id, _, document in rows:
        doc = json.loads(document)
        assert doc["id"] == cred_id
        for entry in doc["credentialStatus"]:
            assert (entry["statusListCredential"], int(entry["statusListIndex"])) == \
                by_credential[(cred_id, entry["statusPurpose"])]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


# --------------------------------------------------------------------------------------------
# A crash while issuing leaves nothing behind


def _issue(reg: Registry, cred_id: str, build: Any, row_key: str | None = None) -> Any:
    return reg.issue(
        credential_id=cred_id, row_key=row_key, subject="did:example:jan", achievement="urn:example:cnc",
        kind="skill", issued_at="2025-06-30T00:00:00Z", valid_until=None, status_base_url=BASE,
        list_size=LIST_ENTRIES, build=build,
    )


def _ok(cred_id: str) -> Any:
    def build(allocs: list[Allocation]) -> dict[str, Any]:
        return {"id": cred_id, "allocations": [[a.purpose, a.list_url, a.index] for a in allocs]}
    return build


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("first", [True, False], ids=["empty-registry", "after-one"])
def test_a_crash_in_build_records_nothing(tmp_path: Path, exc_type: type[BaseException], first: bool) -> None:
    path = tmp_path / "registry.sqlite"
    seen: list[Allocation] = []

    def crash(allocs: list[Allocation]) -> dict[str, Any]:
        seen.extend(allocs)
        raise exc_type("signing failed half-way")

    with Registry.open(path, create=True) as reg:
        if not first:
            _issue(reg, "urn:uuid:ok-1", _ok("urn:uuid:ok-1"), row_key="row-1")
        before = {t: query(path, f"SELECT * FROM {t}") for t in ("credentials", "allocations", "status_lists")}
        with pytest.raises(exc_type):
            _issue(reg, "urn:uuid:crashed", crash, row_key="row-2")
        assert len(seen) == 2  # build was reached with both allocations made
        assert query(path, "SELECT COUNT(*) FROM credentials WHERE id = 'urn:uuid:crashed'") == [(0,)]
        assert query(path, "SELECT COUNT(*) FROM allocations WHERE credential_id = 'urn:uuid:crashed'") == [(0,)]
        after = {t: query(path, f"SELECT * FROM {t}") for t in ("credentials", "allocations", "status_lists")}
        assert after == before
        # The same row key issues fine afterwards: the failed attempt left no open transaction.
        record, new = _issue(reg, "urn:uuid:retry", _ok("urn:uuid:retry"), row_key="row-2")
        assert new and record.id == "urn:uuid:retry"
    assert query(path, "SELECT COUNT(*) FROM credentials") == [(1 if first else 2,)]


_KILLED_SCRIPT = """
import sys, time
from pathlib import Path
from skillcred.registry import Registry

reg = Registry.open(sys.argv[1])

def build(allocs):
    Path(sys.argv[2]).write_text(repr(allocs))
    print("in-build", flush=True)  # the parent waits for this line, then kills
    time.sleep(600)  # killed here, inside the write transaction

reg.issue(credential_id="urn:uuid:killed", row_key="killed", subject="did:example:jan",
          achievement="urn:example:cnc", kind="skill", issued_at="2025-06-30T00:00:00Z",
          valid_until=None, status_base_url=sys.argv[3], list_size=131072, build=build)
"""


def test_a_process_killed_mid_issue_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        _issue(reg, "urn:uuid:ok-1", _ok("urn:uuid:ok-1"), row_key="row-1")
    before = {t: query(path, f"SELECT * FROM {t}") for t in ("credentials", "allocations", "status_lists")}
    marker = tmp_path / "in-build"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SCRIPT, str(path), str(marker), BASE],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # readiness is the child's line on its stdout (EOF if it died first), not a deadline
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], HANG_GUARD)
        if not ready:
            pytest.fail(f"hang guard: the child did not reach build() within {HANG_GUARD:.0f}s")
        line = proc.stdout.readline()
        assert line == b"in-build\n", (line, proc.communicate()[1])
        assert marker.exists()
    finally:
        proc.kill()  # SIGKILL: no cleanup, no rollback by Python
        proc.communicate()
    after = {t: query(path, f"SELECT * FROM {t}") for t in ("credentials", "allocations", "status_lists")}
    assert after == before
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    with Registry.open(path) as reg:  # the lock died with the process
        _record, new = _issue(reg, "urn:uuid:after", _ok("urn:uuid:after"), row_key="killed")
        assert new
    assert query(path, "SELECT COUNT(*) FROM credentials") == [(2,)]


def test_a_duplicate_credential_id_rolls_back_its_allocations(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        _issue(reg, "urn:uuid:a", _ok("urn:uuid:a"), row_key="a")
        with pytest.raises(StoreError):
            _issue(reg, "urn:uuid:a", _ok("urn:uuid:a"), row_key="b")
    assert query(path, "SELECT COUNT(*) FROM allocations WHERE credential_id = 'urn:uuid:a'") == [(2,)]
    assert query(path, "SELECT row_key FROM credentials") == [("a",)]


def test_build_receives_the_allocations_that_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        record, _ = _issue(reg, "urn:uuid:a", _ok("urn:uuid:a"))
    passed = {p: (u, i) for p, u, i in record.document["allocations"]}
    stored = {p: (u, i) for p, u, i in query(path, "SELECT purpose, list_url, idx FROM allocations")}
    assert passed == stored


# --------------------------------------------------------------------------------------------
# Status lists: naming, range, rollover, status changes


def test_first_lists_and_index_range(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        records = [_issue(reg, f"urn:uuid:{n}", _ok(f"urn:uuid:{n}"))[0] for n in range(50)]
        lists = reg.status_lists()
    assert [(i.url, i.purpose, i.size) for i in lists] == [
        (f"{BASE}/revocation-1", "revocation", LIST_ENTRIES),
        (f"{BASE}/suspension-1", "suspension", LIST_ENTRIES),
    ]
    for purpose in ("revocation", "suspension"):
        idx = [i for r in records for p, u, i in r.document["allocations"] if p == purpose]
        assert all(0 <= i < LIST_ENTRIES for i in idx)
        assert len(set(idx)) == 50
        # Drawn at random over the whole list, not handed out from 0 upwards.
        assert max(idx) > 1000
    assert query(path, "SELECT url, purpose, seq, size FROM status_lists ORDER BY url") == [
        (f"{BASE}/revocation-1", "revocation", 1, LIST_ENTRIES),
        (f"{BASE}/suspension-1", "suspension", 1, LIST_ENTRIES),
    ]


def test_a_half_full_list_rolls_over_to_the_next(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        _issue(reg, "urn:uuid:first", _ok("urn:uuid:first"))
    # Pretend half the revocation list was issued before (sqlite3 directly, no monkeypatching).
    taken = {row[0] for row in query(path, "SELECT idx FROM allocations WHERE purpose = 'revocation'")}
    free = [i for i in range(LIST_ENTRIES) if i not in taken][: LIST_ENTRIES // 2 - 1]
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO allocations (list_url, idx, credential_id, purpose) VALUES (?, ?, ?, 'revocation')",
            [(f"{BASE}/revocation-1", i, f"urn:uuid:old-{i}") for i in free],
        )
        # ... in a registry made before the 'used' counter existed: opening it must recount
        con.execute("ALTER TABLE status_lists DROP COLUMN used")
    con.close()
    with Registry.open(path) as reg:
        record, _ = _issue(reg, "urn:uuid:next", _ok("urn:uuid:next"))
        lists = {i.url: i for i in reg.status_lists()}
    # the maintained counter agrees with the rows, list by list
    assert query(path, "SELECT url, used FROM status_lists ORDER BY url") == query(
        path, "SELECT s.url, (SELECT COUNT(*) FROM allocations a WHERE a.list_url = s.url) "
              "FROM status_lists s ORDER BY s.url")
    allocs = {p: (u, i) for p, u, i in record.document["allocations"]}
    assert allocs["revocation"][0] == f"{BASE}/revocation-2"
    assert allocs["suspension"][0] == f"{BASE}/suspension-1"  # that list is nearly empty
    assert 0 <= allocs["revocation"][1] < LIST_ENTRIES
    assert set(lists) == {f"{BASE}/revocation-1", f"{BASE}/revocation-2", f"{BASE}/suspension-1"}


def test_set_status_changes_one_row(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        for n in range(3):
            _issue(reg, f"urn:uuid:{n}", _ok(f"urn:uuid:{n}"))
        assert reg.set_status("urn:uuid:1", "suspension", True) is True
        assert reg.set_status("urn:uuid:1", "suspension", True) is False
        assert query(path, "SELECT credential_id, purpose FROM allocations WHERE value = 1") == [
            ("urn:uuid:1", "suspension")]
        set_idx = query(path, "SELECT idx FROM allocations WHERE value = 1")[0][0]
        (susp,) = [i for i in reg.status_lists() if i.purpose == "suspension"]
        assert susp.set_indexes == (set_idx,)
        assert reg.get("urn:uuid:1").suspended and not reg.get("urn:uuid:0").suspended


def test_set_status_on_an_unknown_id_or_purpose(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry.open(path, create=True) as reg:
        _issue(reg, "urn:uuid:a", _ok("urn:uuid:a"))
        with pytest.raises(StoreError, match="urn:uuid:nope"):
            reg.set_status("urn:uuid:nope", "revocation", True)
        with pytest.raises(InvalidArgument):
            reg.set_status("urn:uuid:a", "refresh", True)
        with pytest.raises(StoreError):
            reg.get("urn:uuid:nope")
    assert query(path, "SELECT COUNT(*) FROM allocations WHERE value = 1") == [(0,)]


def test_open_without_create_refuses_a_missing_registry(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Registry.open(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_open_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    bad = tmp_path / "registry.sqlite"
    bad.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(StoreError):
        Registry.open(bad)


def test_iter_records_streams_in_issue_order_with_status_and_filters(tmp_path: Path) -> None:
    with Registry.open(tmp_path / "r.sqlite", create=True) as reg:
        for i in range(5):  # same issued_at: ties are kept in the order they were recorded
            _issue(reg, f"urn:uuid:z{4 - i}", _ok(f"urn:uuid:z{4 - i}"))
        assert reg.set_status("urn:uuid:z3", "revocation", True)
        assert reg.set_status("urn:uuid:z1", "suspension", True)
        got = list(reg.iter_records(with_documents=False))
        assert [r.id for r in got] == [f"urn:uuid:z{4 - i}" for i in range(5)]
        assert [(r.revoked, r.suspended) for r in got] == [
            (False, False), (True, False), (False, False), (False, True), (False, False)]
        assert all(r.document == {} for r in got)
        full = list(reg.iter_records())
        assert full == reg.records()
        assert full[1].document["id"] == "urn:uuid:z3" and full[1] == reg.get("urn:uuid:z3")
        assert list(reg.iter_records(subject="did:example:nobody")) == []
        assert len(list(reg.iter_records(subject="did:example:jan", achievement="urn:example:cnc"))) == 5

"""Batch issuance on several processes gives what the serial batch gives.

Why: ``Issuer.issue_batch`` signs in worker processes for big rosters (see
skillcred._internal.batch) while the registry stays in the parent. The parallel path must keep
every promise of the serial one: the same rows issued, skipped and refused (same line, same
message), every credential registered with its status indexes and written once, idempotent
re-runs, nothing recorded for a row that failed, a progress bar that counts each row once.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from skillcred.did import key_did
from skillcred.errors import InvalidArgument
from skillcred.issuer import Issuer, init_issuer
from skillcred.keys import KeyPair
from skillcred.proofs import check_proofs
from skillcred.registry import IssueRequest, Registry

REPO = Path(__file__).resolve().parents[1]
ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = b"parallel"


def _issuer(folder: Path) -> Path:
    init_issuer(folder, name="ROC Techniek", url="https://roc.example", passphrase=PASSPHRASE)
    return folder


def _roster(path: Path, n: int) -> Path:
    cnc = str(ACHIEVEMENTS / "cnc-programmeren.yaml")
    diploma = str(ACHIEVEMENTS / "mbo-verspaner-diploma.yaml")
    subjects = [key_did(KeyPair.generate("ed25519").public_key) for _ in range(8)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(n):
            if i % 17 == 5:
                w.writerow([f"r{i}", subjects[i % 8], "Bad level", cnc, "9"])  # refused by the worker
            elif i % 23 == 7:
                w.writerow([f"r{i}", "", "No subject", cnc, "2"])  # refused by the parent
            elif i % 29 == 11:
                w.writerow([f"r{i - 1}", subjects[i % 8], "Same key again", cnc, "2"])  # a repeated key
            elif i % 31 == 3:
                w.writerow([f"r{i}", subjects[i % 8], "Missing file", str(path.parent / "nope.yaml"), "1"])
            elif i % 3 == 0:
                w.writerow([f"r{i}", subjects[i % 8], f"Student {i}", diploma, ""])
            else:
                w.writerow([f"r{i}", subjects[i % 8], f"Student {i}", cnc, str(1 + i % 5)])
    return path


def _counts(folder: Path) -> tuple[int, ...]:
    con = sqlite3.connect(folder / "registry.sqlite")
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("credentials", "allocations", "status_lists"))
    finally:
        con.close()


def _run(folder: Path, roster: Path, out: Path, workers: int, **kw: Any) -> tuple[Any, list[int]]:
    steps: list[int] = []
    with Issuer.open(folder, PASSPHRASE) as iss:
        result = iss.issue_batch(roster, out, workers=workers, progress=steps.append, **kw)
    return result, steps


def test_parallel_batch_equals_serial_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcred._internal import batch

    monkeypatch.setattr(batch, "CHUNK_ROWS", 16)  # several registry transactions, split duplicates
    roster = _roster(tmp_path / "roster.csv", 90)
    serial_dir, parallel_dir = _issuer(tmp_path / "serial"), _issuer(tmp_path / "parallel")
    serial, s_steps = _run(serial_dir, roster, tmp_path / "out-s", workers=1)
    parallel, p_steps = _run(parallel_dir, roster, tmp_path / "out-p", workers=2)

    rows = 90
    assert sum(s_steps) == sum(p_steps) == rows and all(s > 0 for s in p_steps)
    assert len(p_steps) > 1  # reported chunk by chunk, not only at the end
    assert [(e.line, e.message) for e in parallel.errors] == [(e.line, e.message) for e in serial.errors]
    assert {e.line for e in serial.errors} >= {7, 9}  # row 5: bad level; row 7: no subject
    assert [r.row_key for r in parallel.issued] == [r.row_key for r in serial.issued]
    assert [r.row_key for r in parallel.skipped] == [r.row_key for r in serial.skipped]
    # a repeated key within the roster is reported (it would silently skip a worker), not skipped
    assert sum("the same row key as line" in e.message for e in parallel.errors) >= 2
    assert _counts(parallel_dir) == _counts(serial_dir) == (len(serial.issued), 2 * len(serial.issued), 2)

    files = sorted((tmp_path / "out-p").glob("*.json"))
    assert len(files) == len(parallel.issued)
    assert not list((tmp_path / "out-p").glob(".*"))  # no temporary files left behind
    by_id = {r.id: r for r in parallel.issued}
    for f in files:
        doc = json.loads(f.read_text(encoding="utf-8"))
        assert doc == by_id[doc["id"]].document
    for f in files[:5]:
        assert check_proofs(json.loads(f.read_text(encoding="utf-8"))).verified
    # every status index belongs to exactly one credential, and each credential has two
    con = sqlite3.connect(parallel_dir / "registry.sqlite")
    try:
        per_cred = con.execute("SELECT credential_id, COUNT(*) FROM allocations GROUP BY credential_id").fetchall()
        assert {n for _c, n in per_cred} == {2} and len(per_cred) == len(parallel.issued)
    finally:
        con.close()

    # a re-run issues nothing and restores a missing file from the registry
    files[0].unlink()
    again, steps = _run(parallel_dir, roster, tmp_path / "out-p", workers=2, keep_documents=False)
    serial_again, _ = _run(serial_dir, roster, tmp_path / "out-s", workers=1)
    assert again.issued == [] and sum(steps) == rows
    assert [r.row_key for r in again.skipped] == [r.row_key for r in serial_again.skipped]
    assert [(e.line, e.message) for e in again.errors] == [(e.line, e.message) for e in serial_again.errors]
    assert all(r.document == {} for r in again.skipped)
    assert len(list((tmp_path / "out-p").glob("*.json"))) == len(parallel.issued)
    assert _counts(parallel_dir)[0] == len(parallel.issued)


def test_issue_many_releases_the_indexes_of_a_failed_build_and_rotates_lists(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)

    def req(i: int, key: str | None = None) -> IssueRequest:
        return IssueRequest(credential_id=f"urn:uuid:{i}", row_key=key, subject="did:example:s", achievement="a",
                            kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                            status_base_url="https://roc.example/status", list_size=16)

    def build(pending: list[tuple[int, list[Any]]]) -> list[Any]:
        return [ValueError("no") if pos == 3 else {"id": f"urn:uuid:{pos}", "allocations": len(a)}
                for pos, a in pending]

    out = reg.issue_many([req(i, f"k{i}") for i in range(20)], build)
    assert isinstance(out[3], ValueError)
    assert all(o[1] for i, o in enumerate(out) if i != 3)  # type: ignore[index]
    assert reg.count() == 19
    # lists of 16 entries are filled to 8, then the next one opens (as with one issue() at a
    # time); the failed request's index (in the first list) is released afterwards: 7 + 8 + 4
    lists = reg._conn.execute(
        "SELECT list_url, COUNT(*) FROM allocations GROUP BY list_url ORDER BY list_url").fetchall()
    assert sorted(n for _u, n in lists) == [4, 4, 7, 7, 8, 8]
    assert reg._conn.execute("SELECT COUNT(*) FROM allocations WHERE credential_id = 'urn:uuid:3'").fetchone()[0] == 0
    again = reg.issue_many([req(100, "k0"), req(101, "k3")], build)
    assert again[0][1] is False and again[0][0].id == "urn:uuid:0"  # type: ignore[index]
    assert again[1][1] is True  # type: ignore[index]
    with pytest.raises(InvalidArgument):
        reg.issue_many([req(200, "same"), req(201, "same")], build)
    # the maintained per-list counter (added once per transaction) equals the allocations
    counted = dict(reg._conn.execute("SELECT list_url, COUNT(*) FROM allocations GROUP BY list_url").fetchall())
    assert dict(reg._conn.execute("SELECT url, used FROM status_lists").fetchall()) == counted
    reg.close()


def test_keep_records_false_keeps_counts_and_errors_only_and_memory_does_not_grow_with_the_roster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 8: 100,000 credentials with memory flat. The roster is streamed and no per-row
    record is kept, so the parent's peak Python allocation for 3x the rows stays about the same."""
    import tracemalloc

    from skillcred._internal import batch

    monkeypatch.setattr(batch, "CHUNK_ROWS", 64)
    cnc = str(ACHIEVEMENTS / "cnc-programmeren.yaml")
    subject = key_did(KeyPair.generate("ed25519").public_key)
    peaks = {}
    for n in (400, 2000):
        roster = tmp_path / f"roster-{n}.csv"
        with roster.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["key", "subject", "name", "achievement", "level"])
            for i in range(n):
                w.writerow([f"k{i}", subject, f"Student {i} " + "x" * 400, cnc, "3"])
        folder = _issuer(tmp_path / f"roc-{n}")
        with Issuer.open(folder, PASSPHRASE) as iss:
            tracemalloc.start()
            try:
                result = iss.issue_batch(roster, tmp_path / f"out-{n}", workers=2, keep_records=False)
                peaks[n] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        assert (result.issued_count, result.skipped_count, result.errors) == (n, 0, [])
        assert result.issued == [] and result.skipped == []
        assert _counts(folder)[0] == n
        assert len(list((tmp_path / f"out-{n}").glob("*.json"))) == n
    # five times the rows (each with a 400-character cell): about the same peak (keeping the
    # records alone, without their documents, makes it ~1.5x; reading the whole roster, more)
    assert peaks[2000] < 1.25 * peaks[400], peaks


def test_an_unreadable_roster_fails_before_anything_is_issued(tmp_path: Path) -> None:
    from skillcred.errors import MalformedDocument

    folder = _issuer(tmp_path / "roc")
    roster = _roster(tmp_path / "roster.csv", 300)
    with roster.open("ab") as fh:
        fh.write(b"r999,did:key:z6Mk\xff\xfe,Broken,x.yaml,1\n")  # not UTF-8, on the last line
    for workers in (1, 2):
        with Issuer.open(folder, PASSPHRASE) as iss, pytest.raises(MalformedDocument, match="cannot read roster"):
            iss.issue_batch(roster, tmp_path / "out", workers=workers)
        assert _counts(folder) == (0, 0, 0)

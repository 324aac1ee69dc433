"""A big batch's parent memory stays flat: what it must remember per row lives off the Python heap.

Issue 22 item 3: a 100,000-row batch grew the parent by ~300 bytes a row, the repeated-key
check (a dict of digests) and the archive's set of ids. Both now live in
:class:`skillcred._internal.batch.KeyLog`, a private temporary SQLite database whose page cache
is bounded. These tests check that the log keeps the same answers a dict would (exact keys,
first value kept), that the refusals it backs are unchanged (a repeated row key names the
earlier line; an archive holds each id once, also across a reopen), and that checking tens of
thousands of keys leaves the Python heap where it was (tracemalloc, bounded by counting rows,
not by time). They also check that the achievement cell of a roster is loaded once per distinct
cell, and that a bad cell is still reported on every row that names it.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred import issuer as issuer_module
from skillcred._internal.batch import ARCHIVE_NAME, Archive, KeyLog, archive_line
from skillcred.did import key_did
from skillcred.errors import InvalidArgument, StoreError
from skillcred.issuer import Issuer, _RosterSeen, init_issuer
from skillcred.keys import KeyPair

CNC = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


def test_keylog_keeps_the_first_value_and_reports_it_for_a_repeat() -> None:
    log = KeyLog()
    try:
        assert log.add("a|did:key:z1", 2) is None
        assert log.add("a|did:key:z2", 3) is None
        assert log.add("a|did:key:z1", 9) == 2  # the earlier line, not the new one
        assert log.add("a|did:key:z1", 10) == 2
        assert len(log) == 2
        assert "a|did:key:z2" in log and "a|did:key:z3" not in log
    finally:
        log.close()


@pytest.mark.parametrize("pair", [
    ("key", "Key"),            # case matters
    ("key", "key "),           # trailing space (the caller strips; the log does not)
    ("zoë", "zoe\u0308"),      # the same text in two Unicode normal forms: two keys, as in a dict
    ("\ud800x", "\udbffx"),    # lone surrogates (kept as they are, not replaced)
    ("", "\x00"),
])
def test_keylog_keys_are_exact_not_digests_or_normalized(pair: tuple[str, str]) -> None:
    log = KeyLog()
    try:
        first, second = pair
        assert log.add(first, 1) is None
        assert log.add(second, 2) is None
        assert log.add(first, 3) == 1 and log.add(second, 4) == 2
    finally:
        log.close()


def test_keylog_update_counts_each_key_once() -> None:
    log = KeyLog()
    try:
        log.update(["x", "y", "x"])
        log.update(["y", "z"])
        assert len(log) == 3
        assert all(k in log for k in "xyz")
        assert log.add("z", 5) == 0  # update records value 0
    finally:
        log.close()


@pytest.mark.parametrize("error", [sqlite3.OperationalError("database or disk is full"),
                                   sqlite3.DatabaseError("unable to open database file")])
def test_a_key_log_that_cannot_spill_to_disk_is_a_store_error(error: sqlite3.Error) -> None:
    """The temporary folder full or unwritable: the batch stops with a StoreError (a one-line
    message and exit 2 on the command line), not with SQLite's exception."""
    with pytest.raises(StoreError, match=r"cannot keep the batch's row keys in the temporary folder: ") as info:
        with KeyLog._failing():
            raise error
    assert info.value.code == "store_error" and str(error) in info.value.message


def test_checking_many_row_keys_does_not_grow_the_python_heap() -> None:
    seen = _RosterSeen()
    rows = 30_000
    try:
        for i in range(200):  # warm up (statements cached, the first pages made)
            seen.check(i + 2, f"warm|did:key:z{i:08d}")
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(rows):
                seen.check(i + 1000, f"https://roc.example/achievements/cnc|did:key:z6Mk{i:040d}")
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        # a dict of 30,000 digests and line numbers was ~3 MB (~100 bytes a row); the log keeps
        # them in SQLite: a few bytes a row at most
        assert grown < rows * 4, grown
        with pytest.raises(InvalidArgument, match=r"the same row key as line 1000 "):
            seen.check(99_999, f"https://roc.example/achievements/cnc|did:key:z6Mk{0:040d}")
    finally:
        seen.close()


def test_an_archive_reopened_knows_its_ids_and_appends_each_once(tmp_path: Path) -> None:
    docs = [{"id": f"urn:uuid:mem-{i}", "n": i} for i in range(5)]
    archive = Archive(tmp_path)
    archive.append([(d["id"], archive_line(d)) for d in docs[:3]])
    twice = (docs[3]["id"], archive_line(docs[3]))
    archive.append([twice, twice])  # the same id twice in one call: one line
    archive.close()
    reopened = Archive(tmp_path)
    try:
        assert [reopened.has(d["id"]) for d in docs] == [True, True, True, True, False]
        reopened.append([(d["id"], archive_line(d)) for d in docs])  # only the fifth is new
    finally:
        reopened.close()
    ids = [json.loads(line)["id"] for line in (tmp_path / ARCHIVE_NAME).read_text(encoding="utf-8").splitlines()]
    assert ids == [d["id"] for d in docs]


@pytest.mark.parametrize("line", [b'{"id": 7}\n', b'{"id": null}\n', b'{"id": ["urn:uuid:x"]}\n', b'{"n": 1}\n'])
def test_an_archive_line_without_a_string_id_is_refused(tmp_path: Path, line: bytes) -> None:
    (tmp_path / ARCHIVE_NAME).write_bytes(line)
    (tmp_path / f"{ARCHIVE_NAME}.journal").write_text(json.dumps({"length": len(line), "lines": 1}))
    with pytest.raises(StoreError, match="line 1 of the archive is not a credential"):
        Archive(tmp_path)


def _roster(path: Path, cells: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "achievement", "level"])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", key_did(KeyPair.generate("ed25519").public_key), cell, "2"])


def test_an_achievement_cell_is_loaded_once_and_a_bad_one_reported_on_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "issuer"
    init_issuer(folder, name="ROC Techniek", url="https://roc.example")
    (tmp_path / "cnc.yaml").write_bytes(CNC.read_bytes())
    cells = ["cnc.yaml", str(tmp_path / "cnc.yaml"), "missing.yaml", "cnc.yaml", "missing.yaml", "cnc.yaml"]
    roster = tmp_path / "roster.csv"
    _roster(roster, cells)
    loads: list[str] = []
    real = issuer_module.load_achievement

    def counting(path: object, **kw: object) -> object:
        loads.append(str(path))
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(issuer_module, "load_achievement", counting)
    with Issuer.open(folder) as iss:
        result = iss.issue_batch(roster, tmp_path / "out", workers=1, keep_records=False)
    assert result.issued_count == 4
    assert [e.line for e in result.errors] == [4, 6]  # each row naming the missing file
    # the relative and the absolute cell name one file: loaded once; the missing one is tried
    # again on each row that names it (a failure is not remembered)
    assert sorted(loads) == sorted([str(tmp_path / "cnc.yaml"), str(tmp_path / "missing.yaml"),
                                    str(tmp_path / "missing.yaml")])


# -- status indexes of a chunk: what each credential is signed with is what is registered --------


@pytest.mark.parametrize("list_size", [16, 64, 1024])
def test_indexes_drawn_together_are_distinct_and_the_ones_signed(tmp_path: Path, list_size: int) -> None:
    """``issue_many`` draws a chunk's indexes at random and draws again for one already taken;
    small lists make that happen often (a list is used up to half its size). What each
    credential was built with must be what the registry holds, every index once per list."""
    from skillcred.registry import IssueRequest, Registry

    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    built: dict[str, list[tuple[str, str, int]]] = {}
    try:
        for chunk in range(6):
            requests = [IssueRequest(
                credential_id=f"urn:uuid:c{chunk}-{i}", row_key=f"k{chunk}-{i}", subject="did:key:z6Mk",
                achievement="a", kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                status_base_url="https://roc.example/status", list_size=list_size) for i in range(40)]

            def build(pending: list[tuple[int, list[Any]]], requests: list[IssueRequest] = requests) -> list[Any]:
                for i, allocs in pending:
                    built[requests[i].credential_id] = sorted((a.purpose, a.list_url, a.index) for a in allocs)
                return [{"id": requests[i].credential_id} for i, _a in pending]

            outcomes = reg.issue_many(requests, build)
            assert all(isinstance(o, tuple) and o[1] for o in outcomes)
        rows = reg._conn.execute("SELECT credential_id, purpose, list_url, idx FROM allocations").fetchall()
        held: dict[str, list[tuple[str, str, int]]] = {}
        for cid, purpose, url, idx in rows:
            held.setdefault(cid, []).append((purpose, url, idx))
        assert {k: sorted(v) for k, v in held.items()} == built  # signed with exactly what is registered
        assert all([p for p, _u, _i in v] == ["revocation", "suspension"] for v in built.values())
        assert len({(u, i) for _c, _p, u, i in rows}) == len(rows) == 2 * 240
        for url, size, used in reg._conn.execute("SELECT url, size, used FROM status_lists"):
            count = reg._conn.execute("SELECT COUNT(*) FROM allocations WHERE list_url = ?", (url,)).fetchone()[0]
            assert used == count <= size // 2 + 40  # the counter is exact; a list fills to about half
    finally:
        reg.close()


def test_a_drawn_index_already_taken_is_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the collision: every first draw of the second chunk lands on an index of the first."""
    from skillcred import registry as registry_module
    from skillcred.registry import IssueRequest, Registry

    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    try:
        def requests(tag: str) -> list[IssueRequest]:
            return [IssueRequest(
                credential_id=f"urn:uuid:{tag}-{i}", row_key=f"{tag}-{i}", subject="did:key:z6Mk", achievement="a",
                kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                status_base_url="https://roc.example/status", list_size=131_072) for i in range(3)]

        first = reg.issue_many(requests("a"), lambda pending: [{"x": 1} for _ in pending])
        assert all(isinstance(o, tuple) for o in first)
        taken = [r[0] for r in reg._conn.execute("SELECT idx FROM allocations ORDER BY rowid")]
        queue = list(taken)  # the draws repeat the taken indexes, then fall back to fresh ones
        real = registry_module.secrets.randbelow
        monkeypatch.setattr(registry_module.secrets, "randbelow",
                            lambda n: queue.pop(0) if queue else real(n))
        signed: list[tuple[str, int]] = []

        def build(pending: list[tuple[int, list[Any]]]) -> list[Any]:
            signed.extend((a.list_url, a.index) for _i, allocs in pending for a in allocs)
            return [{"x": 2} for _ in pending]

        second = reg.issue_many(requests("b"), build)
        assert all(isinstance(o, tuple) and o[1] for o in second)
        assert not queue  # every taken index was drawn (and refused)
        rows = reg._conn.execute("SELECT list_url, idx FROM allocations WHERE credential_id LIKE 'urn:uuid:b-%'")
        assert sorted(signed) == sorted(rows.fetchall())  # signed with the redrawn indexes
        assert len(reg._conn.execute("SELECT * FROM allocations").fetchall()) == 12
    finally:
        reg.close()

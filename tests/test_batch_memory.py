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
import tracemalloc
from pathlib import Path

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

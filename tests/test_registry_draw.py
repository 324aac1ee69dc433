"""Registry.issue_many draws status indexes against a bitmap in memory and inserts them together.

What must not change (Bitstring Status List herd privacy and the registry's guarantees): the
indexes are uniform over the free ones of a list, never one twice (whoever else writes to the
registry between two batches, in this connection or another), released when a credential is
not built, forgotten when the transaction rolls back, and the counter ``status_lists.used``
stays the number of allocations. What changes: the rows go in once the builder has started
(a parallel builder signs meanwhile).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skillcred.errors import InvalidArgument
from skillcred.registry import EncodedDocument, IssueRequest, Registry

SIZE = 64  # a small list: half of it (32) is used before the next one opens


def _request(i: int, size: int = SIZE) -> IssueRequest:
    return IssueRequest(credential_id=f"urn:uuid:draw-{i}", row_key=f"draw-{i}", subject="did:example:s",
                        achievement="a", kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                        status_base_url="https://roc.example/status", list_size=size)


def _ok(pending: list[tuple[int, list[Any]]]) -> list[Any]:
    return [EncodedDocument(json.dumps({"n": pos})) for pos, _a in pending]


def _issue(reg: Registry, numbers: range, build: Any = _ok) -> list[Any]:
    return reg.issue_many([_request(i) for i in numbers], build)


def _allocations(reg: Registry) -> list[tuple[str, int, str, str]]:
    return reg._conn.execute("SELECT list_url, idx, credential_id, purpose FROM allocations").fetchall()


def _check_counts(reg: Registry) -> None:
    for url, used in reg._conn.execute("SELECT url, used FROM status_lists").fetchall():
        n = reg._conn.execute("SELECT COUNT(*) FROM allocations WHERE list_url = ?", (url,)).fetchone()[0]
        assert used == n, (url, used, n)


def test_indexes_are_uniform_over_the_list_across_many_registries(tmp_path: Path) -> None:
    # 160 registries, each filling the first list to half (32 of 64) in four transactions of 8:
    # every index is drawn 160 * 32 / 64 = 80 times on average, per purpose
    counts: dict[str, Counter[int]] = {"revocation": Counter(), "suspension": Counter()}
    for r in range(160):
        reg = Registry.open(tmp_path / f"r{r}.sqlite", create=True)
        for start in range(0, 32, 8):
            _issue(reg, range(start, start + 8))
        for url, idx, _cid, purpose in _allocations(reg):
            assert url.endswith("-1")
            counts[purpose][idx] += 1
        reg.close()
    for purpose, c in counts.items():
        assert sorted(c) == list(range(SIZE)), purpose  # every index is drawn somewhere
        expected = 160 * 32 / SIZE
        chi2 = sum((c[i] - expected) ** 2 / expected for i in range(SIZE))
        assert chi2 < 125, (purpose, chi2)  # 63 degrees of freedom: mean 63, sd 11


def test_an_index_taken_by_another_connection_is_never_drawn_again(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    for round_ in range(6):  # a stale bitmap would clash (and be refused) in most rounds
        a = Registry.open(path, create=True)
        b = Registry.open(path)
        base = round_ * 1000
        _issue(a, range(base, base + 10))  # a reads its bitmap
        _issue(b, range(base + 100, base + 110))  # b commits ten of its own
        b.issue(credential_id=f"urn:uuid:single-{round_}", row_key=None, subject="did:example:s", achievement="a",
                kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                status_base_url="https://roc.example/status", list_size=SIZE, build=lambda allocs: {"n": 1})
        out = _issue(a, range(base + 10, base + 20))  # a must see b's 11
        assert all(isinstance(o, tuple) and o[1] for o in out)
        rows = _allocations(a)
        assert len({(u, i) for u, i, _c, _p in rows}) == len(rows)
        _check_counts(a)
        a.close()
        b.close()
        path.unlink()
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)


def test_this_connections_single_issue_between_batches_is_seen(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    _issue(reg, range(0, 8))
    for k in range(12):  # inserted by the plain path, not through the bitmap
        reg.issue(credential_id=f"urn:uuid:single-{k}", row_key=None, subject="did:example:s", achievement="a",
                  kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                  status_base_url="https://roc.example/status", list_size=SIZE, build=lambda allocs: {"n": 1})
    _issue(reg, range(8, 20))
    rows = _allocations(reg)
    assert len(rows) == 2 * 32 and len({(u, i) for u, i, _c, _p in rows}) == 64
    _check_counts(reg)


def test_an_index_of_a_credential_not_built_is_released_and_counted_out(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)

    def half_fail(pending: list[tuple[int, list[Any]]]) -> list[Any]:
        return [ValueError("bad row") if pos % 2 else EncodedDocument("{}") for pos, _a in pending]

    out = _issue(reg, range(0, 16), half_fail)
    assert [isinstance(o, BaseException) for o in out] == [bool(i % 2) for i in range(16)]
    rows = _allocations(reg)
    assert {c for _u, _i, c, _p in rows} == {f"urn:uuid:draw-{i}" for i in range(0, 16, 2)}
    _check_counts(reg)
    _issue(reg, range(16, 40))  # 8 + 24 = 32: the first list is full to half, not beyond
    urls = Counter(u for u, _i, _c, p in _allocations(reg) if p == "revocation")
    assert sorted(urls.values()) == [32] and len(_allocations(reg)) == 64
    assert len({(u, i) for u, i, _c, _p in _allocations(reg)}) == 64
    _check_counts(reg)


@pytest.mark.parametrize("at", [0, 3, 7])
def test_a_builder_that_raises_rolls_everything_back_and_the_next_batch_draws_freely(
        tmp_path: Path, at: int) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    _issue(reg, range(0, 8))

    def crash(pending: list[tuple[int, list[Any]]]) -> Iterator[Any]:
        for pos, _a in pending:
            if pos == at:
                raise RuntimeError("the worker died")
            yield EncodedDocument("{}")

    with pytest.raises(RuntimeError):
        _issue(reg, range(8, 16), crash)
    assert reg.count() == 8 and len(_allocations(reg)) == 16
    _check_counts(reg)
    _issue(reg, range(16, 40))  # 24 more fill the list to its half: every free index is reachable
    rows = _allocations(reg)
    assert reg.count() == 32 and len({(u, i) for u, i, _c, _p in rows}) == 64
    assert {u for u, _i, _c, _p in rows} == {"https://roc.example/status/revocation-1",
                                             "https://roc.example/status/suspension-1"}
    _check_counts(reg)


def test_the_rows_go_in_after_the_builders_first_result(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    _issue(reg, range(0, 4))
    seen: list[int] = []

    def build(pending: list[tuple[int, list[Any]]]) -> Iterator[Any]:
        for pos, _a in pending:
            seen.append(len(_allocations(reg)))  # inside the transaction: what is inserted so far
            yield EncodedDocument(json.dumps({"n": pos}))

    _issue(reg, range(4, 10), build)
    assert seen == [8] + [8 + 12] * 5  # the first is asked for before the 12 new rows go in
    _check_counts(reg)


def test_a_builder_returning_too_few_results_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    for build in (lambda pending: [], lambda pending: [EncodedDocument("{}")]):
        with pytest.raises(InvalidArgument):
            _issue(reg, range(0, 3), build)
        assert reg.count() == 0 and _allocations(reg) == []
    _issue(reg, range(0, 3))
    assert reg.count() == 3 and len(_allocations(reg)) == 6
    _check_counts(reg)


def test_another_connections_change_is_seen_even_when_the_count_stays_the_same(tmp_path: Path) -> None:
    # whatever another writer does (here: moves ten revocation entries to other free indexes,
    # leaving the count as it was), the next batch here reads the list again before drawing
    path = tmp_path / "r.sqlite"
    a = Registry.open(path, create=True)
    _issue(a, range(0, 10))
    b = Registry.open(path)
    taken = {i for _u, i, _c, p in _allocations(b) if p == "revocation"}
    free = [i for i in range(SIZE) if i not in taken][:10]
    b._conn.execute("BEGIN IMMEDIATE")
    for k, idx in enumerate(free):
        b._conn.execute("UPDATE allocations SET idx = ? WHERE credential_id = ? AND purpose = 'revocation'",
                        (idx, f"urn:uuid:draw-{k}"))
    b._conn.execute("COMMIT")
    b.close()
    out = _issue(a, range(10, 32))  # 22 more: with the old picture, a clash with a moved entry is all but certain
    assert all(isinstance(o, tuple) and o[1] for o in out)
    rows = _allocations(a)
    assert len(rows) == 64 and len({(u, i) for u, i, _c, _p in rows}) == 64
    _check_counts(a)

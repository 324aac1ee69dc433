"""The PostgreSQL registry against a real PostgreSQL server (a throwaway cluster on loopback).

It must mean what the SQLite registry means (same tests of the interface), and allocation must
stay unique when many connections allocate at once, including while new lists are opened.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from service_support import PgCluster, distinct, start_postgres
from skillcred.errors import InvalidArgument, StoreError
from skillcred.registry import Allocation, Registry

pytestmark = pytest.mark.loopback

BASE = "https://roc.example/status"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    yield from start_postgres()


@pytest.fixture(params=["postgresql", "sqlite"])
def registry(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """Both registries, so each behaviour below is checked to be the same in both."""
    if request.param == "sqlite":
        reg: Any = Registry.open(tmp_path / "registry.sqlite", create=True)
    else:
        from skillcred.registry_pg import PgRegistry

        cluster = request.getfixturevalue("pg_cluster")
        reg = PgRegistry.open(cluster.new_database())
    yield reg
    reg.close()


def _issue(reg: Any, cid: str, *, row_key: str | None = None, purposes: tuple[str, ...] = ("revocation", "suspension"),
           size: int = 131_072, base: str = BASE, build: Any = None) -> tuple[Any, bool]:
    return reg.issue(
        credential_id=cid, row_key=row_key, subject="did:example:holder", achievement="ach", kind="skill",
        issued_at="2025-01-01T00:00:00Z", valid_until=None, status_base_url=base, list_size=size,
        build=build or (lambda allocs: {"id": cid, "status": [[a.purpose, a.list_url, a.index] for a in allocs]}),
        purposes=purposes,
    )


def test_issue_get_count_records(registry: Any) -> None:
    record, new = _issue(registry, "urn:uuid:a")
    assert new and record.id == "urn:uuid:a" and not record.revoked and not record.suspended
    assert [s[0] for s in record.document["status"]] == ["revocation", "suspension"]
    assert registry.get("urn:uuid:a").document == record.document
    _issue(registry, "urn:uuid:b", purposes=("revocation",))
    assert registry.count() == 2
    assert [r.id for r in registry.records()] == ["urn:uuid:a", "urn:uuid:b"]
    lists = registry.status_lists()
    assert [(x.url, x.purpose) for x in lists] == [(f"{BASE}/revocation-1", "revocation"),
                                                   (f"{BASE}/suspension-1", "suspension")]
    with pytest.raises(StoreError, match="no credential"):
        registry.get("urn:uuid:missing")


def test_row_key_is_idempotent_and_ids_unique(registry: Any) -> None:
    first, new = _issue(registry, "urn:uuid:a", row_key="k1")
    again, new2 = _issue(registry, "urn:uuid:other", row_key="k1")
    assert new and not new2 and again.id == first.id
    with pytest.raises(StoreError, match="already registered"):
        _issue(registry, "urn:uuid:a")
    assert registry.count() == 1


def test_failed_build_records_nothing_and_frees_the_indexes(registry: Any) -> None:
    def boom(allocs: list[Allocation]) -> dict[str, Any]:
        raise InvalidArgument("bad credential")

    with pytest.raises(InvalidArgument):
        _issue(registry, "urn:uuid:bad", build=boom)
    assert registry.count() == 0
    # nothing is left reserved: the next credential's list is empty but for its own index
    _issue(registry, "urn:uuid:good", purposes=("revocation",))
    if hasattr(registry, "allocations"):
        assert [a[2] for a in registry.allocations()] == ["urn:uuid:good"]


def test_status_changes(registry: Any) -> None:
    _issue(registry, "urn:uuid:a")
    _issue(registry, "urn:uuid:r", purposes=("revocation",))
    assert registry.set_status("urn:uuid:a", "suspension", True) is True
    assert registry.set_status("urn:uuid:a", "suspension", True) is False
    assert registry.get("urn:uuid:a").suspended
    assert registry.set_status("urn:uuid:a", "suspension", False) is True
    assert registry.set_status("urn:uuid:a", "revocation", True) is True
    with pytest.raises(InvalidArgument, match="permanent"):
        registry.set_status("urn:uuid:a", "revocation", False)
    with pytest.raises(StoreError, match="no suspension status entry"):
        registry.set_status("urn:uuid:r", "suspension", True)
    with pytest.raises(StoreError, match="no credential"):
        registry.set_status("urn:uuid:nope", "revocation", True)
    with pytest.raises(InvalidArgument):
        registry.set_status("urn:uuid:a", "refresh", True)
    revoked = registry.get("urn:uuid:a")
    assert revoked.revoked and not revoked.suspended
    index = next(s[2] for s in revoked.document["status"] if s[0] == "revocation")
    lists = {x.purpose: x for x in registry.status_lists()}
    assert lists["revocation"].set_indexes == (index,)
    assert lists["suspension"].set_indexes == ()


def test_lists_are_kept_per_base_url_and_roll_over(registry: Any) -> None:
    # list_size 16: a list is full at 8 (half), then the next one opens
    for i in range(20):
        _issue(registry, f"urn:uuid:{i}", purposes=("revocation",), size=16)
    _issue(registry, "urn:uuid:elsewhere", purposes=("revocation",), size=16, base="https://vc.roc.example/status")
    lists = registry.status_lists()
    urls = [x.url for x in lists]
    assert urls[:3] == [f"{BASE}/revocation-1", f"{BASE}/revocation-2", f"{BASE}/revocation-3"]
    assert "https://vc.roc.example/status/revocation-4" in urls  # numbering is per purpose, lists per base
    docs = [registry.get(f"urn:uuid:{i}").document["status"][0] for i in range(20)]
    assert distinct([(d[1], d[2]) for d in docs])
    assert all(0 <= d[2] < 16 for d in docs)


def test_concurrent_allocation_on_many_connections(pg_cluster: PgCluster) -> None:
    """24 connections, 600 credentials, tiny lists (so lists are opened under contention):
    every (list, index) is given once, every list is at most half full."""
    from skillcred.registry_pg import PgRegistry

    url = pg_cluster.new_database()
    local = threading.local()
    opened: list[PgRegistry] = []
    lock = threading.Lock()

    def reg() -> PgRegistry:
        if not hasattr(local, "reg"):
            local.reg = PgRegistry.open(url)
            with lock:
                opened.append(local.reg)
        return local.reg

    def one(i: int) -> list[tuple[str, int]]:
        record, _ = _issue(reg(), f"urn:uuid:c{i}", size=64)
        return [(s[1], s[2]) for s in record.document["status"]]

    try:
        with ThreadPoolExecutor(24) as pool:
            results = list(pool.map(one, range(600)))
        pairs = [p for r in results for p in r]
        assert len(pairs) == 1200 and distinct(pairs)
        check = reg()
        assert check.count() == 600
        allocations = check.allocations()
        assert len(allocations) == 1200 and distinct([(a[0], a[1]) for a in allocations])
        per_list: dict[str, int] = {}
        for a in allocations:
            per_list[a[0]] = per_list.get(a[0], 0) + 1
        assert max(per_list.values()) <= 32
    finally:
        for r in opened:
            r.close()


def test_password_never_in_messages(pg_cluster: PgCluster) -> None:
    from skillcred.registry_pg import PgRegistry, redact_url

    assert redact_url("postgresql://vc:hunter2@db.example:5433/vc") == "postgresql://vc@db.example:5433/vc"
    bad = f"postgresql://skillcred:hunter2@127.0.0.1:{pg_cluster.port}/no_such_database"
    with pytest.raises(StoreError) as info:
        PgRegistry.open(bad, connect_timeout=5)
    assert "hunter2" not in str(info.value)
    assert "no_such_database" in str(info.value)


def test_nul_characters_are_refused_not_crashing(pg_cluster: PgCluster) -> None:
    from skillcred.registry_pg import PgRegistry

    with PgRegistry.open(pg_cluster.new_database()) as reg:
        record, _ = reg.issue(credential_id="urn:uuid:n", row_key=None, subject="did:x\x00y", achievement="",
                              kind="t", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                              status_base_url=BASE, list_size=131_072, build=lambda a: {"x": "\x00"},
                              purposes=())
        assert record.document == {"x": "\x00"}
        with pytest.raises((InvalidArgument, StoreError)):
            reg.get("urn:uuid:\x00")

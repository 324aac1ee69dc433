"""The talent pool on a real PostgreSQL server (a throwaway cluster on loopback): the same
scenarios as on SQLite (tests/test_pool.py), the same answers, and the partitioned schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pool_support import PROFILE, WHO, World, build_world
from service_support import PgCluster, start_postgres
from skillcred.errors import PoolError
from skillcred.esco import default_taxonomy
from skillcred.match import load_framework, load_profile
from skillcred.pool import Pool
from test_pool import (
    FRAMEWORK,
    add_all,
    check_consent_and_erasure,
    check_min_essential_filters,
    check_readding_replaces,
    check_revocation_after_add_drops_out_after_refresh,
    check_search_agrees_with_rank,
    check_search_log_holds_no_claim_data,
    holders,
)

pytestmark = pytest.mark.loopback


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    yield from start_postgres()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("pool-pg-world"))


@pytest.fixture(scope="module")
def framework() -> Any:
    return load_framework([FRAMEWORK], esco=default_taxonomy())


@pytest.fixture
def url(pg_cluster: PgCluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def pool(url: str) -> Iterator[Pool]:
    p = Pool.open(url, partitions=4)
    yield p
    p.close()


def test_search_agrees_with_rank(world: World, framework: Any, pool: Pool) -> None:
    check_search_agrees_with_rank(world, framework, pool)


def test_min_essential(world: World, framework: Any, pool: Pool) -> None:
    check_min_essential_filters(world, framework, pool)


def test_revoked_after_add_drops_out_after_refresh(world: World, framework: Any, pool: Pool) -> None:
    check_revocation_after_add_drops_out_after_refresh(world, framework, pool, "sem-cnc", "status-pg")


def test_consent_expiry_and_removal(world: World, framework: Any, pool: Pool) -> None:
    check_consent_and_erasure(world, framework, pool)


def test_search_log_holds_no_claim_data(world: World, framework: Any, pool: Pool, url: str) -> None:
    import psycopg

    def dump() -> str:
        with psycopg.connect(url) as c:
            return json.dumps(c.execute("SELECT * FROM pool_search_log").fetchall())

    check_search_log_holds_no_claim_data(world, framework, pool, dump)


def test_readding_replaces(world: World, framework: Any, pool: Pool) -> None:
    check_readding_replaces(world, framework, pool)


def test_same_answers_as_sqlite(world: World, framework: Any, pool: Pool, tmp_path: Any) -> None:
    with Pool.open(tmp_path / "p.sqlite") as lite:
        add_all(world, lite)
        add_all(world, pool)
        prof = load_profile(PROFILE)
        for k in (0, 1, 2, 5, 6):
            a = [h.to_dict() for h in lite.search(prof, framework=framework, min_essential=k)]
            b = [h.to_dict() for h in pool.search(prof, framework=framework, min_essential=k)]
            assert a == b
        assert lite.export(world.holders["jan"])["credentials"] == pool.export(world.holders["jan"])["credentials"]


def test_tables_are_hash_partitioned_by_holder(world: World, pool: Pool, url: str) -> None:
    import psycopg

    add_all(world, pool)
    with psycopg.connect(url) as c:
        parts = c.execute("SELECT parent.relname, COUNT(*) FROM pg_inherits JOIN pg_class parent "
                          "ON parent.oid = pg_inherits.inhparent WHERE parent.relkind = 'p' "
                          "GROUP BY parent.relname ORDER BY 1").fetchall()
        strategy = dict(c.execute("SELECT c.relname, p.partstrat FROM pg_partitioned_table p "
                                  "JOIN pg_class c ON c.oid = p.partrelid").fetchall())
        # each holder's rows of every table sit in the partition of the same remainder (the
        # holder's hash): one candidate's data is one partition's, never spread over several
        placed: dict[str, set[tuple[str, str]]] = {}
        for table in ("pool_candidates", "pool_claims", "pool_credentials", "pool_refsets", "pool_status"):
            for part, holder in c.execute(f"SELECT DISTINCT tableoid::regclass::text, holder FROM {table}"):
                placed.setdefault(table, set()).add((holder, part.rsplit("_p", 1)[1]))
    assert dict(parts) == {t: 4 for t in ("pool_audit", "pool_candidates", "pool_claims", "pool_credentials",
                                          "pool_refsets", "pool_status")}
    assert set(strategy.values()) == {"h"}
    assert len({h for h, _ in placed["pool_candidates"]}) == len(WHO)
    for table, rows in placed.items():
        assert rows <= placed["pool_candidates"], table  # a holder's rows: its candidate row's partition
        assert len({h for h, _ in rows}) == len(rows), table  # and only that one
    # a second instance opening the same database finds the schema and the data
    with Pool.open(url, partitions=4) as other:
        assert other.stats()["candidates"] == len(WHO)
        assert holders(other.search(load_profile(PROFILE), framework=load_framework([FRAMEWORK]),
                                    min_essential=0))


def test_unreachable_server_is_one_line_pool_error(pg_cluster: PgCluster) -> None:
    bad = pg_cluster.url.rsplit("/", 1)[0].replace(str(pg_cluster.port), "1") + "/nothing"
    with pytest.raises(PoolError, match="cannot connect") as exc:
        Pool.open(bad)
    assert "\n" not in str(exc.value)

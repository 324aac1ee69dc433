"""Scaling out: several service processes issue at once and never give a status index twice.

* PostgreSQL: four ``skillcred serve`` processes on their own loopback ports, all with
  ``--registry`` pointing at one database and the same ``--public-url`` (as behind a load
  balancer), take 2,000 issue requests from a thread pool, round robin.
* SQLite: one ``skillcred serve --workers 2`` (two worker processes on one registry file) takes
  2,000 issue requests the same way.

Each must produce 2,000 distinct (status list, index) pairs and 2,000 registry rows.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service_support import Client, PgCluster, Server, credential, distinct, make_issuer, start_postgres, start_server
from skillcred.registry import Registry

pytestmark = [pytest.mark.loopback, pytest.mark.slow]

N = 2000
THREADS = 16
PUBLIC_URL = "https://vc.roc.example"
HANG_GUARD = 120.0  # seconds; only keeps a broken refresh from hanging the run, never a speed claim


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    yield from start_postgres()


def issue_concurrently(servers: list[Server], auth: dict[str, str], did: str, n: int = N) -> list[tuple[str, int, str]]:
    """``n`` issue requests from a thread pool, spread round robin over ``servers``;
    returns (statusListCredential, statusListIndex, credential id) for each."""
    local = threading.local()

    def client(server: Server) -> Client:
        clients = getattr(local, "clients", None)
        if clients is None:
            clients = local.clients = {}
        if server.port not in clients:
            clients[server.port] = server.client(timeout=120)
        return clients[server.port]

    def one(i: int) -> tuple[str, int, str]:
        server = servers[i % len(servers)]
        cid = f"urn:uuid:{uuid.uuid4()}"
        reply = client(server).post("/credentials/issue", {
            "credential": credential(id=cid, issuer=did),
            "options": {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}},
        }, headers=auth)
        assert reply.status == 201, (server.port, reply.status, reply.raw[:300])
        entry = reply.json["verifiableCredential"]["credentialStatus"]
        return entry["statusListCredential"], int(entry["statusListIndex"]), cid

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(n)))


def revoked_at(client: Client, name: str, index: int) -> bool:
    """Whether the status list ``name`` that ``client``'s instance serves has bit ``index`` set."""
    from skillcred.status import BitstringStatusList

    encoded = client.get(f"/status/{name}").json["credentialSubject"]["encodedList"]
    return BitstringStatusList.decode(encoded).get(index) == 1


def test_four_instances_on_postgresql(pg_cluster: PgCluster, tmp_path: Path) -> None:
    from skillcred.registry_pg import PgRegistry

    url = pg_cluster.new_database()
    setup = make_issuer(tmp_path)
    servers: list[Server] = []
    try:
        for _ in range(4):
            servers.append(start_server(setup, "--registry", url, "--public-url", PUBLIC_URL))
        # a list opened by one instance is found by another at once (no stale "status unknown")
        a, b = servers[0].client(), servers[1].client()
        assert b.post("/credentials/verify", {"verifiableCredential": credential()}).status == 400  # b reads lists
        first = a.post("/credentials/issue", {"credential": credential(issuer=setup.did), "options": {
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}}},
            headers=setup.auth)
        assert first.status == 201
        checked = b.post("/credentials/verify", {"verifiableCredential": first.json["verifiableCredential"]})
        assert checked.status == 200, checked.raw

        results = issue_concurrently(servers, setup.auth, setup.did)  # throughput: benchmarks/load.py --registry

        pairs = [(lst, idx) for lst, idx, _ in results]
        assert len(pairs) == N and distinct(pairs)
        assert all(lst.startswith(PUBLIC_URL + "/status/revocation-") for lst, _ in pairs)
        with PgRegistry.open(url) as reg:
            assert reg.count() == N + 1
            allocations = [x for x in reg.allocations() if x[3] == "revocation"]
            assert len(allocations) == N and distinct([(x[0], x[1]) for x in allocations])
            assert {x[2] for x in allocations} == {cid for _, _, cid in results}

        # the instances share state: revoke through one, the others' lists and verifiers see it
        lst, idx, cid = results[0]
        reply = a.post("/credentials/status", {"credentialId": cid, "credentialStatus": [
            {"type": "BitstringStatusListEntry", "status": True, "statusPurpose": "revocation"}]}, headers=setup.auth)
        assert reply.status == 200
        # An instance told to re-read the registry (an event, no clock) serves the change at once.
        name = lst.rsplit("/", 1)[-1]
        c = servers[2].client()
        assert c.post(f"/status/{name}/publish", headers=setup.auth).status == 204
        assert revoked_at(c, name, idx)
        # Untold, b re-reads every status_refresh_seconds (1 s): waited for with a hang guard only.
        guard = time.monotonic() + HANG_GUARD
        while not revoked_at(b, name, idx):
            if time.monotonic() > guard:
                pytest.fail(f"hang guard: instance 2 never saw the revocation in {HANG_GUARD:.0f}s")
            time.sleep(0.2)
    finally:
        for s in servers:
            s.stop()


def test_two_workers_on_sqlite(tmp_path: Path) -> None:
    setup = make_issuer(tmp_path)
    server = start_server(setup, workers=2)
    try:
        results = issue_concurrently([server], setup.auth, setup.did)  # throughput: benchmarks/load.py --workers 2
        log = server.log()
    finally:
        server.stop()
    pairs = [(lst, idx) for lst, idx, _ in results]
    assert len(pairs) == N and distinct(pairs)
    with Registry.open(setup.folder / "registry.sqlite") as reg:
        assert reg.count() == N
        ids = {r.id for r in reg.records()}
    assert ids == {cid for _, _, cid in results}
    assert log.count("Started server process") == 2  # both workers ran

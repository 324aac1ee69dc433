"""One registry Protocol, two backends: SQLite and PostgreSQL must mean the same thing.

Every behaviour of :class:`skillcred.registry.RegistryBackend` that issuing, status publication,
OpenID4VCI and the service rely on is checked here against both backends (PostgreSQL: a
throwaway cluster on loopback, as in test_registry_pg.py), then the command line is run against
a PostgreSQL registry (``--registry``), and the batch module is checked not to import the issuer
role.
"""

from __future__ import annotations

import ast
import csv
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from service_support import PgCluster, start_postgres
from skillcred.errors import InvalidArgument, StoreError
from skillcred.registry import (
    Allocation,
    IssueRequest,
    Registry,
    RegistryBackend,
    open_registry,
)
from support.cli import CliResult, run_cli

pytestmark = pytest.mark.loopback

BASE = "https://roc.example/status"
PASSPHRASE = "protocol test passphrase"
CNC = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    yield from start_postgres()


@pytest.fixture(params=["sqlite", "postgresql"])
def reg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RegistryBackend]:
    """Each backend in turn, opened the way the library opens a ``--registry`` value."""
    if request.param == "sqlite":
        backend = open_registry(tmp_path / "registry.sqlite", create=True)
    else:
        backend = open_registry(request.getfixturevalue("pg_cluster").new_database())
    yield backend
    backend.close()


def _request(cid: str, row_key: str | None = None, *, subject: str = "did:example:holder",
             achievement: str = "ach", issued_at: str = "2025-01-01T00:00:00Z") -> IssueRequest:
    return IssueRequest(credential_id=cid, row_key=row_key, subject=subject, achievement=achievement,
                        kind="skill", issued_at=issued_at, valid_until=None, status_base_url=BASE,
                        list_size=1024)


def _doc(cid: str, allocs: list[Allocation]) -> dict[str, Any]:
    return {"id": cid, "status": [[a.purpose, a.list_url, a.index] for a in allocs]}


def _signer(requests: list[IssueRequest], fail: frozenset[str] | set[str] = frozenset()) -> Any:
    def build(pending: list[tuple[int, list[Allocation]]]) -> Iterator[Any]:
        for pos, allocs in pending:
            cid = requests[pos].credential_id
            yield InvalidArgument(f"cannot build {cid}") if cid in fail else _doc(cid, allocs)

    return build


def _allocated(reg: RegistryBackend) -> int:
    """Indexes held, from the status lists' point of view (every allocation, set or not)."""
    if isinstance(reg, Registry):
        return int(reg._conn.execute("SELECT COUNT(*) FROM allocations").fetchone()[0])
    return len(reg.allocations())  # type: ignore[attr-defined]


# -- the Protocol itself --------------------------------------------------------------------------


def test_both_backends_are_complete_registry_backends(reg: RegistryBackend) -> None:
    assert isinstance(reg, RegistryBackend)
    wanted = {name for name, _ in inspect.getmembers(RegistryBackend, inspect.isfunction)
              if not name.startswith("_")}
    assert {"issue", "issue_many", "iter_records", "get", "set_status", "status_lists", "token_status_values",
            "add_offers", "exchange_offer_code", "claim_offer_token", "finish_offer", "add_nonce",
            "take_nonce"} <= wanted
    for name in wanted:  # the same parameters, so a caller cannot tell the backends apart
        mine = inspect.signature(getattr(type(reg), name))
        theirs = inspect.signature(getattr(RegistryBackend, name))
        assert list(mine.parameters) == list(theirs.parameters), name


def test_open_registry_picks_the_backend_from_the_value(tmp_path: Path, pg_cluster: PgCluster) -> None:
    from skillcred.registry_pg import PgRegistry

    with open_registry(pg_cluster.new_database()) as pg:
        assert isinstance(pg, PgRegistry)
    with open_registry(f"sqlite:///{tmp_path / 'a.sqlite'}", create=True) as lite:
        assert isinstance(lite, Registry) and (tmp_path / "a.sqlite").exists()
    for missing in (tmp_path / "none.sqlite", f"sqlite:///{tmp_path / 'none2.sqlite'}"):
        with pytest.raises(StoreError, match="registry not found"):
            open_registry(missing)
    assert not (tmp_path / "none.sqlite").exists() and not (tmp_path / "none2.sqlite").exists()


@pytest.mark.parametrize("purposes", [("revocation", "revocation"), ("expiry",), ("revocation", "Suspension")])
def test_bad_purposes_are_refused_before_anything_is_allocated(reg: RegistryBackend,
                                                               purposes: tuple[str, ...]) -> None:
    with pytest.raises(InvalidArgument, match="purpose"):
        reg.issue(credential_id="urn:uuid:a", row_key=None, subject="s", achievement="a", kind="skill",
                  issued_at="2025-01-01T00:00:00Z", valid_until=None, status_base_url=BASE, list_size=64,
                  build=lambda allocs: _doc("urn:uuid:a", allocs), purposes=purposes)
    with pytest.raises(InvalidArgument, match="purpose"):
        reg.issue_many([_request("urn:uuid:b")], _signer([_request("urn:uuid:b")]), purposes=purposes)
    assert reg.count() == 0 and _allocated(reg) == 0


# -- issue_many -----------------------------------------------------------------------------------


def test_issue_many_records_each_with_its_own_indexes(reg: RegistryBackend) -> None:
    requests = [_request(f"urn:uuid:{i}", f"k{i}") for i in range(5)]
    out = reg.issue_many(requests, _signer(requests))
    assert [o[1] for o in out if not isinstance(o, BaseException)] == [True] * 5
    assert reg.count() == 5
    slots = [tuple(s[1:]) for r in requests for s in reg.get(r.credential_id).document["status"]]
    assert len(slots) == 10 and len(set(slots)) == 10  # never an index twice
    assert {s[0] for s in slots} == {f"{BASE}/revocation-1", f"{BASE}/suspension-1"}


def test_issue_many_returns_registered_row_keys_without_issuing(reg: RegistryBackend) -> None:
    first = [_request("urn:uuid:a", "k1")]
    reg.issue_many(first, _signer(first))
    again = [_request("urn:uuid:other", "k1"), _request("urn:uuid:b", "k2")]
    out = reg.issue_many(again, _signer(again))
    assert not isinstance(out[0], BaseException) and out[0][0].id == "urn:uuid:a" and out[0][1] is False
    assert not isinstance(out[1], BaseException) and out[1][1] is True
    assert reg.count() == 2 and _allocated(reg) == 4


def test_issue_many_failed_row_records_nothing_and_frees_its_indexes(reg: RegistryBackend) -> None:
    requests = [_request(f"urn:uuid:{i}", f"k{i}") for i in range(4)]
    out = reg.issue_many(requests, _signer(requests, fail={"urn:uuid:1", "urn:uuid:3"}))
    assert [isinstance(o, InvalidArgument) for o in out] == [False, True, False, True]
    assert "urn:uuid:1" in str(out[1])
    assert reg.count() == 2 and _allocated(reg) == 4
    with pytest.raises(StoreError, match="no credential"):
        reg.get("urn:uuid:1")


@pytest.mark.parametrize("keys", [["k", "k"], ["a", "b", "a"]])
def test_issue_many_refuses_a_row_key_twice_in_one_call(reg: RegistryBackend, keys: list[str]) -> None:
    requests = [_request(f"urn:uuid:{i}", k) for i, k in enumerate(keys)]
    with pytest.raises(InvalidArgument, match="distinct"):
        reg.issue_many(requests, _signer(requests))
    assert reg.count() == 0 and _allocated(reg) == 0


def test_issue_many_with_too_few_results_records_nothing(reg: RegistryBackend) -> None:
    requests = [_request(f"urn:uuid:{i}") for i in range(3)]

    def short(pending: list[tuple[int, list[Allocation]]]) -> list[Any]:
        return [_doc(requests[p].credential_id, a) for p, a in pending[:2]]

    with pytest.raises(InvalidArgument, match="one result per request"):
        reg.issue_many(requests, short)
    assert reg.count() == 0 and _allocated(reg) == 0


def test_issue_many_refuses_an_id_already_registered(reg: RegistryBackend) -> None:
    first = [_request("urn:uuid:a")]
    reg.issue_many(first, _signer(first))
    again = [_request("urn:uuid:b"), _request("urn:uuid:a")]
    with pytest.raises(StoreError, match="already registered"):
        reg.issue_many(again, _signer(again))
    assert reg.count() == 1 and _allocated(reg) == 2


def test_a_builder_that_raises_leaves_nothing_behind(reg: RegistryBackend) -> None:
    requests = [_request(f"urn:uuid:{i}") for i in range(3)]

    def crash(pending: list[tuple[int, list[Allocation]]]) -> Iterator[Any]:
        yield _doc(requests[0].credential_id, pending[0][1])
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        reg.issue_many(requests, crash)
    assert reg.count() == 0 and _allocated(reg) == 0


# -- reading ----------------------------------------------------------------------------------------


def test_iter_records_filters_orders_and_can_leave_documents_out(reg: RegistryBackend,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcred.registry_pg as pg

    monkeypatch.setattr(pg, "_PAGE", 2)  # PostgreSQL reads pages: cross several of them
    requests = [_request(f"urn:uuid:{i}", subject=f"did:example:{i % 2}", achievement=f"a{i % 3}",
                         issued_at="2025-01-02T00:00:00Z" if i < 5 else "2025-01-01T00:00:00Z")
                for i in range(7)]
    reg.issue_many(requests, _signer(requests))
    order = [r.id for r in reg.iter_records()]
    # by issue date, and in the order recorded where the dates tie
    assert order == ["urn:uuid:5", "urn:uuid:6", "urn:uuid:0", "urn:uuid:1", "urn:uuid:2", "urn:uuid:3", "urn:uuid:4"]
    assert [r.id for r in reg.records()] == order
    assert [r.id for r in reg.iter_records(subject="did:example:1")] == ["urn:uuid:5", "urn:uuid:1", "urn:uuid:3"]
    assert [r.id for r in reg.iter_records(achievement="a0")] == ["urn:uuid:6", "urn:uuid:0", "urn:uuid:3"]
    assert [r.id for r in reg.iter_records(subject="did:example:0", achievement="a2")] == ["urn:uuid:2"]
    assert list(reg.iter_records(subject="did:example:nobody")) == []
    bare = list(reg.iter_records(with_documents=False))
    assert all(r.document == {} for r in bare)
    full = {r.id: r.document for r in reg.iter_records()}
    assert full["urn:uuid:3"]["id"] == "urn:uuid:3"


def test_status_flags_lists_and_token_values_agree(reg: RegistryBackend) -> None:
    requests = [_request(f"urn:uuid:{i}") for i in range(3)]
    reg.issue_many(requests, _signer(requests))
    assert reg.set_status("urn:uuid:0", "revocation", True)
    assert reg.set_status("urn:uuid:1", "suspension", True)
    assert not reg.set_status("urn:uuid:1", "suspension", True)  # already
    with pytest.raises(InvalidArgument, match="permanent"):
        reg.set_status("urn:uuid:0", "revocation", False)
    with pytest.raises(InvalidArgument, match="purpose"):
        reg.set_status("urn:uuid:0", "expiry", True)
    with pytest.raises(StoreError, match="no credential"):
        reg.set_status("urn:uuid:none", "revocation", True)
    flags = {r.id: (r.revoked, r.suspended) for r in reg.iter_records(with_documents=False)}
    assert flags == {"urn:uuid:0": (True, False), "urn:uuid:1": (False, True), "urn:uuid:2": (False, False)}
    rev = {s[0]: s[2] for s in reg.get("urn:uuid:0").document["status"]}
    sus_holder = {s[0]: s[2] for s in reg.get("urn:uuid:1").document["status"]}
    lists = {x.purpose: x for x in reg.status_lists()}
    assert lists["revocation"].set_indexes == (rev["revocation"],)
    assert lists["suspension"].set_indexes == (sus_holder["suspension"],)
    assert reg.token_status_values() == {f"{BASE}/revocation-1": {rev["revocation"]: 1,
                                                                  sus_holder["revocation"]: 2}}
    assert reg.token_list_urls_in_use() == set()  # no record names a Token Status List


# -- OpenID4VCI offers and nonces -------------------------------------------------------------------

NOW = 1_800_000_000


def _offer_rows(n: int, *, tx: str | None = None, expires: int = NOW + 3600) -> list[Any]:
    return [(f"offer-{i}", f"code-{i}", tx, "cnc_jwt", {"name": f"w{i}", "format": "jwt_vc_json"}, NOW, expires)
            for i in range(n)]


def test_offers_are_recorded_and_limited(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(2), max_open=3, now=NOW)
    assert reg.offer("offer-1").state == "offered" and reg.offer("offer-1").offer["name"] == "w1"
    assert reg.offered_configurations() == {"cnc_jwt": {"format": "jwt_vc_json", "name": "w0"}}
    with pytest.raises(InvalidArgument, match="too many open offers"):
        reg.add_offers([("offer-9", "code-9", None, "x", {}, NOW, NOW + 60)] * 2, max_open=3, now=NOW)
    with pytest.raises(StoreError, match="no offer"):
        reg.offer("offer-9")  # the refused call recorded nothing
    # expired offers do not count as open
    reg.add_offers([("offer-5", "code-5", None, "x", {}, NOW, NOW + 60)], max_open=3, now=NOW)
    reg.add_offers([("offer-6", "code-6", None, "x", {}, NOW, NOW + 60)], max_open=3, now=NOW + 61)


def test_a_code_is_exchanged_once(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1), max_open=10, now=NOW)
    args = {"now": NOW, "token_expires_at": NOW + 300, "max_tx_attempts": 3}
    assert reg.exchange_offer_code("code-0", None, "tok", **args)[0] == "ok"
    assert reg.exchange_offer_code("code-0", None, "tok2", **args)[0] == "used"
    assert reg.exchange_offer_code("code-nope", None, "tok3", **args) == ("unknown", None)
    assert reg.offer("offer-0").state == "token"


def test_an_expired_offer_is_not_exchanged(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1, expires=NOW + 10), max_open=10, now=NOW)
    outcome, offer = reg.exchange_offer_code("code-0", None, "tok", now=NOW + 10, token_expires_at=NOW + 300,
                                             max_tx_attempts=3)
    assert outcome == "expired" and offer is not None and reg.offer("offer-0").state == "offered"


def test_wrong_transaction_codes_lock_the_offer(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1, tx="right"), max_open=10, now=NOW)
    args = {"now": NOW, "token_expires_at": NOW + 300, "max_tx_attempts": 3}
    assert reg.exchange_offer_code("code-0", None, "t", **args)[0] == "tx_missing"
    assert reg.exchange_offer_code("code-0", "wrong", "t", **args)[0] == "tx_wrong"
    assert reg.exchange_offer_code("code-0", "wrong", "t", **args)[0] == "tx_wrong"
    assert reg.exchange_offer_code("code-0", "wrong", "t", **args)[0] == "tx_locked"
    assert reg.offer("offer-0").state == "dead"
    # even the right code is refused now
    assert reg.exchange_offer_code("code-0", "right", "t", **args)[0] == "tx_locked"


def test_the_right_transaction_code_is_accepted(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1, tx="right"), max_open=10, now=NOW)
    args = {"now": NOW, "token_expires_at": NOW + 300, "max_tx_attempts": 3}
    assert reg.exchange_offer_code("code-0", "wrong", "t", **args)[0] == "tx_wrong"
    assert reg.exchange_offer_code("code-0", "right", "t", **args)[0] == "ok"


def test_a_token_issues_once_and_a_failure_gives_it_back(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1), max_open=10, now=NOW)
    reg.exchange_offer_code("code-0", None, "tok", now=NOW, token_expires_at=NOW + 300, max_tx_attempts=3)
    assert reg.claim_offer_token("tok", now=NOW)[0] == "ok"
    assert reg.claim_offer_token("tok", now=NOW)[0] == "used"  # while issuing
    reg.finish_offer("offer-0", None)  # issuing failed: the wallet may try again
    assert reg.offer("offer-0").state == "token"
    assert reg.claim_offer_token("tok", now=NOW)[0] == "ok"
    reg.finish_offer("offer-0", "urn:uuid:done")
    assert reg.offer("offer-0").state == "issued" and reg.offer("offer-0").credential_id == "urn:uuid:done"
    assert reg.claim_offer_token("tok", now=NOW)[0] == "used"
    assert reg.claim_offer_token("other", now=NOW) == ("unknown", None)


def test_an_expired_token_is_refused(reg: RegistryBackend) -> None:
    reg.add_offers(_offer_rows(1), max_open=10, now=NOW)
    reg.exchange_offer_code("code-0", None, "tok", now=NOW, token_expires_at=NOW + 300, max_tx_attempts=3)
    assert reg.claim_offer_token("tok", now=NOW + 300)[0] == "expired"
    assert reg.offer("offer-0").state == "token"


def test_nonces_are_used_once_expire_and_are_limited(reg: RegistryBackend) -> None:
    assert reg.add_nonce("n1", expires_at=NOW + 60, now=NOW, max_open=2)
    assert reg.add_nonce("n2", expires_at=NOW + 5, now=NOW, max_open=2)
    assert not reg.add_nonce("n3", expires_at=NOW + 60, now=NOW, max_open=2)  # two waiting
    assert reg.take_nonce("n1", now=NOW) and not reg.take_nonce("n1", now=NOW)
    assert not reg.take_nonce("n2", now=NOW + 5)  # expired
    assert not reg.take_nonce("never", now=NOW)
    assert reg.add_nonce("n3", expires_at=NOW + 60, now=NOW + 6, max_open=2)


# -- the issuer on either backend -------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    from skillcred.issuer import init_issuer

    root = tmp_path / "roc"
    init_issuer(root, name="ROC Techniek", url="https://roc.example", passphrase=PASSPHRASE.encode())
    return root


def _roster(path: Path, n: int) -> Path:
    from skillcred.did import key_did
    from skillcred.keys import KeyPair

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "name", "achievement", "level"])
        for i in range(n):
            w.writerow([key_did(KeyPair.generate("ed25519").public_key), f"Worker {i}", str(CNC), "3"])
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_issues_into_postgresql_on_one_or_more_workers(folder: Path, tmp_path: Path, pg_cluster: PgCluster,
                                                               workers: int) -> None:
    from skillcred.issuer import Issuer, iter_issued

    url = pg_cluster.new_database()
    roster = _roster(tmp_path / "klas.csv", 6)
    with Issuer.open(folder, PASSPHRASE.encode(), registry=url) as iss:
        result = iss.issue_batch(roster, tmp_path / "out", workers=workers)
        assert result.issued_count == 6 and not result.errors
        again = iss.issue_batch(roster, tmp_path / "out", workers=workers)
        assert again.issued_count == 0 and again.skipped_count == 6
    assert len(list(iter_issued(folder, registry=url))) == 6
    assert list(iter_issued(folder)) == []  # nothing went into the folder's own registry
    assert len(list((tmp_path / "out").glob("*.json"))) == 6


# -- the command line with --registry postgresql://... --------------------------------------------


def _run(*args: str | Path, env_extra: dict[str, str] | None = None) -> CliResult:
    """In this process (run_cli): the file is ``loopback``, so the command reaches the test's
    PostgreSQL on 127.0.0.1 as a child process would."""
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLCRED_DEBUG",)}
    env["SKILLCRED_PASSPHRASE"] = PASSPHRASE
    env.update(env_extra or {})
    proc = run_cli(*args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_the_institute_works_on_a_postgresql_registry_from_the_command_line(
        folder: Path, tmp_path: Path, pg_cluster: PgCluster) -> None:
    from skillcred.did import key_did
    from skillcred.keys import KeyPair

    url = pg_cluster.new_database()
    reg = ("--registry", url)
    jan = key_did(KeyPair.generate("ed25519").public_key)
    proc = _run("issue", "--issuer", folder, "--achievement", CNC, "--subject", jan, "--level", "3",
                "-o", tmp_path / "jan.json", *reg)
    assert proc.returncode == 0, proc.stderr
    cid = proc.stdout.splitlines()[0]
    proc = _run("issue", "--issuer", folder, "--batch", _roster(tmp_path / "klas.csv", 3),
                "--out-dir", tmp_path / "out", *reg)
    assert proc.returncode == 0 and "issued 3" in proc.stdout, proc.stderr

    proc = _run("issuer", "list", folder, "--json", *reg)
    listed = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and len(listed) == 4 and listed[0]["id"] == cid
    assert _run("issuer", "list", folder, "--json").stdout == ""  # the folder's own registry is empty

    proc = _run("issuer", "export", folder, cid, "-o", tmp_path / "again.json", *reg)
    assert proc.returncode == 0
    assert json.loads((tmp_path / "again.json").read_text()) == json.loads((tmp_path / "jan.json").read_text())

    assert _run("revoke", "--issuer", folder, listed[1]["id"], *reg).stdout.endswith("revoked\n")
    assert "already" in _run("revoke", "--issuer", folder, listed[1]["id"], *reg).stdout
    assert _run("suspend", "--issuer", folder, cid, *reg).stdout.endswith("suspended\n")
    assert _run("unsuspend", "--issuer", folder, listed[2]["id"], *reg).stdout.endswith("already unsuspended\n")
    statuses = {x["id"]: x["status"] for x in map(json.loads, _run("issuer", "list", folder, "--json", *reg)
                                                     .stdout.splitlines())}
    assert statuses[listed[1]["id"]] == "revoked" and statuses[cid] == "suspended"
    assert _run("revoke", "--issuer", folder, "urn:uuid:nobody", *reg).returncode == 2

    proc = _run("status", "publish", "--issuer", folder, "--out-dir", tmp_path / "status", *reg)
    assert proc.returncode == 0, proc.stderr
    index = json.loads((tmp_path / "status" / "index.json").read_text())
    assert len(index) == 2  # a revocation and a suspension list

    from skillcred.registry_pg import PgRegistry
    from skillcred.status import BitstringStatusList

    with PgRegistry.open(url) as pg:
        revoked_at = {s.purpose: s.set_indexes for s in pg.status_lists()}
    published = {}
    for name in index.values():
        doc = json.loads((tmp_path / "status" / name).read_text())
        bits = BitstringStatusList.decode(doc["credentialSubject"]["encodedList"])
        published[doc["credentialSubject"]["statusPurpose"]] = tuple(i for i in range(bits.size) if bits.get(i))
    assert published == revoked_at and all(len(v) == 1 for v in published.values())

    proc = _run("offer", "--issuer", folder, "--achievement", CNC, "--subject-name", "Jan", "--level", "3", *reg)
    assert proc.returncode == 0, proc.stderr
    with PgRegistry.open(url) as pg:
        assert list(pg.offered_configurations()) != []
    with Registry.open(folder / "registry.sqlite") as lite:
        assert lite.offered_configurations() == {}


@pytest.mark.parametrize("command", [
    ("issuer", "list", "{folder}"),
    ("issuer", "export", "{folder}", "urn:uuid:x"),
    ("revoke", "--issuer", "{folder}", "urn:uuid:x"),
    ("status", "publish", "--issuer", "{folder}", "--out-dir", "{out}"),
    ("offer", "--issuer", "{folder}", "--achievement", str(CNC), "--subject-name", "Jan", "--level", "3"),
])
def test_an_unreachable_server_is_one_line_without_the_password(folder: Path, tmp_path: Path,
                                                                command: tuple[str, ...]) -> None:
    args = [a.format(folder=folder, out=tmp_path / "status") for a in command]
    proc = _run(*args, "--registry", "postgresql://roc:s3cr3t-pw@127.0.0.1:1/registry")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot connect" in proc.stderr, proc.stderr
    assert "s3cr3t-pw" not in proc.stderr + proc.stdout and "127.0.0.1" in proc.stderr
    assert not (tmp_path / "status").exists()  # nothing half-written


@pytest.mark.parametrize("value", ["mysql://roc@db/registry", "https://db.example/registry"])
def test_a_registry_of_another_kind_is_refused(folder: Path, value: str) -> None:
    proc = _run("issuer", "list", folder, "--registry", value)
    assert proc.returncode == 2 and "postgresql://" in proc.stderr and proc.stderr.count("\n") == 1
    assert value.split("://")[0] + "://" in proc.stderr


def test_a_missing_sqlite_registry_file_is_not_created(folder: Path, tmp_path: Path) -> None:
    proc = _run("revoke", "--issuer", folder, "urn:uuid:x", "--registry", tmp_path / "elsewhere.sqlite")
    assert proc.returncode == 2 and "registry not found" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "elsewhere.sqlite").exists()


# -- the batch module serves the issuer without importing it ----------------------------------------


def test_batch_module_does_not_import_the_issuer_role() -> None:
    source = (REPO / "src" / "skillcred" / "_internal" / "batch.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert "skillcred.issuer" not in imported and "skillcred" not in imported
    assert not any(m.startswith(("skillcred.issuer", "skillcred.oid4vci", "skillcred.wallet")) for m in imported)
    # and importing it at run time pulls no role module in either
    code = ("import sys, skillcred._internal.batch; "
            "print(sorted(m for m in sys.modules if m in ('skillcred.issuer', 'skillcred.wallet')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")}).stdout
    assert out.strip() == "[]"


def test_batch_workers_sign_with_the_signer_they_are_given(tmp_path: Path) -> None:
    from skillcred._internal import batch

    pools = batch.Pools(_fake_signer, ("tag",), 2)
    try:
        jobs = [batch.BuildJob(definition=0, credential_id=f"urn:uuid:{i}", subject="s", name=None, level=None,
                               evidence=None, valid_from=None, valid_until=None, allocations=())
                for i in range(5)]
        got = list(pools.build({0: "def"}, jobs))  # type: ignore[dict-item]
    finally:
        pools.close()
    assert [g[0] for g in got[:3]] == [{"id": "urn:uuid:0", "tag": "tag", "definition": "def"},
                                       {"id": "urn:uuid:1", "tag": "tag", "definition": "def"},
                                       None]
    # the failed row's message comes back with its error code (and field), for the parent to word
    failed = got[2][1]
    assert str(failed) == "row 2 cannot be built" and (failed.code, failed.field) == ("invalid_argument", None)
    assert got[4][0] is not None and got[3][0] is not None


def _fake_signer(tag: str) -> Any:
    """A signer factory as the issuer passes one: module-level, its arguments plain data."""
    def sign(definition: Any, job: Any) -> dict[str, Any]:
        if job.credential_id.endswith(":2"):
            raise InvalidArgument("row 2 cannot be built")
        return {"id": job.credential_id, "tag": tag, "definition": definition}

    return sign

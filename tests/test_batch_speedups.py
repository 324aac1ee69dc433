"""What batch issuing does faster must give what the plain path gives (issue 22 item 3).

Why: a worker signs with ``add_proof_to_own`` (no depth walk, no deep copy, the proof
configuration canonicalized once per ``created`` second) instead of ``add_proof``; the parent
plans a chunk's rows on a background thread (``batch.prefetch``) while the workers sign the
one before; a batch that keeps no records has each document come back from its worker as the
JSON text the registry stores (``EncodedDocument``). A proof that differs by a byte, a planner
that reorders, drops or swallows a row or an exception, or a registry text that is not the
written credential would break the batch's promises (the same credentials as ``issue``, each
row once, a failure raised where it happened), so each is checked against the plain path
here. The end-to-end guarantees (kill -9, re-runs) are in test_batch_journal.py and
test_parallel_batch.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from skillcred._internal import batch
from skillcred.did import key_did
from skillcred.errors import ProofError
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.proofs import CRYPTOSUITES, add_proof, add_proof_to_own, check_proofs
from skillcred.proofs._data_integrity import canonical_form
from skillcred.registry import EncodedDocument, IssueRequest, Registry
from support.rosters import write_roster

REPO = Path(__file__).resolve().parents[1]
CNC = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"
CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Three unsigned credentials as an issuer builds them (different subjects and names)."""
    folder = tmp_path_factory.mktemp("speedups") / "issuer"
    init_issuer(folder, name="ROC Techniek", url="https://roc.example")
    definition = load_achievement(CNC)
    out = []
    with Issuer.open(folder) as iss:
        for i in range(3):
            subject = key_did(KeyPair.generate("ed25519").public_key)
            record, _new = iss.issue(definition, subject, name=f"Student {i}", level=str(1 + i))
            out.append({k: v for k, v in record.document.items() if k != "proof"})
    return out


def _vm(key: KeyPair) -> str:
    did = key_did(key.public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_own_proof_is_byte_for_byte_add_proof(credentials: list[dict[str, Any]], suite: str) -> None:
    # Ed25519 signatures are deterministic: the same input gives the same proof value
    key = KeyPair.generate("ed25519")
    cache: dict[str, str] = {}
    for doc in credentials:
        own = add_proof_to_own(doc, key, verification_method=_vm(key), cryptosuite=suite, created=CREATED,
                               config_cache=cache)
        plain = add_proof(doc, key, verification_method=_vm(key), cryptosuite=suite, created=CREATED)
        assert own == plain
        assert "proof" not in doc  # the caller's document is left as it was
    assert len(cache) == 1  # one `created`, one suite: canonicalized once for three credentials


@pytest.mark.parametrize(("key_type", "suite"), [("p256", "ecdsa-rdfc-2019"), ("p384", "ecdsa-rdfc-2019"),
                                                 ("p256", "ecdsa-jcs-2019")])
def test_own_ecdsa_proof_has_add_proofs_fields_and_verifies(credentials: list[dict[str, Any]], key_type: str,
                                                             suite: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    cache: dict[str, str] = {}
    doc = credentials[0]
    own = add_proof_to_own(doc, key, verification_method=_vm(key), cryptosuite=suite, created=CREATED,
                           config_cache=cache)
    plain = add_proof(doc, key, verification_method=_vm(key), cryptosuite=suite, created=CREATED)
    assert {k: v for k, v in own["proof"].items() if k != "proofValue"} == \
        {k: v for k, v in plain["proof"].items() if k != "proofValue"}
    assert check_proofs(own, expected_purpose="assertionMethod").verified
    # the curve's hash is part of the cache key: P-384's SHA-384 form is not reused for P-256
    (key_text,) = cache
    assert key_text.startswith("sha384 " if key_type == "p384" else "sha256 ")


def test_a_cached_configuration_is_the_one_signed_for_each_created_second(credentials: list[dict[str, Any]]) -> None:
    key = KeyPair.generate("ed25519")
    cache: dict[str, str] = {}
    seconds = [datetime(2026, 3, 1, 9, 30, s, tzinfo=UTC) for s in (0, 1, 0, 2, 1)]
    for created in seconds:
        own = add_proof_to_own(credentials[1], key, verification_method=_vm(key), cryptosuite="eddsa-rdfc-2022",
                               created=created, config_cache=cache)
        assert own == add_proof(credentials[1], key, verification_method=_vm(key),
                                cryptosuite="eddsa-rdfc-2022", created=created)
    assert len(cache) == 3
    for text in cache.values():  # each entry is a real canonical form, not a stale neighbour
        assert "2026-03-01T09:30:0" in text
    suite = CRYPTOSUITES["eddsa-rdfc-2022"]
    config = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-03-01T09:30:02Z",
              "verificationMethod": _vm(key), "proofPurpose": "assertionMethod",
              "@context": credentials[1]["@context"]}
    assert canonical_form(suite, config, "sha256", None) in cache.values()


def test_the_cache_stays_small(credentials: list[dict[str, Any]]) -> None:
    key = KeyPair.generate("ed25519")
    cache: dict[str, str] = {}
    for minute in range(3):
        for second in range(60):
            add_proof_to_own(credentials[2], key, verification_method=_vm(key), cryptosuite="eddsa-jcs-2022",
                             created=datetime(2026, 3, 1, 9, minute, second, tzinfo=UTC), config_cache=cache)
            assert len(cache) <= 64


@pytest.mark.parametrize("case", ["has-proof", "sd-suite", "wrong-key"])
def test_own_proof_refuses_what_it_is_not_for(credentials: list[dict[str, Any]], case: str) -> None:
    key = KeyPair.generate("p256" if case == "sd-suite" else "ed25519")
    doc = credentials[0]
    suite = {"has-proof": "eddsa-rdfc-2022", "sd-suite": "ecdsa-sd-2023", "wrong-key": "ecdsa-rdfc-2019"}[case]
    if case == "has-proof":
        doc = add_proof(doc, key, verification_method=_vm(key), created=CREATED)
    with pytest.raises(ProofError):
        add_proof_to_own(doc, key, verification_method=_vm(key), cryptosuite=suite, created=CREATED,
                         config_cache={})


# -- batch.prefetch -------------------------------------------------------------------------------


def test_prefetch_yields_everything_in_order() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(200):
            produced.append(i)
            yield i

    assert list(batch.prefetch(items())) == list(range(200))
    assert produced == list(range(200))  # each produced once
    assert list(batch.prefetch(iter([]))) == []


@pytest.mark.parametrize("at", [0, 1, 7])
def test_prefetch_raises_the_producers_exception_where_it_happened(at: int) -> None:
    def items() -> Iterator[int]:
        for i in range(10):
            if i == at:
                raise ValueError(f"row {i} is broken")
            yield i

    got: list[int] = []
    with pytest.raises(ValueError, match=f"row {at} is broken"):
        for item in batch.prefetch(items()):
            got.append(item)
    assert got == list(range(at))


def test_prefetch_stops_its_thread_when_the_consumer_stops_early() -> None:
    produced: list[int] = []
    before = threading.active_count()

    def items() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    gen = batch.prefetch(items(), depth=1)
    assert next(gen) == 0
    gen.close()
    assert threading.active_count() == before  # joined, not left running
    # at most: the one consumed, one in the queue, one being put when the stop came
    assert len(produced) <= 3


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_prefetch_never_runs_further_ahead_than_its_queue(depth: int) -> None:
    # memory stays flat: the planner holds at most `depth` planned chunks beyond the consumer's
    consumed = 0
    leads: list[int] = []

    def items() -> Iterator[int]:
        for i in range(300):
            leads.append(i - consumed)  # items made before this one but not yet handed out
            yield i

    for item in batch.prefetch(items(), depth=depth):
        consumed = item + 1
    assert consumed == 300
    # queued (depth) + the one being put + the one taken off the queue but not yet counted
    assert max(leads) <= depth + 2, max(leads)


# -- EncodedDocument: the worker's JSON text goes into the registry as it is ------------------


def _request(i: int) -> IssueRequest:
    return IssueRequest(credential_id=f"urn:uuid:enc-{i}", row_key=f"enc-{i}", subject="did:example:s",
                        achievement="a", kind="skill", issued_at="2025-01-01T00:00:00Z", valid_until=None,
                        status_base_url="https://roc.example/status", list_size=1024)


def test_issue_many_stores_an_encoded_document_as_it_is_and_returns_no_document(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    docs = [{"id": f"urn:uuid:enc-{i}", "name": f"Ünïcode {i}", "n": [i, None, True]} for i in range(4)]
    texts = [json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in docs]

    def build(pending: list[tuple[int, list[Any]]]) -> list[Any]:
        # a mix, as a batch never sends but the registry must keep apart: text, object, failure
        return [EncodedDocument(texts[pos]) if pos % 3 == 0 else ValueError("no") if pos == 2 else docs[pos]
                for pos, _a in pending]

    out = reg.issue_many([_request(i) for i in range(4)], build)
    assert isinstance(out[2], ValueError)
    assert out[0][0].document == {} and out[3][0].document == {}  # type: ignore[index]
    assert out[1][0].document == docs[1]  # type: ignore[index]
    stored = dict(reg._conn.execute("SELECT id, document FROM credentials").fetchall())
    assert stored["urn:uuid:enc-0"] == texts[0] and stored["urn:uuid:enc-3"] == texts[3]  # byte for byte
    for i in (0, 1, 3):  # and read back as the documents they encode
        assert reg.get(f"urn:uuid:enc-{i}").document == docs[i]
    assert reg.count() == 3
    reg.close()


@pytest.mark.parametrize("jsonl", [False, True], ids=["files", "jsonl"])
def test_a_batch_keeping_no_records_registers_what_it_writes(tmp_path: Path, jsonl: bool) -> None:
    folder = tmp_path / "issuer"
    init_issuer(folder, name="ROC Techniek", url="https://roc.example")
    roster = write_roster(tmp_path / "roster.csv", 12, CNC, name="Zoë")
    out = tmp_path / "out"
    with Issuer.open(folder) as iss:
        result = iss.issue_batch(roster, out, workers=2, keep_records=False, archive=jsonl)
        assert result.issued_count == 12 and not result.errors
        registered = {r.id: r.document for r in iss.registry.iter_records()}
    if jsonl:
        written = [json.loads(line) for line in (out / batch.ARCHIVE_NAME).read_text(encoding="utf-8").splitlines()]
    else:
        written = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")]
    assert len(written) == 12
    assert {d["id"]: d for d in written} == registered  # the registry holds exactly what was written
    for doc in written:
        assert check_proofs(doc, expected_purpose="assertionMethod").verified
        assert doc["credentialSubject"]["identifier"][0]["identityHash"].startswith("Zoë")


# -- Registry.bulk_writes: fewer WAL checkpoints during a batch, the WAL truncated after ---------


def _fill(reg: Registry, start: int, calls: int) -> None:
    """``calls`` transactions of 20 credentials with ~4 KB documents each (~40 WAL pages)."""
    for c in range(calls):
        requests = [_request(start + c * 20 + i) for i in range(20)]
        reg.issue_many(requests, lambda pending: [EncodedDocument(json.dumps({"pad": "x" * 4000}))
                                                  for _p in pending])


def _wal_pages(reg: Registry) -> int:
    wal = reg.path.with_name(reg.path.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_bulk_writes_keeps_the_wal_uncheckpointed_past_the_default_and_truncates_it(tmp_path: Path) -> None:
    # the default (1,000 pages): the WAL is checkpointed and reused, so it never holds much more
    plain = Registry.open(tmp_path / "plain.sqlite", create=True)
    _fill(plain, 0, 60)  # ~2,400 pages of writes
    assert _wal_pages(plain) < 1300, _wal_pages(plain)
    plain.close()

    reg = Registry.open(tmp_path / "bulk.sqlite", create=True)
    with reg.bulk_writes():
        assert reg._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 16_384
        _fill(reg, 0, 60)
        assert _wal_pages(reg) > 2000, _wal_pages(reg)  # every page of every chunk, none copied yet
    assert _wal_pages(reg) == 0  # checkpointed and truncated at the end
    assert reg._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert reg.count() == 1200
    reg.close()
    again = Registry.open(tmp_path / "bulk.sqlite")  # and all of it is in the database file
    assert again.count() == 1200 and again.get("urn:uuid:enc-1199").document == {"pad": "x" * 4000}
    again.close()


def test_bulk_writes_restores_the_default_when_the_batch_fails(tmp_path: Path) -> None:
    reg = Registry.open(tmp_path / "r.sqlite", create=True)
    with pytest.raises(RuntimeError), reg.bulk_writes():
        _fill(reg, 0, 3)
        raise RuntimeError("the batch failed")
    assert reg._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert reg.count() == 60 and _wal_pages(reg) == 0  # what committed stays committed
    reg.close()


def test_a_parallel_batch_leaves_the_registry_wal_truncated(tmp_path: Path) -> None:
    """issue_batch runs inside bulk_writes: after it, the WAL is empty and the default is back."""
    folder = tmp_path / "issuer"
    init_issuer(folder, name="ROC Techniek", url="https://roc.example")
    roster = write_roster(tmp_path / "roster.csv", 12, CNC, key_prefix="w", name="Zoë")
    with Issuer.open(folder) as iss:
        result = iss.issue_batch(roster, tmp_path / "out", workers=2, archive=True, keep_records=False)
        assert result.issued_count == 12 and not result.errors
        reg = iss.registry
        assert isinstance(reg, Registry)
        assert _wal_pages(reg) == 0
        assert reg._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert reg.count() == 12

"""The JSON Lines archive of very large batches and its journal: nothing half-written, nothing twice.

``issue_batch(..., archive=True)`` (``skillcred issue --batch --jsonl``) appends each chunk's
credentials to ``credentials.jsonl``, syncs it, then moves a journal (replaced atomically) that
says how much of the archive is complete. These tests kill a batch -- a real subprocess ending
with ``os._exit`` -- at the k-th write, sync, rename or registry commit, for k drawn from a
seeded generator (count-bounded: no timing), then re-run it and check that every roster row is
registered once, in the archive once, on a complete line that verifies, and that the journal
matches the file. They also check that a damaged archive or journal is refused, not trusted.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.batch import ARCHIVE_NAME, Archive, archive_line
from skillcred._internal.fileio import TEMP_PREFIX, TEMP_SUFFIX
from skillcred.did import key_did
from skillcred.errors import StoreError
from skillcred.issuer import init_issuer
from skillcred.keys import KeyPair
from skillcred.proofs import check_proofs
from skillcred.registry import Registry

ACHIEVEMENT = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"
PASSPHRASE = b"journal test"
ROWS = 300  # above MIN_PARALLEL_ROWS: the parallel path runs (in chunks of 40 below)

# Runs one batch; with KILL_AT=k, the k-th call of any watched operation ends the process
# (os._exit, as a crash or kill -9 would: no cleanup, no flush). KILL_TORN=1 makes a watched
# os.write write only half its bytes first, so the archive gets a torn line.
_RUNNER = r"""
import os, sys, sqlite3
from skillcred._internal import batch
from skillcred.issuer import Issuer

root, mode, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
kill_at = int(os.environ.get("KILL_AT", "0"))
torn = os.environ.get("KILL_TORN") == "1"
batch.CHUNK_ROWS = 40
calls = 0
parent = os.getpid()

def crash_point():  # the batch's own process only: forked workers inherit the wrappers
    global calls
    if os.getpid() != parent:
        return False
    calls += 1
    return kill_at and calls >= kill_at

def watch(module, name):
    real = getattr(module, name)
    def wrapped(*args, **kwargs):
        if crash_point():
            if name == "write" and torn:
                real(args[0], bytes(args[1])[: max(1, len(args[1]) // 2)])
            os._exit(9)
        return real(*args, **kwargs)
    setattr(module, name, wrapped)

for name in ("write", "fsync", "replace", "ftruncate"):
    watch(os, name)

real_connect = sqlite3.connect
class Connection(sqlite3.Connection):
    def commit(self):
        if crash_point():
            os._exit(9)
        return super().commit()
sqlite3.connect = lambda *a, **k: real_connect(*a, factory=Connection, **k)

with Issuer.open(os.path.join(root, "issuer"), b"journal test") as iss:
    result = iss.issue_batch(os.path.join(root, "roster.csv"), os.path.join(root, "out"), workers=workers,
                             keep_records=False, archive=(mode == "archive"))
print(result.issued_count, result.skipped_count, len(result.errors), calls)
"""


def _setup(root: Path, rows: int = ROWS) -> Path:
    init_issuer(root / "issuer", name="ROC Techniek", url="https://roc-techniek.example", key_type="ed25519",
                passphrase=PASSPHRASE)
    roster = root / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(rows):
            w.writerow([f"row-{i:05d}", key_did(KeyPair.generate().public_key), f"Student {i}", str(ACHIEVEMENT), "3"])
    return roster


def _run(root: Path, mode: str, workers: int, kill_at: int = 0, torn: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILL_AT": str(kill_at), "KILL_TORN": "1" if torn else "0"}
    return subprocess.run([sys.executable, "-c", _RUNNER, str(root), mode, str(workers)], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def _archive_ids(out: Path) -> list[str]:
    data = (out / ARCHIVE_NAME).read_bytes()
    journal = json.loads((out / f"{ARCHIVE_NAME}.journal").read_bytes())
    assert journal["length"] == len(data)  # after a finished batch the journal covers the whole file
    assert data.endswith(b"\n") and journal["lines"] == data.count(b"\n")
    return [json.loads(line)["id"] for line in data.splitlines()]


def _check_complete(root: Path, mode: str, rows: int = ROWS) -> None:
    out = root / "out"
    registry = Registry.open(root / "issuer" / "registry.sqlite")
    try:
        assert registry.count() == rows
        registered = {r.id for r in registry.iter_records()}
    finally:
        registry.close()
    if mode == "archive":
        ids = _archive_ids(out)
        assert len(ids) == len(set(ids)) == rows  # every credential once
        assert set(ids) == registered
        assert not [p for p in out.iterdir() if p.suffix == ".json"]  # no per-credential files
    else:
        files = {json.loads(p.read_bytes())["id"] for p in out.glob("*.json")}
        assert files == registered
    # what is left besides: only a killed writer's temp files (never under a final name; removed
    # by a later run once they are old, see clean_stale_temps)
    stray = [p.name for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert all(n.endswith(TEMP_SUFFIX) for n in stray), stray
    expected = {ARCHIVE_NAME, f"{ARCHIVE_NAME}.journal"} if mode == "archive" else set()
    assert {p.name for p in out.iterdir() if not p.name.startswith(TEMP_PREFIX)
            and p.suffix != ".json"} == expected


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journal-template")
    _setup(root)
    return root


def _fresh(template: Path, tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "run"
    shutil.copytree(template, root)
    return root


def test_an_archive_batch_writes_every_credential_once_on_a_verifying_line(template: Path, tmp_path: Path) -> None:
    root = _fresh(template, tmp_path)
    proc = _run(root, "archive", 2)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:3] == [str(ROWS), "0", "0"]
    _check_complete(root, "archive")
    lines = (root / "out" / ARCHIVE_NAME).read_bytes().splitlines()
    for line in random.Random(1).sample(lines, 5):
        assert check_proofs(json.loads(line)).verified
    again = _run(root, "archive", 2)  # a re-run issues nothing and adds no line
    assert again.stdout.split()[:3] == ["0", str(ROWS), "0"], again.stderr
    _check_complete(root, "archive")


def _watched_calls(template: Path, tmp_path: Path, mode: str, workers: int) -> int:
    root = tmp_path / f"count-{mode}-{workers}"
    import shutil

    shutil.copytree(template, root)
    proc = _run(root, mode, workers)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[3])


@pytest.mark.parametrize(("mode", "workers"), [("archive", 2), ("archive", 1), ("files", 2)],
                         ids=["archive-parallel", "archive-serial", "files-parallel"])
def test_killed_at_random_moments_a_rerun_completes_without_duplicates(
    template: Path, tmp_path: Path, mode: str, workers: int,
) -> None:
    total = _watched_calls(template, tmp_path, mode, workers)
    assert total > 20  # writes, syncs, renames and commits are really watched
    rng = random.Random(f"{mode}-{workers}")
    points = sorted(rng.sample(range(1, total), 4))
    for n, kill_at in enumerate(points):
        root = tmp_path / f"kill-{n}"
        import shutil

        shutil.copytree(template, root)
        crashed = _run(root, mode, workers, kill_at=kill_at, torn=n % 2 == 0)
        assert crashed.returncode == 9, (kill_at, crashed.stdout, crashed.stderr)
        finished = _run(root, mode, workers)
        assert finished.returncode == 0, (kill_at, finished.stderr)
        issued, skipped, errors = map(int, finished.stdout.split()[:3])
        assert errors == 0 and issued + skipped == ROWS, (kill_at, finished.stdout)
        _check_complete(root, mode)


def test_a_torn_tail_is_cut_back_to_the_journal(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.append([("urn:a", archive_line({"id": "urn:a"})), ("urn:b", archive_line({"id": "urn:b"}))])
    good = (tmp_path / ARCHIVE_NAME).read_bytes()
    for tail in (b'{"id":"urn:c"', b'{"id":"urn:c"}\n', b"\x00\x00\x00", b"\n"):
        with (tmp_path / ARCHIVE_NAME).open("ab") as fh:
            fh.write(tail)  # beyond the journal: torn or never synced
        reopened = Archive(tmp_path)
        assert (tmp_path / ARCHIVE_NAME).read_bytes() == good
        assert reopened.has("urn:a") and reopened.has("urn:b") and not reopened.has("urn:c")
    reopened.append([("urn:b", archive_line({"id": "urn:b"})), ("urn:c", archive_line({"id": "urn:c"}))])
    assert [json.loads(x)["id"] for x in (tmp_path / ARCHIVE_NAME).read_bytes().splitlines()] == [
        "urn:a", "urn:b", "urn:c"]  # urn:b once: an id already in the archive is not appended again


@pytest.mark.parametrize("damage", ["shorter", "journal-garbage", "journal-negative", "line-count",
                                    "not-a-credential"])
def test_a_damaged_archive_or_journal_is_refused_not_trusted(tmp_path: Path, damage: str) -> None:
    archive = Archive(tmp_path)
    archive.append([(f"urn:{i}", archive_line({"id": f"urn:{i}"})) for i in range(3)])
    path, journal = tmp_path / ARCHIVE_NAME, tmp_path / f"{ARCHIVE_NAME}.journal"
    state: dict[str, Any] = json.loads(journal.read_bytes())
    if damage == "shorter":
        path.write_bytes(path.read_bytes()[:-5])
    elif damage == "journal-garbage":
        journal.write_bytes(b"{not json")
    elif damage == "journal-negative":
        journal.write_bytes(json.dumps({**state, "length": -1}).encode())
    elif damage == "line-count":
        journal.write_bytes(json.dumps({**state, "lines": 2}).encode())
    else:
        data = path.read_bytes().replace(b'{"id":"urn:1"}', b'["urn:1", 42 ]')
        path.write_bytes(data)
    before = path.read_bytes()
    with pytest.raises(StoreError):
        Archive(tmp_path)
    assert path.read_bytes() == before  # refused before anything is cut or appended


def test_archive_lines_are_single_lines_whatever_the_strings_hold() -> None:
    doc = {"id": "urn:x", "name": "a\nb\r\u2028c\u0085d \"q\" \\ é"}
    line = archive_line(doc)
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert json.loads(line) == doc


def test_cli_jsonl_batch_and_its_misuse(template: Path, tmp_path: Path) -> None:
    root = _fresh(template, tmp_path)
    skillcred = [sys.executable, "-c", "from skillcred._cli import main; main()"]
    env = {**os.environ, "SKILLCRED_PASSPHRASE": PASSPHRASE.decode()}
    proc = subprocess.run([*skillcred, "issue", "--issuer", str(root / "issuer"), "--batch", str(root / "roster.csv"),
                           "--out-dir", str(root / "out"), "--jsonl"], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"issued {ROWS}, already issued 0, failed 0 -> {root / 'out' / ARCHIVE_NAME}" in proc.stdout
    _check_complete(root, "archive")
    single = subprocess.run([*skillcred, "issue", "--issuer", str(root / "issuer"), "--achievement", str(ACHIEVEMENT),
                             "--subject", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "--jsonl"],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert single.returncode == 2 and "--jsonl: only with --batch ROSTER" in single.stderr
    assert "Traceback" not in single.stderr


"""Issue #16, from the user's side: choosing what to present, backups, pass/fail achievements,
output that composes, output to links, pipes and devices (and the temp files a killed run
leaves), trust-list edits, and the domain check of ``verify``.

CLI cases run in-process with click's CliRunner (stdout and stderr apart); the library is
called directly where the behaviour is the library's. Credentials are issued in-process by a
module-wide did:key issuer (fast); each test has its own wallets.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import REPO
from skillcred._cli import cli
from skillcred._internal import fileio
from skillcred._internal.fileio import STALE_TEMP_AGE, TEMP_PREFIX, atomic_write, clean_stale_temps
from skillcred.did import key_did
from skillcred.errors import InvalidArgument, SkillcredSecurityWarning, StoreError, WalletError
from skillcred.issuer import Issuer, init_issuer, iter_issued, load_achievement
from skillcred.keys import KeyPair
from skillcred.schemas import CREDENTIAL_SCHEMA_BY_KIND, validate
from skillcred.trust import ACHIEVEMENT_TYPES, TrustList, parse_may_attest
from skillcred.verify.verifier import VerificationPolicy, Verifier
from skillcred.wallet import CRED_DIR, Wallet, _file_name

ACHIEVEMENTS = REPO / "examples" / "achievements"
HEFTRUCK = ACHIEVEMENTS / "heftruck-certificaat.yaml"
PASSPHRASE = "user side passphrase"
CHALLENGE = "5d2c0e8a-user-side"
DOMAIN = "werkgever.example"


# -- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("issuer") / "roc"
    init_issuer(folder, name="ROC Techniek", url="https://roc-techniek.example", passphrase=PASSPHRASE.encode())
    return folder


@pytest.fixture(scope="module")
def issuer(issuer_dir: Path) -> Iterator[Issuer]:
    iss = Issuer.open(issuer_dir, PASSPHRASE.encode())
    yield iss
    iss.close()


def issue(iss: Issuer, subject: str, file: str, level: str | None = None, **kw: Any) -> dict[str, Any]:
    record, _new = iss.issue(load_achievement(ACHIEVEMENTS / file), subject, level=level, **kw)
    return record.document


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.init(tmp_path / "wallet", passphrase=PASSPHRASE.encode())


@pytest.fixture
def stocked(wallet: Wallet, issuer: Issuer) -> Wallet:
    """A wallet with a CNC skill, a welding certificate and a diploma."""
    wallet.add([("cnc", issue(issuer, wallet.holder, "cnc-programmeren.yaml", "3")),
                ("mig", issue(issuer, wallet.holder, "mig-mag-lassen.yaml", "2")),
                ("dip", issue(issuer, wallet.holder, "mbo-verspaner-diploma.yaml"))])
    return wallet


def invoke(*args: str | Path, input: str | bytes | None = None) -> Result:
    env = {"SKILLCRED_PASSPHRASE": PASSPHRASE, "SKILLCRED_WALLET": None, "SKILLCRED_TRUST": None}
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)  # type: ignore[arg-type]
    assert "Traceback" not in result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def present(wallet: Wallet, out: Path, *args: str) -> Result:
    return invoke("present", "--wallet", wallet.root, *args, "--challenge", CHALLENGE, "--domain", DOMAIN,
                  "-o", out)


def achievements_in(vp_file: Path) -> list[str]:
    vp = json.loads(vp_file.read_text(encoding="utf-8"))
    return sorted(c["credentialSubject"]["achievement"]["name"] for c in vp["verifiableCredential"])


CNC = "CNC-programmeren (draaien en frezen)"
MIG = "MIG/MAG-lassen"


# -- 2. selecting what to present -------------------------------------------------------------

@pytest.mark.parametrize("selector", ["cnc", "CNC", "Cnc-Programmeren", "draaien en frezen", CNC, CNC.upper()])
def test_select_by_achievement_name_or_a_part_of_it_any_case(stocked: Wallet, tmp_path: Path,
                                                            selector: str) -> None:
    r = present(stocked, tmp_path / "vp.json", "--select", selector)
    assert r.exit_code == 0, r.stderr
    assert achievements_in(tmp_path / "vp.json") == [CNC]


def test_select_by_full_id_and_by_a_unique_part_of_it(stocked: Wallet, tmp_path: Path) -> None:
    mig = next(e for e in stocked.entries() if e.achievement == MIG)
    for ref in (mig.id, mig.id[-12:]):
        r = present(stocked, tmp_path / "vp.json", "--select", ref)
        assert r.exit_code == 0, r.stderr
        assert achievements_in(tmp_path / "vp.json") == [MIG]


def test_select_by_kind_as_selector_and_with_kind_option(stocked: Wallet, tmp_path: Path) -> None:
    r = present(stocked, tmp_path / "a.json", "--select", "skill")
    assert r.exit_code == 0, r.stderr
    assert achievements_in(tmp_path / "a.json") == sorted([CNC, MIG])
    r = present(stocked, tmp_path / "b.json", "--select", "diploma")
    assert r.exit_code == 0, r.stderr
    assert len(achievements_in(tmp_path / "b.json")) == 1
    assert achievements_in(tmp_path / "b.json") != [CNC]
    r = present(stocked, tmp_path / "c.json", "--kind", "skill", "--select", "cnc")  # no duplicates
    assert r.exit_code == 0, r.stderr
    assert achievements_in(tmp_path / "c.json") == sorted([CNC, MIG])


def test_ambiguous_selector_lists_the_candidates_and_exits_2(stocked: Wallet, issuer: Issuer,
                                                           tmp_path: Path) -> None:
    stocked.add(issue(issuer, stocked.holder, "cnc-programmeren.yaml", "4"))  # renewed at a higher level
    cncs = [e for e in stocked.entries() if e.achievement == CNC]
    assert len(cncs) == 2
    for selector in ("cnc", CNC.lower(), "lassen-or-cnc-nothing"[:0] + "n"):
        r = present(stocked, tmp_path / "vp.json", "--select", selector)
        assert r.exit_code == 2
        assert "matches" in r.stderr and all(e.id in r.stderr for e in cncs if selector != "n")
        assert len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "vp.json").exists()
    with pytest.raises(InvalidArgument, match="matches 2 credentials"):
        stocked.select(ids=["cnc"])


@pytest.mark.parametrize("selector", ["vca", "urn:uuid:00000000-0000-0000-0000-000000000000", "soft-skill", " "])
def test_selector_that_matches_nothing_exits_2(stocked: Wallet, tmp_path: Path, selector: str) -> None:
    r = present(stocked, tmp_path / "vp.json", "--select", selector)
    assert r.exit_code == 2
    assert r.stderr.startswith("skillcred: error: ")
    assert not (tmp_path / "vp.json").exists()


@pytest.mark.parametrize("damage", [b"{not json", b"[]", b'{"type": ["VerifiableCredential"]}', b"\xff\xfe"])
def test_all_reports_a_damaged_file_and_presents_the_rest(stocked: Wallet, tmp_path: Path, damage: bytes) -> None:
    (stocked.root / CRED_DIR / "broken.json").write_bytes(damage)
    r = present(stocked, tmp_path / "vp.json", "--all")
    assert r.exit_code == 0, r.stderr
    assert "broken.json: not presented" in r.stderr
    assert "1 left out" in r.stderr
    assert len(achievements_in(tmp_path / "vp.json")) == 3
    selection = stocked.choose(all_credentials=True)
    assert [p.file for p in selection.skipped] == ["broken.json"]


def test_kind_reports_a_damaged_file_too(stocked: Wallet, tmp_path: Path) -> None:
    (stocked.root / CRED_DIR / "broken.json").write_text("{", encoding="utf-8")
    r = present(stocked, tmp_path / "vp.json", "--kind", "skill")
    assert r.exit_code == 0, r.stderr
    assert "broken.json: not presented" in r.stderr


def _copy_foreign(wallet: Wallet, issuer: Issuer, file: str = "mig-mag-lassen.yaml",
                  level: str = "5") -> dict[str, Any]:
    """A credential about someone else, copied straight into the wallet's folder."""
    other = key_did(KeyPair.generate("ed25519").public_key)
    doc = issue(issuer, other, file, level)
    (wallet.root / CRED_DIR / _file_name(doc["id"])).write_text(json.dumps(doc), encoding="utf-8")
    return doc


def test_a_credential_about_someone_else_is_never_presented_by_all_or_kind(stocked: Wallet, issuer: Issuer,
                                                                         tmp_path: Path) -> None:
    foreign = _copy_foreign(stocked, issuer)
    for args in (["--all"], ["--kind", "skill"], ["--select", "skill"]):
        out = tmp_path / f"vp{len(args)}{args[-1]}.json"
        r = present(stocked, out, *args)
        assert r.exit_code == 0, r.stderr
        vp = json.loads(out.read_text(encoding="utf-8"))
        assert foreign["id"] not in {c["id"] for c in vp["verifiableCredential"]}
        assert foreign["id"] in r.stderr and "someone else is never presented" in r.stderr


def test_a_credential_about_someone_else_selected_by_name_or_id_is_refused(wallet: Wallet, issuer: Issuer,
                                                                         tmp_path: Path) -> None:
    wallet.add(issue(issuer, wallet.holder, "cnc-programmeren.yaml", "3"))
    foreign = _copy_foreign(wallet, issuer)
    for selector in ("lassen", foreign["id"]):
        r = present(wallet, tmp_path / "vp.json", "--select", selector)
        assert r.exit_code == 2
        assert "not you" in r.stderr and foreign["id"] in r.stderr
        assert not (tmp_path / "vp.json").exists()
    # kept on purpose with --force-foreign: still never presented
    other = issue(issuer, key_did(KeyPair.generate("ed25519").public_key), "technisch-tekeninglezen.yaml", "4")
    wallet.add(other, force_foreign=True)
    with pytest.raises(WalletError, match="never presented"):
        wallet.select(ids=[other["id"]])
    assert other["id"] not in {d["id"] for d in wallet.select(all_credentials=True)}


def test_only_foreign_or_damaged_means_nothing_selected(wallet: Wallet, issuer: Issuer, tmp_path: Path) -> None:
    _copy_foreign(wallet, issuer)
    r = present(wallet, tmp_path / "vp.json", "--all")
    assert r.exit_code == 2
    assert "nothing selected" in r.stderr and "left out" in r.stderr
    assert not (tmp_path / "vp.json").exists()


# -- 3. backups -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Issuer, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("web") / "lasnoord"
    init_issuer(folder, name="Lasinstituut Noord", url="https://lasnoord.example", did_method="web")
    iss = Issuer.open(folder)
    yield iss, json.loads((folder / "did.json").read_text(encoding="utf-8"))
    iss.close()


def test_export_carries_the_issuer_did_documents_that_import_needs(wallet: Wallet, tmp_path: Path,
                                                                  web_issuer: tuple[Issuer, dict[str, Any]]) -> None:
    iss, did_doc = web_issuer
    cred = issue(iss, wallet.holder, "mig-mag-lassen.yaml", "3")
    wallet.add(cred, resolver=wallet.resolver([did_doc]))
    wallet.remember_did_documents([did_doc])
    backup = tmp_path / "backup.json"
    r = invoke("wallet", "export", "--wallet", wallet.root, backup)
    assert r.exit_code == 0, r.stderr
    bundle = json.loads(backup.read_text(encoding="utf-8"))
    assert bundle["didDocuments"] == [did_doc]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    # the new laptop: no --did-document, nothing but the backup
    r = invoke("wallet", "import", "--wallet", tmp_path / "laptop", backup)
    assert r.exit_code == 0, r.stderr
    restored = Wallet.open(tmp_path / "laptop")
    assert [e.id for e in restored.entries()] == [cred["id"]]
    assert restored.did_documents() == [did_doc]  # later adds of this issuer's credentials stay offline
    # the contrast: without the documents the did:web credential cannot be checked offline
    del bundle["didDocuments"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(bundle), encoding="utf-8")
    r = invoke("wallet", "import", "--wallet", tmp_path / "laptop2", bare)
    assert r.exit_code == 2


@pytest.mark.parametrize("bad", [{"id": 5}, "did:web:x",
                                 {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}])
def test_import_refuses_malformed_did_documents(stocked: Wallet, tmp_path: Path, bad: Any) -> None:
    backup = tmp_path / "b.json"
    stocked.export(backup)
    bundle = json.loads(backup.read_text(encoding="utf-8"))
    bundle["didDocuments"] = [bad]
    backup.write_text(json.dumps(bundle), encoding="utf-8")
    r = invoke("wallet", "import", "--wallet", tmp_path / "new", backup)
    assert r.exit_code == 2
    assert "didDocuments" in r.stderr


def test_export_refuses_to_overwrite_without_force(stocked: Wallet, tmp_path: Path) -> None:
    target = tmp_path / "backup.json"
    target.write_text("an older backup\n", encoding="utf-8")
    r = invoke("wallet", "export", "--wallet", stocked.root, target)
    assert r.exit_code == 2
    assert "already exists" in r.stderr and "--force" in r.stderr
    assert target.read_text(encoding="utf-8") == "an older backup\n"
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "nowhere.json")  # even a dangling link is something there
    assert invoke("wallet", "export", "--wallet", stocked.root, link).exit_code == 2
    with pytest.raises(WalletError, match="already exists"):
        stocked.export(target)
    r = invoke("wallet", "export", "--wallet", stocked.root, target, "--force")
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(target.read_text(encoding="utf-8"))["credentials"]) == 3


def test_export_to_a_pipe_or_device_needs_no_force(stocked: Wallet, tmp_path: Path) -> None:
    null = tmp_path / "null"
    null.symlink_to("/dev/null")  # e.g. /dev/stdout into gpg: nothing is overwritten
    assert invoke("wallet", "export", "--wallet", stocked.root, null).exit_code == 0
    assert null.is_symlink()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    t = _read_fifo(fifo, got)
    r = invoke("wallet", "export", "--wallet", stocked.root, fifo)
    t.join(10)
    assert r.exit_code == 0, r.stderr
    assert json.loads(got[0])["type"] == "SkillcredWalletExport"


# -- 4. pass/fail achievements ----------------------------------------------------------------

def test_pass_fail_achievement_is_issued_without_a_level(issuer_dir: Path, wallet: Wallet, tmp_path: Path) -> None:
    out = tmp_path / "heftruck.json"
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder,
               "--name", "Jan de Vries", "-o", out)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["credentialSubject"]["achievement"]["achievementType"] == "Certification"
    assert "result" not in doc["credentialSubject"]
    validate(doc, CREDENTIAL_SCHEMA_BY_KIND["skill"], source="heftruck")
    report = Verifier(VerificationPolicy()).check(doc)
    assert {c.id: c.status for c in report.checks}["credential.schema"] == "passed"
    added = wallet.add(doc)
    assert added[0].achievement == "Heftruckcertificaat" and added[0].level is None


def test_pass_fail_achievement_refuses_a_level_it_does_not_have(issuer: Issuer, wallet: Wallet) -> None:
    with pytest.raises(InvalidArgument, match="defines no levels"):
        issuer.issue(load_achievement(HEFTRUCK), wallet.holder, level="3")


def test_graded_achievement_still_needs_its_level_and_names_them(issuer_dir: Path, wallet: Wallet) -> None:
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", ACHIEVEMENTS / "cnc-programmeren.yaml",
               "--subject", wallet.holder)
    assert r.exit_code == 2
    assert "needs --level" in r.stderr and "1, 2, 3, 4, 5" in r.stderr


def test_a_graded_skill_credential_without_result_still_fails_its_schema(issuer: Issuer, wallet: Wallet) -> None:
    doc = issue(issuer, wallet.holder, "cnc-programmeren.yaml", "3")
    del doc["credentialSubject"]["result"]
    with pytest.raises(Exception, match="result"):
        validate(doc, CREDENTIAL_SCHEMA_BY_KIND["skill"], source="cnc")


# -- 6. output that composes ------------------------------------------------------------------

def test_issue_without_out_writes_the_credential_alone_to_stdout(issuer_dir: Path, wallet: Wallet) -> None:
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout is the credential
    assert r.stderr.splitlines()[0] == doc["id"]
    # so it pipes: issue ... | skillcred wallet add -
    r2 = invoke("wallet", "add", "--wallet", wallet.root, "-", input=r.stdout)
    assert r2.exit_code == 0, r2.stderr
    assert [e.id for e in wallet.entries()] == [doc["id"]]


def test_issue_jwt_without_out_writes_the_token_alone(issuer_dir: Path, wallet: Wallet) -> None:
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder,
               "--format", "jwt", "-o", "-")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("ey")
    assert r.stderr.startswith("urn:uuid:")
    assert invoke("wallet", "add", "--wallet", wallet.root, "-", input=r.stdout).exit_code == 0


def test_issue_with_out_prints_the_id_on_stdout(issuer_dir: Path, wallet: Wallet, tmp_path: Path) -> None:
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder,
               "-o", tmp_path / "c.json")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["id"]


@pytest.mark.parametrize("failure", [StoreError("cannot write: No space left on device", path="c.json"),
                                     OSError(28, "No space left on device")])
def test_a_failed_write_after_recording_says_how_to_get_it_back(issuer_dir: Path, wallet: Wallet, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                failure: Exception) -> None:
    import skillcred._cli.issuer_cmd as issuer_cmd

    def failing(doc: Any, out: str | None) -> None:
        raise failure

    monkeypatch.setattr(issuer_cmd, "write_document", failing)
    before = {r.id for r in iter_issued(issuer_dir)}
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder,
               "-o", tmp_path / "c.json")
    assert r.exit_code == 2
    new = {r.id for r in iter_issued(issuer_dir)} - before
    assert len(new) == 1
    (cid,) = new
    assert f"skillcred issuer export {issuer_dir} {cid}" in r.stderr
    assert "No space left on device" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    monkeypatch.undo()
    r = invoke("issuer", "export", issuer_dir, cid, "-o", tmp_path / "again.json")
    assert r.exit_code == 0
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["id"] == cid


def test_a_full_device_after_recording_says_how_to_get_it_back(issuer_dir: Path, wallet: Wallet,
                                                               tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.symlink_to("/dev/full")  # a link in our folder: even a regression replaces only the link
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", wallet.holder, "-o", full)
    assert r.exit_code == 2
    assert "issuer export" in r.stderr and "no space left on device" in r.stderr.lower()
    assert full.is_symlink() and os.readlink(full) == "/dev/full"


# -- 7. output to links, pipes and devices; stale temp files ----------------------------------

def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "made.json")
    atomic_write(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "made.json").read_bytes() == b"made"


def test_atomic_write_to_a_device_writes_through(tmp_path: Path) -> None:
    null = tmp_path / "null"
    null.symlink_to("/dev/null")
    atomic_write(null, b"discarded")
    assert null.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temp file left, nothing renamed
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    with pytest.raises(StoreError, match="the disk is full"):  # ENOSPC said as what it means, the file named
        atomic_write(full, b"x")


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as fh:
            into.append(fh.read())
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t


def test_atomic_write_to_a_fifo_writes_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    t = _read_fifo(fifo, got)
    atomic_write(fifo, b"through the pipe")
    t.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_atomic_write_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        atomic_write(tmp_path, b"x")


def test_cli_outputs_to_a_fifo_and_a_link_keep_them(issuer_dir: Path, stocked: Wallet, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    t = _read_fifo(fifo, got)
    r = invoke("issue", "--issuer", issuer_dir, "--achievement", HEFTRUCK, "--subject", stocked.holder, "-o", fifo)
    t.join(10)
    assert r.exit_code == 0, r.stderr
    assert json.loads(got[0])["id"] == r.stderr.splitlines()[0]  # a pipe is a stream: the id went to stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    real = tmp_path / "page.html"
    real.write_text("", encoding="utf-8")
    link = tmp_path / "passport.html"
    link.symlink_to(real)
    r = invoke("passport", "--wallet", stocked.root, "--html", link)
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and "<html" in real.read_text(encoding="utf-8").lower()
    vp_link = tmp_path / "vp-link.json"
    vp_link.symlink_to(tmp_path / "vp-real.json")
    assert present(stocked, vp_link, "--select", "cnc").exit_code == 0
    assert vp_link.is_symlink() and achievements_in(tmp_path / "vp-real.json") == [CNC]


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_a_killed_writer_leaves_a_temp_file_that_the_next_run_removes(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    code = ("import os, sys\nfrom skillcred._internal import fileio\n"
            "os.replace = lambda *a: os._exit(9)\n"  # killed between writing and renaming
            "fileio.atomic_write(sys.argv[1], b'signed personal data')\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-c", code, str(folder / "jan.json")], env=env, timeout=60)
    assert proc.returncode == 9
    (left,) = list(folder.iterdir())
    assert left.name.startswith(TEMP_PREFIX) and b"signed personal data" == left.read_bytes()
    atomic_write(folder / "fresh.json", b"{}")  # young: kept (it might be a slow writer's)
    assert left.exists()
    _age(left, STALE_TEMP_AGE + 60)
    fileio._cleaned_folders.clear()
    atomic_write(folder / "other.json", b"{}")  # the next run of a writer in this folder
    assert not left.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["fresh.json", "other.json"]


def test_stale_temp_cleaning_keeps_live_writers_young_files_and_strangers(tmp_path: Path) -> None:
    dead = _dead_pid()
    old = STALE_TEMP_AGE + 60
    files = {
        "dead-old": f"{TEMP_PREFIX}{dead}-jan.json.abc123.tmp",
        "dead-young": f"{TEMP_PREFIX}{dead}-fatima.json.def456.tmp",
        "live-old": f"{TEMP_PREFIX}{os.getppid()}-sem.json.ghi789.tmp",
        "batch": f"{TEMP_PREFIX}{dead}-urn.json.batch.tmp",
        "not-ours": ".jan.json.abc123.tmp",
        "no-pid": f"{TEMP_PREFIX}x-jan.json.tmp",
    }
    for key, name in files.items():
        (tmp_path / name).write_bytes(b"x")
        if key != "dead-young":
            _age(tmp_path / name, old)
    link = tmp_path / f"{TEMP_PREFIX}{dead}-link.json.zzz.tmp"
    link.symlink_to(tmp_path / files["not-ours"])
    _age(link, old)
    removed = clean_stale_temps(tmp_path, now=time.time())
    assert sorted(removed) == sorted([files["dead-old"], files["batch"]])
    left = {p.name for p in tmp_path.iterdir()}
    assert {files[k] for k in ("dead-young", "live-old", "not-ours", "no-pid")} | {link.name} == left


def test_batch_temp_files_are_named_for_the_cleaner(tmp_path: Path) -> None:
    from skillcred._internal import batch

    seen: list[str] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    target = tmp_path / "urn-1.json"
    try:
        os.replace = spy  # type: ignore[assignment]
        batch._write_files(tmp_path, [(target, b"{}")])
    finally:
        os.replace = real_replace  # type: ignore[assignment]
    assert seen and seen[0].startswith(f"{TEMP_PREFIX}{os.getpid()}-") and seen[0].endswith(".tmp")
    assert target.read_bytes() == b"{}"


# -- 10. trust list edits ---------------------------------------------------------------------

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _trust(tmp_path: Path, *args: str) -> Result:
    return invoke("trust", "add", "--trust", tmp_path / "trust.json", DID, *args)


def test_trust_add_on_a_trusted_did_refuses_to_widen_without_replace(tmp_path: Path) -> None:
    assert _trust(tmp_path, "--name", "ROC", "--may-attest", "Certification").exit_code == 0
    before = (tmp_path / "trust.json").read_bytes()
    for widen in ([], ["--may-attest", "Certification", "--may-attest", "Diploma"], ["--may-attest", "framework:ESCO"]):
        r = _trust(tmp_path, "--name", "ROC", *widen)
        assert r.exit_code == 2, widen
        assert "already trusted" in r.stderr and "--replace" in r.stderr
        assert (tmp_path / "trust.json").read_bytes() == before
    r = _trust(tmp_path, "--name", "ROC", "--may-attest", "Certification", "--may-attest", "Diploma")
    assert "widen" in r.stderr
    r = _trust(tmp_path, "--name", "ROC", "--replace")
    assert r.exit_code == 0, r.stderr
    assert "replaced the entry" in r.stderr and "for everything" in r.stdout
    assert TrustList.load(tmp_path / "trust.json").issuers[DID].unrestricted


def test_trust_add_other_changes_need_replace_too_but_a_repeat_changes_nothing(tmp_path: Path) -> None:
    assert _trust(tmp_path, "--name", "ROC", "--may-attest", "Certification", "--may-attest", "Diploma").exit_code == 0
    before = (tmp_path / "trust.json").read_bytes()
    assert _trust(tmp_path, "--name", "ROC Techniek", "--may-attest", "Certification",
                  "--may-attest", "Diploma").exit_code == 2  # a new name
    r = _trust(tmp_path, "--name", "ROC", "--may-attest", "Diploma")  # narrower: still a replacement
    assert r.exit_code == 2 and "widen" not in r.stderr
    r = _trust(tmp_path, "--name", "ROC", "--may-attest", "Diploma", "--may-attest", "Certification")  # same set
    assert r.exit_code == 0 and "nothing changed" in r.stderr
    assert (tmp_path / "trust.json").read_bytes() == before


def test_trust_list_add_library_refuses_a_replacement() -> None:
    tl = TrustList()
    tl.add(DID, name="ROC", may_attest=["Certification"])
    with pytest.raises(InvalidArgument, match="already trusted"):
        tl.add(DID, name="ROC")
    assert tl.issuers[DID].achievement_types == ("Certification",)
    assert tl.add(DID, name="ROC", replace=True).unrestricted


@pytest.mark.parametrize(("value", "hint"), [
    ("Certfication", "Certification"), ("certification", "Certification"), ("DIPLOMA", "Diploma"),
    ("Competence", "Competency"), ("Licence", "License"), ("frameworks:ESCO", "framework:ESCO"),
])
def test_may_attest_typos_are_refused_with_did_you_mean(tmp_path: Path, value: str, hint: str) -> None:
    r = _trust(tmp_path, "--name", "ROC", "--may-attest", value)
    assert r.exit_code == 2
    assert f"did you mean {hint!r}" in r.stderr
    assert not (tmp_path / "trust.json").exists()


@pytest.mark.parametrize("value", ["framework:", "framework:  ", "ext:", "everything", ""])
def test_may_attest_values_without_meaning_are_refused(value: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^may_attest ") as raised:  # the CLI shows --may-attest
        parse_may_attest([value])
    assert raised.value.field == "may_attest"


def test_may_attest_accepts_types_frameworks_and_extensions() -> None:
    assert parse_may_attest(["Diploma", "framework:ESCO", "framework:https://skills.example/", "ext:VCA"]) == (
        ("Diploma", "ext:VCA"), ("ESCO", "https://skills.example/"))


def test_known_achievement_types_are_the_schemas() -> None:
    schema = json.loads((REPO / "schemas" / "achievement-definition.schema.json").read_text(encoding="utf-8"))
    assert set(ACHIEVEMENT_TYPES) == set(schema["properties"]["achievement"]["properties"]["achievementType"]["enum"])


# -- 9 (part). the domain check of verify ------------------------------------------------------

@pytest.fixture
def presented(stocked: Wallet, issuer: Issuer, tmp_path: Path) -> dict[str, Path]:
    vp = tmp_path / "vp.json"
    assert present(stocked, vp, "--select", "cnc").exit_code == 0
    status = tmp_path / "status"
    issuer.publish_status(status)
    trust = tmp_path / "trust.json"
    assert invoke("trust", "add", "--trust", trust, issuer.profile.did, "--name", "ROC").exit_code == 0
    return {"vp": vp, "status": status, "trust": trust}


def _verify(p: dict[str, Path], *args: str) -> tuple[Result, dict[str, tuple[str, str]]]:
    lists = [a for f in sorted(p["status"].iterdir()) if f.name != "index.json" for a in ("--status-list", str(f))]
    r = invoke("verify", p["vp"], "--trust", p["trust"], "--challenge", CHALLENGE, *lists,
               "--status-cache", p["status"] / "cache", "--json", *args)
    checks = {c["id"]: (c["status"], c["code"]) for c in json.loads(r.stdout)["checks"]}
    return r, checks


def test_verify_without_domain_is_indeterminate_and_fails(presented: dict[str, Path]) -> None:
    r, checks = _verify(presented)
    assert r.exit_code == 1
    assert checks["presentation.domain"] == ("indeterminate", "domain_not_given")
    assert all(s == "passed" for k, (s, _c) in checks.items() if k != "presentation.domain")


def test_verify_with_the_right_domain_passes_and_a_wrong_one_fails(presented: dict[str, Path]) -> None:
    r, checks = _verify(presented, "--domain", DOMAIN)
    assert r.exit_code == 0, r.stderr
    assert checks["presentation.domain"] == ("passed", "ok")
    for wrong in ("werkgever.example.evil", "WERKGEVER.EXAMPLE", ""):
        r, checks = _verify(presented, "--domain", wrong)
        assert r.exit_code == 1, wrong
        assert checks["presentation.domain"][0] in ("failed", "indeterminate")


def test_unsafe_no_domain_says_so_and_skips_the_check(presented: dict[str, Path]) -> None:
    r, checks = _verify(presented, "--unsafe-no-domain")
    assert r.exit_code == 0, r.stderr
    assert checks["presentation.domain"] == ("not_applicable", "unsafe_no_domain")
    assert "skillcred: warning: UNSAFE" in r.stderr and "domain" in r.stderr


def test_library_policy_unsafe_no_domain_warns_and_the_default_checks(stocked: Wallet) -> None:
    vp = stocked.present(stocked.select(ids=["cnc"]), key=stocked.holder_key(PASSPHRASE.encode()),
                         challenge=CHALLENGE, domain=DOMAIN)
    report = Verifier(VerificationPolicy()).check(vp, challenge=CHALLENGE)
    assert {c.id: c.code for c in report.checks}["presentation.domain"] == "domain_not_given"
    assert not report.verified
    with pytest.warns(SkillcredSecurityWarning, match="domain"):
        policy = VerificationPolicy(unsafe_no_domain=True)
    report = Verifier(policy).check(vp, challenge=CHALLENGE)
    assert {c.id: c.status for c in report.checks}["presentation.domain"] == "not_applicable"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VerificationPolicy()  # the default does not warn


def test_rank_takes_the_domain_from_the_challenge_file_or_fails_the_candidate(presented: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "jan.json").write_bytes(presented["vp"].read_bytes())
    profile = REPO / "examples" / "profiles" / "cnc-verspaner.json"
    lists = [a for f in sorted(presented["status"].iterdir()) if f.name != "index.json"
             for a in ("--status-list", str(f))]

    def rank(challenges: Any, *extra: str) -> tuple[Result, dict[str, Any]]:
        if challenges is not None:
            (apps / "challenges.json").write_text(json.dumps(challenges), encoding="utf-8")
        r = invoke("rank", apps, "--profile", profile, "--trust", presented["trust"], "--json", "--jobs", "1",
                   "--status-cache", tmp_path / "cache", *lists, *extra)
        assert r.exit_code == 0, r.stderr
        return r, json.loads(r.stdout)[0]

    _r, row = rank({"jan.json": {"challenge": CHALLENGE, "domain": DOMAIN}})
    assert row["presentation_verified"] is True
    _r, row = rank({"jan.json": CHALLENGE})  # a bare challenge and no --domain: no expected domain
    assert row["presentation_verified"] is False and "domain" in row["verification_failure"]
    _r, row = rank({"jan.json": CHALLENGE}, "--domain", DOMAIN)
    assert row["presentation_verified"] is True
    _r, row = rank({"jan.json": CHALLENGE}, "--domain", "elders.example")
    assert row["presentation_verified"] is False
    (apps / "challenges.json").unlink()
    r, row = rank(None, "--unsafe-no-challenge")  # no challenge file, told: both unchecked, and said so
    assert "without a challenge" in r.stderr and "without a domain" in r.stderr
    assert row["presentation_verified"] is True


def test_a_store_write_replaces_a_planted_link_instead_of_following_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not the wallet's", encoding="utf-8")
    planted = tmp_path / "index.json"
    planted.symlink_to(elsewhere)
    atomic_write(planted, b"{}", follow_symlinks=False)
    assert not planted.is_symlink() and planted.read_bytes() == b"{}"
    assert elsewhere.read_text(encoding="utf-8") == "not the wallet's"
    dangling = tmp_path / "cred.json"
    dangling.symlink_to(tmp_path / "created-elsewhere.json")
    atomic_write(dangling, b"{}", follow_symlinks=False)
    assert not (tmp_path / "created-elsewhere.json").exists() and not dangling.is_symlink()


def test_wallet_add_never_writes_through_a_dangling_link_in_its_folder(wallet: Wallet, issuer: Issuer,
                                                                       tmp_path: Path) -> None:
    doc = issue(issuer, wallet.holder, "cnc-programmeren.yaml", "3")
    outside = tmp_path / "outside.json"
    (wallet.root / CRED_DIR / _file_name(doc["id"])).symlink_to(outside)
    wallet.add(doc)
    assert not outside.exists()
    assert [e.id for e in wallet.entries()] == [doc["id"]]


def test_a_key_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    from skillcred.keys import write_key_file

    target = tmp_path / "key.pem"
    target.symlink_to(tmp_path / "elsewhere.pem")
    write_key_file(target, KeyPair.generate("ed25519"), None)
    assert not target.is_symlink() and not (tmp_path / "elsewhere.pem").exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

"""The institute's command line, run as a user would (in-process through support.cli; the broken
pipe and the two concurrent batches as real processes): no terminal, a passphrase in
SKILLCRED_PASSPHRASE. Checked: exit codes, the first line of stdout, the files written, one-line
errors and never a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred.did import DidResolver, key_did
from skillcred.keys import KeyPair
from skillcred.proofs import check_proofs
from skillcred.status import BitstringStatusList
from support.cli import SKILLCRED, CliResult, run_cli

EXAMPLES = REPO / "examples"
PASSPHRASE = "cli test passphrase"
URL = "https://roc-techniek.example"
CNC = EXAMPLES / "achievements" / "cnc-programmeren.yaml"
DIPLOMA = EXAMPLES / "achievements" / "mbo-verspaner-diploma.yaml"
JAN = key_did(KeyPair.generate("ed25519").public_key)
FATIMA = key_did(KeyPair.generate("ed25519").public_key)
SEM = key_did(KeyPair.generate("ed25519").public_key)


def run(*args: str | Path, passphrase: str | None = PASSPHRASE, cwd: Path | None = None) -> CliResult:
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLCRED_PASSPHRASE", "SKILLCRED_DEBUG")}
    if passphrase is not None:
        env["SKILLCRED_PASSPHRASE"] = passphrase
    proc = run_cli(*args, env=env, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def first_line(proc: CliResult) -> str:
    lines = proc.stdout.splitlines()
    assert lines, f"no output; stderr: {proc.stderr}"
    return lines[0]


def error_lines(proc: CliResult) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def registry_count(folder: Path) -> int:
    con = sqlite3.connect(folder / "registry.sqlite")
    try:
        return int(con.execute("SELECT COUNT(*) FROM credentials").fetchone()[0])
    finally:
        con.close()


def init(folder: Path, *extra: str) -> CliResult:
    return run("issuer", "init", folder, "--name", "ROC Techniek", "--url", URL, *extra)


def web_issuer(folder: Path) -> Path:
    proc = init(folder, "--did-method", "web")
    assert proc.returncode == 0, proc.stderr
    return folder


def resolver(folder: Path) -> DidResolver:
    return DidResolver([json.loads((folder / "did.json").read_text(encoding="utf-8"))])


def rubric_id(path: Path, level: str) -> str:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(lvl["id"] for rd in data["achievement"]["resultDescription"]
                for lvl in rd["rubricCriterionLevel"] if lvl["level"] == level)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------------------------
# issuer init


@pytest.mark.parametrize(("method", "key_type", "prefix"), [
    ("web", "ed25519", "did:web:roc-techniek.example"),
    ("key", "ed25519", "did:key:z6Mk"),   # multicodec ed25519-pub
    ("key", "p256", "did:key:zDn"),       # multicodec p256-pub
    ("key", "p384", "did:key:z82L"),      # multicodec p384-pub
])
def test_issuer_init_prints_the_did_first(tmp_path: Path, method: str, key_type: str, prefix: str) -> None:
    folder = tmp_path / "roc"
    proc = init(folder, "--did-method", method, "--key-type", key_type)
    assert proc.returncode == 0, proc.stderr
    did = first_line(proc)
    assert did.startswith(prefix)
    if method == "web":
        assert did == prefix
    assert load(folder / "issuer.json")["did"] == did
    assert (folder / "did.json").exists() == (method == "web")
    key_file = folder / "issuer-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()


def test_issuer_init_refuses_an_existing_issuer(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith("registry")}
    proc = init(folder, "--did-method", "key")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(error_lines(proc)) == 1
    after = {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith("registry")}
    assert after == before


# --------------------------------------------------------------------------------------------
# issue


def test_issue_prints_the_id_first_and_writes_out(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    out = tmp_path / "jan.json"
    proc = run("issue", "--issuer", folder, "--achievement", CNC, "--subject", JAN,
               "--name", "Jan de Vries", "--level", "3", "-o", out)
    assert proc.returncode == 0, proc.stderr
    cred_id = first_line(proc)
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", cred_id)
    doc = load(out)
    assert doc["id"] == cred_id
    assert doc["credentialSubject"]["id"] == JAN
    assert doc["credentialSubject"]["result"][0]["achievedLevel"] == rubric_id(CNC, "3")
    report = check_proofs(doc, resolver=resolver(folder), expected_purpose="assertionMethod")
    assert report.verified, report.to_dict()
    assert report.controllers == ("did:web:roc-techniek.example",)
    assert registry_count(folder) == 1


def test_issue_without_out_prints_the_credential_alone_and_the_id_on_stderr(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    proc = run("issue", "--issuer", folder, "--achievement", DIPLOMA, "--subject", JAN, "--name", "Jan")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout is the credential alone (issue ... | wallet add -)
    assert doc["id"] == proc.stderr.splitlines()[0]
    assert check_proofs(doc, resolver=resolver(folder)).verified


def test_issuer_list_and_export_read_the_registry_without_the_key(tmp_path: Path) -> None:
    """An institute sees what it issued, with each credential's status, and can write any of
    them again byte for byte (a lost file, a full disk): no passphrase needed for either."""
    folder = web_issuer(tmp_path / "roc")
    first = run("issue", "--issuer", folder, "--achievement", CNC, "--subject", JAN, "--level", "3",
                "-o", tmp_path / "jan.json")
    second = run("issue", "--issuer", folder, "--achievement", DIPLOMA, "--subject", FATIMA,
                 "--format", "jwt", "-o", tmp_path / "fatima.jwt")
    third = run("issue", "--issuer", folder, "--achievement", CNC, "--subject", FATIMA, "--level", "2",
                "-o", tmp_path / "fatima-cnc.json")
    assert first.returncode == second.returncode == third.returncode == 0
    ids = [first_line(p) for p in (first, second, third)]
    assert run("revoke", "--issuer", folder, ids[2]).returncode == 0

    listing = run("issuer", "list", folder, "--json", passphrase=None)
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["id"] for r in rows] == ids  # issue order
    assert [r["status"] for r in rows] == ["active", "active", "revoked"]
    assert [r["subject"] for r in rows] == [JAN, FATIMA, FATIMA]
    assert {r["kind"] for r in rows} == {"skill", "diploma"}

    only = run("issuer", "list", folder, "--subject", FATIMA, passphrase=None)
    assert only.returncode == 0
    assert [line.split()[0] for line in only.stdout.splitlines()] == ids[1:]
    assert [line.split()[2] for line in only.stdout.splitlines()] == ["active", "revoked"]
    assert only.stderr.strip() == "2 credentials"
    cnc_id = yaml.safe_load(CNC.read_text(encoding="utf-8"))["achievement"]["id"]
    by_achievement = run("issuer", "list", folder, "--achievement", cnc_id, "--json", passphrase=None)
    assert [json.loads(x)["id"] for x in by_achievement.stdout.splitlines()] == [ids[0], ids[2]]

    # export: the very document that was written at issue time, and the token for a vc+jwt
    out = tmp_path / "again.json"
    assert run("issuer", "export", folder, ids[0], "-o", out, passphrase=None).returncode == 0
    assert load(out) == load(tmp_path / "jan.json")
    token = run("issuer", "export", folder, ids[1], passphrase=None)
    assert token.stdout.strip() == (tmp_path / "fatima.jwt").read_text(encoding="ascii").strip()

    missing = run("issuer", "export", folder, "urn:uuid:00000000-0000-4000-8000-000000000000", passphrase=None)
    assert missing.returncode == 2
    assert error_lines(missing) == [
        f"skillcred: error: {folder / 'registry.sqlite'}: no credential "
        "'urn:uuid:00000000-0000-4000-8000-000000000000' in this registry"]
    not_an_issuer = run("issuer", "list", tmp_path, passphrase=None)
    assert not_an_issuer.returncode == 2
    assert "is this an issuer folder?" in not_an_issuer.stderr


def test_a_reader_that_stops_early_ends_the_listing_quietly(tmp_path: Path) -> None:
    """`skillcred issuer list roc | head -1`: the closed pipe is not an error to report."""
    folder = web_issuer(tmp_path / "roc")
    roster = tmp_path / "roster.csv"
    roster.write_text("key,subject,level\n" + "".join(f"k{i},{JAN},3\n" for i in range(300)), encoding="utf-8")
    assert run("issue", "--issuer", folder, "--batch", roster, "--achievement", CNC,
               "--out-dir", tmp_path / "out").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "SKILLCRED_DEBUG"}
    proc = subprocess.Popen([str(SKILLCRED), "issuer", "list", str(folder), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away after one line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert json.loads(first)["status"] == "active"
    assert err == ""


def _copy_examples(tmp_path: Path) -> Path:
    """examples/achievements and examples/rosters, with the same layout (the roster refers to
    ../achievements/*.yaml)."""
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "achievements", root / "achievements")
    shutil.copytree(EXAMPLES / "rosters", root / "rosters")
    return root


def test_batch_issues_the_roster_once(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    examples = _copy_examples(tmp_path)
    roster = examples / "rosters" / "klas-2026.csv"
    with roster.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    out = tmp_path / "issued"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()

    proc = run("issue", "--issuer", folder, "--batch", roster, "--out-dir", out, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\bissued 5\b", first_line(proc))
    files = sorted(out.glob("*.json"))
    assert len(files) == 5
    docs = [load(f) for f in files]
    assert len({d["id"] for d in docs}) == 5
    assert sorted(d["credentialSubject"]["id"] for d in docs) == sorted(r["subject"] for r in rows)
    for row in rows:
        ach = yaml.safe_load((roster.parent / row["achievement"]).read_text(encoding="utf-8"))["achievement"]
        (doc,) = [d for d in docs if d["credentialSubject"]["id"] == row["subject"]
                  and d["credentialSubject"]["achievement"]["id"] == ach["id"]]
        if row["level"]:
            assert doc["credentialSubject"]["result"][0]["achievedLevel"] == \
                rubric_id(roster.parent / row["achievement"], row["level"])
        assert doc["credentialSubject"]["identifier"][0]["identityHash"] == row["name"]
        assert check_proofs(doc, resolver=resolver(folder)).verified
    assert registry_count(folder) == 5
    contents = {f.name: f.read_bytes() for f in files}

    again = run("issue", "--issuer", folder, "--batch", roster, "--out-dir", out, cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    assert re.search(r"\bissued 0\b", first_line(again))
    assert {f.name: f.read_bytes() for f in out.glob("*.json")} == contents
    assert registry_count(folder) == 5


def test_two_batches_of_the_same_roster_at_once_issue_each_row_once(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    roster = _copy_examples(tmp_path) / "rosters" / "klas-2026.csv"
    out = tmp_path / "issued"
    env = {**os.environ, "SKILLCRED_PASSPHRASE": PASSPHRASE}
    procs = [subprocess.Popen([str(SKILLCRED), "issue", "--issuer", str(folder), "--batch", str(roster),
                               "--out-dir", str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0, stderr
        assert "Traceback" not in stderr
    issued = [int(re.search(r"\bissued (\d+)", stdout).group(1)) for stdout, _ in results]  # type: ignore[union-attr]
    assert sum(issued) == 5
    assert registry_count(folder) == 5
    assert len(list(out.glob("*.json"))) == 5


def test_batch_reports_a_bad_row_by_line_and_issues_the_others(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    examples = _copy_examples(tmp_path)
    roster = examples / "rosters" / "roster.csv"
    roster.write_text(
        "key,subject,name,achievement,level\n"
        f"k1,{JAN},Jan,../achievements/cnc-programmeren.yaml,3\n"           # line 2
        f"k2,{FATIMA},Fatima,../achievements/cnc-programmeren.yaml,9\n"     # line 3: no level 9
        f"k3,{SEM},Sem,../achievements/mbo-verspaner-diploma.yaml,\n"       # line 4
        f"k4,not-a-did,Nobody,../achievements/cnc-programmeren.yaml,2\n"    # line 5: no DID
        f"k5,{SEM},Sem,../achievements/lassen-onbekend.yaml,2\n",           # line 6: no such file
        encoding="utf-8",
    )
    out = tmp_path / "issued"
    proc = run("issue", "--issuer", folder, "--batch", roster, "--out-dir", out)
    assert proc.returncode == 2
    for line in (3, 5, 6):
        assert f"roster.csv:{line}:" in proc.stderr
    for line in (2, 4):
        assert f"roster.csv:{line}:" not in proc.stderr
    assert "lassen-onbekend.yaml" in proc.stderr
    docs = [load(f) for f in out.glob("*.json")]
    assert sorted(d["credentialSubject"]["id"] for d in docs) == sorted([JAN, SEM])
    assert registry_count(folder) == 2


# --------------------------------------------------------------------------------------------
# revoke, suspend, publish, verify


def set_bits(list_credential: dict[str, Any]) -> set[int]:
    bits = BitstringStatusList.decode(list_credential["credentialSubject"]["encodedList"])
    raw = bits.to_bytes()
    return {i * 8 + j for i, b in enumerate(raw) if b for j in range(8) if bits.get(i * 8 + j)}


def index_of(doc: dict[str, Any], purpose: str) -> int:
    (e,) = [s for s in doc["credentialStatus"] if s["statusPurpose"] == purpose]
    return int(e["statusListIndex"])


def publish(folder: Path, out: Path) -> dict[str, dict[str, Any]]:
    proc = run("status", "publish", "--issuer", folder, "--out-dir", out)
    assert proc.returncode == 0, proc.stderr
    index = load(out / "index.json")
    lists = {}
    for url, name in index.items():
        assert name == url.rstrip("/").rsplit("/", 1)[-1]
        doc = load(out / name)
        assert doc["id"] == url
        lists[doc["credentialSubject"]["statusPurpose"]] = doc
    return lists


def test_revoke_suspend_publish_and_verify(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    docs = []
    for n, subject in enumerate((JAN, FATIMA, SEM)):
        out = tmp_path / f"c{n}.json"
        proc = run("issue", "--issuer", folder, "--achievement", CNC, "--subject", subject, "--level", "2", "-o", out)
        assert proc.returncode == 0, proc.stderr
        docs.append(load(out))
    a, b, _ = docs

    assert run("revoke", "--issuer", folder, a["id"]).returncode == 0
    assert run("suspend", "--issuer", folder, b["id"]).returncode == 0
    published = tmp_path / "published"
    lists = publish(folder, published)
    assert sorted(p.name for p in published.iterdir()) == ["index.json", "revocation-1", "suspension-1"]
    assert set(load(published / "index.json")) == {
        e["statusListCredential"] for d in docs for e in d["credentialStatus"]}
    assert set_bits(lists["revocation"]) == {index_of(a, "revocation")}
    assert set_bits(lists["suspension"]) == {index_of(b, "suspension")}

    did_json = folder / "did.json"
    for name in ("revocation-1", "suspension-1"):
        proc = run("verify", "--proof-only", "--key-document", did_json, published / name)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # Without the issuer's DID document a did:web proof cannot be checked offline; a changed
    # list no longer verifies.
    assert run("verify", "--proof-only", published / "revocation-1").returncode == 1
    assert run("verify", "--proof-only", "--key-document", did_json, tmp_path / "c0.json").returncode == 0
    forged = load(published / "revocation-1")
    forged["credentialSubject"]["encodedList"] = lists["suspension"]["credentialSubject"]["encodedList"]
    (tmp_path / "forged").write_text(json.dumps(forged), encoding="utf-8")
    assert run("verify", "--proof-only", "--key-document", did_json, tmp_path / "forged").returncode == 1

    assert run("unsuspend", "--issuer", folder, b["id"]).returncode == 0
    lists = publish(folder, published)
    assert set_bits(lists["suspension"]) == set()
    assert set_bits(lists["revocation"]) == {index_of(a, "revocation")}

    unknown = run("revoke", "--issuer", folder, "urn:uuid:00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 2
    assert len(error_lines(unknown)) == 1


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, nothing issued


@pytest.mark.parametrize("command", ["issue", "revoke", "publish"])
def test_wrong_passphrase_is_one_line_naming_the_key_file(tmp_path: Path, command: str) -> None:
    folder = web_issuer(tmp_path / "roc")
    args: dict[str, list[Any]] = {
        "issue": ["issue", "--issuer", folder, "--achievement", CNC, "--subject", JAN, "--level", "3",
                  "-o", tmp_path / "out.json"],
        "revoke": ["revoke", "--issuer", folder, "urn:uuid:00000000-0000-4000-8000-000000000000"],
        "publish": ["status", "publish", "--issuer", folder, "--out-dir", tmp_path / "pub"],
    }
    proc = run(*args[command], passphrase="not the passphrase")
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert "issuer-key.pem" in lines[0]
    assert proc.stdout == ""
    assert not (tmp_path / "out.json").exists()
    assert registry_count(folder) == 0


def test_bad_issue_input(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    out = tmp_path / "out.json"
    base = ["issue", "--issuer", folder, "-o", out]

    missing = tmp_path / "bestaat-niet.yaml"
    proc = run(*base, "--achievement", missing, "--subject", JAN, "--level", "3")
    assert proc.returncode == 2
    assert len(error_lines(proc)) == 1 and "bestaat-niet.yaml" in proc.stderr

    data = yaml.safe_load(CNC.read_text(encoding="utf-8"))
    data["achievement"]["colour"] = "red"
    colour = tmp_path / "cnc-colour.yaml"
    colour.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = run(*base, "--achievement", colour, "--subject", JAN, "--level", "3")
    assert proc.returncode == 2
    assert len(error_lines(proc)) == 1
    assert "colour" in proc.stderr and "cnc-colour.yaml" in proc.stderr

    proc = run(*base, "--achievement", CNC, "--level", "3")  # no --subject
    assert proc.returncode == 2
    assert "subject" in proc.stderr

    proc = run(*base, "--achievement", CNC, "--subject", "jan@roc-techniek.example", "--level", "3")
    assert proc.returncode == 2
    assert len(error_lines(proc)) == 1

    proc = run(*base, "--achievement", CNC, "--subject", JAN)  # a skill needs --level
    assert proc.returncode == 2
    assert "level" in proc.stderr

    proc = run(*base, "--achievement", CNC, "--subject", JAN, "--level", "8")
    assert proc.returncode == 2
    assert all(lvl in proc.stderr for lvl in ("1", "2", "3", "4", "5"))

    assert not out.exists()
    assert registry_count(folder) == 0


def test_an_unwritable_out_path_issues_nothing(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    proc = run("issue", "--issuer", folder, "--achievement", CNC, "--subject", JAN, "--level", "3",
               "-o", tmp_path / "geen-map" / "jan.json")
    assert proc.returncode == 2
    assert "geen-map" in proc.stderr
    # The user saw an error; a credential they never received must not be on record (a re-run
    # would otherwise issue a second one for the same achievement).
    assert registry_count(folder) == 0


def test_batch_needs_out_dir_and_an_existing_roster(tmp_path: Path) -> None:
    folder = web_issuer(tmp_path / "roc")
    proc = run("issue", "--issuer", folder, "--batch", EXAMPLES / "rosters" / "klas-2026.csv")
    assert proc.returncode == 2
    proc = run("issue", "--issuer", folder, "--batch", tmp_path / "geen-roster.csv", "--out-dir", tmp_path / "o")
    assert proc.returncode == 2
    assert "geen-roster.csv" in proc.stderr
    assert registry_count(folder) == 0

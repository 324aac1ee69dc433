"""The worker's commands end to end: wallet, present, and what a crash, a second process, bad
input or a damaged folder does to the wallet.

Every command runs as ``skillcred ...`` would for a worker (stdin closed, passphrase from
SKILLCRED_PASSPHRASE, HOME pointed at the test folder): in-process through support.cli, and as
real processes where a process is the point (killed mid-add, two at once).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from skillcred.did import key_did
from skillcred.issuer import EvidenceInput, Issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.proofs import check_proofs
from skillcred.wallet import Wallet
from support.cli import SKILLCRED, CliResult, run_cli, user_env

ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = "wallet and issuer passphrase"
CHALLENGE = "c8a5b2f0-7d41-4f36-9a1e-5b0f2d9c3e11"
DOMAIN = "werkgever.example"

SPECS: dict[str, tuple[str, str | None, EvidenceInput | None]] = {
    "cnc": ("cnc-programmeren.yaml", "3", None),
    "diploma": ("mbo-verspaner-diploma.yaml", None, None),
    "mig": ("mig-mag-lassen.yaml", "2", None),
    "tekenen": ("technisch-tekeninglezen.yaml", "4", None),
}


def achievement_name(file: str) -> str:
    return str(yaml.safe_load((ACHIEVEMENTS / file).read_text(encoding="utf-8"))["achievement"]["name"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return user_env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "home" / "cache"), SKILLCRED_PASSPHRASE=PASSPHRASE)


def run(env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, env=env)


def ok(env: dict[str, str], *args: str) -> CliResult:
    r = run(env, *args)
    assert r.returncode == 0, f"skillcred {' '.join(args)} -> {r.returncode}\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def issue(iss: Issuer, subject: str, short: str = "cnc") -> dict[str, Any]:
    file, level, evidence = SPECS[short]
    record, new = iss.issue(load_achievement(ACHIEVEMENTS / file), subject, level=level, evidence=evidence)
    assert new
    return record.document


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def new_wallet(path: Path) -> Wallet:
    return Wallet.init(path, passphrase=PASSPHRASE.encode())


def snapshot(root: Path) -> list[tuple[str, bytes]]:
    """Every file in the wallet folder with its bytes (the lock file aside)."""
    return sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*")
                  if p.is_file() and p.name != ".lock")


_VERIFIED: set[bytes] = set()  # sha256 of credential files already verified (they never change)


def assert_sound(root: Path) -> set[str]:
    """The wallet lists without problems, every listed file is whole and verifies, and the
    listing matches the credential files actually there."""
    listing = Wallet.open(root).listing()
    assert listing.problems == [], listing.problems
    visible = sorted(p for p in (root / "credentials").glob("*.json") if not p.name.startswith("."))
    assert sorted(e.file for e in listing.entries) == [p.name for p in visible]
    for p in visible:
        data = p.read_bytes()
        digest = hashlib.sha256(data).digest()
        if digest not in _VERIFIED:
            assert check_proofs(json.loads(data), expected_purpose="assertionMethod").verified, p.name
            _VERIFIED.add(digest)
    return {e.id for e in listing.entries}


def test_presenting_more_than_verifiers_accept_warns_and_is_refused_by_default(
    tmp_path: Path, env: dict[str, str], issuer: Issuer,
) -> None:
    """The worker hears it before the employer's verifier refuses it (too_many_credentials)."""
    from skillcred.verify.verifier import MAX_PRESENTED_CREDENTIALS

    w = new_wallet(tmp_path / "wallet")
    creds = [issue(issuer, w.holder) for _ in range(MAX_PRESENTED_CREDENTIALS + 1)]
    w.add([(f"c{i}.json", c) for i, c in enumerate(creds)])
    vp_file = tmp_path / "vp.json"
    r = ok(env, "present", "--wallet", str(w.root), "--all", "--challenge", CHALLENGE, "--domain", DOMAIN,
           "-o", str(vp_file))
    assert f"{MAX_PRESENTED_CREDENTIALS + 1} credentials: verifiers refuse presentations of more than" in r.stderr
    refused = run(env, "verify", str(vp_file), "--challenge", CHALLENGE, "--domain", DOMAIN, "--json")
    assert refused.returncode == 1
    assert any(c["code"] == "too_many_credentials" for c in json.loads(refused.stdout)["checks"])
    few = ok(env, "present", "--wallet", str(w.root), "--select", creds[0]["id"], "--challenge", CHALLENGE,
             "--domain", DOMAIN, "-o", str(tmp_path / "one.json"))
    assert "verifiers refuse" not in few.stderr


# --------------------------------------------------------------------------------------------
# 1. the round trip: issuer -> wallet -> presentation -> verifier


def test_round_trip_issue_add_list_present_verify(tmp_path: Path, env: dict[str, str]) -> None:
    iss_dir, w_dir = tmp_path / "roc", tmp_path / "wallet"
    issuer_did = ok(env, "issuer", "init", str(iss_dir), "--name", "ROC Techniek",
                    "--url", "https://roc-techniek.example").stdout.splitlines()[0]
    assert issuer_did.startswith("did:key:z")
    r = ok(env, "wallet", "init", "--wallet", str(w_dir))
    holder = r.stdout.splitlines()[0]
    assert holder.startswith("did:key:z") and holder == json.loads((w_dir / "wallet.json").read_text())["holder"]

    issued: dict[str, dict[str, Any]] = {}
    files = []
    for short in ("cnc", "diploma", "mig"):
        file, level, _ = SPECS[short]
        out = tmp_path / f"{short}.json"
        ok(env, "issue", "--issuer", str(iss_dir), "--achievement", str(ACHIEVEMENTS / file),
           "--subject", holder, *(["--level", level] if level else []), "-o", str(out))
        issued[short] = json.loads(out.read_text(encoding="utf-8"))
        files.append(str(out))
    r = ok(env, "wallet", "add", "--wallet", str(w_dir), *files)
    assert sum(line.startswith("added ") for line in r.stdout.splitlines()) == 3

    listed = json.loads(ok(env, "wallet", "list", "--wallet", str(w_dir), "--json").stdout)
    assert isinstance(listed, list) and len(listed) == 3
    by_id = {item["id"]: item for item in listed}
    for short, doc in issued.items():
        item = by_id[doc["id"]]
        assert "VerifiableCredential" in item["type"] and "OpenBadgeCredential" in item["type"]
        assert item["issuer"] == issuer_did
        assert item["achievement"] == achievement_name(SPECS[short][0])
    shown = json.loads(ok(env, "wallet", "show", "--wallet", str(w_dir), issued["mig"]["id"][-12:]).stdout)
    assert shown == issued["mig"]

    vp_file = tmp_path / "vp.json"
    ok(env, "present", "--wallet", str(w_dir), "--select", issued["cnc"]["id"][-12:],
       "--select", issued["diploma"]["id"], "--challenge", CHALLENGE, "--domain", DOMAIN, "-o", str(vp_file))
    ok(env, "verify", "--proof-only", str(vp_file), "--challenge", CHALLENGE, "--domain", DOMAIN)
    assert run(env, "verify", "--proof-only", str(vp_file), "--challenge", CHALLENGE,
               "--domain", "other-employer.example").returncode == 1
    assert run(env, "verify", "--proof-only", str(vp_file), "--challenge", "replayed",
               "--domain", DOMAIN).returncode == 1

    vp_bytes = vp_file.read_bytes()
    vp = json.loads(vp_bytes)
    assert vp["holder"] == holder
    assert check_proofs(vp, expected_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN).verified
    assert [c["id"] for c in vp["verifiableCredential"]] == [issued["cnc"]["id"], issued["diploma"]["id"]]
    for c in vp["verifiableCredential"]:
        assert check_proofs(c, expected_purpose="assertionMethod").verified
    assert issued["mig"]["id"].encode() not in vp_bytes
    assert issued["mig"]["id"].rsplit(":", 1)[1].encode() not in vp_bytes

    r = ok(env, "wallet", "remove", "--wallet", str(w_dir), issued["diploma"]["id"][-12:])
    assert issued["diploma"]["id"] in r.stdout
    listed = json.loads(ok(env, "wallet", "list", "--wallet", str(w_dir), "--json").stdout)
    assert {i["id"] for i in listed} == {issued["cnc"]["id"], issued["mig"]["id"]}


def test_wallet_uses_env_folder_and_refuses_second_init(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "SKILLCRED_WALLET": str(tmp_path / "envwallet")}
    holder = ok(env, "wallet", "init").stdout.splitlines()[0]
    assert json.loads((tmp_path / "envwallet" / "wallet.json").read_text())["holder"] == holder
    r = run(env, "wallet", "init")
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    assert ok(env, "wallet", "list").stdout.strip() == "(empty wallet)"


# --------------------------------------------------------------------------------------------
# 2. killed while adding


def test_sigkill_during_wallet_add_at_random_moments(tmp_path: Path, env: dict[str, str], issuer: Issuer) -> None:
    w = new_wallet(tmp_path / "wallet")
    w.add([(str(i), issue(issuer, w.holder, s)) for i, s in enumerate(("diploma", "tekenen"))])
    runs = 20
    shorts = ("cnc", "mig", "tekenen")
    batches = []
    for n in range(runs + 1):
        batch = [issue(issuer, w.holder, s) for s in shorts]
        paths = [write(tmp_path / f"b{n}-{i}.json", d) for i, d in enumerate(batch)]
        batches.append(([d["id"] for d in batch], [str(p) for p in paths]))
    # how long an uninterrupted add takes here, so the kills spread over its whole life; this only
    # places the kills (every moment must leave a sound wallet), no assertion reads the clock, and
    # the deterministic kill at each file-system call is test_sigkill_before_each_file_system_step_of_add
    t0 = time.monotonic()
    ok(env, "wallet", "add", "--wallet", str(w.root), *batches[-1][1])
    full = time.monotonic() - t0
    rng = random.Random(20240611)
    outcomes = {"none": 0, "some": 0, "all": 0}
    for n in range(runs):
        ids, paths = batches[n]
        before = assert_sound(w.root)
        # half the runs anywhere in 0..300 ms (or the whole run), half near the end where it writes
        delay = rng.uniform(0, max(0.3, full * 1.1)) if n % 2 else rng.uniform(full * 0.6, full * 1.05)
        with subprocess.Popen([SKILLCRED, "wallet", "add", "--wallet", str(w.root), *paths],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env) as proc:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
        assert b"Traceback" not in err
        after = assert_sound(w.root)
        assert before <= after, f"run {n}: lost {before - after}"
        assert after <= before | set(ids), f"run {n}: unexpected {after - before - set(ids)}"
        got = len(after - before)
        outcomes["none" if got == 0 else "all" if got == len(ids) else "some"] += 1
        if proc.returncode == 0:
            assert got == len(ids)
    print(f"SIGKILL outcomes over {runs} runs (full add {full * 1000:.0f} ms): {outcomes}")


KILL_SCRIPT = r"""
# Imports once, then for k = 1, 2, ... copies the template wallet and forks a writer that
# SIGKILLs itself just before its k-th file-system call, until a writer finishes unkilled.
import json, os, shutil, signal, sys
from skillcred.wallet import Wallet, read_credentials_input

template, work, files = sys.argv[1], sys.argv[2], sys.argv[3:]
docs = []
for f in files:
    with open(f, "rb") as fh:
        docs += read_credentials_input(fh.read(), f)
results = {}
k = 0
while True:
    k += 1
    target = os.path.join(work, f"kill{k}")
    shutil.copytree(template, target)
    pid = os.fork()
    if pid == 0:
        count = 0
        def hooked(real):
            def call(*args, **kwargs):
                global count
                count += 1
                if count == k:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(*args, **kwargs)
            return call
        # every file-system step of a write: lock, create temp, chmod, fsync, rename, open dir, fsync dir
        for name in ("open", "fchmod", "fsync", "replace"):
            setattr(os, name, hooked(getattr(os, name)))
        try:
            Wallet.open(target).add(docs)
        except BaseException:
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    results[k] = [os.WIFSIGNALED(status) and os.WTERMSIG(status), os.WIFEXITED(status) and os.WEXITSTATUS(status)]
    if not os.WIFSIGNALED(status) or k > 200:
        break
print(json.dumps(results))
"""


def test_sigkill_before_each_file_system_step_of_add(tmp_path: Path, env: dict[str, str], issuer: Issuer) -> None:
    """Deterministic: kill the writer just before each of its file-system calls in turn."""
    template = tmp_path / "template"
    w = new_wallet(template)
    earlier = [issue(issuer, w.holder, s) for s in ("diploma", "tekenen")]
    w.add([(str(i), d) for i, d in enumerate(earlier)])
    batch = [issue(issuer, w.holder, s) for s in ("cnc", "mig")]
    paths = [str(write(tmp_path / f"new{i}.json", d)) for i, d in enumerate(batch)]
    earlier_ids, batch_ids = {d["id"] for d in earlier}, {d["id"] for d in batch}
    work = tmp_path / "runs"
    work.mkdir()
    r = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(template), str(work), *paths],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    results = {int(k): v for k, v in json.loads(r.stdout).items()}
    last = max(results)
    assert results[last] == [False, 0], results[last]  # the last writer ran to the end
    assert last > 6 * (len(batch) + 1), last  # 2 credentials + the index, 6 steps each, + the lock
    for k in range(1, last):
        assert results[k] == [signal.SIGKILL, False], (k, results[k])
    assert assert_sound(work / f"kill{last}") == earlier_ids | batch_ids
    added_counts = set()
    for k in range(1, last):
        target = work / f"kill{k}"
        after = assert_sound(target)
        assert earlier_ids <= after <= earlier_ids | batch_ids, k
        added_counts.add(len(after - earlier_ids))
        # and the wallet is still usable: the rest can be added afterwards
        Wallet.open(target).add([(d["id"], d) for d in batch if d["id"] not in after])
        assert assert_sound(target) == earlier_ids | batch_ids
    # the kills landed before, between and after the two credential files were renamed in
    assert added_counts == {0, 1, 2}, added_counts


# --------------------------------------------------------------------------------------------
# 3. two writers at once


def test_two_wallet_adds_at_once(tmp_path: Path, env: dict[str, str], issuer: Issuer) -> None:
    w = new_wallet(tmp_path / "wallet")
    expected: set[str] = set()
    for rnd in range(4):
        groups = []
        for side in "ab":
            docs = [issue(issuer, w.holder, s) for s in (("cnc", "mig") if side == "a" else ("tekenen", "diploma"))]
            groups.append([str(write(tmp_path / f"r{rnd}{side}{i}.json", d)) for i, d in enumerate(docs)])
            expected |= {d["id"] for d in docs}
        procs = [subprocess.Popen([SKILLCRED, "wallet", "add", "--wallet", str(w.root), *g],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env) for g in groups]
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err.decode()
            assert out.decode().count("added ") == 2
        assert assert_sound(w.root) == expected
        index = json.loads((w.root / "index.json").read_text(encoding="utf-8"))
        assert len(index["entries"]) == len(expected)
    listed = json.loads(ok(env, "wallet", "list", "--wallet", str(w.root), "--json").stdout)
    assert {i["id"] for i in listed} == expected


def test_two_processes_adding_the_same_credential(tmp_path: Path, env: dict[str, str], issuer: Issuer) -> None:
    w = new_wallet(tmp_path / "wallet")
    for rnd in range(2):
        doc = issue(issuer, w.holder, "cnc")
        path = str(write(tmp_path / f"same{rnd}.json", doc))
        procs = [subprocess.Popen([SKILLCRED, "wallet", "add", "--wallet", str(w.root), path],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env) for _ in range(2)]
        results = [(p.wait(timeout=60), p.communicate()[1].decode()) for p in procs]
        assert sorted(rc for rc, _ in results) == [0, 2], results
        loser = next(err for rc, err in results if rc == 2)
        assert "already in the wallet" in loser and doc["id"] in loser
        assert len(assert_sound(w.root)) == rnd + 1


# --------------------------------------------------------------------------------------------
# 4. bad input: one line, exit 2, wallet untouched


BAD_INPUTS = ["tampered", "someone-else", "not-json", "duplicate", "missing-file", "wrong-passphrase",
              "partly-bad-batch", "json-but-not-a-credential"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    tmp_path: Path, env: dict[str, str], issuer: Issuer, case: str
) -> None:
    w = new_wallet(tmp_path / "wallet")
    kept = [issue(issuer, w.holder, s) for s in ("cnc", "diploma")]
    w.add([(str(i), d) for i, d in enumerate(kept)])
    assert len(Wallet.open(w.root).listing().entries) == 2  # index up to date
    before = snapshot(w.root)
    wd = str(w.root)
    out = tmp_path / "vp.json"
    expect: list[str] = []
    if case == "tampered":
        doc = copy.deepcopy(issue(issuer, w.holder, "mig"))
        doc["credentialSubject"]["result"][0]["achievedLevel"] = "https://roc-techniek.example/rubric/niveau-5"
        f = write(tmp_path / "tampered.json", doc)
        args, expect = ["wallet", "add", "--wallet", wd, str(f)], ["tampered.json", "does not verify"]
    elif case == "someone-else":
        doc = issue(issuer, key_did(KeyPair.generate("ed25519").public_key), "mig")
        f = write(tmp_path / "theirs.json", doc)
        args, expect = ["wallet", "add", "--wallet", wd, str(f)], ["theirs.json", "not this wallet's holder", w.holder]
    elif case == "not-json":
        f = tmp_path / "photo.json"
        f.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
        args, expect = ["wallet", "add", "--wallet", wd, str(f)], ["photo.json"]
    elif case == "json-but-not-a-credential":
        f = write(tmp_path / "config.json", {"name": "my settings"})
        args, expect = ["wallet", "add", "--wallet", wd, str(f)], ["config.json", "not a verifiable credential"]
    elif case == "duplicate":
        f = write(tmp_path / "again.json", kept[1])
        args = ["wallet", "add", "--wallet", wd, str(f)]
        expect = ["again.json", "already in the wallet", kept[1]["id"], "MBO-diploma Verspaner"]
    elif case == "missing-file":
        args, expect = ["wallet", "add", "--wallet", wd, str(tmp_path / "nowhere.json")], ["nowhere.json"]
    elif case == "partly-bad-batch":
        good = write(tmp_path / "good.json", issue(issuer, w.holder, "tekenen"))
        bad = write(tmp_path / "bad.json", issue(issuer, key_did(KeyPair.generate("ed25519").public_key), "mig"))
        args, expect = ["wallet", "add", "--wallet", wd, str(good), str(bad)], ["bad.json"]
    elif case == "wrong-passphrase":
        env = {**env, "SKILLCRED_PASSPHRASE": "not the passphrase"}
        args = ["present", "--wallet", wd, "--select", kept[0]["id"], "--challenge", CHALLENGE,
                "--domain", DOMAIN, "-o", str(out)]
        expect = ["passphrase"]
    r = run(env, *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error: "), r.stderr
    for fragment in expect:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(w.root) == before
    assert not out.exists()
    assert {e.id for e in Wallet.open(w.root).listing().entries} == {d["id"] for d in kept}


def test_no_wallet_and_unknown_credential(tmp_path: Path, env: dict[str, str]) -> None:
    for args in (["wallet", "list", "--wallet", str(tmp_path / "none")],
                 ["wallet", "show", "--wallet", str(tmp_path / "none"), "x"]):
        r = run(env, *args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "no wallet here" in r.stderr
    new_wallet(tmp_path / "w")
    for args in (["wallet", "show", "--wallet", str(tmp_path / "w"), "urn:uuid:nope"],
                 ["wallet", "remove", "--wallet", str(tmp_path / "w"), "urn:uuid:nope"],
                 ["present", "--wallet", str(tmp_path / "w"), "--select", "nope", "--challenge", "c",
                  "--domain", "d"]):
        r = run(env, *args)
        assert r.returncode == 2 and "no credential" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------
# 5. damaged and foreign files; a lost or broken index


def test_damaged_and_foreign_files_are_reported_and_skipped(
    tmp_path: Path, env: dict[str, str], issuer: Issuer
) -> None:
    w = new_wallet(tmp_path / "wallet")
    kept = [issue(issuer, w.holder, s) for s in ("cnc", "diploma", "mig")]
    w.add([(str(i), d) for i, d in enumerate(kept)])
    cred_dir = w.root / "credentials"
    (cred_dir / "damaged.json").write_bytes(os.urandom(400))
    write(cred_dir / "foreign.json", {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Thing"]})
    wd = str(w.root)
    ids = {d["id"] for d in kept}
    for attempt in ("scan", "index", "index-deleted", "index-corrupt"):
        if attempt == "index-deleted":
            (w.root / "index.json").unlink()
        elif attempt == "index-corrupt":
            (w.root / "index.json").write_bytes(b'{"files": [[')
        r = ok(env, "wallet", "list", "--wallet", wd, "--json")
        assert {i["id"] for i in json.loads(r.stdout)} == ids, attempt
        warnings = [line for line in r.stderr.splitlines() if line.startswith("skillcred: warning:")]
        assert len(warnings) == 2, r.stderr
        assert any(str(cred_dir / "damaged.json") in line for line in warnings)
        assert any(str(cred_dir / "foreign.json") in line for line in warnings)
    r = ok(env, "wallet", "list", "--wallet", wd)
    for d in kept:
        assert d["id"] in r.stdout
    assert "damaged.json" in r.stderr and "foreign.json" in r.stderr
    r = ok(env, "passport", "--wallet", wd)
    assert "3 credential(s)" in r.stdout and "damaged.json" in r.stderr
    # the damaged files do not stop presenting or removing the good ones
    ok(env, "present", "--wallet", wd, "--all", "--challenge", CHALLENGE, "--domain", DOMAIN,
       "-o", str(tmp_path / "vp.json"))
    vp = json.loads((tmp_path / "vp.json").read_text(encoding="utf-8"))
    assert {c["id"] for c in vp["verifiableCredential"]} == ids
    (w.root / "index.json").unlink()
    ok(env, "wallet", "remove", "--wallet", wd, kept[0]["id"])
    assert {i["id"] for i in json.loads(ok(env, "wallet", "list", "--wallet", wd, "--json").stdout)} == ids - {
        kept[0]["id"]}


# --------------------------------------------------------------------------------------------
# 6. backup and restore


def test_export_import_restores_holder_and_credentials(tmp_path: Path, env: dict[str, str], issuer: Issuer) -> None:
    w = new_wallet(tmp_path / "old-laptop")
    kept = [issue(issuer, w.holder, s) for s in ("cnc", "diploma", "mig")]
    w.add([(str(i), d) for i, d in enumerate(kept)])
    backup = tmp_path / "backup.json"
    r = ok(env, "wallet", "export", "--wallet", str(w.root), str(backup))
    assert "3 credential(s)" in r.stdout
    assert backup.stat().st_mode & 0o777 == 0o600
    bundle = json.loads(backup.read_text(encoding="utf-8"))
    assert bundle["holder"] == w.holder and "ENCRYPTED PRIVATE KEY" in bundle["holderKeyPem"]

    new_dir = tmp_path / "new-laptop"
    r = ok(env, "wallet", "import", "--wallet", str(new_dir), str(backup))
    assert "imported 3 credential(s)" in r.stdout and w.holder in r.stdout
    assert json.loads((new_dir / "wallet.json").read_text()) == json.loads((w.root / "wallet.json").read_text())
    listed = json.loads(ok(env, "wallet", "list", "--wallet", str(new_dir), "--json").stdout)
    assert {i["id"] for i in listed} == {d["id"] for d in kept}
    for d in kept:
        assert json.loads(ok(env, "wallet", "show", "--wallet", str(new_dir), d["id"]).stdout) == d

    vp_file = tmp_path / "vp.json"
    ok(env, "present", "--wallet", str(new_dir), "--select", kept[2]["id"], "--challenge", CHALLENGE,
       "--domain", DOMAIN, "-o", str(vp_file))
    vp = json.loads(vp_file.read_text(encoding="utf-8"))
    assert vp["holder"] == w.holder and vp["proof"]["verificationMethod"] == w.verification_method
    assert check_proofs(vp, expected_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN).verified

    # importing again adds nothing; into someone else's wallet is refused and changes nothing
    assert "imported 0 credential(s)" in ok(env, "wallet", "import", "--wallet", str(new_dir), str(backup)).stdout
    other = new_wallet(tmp_path / "someone-else")
    before = snapshot(other.root)
    r = run(env, "wallet", "import", "--wallet", str(other.root), str(backup))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "belongs to" in r.stderr
    assert snapshot(other.root) == before
    r = run(env, "wallet", "import", "--wallet", str(tmp_path / "x"), str(vp_file))
    assert r.returncode == 2 and "not a skillcred wallet export" in r.stderr and "Traceback" not in r.stderr

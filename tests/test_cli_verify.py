"""The employer's command line, run as an employer would (in-process, support.cli): no terminal and a
clean home folder (so no default trust list or status cache is picked up by accident).

Checked: exit codes (0 verified, 1 not verified, 2 unusable input), that ``--json`` prints one
JSON object naming every check, the one-line warning when no trust list is used, and that
``trust add`` and ``status import`` feed ``verify``. The credentials and presentations are made
with the library (faster, and not what is under test here).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from skillcred._internal.fileio import dump_json
from skillcred._internal.timeutil import format_datetime, parse_datetime
from skillcred.issuer import Issuer, init_issuer, load_achievement
from skillcred.wallet import Wallet
from support.cli import CliResult, home_env, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
CHALLENGE = "c0ffee-4a1b-employer-challenge"
DOMAIN = "werkgever.example"


@dataclass
class Files:
    root: Path
    home: Path
    a_did: str
    b_did: str
    b_did_json: Path
    status: list[Path]  # every published status list of A and B
    vp: Path  # cnc (A, did:key) + diploma (B, did:web), for CHALLENGE/DOMAIN
    vp_revoked: Path  # one credential of A, revoked
    cnc: Path  # the bare credential of A
    diploma: Path  # the bare credential of B (did:web)
    cnc_valid_until: str


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    root = tmp_path_factory.mktemp("cli-verify")
    init_issuer(root / "a", name="ROC Techniek", url="https://roc-techniek.example")
    init_issuer(root / "b", name="Lasinstituut Noord", url="https://lasinstituut-noord.example", did_method="web")
    wallet = Wallet.init(root / "wallet")
    key = wallet.holder_key()
    with Issuer.open(root / "a") as a, Issuer.open(root / "b") as b:
        cnc, _ = a.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), wallet.holder, level="3")
        diploma, _ = b.issue(load_achievement(ACHIEVEMENTS / "mbo-verspaner-diploma.yaml"), wallet.holder)
        mig, _ = a.issue(load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), wallet.holder, level="2")
        a.revoke(mig.id)
        a.publish_status(root / "status-a")
        b.publish_status(root / "status-b")
        a_did, b_did = a.profile.did, b.profile.did
    for name, doc in (("cnc.json", cnc.document), ("diploma.json", diploma.document)):
        (root / name).write_bytes(dump_json(doc))
    vp = wallet.present([cnc.document, diploma.document], key=key, challenge=CHALLENGE, domain=DOMAIN)
    (root / "vp.json").write_bytes(dump_json(vp))
    vp_revoked = wallet.present([mig.document], key=key, challenge=CHALLENGE, domain=DOMAIN)
    (root / "vp-revoked.json").write_bytes(dump_json(vp_revoked))
    status = sorted(p for d in ("status-a", "status-b") for p in (root / d).iterdir() if p.name != "index.json")
    assert len(status) == 4  # revocation and suspension list of each institute
    home = root / "home"
    home.mkdir()
    yield Files(root, home, a_did, b_did, root / "b" / "did.json", status, root / "vp.json",
                root / "vp-revoked.json", root / "cnc.json", root / "diploma.json", str(cnc.document["validUntil"]))


def run(files: Files, *args: str | Path, env_extra: dict[str, str] | None = None) -> CliResult:
    proc = run_cli(*args, env=home_env(files.home, **(env_extra or {})))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def status_args(files: Files) -> list[str]:
    return [x for p in files.status for x in ("--status-list", str(p))]


def report_of(proc: CliResult) -> dict[str, Any]:
    """stdout must be exactly one JSON object."""
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    assert isinstance(data["verified"], bool)
    for c in data["checks"]:
        assert {"id", "status", "reason"} <= set(c) and c["status"] in (
            "passed", "failed", "not_applicable", "indeterminate")
    return data


def check_of(data: dict[str, Any], cid: str) -> dict[str, Any]:
    found = [c for c in data["checks"] if c["id"] == cid]
    assert len(found) == 1, [c["id"] for c in data["checks"]]
    return found[0]


@pytest.fixture(scope="module")
def trust_file(files: Files) -> Path:
    """A trust list made with ``skillcred trust add``: A (did:key) and B (did:web + did.json)."""
    path = files.root / "employer" / "trust.json"
    assert not path.exists()
    proc = run(files, "trust", "add", "--trust", path, files.a_did, "--name", "ROC Techniek")
    assert proc.returncode == 0, proc.stderr
    assert path.exists()  # created when missing
    proc = run(files, "trust", "add", "--trust", path, files.b_did, "--name", "Lasinstituut Noord",
               "--did-document", files.b_did_json)
    assert proc.returncode == 0, proc.stderr
    stored = json.loads(path.read_text())
    assert {i["id"] for i in stored["issuers"]} == {files.a_did, files.b_did}
    assert next(i for i in stored["issuers"] if i["id"] == files.b_did)["didDocument"]["id"] == files.b_did
    return path


def verify(files: Files, trust: Path | None, *args: str | Path, json_out: bool = True,
           challenge: str | None = CHALLENGE, with_status: bool = True,
           env_extra: dict[str, str] | None = None) -> CliResult:
    opts: list[str | Path] = []
    if trust is not None:
        opts += ["--trust", trust]
    if challenge is not None:
        opts += ["--challenge", challenge, "--domain", DOMAIN]
    if with_status:
        opts += status_args(files)
    if json_out:
        opts.append("--json")
    return run(files, "verify", *args, *opts, env_extra=env_extra)


# --------------------------------------------------------------------------------------------


def test_valid_presentation_of_two_institutes_exits_0_with_one_json_object(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = report_of(proc)
    assert data["verified"] is True
    ids = {c["id"] for c in data["checks"]}
    for i in (0, 1):
        assert {f"credential[{i}].{f}" for f in ("proof", "issuer", "validity", "status", "trust", "schema",
                                                 "holder_binding")} <= ids
    assert all(c["status"] == "passed" for c in data["checks"])
    assert proc.stderr == ""


def test_valid_presentation_text_report(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp, json_out=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("VERIFIED")
    assert "FAIL" not in proc.stdout


def test_max_credentials_refuses_a_bigger_presentation(files: Files, trust_file: Path) -> None:
    assert verify(files, trust_file, files.vp, "--max-credentials", "2").returncode == 0  # it holds two
    proc = verify(files, trust_file, files.vp, "--max-credentials", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    c = check_of(report_of(proc), "presentation.credentials")
    assert (c["status"], c["code"]) == ("failed", "too_many_credentials")
    assert "2 credentials" in c["reason"]
    bad = verify(files, trust_file, files.vp, "--max-credentials", "0")
    assert bad.returncode == 2 and "--max-credentials" in bad.stderr


def test_trust_add_did_web_without_its_document_is_refused(files: Files, tmp_path: Path) -> None:
    proc = run(files, "trust", "add", "--trust", tmp_path / "t.json", files.b_did, "--name", "B")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "did-document" in proc.stderr
    assert not (tmp_path / "t.json").exists()


def test_wrong_challenge_exits_1(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp, challenge="a-different-challenge")
    assert proc.returncode == 1
    data = report_of(proc)
    assert data["verified"] is False
    c = check_of(data, "presentation.proof")
    assert (c["status"], c["code"]) == ("failed", "challenge_mismatch")


def test_no_challenge_given_exits_1(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp, challenge=None)
    assert proc.returncode == 1
    c = check_of(report_of(proc), "presentation.challenge")
    assert (c["status"], c["code"]) == ("indeterminate", "challenge_not_given")


def test_revoked_credential_exits_1(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp_revoked)
    assert proc.returncode == 1
    c = check_of(report_of(proc), "credential[0].status")
    assert (c["status"], c["code"]) == ("failed", "revoked")
    text = verify(files, trust_file, files.vp_revoked, json_out=False)
    assert text.returncode == 1
    assert text.stdout.splitlines()[0].startswith("NOT VERIFIED")
    assert any("FAIL" in line and "revoked" in line for line in text.stdout.splitlines())


def test_at_moves_the_verification_time(files: Files, trust_file: Path) -> None:
    after = format_datetime(parse_datetime(files.cnc_valid_until) + timedelta(days=1))
    proc = verify(files, trust_file, files.vp, "--at", after)
    assert proc.returncode == 1
    data = report_of(proc)
    c = check_of(data, "credential[0].validity")
    assert (c["status"], c["code"]) == ("failed", "expired")
    assert data["checked_at"] == after
    proc = verify(files, trust_file, files.vp, "--at", "2020-01-01")  # a date alone is midnight UTC
    assert proc.returncode == 1
    assert check_of(report_of(proc), "credential[0].validity")["code"] == "not_yet_valid"


def test_bad_at_is_unusable_input(files: Files, trust_file: Path) -> None:
    proc = verify(files, trust_file, files.vp, "--at", "next tuesday")
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1


def test_issuer_trusted_only_for_diplomas(files: Files, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    assert run(files, "trust", "add", "--trust", path, files.a_did, "--name", "ROC", "--may-attest", "Diploma",
               "--may-attest", "Certification").returncode == 0
    assert run(files, "trust", "add", "--trust", path, files.b_did, "--name", "B", "--did-document",
               files.b_did_json, "--may-attest", "Diploma").returncode == 0
    proc = verify(files, path, files.vp)
    assert proc.returncode == 1
    data = report_of(proc)
    c = check_of(data, "credential[0].trust")  # CNC programming is a Competency
    assert (c["status"], c["code"]) == ("failed", "issuer_not_trusted_for_kind")
    assert check_of(data, "credential[1].trust")["status"] == "passed"  # B's diploma


def test_issuer_missing_from_the_trust_list(files: Files, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    assert run(files, "trust", "add", "--trust", path, files.b_did, "--name", "B", "--did-document",
               files.b_did_json).returncode == 0
    proc = verify(files, path, files.vp)
    assert proc.returncode == 1
    c = check_of(report_of(proc), "credential[0].trust")
    assert (c["status"], c["code"]) == ("failed", "issuer_untrusted")


def test_without_a_trust_list_trust_is_not_performed_and_a_warning_says_so(files: Files) -> None:
    # B's did:web document must now come from somewhere: give it as a DID document
    extra = ["--did-document", str(files.b_did_json)]
    for json_out in (True, False):
        proc = verify(files, None, files.vp, *extra, json_out=json_out)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
        assert any("no trust list" in line for line in warnings), proc.stderr
        if json_out:
            data = report_of(proc)
            assert data["verified"] is True
            for i in (0, 1):
                c = check_of(data, f"credential[{i}].trust")
                assert (c["status"], c["code"]) == ("not_applicable", "trust_not_checked")
            assert any("no trust list" in w for w in data["warnings"])
        else:
            assert "NOT PERFORMED" in proc.stdout
    # the exit code is that of the other checks
    proc = verify(files, None, files.vp_revoked)
    assert proc.returncode == 1
    assert check_of(report_of(proc), "credential[0].status")["code"] == "revoked"


def test_default_trust_file_is_used_when_present(files: Files, trust_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "skillcred").mkdir(parents=True)
    (config / "skillcred" / "trust.json").write_bytes(trust_file.read_bytes())
    proc = verify(files, None, files.vp, env_extra={"XDG_CONFIG_HOME": str(config)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert check_of(report_of(proc), "credential[0].trust")["status"] == "passed"


def test_status_import_then_status_cache(files: Files, trust_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "status-cache"
    proc = run(files, "status", "import", *files.status, "--cache", cache)
    assert proc.returncode == 0, proc.stderr
    assert len(list(cache.glob("*.json"))) == 4
    proc = verify(files, trust_file, files.vp, "--status-cache", cache, with_status=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert check_of(report_of(proc), "credential[1].status")["status"] == "passed"
    proc = verify(files, trust_file, files.vp_revoked, "--status-cache", cache, with_status=False)
    assert proc.returncode == 1
    assert check_of(report_of(proc), "credential[0].status")["code"] == "revoked"


def test_status_unavailable_fails_closed_unless_the_unsafe_switch(
    files: Files, trust_file: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-cache"
    proc = verify(files, trust_file, files.vp, "--status-cache", empty, with_status=False)
    assert proc.returncode == 1
    c = check_of(report_of(proc), "credential[0].status")
    assert (c["status"], c["code"]) == ("indeterminate", "status_unavailable")
    proc = verify(files, trust_file, files.vp, "--status-cache", empty, "--unsafe-accept-unknown-status",
                  with_status=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "UNSAFE" in proc.stderr
    assert check_of(report_of(proc), "credential[0].status")["code"] == "unsafe_status_unknown"


def test_status_import_refuses_what_is_not_a_status_list(files: Files, tmp_path: Path) -> None:
    proc = run(files, "status", "import", files.cnc, "--cache", tmp_path / "c")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_proof_only(files: Files, tmp_path: Path) -> None:
    assert run(files, "verify", files.cnc, "--proof-only").returncode == 0
    proc = run(files, "verify", files.diploma, "--proof-only", "--key-document", files.b_did_json, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["verified"] is True
    assert run(files, "verify", files.vp, "--proof-only").returncode == 0
    tampered = json.loads(files.cnc.read_text())
    tampered["credentialSubject"]["result"][0]["achievedLevel"] = "https://roc-techniek.example/rubric/niveau-5"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    proc = run(files, "verify", bad, "--proof-only", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["verified"] is False and data["proofs"][0]["code"] == "signature_invalid"


def test_tampered_credential_full_verification(files: Files, trust_file: Path, tmp_path: Path) -> None:
    tampered = json.loads(files.cnc.read_text())
    tampered["credentialSubject"]["result"][0]["achievedLevel"] = "https://roc-techniek.example/rubric/niveau-5"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    proc = verify(files, trust_file, bad, challenge=None)
    assert proc.returncode == 1
    c = check_of(report_of(proc), "credential.proof")
    assert (c["status"], c["code"]) == ("failed", "signature_invalid")


@pytest.mark.parametrize("content", ["not json at all {", "[1, 2, 3]", '"a string"', ""])
def test_unusable_input_exits_2(files: Files, trust_file: Path, tmp_path: Path, content: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    proc = verify(files, trust_file, path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:") and str(path) in lines[0]


def test_missing_file_and_bad_trust_list_exit_2(files: Files, tmp_path: Path) -> None:
    proc = verify(files, None, tmp_path / "nope.json")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    bad_trust = tmp_path / "trust.json"
    bad_trust.write_text(json.dumps({"type": "SkillcredTrustList", "version": 1, "issuers": [{"name": 5}]}))
    proc = verify(files, bad_trust, files.vp)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_json_document_that_is_no_credential_exits_2(files: Files, trust_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    doc = copy.deepcopy(json.loads(files.cnc.read_text()))
    doc["type"] = ["Thing"]
    path.write_text(json.dumps(doc))
    proc = verify(files, trust_file, path)
    assert proc.returncode == 2
    assert check_of(report_of(proc), "document.shape")["status"] == "failed"


def test_stdin_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """'-' reads at most limit + 1 bytes: a 20 MB pipe is refused with a one-line message."""
    proc = run_cli("verify", "--proof-only", "-", stdin=b" " * (20 * 1024 * 1024))
    assert proc.returncode == 2
    assert b"limit" in proc.stderr_bytes and b"Traceback" not in proc.stderr_bytes

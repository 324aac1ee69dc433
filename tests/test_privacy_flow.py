"""Issue 9 end to end through the command line: an SD-JWT skill credential, presented with
only the achievement and level disclosed, verifies, hides everything else (checked in the
bytes, also base64url-decoded), fails on a tampered disclosure or a wrong nonce, and counts in
gap analysis; a vc+jwt credential travels enveloped beside a Data Integrity one."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from support.cli import CliResult, run_cli

REPO = Path(__file__).resolve().parents[1]
ACH = REPO / "examples" / "achievements"
SECRET_NAME = "Jantje Geheimnaam"
SECRET_EVIDENCE = "examenscore 87 van 100, beoordeeld bij Lasbedrijf Verborgen"


def run(*args: str, cwd: Path, ok: bool = True) -> CliResult:
    env = {**os.environ, "SKILLCRED_PASSPHRASE": "pw", "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / "cfg"),
           "XDG_CACHE_HOME": str(cwd / "cache")}
    proc = run_cli(*args, cwd=cwd, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    if ok:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def _decoded_parts(token: str) -> bytes:
    jwt, *rest = token.split("~")
    out = b""
    for seg in [*jwt.split(".")[:2], *[r for r in rest if r and "." not in r]]:
        out += base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("privacy")
    issuer = run("issuer", "init", "roc", "--name", "ROC", "--url", "https://roc.example", cwd=d).stdout.split()[0]
    holder = run("wallet", "init", "--wallet", "w", cwd=d).stdout.split()[0]
    sd_id = run("issue", "--issuer", "roc", "--achievement", str(ACH / "mig-mag-lassen.yaml"), "--subject", holder,
                "--name", SECRET_NAME, "--level", "3", "--evidence", SECRET_EVIDENCE, "--format", "sd-jwt",
                "-o", "lassen.sdjwt", cwd=d).stdout.split()[0]
    jwt_id = run("issue", "--issuer", "roc", "--achievement", str(ACH / "technisch-tekeninglezen.yaml"),
                 "--subject", holder, "--level", "2", "--format", "jwt", "-o", "tekenen.jwt", cwd=d).stdout.split()[0]
    di_id = run("issue", "--issuer", "roc", "--achievement", str(ACH / "cnc-programmeren.yaml"),
                "--subject", holder, "--level", "3", "-o", "cnc.json", cwd=d).stdout.split()[0]
    run("wallet", "add", "--wallet", "w", "lassen.sdjwt", "tekenen.jwt", "cnc.json", cwd=d)
    run("status", "publish", "--issuer", "roc", "--out-dir", "pub", cwd=d)
    run("trust", "add", "--trust", "trust.json", issuer, "--name", "ROC", cwd=d)
    return {"dir": d, "issuer": issuer, "holder": holder, "sd": sd_id, "jwt": jwt_id, "di": di_id}


def _present(world: dict[str, Any], name: str, *select: str, disclose: tuple[str, ...] = ()) -> Path:
    args = ["present", "--wallet", "w", "--challenge", "ch-1", "--domain", "werkgever.example", "-o", name]
    for s in select:
        args += ["--select", s]
    for p in disclose:
        args += ["--disclose", p]
    run(*args, cwd=world["dir"])
    return world["dir"] / name


def _verify(world: dict[str, Any], vp: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = run("verify", str(vp), "--trust", "trust.json", "--status-list", "pub/revocation-1",
               "--status-list", "pub/suspension-1", "--json", *extra, cwd=world["dir"], ok=False)
    return proc.returncode, json.loads(proc.stdout)


def test_wallet_lists_the_formats(world: dict[str, Any]) -> None:
    listed = json.loads(run("wallet", "list", "--wallet", "w", "--json", cwd=world["dir"]).stdout)
    assert {e["id"]: e["format"] for e in listed} == {world["sd"]: "sd-jwt", world["jwt"]: "jwt", world["di"]: "di"}
    # the passport shows the SD-JWT credential like the others (the holder has every disclosure)
    assert "MIG/MAG-lassen" in run("passport", "--wallet", "w", cwd=world["dir"]).stdout


def test_disclosing_only_achievement_and_level(world: dict[str, Any]) -> None:
    vp = _present(world, "vp-sd.json", world["sd"], disclose=("/credentialSubject/result/0",))
    raw = vp.read_bytes()
    token = json.loads(raw)["verifiableCredential"][0]["id"].split(",", 1)[1]
    decoded = _decoded_parts(token)
    for secret in (SECRET_NAME, SECRET_EVIDENCE, "examenscore", "Verborgen"):
        assert secret.encode() not in raw and secret.encode() not in decoded, secret
    assert b"MIG/MAG-lassen" in decoded  # the achievement itself is always visible
    code, report = _verify(world, vp, "--challenge", "ch-1", "--domain", "werkgever.example")
    assert code == 0, report
    proof = next(c for c in report["checks"] if c["id"] == "credential[0].proof")
    assert "/credentialSubject/result/0" in proof["reason"]  # the report names what was disclosed


def test_wrong_nonce_and_tampered_disclosure_fail(world: dict[str, Any]) -> None:
    vp = _present(world, "vp-sd2.json", world["sd"], disclose=("/credentialSubject/result/0",))
    code, report = _verify(world, vp, "--challenge", "other", "--domain", "werkgever.example")
    assert code == 1
    codes = {c["id"]: c["code"] for c in report["checks"] if c["status"] == "failed"}
    assert codes["credential[0].proof"] == "nonce_mismatch"
    # tamper with the disclosed result inside the envelope (and re-sign nothing)
    doc = json.loads(vp.read_text())
    token = doc["verifiableCredential"][0]["id"].split(",", 1)[1]
    jwt, disclosure, *rest = token.split("~")
    claim = json.loads(base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)))
    claim[1]["achievedLevel"] = "https://roc-techniek.example/rubric/niveau-5"
    forged = base64.urlsafe_b64encode(json.dumps(claim).encode()).rstrip(b"=").decode()
    doc["verifiableCredential"][0]["id"] = "data:application/vc+sd-jwt," + "~".join([jwt, forged, *rest])
    tampered = world["dir"] / "vp-tampered.json"
    tampered.write_text(json.dumps(doc))
    code, report = _verify(world, tampered, "--challenge", "ch-1", "--domain", "werkgever.example")
    assert code == 1 and not report["verified"]


def test_jwt_and_di_credentials_together(world: dict[str, Any]) -> None:
    vp = _present(world, "vp-mix.json", world["jwt"], world["di"])
    code, report = _verify(world, vp, "--challenge", "ch-1", "--domain", "werkgever.example")
    assert code == 0, report
    reasons = [c["reason"] for c in report["checks"] if c["id"].endswith(".proof")]
    assert any("vc+jwt" in r for r in reasons) and any("eddsa-rdfc-2022" in r for r in reasons)


def test_disclose_without_an_sd_jwt_is_refused(world: dict[str, Any]) -> None:
    proc = run("present", "--wallet", "w", "--select", world["di"], "--disclose", "/credentialSubject/result/0",
               "--challenge", "c", "--domain", "d.example", "-o", "x.json", cwd=world["dir"], ok=False)
    assert proc.returncode == 2 and "SD-JWT" in proc.stderr


def test_gap_analysis_counts_a_skill_proven_by_a_disclosed_claim(world: dict[str, Any]) -> None:
    vp = _present(world, "vp-gap.json", world["sd"], disclose=("/credentialSubject/result/0",))
    proc = run("match", str(vp), "--profile", str(REPO / "examples" / "profiles" / "lasser.json"),
               "--trust", "trust.json", "--challenge", "ch-1", "--domain", "werkgever.example",
               "--framework", str(REPO / "examples" / "frameworks" / "metaal-vaardigheden.json"),
               "--status-list", "pub/revocation-1", "--status-list", "pub/suspension-1", "--json",
               cwd=world["dir"], ok=False)
    out = json.loads(proc.stdout)
    # lasser.json is ESCO's "welder" with levels 3 on the two skills the certificate is aligned to
    for label in ("perform metal active gas welding", "perform metal inert gas welding"):
        req = next(r for r in out["requirements"] if r["label"] == label)
        assert req["status"] == "met" and req["level"] == 3 and req["credential"] == world["sd"], label
    assert out["not_counted"] == []


def test_ecdsa_sd_2023_credential_disclosed_in_part(tmp_path: Path) -> None:
    """The Data Integrity way: a P-256 issuer signs with ecdsa-sd-2023 (base proof), the wallet
    accepts it (checking every statement signature), and present --disclose derives a proof
    that reveals only the chosen claims; the verifier accepts the derived proof."""
    d = tmp_path
    run("issuer", "init", "roc", "--name", "ROC", "--url", "https://roc.example", "--key-type", "p256", cwd=d)
    holder = run("wallet", "init", "--wallet", "w", cwd=d).stdout.split()[0]
    cid = run("issue", "--issuer", "roc", "--achievement", str(ACH / "mig-mag-lassen.yaml"), "--subject", holder,
              "--name", SECRET_NAME, "--level", "3", "--evidence", SECRET_EVIDENCE, "--suite", "ecdsa-sd-2023",
              "-o", "sd.json", cwd=d).stdout.split()[0]
    assert json.loads((d / "sd.json").read_text())["proof"]["cryptosuite"] == "ecdsa-sd-2023"
    run("wallet", "add", "--wallet", "w", "sd.json", cwd=d)
    run("present", "--wallet", "w", "--select", cid, "--disclose", "/credentialSubject/result",
        "--challenge", "c-9", "--domain", "werkgever.example", "-o", "vp.json", cwd=d)
    raw = (d / "vp.json").read_text()
    assert SECRET_NAME not in raw and "examenscore" not in raw
    vc = json.loads(raw)["verifiableCredential"][0]
    assert vc["credentialSubject"]["result"] and "identifier" not in vc["credentialSubject"]
    run("status", "publish", "--issuer", "roc", "--out-dir", "pub", cwd=d)
    proc = run("verify", "vp.json", "--challenge", "c-9", "--domain", "werkgever.example", "--status-list",
               "pub/revocation-1", "--status-list", "pub/suspension-1", "--json", cwd=d, ok=False)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["verified"], report
    # the base proof itself is for the holder only: shown to a verifier it fails
    proc = run("verify", "sd.json", "--status-list", "pub/revocation-1", "--status-list", "pub/suspension-1",
               "--json", cwd=d, ok=False)
    assert proc.returncode == 1
    assert any(c["code"] == "sd_base_proof" for c in json.loads(proc.stdout)["checks"])

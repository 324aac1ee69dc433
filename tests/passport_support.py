"""A worker's wallet for the passport tests (test_passport*, test_verify_qr): a diploma, a graded
skill, an on-the-job soft skill with evidence, and a small pass/fail certificate whose QR code
carries the whole credential; plus the issuer, to revoke and publish status lists."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from conftest import REPO
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.wallet import Wallet
from support.cli import CliResult, run_cli

SKILLCRED = str(Path(sys.executable).parent / "skillcred")
ACHIEVEMENTS = REPO / "examples" / "achievements"
PASSPHRASE = "passport test passphrase"
WORKER = "Jan de Vries"
EVIDENCE = EvidenceInput(narrative="Plande het werk van een team van vier.", workplace="Metaalbedrijf De Vries",
                         hours=480, assessor="Piet Bakker (leermeester)",
                         period_start=datetime(2026, 1, 5, tzinfo=UTC), period_end=datetime(2026, 6, 26, tzinfo=UTC))
#: small enough that its QR code carries it whole
SMALL_ACHIEVEMENT = {"kind": "skill", "achievement": {
    "id": "https://roc-techniek.example/a/vca", "achievementType": "Certification", "name": "VCA",
    "description": "Basisveiligheid.", "criteria": {"narrative": "Examen."},
    "alignment": [{"targetName": "VCA", "targetUrl": "https://roc-techniek.example/s/vca",
                   "targetFramework": "ROC", "targetType": "ceasn:Competency"}]}}


@dataclass
class PassportWorld:
    base: Path
    wallet: Wallet
    issuer_dir: Path
    docs: dict[str, dict[str, Any]]

    def file(self, short: str) -> Path:
        """The credential as a file, as the worker would send it to an employer."""
        import json

        p = self.base / f"{short}.json"
        if not p.exists():
            p.write_text(json.dumps(self.docs[short], indent=1), encoding="utf-8")
        return p

    def publish_status(self, *, revoke: str | None = None, suspend: str | None = None) -> list[Path]:
        """The issuer's status lists (after revoking/suspending one credential) as files; revoking is
        permanent, so a test that revokes uses a world of its own."""
        out = self.base / f"status-{revoke or '-'}-{suspend or '-'}"
        with Issuer.open(self.issuer_dir) as iss:
            if revoke:
                iss.revoke(self.docs[revoke]["id"])
            if suspend:
                iss.suspend(self.docs[suspend]["id"])
            iss.publish_status(out)
            if suspend:  # leave the registry as it was for the next test (revoking is permanent)
                iss.unsuspend(self.docs[suspend]["id"])
        return sorted(p for p in out.iterdir() if p.name != "index.json")


def make_world(base: Path) -> PassportWorld:
    init_issuer(base / "roc", name="ROC Techniek", url="https://roc-techniek.example")
    (base / "vca.yaml").write_text(yaml.safe_dump(SMALL_ACHIEVEMENT), encoding="utf-8")
    w = Wallet.init(base / "wallet", passphrase=PASSPHRASE.encode())
    docs: dict[str, dict[str, Any]] = {}
    with Issuer.open(base / "roc") as iss:
        plan: list[tuple[str, Path, str | None, dict[str, Any]]] = [
            ("diploma", ACHIEVEMENTS / "mbo-verspaner-diploma.yaml", None, {}),
            ("cnc", ACHIEVEMENTS / "cnc-programmeren.yaml", "3", {}),
            ("soft", ACHIEVEMENTS / "plannen-en-organiseren.yaml", "2", {"evidence": EVIDENCE}),
            ("vca", base / "vca.yaml", None, {}),
        ]
        for short, path, level, kw in plan:
            record, _ = iss.issue(load_achievement(path), w.holder, level=level, name=WORKER, **kw)
            docs[short] = record.document
    w.add([(k, d) for k, d in docs.items()])
    return PassportWorld(base, w, base / "roc", docs)


def env_for(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_")}
    e.update(HOME=str(tmp_path), SKILLCRED_PASSPHRASE=PASSPHRASE, SKILLCRED_STATUS_CACHE=str(tmp_path / "no-cache"),
             SKILLCRED_TRUST=str(tmp_path / "no-trust.json"))
    return e


def run(tmp_path: Path, *args: str, input_text: str | None = None) -> CliResult:
    return run_cli(*args, env=env_for(tmp_path), stdin=input_text)


def assert_one_line_error(proc: CliResult, *needles: str) -> str:
    """Exit 2, exactly one ``skillcred: error:`` line on stderr holding ``needles``, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("skillcred: warning:")]
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    return lines[0]

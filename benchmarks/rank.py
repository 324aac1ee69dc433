#!/usr/bin/env python3
"""Ranking rate: N candidates' presentations verified and matched against a job profile.

Builds, in a temporary folder (or ``--keep DIR``), what an employer has after a round of
applications: one institute (did:key, Ed25519, eddsa-rdfc-2022; reused for every credential),
N candidate wallets holding 2-4 credentials each (drawn from ``examples/achievements``, at
random levels; seeded, so every run builds the same mix), each candidate's presentation signed
for its own challenge, ``challenges.json``, the institute's published status lists and a trust
list. Then it times

* the command line: ``skillcred rank DIR --profile ... --trust ... --framework ... --json``
  (one process, its progress bar on stderr), and
* the library path: ``Verifier.assess`` + ``match`` per presentation, then sorting,

and checks both give the same order. The numbers go to stdout: total seconds and
milliseconds per candidate for each path, and the generation time.

    python benchmarks/rank.py                 # N = 200
    python benchmarks/rank.py --n 50 --json
    python benchmarks/rank.py --keep /tmp/applications
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from skillcred._internal.fileio import dump_json, load_json_object
from skillcred.issuer import EvidenceInput, Issuer, init_issuer, load_achievement
from skillcred.keys import KeyPair
from skillcred.match import load_framework, load_profile, match, rank_key
from skillcred.trust import TrustList
from skillcred.verify import VerificationPolicy, Verifier
from skillcred.wallet import Wallet

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PROFILE = EXAMPLES / "profiles" / "cnc-verspaner.json"
FRAMEWORK = EXAMPLES / "frameworks" / "metaal-vaardigheden.json"
SKILLCRED = Path(sys.executable).with_name("skillcred")
DOMAIN = "werving.metaalbedrijf-de-vries.example"
# achievement file -> highest level on its rubric (None: a diploma, no level)
ACHIEVEMENTS = {
    "cnc-programmeren.yaml": 5,
    "technisch-tekeninglezen.yaml": 5,
    "mig-mag-lassen.yaml": 5,
    "plannen-en-organiseren.yaml": 3,
    "mbo-verspaner-diploma.yaml": None,
}
EVIDENCE = EvidenceInput(narrative="Plant de werkvoorbereiding van de CNC-cel.", workplace="Metaalbedrijf",
                         hours=320, assessor="Piet Bakker, leermeester")


def generate(root: Path, n: int, seed: int) -> dict[str, Any]:
    """Issuer, wallets, presentations, challenges.json, status lists, trust list under ``root``."""
    rng = random.Random(seed)
    apps = root / "applications"
    apps.mkdir(parents=True)
    init_issuer(root / "issuer", name="ROC Techniek Midden (benchmark)", url="https://roc-techniek.example")
    definitions = {f: load_achievement(EXAMPLES / "achievements" / f) for f in ACHIEVEMENTS}
    challenges: dict[str, dict[str, str]] = {}
    credentials = 0
    with Issuer.open(root / "issuer") as iss:
        with click.progressbar(range(n), label="Generating", file=sys.stderr, show_pos=True) as bar:
            for i in bar:
                key = KeyPair.generate("ed25519")
                wallet = Wallet.init(root / "wallets" / f"c{i:04d}", key=key)
                docs = []
                for f in rng.sample(sorted(ACHIEVEMENTS), rng.randint(2, 4)):
                    top = ACHIEVEMENTS[f]
                    level = None if top is None else str(rng.randint(1, top))
                    record, _ = iss.issue(definitions[f], wallet.holder, level=level,
                                          evidence=EVIDENCE if f.startswith("plannen") else None)
                    docs.append(record.document)
                credentials += len(docs)
                challenge = f"{rng.getrandbits(96):024x}"
                vp = wallet.present(docs, key=key, challenge=challenge, domain=DOMAIN)
                name = f"candidate-{i:04d}.json"
                (apps / name).write_bytes(dump_json(vp))
                challenges[name] = {"challenge": challenge, "domain": DOMAIN}
        iss.publish_status(root / "status")
        did = iss.profile.did
    (apps / "challenges.json").write_bytes(dump_json(challenges))
    trust = TrustList(path=root / "trust.json")
    trust.add(did, name="ROC Techniek Midden (benchmark)")
    trust.save()
    status = sorted(p for p in (root / "status").iterdir() if p.name != "index.json")
    return {"apps": apps, "challenges": challenges, "status": status, "trust": root / "trust.json",
            "credentials": credentials}


def run_cli(root: Path, world: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_") and not k.startswith("XDG_")}
    home = root / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    cmd = [str(SKILLCRED), "rank", str(world["apps"]), "--profile", str(PROFILE), "--trust", str(world["trust"]),
           "--framework", str(FRAMEWORK), "--json"]
    for p in world["status"]:
        cmd += ["--status-list", str(p)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None, env=env,
                          check=False)  # stderr: the progress bar, straight to the terminal
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"skillcred rank exited {proc.returncode}")
    return elapsed, json.loads(proc.stdout)


def run_library(world: dict[str, Any]) -> tuple[float, list[tuple[str, Any]]]:
    started = time.perf_counter()
    verifier = Verifier(VerificationPolicy(trust=TrustList.load(world["trust"])),
                        status_lists=[load_json_object(p) for p in world["status"]])
    profile, framework = load_profile(PROFILE), load_framework([FRAMEWORK])
    rows = []
    for name, ch in world["challenges"].items():
        doc = load_json_object(world["apps"] / name)
        result = verifier.assess(doc, challenge=ch["challenge"], domain=ch["domain"])
        ok = result.report.kind == "presentation" and all(
            c.ok for c in result.report.checks if c.id.startswith("presentation"))
        report = match(profile, result.accepted, framework=framework,
                       not_counted=[(cid, why) for _i, cid, why in result.rejected], candidate=result.holder)
        rows.append((name, ok, report))
    rows.sort(key=lambda r: (not r[1], *rank_key(r[2]), r[0]))
    return time.perf_counter() - started, [(name, report) for name, ok, report in rows if ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="candidates (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--keep", type=Path, help="build in this (new) folder and keep it")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")

    with tempfile.TemporaryDirectory(prefix="skillcred-rank-") as tmp:
        root = args.keep or Path(tmp)
        started = time.perf_counter()
        world = generate(root, args.n, args.seed)
        generation = time.perf_counter() - started
        cli_seconds, cli_rows = run_cli(root, world)
        lib_seconds, lib_rows = run_library(world)

    verified = [r for r in cli_rows if r["presentation_verified"]]
    if len(cli_rows) != args.n or len(verified) != args.n or len(lib_rows) != args.n:
        print(f"expected {args.n} verified candidates: CLI {len(verified)} of {len(cli_rows)}, "
              f"library {len(lib_rows)}", file=sys.stderr)
        return 1
    if [r["file"] for r in cli_rows] != [name for name, _ in lib_rows]:
        print("the command line and the library ranked differently", file=sys.stderr)
        return 1

    best = cli_rows[0]
    numbers = {
        "n": args.n,
        "credentials": world["credentials"],
        "generation_seconds": round(generation, 3),
        "cli_total_seconds": round(cli_seconds, 3),
        "cli_ms_per_candidate": round(cli_seconds * 1000 / args.n, 2),
        "library_total_seconds": round(lib_seconds, 3),
        "library_ms_per_candidate": round(lib_seconds * 1000 / args.n, 2),
        "best": {"file": best["file"], "essential_coverage": best["essential_coverage"], "score": best["score"]},
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(numbers, indent=2))
    else:
        print(f"ranked {args.n} candidates ({world['credentials']} credentials, 2-4 each, seed {args.seed})")
        print(f"generation:            {generation:.3f} s")
        print(f"skillcred rank (CLI):  {cli_seconds:.3f} s total, "
              f"{numbers['cli_ms_per_candidate']:.2f} ms per candidate (incl. process start)")
        print(f"library:               {lib_seconds:.3f} s total, "
              f"{numbers['library_ms_per_candidate']:.2f} ms per candidate")
        print(f"best:                  {best['file']} (essential {best['essential_coverage']:.0%}, "
              f"score {best['score']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Batch issuing rate: a class roster of N workers through ``Issuer.issue_batch``.

Sets up a fresh issuer folder in a temporary directory (did:key, the default Ed25519 key and
eddsa-rdfc-2022 unless told otherwise), writes a roster of N rows for the CNC-programming skill
(``examples/achievements/cnc-programmeren.yaml``, level 3) with a distinct did:key subject per
row (from freshly generated keys), and times one ``issue_batch`` call over it: building each
credential, validating it against its JSON Schema, signing it, recording it in the SQLite
registry (one durable transaction per credential) and writing it to the output folder.

Progress goes to stderr (``click.progressbar``); the numbers go to stdout: total seconds,
credentials per second, milliseconds per credential and the registry's size on disk. It only
prints numbers; it fails (exit 1) only if a row was not issued.

    python benchmarks/batch_issue.py              # N = 1000
    python benchmarks/batch_issue.py --n 200 --key-type p256
    python benchmarks/batch_issue.py --json
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import click

from skillcred.did import key_did
from skillcred.issuer import Issuer, init_issuer
from skillcred.keys import KeyPair

REPO = Path(__file__).resolve().parents[1]
ACHIEVEMENT = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


def write_roster(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(n):
            subject = key_did(KeyPair.generate("ed25519").public_key)
            w.writerow([f"bench-{i:06d}", subject, f"Student {i:06d}", str(ACHIEVEMENT), "3"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="rows in the roster (default 1000)")
    parser.add_argument("--key-type", choices=("ed25519", "p256", "p384"), default="ed25519")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")

    with tempfile.TemporaryDirectory(prefix="skillcred-bench-") as tmp:
        root = Path(tmp)
        folder = root / "issuer"
        profile = init_issuer(folder, name="ROC Techniek (benchmark)", url="https://roc-techniek.example",
                              key_type=args.key_type, passphrase=b"benchmark")
        roster = root / "roster.csv"
        write_roster(roster, args.n)
        out = root / "issued"

        with Issuer.open(folder, b"benchmark") as iss:
            with click.progressbar(length=args.n, label="Issuing", file=sys.stderr,
                                   show_pos=True, show_eta=True) as bar:
                started = time.perf_counter()
                result = iss.issue_batch(roster, out, progress=bar.update)
                elapsed = time.perf_counter() - started
            count = iss.registry.count()
        registry_bytes = sum(p.stat().st_size for p in folder.glob("registry.sqlite*"))
        issued_bytes = sum(p.stat().st_size for p in out.glob("*.json"))

    if result.errors or len(result.issued) != args.n or count != args.n:
        for err in result.errors[:10]:
            print(f"roster line {err.line}: {err.message}", file=sys.stderr)
        print(f"only {len(result.issued)} of {args.n} issued", file=sys.stderr)
        return 1

    numbers = {
        "n": args.n,
        "key_type": args.key_type,
        "cryptosuite": profile.suite,
        "total_seconds": round(elapsed, 3),
        "credentials_per_second": round(args.n / elapsed, 1),
        "ms_per_credential": round(elapsed * 1000 / args.n, 2),
        "registry_bytes": registry_bytes,
        "registry_bytes_per_credential": round(registry_bytes / args.n),
        "average_credential_bytes": round(issued_bytes / args.n),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(numbers, indent=2))
    else:
        print(f"issued {args.n} credentials ({profile.suite}, {args.key_type} issuer key)")
        print(f"total:            {numbers['total_seconds']:.3f} s")
        print(f"rate:             {numbers['credentials_per_second']:.1f} credentials/s")
        print(f"per credential:   {numbers['ms_per_credential']:.2f} ms")
        print(f"registry size:    {registry_bytes} bytes "
              f"({numbers['registry_bytes_per_credential']} bytes per credential)")
        print(f"credential size:  {numbers['average_credential_bytes']} bytes on average")
    return 0


if __name__ == "__main__":
    sys.exit(main())

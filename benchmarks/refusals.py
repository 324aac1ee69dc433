#!/usr/bin/env python3
"""How long hostile input takes to refuse: the speed the tests no longer assert.

The tests bound these refusals by counted work (``tests/work_meter.py``: calls, RDFC-1.0 steps
and hash objects, bytes inflated), which holds on any machine; the seconds are measured here
instead, where a slow or busy machine gives a slower number, not a failed build.

* ``rdfc_clique_<n>_s``: RDFC-1.0 on a clique of n blank nodes, refused at the call budget
  (the poison graph of W3C rdf-canon test074; n = 10, 16, 40);
* ``rdfc_padded_poison_s``: a 10-node clique padded with 5,000 harmless blank nodes, refused
  at the step ceiling (``MAX_DEFAULT_STEPS``);
* ``gzip_bomb_s``: ``BitstringStatusList.decode`` of 100 MiB of zeros GZIP-packed to ~100 KB;
* ``deep_json_s``: ``parse_json`` of 100,000 nested arrays;
* ``huge_proof_value_s``: ``Verifier.check`` of a credential whose proofValue is 6 MB of base58.

Each number is the best of ``--repeat`` runs (default 3), in seconds. It only prints numbers;
it fails (exit 1) only if an input was not refused.

    python benchmarks/refusals.py
    python benchmarks/refusals.py --json --repeat 5
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skillcred._internal.fileio import parse_json
from skillcred._internal.rdfc import canonicalize
from skillcred.did import key_did, key_did_url
from skillcred.errors import CanonicalizationError, MalformedDocument
from skillcred.keys import KeyPair
from skillcred.proofs import add_proof
from skillcred.status import BitstringStatusList, StatusMalformed
from skillcred.verify import Verifier


def _clique(size: int, self_links: bool = False) -> str:
    return "".join(f"_:n{i} <urn:ex:p> _:n{j} .\n" for i in range(size) for j in range(size)
                   if self_links or i != j)


def _huge_proof_credential() -> dict[str, object]:
    key = KeyPair.generate("ed25519")
    did = key_did(key.public_key)
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                "issuer": did, "validFrom": "2025-01-01T00:00:00Z", "credentialSubject": {"id": did}}
    signed = add_proof(unsigned, key, verification_method=key_did_url(key.public_key),
                       created=datetime(2025, 1, 1, tzinfo=UTC))
    signed["proof"]["proofValue"] = "z" + "2" * (6 * 1024 * 1024)
    return signed


def _refused(error: type[BaseException], function: Callable[[Any], object], value: object) -> Callable[[], None]:
    """``function(value)`` as a case that must raise ``error``."""

    def run() -> None:
        try:
            function(value)
        except error:
            return
        raise SystemExit(f"not refused: {function.__name__}")

    return run


def _refused_report(document: dict[str, object]) -> Callable[[], None]:
    def run() -> None:
        if Verifier().check(document).verified:
            raise SystemExit("a 6 MB proofValue verified")

    return run


def cases() -> dict[str, Callable[[], None]]:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100 * 1024 * 1024), 9, mtime=0)).rstrip(b"=").decode()
    padded = _clique(10, self_links=True) + "".join(f'_:x{i} <urn:ex:v> "{i}" .\n' for i in range(5000))
    deep = b"[" * 100_000 + b"]" * 100_000
    out = {f"rdfc_clique_{n}_s": _refused(CanonicalizationError, canonicalize, _clique(n)) for n in (10, 16, 40)}
    out["rdfc_padded_poison_s"] = _refused(CanonicalizationError, canonicalize, padded)
    out["gzip_bomb_s"] = _refused(StatusMalformed, BitstringStatusList.decode, bomb)
    out["deep_json_s"] = _refused(MalformedDocument, parse_json, deep)
    out["huge_proof_value_s"] = _refused_report(_huge_proof_credential())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    args = ap.parse_args(argv)
    results: dict[str, object] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for name, run in cases().items():
        best = float("inf")
        for _ in range(max(1, args.repeat)):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        results[name] = round(best, 4)
        if not args.json:
            print(f"{name:24} {best:8.3f}", flush=True)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

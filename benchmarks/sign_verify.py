#!/usr/bin/env python3
"""Sign and verify rates per Data Integrity cryptosuite, on a realistic skill credential.

The credential is an Open Badges 3.0 ``OpenBadgeCredential`` (VC 2.0 + OB 3.0.3 contexts) as a
Dutch MBO institute would issue it for one welding competency: an issuer Profile, an
AchievementSubject with an Achievement aligned to an ESCO skill, a rubric ResultDescription and
the Result the student reached, and a BitstringStatusListEntry: about 2.6 KB of compact JSON.
Names, URLs and identifiers are illustrative (a fictional institute; the ESCO URI has ESCO's
shape, not a looked-up code).

For each suite and key type it signs the credential ``--n`` times and verifies the signed copy
``--n`` times (after a short warm-up), timing each loop with ``time.perf_counter``, and prints
operations per second, milliseconds per operation, the size of the signed credential and, for
the RDFC suites, the number of N-Quads in the canonical document. It only prints numbers; there
is no pass/fail (other than refusing to report a verify rate for a proof that does not verify).

    make bench                                  # same as the first line below
    python benchmarks/sign_verify.py            # table
    python benchmarks/sign_verify.py --n 1000   # more iterations, steadier numbers
    python benchmarks/sign_verify.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from skillcred.did import key_did, key_did_url
from skillcred.keys import KeyPair, KeyType
from skillcred.loader import default_loader
from skillcred.proofs import CRYPTOSUITES, add_proof, check_proofs
from skillcred.proofs._data_integrity import canonical_form

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ESCO_SKILL = "6b4f2a5c-1e0d-4f7a-9b3c-2d8e5f1a7c90"  # illustrative id in ESCO's URI shape

# (suite, key type), in the order they are reported.
CASES: tuple[tuple[str, KeyType], ...] = (
    ("eddsa-rdfc-2022", "ed25519"),
    ("eddsa-jcs-2022", "ed25519"),
    ("ecdsa-rdfc-2019", "p256"),
    ("ecdsa-rdfc-2019", "p384"),
    ("ecdsa-jcs-2019", "p256"),
    ("ecdsa-jcs-2019", "p384"),
)
KEY_LABEL = {"ed25519": "Ed25519", "p256": "P-256", "p384": "P-384"}

DEFAULT_N = 200
WARMUP = 3
CREATED = datetime(2025, 7, 4, 9, 30, tzinfo=UTC)


def skill_credential(issuer_did: str, holder_did: str) -> dict[str, Any]:
    """An OB 3.0 OpenBadgeCredential for one competency (every term defined by its contexts)."""
    base = "https://roc-voorbeeldstad.example"
    achievement = f"{base}/badges/mig-mag"
    rd = f"{achievement}#niveau"
    return {
        "@context": [VC_V2, OB_V3],
        "id": "urn:uuid:3f6a1d2e-8c47-4b0a-9e51-7d2c6b8f0a14",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_did,
            "type": ["Profile"],
            "name": "ROC Voorbeeldstad, Techniek College",
            "url": base,
        },
        "validFrom": "2025-07-04T00:00:00Z",
        "validUntil": "2030-07-04T00:00:00Z",
        "name": "MIG/MAG lassen, Lasser niveau 2",
        "credentialSubject": {
            "id": holder_did,
            "type": ["AchievementSubject"],
            "achievement": {
                "id": achievement,
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": "MIG/MAG lassen",
                "description": (
                    "De student last zelfstandig plaatverbindingen in ongelegeerd staal met het "
                    "MIG/MAG-proces (131/135) in de posities PA, PB en PF volgens een WPS en "
                    "controleert het eigen werk visueel (ISO 5817 niveau C)."
                ),
                "criteria": {
                    "narrative": (
                        "Praktijkexamen: drie proefstukken (hoeklas PB, stompe las PA, "
                        "pijp-plaat PF), beoordeeld door twee examinatoren met visuele "
                        "inspectie en breukproef."
                    )
                },
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "perform metal active and inert gas welding",
                        "targetUrl": f"http://data.europa.eu/esco/skill/{ESCO_SKILL}",
                        "targetFramework": "ESCO",
                        "targetCode": ESCO_SKILL,
                    }
                ],
                "resultDescription": [
                    {
                        "id": rd,
                        "type": ["ResultDescription"],
                        "name": "Niveau",
                        "resultType": "RubricCriterionLevel",
                        "rubricCriterionLevel": [
                            {
                                "id": f"{rd}-onvoldoende",
                                "type": ["RubricCriterionLevel"],
                                "name": "Onvoldoende",
                                "description": "Niet alle lassen voldoen aan niveau C.",
                                "level": "1",
                            },
                            {
                                "id": f"{rd}-voldoende",
                                "type": ["RubricCriterionLevel"],
                                "name": "Voldoende",
                                "description": "Alle proefstukken voldoen aan niveau C.",
                                "level": "2",
                            },
                            {
                                "id": f"{rd}-goed",
                                "type": ["RubricCriterionLevel"],
                                "name": "Goed",
                                "description": "Alle proefstukken voldoen aan niveau B.",
                                "level": "3",
                            },
                        ],
                    }
                ],
            },
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": rd,
                    "achievedLevel": f"{rd}-goed",
                }
            ],
        },
        "credentialStatus": {
            "id": f"{base}/status/2025-1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": f"{base}/status/2025-1",
        },
    }


def _size(doc: Any) -> int:
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


@dataclass
class Row:
    suite: str
    key: str
    sign_per_s: float
    verify_per_s: float
    sign_ms: float
    verify_ms: float
    bytes_signed: int
    nquads: int | None


def measure(suite: str, key_type: KeyType, holder: str, n: int) -> Row:
    key = KeyPair.generate(key_type)
    vm = key_did_url(key.public_key)
    credential = skill_credential(key_did(key.public_key), holder)

    def sign() -> dict[str, Any]:
        return add_proof(
            credential, key, verification_method=vm, cryptosuite=suite, created=CREATED
        )

    signed = sign()
    report = check_proofs(signed)
    if not report.verified:
        raise SystemExit(
            f"{suite}/{key_type}: the signed credential does not verify: {report.to_dict()}"
        )
    for _ in range(WARMUP):
        sign()
        check_proofs(signed)

    t0 = time.perf_counter()
    for _ in range(n):
        sign()
    sign_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for _ in range(n):
        check_proofs(signed)
    verify_s = time.perf_counter() - t0

    s = CRYPTOSUITES[suite]
    nquads = None
    if s.canonicalization == "rdfc":
        canonical = canonical_form(s, credential, s.hash_name(key_type), default_loader())
        nquads = len(canonical.splitlines())
    return Row(
        suite=suite,
        key=KEY_LABEL[key_type],
        sign_per_s=n / sign_s,
        verify_per_s=n / verify_s,
        sign_ms=1000 * sign_s / n,
        verify_ms=1000 * verify_s / n,
        bytes_signed=_size(signed),
        nquads=nquads,
    )


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=DEFAULT_N,
                    help=f"iterations per measurement (default {DEFAULT_N})")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")

    holder = key_did(KeyPair.generate("ed25519").public_key)
    issuer = key_did(KeyPair.generate("ed25519").public_key)
    unsigned_bytes = _size(skill_credential(issuer, holder))
    started = time.perf_counter()
    rows = [measure(suite, kt, holder, args.n) for suite, kt in CASES]
    total_s = time.perf_counter() - started

    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "skillcred": _version("skillcred"),
        "cryptography": _version("cryptography"),
        "pyld": _version("PyLD"),
    }
    if args.json:
        print(json.dumps({
            "credential": {"type": "OpenBadgeCredential", "contexts": [VC_V2, OB_V3],
                           "bytes_unsigned_ed25519_issuer": unsigned_bytes},
            "n": args.n,
            "warmup": WARMUP,
            "environment": env,
            "results": [
                {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(r).items()}
                for r in rows
            ],
            "total_seconds": round(total_s, 3),
        }, indent=2))
        return 0

    print(f"OpenBadgeCredential (VC 2.0 + OB 3.0.3), {unsigned_bytes} bytes unsigned "
          f"(Ed25519 did:key issuer); n={args.n} after {WARMUP} warm-up rounds")
    print(f"Python {env['python']}, cryptography {env['cryptography']}, pyld {env['pyld']}, "
          f"{env['platform']}")
    header = ("suite", "key", "sign/s", "verify/s", "sign ms", "verify ms", "bytes", "N-Quads")
    fmt = "{:<16} {:<8} {:>8} {:>9} {:>8} {:>10} {:>6} {:>8}"
    print()
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in (16, 8, 8, 9, 8, 10, 6, 8))))
    for r in rows:
        print(fmt.format(
            r.suite, r.key, f"{r.sign_per_s:.1f}", f"{r.verify_per_s:.1f}", f"{r.sign_ms:.2f}",
            f"{r.verify_ms:.2f}", r.bytes_signed, "-" if r.nquads is None else r.nquads,
        ))
    print("\nbytes: the signed credential as compact UTF-8 JSON (varies with the issuer's did:key "
          "and,\nfor JCS, the @context copied into the proof). N-Quads: lines of the RDFC-1.0 "
          f"canonical document.\nTotal {total_s:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

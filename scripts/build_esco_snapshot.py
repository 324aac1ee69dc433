#!/usr/bin/env python3
"""Build the ESCO snapshot embedded in the package: ``src/skillcred/_data/esco/``.

Why this exists: skillcred works offline, and an employer must be able to make a job profile
from an ESCO occupation (and match on ESCO's skill hierarchy) without downloading anything. So
the package carries a compact snapshot built from the **official ESCO v1.1.1 CSV download**
(English classification + the language-independent relations) and the Dutch occupation labels
of the same version, all in ``../shared/esco`` (see its PROVENANCE.md).

The snapshot is a *modified (compacted) version of ESCO v1.1.1*, as ESCO's reuse conditions
require it to be labelled: concept descriptions, ISCO groups, collections and hidden labels are
left out; occupations, skills, skill groups (preferred + alternative labels, skill type, reuse
level), the occupation-skill relations, the skill pillar hierarchy and the skill-skill relations
are kept. It is the store :func:`skillcred.esco.import_download` makes, VACUUMed and gzipped
(mtime 0, so the same inputs give the same bytes). Beside it, ``esco-v1.1.1.provenance.json``
records the sha256 of every input and of the output.

Usage (offline, stdlib + skillcred's own sources)::

    python scripts/build_esco_snapshot.py                 # default inputs in ../shared/esco
    python scripts/build_esco_snapshot.py --check         # rebuild in memory, exit 1 on drift
    python scripts/build_esco_snapshot.py --shared DIR    # another copy of shared/esco
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from skillcred.esco import ESCO_ACKNOWLEDGEMENT, SNAPSHOT_FILE, import_download  # noqa: E402

OUT_DIR = REPO / "src" / "skillcred" / "_data" / "esco"
PROVENANCE_FILE = "esco-v1.1.1.provenance.json"
MODIFIED = "a modified (compacted) version of ESCO v1.1.1"
INPUTS = (
    "esco-v1.1.1-official/ESCO dataset - v1.1.1 - classification - en - csv.zip",
    "esco-v1.1.1-official/ESCO dataset - v1.1.1 - classification -  - csv.zip",
    "esco-nl-occupations/esco-v1.1.1-nl-occupations.zip",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(shared: Path) -> tuple[bytes, dict[str, object]]:
    inputs = [shared / name for name in INPUTS]
    for p in inputs:
        if not p.is_file():
            raise SystemExit(f"build_esco_snapshot: input missing: {p}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "esco.sqlite"
        report = import_download(inputs, store=store, version="1.1.1", modified=MODIFIED, descriptions=False)
        raw = store.read_bytes()
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    provenance: dict[str, object] = {
        "what": f"{MODIFIED}: occupations, skills, skill groups (preferred and alternative labels, skill type, "
                "reuse level), occupation-skill relations, the skill pillar hierarchy, skill-skill relations; "
                "Dutch occupation labels. Left out: descriptions, hidden labels, ISCO groups, collections. "
                "Dutch skill labels are not in the inputs: skills are labelled in English.",
        "acknowledgement": ESCO_ACKNOWLEDGEMENT,
        "esco_version": "1.1.1",
        "built_by": "scripts/build_esco_snapshot.py",
        "inputs": [{"file": name, "sha256": sha256((shared / name).read_bytes())} for name in INPUTS],
        "output": {"file": SNAPSHOT_FILE, "bytes": len(packed), "sha256": sha256(packed),
                   "uncompressed_bytes": len(raw), "uncompressed_sha256": sha256(raw)},
        "counts": report.counts,
        "notes": list(report.notes),
    }
    return packed, provenance


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "esco")
    ap.add_argument("--check", action="store_true", help="rebuild, write nothing, exit 1 if it differs")
    args = ap.parse_args()
    packed, provenance = build(args.shared)
    prov_text = json.dumps(provenance, indent=2, ensure_ascii=False) + "\n"
    out, prov = OUT_DIR / SNAPSHOT_FILE, OUT_DIR / PROVENANCE_FILE
    if args.check:
        same = out.is_file() and out.read_bytes() == packed and prov.is_file() and prov.read_text() == prov_text
        print("snapshot up to date" if same else "snapshot differs from a fresh build")
        return 0 if same else 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out.write_bytes(packed)
    prov.write_text(prov_text, encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)} ({len(packed):,} bytes, sha256 {provenance['output']['sha256']})")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())

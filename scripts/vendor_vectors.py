#!/usr/bin/env python3
"""Vendor the official conformance vectors into ``tests/vectors/`` byte for byte, or check them.

Why this exists: the conformance tests (W3C vc-di-eddsa / vc-di-ecdsa incl. ecdsa-sd-2023,
vc-jose-cose, Bitstring Status List, RDFC-1.0, the 1EdTech Open Badges 3.0 vector) must run in a
plain ``git clone``, so the vectors travel with the repository. They are curated outside it, in
``../shared/vectors`` (each file taken with ``git show <commit>:<path>`` from the upstream
repository, listed with its sha256 in that folder's ``PROVENANCE.json`` / ``PROVENANCE.md``).
This script is the only thing that writes ``tests/vectors/``: it copies every file unchanged,
refuses a source file whose bytes differ from the sha256 the curation recorded, and writes

* ``tests/vectors/PROVENANCE.json``: per file its source path, sha256, upstream repository, path,
  commits, document and licence (machine-checked by ``--check`` and by
  ``tests/test_vendored_vectors.py``);
* ``tests/vectors/PROVENANCE.md``: the curation notes, copied unchanged (which upstream file is
  which, which files were transcribed from HTML/JS and how);
* ``tests/vectors/README.md`` and ``tests/vectors/LICENSES/``: the licence notices the upstream
  terms require to travel with copies (the W3C Software and Document License asks for its full
  text, the copyright statement and a notice of changes; rdf-canon's ``LICENCE.md`` is vendored
  with its suite; 1EdTech's specification licence is reproduced in full).

Hand edits to ``tests/vectors/`` are caught by ``--check`` (and the test suite). To change the
vectors, change ``../shared/vectors`` and re-run this script.

Usage::

    python scripts/vendor_vectors.py              # (re)write tests/vectors from ../shared/vectors
    python scripts/vendor_vectors.py --check      # verify; exit 1 on any difference
    python scripts/vendor_vectors.py --check --no-source   # only the offline part (what a clone can)

``--check`` always verifies that every vendored file's sha256 matches ``PROVENANCE.json``, that
no file is unlisted, and that the generated files are what this script writes; when the source
folder exists it also verifies that the vendored copy is exactly what vendoring it again would
give. Exit status: 0 fine, 1 differences found, 2 unusable input (no source to vendor from, a
malformed ``PROVENANCE.json``, a source file that fails its recorded sha256). Stdlib only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEST = REPO / "tests" / "vectors"
PROVENANCE_JSON = "PROVENANCE.json"
PROVENANCE_MD = "PROVENANCE.md"
README = "README.md"
W3C_NOTICE = "LICENSES/W3C-software-and-document-license-2015.md"
IMS_NOTICE = "LICENSES/1EdTech-specification-document-license.md"
RDF_CANON_NOTICE = "rdf-canon/LICENCE.md"

#: Files of the source folder that are not vectors: its README (superseded by ours) and its
#: provenance files (PROVENANCE.md is copied as notes; PROVENANCE.json is folded into ours).
SOURCE_META = frozenset({"README.md", PROVENANCE_JSON, PROVENANCE_MD})

#: rdf-canon/ has no per-file rows in the source PROVENANCE.json; PROVENANCE.md says (section
#: "rdf-canon/") that the folder is ``tests/`` of w3c/rdf-canon at this commit, copied unchanged.
#: The commit must appear in that file, so a re-curated source cannot silently disagree.
RDF_CANON_REPO = "w3c/rdf-canon"
RDF_CANON_COMMIT = "15619df2fda7a4ca88308733789b6774517f9638"


class VendorError(Exception):
    """Unusable input (exit 2): the message names the problem and the file."""


@dataclass(frozen=True)
class Licence:
    """A licence under which upstream material is redistributed, and where its notice lives."""

    id: str
    name: str
    url: str
    notice: str  # path under tests/vectors of the notice that travels with the copies

    def record(self) -> dict[str, str]:
        """The ``licences`` entry of PROVENANCE.json."""
        return {"name": self.name, "url": self.url, "notice": self.notice}


@dataclass(frozen=True)
class Upstream:
    """An upstream repository: the document its files belong to and the licence it states."""

    repo: str
    document: str
    document_url: str
    licence: str  # Licence.id
    licence_statement: str  # what the repository itself says, and where
    copyright: str  # the copyright statement kept with the copies

    def record(self) -> dict[str, str]:
        """The ``upstreams`` entry of PROVENANCE.json."""
        return {
            "document": self.document,
            "document_url": self.document_url,
            "licence": self.licence,
            "licence_statement": self.licence_statement,
            "copyright": self.copyright,
        }


W3C_SDL = "W3C-20150513"
W3C_TEST = "W3C-test-suite-or-BSD-3-Clause"
IMS_SPEC = "1EdTech-specification-document-license"

LICENCES: dict[str, Licence] = {
    W3C_SDL: Licence(
        id=W3C_SDL,
        name="W3C Software and Document Notice and License (2015-05-13; the 2023 version has the "
             "same terms with the copyright holder named 'World Wide Web Consortium')",
        url="https://www.w3.org/Consortium/Legal/2015/copyright-software-and-document",
        notice=W3C_NOTICE,
    ),
    W3C_TEST: Licence(
        id=W3C_TEST,
        name="W3C Test Suite License or W3C 3-clause BSD License (dual, at the user's choice)",
        url="http://www.w3.org/Consortium/Legal/2008/04-testsuite-license",
        notice=RDF_CANON_NOTICE,
    ),
    IMS_SPEC: Licence(
        id=IMS_SPEC,
        name="1EdTech (IMS Global Learning Consortium) Specification Document License",
        url="https://www.imsglobal.org/speclicense.html",
        notice=IMS_NOTICE,
    ),
}

_W3C_REPORTS = ("LICENSE.md: 'All Reports in this Repository are licensed by Contributors under "
                "the W3C Software and Document License'")

UPSTREAMS: dict[str, Upstream] = {
    "w3c/vc-di-eddsa": Upstream(
        repo="w3c/vc-di-eddsa",
        document="Data Integrity EdDSA Cryptosuites v1.0 (TestVectors/)",
        document_url="https://www.w3.org/TR/vc-di-eddsa/",
        licence=W3C_SDL,
        licence_statement=_W3C_REPORTS,
        copyright="Copyright © 2025 World Wide Web Consortium.",
    ),
    "w3c/vc-di-ecdsa": Upstream(
        repo="w3c/vc-di-ecdsa",
        document="Data Integrity ECDSA Cryptosuites v1.0 (TestVectors/)",
        document_url="https://www.w3.org/TR/vc-di-ecdsa/",
        licence=W3C_SDL,
        licence_statement=_W3C_REPORTS,
        copyright="Copyright © 2026 World Wide Web Consortium.",
    ),
    "w3c/vc-jose-cose-test-suite": Upstream(
        repo="w3c/vc-jose-cose-test-suite",
        document="VC JOSE COSE test suite (tests/input/, tests/test-mapping.js)",
        document_url="https://github.com/w3c/vc-jose-cose-test-suite",
        licence=W3C_SDL,
        licence_statement="LICENSE.md: 'All documents in this Repository are licensed by "
                          "contributors under the W3C Software and Document License'",
        copyright="Copyright © 2025 World Wide Web Consortium.",
    ),
    "w3c/vc-bitstring-status-list": Upstream(
        repo="w3c/vc-bitstring-status-list",
        document="Bitstring Status List v1.0, W3C Recommendation 15 May 2025 (examples)",
        document_url="https://www.w3.org/TR/2025/REC-vc-bitstring-status-list-20250515/",
        licence=W3C_SDL,
        licence_statement=_W3C_REPORTS + "; the Recommendation's own notice: 'W3C liability, "
                          "trademark and permissive document license rules apply' (2023 version)",
        copyright="Copyright © 2025 World Wide Web Consortium.",
    ),
    RDF_CANON_REPO: Upstream(
        repo=RDF_CANON_REPO,
        document="RDF Dataset Canonicalization (RDFC-1.0) Test Suite (tests/)",
        document_url="https://w3c.github.io/rdf-canon/tests/",
        licence=W3C_TEST,
        licence_statement="tests/LICENCE.md (vendored as rdf-canon/LICENCE.md): 'Distributed under "
                          "both the W3C Test Suite License and the W3C 3-clause BSD License'",
        copyright="Copyright © 2026 World Wide Web Consortium.",
    ),
    "1EdTech/openbadges-specification": Upstream(
        repo="1EdTech/openbadges-specification",
        document="Open Badges 3.0 Implementation Guide, 'Linked Data Proof Test Vector for Open "
                 "Badges 3.0' (ob_v3p0/impl/linked-data-proof-ob.html, impl/test-vectors/obv3p0/)",
        document_url="https://www.imsglobal.org/spec/ob/v3p0/impl/",
        licence=IMS_SPEC,
        licence_statement="ob_v3p0/license.md (commit 4f9cfa80b92c): the IMS Global Specification "
                          "Document License, https://www.imsglobal.org/speclicense.html",
        copyright="Copyright © 1EdTech Consortium, Inc. (formerly IMS Global Learning Consortium, "
                  "Inc.). All Rights Reserved.",
    ),
}

#: What each top-level folder holds, for README.md (every folder must be described here).
FOLDERS: dict[str, str] = {
    "eddsa-rdfc-2022": "eddsa-rdfc-2022: keys, unsigned input, proof options, canonical N-Quads, "
                       "hashes, signature, signed credential; `employ/` has blank nodes",
    "eddsa-jcs-2022": "eddsa-jcs-2022: the same steps with JCS",
    "Ed25519Signature2020": "Ed25519Signature2020 (legacy suite) vector",
    "eddsa-proof-set-chain": "proof sets and proof chains (eddsa-rdfc-2022)",
    "ecdsa-rdfc-2019-p256": "ecdsa-rdfc-2019, P-256 (signatures are randomized: verify, do not "
                            "reproduce)",
    "ecdsa-rdfc-2019-p384": "ecdsa-rdfc-2019, P-384 (RDFC-1.0 with SHA-384; `employ/` shows it)",
    "ecdsa-jcs-2019-p256": "ecdsa-jcs-2019, P-256",
    "ecdsa-jcs-2019-p384": "ecdsa-jcs-2019, P-384",
    "ecdsa-sd-2023": "ecdsa-sd-2023 base and derived proofs, every intermediate step (`employ/`, "
                     "`prc/`)",
    "ob-v3p0-eddsa-rdfc-2022": "an Open Badges 3.0 credential signed with eddsa-rdfc-2022",
    "bitstring-status-list": "the signed examples of the Bitstring Status List Recommendation "
                             "and its unsigned list",
    "vc-jose-cose": "JOSE, SD-JWT and COSE fixtures with `expected.json` (which must verify, "
                    "which must fail, and why)",
    "rdf-canon": "the RDFC-1.0 test suite: `manifest.jsonld`, `rdfc10/testNNN-*`",
}


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``: what PROVENANCE.json pins for each file."""
    return hashlib.sha256(data).hexdigest()


def _main_checkout(repo: Path) -> Path | None:
    """The main checkout of a git worktree (``.git`` is a file naming ``<main>/.git/worktrees/x``)."""
    dot_git = repo / ".git"
    if not dot_git.is_file():
        return None
    try:
        line = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    gitdir = Path(line.split(":", 1)[1].strip())
    if not gitdir.is_absolute():
        gitdir = (repo / gitdir).resolve()
    if gitdir.parent.name != "worktrees":
        return None
    return gitdir.parents[2]


def shared_candidates(repo: Path = REPO) -> list[Path]:
    """Where ``../shared`` may be: next to this checkout, or next to the main checkout of a worktree."""
    out = [repo.parent / "shared"]
    main = _main_checkout(repo)
    if main is not None and main.parent / "shared" not in out:
        out.append(main.parent / "shared")
    return out


def find_source(repo: Path = REPO) -> Path | None:
    """The curated ``shared/vectors`` folder, or None when this checkout has none (a clone)."""
    for shared in shared_candidates(repo):
        if (shared / "vectors" / PROVENANCE_JSON).is_file():
            return shared / "vectors"
    return None


def _files_under(root: Path) -> list[str]:
    """Every regular file under ``root`` as a sorted POSIX relative path."""
    out: list[str] = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            out.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(out)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise VendorError(f"{path}: not readable JSON ({exc})") from exc


def _entries_from_source(source: Path) -> list[dict[str, Any]]:
    """One provenance entry per vector file of ``source``, checked against its recorded sha256."""
    rows = _read_json(source / PROVENANCE_JSON)
    if not isinstance(rows, list):
        raise VendorError(f"{source / PROVENANCE_JSON}: expected a list of file entries")
    notes = (source / PROVENANCE_MD).read_text(encoding="utf-8") if (source / PROVENANCE_MD).is_file() else ""
    if RDF_CANON_COMMIT not in notes:
        raise VendorError(f"{source / PROVENANCE_MD}: does not name rdf-canon commit {RDF_CANON_COMMIT}")
    present = [name for name in _files_under(source) if name not in SOURCE_META]
    listed: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("file"), str):
            raise VendorError(f"{source / PROVENANCE_JSON}: an entry has no 'file'")
        listed[row["file"]] = row
    entries: list[dict[str, Any]] = []
    for name in present:
        row = listed.pop(name, None)
        if row is None:
            if not name.startswith("rdf-canon/"):
                raise VendorError(f"{source / name}: not in {PROVENANCE_JSON} (unknown provenance)")
            row = {"repo": RDF_CANON_REPO, "path": "tests/" + name.removeprefix("rdf-canon/"),
                   "snapshot_commit": RDF_CANON_COMMIT, "last_changed_commit": None, "note": ""}
        data = (source / name).read_bytes()
        digest = sha256_hex(data)
        if "sha256" in row and row["sha256"] != digest:
            raise VendorError(f"{source / name}: sha256 {digest} differs from {row['sha256']} recorded "
                              f"in {PROVENANCE_JSON}")
        upstream = UPSTREAMS.get(row["repo"])
        if upstream is None:
            raise VendorError(f"{source / name}: upstream {row['repo']!r} has no licence recorded in "
                              "scripts/vendor_vectors.py")
        entries.append({
            "file": name,
            "sha256": digest,
            "source": f"../shared/vectors/{name}",
            "repo": row["repo"],
            "path": row["path"],
            "snapshot_commit": row["snapshot_commit"],
            "last_changed_commit": row.get("last_changed_commit"),
            "document": upstream.document,
            "licence": upstream.licence,
            "note": row.get("note", ""),
        })
    if listed:
        raise VendorError(f"{source / PROVENANCE_JSON}: lists missing file {sorted(listed)[0]}")
    folders = {e["file"].split("/", 1)[0] for e in entries}
    undescribed = sorted(folders - set(FOLDERS))
    if undescribed:
        raise VendorError(f"{source / undescribed[0]}: folder not described in scripts/vendor_vectors.py")
    return entries


def render_provenance(entries: list[dict[str, Any]], notes_sha256: str) -> bytes:
    """PROVENANCE.json bytes: 2-space JSON, files sorted by path, trailing newline."""
    used = sorted({e["repo"] for e in entries})
    doc = {
        "about": "Written by scripts/vendor_vectors.py from ../shared/vectors; do not edit by hand. "
                 "Every file is an unchanged copy; sha256 is of its bytes.",
        "source": "../shared/vectors",
        "notes": {"file": PROVENANCE_MD, "sha256": notes_sha256},
        "licences": {lid: LICENCES[lid].record() for lid in sorted({UPSTREAMS[r].licence for r in used})},
        "upstreams": {repo: UPSTREAMS[repo].record() for repo in used},
        "files": sorted(entries, key=lambda e: e["file"]),
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_readme(entries: list[dict[str, Any]]) -> bytes:
    """README.md: what is here, how it is maintained, and the notices the licences require."""
    counts: dict[str, int] = {}
    for e in entries:
        top = e["file"].split("/", 1)[0]
        counts[top] = counts.get(top, 0) + 1
    derived = sorted(e["file"] for e in entries if "EXTRACTED/DERIVED" in e["note"])
    used = sorted({e["repo"] for e in entries})
    lines = [
        "# Conformance vectors (vendored)",
        "",
        "Official test material from the W3C and 1EdTech, used by the conformance tests. Written by",
        "`scripts/vendor_vectors.py` from the curated `../shared/vectors`; **do not edit by hand**",
        "(`python scripts/vendor_vectors.py --check` and `tests/test_vendored_vectors.py` catch any",
        "change). Every file is an unchanged copy of the upstream bytes; `PROVENANCE.json` gives, per",
        "file, its sha256, upstream repository, path and commits, document and licence;",
        "`PROVENANCE.md` holds the curation notes (which upstream file is which, and how the few",
        "files not stored as files upstream were transcribed).",
        "",
        "| folder | files | what |",
        "|---|---|---|",
    ]
    for folder in sorted(counts):
        lines.append(f"| `{folder}/` | {counts[folder]} | {FOLDERS[folder]} |")
    lines += [
        "",
        "To update: change `../shared/vectors` (and its `PROVENANCE.json`), then run",
        "`python scripts/vendor_vectors.py` and commit the result.",
        "",
        "## Licences and notices",
        "",
        "This directory includes material copied from or derived from the documents below; the",
        "notices each licence requires are kept here:",
        "",
    ]
    for repo in used:
        up = UPSTREAMS[repo]
        lic = LICENCES[up.licence]
        lines += [
            f"- **{up.document}**, {up.document_url} (repository `{repo}`). {up.copyright}",
            f"  Licence: {lic.name}, {lic.url}; notice: [`{lic.notice}`]({lic.notice}).",
            f"  The repository states: {up.licence_statement}.",
        ]
    lines += [
        "",
        "Changes: none to any file's bytes. The files below were not stored as files upstream; they",
        "were transcribed from the named HTML/JS source without changing any value (see the note",
        "of each in `PROVENANCE.json`):",
        "",
    ]
    lines += [f"- `{name}`" for name in derived]
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def build(source: Path) -> dict[str, bytes]:
    """Every file ``tests/vectors`` must hold, by relative path, built in memory from ``source``."""
    if not (source / PROVENANCE_JSON).is_file():
        raise VendorError(f"{source}: no {PROVENANCE_JSON} (not a curated vectors folder)")
    entries = _entries_from_source(source)
    files = {e["file"]: (source / e["file"]).read_bytes() for e in entries}
    notes = (source / PROVENANCE_MD).read_bytes()
    files[PROVENANCE_MD] = notes
    files[PROVENANCE_JSON] = render_provenance(entries, sha256_hex(notes))
    files[README] = render_readme(entries)
    files[W3C_NOTICE] = W3C_SOFTWARE_AND_DOCUMENT_LICENSE.encode("utf-8")
    files[IMS_NOTICE] = IMS_SPECIFICATION_DOCUMENT_LICENSE.encode("utf-8")
    for e in entries:
        if LICENCES[e["licence"]].notice not in files:
            raise VendorError(f"{source / e['file']}: licence notice {LICENCES[e['licence']].notice} "
                              "would not be vendored")
    return files


def check_vendored(dest: Path = DEST) -> list[str]:
    """Problems with ``dest`` found without the source: sha256 pins, unlisted files, notices.

    Raises :class:`VendorError` when ``dest`` has no readable PROVENANCE.json at all.
    """
    doc = _read_json(dest / PROVENANCE_JSON)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise VendorError(f"{dest / PROVENANCE_JSON}: no 'files' list")
    problems: list[str] = []
    expected: set[str] = {PROVENANCE_JSON, README, PROVENANCE_MD, W3C_NOTICE, IMS_NOTICE}
    entries: list[dict[str, Any]] = doc["files"]
    for e in entries:
        name = e.get("file")
        if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/"):
            problems.append(f"{dest / PROVENANCE_JSON}: bad file entry {name!r}")
            continue
        expected.add(name)
        path = dest / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif sha256_hex(path.read_bytes()) != e.get("sha256"):
            problems.append(f"{path}: sha256 differs from PROVENANCE.json (modified)")
        licence = LICENCES.get(e.get("licence", ""))
        if licence is None or e.get("repo") not in UPSTREAMS:
            problems.append(f"{path}: no known licence/upstream recorded")
    notes = doc.get("notes", {})
    if not (dest / PROVENANCE_MD).is_file() or sha256_hex((dest / PROVENANCE_MD).read_bytes()) != notes.get("sha256"):
        problems.append(f"{dest / PROVENANCE_MD}: missing or sha256 differs from PROVENANCE.json")
    generated = {
        PROVENANCE_JSON: render_provenance(entries, str(notes.get("sha256", ""))) if not problems else None,
        README: render_readme(entries) if not problems else None,
        W3C_NOTICE: W3C_SOFTWARE_AND_DOCUMENT_LICENSE.encode("utf-8"),
        IMS_NOTICE: IMS_SPECIFICATION_DOCUMENT_LICENSE.encode("utf-8"),
    }
    for name, data in generated.items():
        path = dest / name
        if data is None:
            continue
        if not path.is_file() or path.read_bytes() != data:
            problems.append(f"{path}: not what scripts/vendor_vectors.py writes (edited by hand?)")
    present = set(_files_under(dest)) if dest.is_dir() else set()
    for name in sorted(present - expected):
        problems.append(f"{dest / name}: not listed in PROVENANCE.json")
    return problems


def compare_with_source(source: Path, dest: Path = DEST) -> list[str]:
    """Differences between ``dest`` and what vendoring ``source`` again would write."""
    files = build(source)
    present = set(_files_under(dest)) if dest.is_dir() else set()
    problems = [f"{dest / name}: differs from {source} (re-run scripts/vendor_vectors.py)"
                for name, data in sorted(files.items())
                if not (dest / name).is_file() or (dest / name).read_bytes() != data]
    problems += [f"{dest / name}: not in {source}" for name in sorted(present - set(files))]
    return problems


def write(files: dict[str, bytes], dest: Path = DEST) -> None:
    """Replace ``dest`` with ``files``: written beside it first, so nothing is ever half-written."""
    staging = dest.with_name(f".{dest.name}.new")
    old = dest.with_name(f".{dest.name}.old")
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    for name, data in files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    if old.exists():
        shutil.rmtree(old)


def main(argv: list[str] | None = None) -> int:
    """Vendor (default) or check (``--check``); see the module docstring for exit codes."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--source", type=Path, default=None,
                        help="curated vectors folder (default: ../shared/vectors, worktree-aware)")
    parser.add_argument("--dest", type=Path, default=DEST, help="vendored folder (default: tests/vectors)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on any difference")
    parser.add_argument("--no-source", action="store_true",
                        help="with --check: skip the comparison with the source even if it exists")
    args = parser.parse_args(argv)
    dest: Path = args.dest
    source: Path | None = args.source if args.source is not None else find_source()
    try:
        if args.check:
            problems = check_vendored(dest)
            compared = False
            if source is not None and not args.no_source:
                problems += compare_with_source(source, dest)
                compared = True
            for line in problems:
                print(line)
            if problems:
                print("OUT OF DATE")
                return 1
            count = len(_read_json(dest / PROVENANCE_JSON)["files"])
            print(f"ok: {count} files match PROVENANCE.json"
                  + (f" and {source}" if compared else " (source not compared)"))
            return 0
        if source is None:
            raise VendorError(f"no source: none of {', '.join(str(p / 'vectors') for p in shared_candidates())} "
                              "exists; pass --source DIR")
        files = build(source)
        write(files, dest)
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {dest} from {source}")
    return 0


# --------------------------------------------------------------------------------------------
# Licence notices written into tests/vectors/LICENSES/ (the texts are the licensors'; only the
# line wrapping is ours).
# --------------------------------------------------------------------------------------------

W3C_SOFTWARE_AND_DOCUMENT_LICENSE = """\
# W3C Software and Document Notice and License

Applies to the files from w3c/vc-di-eddsa, w3c/vc-di-ecdsa, w3c/vc-jose-cose-test-suite and
w3c/vc-bitstring-status-list (see `../PROVENANCE.json`, field `licence`, and `../README.md` for the
copyright statements and the notice of changes). Source of this text:
https://www.w3.org/Consortium/Legal/2015/copyright-software-and-document (the Bitstring Status
List Recommendation links https://www.w3.org/copyright/software-license-2023/, whose terms are the
same with the copyright holder named "World Wide Web Consortium").

---

W3C SOFTWARE AND DOCUMENT NOTICE AND LICENSE

Status: This license takes effect 13 May, 2015.

This work is being provided by the copyright holders under the following license.

## License

By obtaining and/or copying this work, you (the licensee) agree that you have read, understood,
and will comply with the following terms and conditions.

Permission to copy, modify, and distribute this work, with or without modification, for any
purpose and without fee or royalty is hereby granted, provided that you include the following on
ALL copies of the work or portions thereof, including modifications:

- The full text of this NOTICE in a location viewable to users of the redistributed or derivative
  work.
- Any pre-existing intellectual property disclaimers, notices, or terms and conditions. If none
  exist, the W3C Software and Document Short Notice should be included.
- Notice of any changes or modifications, through a copyright statement on the new code or
  document such as "This software or document includes material copied from or derived from
  [title and URI of the W3C document]. Copyright © [YEAR] W3C® (MIT, ERCIM, Keio, Beihang)."

## Disclaimers

THIS WORK IS PROVIDED "AS IS," AND COPYRIGHT HOLDERS MAKE NO REPRESENTATIONS OR WARRANTIES, EXPRESS
OR IMPLIED, INCLUDING BUT NOT LIMITED TO, WARRANTIES OF MERCHANTABILITY OR FITNESS FOR ANY
PARTICULAR PURPOSE OR THAT THE USE OF THE SOFTWARE OR DOCUMENT WILL NOT INFRINGE ANY THIRD PARTY
PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.

COPYRIGHT HOLDERS WILL NOT BE LIABLE FOR ANY DIRECT, INDIRECT, SPECIAL OR CONSEQUENTIAL DAMAGES
ARISING OUT OF ANY USE OF THE SOFTWARE OR DOCUMENT.

The name and trademarks of copyright holders may NOT be used in advertising or publicity
pertaining to the work without specific, written prior permission. Title to copyright in this work
will at all times remain with copyright holders.
"""

IMS_SPECIFICATION_DOCUMENT_LICENSE = """\
# 1EdTech (IMS Global) Specification Document License

Applies to the files in `../ob-v3p0-eddsa-rdfc-2022/`, from the Open Badges 3.0 Implementation
Guide in 1EdTech/openbadges-specification. The text below is that repository's
`ob_v3p0/license.md` (commit 4f9cfa80b92c73e679106efad498ebb94417b8b8, sha256
c443abf513b17d0baf044ddd52cc0ceaa298e107afdf6e50751a2afbaacd20fc), re-wrapped; online at
https://www.imsglobal.org/speclicense.html.

Copyright © 1EdTech Consortium, Inc. (formerly IMS Global Learning Consortium, Inc.). All Rights
Reserved.

---

IMS GLOBAL LEARNING CONSORTIUM, INC.

SPECIFICATION DOCUMENT LICENSE
See: https://www.imsglobal.org/speclicense.html

By using and/or copying this document, or the IMS document from which this statement is linked, you
(the licensee) agree that you have read, understood, and will comply with the following terms and
conditions:

This SPECIFICATION LICENSE AGREEMENT FOR THE IMS GLOBAL LEARNING CONSORTIUM, INC. (“AGREEMENT”) is
entered into by the IMS Global Learning Consortium, Inc. (“IMS”) and the Licensee. The Licensee is
not required to become a Registered User. Becoming a Registered User affords certain benefits to the
Licensee.

RECITALS
a. IMS is a nonprofit membership organization with global scope that develops standards, promotes
innovation, and researches best practices for learning products and services in cooperation with its
member organizations.

b. IMS work products are developed in IMS chartered work groups consisting of member representatives
and invited experts under the auspices of an Intellectual Property Rights (IPR) Policy by which work
group participants are asked to disclose any claims made on the IMS work product.

c. IMS specifications are published solely for the purpose of enabling interoperability among
learning products and services used by the education and training communities served by IMS members
and are made available under license to Registered Users solely to further that purpose.

d. IMS is the sole arbitrator of compliance to the Specification(s) and the sole grantor of IMS
compliant designations of any kind. IMS is the sole maintainer and evolver of the Specification(s).

e. Users of the Specification(s) are encouraged to engage directly with IMS as IMS members,
including registration of all applications of specifications, in order to enhance the level of
interoperability in the education and training industries worldwide. Users may also provide feedback
without being an IMS member via the IMS public forums

LICENSE AGREEMENT
You, (the Licensee) and your organization (the Licensee organization) are legally bound by this
agreement with respect to your usage of the IMS Specification(s) designated in Section 6.

1. Definitions
In addition to the terms defined elsewhere in this Agreement, the following terms, when used herein,
shall have the following meanings:

a. "Contributing Member" means any entity that has entered into and has in effect the standard
agreement setting forth a Contributing Member\u2019s rights and obligations in connection with IMS.

b. "Affiliate Member" means the service provided by IMS to subscriber organizations to support
development of products and services based on the IMS Specification(s).

c. "Development Partner(s)” are any and all organizations that work with the Licensee to develop
interoperable or compatible products or services based on the Specification(s).

d. “IMS” means the IMS Global Learning Consortium, Inc., a Delaware corporation with a place of
business at 801 International Parkway, 5th Floor, PMB #112, Lake Mary, FL 32746, USA.

e. "IPR" are intellectual property rights, including without limitation, copyrights, trade secrets,
trademarks and patent claims.

f. "IPR Policy" means the specific policy agreed to by IMS Contributing Members as described on the
web page: IPR Policy

g. “Licensee” is the person or persons using or copying the IMS specification.

h. "Licensee organization" is the organization that the licensee represents at the time of
registration.

i. "Materials" are any work product of the IMS consortium.

j. "Registered User” means an individual providing contact information and thereby being a point of
contact with an organization that uses the Specification(s). Registration provides benefits in terms
of becoming a distributor of the specification as well as joining the IMS mailing list to receive
updates on IMS activities, including maintenance and upgrades of the specification.

k. "Related Party" is any entity that is directly or indirectly controlled by the Licensee. For this
purpose, “control” means beneficial ownership or the right to exercise more than 50% of the voting
power for the entity.

l. "Required Elements” are the elements of the Specification(s) identified as being Mandatory or
Alternative (“Alternative” means that the Implementer is required to select one or more alternatives
when implementing the Specification(s)).

m. "Specification(s)" means the specific specification or specifications from which this statement
is linked.

2. Ownership and Attribution
a. Ownership Of Copyrights. IMS owns the copyright on all IMS produced Materials except as may be
noted in the body of such Materials.

b. Intellectual Property Rights Claims. IMS produced Materials are notated with potential IPR claims
according to the IMS IPR Policy. Users of the IMS Specification(s) are advised to read the notations
carefully. IMS takes no position with respect to any IPR rights claimed. IMS invites any interested
party to bring to its attention any copyrights, patents or patent applications, or other proprietary
rights, which may cover technology that may be required to implement the Specification(s).

c. Attribution. Any use of the Specifications(s) or other Materials provided by IMS must be
accompanied by the copyright legends provided with full attribution given to IMS.

3. Grant of License to Copy and Distribute
IMS hereby grants a Registered User an irrevocable, worldwide, perpetual, royalty-free,
nontransferable, nonexclusive, nonsublicenseable license to reproduce and distribute the
Specification(s) in their entirety with all copyright legends and notices intact. The Registered
User must provide complete and accurate registration information, including name, organizational
affiliation, title within the organization, and full contact information. Providing incomplete or
inaccurate registration information voids this license agreement. The Specification(s) may not be
modified in any way, such as by removing the copyright notice or references to IMS, except as needed
for the purpose of developing IMS specifications under the auspices of a chartered IMS workgroup.

4. Grant of License to Develop Products Based on the Specification(s)
IMS hereby grants the Licensee Organization, its Related Parties a worldwide, perpetual,
royalty-free, nontransferable, nonexclusive, nonsublicenseable license to download and utilize the
Specification(s) for the purpose of developing, making, having made, using, marketing, importing,
offering to sell or license, and selling or licensing, and to otherwise distribute, products that
implement this Specification(s), in all cases subject to the conditions set forth in this Agreement
and IPR notices contained within the Specification(s).

Licensee agrees to publicly and visibly acknowledge and attribute to IMS the Specification(s) upon
which products are based to any and all Development Partner(s). Distribution of machine readable
implementations of this specification for the purpose of working with Development Partner(s) to
develop interoperable products is granted to the licensee as long as all other provisions of this
agreement are adhered to. Such rights are transferrable and sublicenseable. Development Partner(s)
or other parties desiring to distribute or make original use of the Specification(s) separate from
the rights granted to the licensee are encouraged to individually register with IMS so that IMS can
provide updates on the evolution of the specification and provide information on conformance
certification.

5. Other Uses
No right to create modifications or derivatives of IMS documents is granted pursuant to this
license. However, if additional requirements (documented in the How to Use IMS Documents) are
satisfied, the right to create modifications or derivatives is sometimes granted by the IMS to
individuals or organizations complying with those requirements.

6. Specifications
This license pertains to the specification from which this statement is linked.

Organizations may license and register all IMS specifications with one license by joining as an IMS
GLC Affiliate Member. For more information see the web page
http://www.imsglobal.org/joinaffiliate.html

7. No Warranties
THE SPECIFICATION(S) IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE,
ACCURACY, COMPLETENESS AND NONINFRINGEMENT OF THIRD PARTY RIGHTS. IN NO EVENT SHALL IMS GLOBAL
LEARNING CONSORTIUM, INC., ITS MEMBERS OR ITS CONTRIBUTORS BE LIABLE FOR ANY CLAIM, OR ANY DIRECT,
SPECIAL, INDIRECT OR CONSEQUENTIAL DAMAGES, OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE,
DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT
OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THE SPECIFICATION.

8. Third Party Rights
Without limiting the generality of Section 4 above, IMS ASSUMES NO RESPONSIBILITY TO COMPILE,
CONFIRM, UPDATE OR MAKE PUBLIC ANY THIRD PARTY ASSERTIONS OF PATENT OR OTHER INTELLECTUAL PROPERTY
RIGHTS THAT MIGHT BE INFRINGED BY AN IMPLEMENTATION OF THE SPECIFICATION. IF ANY SUCH RIGHTS ARE
DESCRIBED ON THE SPECIFICATION, IMS TAKES NO POSITION AS TO THE VALIDITY OR INVALIDITY OF SUCH
ASSERTIONS, OR THAT ALL SUCH ASSERTIONS THAT HAVE OR MAY BE MADE ARE SO LISTED.

9. Termination of License
a. Breach. In the event of a breach of this Agreement by Licensee or any of its Related Parties, IMS
shall give Licensee written notice and an opportunity to cure. If the breach is not cured within
thirty (30) days after written notice, or if the breach is of a nature that cannot be cured, then
IMS may immediately or thereafter terminate the licenses granted in this Agreement; provided,
however, that Licensee and its Related Parties shall be permitted to continue to use products
created or obtained prior to such termination.

b. Notice. Licensee may immediately terminate the licenses granted in this Agreement upon written
notice to IMS.

10. Export Regulations
The technical data and technology inherent in the Specification may be subject to U.S. export
control laws, including the U.S. Export Administration Act and its associated regulations, and may
be subject to export or import regulations in other countries. Licensee agrees to comply strictly
with all such regulations and acknowledges that it has the responsibility to obtain licenses to
export, re-export, or import the Specification and Compliant Products.

11. Restricted Rights
Use, duplication or disclosure of the Specification by the United States government is subject to
the restrictions as set forth in the Rights in Technical Data and Computer Software Clauses in DFARS
252.227-7013© (1) (ii) and FAR 52.227-19(a) through (d) as applicable.

12. Miscellaneous
a. Notices. All notices required under this Agreement shall be in writing, and shall be deemed
effective five days from deposit in the mails. Notices and correspondence to (a) IMS must be sent to
the address shown above, and (b) to Licensee shall be sent to the address identified by Licensee in
the form completed by Licensee below in this Agreement.

b. Governing Law. This Agreement shall be construed and interpreted under the internal laws of the
United States and the Commonwealth of Massachusetts, without giving effect to its principles of
conflict of law.

c. Entire Agreement. This Agreement constitutes the entire agreement and understanding between IMS
and Licensee regarding the subject matter contained herein. No modification or waiver of this
Agreement shall be binding unless it is in writing and signed by both parties. If any provision of
this Agreement is held by a court of competent jurisdiction to be invalid, illegal or unenforceable,
such provision shall be omitted and the remaining terms shall remain in full force and effect. This
Agreement supersedes any and all prior agreements between IMS and Licensee regarding Licensee's
right to use Specification(s).

13. Required Information.
To become a registered user, you must register on the website and provide information online when
downloading specifications and represent and warrant that it is complete and accurate by clicking
the checkbox for the disclaimer.
"""


if __name__ == "__main__":
    sys.exit(main())

"""The vendored conformance vectors (tests/vectors) are exactly the curated, pinned bytes.

Why: the conformance tests are only worth something if the vectors they read are the official
ones. ``scripts/vendor_vectors.py`` copies them byte for byte from ``../shared/vectors`` and
pins each file's sha256 in ``tests/vectors/PROVENANCE.json``; these tests run its offline
check (what a plain clone can verify), compare with the curated source when it is present, and
show that the check catches each way the copy can drift: an edited, added, removed or
whitespace-changed file, a hand-edited notice, a malformed provenance file, and a source whose
bytes no longer match what the curation recorded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import REPO, SHARED, VECTORS, vectors_dir

SCRIPT = REPO / "scripts" / "vendor_vectors.py"
SOURCE = SHARED / "vectors"

#: sha256 of tests/vectors/PROVENANCE.json as last reviewed. The offline check cannot see an
#: edit made to a vector AND its PROVENANCE entry together; this pin makes such an edit (and any
#: re-vendoring) a visible change to this file too.
PROVENANCE_SHA256 = "0b627435e24eba815325ae7cd75e213eabb3ca4e581cdf06b9697f203c170468"

#: Every folder (and a key file in it) that the conformance tests read.
USED = {
    "eddsa-rdfc-2022": "signedDataInt.json",
    "eddsa-jcs-2022": "signedJCS.json",
    "Ed25519Signature2020": "signedEdSig.json",
    "eddsa-proof-set-chain": "multiKeyPairs.json",
    "ecdsa-rdfc-2019-p256": "signedECDSAP256.json",
    "ecdsa-rdfc-2019-p384": "signedECDSAP384.json",
    "ecdsa-jcs-2019-p256": "signedJCSECDSAP256.json",
    "ecdsa-jcs-2019-p384": "signedJCSECDSAP384.json",
    "ecdsa-sd-2023": "SDKeyMaterial.json",
    "ob-v3p0-eddsa-rdfc-2022": "signed.json",
    "bitstring-status-list": "example-status-list-credential.json",
    "vc-jose-cose": "expected.json",
    "rdf-canon": "manifest.jsonld",
}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_vectors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["vendor_vectors"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


vv = _load_script()


def _provenance(folder: Path = VECTORS) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / "PROVENANCE.json").read_bytes())
    return doc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _all_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """A scratch copy of tests/vectors to tamper with."""
    dest = tmp_path / "vectors"
    shutil.copytree(VECTORS, dest)
    return dest


def _fake_source(root: Path, files: dict[str, bytes], *, rows: list[dict[str, Any]] | None = None) -> Path:
    """A minimal curated source: the files, a PROVENANCE.json listing them, the notes file."""
    source = root / "shared-vectors"
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    if rows is None:
        rows = [{"file": name, "repo": "w3c/vc-jose-cose-test-suite", "path": f"tests/input/{name}",
                 "snapshot_commit": "f" * 40, "last_changed_commit": "e" * 40,
                 "sha256": _sha256(data), "note": ""} for name, data in files.items()]
    (source / "PROVENANCE.json").write_text(json.dumps(rows), encoding="utf-8")
    (source / "PROVENANCE.md").write_text(f"rdf-canon/ from w3c/rdf-canon at {vv.RDF_CANON_COMMIT}\n",
                                          encoding="utf-8")
    return source


# --- the committed copy ---------------------------------------------------------------------


def test_every_vendored_file_matches_its_provenance_sha256() -> None:
    """The offline half of ``--check``, recomputed here independently of the script."""
    entries = _provenance()["files"]
    assert len(entries) >= 379
    for entry in entries:
        data = (VECTORS / entry["file"]).read_bytes()
        assert _sha256(data) == entry["sha256"], f"{entry['file']} was modified"
    assert vv.check_vendored(VECTORS) == []


def test_provenance_json_is_the_reviewed_one() -> None:
    assert _sha256((VECTORS / "PROVENANCE.json").read_bytes()) == PROVENANCE_SHA256


def test_no_file_is_unlisted() -> None:
    """A file added by hand would be read by no check; every file is listed or generated."""
    listed = {e["file"] for e in _provenance()["files"]}
    generated = {"PROVENANCE.json", "PROVENANCE.md", "README.md", vv.W3C_NOTICE, vv.IMS_NOTICE}
    assert _all_files(VECTORS) == listed | generated


def test_every_entry_names_source_upstream_document_and_licence() -> None:
    doc = _provenance()
    for entry in doc["files"]:
        name = entry["file"]
        assert entry["source"] == f"../shared/vectors/{name}"
        assert entry["repo"] in doc["upstreams"], name
        assert entry["path"] and entry["document"], name
        assert len(entry["snapshot_commit"]) == 40, name
        assert entry["licence"] == doc["upstreams"][entry["repo"]]["licence"], name
        notice = doc["licences"][entry["licence"]]["notice"]
        assert (VECTORS / notice).is_file(), f"{name}: notice {notice} not vendored"


def test_licence_notices_carry_the_licence_texts() -> None:
    """The W3C licence requires its full text to travel with copies; 1EdTech's terms likewise."""
    w3c = (VECTORS / vv.W3C_NOTICE).read_text(encoding="utf-8")
    assert "Permission to copy, modify, and distribute this work" in w3c
    assert "COPYRIGHT HOLDERS WILL NOT BE LIABLE" in w3c
    ims = (VECTORS / vv.IMS_NOTICE).read_text(encoding="utf-8")
    assert "SPECIFICATION DOCUMENT LICENSE" in ims and "7. No Warranties" in ims
    assert "W3C Test Suite License" in (VECTORS / "rdf-canon" / "LICENCE.md").read_text(encoding="utf-8")
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    assert "includes material copied from or derived from" in readme
    assert "`vc-jose-cose/expected.json`" in readme  # the transcribed files are named as changes


@pytest.mark.parametrize("folder", sorted(USED))
def test_every_folder_the_conformance_tests_read_is_vendored(folder: str) -> None:
    assert (vectors_dir(folder) / USED[folder]).is_file()


def test_rdf_canon_crlf_file_kept_byte_for_byte() -> None:
    """manifest.csv upstream has CRLF line ends; .gitattributes keeps git from converting them."""
    assert b"\r\n" in (VECTORS / "rdf-canon" / "manifest.csv").read_bytes()
    attributes = (REPO / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "tests/vectors/** -text" in attributes


def test_vendored_copy_stays_small() -> None:
    total = sum(p.stat().st_size for p in VECTORS.rglob("*") if p.is_file())
    assert total < 4 * 1024 * 1024


def test_vectors_dir_fails_instead_of_skipping_for_a_missing_folder() -> None:
    with pytest.raises(pytest.fail.Exception, match="vendored"):
        vectors_dir("no-such-vector-folder")


@pytest.mark.skipif(not (SOURCE / "PROVENANCE.json").is_file(), reason="../shared/vectors not present")
def test_vendored_copy_is_identical_to_the_curated_source() -> None:
    assert vv.compare_with_source(SOURCE, VECTORS) == []
    for entry in _provenance()["files"]:
        assert (SOURCE / entry["file"]).read_bytes() == (VECTORS / entry["file"]).read_bytes()
    assert (SOURCE / "PROVENANCE.md").read_bytes() == (VECTORS / "PROVENANCE.md").read_bytes()


# --- the check catches drift ------------------------------------------------------------------


def test_check_catches_a_changed_byte(copy: Path) -> None:
    path = copy / "eddsa-rdfc-2022" / "sigHexDataInt.txt"
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    assert any("sigHexDataInt.txt: sha256 differs" in p for p in vv.check_vendored(copy))


def test_check_catches_a_whitespace_only_change(copy: Path) -> None:
    path = copy / "vc-jose-cose" / "credential-jose-minimal.txt"
    path.write_bytes(path.read_bytes() + b"\n")
    assert any("credential-jose-minimal.txt: sha256 differs" in p for p in vv.check_vendored(copy))


def test_check_catches_a_removed_file(copy: Path) -> None:
    (copy / "rdf-canon" / "rdfc10" / "test001-in.nq").unlink()
    assert any("test001-in.nq: missing" in p for p in vv.check_vendored(copy))


@pytest.mark.parametrize("name", ["eddsa-rdfc-2022/extra.json", "new-folder/x.txt", "LICENSES/extra.md"])
def test_check_catches_an_unlisted_file(copy: Path, name: str) -> None:
    (copy / name).parent.mkdir(parents=True, exist_ok=True)
    (copy / name).write_text("{}", encoding="utf-8")
    assert any(f"{name}: not listed" in p for p in vv.check_vendored(copy))


@pytest.mark.parametrize("name", ["README.md", "LICENSES/W3C-software-and-document-license-2015.md",
                                  "LICENSES/1EdTech-specification-document-license.md"])
def test_check_catches_a_hand_edited_generated_file(copy: Path, name: str) -> None:
    (copy / name).write_text((copy / name).read_text(encoding="utf-8").replace("the", "a", 1),
                             encoding="utf-8")
    assert any(f"{name}: not what scripts/vendor_vectors.py writes" in p for p in vv.check_vendored(copy))


def test_check_catches_edited_curation_notes(copy: Path) -> None:
    (copy / "PROVENANCE.md").write_bytes((copy / "PROVENANCE.md").read_bytes() + b"x")
    assert any("PROVENANCE.md: missing or sha256 differs" in p for p in vv.check_vendored(copy))


def test_check_catches_a_provenance_entry_edited_to_a_wrong_digest(copy: Path) -> None:
    doc = _provenance(copy)
    doc["files"][0]["sha256"] = "0" * 64
    (copy / "PROVENANCE.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert any("sha256 differs from PROVENANCE.json" in p for p in vv.check_vendored(copy))


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"files": 3}'])
def test_check_refuses_a_malformed_provenance_file(copy: Path, raw: bytes) -> None:
    (copy / "PROVENANCE.json").write_bytes(raw)
    with pytest.raises(vv.VendorError, match=r"PROVENANCE\.json"):
        vv.check_vendored(copy)


@pytest.mark.skipif(not (SOURCE / "PROVENANCE.json").is_file(), reason="../shared/vectors not present")
def test_source_comparison_catches_a_coordinated_edit(copy: Path) -> None:
    """A file edited together with its PROVENANCE entry passes the offline part; the source does not."""
    doc = _provenance(copy)
    entry = next(e for e in doc["files"] if e["file"] == "eddsa-jcs-2022/sigHexJCS.txt")
    forged = b"00" * 64
    (copy / entry["file"]).write_bytes(forged)
    entry["sha256"] = _sha256(forged)
    (copy / "PROVENANCE.json").write_bytes(vv.render_provenance(doc["files"], doc["notes"]["sha256"]))
    assert vv.check_vendored(copy) == []
    problems = vv.compare_with_source(SOURCE, copy)
    assert any("sigHexJCS.txt: differs" in p for p in problems)
    assert any("PROVENANCE.json: differs" in p for p in problems)


# --- the command line ---------------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False,
                          cwd=REPO)


def test_cli_check_without_source_passes_on_the_committed_copy() -> None:
    proc = _run("--check", "--no-source")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok: ") and "source not compared" in proc.stdout


def test_cli_check_exits_1_on_drift(copy: Path) -> None:
    (copy / "vc-jose-cose" / "expected.json").write_text("[]", encoding="utf-8")
    proc = _run("--check", "--no-source", "--dest", str(copy))
    assert proc.returncode == 1
    assert "expected.json: sha256 differs" in proc.stdout and "OUT OF DATE" in proc.stdout


def test_cli_check_exits_2_without_provenance(tmp_path: Path) -> None:
    proc = _run("--check", "--no-source", "--dest", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "PROVENANCE.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_vendor_exits_2_for_a_folder_that_is_not_a_source(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    proc = _run("--source", str(tmp_path), "--dest", str(dest))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not dest.exists()  # nothing half-written


# --- vendoring from a source --------------------------------------------------------------------


def test_vendoring_copies_bytes_and_its_result_checks_clean(tmp_path: Path) -> None:
    files = {"vc-jose-cose/a.json": b'{"a": 1}\r\n', "vc-jose-cose/b.txt": b"\x00\xff raw"}
    source = _fake_source(tmp_path, files)
    dest = tmp_path / "dest"
    vv.write(vv.build(source), dest)
    for name, data in files.items():
        assert (dest / name).read_bytes() == data
    assert vv.check_vendored(dest) == []
    assert vv.compare_with_source(source, dest) == []
    assert not list(tmp_path.glob(".dest.*")), "staging folders left behind"


def test_revendoring_removes_files_the_source_dropped(tmp_path: Path) -> None:
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"})
    dest = tmp_path / "dest"
    (dest / "vc-jose-cose").mkdir(parents=True)
    (dest / "vc-jose-cose" / "stale.json").write_bytes(b"{}")
    vv.write(vv.build(source), dest)
    assert not (dest / "vc-jose-cose" / "stale.json").exists()
    assert vv.check_vendored(dest) == []


def test_vendoring_refuses_a_source_file_that_fails_its_recorded_sha256(tmp_path: Path) -> None:
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"})
    (source / "vc-jose-cose" / "a.json").write_bytes(b"{ }")
    with pytest.raises(vv.VendorError, match=r"a\.json: sha256 .* differs"):
        vv.build(source)


def test_vendoring_refuses_a_file_of_unknown_provenance(tmp_path: Path) -> None:
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"})
    (source / "vc-jose-cose" / "smuggled.json").write_bytes(b"{}")
    with pytest.raises(vv.VendorError, match=r"smuggled\.json: not in PROVENANCE\.json"):
        vv.build(source)


def test_vendoring_refuses_a_listed_file_that_is_missing(tmp_path: Path) -> None:
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"})
    rows = json.loads((source / "PROVENANCE.json").read_bytes())
    rows.append(dict(rows[0], file="vc-jose-cose/gone.json"))
    (source / "PROVENANCE.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(vv.VendorError, match=r"lists missing file vc-jose-cose/gone\.json"):
        vv.build(source)


def test_vendoring_refuses_an_upstream_without_a_recorded_licence(tmp_path: Path) -> None:
    rows = [{"file": "vc-jose-cose/a.json", "repo": "someone/unknown", "path": "a.json",
             "snapshot_commit": "f" * 40, "sha256": _sha256(b"{}")}]
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"}, rows=rows)
    with pytest.raises(vv.VendorError, match="has no licence recorded"):
        vv.build(source)


def test_vendoring_refuses_notes_that_do_not_name_the_rdf_canon_commit(tmp_path: Path) -> None:
    source = _fake_source(tmp_path, {"vc-jose-cose/a.json": b"{}"})
    (source / "PROVENANCE.md").write_text("notes\n", encoding="utf-8")
    with pytest.raises(vv.VendorError, match="rdf-canon commit"):
        vv.build(source)

"""Offline checks of the bundled JSON-LD contexts and their manifest.

Why: the offline loader serves only what ``contexts/MANIFEST.json`` pins, so a context file
edited by hand, a file nobody pinned, or a manifest that claims a digest match it does not
have would silently change what signatures mean. ``scripts/update_contexts.py`` (run by a
maintainer) produces these files: the exact W3C-published bytes wherever the W3C publishes a
digest, pinned npm packages otherwise. These tests check its result without the network: every
context with a published digest is bundled with exactly those bytes, and, where the reference
copies in ``../shared/contexts`` exist, every bundled context parses to the same JSON as the
reference (and the published ones are byte-identical to it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
CONTEXTS = REPO / "contexts"
MANIFEST_PATH = CONTEXTS / "MANIFEST.json"
REFERENCE = SHARED / "contexts"

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V2_PUBLISHED = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"

#: Contexts for which the W3C publishes a sha256 (in the Recommendation defining each), and it.
PUBLISHED_DIGESTS = {
    CREDENTIALS_V2: CREDENTIALS_V2_PUBLISHED,
    "https://www.w3.org/2018/credentials/v1": "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
    "https://w3id.org/security/data-integrity/v2": "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    "https://w3id.org/security/multikey/v1": "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    "https://w3id.org/security/jwk/v1": "0f14b62f6071aafe00df265770ea0c7508e118247d79b7d861a406d2aa00bece",
    "https://www.w3.org/ns/credentials/status/v1": "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
}

REQUIRED_KEYS = {
    "file",
    "sha256",
    "source",
    "published_sha256",
    "published_sha256_matches",
    "json_equal_to_published",
    "notes",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(MANIFEST_PATH.read_bytes())
    return data


MANIFEST = _manifest()
URLS = sorted(MANIFEST)


def _reference_index() -> dict[str, dict[str, Any]]:
    """INDEX.json of the reference copies, or skip: they live outside the repository."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/contexts not present: reference comparison skipped")
    index: dict[str, dict[str, Any]] = json.loads((REFERENCE / "INDEX.json").read_bytes())
    return index


def test_manifest_layout() -> None:
    """Keys sorted by URL, 2-space indent: what the update script writes, so diffs stay small."""
    raw = MANIFEST_PATH.read_bytes()
    assert list(MANIFEST) == sorted(MANIFEST)
    assert raw == (json.dumps(MANIFEST, indent=2, ensure_ascii=False) + "\n").encode()


def test_required_contexts_are_bundled() -> None:
    """The contexts skillcred's documents and test vectors use must all be served offline."""
    needed = {
        CREDENTIALS_V2,
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/jwk/v1",
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://w3id.org/security/suites/jws-2020/v1",
        "https://www.w3.org/ns/credentials/status/v1",
        "https://w3id.org/citizenship/v4rc1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    }
    assert needed <= set(MANIFEST)


@pytest.mark.parametrize("url", URLS)
def test_entry_file_matches_pinned_sha256(url: str) -> None:
    """A hand-edited (or truncated) context file must be caught here, not at verify time."""
    entry = MANIFEST[url]
    assert set(entry) >= REQUIRED_KEYS, f"{url}: missing {REQUIRED_KEYS - set(entry)}"
    name = entry["file"]
    assert "/" not in name and "\\" not in name and not name.startswith("."), name
    path = CONTEXTS / name
    assert path.is_file(), f"{url}: {name} missing"
    assert _sha256(path.read_bytes()) == entry["sha256"], f"{url}: {name} was modified"


@pytest.mark.parametrize("url", URLS)
def test_entry_is_json_with_context(url: str) -> None:
    """Each bundled document must be a JSON object with a top-level ``@context``."""
    doc = json.loads((CONTEXTS / MANIFEST[url]["file"]).read_bytes())
    assert isinstance(doc, dict)
    assert "@context" in doc


@pytest.mark.parametrize("url", URLS)
def test_entry_source_is_recorded(url: str) -> None:
    """Every file must say where it came from, so the update script can re-obtain it."""
    source = MANIFEST[url]["source"]
    if source["kind"] == "npm":
        for key in ("package", "version", "path", "integrity"):
            assert source.get(key), f"{url}: source.{key} missing"
        assert source["integrity"].startswith("sha512-")
    elif source["kind"] == "published":
        for key in ("repo", "path", "commit", "last_changed_commit", "obtained"):
            assert source.get(key), f"{url}: source.{key} missing"
        assert source["repo"].startswith("w3c/"), f"{url}: published by {source['repo']}?"
        assert len(source["commit"]) == 40
        assert MANIFEST[url]["published_sha256"], f"{url}: a published source needs the digest"
    else:
        assert source["kind"] == "inline", f"{url}: unexpected source kind {source['kind']!r}"
        assert source.get("why") and source.get("authority")


@pytest.mark.parametrize("url", URLS)
def test_published_digest_claims_are_consistent(url: str) -> None:
    """``published_sha256_matches`` must be what comparing the digests actually gives."""
    entry = MANIFEST[url]
    published = entry["published_sha256"]
    if published is None:
        assert entry["published_sha256_matches"] is None
        assert entry["json_equal_to_published"] is None
        return
    assert entry["published_sha256_matches"] is (entry["sha256"] == published)
    if entry["published_sha256_matches"]:
        assert entry["json_equal_to_published"] is True
    else:
        assert isinstance(entry["json_equal_to_published"], bool)
        assert entry["notes"], f"{url}: a digest mismatch must be explained in notes"


@pytest.mark.parametrize("url", sorted(u for u in URLS if MANIFEST[u]["published_sha256"]))
def test_bundled_bytes_are_the_published_bytes(url: str) -> None:
    """Where the W3C publishes a digest, we bundle exactly those bytes (not a re-indented copy)."""
    entry = MANIFEST[url]
    data = (CONTEXTS / entry["file"]).read_bytes()
    assert _sha256(data) == entry["published_sha256"], f"{url}: {entry['file']} is not the published bytes"
    assert entry["sha256"] == entry["published_sha256"]
    assert entry["published_sha256_matches"] is True
    assert entry["source"]["kind"] == "published"
    assert entry["notes"].startswith("Bytes match the digest published in ")


def test_every_known_published_digest_is_recorded() -> None:
    """Dropping a published digest from the manifest would silently skip the check above."""
    for url, digest in PUBLISHED_DIGESTS.items():
        assert MANIFEST[url]["published_sha256"] == digest, url
    assert {u for u in URLS if MANIFEST[u]["published_sha256"]} == set(PUBLISHED_DIGESTS)


def test_published_bytes_equal_the_reference_copies() -> None:
    """The bundled published contexts are the reference copies, byte for byte."""
    index = _reference_index()
    for url, entry in MANIFEST.items():
        if entry["source"]["kind"] != "published":
            continue
        ref = index[url]
        assert ref["published_sha256"] == entry["published_sha256"], url
        assert (CONTEXTS / entry["file"]).read_bytes() == (REFERENCE / ref["file"]).read_bytes(), url


def test_every_file_is_in_the_manifest() -> None:
    """An unpinned file in contexts/ would ship in the wheel without any integrity check."""
    referenced = {entry["file"] for entry in MANIFEST.values()}
    present = {p.name for p in CONTEXTS.iterdir() if p.is_file() and p.name != "MANIFEST.json"}
    assert present - referenced == set(), f"unreferenced files: {sorted(present - referenced)}"
    assert not [p for p in CONTEXTS.iterdir() if p.is_dir()], "contexts/ must be flat"


def test_same_json_as_reference_copies() -> None:
    """Each bundled context parses to the same JSON as the reference copy of that URL."""
    index = _reference_index()
    compared = 0
    for url, ref in index.items():
        if url not in MANIFEST:
            continue
        ours = json.loads((CONTEXTS / MANIFEST[url]["file"]).read_bytes())
        theirs = json.loads((REFERENCE / ref["file"]).read_bytes())
        assert ours == theirs, f"{url}: differs from reference {ref['file']}"
        compared += 1
    assert compared >= 10


def test_published_claims_against_reference_bytes() -> None:
    """Where the reference bytes are the published ones, our manifest's claims must hold."""
    index = _reference_index()
    for url, ref in index.items():
        entry = MANIFEST.get(url)
        published = ref.get("published_sha256")
        if entry is None or not published:
            continue
        ref_bytes = (REFERENCE / ref["file"]).read_bytes()
        if _sha256(ref_bytes) != published:
            continue  # reference copy is not the published document; nothing to check
        assert entry["published_sha256"] == published, url
        ours = (CONTEXTS / entry["file"]).read_bytes()
        assert entry["published_sha256_matches"] is (_sha256(ours) == published), url
        assert entry["json_equal_to_published"] is (json.loads(ours) == json.loads(ref_bytes)), url


def test_credentials_v2_published_digest_claim() -> None:
    """The VCDM 2.0 base context digest is the one readers will check by hand; be exact."""
    index = _reference_index()
    ref = index[CREDENTIALS_V2]
    ref_bytes = (REFERENCE / ref["file"]).read_bytes()
    assert _sha256(ref_bytes) == CREDENTIALS_V2_PUBLISHED
    entry = MANIFEST[CREDENTIALS_V2]
    ours = (CONTEXTS / entry["file"]).read_bytes()
    assert entry["published_sha256"] == CREDENTIALS_V2_PUBLISHED
    assert entry["published_sha256_matches"] is (_sha256(ours) == CREDENTIALS_V2_PUBLISHED)
    assert entry["json_equal_to_published"] is (json.loads(ours) == json.loads(ref_bytes))


def _update_script() -> Any:
    spec = importlib.util.spec_from_file_location("update_contexts", REPO / "scripts" / "update_contexts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_contexts"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


UPDATE = _update_script()
V2_SPEC = next(s for s in UPDATE.SPECS if s.url == CREDENTIALS_V2)
PUBLISHED_V2 = (CONTEXTS / "credentials-v2.jsonld").read_bytes()


def _read_v2(reference: Path, bundled: Path) -> bytes:
    data: bytes = UPDATE.read_published(V2_SPEC, V2_SPEC.source, reference, bundled)
    return data


def test_update_script_pins_every_published_context_to_its_digest() -> None:
    """The script, not only the manifest, must bundle published bytes for these URLs."""
    kinds = {s.url: type(s.source).__name__ for s in UPDATE.SPECS}
    for url, digest in PUBLISHED_DIGESTS.items():
        spec = next(s for s in UPDATE.SPECS if s.url == url)
        assert kinds[url] == "PublishedSource", url
        assert spec.published.sha256 == digest, url


def test_update_script_takes_published_bytes_from_the_reference_copy(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "credentials-v2.jsonld").write_bytes(PUBLISHED_V2)
    assert _read_v2(tmp_path / "ref", tmp_path / "no-bundle") == PUBLISHED_V2


def test_update_script_falls_back_to_the_bundled_copy_in_a_clone(tmp_path: Path) -> None:
    """No ../shared/contexts: the bundled file is re-used, since its digest proves what it is."""
    assert _read_v2(tmp_path / "no-reference", CONTEXTS) == PUBLISHED_V2


@pytest.mark.parametrize("variant", ["reindented", "one byte changed", "trailing newline"])
def test_update_script_refuses_copies_that_are_not_the_published_bytes(tmp_path: Path, variant: str) -> None:
    doc = json.loads(PUBLISHED_V2)
    bad = {
        "reindented": (json.dumps(doc, indent=4) + "\n").encode(),
        "one byte changed": PUBLISHED_V2.replace(b"VerifiableCredential", b"VerifiableCredentiaL", 1),
        "trailing newline": PUBLISHED_V2 + b"\n",
    }[variant]
    for folder in ("ref", "bundle"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "credentials-v2.jsonld").write_bytes(bad)
    with pytest.raises(SystemExit, match="no copy with the published sha256"):
        _read_v2(tmp_path / "ref", tmp_path / "bundle")


def test_update_script_skips_a_bad_reference_copy_for_a_good_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "credentials-v2.jsonld").write_bytes(PUBLISHED_V2 + b" ")
    assert _read_v2(tmp_path / "ref", CONTEXTS) == PUBLISHED_V2

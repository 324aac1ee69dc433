"""Offline checks of the bundled JSON-LD contexts and their manifest.

Why: the offline loader serves only what ``contexts/MANIFEST.json`` pins, so a context file
edited by hand, a file nobody pinned, or a manifest that claims a digest match it does not
have would silently change what signatures mean. ``scripts/update_contexts.py`` (online, run
by a maintainer) produces these files from npm packages; these tests check its result without
the network, and, where the reference copies in ``../shared/contexts`` exist, that every
bundled context parses to the same JSON as the reference.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTEXTS = REPO / "contexts"
MANIFEST_PATH = CONTEXTS / "MANIFEST.json"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "contexts"

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V2_PUBLISHED = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"

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

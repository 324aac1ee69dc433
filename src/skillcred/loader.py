"""The offline JSON-LD document loader.

Verification must never touch the network: a context fetched at verification time could be
swapped by whoever serves it, changing what a signature means. So skillcred serves only the
contexts bundled in ``contexts/`` and pinned by sha256 in ``contexts/MANIFEST.json``; every
other URL raises :class:`~skillcred.errors.UnknownContext` naming it.

The loader is always passed explicitly to pyld per call. pyld's module-global default loader
(which can fetch over HTTP) is never used.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillcred._internal.fileio import MAX_JSON_BYTES, read_bounded
from skillcred._internal.resources import data_dir
from skillcred.errors import StoreError, UnknownContext

__all__ = ["BundledContext", "OfflineLoader", "bundled_contexts", "default_loader"]


@dataclass(frozen=True)
class BundledContext:
    """One pinned context: where it is served from and the digest its bytes must have."""

    url: str
    path: Path
    sha256: str


def bundled_contexts() -> dict[str, BundledContext]:
    """Read ``MANIFEST.json`` and return every bundled context by URL."""
    folder = data_dir("contexts")
    manifest_path = folder / "MANIFEST.json"
    try:
        manifest = json.loads(read_bounded(manifest_path, max_bytes=MAX_JSON_BYTES, error=StoreError))
    except ValueError as exc:
        raise StoreError(f"cannot read the context manifest: {exc}", path=str(manifest_path)) from exc
    out: dict[str, BundledContext] = {}
    for url, entry in manifest.items():
        out[url] = BundledContext(url=url, path=folder / entry["file"], sha256=entry["sha256"])
    return out


class OfflineLoader:
    """A pyld document loader that serves pinned local documents and nothing else.

    Each context file is read once, checked against its manifest sha256 (a modified file is
    refused, not served), parsed, and cached for the life of the loader.

    ``extra`` adds documents by URL (for instance a verifier's own contexts); they are served
    as given and are the caller's responsibility.
    """

    def __init__(self, extra: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._pinned = bundled_contexts()
        self._extra: dict[str, Mapping[str, Any]] = dict(extra or {})
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def urls(self) -> frozenset[str]:
        """Every URL this loader will serve."""
        return frozenset(self._pinned) | frozenset(self._extra)

    def knows(self, url: str) -> bool:
        """True when ``url`` would be served (without loading it)."""
        return url in self._pinned or url in self._extra

    def pinned_bytes(self, url: str) -> bytes | None:
        """The exact bytes bundled for ``url`` (checked against their pinned sha256), or None
        when ``url`` is not a bundled context. Documents given as ``extra`` have no bytes of
        their own (they were parsed already), so they give None too: a digest over them
        cannot be checked."""
        ctx = self._pinned.get(url)
        if ctx is None:
            return None
        raw = read_bounded(ctx.path, max_bytes=MAX_JSON_BYTES, error=StoreError)
        if hashlib.sha256(raw).hexdigest() != ctx.sha256:
            raise StoreError(f"bundled context for {ctx.url} does not match its pinned sha256", path=str(ctx.path))
        return raw

    def document(self, url: str) -> Mapping[str, Any]:
        """Return the parsed document for ``url`` or raise :class:`UnknownContext`."""
        return self(url, {})["document"]  # type: ignore[no-any-return]

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cached = self._cache.get(url)
        if cached is not None:
            return cached
        with self._lock:
            if url in self._extra:
                doc: Any = self._extra[url]
            elif url in self._pinned:
                doc = self._read_pinned(self._pinned[url])
            else:
                raise UnknownContext(url)
            remote = {"contextUrl": None, "documentUrl": url, "document": doc}
            self._cache[url] = remote
            return remote

    @staticmethod
    def _read_pinned(ctx: BundledContext) -> Any:
        try:
            raw = read_bounded(ctx.path, max_bytes=MAX_JSON_BYTES, error=StoreError)
        except StoreError as exc:
            raise StoreError(f"bundled context for {ctx.url} is missing or unreadable ({exc.message})",
                             path=str(ctx.path)) from exc
        digest = hashlib.sha256(raw).hexdigest()
        if digest != ctx.sha256:
            raise StoreError(
                f"bundled context for {ctx.url} does not match its pinned sha256 "
                f"(expected {ctx.sha256[:16]}..., found {digest[:16]}...)",
                path=str(ctx.path),
            )
        return json.loads(raw)


_default: OfflineLoader | None = None
_default_lock = threading.Lock()


def default_loader() -> OfflineLoader:
    """The process-wide loader over the bundled contexts (created on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = OfflineLoader()
    return _default

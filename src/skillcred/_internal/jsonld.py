"""JSON-LD to RDF, in safe mode, through the offline loader only.

Safe mode (the name jsonld.js uses) means: nothing the signature is supposed to cover may
silently fall out of the canonical form. pyld has no safe mode, so it is built here from
three checks on the expansion:

1. a property pyld drops (a term no context defines, with no ``@vocab``) is an error;
2. a property or type that lands in the VC 2.0 *issuer-dependent* vocabulary
   (``https://www.w3.org/ns/credentials/issuer-dependent#``, the v2 context's ``@vocab``) is an
   error: it is a term the contexts do not define, whose meaning nobody signed;
3. a relative IRI where an IRI is expected (``@id``, ``@type``, a datatype), which toRdf would
   drop, is an error.

pyld errors are translated into skillcred errors; an unknown context surfaces as
:class:`~skillcred.errors.UnknownContext` naming the URL.

Two paths produce the RDF: :func:`to_rdf_dataset` is the *reference* path (pyld plus the checks
above); :func:`to_rdf_rows` first tries the *fast* path (:mod:`skillcred._internal.fastld`),
which yields exactly the reference path's rows, and runs the reference path for anything the
fast path does not handle (so errors are always the reference path's errors). The fast path is
on by default; ``SKILLCRED_JSONLD_FAST=0`` in the environment, :func:`set_fast_path` or the
:func:`reference_path` context manager turn it off.

Within :func:`rows_memo` (a verifier opens one per run), the fast path's rows are remembered
per document: the terms check and the canonicalization of the same document then convert it
to RDF once, not twice.

A document nothing converts to RDF (JCS proofs, JOSE, SD-JWT) gets the same safe-mode decision
without the RDF: :func:`check_terms` with ``rdf=False`` decides on the fast path's expansion
(:func:`fastld.check`) and leaves everything it does not accept to the reference path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from skillcred._internal import fastld, jcs, rdfplan
from skillcred._internal.fileio import copy_json
from skillcred._internal.nquads import quads_from_pyld_dataset
from skillcred._internal.pyldimport import jsonld
from skillcred._internal.rdfc import quad_rows
from skillcred.errors import ContextError, SkillcredError, UnsafeDocument
from skillcred.loader import OfflineLoader, default_loader

Row = tuple[str, str, str, str]

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"


class _RecordingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """A pyld processor that keeps the expansion it computed while converting to RDF."""

    def __init__(self, dropped: list[str]) -> None:
        super().__init__(on_property_dropped=lambda p: dropped.append(str(p)))
        self.expanded: Any = None

    def expand(self, input_: Any, options: Any) -> Any:
        out = super().expand(input_, options)
        if self.expanded is None:
            self.expanded = out
        return out


# pyld's own test (``_is_absolute_iri``), used by its toRdf to *silently drop* any IRI that fails
# it: "2025-01-01T00:00:00Z" or "1x:y" as an @id would otherwise pass a weaker "has a colon"
# check and then be left out of what is signed.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


def _is_absolute(iri: str) -> bool:
    return _ABSOLUTE_IRI.match(iri) is not None


def _is_node_ref(iri: str) -> bool:
    return iri.startswith("_:") or _is_absolute(iri)


def _check_expanded(expanded: Any) -> None:
    """Walk the expanded form and refuse anything undefined or relative (see module doc)."""
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "@value" in node:
            dt = node.get("@type")
            if isinstance(dt, str) and dt != "@json" and not _is_absolute(dt):
                raise UnsafeDocument(f"datatype {dt!r} is not an absolute IRI")
            if isinstance(dt, str) and dt.startswith(ISSUER_DEPENDENT):
                raise UnsafeDocument(
                    f"datatype {dt[len(ISSUER_DEPENDENT):]!r} is not defined by the document's contexts"
                )
            continue
        for key, value in node.items():
            if key == "@id":
                if isinstance(value, str) and not _is_node_ref(value):
                    raise UnsafeDocument(f"identifier {value!r} is not an absolute IRI")
            elif key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    if isinstance(t, str):
                        if t.startswith(ISSUER_DEPENDENT):
                            raise UnsafeDocument(
                                f"type {t[len(ISSUER_DEPENDENT):]!r} is not defined by the "
                                "document's contexts"
                            )
                        if not _is_node_ref(t):
                            raise UnsafeDocument(f"type {t!r} is not defined by the document's contexts")
            elif key.startswith("@"):
                if key in ("@graph", "@list", "@set", "@included", "@reverse"):
                    stack.append(value)
            else:
                if key.startswith(ISSUER_DEPENDENT):
                    raise UnsafeDocument(
                        f"term {key[len(ISSUER_DEPENDENT):]!r} is not defined by the document's contexts"
                    )
                stack.append(value)


def translate_error(exc: BaseException) -> SkillcredError:
    """Find our own error in pyld's cause chain, else describe pyld's error in one line
    (shared with the ``ecdsa-sd-2023`` suite, which expands JSON-LD through pyld too)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    messages: list[str] = []
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, SkillcredError):
            return cur
        details = getattr(cur, "details", None)
        if isinstance(details, dict):
            cause = details.get("cause")
            if isinstance(cause, SkillcredError):
                return cause
        code = getattr(cur, "code", None)
        msg = str(getattr(cur, "message", "") or cur).splitlines()[0] if str(cur) else ""
        if code:
            messages.append(f"{code}: {msg}" if msg else str(code))
        elif msg:
            messages.append(msg)
        cur = cur.__cause__ or cur.__context__ or (details.get("cause") if isinstance(details, dict) else None)
    # the innermost message is the informative one ("protected term redefinition", ...)
    text = messages[-1] if messages else type(exc).__name__
    if "protected term redefinition" in text:
        return ContextError("a context redefines a protected term (protected term redefinition)")
    return ContextError(f"JSON-LD processing failed: {text}")


def to_rdf_dataset(
    document: Mapping[str, Any], *, loader: OfflineLoader | None = None, safe: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Convert a JSON-LD document to a pyld RDF dataset, offline and (by default) in safe mode."""
    if "@context" not in document:
        raise ContextError("document has no @context")
    dropped: list[str] = []
    proc = _RecordingProcessor(dropped)
    options = {
        "documentLoader": loader or default_loader(),
        "base": None,
        "produceGeneralizedRdf": False,
    }
    try:
        dataset = proc.to_rdf(copy_json(dict(document)), options)  # pyld may not keep its hands off
    except RecursionError as exc:
        raise ContextError("document nests too deeply for JSON-LD processing") from exc
    except SkillcredError:
        raise
    except Exception as exc:  # pyld raises JsonLdError and, on odd input, builtins
        raise translate_error(exc) from exc
    if safe:
        if dropped:
            names = ", ".join(sorted({repr(d) for d in dropped}))
            raise UnsafeDocument(f"term {names} is not defined by the document's contexts")
        _check_expanded(proc.expanded)
    return dataset  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# The fast path
# --------------------------------------------------------------------------------------------

_fast_enabled = os.environ.get("SKILLCRED_JSONLD_FAST", "1").strip().lower() not in ("0", "false", "no", "off")
#: When true, an unexpected exception inside the fast path propagates instead of falling back
#: (tests use it to find fast-path bugs; a fallback would hide them).
STRICT = False


def fast_path_enabled() -> bool:
    """Whether :func:`to_rdf_rows` tries the fast path first."""
    return _fast_enabled


def set_fast_path(enabled: bool) -> bool:
    """Turn the fast path on or off for this process; returns the previous setting."""
    global _fast_enabled
    previous = _fast_enabled
    _fast_enabled = bool(enabled)
    return previous


@contextmanager
def reference_path(enabled: bool = True) -> Iterator[None]:
    """Within the block, :func:`to_rdf_rows` uses only the reference path (pyld)."""
    previous = set_fast_path(not enabled)
    try:
        yield
    finally:
        set_fast_path(previous)


T = TypeVar("T")


def _fast(step: Callable[[Mapping[str, Any], OfflineLoader], T], document: Mapping[str, Any],
          loader: OfflineLoader, stat: str, fallback: str) -> tuple[bool, T | None]:
    """Run a fast-path ``step``; (False, None) when the reference path must decide instead (the
    fast path does not handle the document, or failed in a way only STRICT tests surface)."""
    try:
        out = step(document, loader)
    except fastld._NotHandled as exc:
        fastld.STATS[f"{fallback}:{exc.reason}"] += 1
        return False, None
    except RecursionError:
        fastld.STATS[f"{fallback}:recursion"] += 1
        return False, None
    except Exception as exc:  # a context error, or a fast-path bug: the reference path decides
        if STRICT and not isinstance(exc, SkillcredError | jsonld.JsonLdError):
            raise
        fastld.STATS[f"{fallback}:exception:{type(exc).__name__}"] += 1
        return False, None
    fastld.STATS[stat] += 1
    return True, out


def _fast_rows(document: Mapping[str, Any], loader: OfflineLoader) -> list[Row] | None:
    return _fast(fastld.to_rows, document, loader, "fast", "fallback")[1]


_MemoKey = tuple[int, tuple[Any, ...], tuple[int, ...]]
_memo: ContextVar[dict[_MemoKey, tuple[OfflineLoader, Mapping[str, Any], tuple[Row, ...]]] | None] = ContextVar(
    "skillcred_rows_memo", default=None
)
_plan_memo: ContextVar[dict[_MemoKey, tuple[Mapping[str, Any], tuple[Row, ...] | None]] | None] = ContextVar(
    "skillcred_plan_memo", default=None
)


class rows_memo:  # noqa: N801 - used as ``with rows_memo():``, like the function it was
    """Within the block, :func:`to_rdf_rows` remembers the fast path's rows per document.

    For a verifier: it converts the document without its proof for the terms check, and the
    proof canonicalization needs the same RDF next. The two calls get different top-level
    objects holding the same values (the very objects: both are made from the document by
    leaving a member out), so the key is the loader, the document's top-level keys and the
    identity of each value. The documents must not change inside the block (a verification
    only reads them); the memo keeps a reference to each document it remembers, so an
    identity is never reused (an equal value that is another object only misses the memo).
    Only the fast path's successes are remembered: errors are raised afresh, and the
    reference path (:func:`reference_path`, the fallback) always runs. Within the block the
    fast path also remembers expansions of JSON objects (see ``fastld._expand``), which a
    presentation's credentials share with the presentation, and which parts of them
    :func:`check_terms` without RDF already accepted (``fastld.CHECK_MEMO``), and that check
    works out its decision once per shape of document (``fastld.SHAPE_MEMO``: a
    presentation's credentials differ in ids, subjects and proof values, not in what the
    decision depends on), on expansions of its own that the rows never use. Nothing
    outlives the block (but the accepted fingerprints of :func:`fastld.check`, which are
    per universe of contexts, bounded, and hold fingerprints, not documents).

    A class rather than a generator: a verification enters one per document checked, and the
    generator's frame and ``contextlib`` wrapper were a few microseconds of it.
    """

    __slots__ = ("_jcs", "_tokens")

    def __enter__(self) -> None:
        self._tokens = (_memo.set({}), _plan_memo.set({}), fastld.EXPAND_MEMO.set({}), fastld.CHECK_MEMO.set({}),
                        fastld.DECISION_MEMOS.set(({}, {}, {})), fastld.PRINT_MEMO.set({}))
        self._jcs = jcs.memo()  # and JCS proofs serialize each presented credential once (jcs.memo)
        self._jcs.__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            self._jcs.__exit__(None, None, None)
        finally:
            memo_t, plan_t, expand_t, check_t, decision_t, print_t = self._tokens
            fastld.PRINT_MEMO.reset(print_t)
            fastld.DECISION_MEMOS.reset(decision_t)
            fastld.CHECK_MEMO.reset(check_t)
            fastld.EXPAND_MEMO.reset(expand_t)
            _plan_memo.reset(plan_t)
            _memo.reset(memo_t)


def _memo_key(document: Mapping[str, Any], loader: OfflineLoader) -> _MemoKey:
    # identities, not values: built and hashed in C (a key of values, tuples per member, was a
    # few microseconds for each of the four conversions a credential's verification asks for)
    return id(loader), tuple(document), tuple(map(id, document.values()))


def planned_rows(document: Mapping[str, Any], loader: OfflineLoader | None = None) -> list[Row] | None:
    """:func:`rdfplan.plan_rows`, remembered per document within :func:`rows_memo`.

    A verifier asks for a document's plan twice (the terms check, then the proof's
    canonicalization); filling a plan in walks the whole document, so the second ask reuses
    the first answer, a miss (None) included. Same key and rule as :func:`to_rdf_rows`'s memo.
    """
    loader = loader or default_loader()
    memo = _plan_memo.get()
    if memo is None:
        return rdfplan.plan_rows(document, loader)
    key = _memo_key(document, loader)
    hit = memo.get(key)
    if hit is not None:
        return None if hit[1] is None else list(hit[1])
    rows = rdfplan.plan_rows(document, loader)
    memo[key] = (document, None if rows is None else tuple(rows))  # holds the document: ids stay unique
    return rows


def to_rdf_rows(
    document: Mapping[str, Any], *, loader: OfflineLoader | None = None, fast: bool | None = None
) -> list[Row]:
    """The document's RDF, in safe mode, as canonicalizer rows (see :mod:`skillcred._internal.rdfc`).

    Exactly ``quad_rows(quads_from_pyld_dataset(to_rdf_dataset(document)))`` (same rows, same
    order, same blank node labels), from the fast path when it handles the document.
    ``fast`` overrides the process-wide setting (:func:`set_fast_path`).
    """
    if "@context" not in document:
        raise ContextError("document has no @context")
    loader = loader or default_loader()
    if _fast_enabled if fast is None else fast:
        memo = _memo.get()
        key = _memo_key(document, loader) if memo is not None else None
        if key is not None:
            hit = memo.get(key)  # type: ignore[union-attr]
            if hit is not None:
                return list(hit[2])
        rows = _fast_rows(document, loader)
        if rows is not None:
            unique = list(dict.fromkeys(rows))
            if key is not None:
                memo[key] = (loader, document, tuple(unique))  # type: ignore[index]
            return unique
    return quad_rows(quads_from_pyld_dataset(to_rdf_dataset(document, loader=loader)))


def _checked_without_rdf(document: Mapping[str, Any], loader: OfflineLoader) -> bool:
    """Whether :func:`fastld.check` accepted ``document``; ``False``: the reference path decides."""
    return _fast(fastld.check, document, loader, "check", "check-fallback")[0]


def check_terms(document: Mapping[str, Any], *, loader: OfflineLoader | None = None, rdf: bool = True) -> None:
    """Raise what :func:`to_rdf_dataset` raises for ``document`` (safe mode), else nothing.

    ``rdf=True`` decides by converting the document to RDF (:func:`to_rdf_rows`): right when
    a proof canonicalizes it to RDF next, since inside :func:`rows_memo` those rows are
    remembered for the proof. ``rdf=False`` is for documents nothing converts to RDF (JCS
    proofs, JOSE, SD-JWT): the decision is taken on the expansion alone
    (:func:`fastld.check`, the same refusals as the node map and the rows, without building
    them); whatever that check does not accept goes to the reference path, so every refusal
    is the reference path's own error, word for word. With the fast path off
    (:func:`set_fast_path`, :func:`reference_path`) both forms use only the reference path.
    """
    if rdf:
        # a document whose shape has a row plan is one the conversion accepts (rdfplan: a plan
        # gives rows only where the exact path does); the proof fills the plan in next
        if _fast_enabled and "@context" in document and planned_rows(document, loader):
            return
        to_rdf_rows(document, loader=loader)
        return
    if "@context" not in document:
        raise ContextError("document has no @context")
    loader = loader or default_loader()
    if _fast_enabled and _checked_without_rdf(document, loader):
        return
    quad_rows(quads_from_pyld_dataset(to_rdf_dataset(document, loader=loader)))

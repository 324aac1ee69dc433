"""The fast JSON-LD to RDF path: pyld's own toRdf, minus the work that repeats.

:func:`to_rows` turns a JSON-LD document into the rows :mod:`skillcred._internal.rdfc`
canonicalizes (4-tuples of canonical N-Quads terms, ``""`` for the default graph). It produces
*exactly* the rows the reference path produces (pyld ``to_rdf`` + :func:`quads_from_pyld_dataset`),
in the same order and with the same blank node labels, so RDFC-1.0 sees an identical input and
the canonical form is identical byte for byte, even for graphs where RDFC leaves a choice open.

Where the time goes in pyld, and what is done instead:

* **Context processing** (about 90 % of pyld's time on a credential: every call resolves the
  contexts, JCS-canonicalizes them as cache keys and rebuilds the active context). Here the
  active contexts are computed *once* by pyld's own ``_process_context`` (so every term
  definition, ``@protected`` check and scoped context is pyld's) and kept in a
  :class:`_Ctx` wrapper per active context, with per-term lookups memoized; type-scoped,
  property-scoped and embedded contexts are cached on the wrapper they are applied to.
  Bundled contexts are pinned by hash, so caching their processed form is safe; the cache is
  per :class:`~skillcred.loader.OfflineLoader` (a loader with extra documents gets its own).
* **Expansion** (:func:`_expand`): a line-by-line mirror of pyld's ``_expand`` /
  ``_expand_object`` / ``_expand_value`` for the subset of JSON-LD the bundled contexts and
  credentials use; same key order (sorted), same type-scoped context reverting, same
  property-scoped double application, same ``@list`` / ``@set`` / ``@graph`` container
  handling, producing pyld's expanded form (the tests compare it with ``jsonld.expand``).
* **Node map and toRdf** (:func:`_node_map`, :func:`_rows_of`): mirrors of pyld's
  ``_create_node_map`` (same blank node issuing order, same ``compare_values`` de-duplication,
  same merging of nodes sharing an ``@id``) and ``_graph_to_rdf`` / ``_list_to_rdf`` (same
  sort orders, list labels issued during output), writing canonical N-Quads terms directly.
  Numbers, booleans, ``xsd:double`` and ``@json`` literals are converted by pyld's own
  ``_object_to_rdf``.
* **Safe mode without RDF** (:func:`check`): for a document nothing converts to RDF (JCS
  proofs, JOSE, SD-JWT), the expansion plus one walk that refuses what the node map and the
  rows refuse: :func:`to_rows`'s decision without its rows. Accepted documents are
  remembered per universe by their fingerprint (:func:`_fingerprint`, the shape rule of
  :func:`_same_shape` as one hashable value), so a document of a shape met before, in any
  verification, costs one walk over it.

Safe mode (see :mod:`skillcred._internal.jsonld`) is enforced by *refusing to handle*
anything the reference path would refuse or treat specially: an undefined (dropped) term, an
issuer-dependent term, type or datatype, a relative or unwritable IRI, any pyld syntax error,
an unknown context, a protected-term redefinition. Those raise :class:`_NotHandled`, as does
every JSON-LD feature outside the subset (``@reverse``, ``@index``, ``@nest``, ``@included``,
``@direction``, language/index/id/type maps, top-level ``@graph``, blank-node types or
properties, ...). The caller then runs the reference path, which produces the exact same
result or the exact same skillcred error. A fallback is never wrong, only slower; they are
counted in :data:`STATS` (``fallback:<reason>``) for the benchmark.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import weakref
from collections import Counter
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from skillcred._internal.nquads import _LITERAL_ESCAPES as _ESCAPES
from skillcred._internal.nquads import NEEDS_ESCAPE, escape_literal
from skillcred._internal.pyldimport import ContextResolver
from skillcred._internal.pyldimport import jsonld as _pyld
from skillcred._internal.strictjson import same_json

__all__ = ["STATS", "Row", "check", "clear_caches", "expand", "to_rows"]

Row = tuple[str, str, str, str]

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE_REF = f"<{RDF}type>"
RDF_FIRST_REF = f"<{RDF}first>"
RDF_REST_REF = f"<{RDF}rest>"
RDF_NIL_REF = f"<{RDF}nil>"
RDF_LANGSTRING = f"{RDF}langString"
RDF_JSON = f"{RDF}JSON"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"

#: Outcome counters: ``fast`` (handled here) and ``fallback:<reason>`` (reference path ran).
STATS: Counter[str] = Counter()

#: The pyld versions this module was checked against (it mirrors pyld's algorithms and calls
#: its internals); with any other version every document takes the reference path.
TESTED_PYLD = ("3.3.",)


def _pyld_version() -> str:
    """pyld's own ``__version__`` (pyld/__about__.py, which its packaging reads too): asking
    ``importlib.metadata`` instead imports it with ``email``, ``zipfile`` and ``socket`` and scans
    site-packages, about a tenth of a cold ``skillcred verify``."""
    version = getattr(_pyld, "__version__", None)
    return version if isinstance(version, str) else "?"


PYLD_VERSION = _pyld_version()
ENABLED = PYLD_VERSION.startswith(TESTED_PYLD)

_KEYWORDS = frozenset(_pyld.KEYWORDS)
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")  # pyld's KEYWORD_PATTERN
# pyld's _is_absolute_iri (note: re.match with "$", exactly as pyld does it)
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
# characters an IRIREF cannot hold (nquads._BAD_IRI_CHAR): the reference path refuses them
_BAD_IRI_CHAR = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*\Z")
_NO_LANG = object()

# Bounds on memo tables fed by document content (terms, type names, embedded contexts).
_TERM_CACHE_LIMIT = 4096
_CTX_LIMIT = 2048


class _NotHandled(Exception):  # a signal, not an error: the reference path runs
    """The fast path does not handle this document; run the reference path instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _clean_iri(value: Any) -> bool:
    """An IRI both paths write the same way: absolute for pyld, writable, not issuer-dependent."""
    return (
        isinstance(value, str)
        and _ABSOLUTE.match(value) is not None
        and _BAD_IRI_CHAR.search(value) is None
        and not value.startswith(ISSUER_DEPENDENT)
    )


_CLEAN_CACHE: dict[str, bool] = {}


def _clean_vocab_iri(value: Any) -> bool:
    """:func:`_clean_iri` memoized, for IRIs that repeat (types, datatypes)."""
    ok = _CLEAN_CACHE.get(value)
    if ok is None:
        ok = _clean_iri(value)
        if len(_CLEAN_CACHE) < _TERM_CACHE_LIMIT:
            _CLEAN_CACHE[value] = ok
    return ok


# --------------------------------------------------------------------------------------------
# Active contexts
# --------------------------------------------------------------------------------------------


class _Term:
    """What one key means in one active context (everything pyld looks up for it)."""

    __slots__ = (
        "bad",
        "coerce",
        "container",
        "iri",
        "is_graph_container",
        "is_list_container",
        "language",
        "pred",
        "reverse",
        "sarg",
        "scoped",
        "smode",
    )
    smode: int  # how a string value expands (_SM_*), set by _string_mode
    sarg: Any  # its argument: the datatype (_SM_TYPED), language (_SM_LANG) or reason (_SM_BAD)

    def __init__(self, ctx: _Ctx, key: str) -> None:
        raw = ctx.raw
        gcv = _pyld.JsonLdProcessor.get_context_value
        self.iri: str | None = ctx.uni.proc._expand_iri(raw, key, vocab=True)
        mapping = raw["mappings"].get(key)
        self.coerce: Any = gcv(raw, key, "@type")
        container = _pyld.JsonLdProcessor.arrayify(gcv(raw, key, "@container"))
        self.container: tuple[str, ...] = tuple(container or ())
        self.scoped: Any = gcv(raw, key, "@context")
        self.reverse = bool(mapping and mapping.get("reverse"))
        # get_context_value(ctx, key, "@language"): the term's own entry wins, else the default
        if mapping is not None and "@language" in mapping:
            self.language: Any = mapping["@language"]
        else:
            self.language = raw.get("@language")
        self.is_list_container = "@list" in self.container
        self.is_graph_container = (
            "@graph" in self.container
            and "@id" not in self.container
            and "@index" not in self.container
        )
        bad = None
        if mapping is not None and ("@nest" in mapping or "@index" in mapping):
            bad = "term uses @nest/@index"
        elif gcv(raw, key, "@direction") is not None:
            bad = "term has a base direction"
        elif any(c in self.container for c in ("@language", "@index", "@id", "@type")):
            bad = f"container {self.container}"
        elif self.reverse:
            bad = "reverse property"
        self.bad: str | None = bad
        iri = self.iri
        # the predicate as written in N-Quads, or None when the key is not a usable property
        self.pred: str | None = None
        if iri is None or iri in _KEYWORDS:
            self._string_mode()
            return
        if _ABSOLUTE.match(iri) is None:
            self.bad = bad or "undefined term"  # pyld drops it: safe mode refuses
        elif iri.startswith(ISSUER_DEPENDENT):
            self.bad = bad or "issuer-dependent term"
        elif iri.startswith("_:"):
            self.bad = bad or "blank node property"
        elif _BAD_IRI_CHAR.search(iri):
            self.bad = bad or "unwritable property IRI"
        else:
            self.pred = f"<{iri}>"
        self._string_mode()

    def _string_mode(self) -> None:
        """How ``_expand_value`` expands a *string* under this term (precomputed)."""
        ep = self.iri
        coerce = self.coerce
        if self.bad is not None:
            self.smode, self.sarg = _SM_BAD, self.bad
        elif ep == "@id" or ep == "@type" or ep == "@graph":
            self.smode, self.sarg = _SM_BAD, "keyword-valued property"
        elif coerce == "@id":
            self.smode, self.sarg = _SM_ID, None
        elif coerce == "@vocab":
            self.smode, self.sarg = _SM_VOCAB, None
        elif ep in _KEYWORDS:
            self.smode, self.sarg = _SM_BAD, "keyword-valued property"
        elif coerce is not None and coerce != "@none":
            self.smode, self.sarg = _SM_TYPED, coerce
        elif self.language is not None:
            self.smode, self.sarg = _SM_LANG, self.language
        else:
            self.smode, self.sarg = _SM_PLAIN, None


_SM_PLAIN, _SM_TYPED, _SM_ID, _SM_LANG, _SM_VOCAB, _SM_BAD = range(6)


class _Ctx:
    """One pyld active context plus memo tables for everything looked up in it."""

    __slots__ = ("applied", "mappings", "prev", "raw", "terms", "type_keys", "uni", "vocab")

    def __init__(self, uni: _Universe, raw: Any) -> None:
        self.uni = uni
        self.raw = raw
        self.mappings = raw["mappings"]
        prev = raw.get("previousContext")
        self.prev: _Ctx | None = uni.wrap(prev) if prev is not None else None
        self.terms: dict[str, _Term] = {}
        self.vocab: dict[str, Any] = {}
        self.applied: dict[tuple[int, bool, bool], tuple[Any, _Ctx]] = {}
        # keys expanding to @type here: "@type" and its aliases (nothing else can: a compact
        # IRI or @vocab expansion is an IRI, never a keyword)
        self.type_keys = frozenset(
            ["@type", *(k for k, m in self.mappings.items() if m is not None and m.get("@id") == "@type")]
        )
        # what the structural check memo must know of every active context (see _fingerprint)
        uni.all_terms.update(self.mappings)
        vocab = raw.get("@vocab")
        if vocab is not None and not (isinstance(vocab, str) and _ABSOLUTE.match(vocab)):
            uni.odd_vocab = True

    def term(self, key: str) -> _Term:
        t = self.terms.get(key)
        if t is None:
            t = _Term(self, key)
            if len(self.terms) < _TERM_CACHE_LIMIT:
                self.terms[key] = t
        return t

    def vocab_iri(self, value: str) -> Any:
        """pyld ``_expand_iri(ctx, value, vocab=True, base=None)``, memoized."""
        out = self.vocab.get(value, _NO_LANG)
        if out is _NO_LANG:
            out = self.uni.proc._expand_iri(self.raw, value, vocab=True, base=None)
            if len(self.vocab) < _TERM_CACHE_LIMIT:
                self.vocab[value] = out
        return out

    def id_iri(self, value: str) -> Any:
        """pyld ``_expand_iri(ctx, value, base=None)`` (document-relative, no vocab)."""
        if value in _KEYWORDS:
            return value
        if value[:1] == "@" and _KEYWORD_LIKE.match(value):
            return None
        colon = value.find(":")
        if colon > 0:
            prefix = value[:colon]
            suffix = value[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return value
            mapping = self.mappings.get(prefix)
            if mapping and mapping.get("_prefix"):
                return mapping["@id"] + suffix
        return value

    def apply(self, local: Any, override_protected: bool, propagate: bool) -> _Ctx:
        """``_process_context(self, local, ...)`` for a context object found in a term definition."""
        key = (id(local), override_protected, propagate)
        hit = self.applied.get(key)
        if hit is not None and hit[0] is local:
            return hit[1]
        with self.uni.lock:
            raw = self.uni.proc._process_context(
                self.raw, local, self.uni.options,
                override_protected=override_protected, propagate=propagate,
            )
            out = self.uni.wrap(raw)
        self.applied[key] = (local, out)  # keeps ``local`` alive, so its id stays unique
        return out


class _Universe:
    """Every active context computed for one loader."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.proc = _pyld.JsonLdProcessor()
        self.options = {
            "documentLoader": loader,
            "contextResolver": ContextResolver(_pyld._resolved_context_cache, loader),
            "base": None,
            "processingMode": "json-ld-1.1",
            "isFrame": False,
            "keepFreeFloatingNodes": False,
        }
        self.contexts: dict[int, _Ctx] = {}
        self.local: dict[tuple[int, Any], _Ctx] = {}
        self.lock = threading.RLock()
        #: every term name of every active context computed here, and whether one of them has
        #: an ``@vocab`` that is not an absolute IRI (both for :func:`_fingerprint`)
        self.all_terms: set[str] = set()
        self.odd_vocab = False
        #: :func:`check`'s accepted fingerprints (see :func:`_fingerprint`), and the string
        #: tokens they are made of, valid while ``all_terms`` has ``tokens_at`` names
        self.accepted: dict[Any, bool] = {}
        self.tokens: dict[str, Any] = {}
        self.tokens_at = 0
        self.initial = self.wrap(self.proc._get_initial_context(self.options))

    def wrap(self, raw: Any) -> _Ctx:
        ctx = self.contexts.get(id(raw))
        if ctx is None or ctx.raw is not raw:
            ctx = _Ctx(self, raw)
            self.contexts[id(raw)] = ctx  # the wrapper keeps ``raw`` alive
        return ctx

    def embedded(self, ctx: _Ctx, local: Any) -> _Ctx:
        """Apply a document's own ``@context`` value (URLs, inline objects) to ``ctx``."""
        if isinstance(local, str):
            key: Any = ("s", local)
            urls = [local]
        elif isinstance(local, list) and all(isinstance(c, str) for c in local):
            key = ("l", *local)
            urls = local
        else:
            key = ("j", json.dumps(local, sort_keys=True, separators=(",", ":")))
            urls = [c for c in (local if isinstance(local, list) else [local]) if isinstance(c, str)]
        for url in urls:
            if not self.loader.knows(url):
                raise _NotHandled("unknown context")
        cache_key = (id(ctx), key)
        hit = self.local.get(cache_key)
        if hit is not None:
            return hit
        # a copy: pyld keeps the context object it is given in its (global) resolved-context
        # cache, and the caller may mutate its document afterwards
        with self.lock:
            raw = self.proc._process_context(ctx.raw, copy.deepcopy(local), self.options)
            out = self.wrap(raw)
        if len(self.local) < _CTX_LIMIT and len(self.contexts) < _CTX_LIMIT:
            self.local[cache_key] = out  # ``ctx`` lives in self.contexts, so id(ctx) is stable
        return out


_universes: weakref.WeakKeyDictionary[Any, _Universe] = weakref.WeakKeyDictionary()
_universes_lock = threading.Lock()


def _universe(loader: Any) -> _Universe:
    uni = _universes.get(loader)
    if uni is None or len(uni.contexts) > _CTX_LIMIT:
        with _universes_lock:
            uni = _universes.get(loader)
            if uni is None or len(uni.contexts) > _CTX_LIMIT:
                uni = _universes[loader] = _Universe(loader)
    return uni


def clear_caches() -> None:
    """Forget every processed context (tests; a loader's documents changed)."""
    with _universes_lock:
        _universes.clear()


# --------------------------------------------------------------------------------------------
# Expansion (mirror of pyld _expand / _expand_object / _expand_value for the subset)
# --------------------------------------------------------------------------------------------


def _add(parent: dict[str, Any], prop: str, value: Any, as_array: bool) -> None:
    """pyld ``JsonLdProcessor.add_value`` with duplicates allowed (what expansion uses)."""
    if isinstance(value, list):
        if not value and as_array and prop not in parent:
            parent[prop] = []
        for v in value:
            _add(parent, prop, v, as_array)
    elif prop in parent:
        cur = parent[prop]
        if not isinstance(cur, list):
            parent[prop] = [cur, value]
        else:
            cur.append(value)
    else:
        parent[prop] = [value] if as_array else value


def _expand_value(ctx: _Ctx, prop: str, value: Any, t: _Term | None = None) -> Any:
    """pyld ``_expand_value`` (``t`` is ``ctx.term(prop)`` when the caller has it)."""
    if value is None:
        return None
    if t is None:
        t = ctx.terms.get(prop) or ctx.term(prop)
    if type(value) is str:
        m = t.smode
        if m == _SM_PLAIN:
            return {"@value": value}
        if m == _SM_TYPED:
            return {"@type": t.sarg, "@value": value}
        if m == _SM_ID:
            return {"@id": ctx.id_iri(value)}
        if m == _SM_LANG:
            return {"@language": t.sarg, "@value": value}
        if m == _SM_VOCAB:
            return {"@id": ctx.vocab_iri(value)}
        raise _NotHandled(t.sarg)
    if t.bad is not None:
        raise _NotHandled(t.bad)
    ep = t.iri
    if ep in _KEYWORDS:
        raise _NotHandled("keyword-valued property")
    if not isinstance(value, bool | int | float):
        raise _NotHandled("non-JSON scalar")
    coerce = t.coerce
    if coerce is not None and coerce != "@id" and coerce != "@vocab" and coerce != "@none":
        return {"@type": coerce, "@value": value}
    return {"@value": value}


def _expand_array(ctx: _Ctx, prop: str | None, element: list[Any], inside_list: bool, t: _Term | None) -> list[Any]:
    """pyld ``_expand`` for an array."""
    rval: list[Any] = []
    if prop is not None:
        if t is None:
            t = ctx.terms.get(prop) or ctx.term(prop)
        if t.is_list_container:
            inside_list = True
    for e in element:
        if type(e) is str and prop is not None:
            # a scalar: dropped when free-floating (not possible under a property), else a value
            rval.append(_expand_value(ctx, prop, e, t))
            continue
        e = _expand(ctx, prop, e, inside_list, t)
        if inside_list and isinstance(e, list):
            e = {"@list": e}
        if e is not None:
            if isinstance(e, list):
                rval.extend(e)
            else:
                rval.append(e)
    return rval


#: Within :func:`skillcred._internal.jsonld.rows_memo`: expansions of JSON objects already done,
#: keyed by (active context, property, object, inside a list), each with the objects it pins.
EXPAND_MEMO: ContextVar[dict[tuple[int, str | None, int, bool], tuple[Any, dict[str, Any], _Ctx]] | None] = (
    ContextVar("skillcred_expand_memo", default=None)
)


def _expand(ctx: _Ctx, prop: str | None, element: Any, inside_list: bool, pt: _Term | None = None) -> Any:
    """pyld ``_expand`` (no framing, no index maps, base = None).

    ``pt`` is ``ctx.term(prop)`` when the caller already has it.

    Inside a rows memo (one verification), the expansion of a JSON object is remembered: a
    presentation's credentials are expanded for the presentation's proof and again, under
    the very same contexts (the VC 2.0 ``verifiableCredential`` term resets the context),
    for their own proofs. The expansion is a function of the active context, the property,
    the object and whether it sits in a list; the object is pinned so its identity cannot be
    reused, and callers get a fresh top-level container (they add to it; nothing below the
    top level is ever changed once expanded).
    """
    if element is None:
        return None
    if type(element) is dict:
        if "@context" in element:
            shapes = SHAPE_MEMO.get()
            if shapes is not None:
                return _expand_by_shape(shapes, ctx, prop, element, inside_list, pt)
        memo = EXPAND_MEMO.get()
        if memo is not None:
            key = (id(ctx), prop, id(element), inside_list)
            hit = memo.get(key)
            if hit is None:
                result = _expand_uncached(ctx, prop, element, inside_list, pt)
                memo[key] = (result, element, ctx)
            else:
                result = hit[0]
            return dict(result) if type(result) is dict else list(result) if type(result) is list else result
    return _expand_uncached(ctx, prop, element, inside_list, pt)


#: Within :func:`check` inside :func:`skillcred._internal.jsonld.rows_memo` only (never for
#: :func:`to_rows`): expansions of JSON objects that carry an ``@context`` (a document, a
#: credential inside a presentation, a proof configuration), by active context, property,
#: inside-a-list and the object's keys, each with the object it was computed from (pinned, like the context), a
#: few per key: an object of the same shape (:func:`_same_shape`) gets that expansion.
SHAPE_MEMO: ContextVar[dict[tuple[Any, ...], list[tuple[dict[str, Any], Any, _Ctx]]] | None] = (
    ContextVar("skillcred_shape_memo", default=None)
)
_SHAPES_PER_KEY = 4
#: Within the same block: the objects :func:`_same_shape` found the same (see there)
_SAME_PAIRS: ContextVar[dict[tuple[int, int], tuple[Any, Any, int]] | None] = ContextVar(
    "skillcred_same_pairs", default=None
)

# Strings a shape may differ in (see _same_shape): no colon, or exactly two after a
# scheme-like head ("did:key:z6Mk...", "urn:uuid:..."); never '@', '/', '#', whitespace or
# anything an IRI cannot hold, so neither "//" nor a keyword can occur in them.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9._%-]+\Z")
_TWO_COLONS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9.-]*:)[A-Za-z0-9._%-]+\Z")


def _floats(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _string_class(value: str) -> Any:
    """What the safe-mode decision can see of a string of the two families (else None)."""
    if _PLAIN_WORD.match(value):
        return (1, _floats(value), _LANGTAG.match(value.lower()) is not None)
    m = _TWO_COLONS.match(value)
    return (2, m.group(1)) if m else None


def _same_shape(a: Any, b: Any, terms: set[str],
                pairs: dict[tuple[int, int], tuple[Any, Any, int]] | None = None) -> bool:
    """Whether the safe-mode decision on ``b`` is the decision on ``a`` (both plain JSON).

    Why: a presentation's credentials (and many credentials of one institute) are one shape
    with different ids, subjects and proof values; the decision of :func:`check` is the same
    for all of them, so inside one verification it is worked out once per shape. The same:
    every key, in order; the type and value of every number, boolean and null; every
    ``@context`` value whole (:func:`~skillcred._internal.strictjson.same_json`); every string, *except* two families
    whose every use the check makes is decided by a class of the string (and only when
    neither string is a term name of any active context; the caller also makes sure no
    active context has an ``@vocab`` that is not absolute):

    * a word without a colon (``[A-Za-z0-9._%-]+``): as a plain, typed or language-tagged
      value nothing depends on it but whether ``float()`` takes it (an ``xsd:double``
      literal) and whether it is a language tag (an ``@language`` value); as an ``@id`` or
      node reference it is relative (refused, whatever it is); as a type, datatype or
      ``@vocab``-typed value it is no term, so it becomes ``@vocab`` + word, clean or not by
      the ``@vocab`` alone (the word holds no character that could make it unwritable, and
      no ``#`` or ``/`` to complete the issuer-dependent namespace);
    * ``scheme:head:tail`` with a word as tail: the class keeps ``scheme:head:`` (so the
      prefix mapping it may expand through, and where the first colon falls), and the tail
      can change neither whether the result is absolute nor writable nor issuer-dependent.

    Anything else (spaces, slashes, ``@``, ``#``, unicode, one colon, three colons) must be
    equal, so "if in doubt, the value itself" holds by construction.

    ``pairs`` remembers the objects found the same (each pair pinned) with the number of
    term names known then: a credential's parts compared on their own share their objects
    with the credential compared inside the presentation. A new term name could make a
    class string a term, so a pair counts only while no term was added since.
    """
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t is str:
        return a == b or _same_class(a, b, terms)
    if t is dict:
        if len(a) != len(b):
            return False
        if pairs is not None:
            known = pairs.get((id(a), id(b)))
            if known is not None and known[2] == len(terms):
                return True
        # leaves compared inline: most of a credential is strings equal in every copy
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            if ka != kb:
                return False
            if va is vb:
                continue
            tv = type(va)
            if tv is not type(vb):
                return False
            if tv is str:
                if va != vb and (ka == "@context" or not _same_class(va, vb, terms)):
                    return False
            elif tv is dict or tv is list:
                if not (same_json(va, vb) if ka == "@context" else _same_shape(va, vb, terms, pairs)):
                    return False
            elif not ((tv is int or tv is float or tv is bool) and va == vb):
                return False
        if pairs is not None:
            pairs[id(a), id(b)] = (a, b, len(terms))
        return True
    if t is list:
        return len(a) == len(b) and all(_same_shape(x, y, terms, pairs) for x, y in zip(a, b, strict=True))
    return (t is int or t is float or t is bool or a is None) and a == b


def _same_class(a: str, b: str, terms: set[str]) -> bool:
    """Two different strings one decision cannot tell apart (see :func:`_same_shape`)."""
    if a in terms or b in terms:
        return False
    ca = _string_class(a)
    return ca is not None and ca == _string_class(b)


def _expand_by_shape(shapes: dict[tuple[Any, ...], list[tuple[dict[str, Any], Any, _Ctx]]],
                     ctx: _Ctx, prop: str | None, element: dict[str, Any], inside_list: bool,
                     pt: _Term | None) -> Any:
    """:func:`_expand` for the decision only: an object of the shape of one expanded before
    in this verification, under the same context, gets that expansion (see :func:`_same_shape`)."""
    uni = ctx.uni
    key = (id(ctx), prop, inside_list, *element)  # the keys too: only objects of one key set compared
    seen = shapes.get(key)
    if seen is not None and not uni.odd_vocab:
        pairs = _SAME_PAIRS.get()
        for rep, result, _ctx in seen:
            if _same_shape(rep, element, uni.all_terms, pairs):
                return dict(result) if type(result) is dict else list(result) if type(result) is list else result
    known = len(uni.all_terms)
    result = _expand_uncached(ctx, prop, element, inside_list, pt)
    # remembered only if expanding met no new term name and no odd @vocab (the set only
    # grows): every term this object's expansion looked up is then known to _same_shape
    if not uni.odd_vocab and len(uni.all_terms) == known:
        if seen is None:
            shapes[key] = [(element, result, ctx)]
        elif len(seen) < _SHAPES_PER_KEY:
            seen.append((element, result, ctx))
    return result


def _expand_uncached(ctx: _Ctx, prop: str | None, element: Any, inside_list: bool, pt: _Term | None) -> Any:
    if isinstance(element, list):
        return _expand_array(ctx, prop, element, inside_list, pt)
    if not isinstance(element, dict):
        if prop is None:
            return _expand_value(ctx, prop, element) if inside_list else None  # type: ignore[arg-type]
        if pt is None:
            pt = ctx.terms.get(prop) or ctx.term(prop)
        if not inside_list and pt.iri == "@graph":
            return None
        return _expand_value(ctx, prop, element, pt)

    # -- a JSON object --------------------------------------------------------------------------
    if prop is not None:
        if pt is None:
            pt = ctx.terms.get(prop) or ctx.term(prop)
        expanded_ap = pt.iri
        scoped = pt.scoped
    else:
        expanded_ap = None
        scoped = None
    # revert a type-scoped context unless this is a value object or a bare node reference
    prev = ctx.prev
    if prev is not None:
        must_revert = True
        if len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                e = (ctx.terms.get(key) or ctx.term(key)).iri
                if e == "@value":
                    must_revert = False
                    break
                if e == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert:
            ctx = prev
    if scoped is not None:
        ctx = ctx.apply(scoped, True, True)
    # _prepare_nested_context: embedded context, then type-scoped contexts
    if "@context" in element:
        ctx = ctx.uni.embedded(ctx, element["@context"])
    type_scoped = ctx
    type_key = None
    keys = sorted(element)
    for key in keys:
        if key not in ctx.type_keys:
            continue
        if type_key is not None:
            raise _NotHandled("two keys for @type")
        type_key = key
        types = element[key]
        if isinstance(types, str):
            types = [types]
        elif isinstance(types, list):
            types = sorted(t for t in types if isinstance(t, str))
        else:
            continue
        mappings = type_scoped.mappings
        for type_ in types:
            mapping = mappings.get(type_)
            if mapping is not None:
                sc = mapping.get("@context")
                if sc is not None and sc is not False:
                    ctx = ctx.apply(sc, False, False)

    rval = _expand_object(ctx, prop, expanded_ap, element, keys, inside_list, type_key, type_scoped)
    count = len(rval)

    if "@value" in rval:
        if "@type" in rval and ("@language" in rval or "@direction" in rval):
            raise _NotHandled("invalid value object")
        if count - 1 - ("@type" in rval) - ("@language" in rval) != 0:
            raise _NotHandled("invalid value object")
        types_: list[Any] = []
        if "@type" in rval:
            if type_key is not None and isinstance(element[type_key], list):
                raise _NotHandled("invalid typed value")
            tv = rval["@type"]
            types_ = tv if isinstance(tv, list) else [tv]
        value = rval["@value"]
        if "@json" in types_ and len(types_) == 1:
            pass
        elif value is None:
            return None
        elif "@language" in rval:
            if not isinstance(value, str):
                raise _NotHandled("invalid language-tagged value")
        elif any(not isinstance(t, str) or _ABSOLUTE.match(t) is None or t.startswith("_:") for t in types_):
            raise _NotHandled("invalid typed value")
    elif "@type" in rval:
        tv = rval["@type"]
        if not isinstance(tv, list):
            rval["@type"] = [tv]
    elif "@set" in rval or "@list" in rval:
        if count > 1:
            raise _NotHandled("invalid set or list object")
        if "@set" in rval:
            rval = rval["@set"]
            count = len(rval)
    elif count == 1 and "@language" in rval:
        return None

    if (
        not inside_list
        and (prop is None or expanded_ap == "@graph")
        and isinstance(rval, dict)
        and (count == 0 or "@value" in rval or "@list" in rval or (count == 1 and "@id" in rval))
    ):
        return None
    return rval


_SIMPLE_KEYWORDS = frozenset({"@id", "@type", "@value", "@language", "@list", "@set"})
_NOT_ARRAY = frozenset({"@index", "@id", "@type", "@value", "@language"})


def _expand_object(
    ctx: _Ctx,
    prop: str | None,
    expanded_ap: str | None,
    element: dict[str, Any],
    keys: list[str],
    inside_list: bool,
    type_key: str | None,
    type_scoped: _Ctx,
) -> dict[str, Any]:
    """pyld ``_expand_object`` for the subset (anything else raises :class:`_NotHandled`)."""
    rval: dict[str, Any] = {}
    is_json_type = False
    if type_key is not None:
        tv = element[type_key]
        t0 = tv[0] if (tv and isinstance(tv, list)) else tv
        is_json_type = isinstance(t0, str) and ctx.vocab_iri(t0) == "@json"
    unexpanded_value: Any = None
    terms = ctx.terms
    for key in keys:
        if key == "@context":
            continue
        t = terms.get(key) or ctx.term(key)
        ep = t.iri
        value = element[key]
        if t.pred is not None and t.bad is None and t.scoped is None and not t.is_graph_container:
            # the common case: a plain property of this context, with no scoped context
            if t.coerce == "@json":
                ev: Any = {"@type": "@json", "@value": value}
            else:
                vt = type(value)
                if vt is str:
                    m = t.smode
                    if m == _SM_PLAIN:
                        ev = {"@value": value}
                    elif m == _SM_TYPED:
                        ev = {"@type": t.sarg, "@value": value}
                    else:
                        ev = _expand_value(ctx, key, value, t)
                elif vt is list:
                    ev = _expand_array(ctx, key, value, False, t)
                else:
                    ev = _expand(ctx, key, value, False, t)
                    if ev is None:
                        continue
            if t.is_list_container and not (type(ev) is dict and "@list" in ev):
                ev = {"@list": ev if type(ev) is list else [ev]}
            cur = rval.get(ep)  # type: ignore[arg-type]
            if cur is None:
                rval[ep] = ev if type(ev) is list else [ev]  # type: ignore[index]
            else:
                _add(rval, ep, ev, True)  # type: ignore[arg-type]
            continue
        if ep in _KEYWORDS:
            if ep not in _SIMPLE_KEYWORDS:
                raise _NotHandled(f"keyword {ep}")
            if expanded_ap == "@reverse":
                raise _NotHandled("keyword in @reverse")
            if ep in rval and ep != "@type":
                raise _NotHandled("colliding keywords")
            if ep == "@id":
                if not isinstance(value, str):
                    raise _NotHandled("invalid @id value")
                iri = ctx.id_iri(value)
                if iri is None or iri in _KEYWORDS:
                    raise _NotHandled("keyword-like @id")
                rval["@id"] = iri
                continue
            if ep == "@type":
                if isinstance(value, str):
                    vals = [value]
                elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                    vals = value
                else:
                    raise _NotHandled("invalid type value")
                if "@type" in rval:
                    raise _NotHandled("two keys for @type")
                # add_value(propertyIsArray=False): one value stays single, several make a list
                vocab_iri = type_scoped.vocab_iri
                if len(vals) == 1:
                    rval["@type"] = vocab_iri(vals[0])
                elif vals:
                    rval["@type"] = [vocab_iri(v) for v in vals]
                continue
            if ep == "@value":
                unexpanded_value = value
                if not is_json_type and isinstance(value, list | dict):
                    raise _NotHandled("invalid value object value")
                rval["@value"] = value
                continue
            if ep == "@language":
                if value is None:
                    continue
                if not isinstance(value, str):
                    raise _NotHandled("invalid language-tagged string")
                rval["@language"] = value.lower()
                continue
            # @list / @set objects: fall through to the generic path, like pyld
        elif t.bad is not None:
            raise _NotHandled(t.bad)
        elif ep is None or t.pred is None:
            raise _NotHandled("undefined term")

        # the general path (scoped contexts, @graph containers, @list / @set objects)
        term_ctx = ctx
        if t.scoped is not None:
            term_ctx = ctx.apply(t.scoped, True, True)
        if ep == "@list" or ep == "@set":
            is_list = ep == "@list"
            next_ap = prop
            if is_list and expanded_ap == "@graph":
                next_ap = None
            ev = _expand(term_ctx, next_ap, value, is_list)
        elif t.coerce == "@json":
            ev = {"@type": "@json", "@value": value}
        else:
            ev = _expand(term_ctx, key, value, False)
        if ev is None:
            continue
        if t.is_list_container and ep != "@list" and not (isinstance(ev, dict) and "@list" in ev):
            ev = {"@list": ev if isinstance(ev, list) else [ev]}
        if t.is_graph_container:
            ev = [{"@graph": [v]} for v in (ev if isinstance(ev, list) else [ev])]
        if ep != "@list" and ep != "@set" and (term_ctx.terms.get(key) or term_ctx.term(key)).reverse:
            raise _NotHandled("reverse property")
        _add(rval, ep, ev, ep not in _NOT_ARRAY)

    if (
        "@value" in rval
        and not rval.get("@type") == "@json"
        and isinstance(unexpanded_value, dict | list)
    ):
        raise _NotHandled("invalid value object value")
    return rval


def expand(document: Mapping[str, Any], loader: Any) -> list[Any]:
    """The expanded form pyld's ``expand`` returns (for the tests; raises :class:`_NotHandled`)."""
    if not isinstance(document, dict):
        raise _NotHandled("top level is not a JSON object")
    uni = _universe(loader)
    out = _expand(uni.initial, None, document, False)
    if isinstance(out, dict) and "@graph" in out and len(out) == 1:
        raise _NotHandled("top-level @graph")
    if out is None:
        return []
    return out if isinstance(out, list) else [out]


# --------------------------------------------------------------------------------------------
# Node map and toRdf (mirror of pyld _create_node_map / _graph_to_rdf / _list_to_rdf)
# --------------------------------------------------------------------------------------------


class _Issuer:
    """pyld ``IdentifierIssuer('_:b')``."""

    __slots__ = ("counter", "existing")

    def __init__(self) -> None:
        self.counter = 0
        self.existing: dict[str, str] = {}

    def get_id(self, old: str | None = None) -> str:
        if old:
            hit = self.existing.get(old)
            if hit is not None:
                return hit
        new = f"_:b{self.counter}"
        self.counter += 1
        if old is not None:
            self.existing[old] = new
        return new


def _same(v1: Any, v2: Any) -> bool:
    """pyld ``JsonLdProcessor.compare_values``."""
    if v1 is v2:
        return True
    o1 = isinstance(v1, dict)
    o2 = isinstance(v2, dict)
    if not o1 and not o2:
        return bool(v1 == v2 and (type(v1) is type(v2) if isinstance(v1, bool) or isinstance(v2, bool) else True))
    if o1 and o2:
        if "@value" in v1 and "@value" in v2:
            a, b = v1["@value"], v2["@value"]
            return (
                v1.get("@type") == v2.get("@type")
                and v1.get("@language") == v2.get("@language")
                and v1.get("@index") == v2.get("@index")
                and a == b
                and (type(a) is type(b) if isinstance(a, bool) or isinstance(b, bool) else True)
            )
        id1 = v1.get("@id")
        return id1 == v2.get("@id") if id1 is not None else False
    return False


def _add_unique(node: dict[str, list[Any]], prop: str, value: Any) -> None:
    values = node.get(prop)
    if values is None:
        node[prop] = [value]
        return
    for v in values:
        if _same(v, value):
            return
    values.append(value)


def _node_map(
    element: Any,
    graphs: dict[str, dict[str, dict[str, list[Any]]]],
    nodes: dict[str, dict[str, list[Any]]],
    issuer: _Issuer,
    subject_node: dict[str, list[Any]] | None,
    prop: str | None,
    list_: list[Any] | None,
) -> None:
    """pyld ``_create_node_map`` (no ``@reverse`` / ``@included`` / ``@index``).

    ``nodes`` is the node map of the current graph (``graphs[graph]``) and ``subject_node``
    the entry of the active subject in it (pyld looks both up by name on every call).
    """
    if type(element) is list:
        for e in element:
            _node_map(e, graphs, nodes, issuer, subject_node, prop, list_)
        return
    if "@value" in element:
        t = element.get("@type")
        if isinstance(t, str) and t.startswith("_:"):
            raise _NotHandled("blank node datatype")
        if list_ is not None:
            list_.append(element)
        elif subject_node is not None:
            _add_unique(subject_node, prop, element)  # type: ignore[arg-type]
        return
    types = element.get("@type")
    if types is not None:
        for t in types:
            if t.startswith("_:"):
                raise _NotHandled("blank node type")
    if "@list" in element:
        items: list[Any] = []
        _node_map(element["@list"], graphs, nodes, issuer, subject_node, prop, items)
        o = {"@list": items}
        if list_ is not None:
            list_.append(o)
        elif subject_node is not None:
            values = subject_node.get(prop)  # type: ignore[arg-type]
            if values is None:
                subject_node[prop] = [o]  # type: ignore[index]
            else:
                values.append(o)
        return
    id_ = element.get("@id")
    if id_ is None or id_.startswith("_:"):
        id_ = issuer.get_id(id_)
    elif not _clean_iri(id_):
        raise _NotHandled("relative or unwritable @id")
    node = nodes.get(id_)
    if node is None:
        node = nodes[id_] = {}
    if prop is not None:
        ref = {"@id": id_}
        if list_ is not None:
            list_.append(ref)
        elif subject_node is not None:
            _add_unique(subject_node, prop, ref)
    for p in sorted(element):
        if p == "@id":
            continue
        objects = element[p]
        if p == "@graph":
            inner = graphs.get(id_)
            if inner is None:
                inner = graphs[id_] = {}
            _node_map(objects, graphs, inner, issuer, None, None, None)
            continue
        if p == "@type":
            for o in objects:
                if not _clean_vocab_iri(o):
                    raise _NotHandled("relative, unwritable or issuer-dependent type")
                _add_unique(node, "@type", o)
            continue
        if p[:1] == "@":
            raise _NotHandled(f"keyword {p} in a node")
        if not objects:
            if p not in node:
                node[p] = []
            continue
        for o in objects:
            if "@value" in o:
                # inline: a value object under this node
                t = o.get("@type")
                if isinstance(t, str) and t.startswith("_:"):
                    raise _NotHandled("blank node datatype")
                values = node.get(p)
                if values is None:
                    node[p] = [o]
                else:
                    _add_unique(node, p, o)
            elif len(o) == 1 and "@id" in o:
                # inline: a node reference
                ref_id = o["@id"]
                if ref_id is None:  # a keyword-like @id-typed value: pyld decides
                    raise _NotHandled("keyword-like @id")
                if ref_id.startswith("_:"):
                    ref_id = issuer.get_id(ref_id)
                elif not _clean_iri(ref_id):
                    raise _NotHandled("relative or unwritable @id")
                if ref_id not in nodes:
                    nodes[ref_id] = {}
                values = node.get(p)
                if values is None:
                    node[p] = [{"@id": ref_id}]
                else:
                    _add_unique(node, p, {"@id": ref_id})
            else:
                _node_map(o, graphs, nodes, issuer, node, p, None)


_needs_escape = NEEDS_ESCAPE.search

#: datatype IRI -> '^^<iri>' for string values that need no conversion (filled by _literal)
_DATATYPE_SUFFIX: dict[str, str] = {}


def _literal(item: dict[str, Any], proc: Any) -> str:
    """pyld ``_object_to_rdf`` for a value object, written as a canonical N-Quads literal."""
    value = item["@value"]
    datatype = item.get("@type")
    if datatype is not None and datatype != "@json" and not _clean_vocab_iri(datatype):
        raise _NotHandled("relative, unwritable or issuer-dependent datatype")
    if isinstance(value, str) and datatype != "@json" and datatype != XSD_DOUBLE:
        if "@language" in item:
            lang = item["@language"]
            if not lang or not _LANGTAG.match(lang) or datatype is not None:
                raise _NotHandled("odd language tag")
            return f'"{value if _needs_escape(value) is None else value.translate(_ESCAPES)}"@{lang}'
        if datatype is None or datatype == XSD_STRING:
            return f'"{value if _needs_escape(value) is None else value.translate(_ESCAPES)}"'
        if datatype == RDF_LANGSTRING:
            raise _NotHandled("rdf:langString without a language")
        if len(_DATATYPE_SUFFIX) < _TERM_CACHE_LIMIT:
            _DATATYPE_SUFFIX[datatype] = f"^^<{datatype}>"  # clean, not string/langString/double/json
        return f'"{value if _needs_escape(value) is None else value.translate(_ESCAPES)}"^^<{datatype}>'
    # numbers, booleans, xsd:double, @json: pyld's own conversion
    obj = proc._object_to_rdf(dict(item), None, [], {"processingMode": "json-ld-1.1"})
    if obj is None or obj.get("type") != "literal" or not isinstance(obj.get("value"), str):
        raise _NotHandled("odd literal")
    dt = obj.get("datatype") or XSD_STRING
    if obj.get("language") or dt == RDF_LANGSTRING or not _clean_iri(dt):
        raise _NotHandled("odd literal")
    lexical = f'"{escape_literal(obj["value"])}"'
    return lexical if dt == XSD_STRING else f"{lexical}^^<{dt}>"


def _object(item: Any, issuer: _Issuer, rows: list[Row], g: str, proc: Any) -> str:
    if "@value" in item:
        return _literal(item, proc)
    if "@list" in item:
        return _list(item["@list"], issuer, rows, g, proc)
    id_ = item["@id"]
    return id_ if id_[:2] == "_:" else f"<{id_}>"


def _list(items: list[Any], issuer: _Issuer, rows: list[Row], g: str, proc: Any) -> str:
    """pyld ``_list_to_rdf``: labels issued head first, then one per further item."""
    if not items:
        return RDF_NIL_REF
    *init, last = items
    head = subject = issuer.get_id()
    for item in init:
        obj = _object(item, issuer, rows, g, proc)
        nxt = issuer.get_id()
        rows.append((subject, RDF_FIRST_REF, obj, g))
        rows.append((subject, RDF_REST_REF, nxt, g))
        subject = nxt
    obj = _object(last, issuer, rows, g, proc)
    rows.append((subject, RDF_FIRST_REF, obj, g))
    rows.append((subject, RDF_REST_REF, RDF_NIL_REF, g))
    return head


def _rows_of(graphs: dict[str, dict[str, dict[str, list[Any]]]], issuer: _Issuer, proc: Any) -> list[Row]:
    """pyld ``_graph_to_rdf`` for every graph, in pyld's order (graphs, subjects, properties sorted)."""
    rows: list[Row] = []
    append = rows.append
    for graph_name in sorted(graphs):
        g = "" if graph_name == "@default" else (graph_name if graph_name[:2] == "_:" else f"<{graph_name}>")
        nodes = graphs[graph_name]
        for id_ in sorted(nodes):
            node = nodes[id_]
            if not node:
                continue
            s = id_ if id_[:2] == "_:" else f"<{id_}>"
            for p in sorted(node):
                if p == "@type":
                    for t in node[p]:
                        append((s, RDF_TYPE_REF, t if t[:2] == "_:" else f"<{t}>", g))
                    continue
                pred = f"<{p}>"
                for item in node[p]:
                    if "@value" in item:
                        value = item["@value"]
                        if type(value) is str:
                            n = len(item)
                            if n == 1 or n == 2:
                                suffix = "" if n == 1 else _DATATYPE_SUFFIX.get(item.get("@type"))
                                if suffix is not None:
                                    if _needs_escape(value) is not None:
                                        value = value.translate(_ESCAPES)
                                    append((s, pred, f'"{value}"{suffix}', g))
                                    continue
                        append((s, pred, _literal(item, proc), g))
                    elif "@id" in item:
                        o = item["@id"]
                        append((s, pred, o if o[:2] == "_:" else f"<{o}>", g))
                    else:
                        append((s, pred, _object(item, issuer, rows, g, proc), g))
    return rows


def to_rows(document: Mapping[str, Any], loader: Any) -> list[Row]:
    """The reference path's rows for ``document`` (raises :class:`_NotHandled` to fall back)."""
    if not ENABLED:
        raise _NotHandled(f"pyld {PYLD_VERSION} is not a version the fast path was checked against")
    expanded = expand(document, loader)
    issuer = _Issuer()
    graphs: dict[str, dict[str, dict[str, list[Any]]]] = {"@default": {}}
    _node_map(expanded, graphs, graphs["@default"], issuer, None, None, None)
    return _rows_of(graphs, issuer, _universe(loader).proc)


# --------------------------------------------------------------------------------------------
# Safe mode without RDF (for documents whose proofs do not canonicalize to RDF)
# --------------------------------------------------------------------------------------------


def check(document: Mapping[str, Any], loader: Any) -> None:
    """Return if :func:`to_rows` would return rows for ``document``, else raise :class:`_NotHandled`.

    Why: the terms check (JSON-LD safe mode) of a document secured with a JCS suite, JOSE or
    SD-JWT needs only the *decision* of the RDF conversion, never its rows. This is that
    decision from the expansion alone: :func:`expand` (which already refuses every dropped,
    issuer-dependent or keyword-valued term and everything outside the subset), then one walk
    over the expanded form that refuses everything :func:`_node_map` and :func:`_rows_of`
    would refuse (a relative or unwritable ``@id`` or node reference, a blank-node,
    relative, unwritable or issuer-dependent type or datatype, a keyword left in a node, an
    odd language tag or literal), without building the node map, sorting or writing a row.

    The walk is at least as strict as the node map: it looks at every value object,
    including the duplicates the node map would merge and the free-floating ones it would
    drop, so it never accepts what :func:`to_rows` refuses. When it raises, the caller runs
    the reference path, which decides (and words the error).
    """
    if not ENABLED:
        raise _NotHandled(f"pyld {PYLD_VERSION} is not a version the fast path was checked against")
    uni = _universe(loader)
    known = len(uni.all_terms)
    key = None if uni.odd_vocab else _fingerprint(document, uni)
    if key is not None and key in uni.accepted:
        STATS["check-memo"] += 1
        return
    _decide(document, loader)
    # remembered only if deciding met no new term name and no odd @vocab (see _fingerprint)
    if key is not None and not uni.odd_vocab and len(uni.all_terms) == known:
        accepted = uni.accepted
        if len(accepted) >= _ACCEPTED_LIMIT:
            accepted.clear()  # bounded: a service meeting ever new shapes starts over
        accepted[key] = True


def _decide(document: Mapping[str, Any], loader: Any) -> None:
    """:func:`check`'s decision worked out on the expansion (no process-wide memo)."""
    memos = DECISION_MEMOS.get()
    if memos is None:
        _check_expanded(expand(document, loader), _universe(loader).proc)
        return
    # decision-only expansions (shared by shape) never reach EXPAND_MEMO, which to_rows reads
    shape_token, expand_token = SHAPE_MEMO.set(memos[0]), EXPAND_MEMO.set(memos[1])
    pairs_token = _SAME_PAIRS.set(memos[2])
    try:
        _check_expanded(expand(document, loader), _universe(loader).proc)
    finally:
        _SAME_PAIRS.reset(pairs_token)
        EXPAND_MEMO.reset(expand_token)
        SHAPE_MEMO.reset(shape_token)


# --- the process-wide decision memo ---------------------------------------------------------

#: Bounds on a universe's accepted fingerprints and on its string tokens (both fed by documents).
_ACCEPTED_LIMIT = 1024
_TOKENS_LIMIT = 16384

# Markers opening an object's and an array's fingerprint (compared by identity).
_FP_DICT = object()
_FP_LIST = object()


class _Unprintable(Exception):  # a signal: a value that is not plain JSON gets no fingerprint
    pass


def _fingerprint(document: Any, uni: _Universe) -> tuple[Any, ...] | None:
    """Everything :func:`check`'s decision on ``document`` depends on, as one hashable value
    (None for what is not plain JSON): the decision is a pure function of it and the universe.

    Why: the contexts a universe holds are fixed bytes (pinned, or given once to its loader),
    so two documents the shape rule of :func:`_same_shape` finds the same get the same
    decision, in any verification. The fingerprint is that rule written out: every key in
    order, every number, boolean and null with its type, every ``@context`` value whole, and
    every string as itself, except strings of the two families (:func:`_string_class`) that
    are no term name of any active context so far, which become their class. Equal
    fingerprints therefore mean :func:`_same_shape` holds. The caller remembers a decision only
    when working it out met no new term name and no odd ``@vocab`` (as the shape memo does):
    every term the document's expansion looked up was then known when the fingerprint was
    made, so a document of the same fingerprint expands through the same terms and contexts.
    """
    if type(document) is not dict:
        return None
    terms = uni.all_terms
    tokens = uni.tokens
    if uni.tokens_at != len(terms):  # a new term name: a token may now have to be the string itself
        tokens = uni.tokens = {}
        uni.tokens_at = len(terms)
    try:
        return _print(document, terms, tokens, False, PRINT_MEMO.get())
    except (_Unprintable, RecursionError):
        return None


def _token(value: str, terms: set[str], tokens: dict[str, Any]) -> Any:
    """A string's part of a fingerprint: its class (a tuple), or the string itself."""
    if value in terms:
        tok: Any = value
    else:
        cls = _string_class(value)
        tok = value if cls is None else cls
    if len(tokens) >= _TOKENS_LIMIT:
        tokens.clear()  # bounded: ids and proof values never repeat
    tokens[value] = tok
    return tok


def _print(value: Any, terms: set[str], tokens: dict[str, Any], exact: bool,
           seen: dict[int, tuple[tuple[Any, ...], Any, set[str], int]] | None) -> tuple[Any, ...]:
    """The fingerprint of an object or array (``exact``: strings as themselves, for ``@context``).

    One element per key and per value, so the flat form is unambiguous: an object is
    ``(_FP_DICT, key, value, key, value, ...)``, an array ``(_FP_LIST, value, ...)``, a number
    or boolean ``(type, value)`` (``1``, ``1.0`` and ``True`` differ), a string a ``str`` or a
    class tuple, a nested object or array its own tuple. ``seen`` (inside one verification,
    :data:`PRINT_MEMO`) keeps the fingerprints of nested objects and arrays by identity, each
    pinned and valid for the term set (one universe's) and the number of term names it was made
    with: a presentation's credentials are printed inside the presentation and then, unchanged,
    for their own checks. Leaves inline: this walk is most of what a memo hit costs.
    """
    out: list[Any]
    if type(value) is dict:
        out = [_FP_DICT]
        append = out.append
        for k, v in value.items():
            if type(k) is not str:
                raise _Unprintable
            append(k)
            tv = type(v)
            if tv is str:
                if exact or k == "@context":
                    append(v)
                else:
                    tok = tokens.get(v)
                    append(tok if tok is not None else _token(v, terms, tokens))
            elif tv is dict or tv is list:
                if exact or k == "@context":
                    append(_print(v, terms, tokens, True, None))
                elif tv is list and len(v) == 1 and type(v[0]) is str:  # a type array: what _print makes
                    tok = tokens.get(v[0])
                    append((_FP_LIST, tok if tok is not None else _token(v[0], terms, tokens)))
                else:
                    append(_print_nested(v, terms, tokens, seen))
            elif tv is int or tv is float or tv is bool:
                append((tv, v))
            elif v is None:
                append(None)
            else:
                raise _Unprintable
        return tuple(out)
    out = [_FP_LIST]
    append = out.append
    for v in value:
        tv = type(v)
        if tv is str:
            if exact:
                append(v)
            else:
                tok = tokens.get(v)
                append(tok if tok is not None else _token(v, terms, tokens))
        elif tv is dict or tv is list:
            append(_print(v, terms, tokens, True, None) if exact else _print_nested(v, terms, tokens, seen))
        elif tv is int or tv is float or tv is bool:
            append((tv, v))
        elif v is None:
            append(None)
        else:
            raise _Unprintable
    return tuple(out)


def _print_nested(value: Any, terms: set[str], tokens: dict[str, Any],
                  seen: dict[int, tuple[tuple[Any, ...], Any, set[str], int]] | None) -> tuple[Any, ...]:
    """:func:`_print` of a nested object or array, through ``seen`` when there is one."""
    if seen is None:
        return _print(value, terms, tokens, False, None)
    hit = seen.get(id(value))
    if hit is not None and hit[1] is value and hit[2] is terms and hit[3] == len(terms):
        return hit[0]
    fp = _print(value, terms, tokens, False, seen)
    seen[id(value)] = (fp, value, terms, len(terms))
    return fp


#: Within :func:`skillcred._internal.jsonld.rows_memo`: :func:`_fingerprint`'s nested
#: fingerprints by identity (see :func:`_print`).
PRINT_MEMO: ContextVar[dict[int, tuple[tuple[Any, ...], Any, set[str], int]] | None] = ContextVar(
    "skillcred_print_memo", default=None
)


#: Within :func:`skillcred._internal.jsonld.rows_memo`: the memos :func:`check` uses instead of
#: the RDF path's (``SHAPE_MEMO``'s table, an expansion memo of its own, ``_SAME_PAIRS``): an expansion
#: shared by shape stands for the decision, never for the rows.
DECISION_MEMOS: ContextVar[tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]] | None] = ContextVar(
    "skillcred_decision_memos", default=None
)


#: Within :func:`skillcred._internal.jsonld.rows_memo`: the property-value arrays of expanded
#: nodes :func:`check` has already walked and accepted, by identity (each pinned here, so an
#: identity is never reused). A presentation's credentials are expanded into the
#: presentation and then again, from the expansion memo (``EXPAND_MEMO``), for their own
#: checks: the arrays below the top level are the very same objects, which no expansion
#: changes once built (see ``_expand``), so their verdict stands and they are not walked twice.
CHECK_MEMO: ContextVar[dict[int, list[Any]] | None] = ContextVar("skillcred_check_memo", default=None)


def _check_value(item: dict[str, Any], proc: Any) -> None:
    """Refuse a value object :func:`_node_map` or :func:`_literal` refuses."""
    datatype = item.get("@type")
    if isinstance(datatype, str) and datatype.startswith("_:"):
        raise _NotHandled("blank node datatype")
    if type(item["@value"]) is str:
        n = len(item)
        if n == 1:
            return  # a plain string: _literal writes it, whatever it holds
        if n == 2 and datatype in _DATATYPE_SUFFIX:
            return  # a datatype _literal has already found clean (and not string/double/json)
    _literal(item, proc)  # raises _NotHandled for what the reference path refuses


def _check_expanded(expanded: Any, proc: Any) -> None:
    """Walk pyld's expanded form; raise :class:`_NotHandled` where :func:`_node_map` / :func:`_rows_of` would."""
    stack: list[Any] = [expanded]
    pop = stack.pop
    push = stack.append
    extend = stack.extend
    accepted = CHECK_MEMO.get()
    walked: list[list[Any]] = []  # recorded as accepted only once the whole walk passed
    # an array met twice in this walk (a presentation's credentials of one shape share their
    # expansion, see _expand_by_shape) is walked once: if it fails, the whole walk fails
    this_walk: set[int] = set()
    while stack:
        element = pop()
        if type(element) is list:
            extend(element)
            continue
        if type(element) is not dict:
            raise _NotHandled("not an expanded JSON-LD object")  # never: expand makes objects
        if "@value" in element:
            _check_value(element, proc)
            continue
        types = element.get("@type")
        if types is not None:
            if type(types) is not list:
                raise _NotHandled("node types not an array")  # never: expand makes an array
            for t in types:
                if t.startswith("_:"):
                    raise _NotHandled("blank node type")
                if not _clean_vocab_iri(t):
                    raise _NotHandled("relative, unwritable or issuer-dependent type")
        if "@list" in element:
            extend(element["@list"])
            continue
        id_ = element.get("@id")
        if id_ is not None and id_[:2] != "_:" and not _clean_iri(id_):
            raise _NotHandled("relative or unwritable @id")
        for p, objects in element.items():
            if p[:1] == "@":
                if p == "@graph":
                    extend(objects)
                elif p != "@id" and p != "@type":
                    raise _NotHandled(f"keyword {p} in a node")
                continue
            if accepted is not None:
                if id(objects) in accepted or id(objects) in this_walk:
                    continue
                this_walk.add(id(objects))
                walked.append(objects)
            for o in objects:
                if type(o) is dict:
                    if "@value" in o:
                        if len(o) != 1 or type(o["@value"]) is not str:  # else a plain string: fine
                            _check_value(o, proc)
                        continue
                    if len(o) == 1 and "@id" in o:  # a node reference
                        ref_id = o["@id"]
                        if ref_id[:2] != "_:" and not _clean_iri(ref_id):
                            raise _NotHandled("relative or unwritable @id")
                        continue
                push(o)  # a node or a list object (anything else is refused above)
    if accepted is not None:
        for objects in walked:
            accepted[id(objects)] = objects

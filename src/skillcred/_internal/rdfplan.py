"""Row plans: the RDF of many documents of one shape, worked out once per shape.

Why: an institute's credentials are one shape (the same keys, contexts, types and numbers) with
different ids, names, dates and proof values. Expanding each one, building its node map and
writing its rows (:func:`skillcred._internal.fastld.to_rows`) repeats the same decisions for
every credential; only the strings differ. A *plan* is those rows worked out once for a shape,
with the strings as slots, so a further document of the shape costs one walk over its JSON
and one substitution per row.

What a plan gives is not :func:`~skillcred._internal.fastld.to_rows`'s list (the rows come in
another order, with other blank node labels): it is the same *dataset*, so its RDFC-1.0
canonical form is the same, byte for byte, whenever every blank node gets a unique
first-degree hash (:func:`skillcred._internal.rdfc.canonicalize_rows_unique`, the common
case). Otherwise, and for anything a plan cannot prove, the caller runs the exact path.

How a plan is made (:func:`_build`), from the first document of a shape, the *representative*:

* the shape (:func:`_shape`): every key in order; every number, boolean and null; every
  ``@context`` value whole; the strings of ``type`` / ``@type`` / ``@language`` / ... whole; every
  other string is a *slot*;
* probe 1: the representative with each slot replaced by a marker of the same kind (a word for
  a word, ``scheme:head:`` + word for a ``scheme:head:tail``, the string + word otherwise), run
  through the exact path; where each marker lands classifies its slot:

  - exactly a literal's lexical form (``"marker"``, ``"marker"@lang``, ``"marker"^^<dt>``
    but not ``xsd:double`` or ``rdf:JSON``, whose lexical forms are computed): a *literal slot*,
    any string goes (a string under such a term is copied into its value object unread);
  - inside one IRI, for a word or a ``scheme:head:tail``: an *IRI slot*; a later string must be
    of the same kind (same ``scheme:head:``), no term name of any active context, and give a
    clean IRI: then the exact path expands it through the same prefix (or ``@vocab``) and
    only the word differs (the reasoning of :func:`skillcred._internal.fastld._same_shape`);
  - nowhere, or inside an IRI for any other string: *pinned*, a later document must hold the
    representative's very string (a blank node id, an issuer URL);
  - anything else (two markers in one term, a computed literal): no plan for this shape;

* probe 2: the representative with only the literal and IRI slots replaced; its rows, with each
  marked term turned into a slot reference, are the plan;
* the check: the plan filled with the representative's own strings must canonicalize to the
  very N-Quads of the exact path; else no plan.

Why a later document of the shape gets the dataset of the exact path: every decision the
expansion, the node map and the rows take depends on the shape, except (1) the strings copied
into literals, (2) the IRIs expanded from slot strings, (3) node identity (two subjects with
one IRI are merged) and duplicate values (dropped). (1) and (2) are the slot substitutions
above; (3) does not change the dataset: merged nodes and dropped duplicates are exactly
identical rows, and RDFC-1.0 works on the set of rows (the canonicalizer de-duplicates).
The refusals the exact path makes on a slot string (a relative, unwritable or keyword IRI) are
checked on every substitution, and any doubt means "no plan": the exact path runs, which is
never wrong, only slower.

Plans are kept per :class:`~skillcred.loader.OfflineLoader` (its processed contexts), a bounded
number of shapes, least recently used first out.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from skillcred._internal import fastld, rdfc
from skillcred._internal.nquads import escape_literal

__all__ = ["PLAN_LIMIT", "STATS", "clear_plans", "plan_rows"]

#: Shapes remembered per loader (each with up to :data:`_PLANS_PER_SHAPE` plans).
PLAN_LIMIT = 256
_PLANS_PER_SHAPE = 4
#: Failed builds of one shape before it is given up (a representative the exact path refuses
#: may be followed by documents it accepts).
_BUILD_TRIES = 3

#: Counts for the benchmark and the tests: ``hit``, ``miss``, ``built``, ``no-plan:<why>``.
STATS = fastld.STATS

# keys whose string values steer the expansion itself: part of the shape, never slots
_PINNED_KEYS = frozenset({"@context", "type", "@type", "@language", "@direction", "@vocab", "@base", "@index"})
_TAG = "xQzSlot"
_TAG_RE = re.compile(_TAG + r"([0-9]+)Zq")
_NO_SUFFIX_TYPES = (fastld.XSD_DOUBLE, fastld.RDF_JSON)

_LITERAL = 0
_IRI = 1
_PINNED = 2


class _NoPlan(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _context_key(value: Any) -> Any:
    if type(value) is str:
        return ("c", value)
    if type(value) is list and all(type(v) is str for v in value):
        return ("c", *value)
    # numbers keep their JSON type (1, 1.0 and true differ); key order is kept as written
    return ("j", json.dumps(value, ensure_ascii=False, allow_nan=True))


_OPEN, _CLOSE, _LIST, _END, _SLOT = 1, 2, 3, 4, 0  # ints: never confused with a key (a str)


def _shape(value: Any, key: str | None, slots: list[str], sig: list[Any]) -> None:
    """Append the shape of ``value`` to ``sig`` (a flat list, made a tuple by the caller) and
    its slot strings to ``slots``, in walk order. Flat and with the leaves inline: this walk
    runs for every document, and is most of what a planned document costs."""
    append = sig.append
    if type(value) is dict:
        append(_OPEN)
        for k, v in value.items():
            if type(k) is not str:
                raise _NoPlan("non-string key")
            append(k)
            t = type(v)
            if t is str:
                if k in _PINNED_KEYS:
                    append(("s", v))
                else:
                    slots.append(v)
                    append(_SLOT)
            elif k == "@context":
                append(_context_key(v))
            elif t is dict or t is list:
                _shape(v, k, slots, sig)
            else:
                append(_leaf(v))
        append(_CLOSE)
    elif type(value) is list:
        append(_LIST)
        pinned = key in _PINNED_KEYS
        for v in value:
            t = type(v)
            if t is str:
                if pinned:
                    append(("s", v))
                else:
                    slots.append(v)
                    append(_SLOT)
            elif t is dict or t is list:
                _shape(v, key, slots, sig)
            else:
                append(_leaf(v))
        append(_END)
    else:
        append(_leaf(value))


def _leaf(value: Any) -> Any:
    t = type(value)
    if t is bool or t is int:
        return (t.__name__, value)
    if t is float:
        return ("f", repr(value))  # -0.0 and 0.0 compare equal but are different literals
    if value is None:
        return None
    raise _NoPlan("not JSON")


def _substitute(value: Any, key: str | None, new: list[str | None], at: list[int]) -> Any:
    """A copy of ``value`` with slot ``i`` replaced by ``new[i]`` (kept where that is None)."""
    t = type(value)
    if t is str:
        if key in _PINNED_KEYS:
            return value
        i = at[0]
        at[0] = i + 1
        s = new[i]
        return value if s is None else s
    if t is dict:
        return {k: (v if k == "@context" else _substitute(v, k, new, at)) for k, v in value.items()}
    if t is list:
        return [_substitute(v, key, new, at) for v in value]
    return value


# an absolute IRI with an authority ("https://host/path#frag"): pyld's IRI expansion returns it
# as it is (no prefix applies to a suffix starting "//"), unless it is a term name
_HIERARCHICAL = re.compile(r'([A-Za-z][A-Za-z0-9+.-]*)://[^\x00-\x20<>"{}|^`\\]*\Z')


# "scheme:head:word", and with a "#word" fragment (a DID URL: "did:key:z6Mk...#z6Mk..."): the
# expansion depends on the scheme (a prefix) alone, the rest is appended as it is
_TWO_COLONS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9.-]*:)[A-Za-z0-9._%-]+(?:#[A-Za-z0-9._%-]+)?\Z")


def _family(value: str) -> str | None:
    """The kind of string an IRI slot may hold: ``""`` for a word, ``scheme:head:`` for
    ``scheme:head:word`` (and ``scheme:head:word#word``), ``"//"`` for an absolute IRI with
    an authority, None for any other string."""
    if fastld._PLAIN_WORD.match(value):
        return ""
    m = _TWO_COLONS.match(value)
    if m:
        return m.group(1)
    return "//" if _HIERARCHICAL.match(value) else None


def _in_family(value: str, head: str) -> bool:
    """``_family(value) == head``, with one pattern instead of up to three (the kinds exclude
    each other: a word holds no colon, a ``scheme://`` string has no second colon right after
    its scheme). Called for every IRI slot of every planned document."""
    if head == "":
        return fastld._PLAIN_WORD.match(value) is not None
    if head == "//":
        return _HIERARCHICAL.match(value) is not None
    if not value.startswith(head):
        return False
    m = _TWO_COLONS.match(value)
    return m is not None and m.group(1) == head


def _marker(value: str, i: int) -> str:
    """A string of ``value``'s kind that the rows can be searched for."""
    head = _family(value)
    tag = f"{_TAG}{i}Zq"
    if head == "//":
        return value[: value.index("://") + 3] + tag
    return value + tag if head is None else head + tag


def _literal_suffix(term: str, marker: str) -> str | None:
    """The suffix (``""``, ``@lang``, ``^^<dt>``) if ``term`` is exactly ``marker``'s literal."""
    lexical = '"' + escape_literal(marker) + '"'
    if not term.startswith(lexical):
        return None
    suffix = term[len(lexical):]
    if suffix == "" or (suffix[:1] == "@" and fastld._LANGTAG.match(suffix[1:])):
        return suffix
    if suffix.startswith("^^<") and suffix.endswith(">") and suffix[3:-1] not in _NO_SUFFIX_TYPES:
        return suffix
    return None


def _marked_terms(rows: list[fastld.Row]) -> dict[int, set[str]]:
    """Slot index -> the terms its marker appears in (refusing predicates and double marks)."""
    found: dict[int, set[str]] = {}
    for s, p, o, g in rows:
        if _TAG in p:
            raise _NoPlan("marker in a predicate")
        for term in (s, o, g):
            if _TAG in term:
                marks = _TAG_RE.findall(term)
                if len(marks) != 1 or term.count(_TAG) != 1:
                    raise _NoPlan("two markers in one term")
                found.setdefault(int(marks[0]), set()).add(term)
    return found


class _Plan:
    """Rows with slot references, for one shape (see the module docstring)."""

    __slots__ = ("consts", "fixed", "heads", "kinds", "pinned", "rows", "terms")

    def __init__(self, kinds: list[int], heads: list[str | None], pinned: dict[int, str],
                 terms: list[tuple[int, int, str, str]], rows: list[tuple[Any, ...]]) -> None:
        self.kinds = kinds  # per slot: _LITERAL, _IRI or _PINNED
        self.heads = heads  # per IRI slot: its family ("" or "scheme:head:")
        self.pinned = pinned  # slot -> the string a document must hold there
        # the marked terms: (slot, kind, before, after); a literal: after is its suffix
        self.terms = terms
        # each row: four indexes into the constant terms followed by the filled-in marked terms
        consts: dict[str, int] = {}
        for row in rows:
            for t in row:
                if type(t) is str and t not in consts:
                    consts[t] = len(consts)
        self.consts = list(consts)
        n = len(consts)
        # rows without a slot (a credential's types and structure in its graph) are built once
        self.fixed: list[fastld.Row] = [row for row in rows if all(type(t) is str for t in row)]
        self.rows = [
            tuple(consts[t] if type(t) is str else n + t for t in row)
            for row in rows
            if not all(type(t) is str for t in row)
        ]

    def fill(self, slots: list[str], uni: Any) -> list[fastld.Row] | None:
        """The rows for a document with these slot strings, or None (not provably the same)."""
        pinned = self.pinned
        for i, s in pinned.items():
            if slots[i] != s:
                return None
        heads = self.heads
        all_terms = uni.all_terms
        out: list[str] = []
        for slot, kind, before, after in self.terms:
            value = slots[slot]
            if kind == _LITERAL:
                out.append('"' + escape_literal(value) + '"' + after)
                continue
            head = heads[slot]
            if value in all_terms or not _in_family(value, head):  # type: ignore[arg-type]
                return None
            if head == "//":
                term = "<" + value + ">"  # verbatim (checked when the plan was made)
            else:
                term = before + value[len(head):] + after  # type: ignore[arg-type]
            # (_clean_iri refuses an issuer-dependent IRI too)
            if term[:1] != "<" or not fastld._clean_iri(term[1:-1]):
                return None
            out.append(term)
        terms = self.consts + out
        rows = list(self.fixed)
        rows += [(terms[a], terms[b], terms[c], terms[d]) for a, b, c, d in self.rows]
        return rows


def _exact_rows(document: Mapping[str, Any], loader: Any) -> list[fastld.Row]:
    try:
        return fastld.to_rows(document, loader)
    except fastld._NotHandled as exc:
        raise _NoPlan(f"exact path: {exc.reason}") from None


def _build(document: Mapping[str, Any], loader: Any, slots: list[str], uni: Any) -> _Plan:
    """Work out the plan of ``document``'s shape (see the module docstring); raises _NoPlan."""
    if uni.odd_vocab:
        raise _NoPlan("odd @vocab")
    exact = _exact_rows(document, loader)
    if any(_TAG in term for row in exact for term in row):
        raise _NoPlan("marker text in the document")
    n = len(slots)
    # a term name stays as it is (pinned): where it is expanded as a vocabulary IRI, the term
    # decides (proofPurpose "assertionMethod"), and a marker would be no term at all
    all_terms = uni.all_terms
    markers: list[str | None] = [None if s in all_terms else _marker(s, i) for i, s in enumerate(slots)]
    probe1 = _exact_rows(_substitute(document, None, markers, [0]), loader)
    found = _marked_terms(probe1)
    kinds = [_PINNED] * n
    heads: list[str | None] = [None] * n
    for i, landed in found.items():
        if len(landed) != 1:
            raise _NoPlan("a slot in two terms")
        (term,) = landed
        marker = markers[i]
        if marker is None:
            raise _NoPlan("a marker of no slot")
        if term[:1] == '"':
            if _literal_suffix(term, marker) is None:
                raise _NoPlan("computed literal")
            kinds[i] = _LITERAL
        elif term[:1] == "<":
            head = _family(slots[i])
            if head == "//" and term != "<" + marker + ">":
                head = None  # not verbatim: pinned
            if head is not None and slots[i] not in uni.all_terms:
                kinds[i] = _IRI
                heads[i] = head
        else:
            raise _NoPlan("marker in a blank node label")
    free = [markers[i] if kinds[i] != _PINNED else None for i in range(n)]
    probe2 = _exact_rows(_substitute(document, None, free, [0]), loader)
    found2 = _marked_terms(probe2)
    if set(found2) != {i for i in range(n) if kinds[i] != _PINNED} or any(found2[i] != found[i] for i in found2):
        raise _NoPlan("probes disagree")
    index: dict[str, int] = {}
    terms: list[tuple[int, int, str, str]] = []
    for i, (term,) in ((i, tuple(t)) for i, t in found2.items()):
        index[term] = len(terms)
        if kinds[i] == _LITERAL:
            terms.append((i, _LITERAL, "", _literal_suffix(term, markers[i] or "") or ""))
        else:
            before, _, after = term.partition(f"{_TAG}{i}Zq")
            terms.append((i, _IRI, before, after))
    rows = [tuple(index.get(t, t) for t in row) for row in probe2]
    pinned = {i: slots[i] for i in range(n) if kinds[i] == _PINNED}
    plan = _Plan(kinds, heads, pinned, terms, rows)
    mine = plan.fill(slots, uni)
    if mine is None:
        raise _NoPlan("representative refused by its own plan")
    if rdfc.canonicalize_rows(mine) != rdfc.canonicalize_rows(exact):
        raise _NoPlan("check failed")
    return plan


class _Shapes:
    """The plans of one loader's universe: shape -> plans (or failed tries), LRU-bounded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_shape: OrderedDict[Any, list[_Plan] | int] = OrderedDict()


_per_universe: weakref.WeakKeyDictionary[Any, _Shapes] = weakref.WeakKeyDictionary()
_per_universe_lock = threading.Lock()


def clear_plans() -> None:
    """Forget every plan (tests; :func:`skillcred._internal.fastld.clear_caches` does too)."""
    with _per_universe_lock:
        _per_universe.clear()


def plan_rows(document: Mapping[str, Any], loader: Any) -> list[fastld.Row] | None:
    """The dataset of ``document`` from its shape's plan, or None (the caller runs the exact path).

    The rows are not :func:`~skillcred._internal.fastld.to_rows`'s order or labels: only for
    :func:`skillcred._internal.rdfc.canonicalize_rows_unique`.
    """
    if not fastld.ENABLED or type(document) is not dict or "@context" not in document:
        return None
    slots: list[str] = []
    sig: list[Any] = []
    try:
        _shape(document, None, slots, sig)
        shape = tuple(sig)
    except (_NoPlan, RecursionError):
        return None
    uni = fastld._universe(loader)
    if uni.odd_vocab:
        return None
    with _per_universe_lock:
        shapes = _per_universe.get(uni)
        if shapes is None:
            shapes = _per_universe[uni] = _Shapes()
    with shapes.lock:
        known = shapes.by_shape.get(shape)
        if known is not None:
            shapes.by_shape.move_to_end(shape)
    if isinstance(known, list):
        for plan in known:
            rows = plan.fill(slots, uni)
            if rows is not None:
                STATS["plan:hit"] += 1
                return rows
        if len(known) >= _PLANS_PER_SHAPE:
            return None  # the shape's plans are all taken: the exact path, without a new try
    elif known is not None and known >= _BUILD_TRIES:
        return None
    STATS["plan:miss"] += 1
    try:
        plan = _build(document, loader, slots, uni)
    except (_NoPlan, RecursionError) as exc:
        STATS[f"plan:no-plan:{getattr(exc, 'reason', 'recursion')}"] += 1
        with shapes.lock:
            cur = shapes.by_shape.get(shape)
            if not isinstance(cur, list):
                shapes.by_shape[shape] = (cur or 0) + 1
                _trim(shapes)
        return None
    except Exception as exc:  # a context error, a fast-path bug: the exact path decides
        STATS[f"plan:no-plan:exception:{type(exc).__name__}"] += 1
        return None
    STATS["plan:built"] += 1
    with shapes.lock:
        cur = shapes.by_shape.get(shape)
        if isinstance(cur, list):
            if len(cur) < _PLANS_PER_SHAPE:
                cur.append(plan)
        else:
            shapes.by_shape[shape] = [plan]
            _trim(shapes)
    return plan.fill(slots, uni)


def _trim(shapes: _Shapes) -> None:
    while len(shapes.by_shape) > PLAN_LIMIT:
        shapes.by_shape.popitem(last=False)

"""RDF Dataset Canonicalization, RDFC-1.0 (https://www.w3.org/TR/rdf-canon/), pure Python.

Why our own and not pyld's URDNA2015: ``ecdsa-rdfc-2019`` with P-384 needs SHA-384 as the hash
*inside* the algorithm, pyld hard-codes SHA-256; pyld's N-Quads escaping is not the canonical
form; and pyld has no guard against poison graphs. Step numbers in the comments are those of
the W3C Recommendation (§4.4.3 canonicalization, §4.5 issue identifier, §4.6.3 hash first
degree quads, §4.7.3 hash related blank node, §4.8.3 hash N-degree quads).

Internal representation: a quad is a 4-tuple of already-serialized canonical N-Quads terms
(``"<iri>"``, ``'"lit"@en'``, ``"_:label"``), with ``""`` as the default graph. Ground terms
are serialized exactly once; blank node positions are recognised by the ``_:`` prefix (an IRI
starts with ``<`` and a literal with ``"``), so relabelling is a string substitution.

Poison graphs (the spec's "Dataset Poisoning" security consideration, test074): the work of
Hash N-Degree Quads is bounded deterministically (a wall-clock limit would make a signature
verify on one machine and fail on a slower one).

1. ``max_hash_ndegree_calls`` caps the calls to Hash N-Degree Quads in one run. The default is
   :data:`CALLS_PER_BLANK_NODE` (64) x the number of blank nodes, at least
   :data:`MIN_HASH_NDEGREE_CALLS` (1024).
2. Between two calls the permutation loop (§4.8.3 step 5.4) could still enumerate k!
   orderings of already-labelled nodes without recursing, and each call scans every quad of
   its blank node. Both count as "steps" (one step is about 1 us), capped at
   :data:`STEPS_PER_CALL` (256) x the call cap and, with the default call cap, also at
   :data:`MAX_DEFAULT_STEPS` (1,000,000, about one second): padding a poison graph with many
   harmless blank nodes raises the call cap but not this ceiling. Permutations are walked
   depth first in lexicographic order and a whole subtree is pruned as soon as its path
   prefix loses (step 5.4.4.3 applied to prefixes, which yields exactly the spec's result),
   so legitimate graphs use few steps.

Either limit raises :class:`CanonicalizationError`. Why these numbers, measured with this
implementation: the heaviest positive tests of the W3C suite, the "computable poison" graphs
test044-046, need 468 calls (about 6,000 steps) for 12 blank nodes, 39 calls per node; a Data
Integrity credential normally needs no call at all (every blank node has a unique
first-degree hash); a bag of identical objects needs one call per node; rings and ``@list``s
of identical items need about n calls per node (n^2 in all), so they pass up to 64 items
(:data:`MAX_RECURSION_DEPTH` also stops them at 128). The 10-node clique test074 needs more
than 200,000 calls and fails after 1024 (about 0.06 s); any input fails or finishes within
about a second of hashing work.

Where RDFC-1.0 leaves a choice open, this implementation is deterministic but may differ from
others in the *issued identifiers map* (never in the canonical N-Quads, unless two results
tie without being automorphic, a known weakness of the algorithm): blank nodes sharing a
first-degree hash are processed in input order and equal hash results keep that order
(stable sort); permutations are enumerated in lexicographic order of the input labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Literal as TypingLiteral
from typing import NamedTuple

from skillcred._internal.nquads import (
    IRI,
    BlankNode,
    Quad,
    parse_nquads_terms,
    quads_from_pyld_dataset,
    term_to_nquads,
)
from skillcred.errors import CanonicalizationError, InvalidArgument, MalformedDocument

__all__ = [
    "CALLS_PER_BLANK_NODE",
    "MAX_DEFAULT_STEPS",
    "MAX_RECURSION_DEPTH",
    "MIN_HASH_NDEGREE_CALLS",
    "STEPS_PER_CALL",
    "CanonicalResult",
    "HashAlgorithm",
    "Quad",
    "canonical_issued_identifiers",
    "canonicalize",
    "canonicalize_rows",
    "canonicalize_rows_any_order",
    "canonicalize_rows_unique",
    "canonicalize_with_map",
    "quad_rows",
    "quads_from_pyld_dataset",
]

HashAlgorithm = TypingLiteral["sha256", "sha384"]

#: Default budget of Hash N-Degree Quads calls per blank node (see the module docstring).
CALLS_PER_BLANK_NODE = 64
#: Floor of the default call budget, so small symmetric graphs are never refused.
MIN_HASH_NDEGREE_CALLS = 1024
#: Steps of work (permutation steps, quads scanned) allowed per allowed call.
STEPS_PER_CALL = 256
#: Ceiling on steps when the call cap is the default one (about one second of work).
MAX_DEFAULT_STEPS = 1_000_000
#: Nesting limit of Hash N-Degree Quads (a chain of identical items recurses once per item);
#: keeps well inside Python's default recursion limit of 1000 frames.
MAX_RECURSION_DEPTH = 128

_HASHES: dict[str, Callable[..., hashlib._Hash]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}

# A serialized quad: (subject, predicate, object, graph); graph "" is the default graph.
_Row = tuple[str, str, str, str]


class CanonicalResult(NamedTuple):
    """Canonical N-Quads plus the issued identifiers map (input label -> ``c14nN``)."""

    nquads: str
    issued_identifiers: dict[str, str]


class _IdentifierIssuer:
    """§4.5 Issue Identifier: a prefix, a counter and an ordered map of issued identifiers."""

    __slots__ = ("counter", "issued", "prefix")

    def __init__(self, prefix: str, counter: int = 0, issued: dict[str, str] | None = None):
        self.prefix = prefix
        self.counter = counter
        # existing identifier ("_:label") -> issued identifier (e.g. "c14n0"); insertion order
        # is the issue order, which §4.4.3 step 5.3.1 relies on.
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, existing: str) -> str:
        # §4.5.3 step 1: return the identifier already issued for existing, if any.
        issued = self.issued.get(existing)
        if issued is None:
            # steps 2-4: issue prefix + counter, remember it, increment the counter.
            issued = f"{self.prefix}{self.counter}"
            self.issued[existing] = issued
            self.counter += 1
        return issued

    def copy(self) -> _IdentifierIssuer:
        return _IdentifierIssuer(self.prefix, self.counter, dict(self.issued))


def _is_blank(term: str) -> bool:
    return term[:2] == "_:"


def _line(s: str, p: str, o: str, g: str) -> str:
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


class _SharedHash(Exception):
    """Two blank nodes share a first-degree hash (see :func:`canonicalize_rows_unique`), or,
    with ``no_choice``, the result could depend on the input order (see
    :func:`canonicalize_rows_any_order`)."""


class _Canonicalizer:
    """The canonicalization state of §4.3 plus the poison-graph counters."""

    def __init__(self, rows: list[_Row], hash_algorithm: str, max_calls: int | None) -> None:
        try:
            self._new_hash = _HASHES[hash_algorithm]
        except KeyError:
            raise InvalidArgument(
                f"hash_algorithm must be 'sha256' or 'sha384', not {hash_algorithm!r}"
            ) from None
        self.rows = rows
        # §4.3 blank node to quads map ("_:label" -> rows mentioning it), first-seen order.
        self.bnode_to_quads: dict[str, list[_Row]] = {}
        self.canonical_issuer = _IdentifierIssuer("c14n")
        self._first_degree: dict[str, str] = {}
        self._max_calls = max_calls
        self._calls = 0
        self._steps = 0
        self._max_steps = 0
        #: canonicalize_rows_unique: give up (raise _SharedHash) where step 5 would run
        self.unique_only = False
        #: canonicalize_rows_any_order: give up (raise _SharedHash) where the input order or
        #: labels could decide anything: a permutation group of two or more distinct blank
        #: nodes (§4.8.3 step 5.4, whose pruning depends on the order of the labels) or two
        #: equal Hash N-Degree Quads results (§4.4.3 step 5.3, kept in input order)
        self.no_choice = False
        #: one distinct blank node to arrange: :meth:`_single_path` (False: the walk, for tests)
        self.single_path = True

    def _count_steps(self, steps: int) -> None:
        self._steps += steps
        if self._steps > self._max_steps:
            raise CanonicalizationError(
                f"RDFC-1.0: exceeded {self._max_steps} steps of work in Hash N-Degree Quads "
                "(the dataset looks like a poison graph)"
            )

    # §4.4.3 Canonicalization algorithm ------------------------------------------------------
    def run(self) -> CanonicalResult:
        # Step 1 (state creation) is __init__; parsing and de-duplication happened in _rows().
        # Step 2: for every quad, add a reference to it for each blank node component.
        # (A quad holding one blank node twice is referenced once: "for each blank node".)
        # Terms are never empty except the default graph "", and only blank nodes start with
        # "_" (IRIs start with "<", literals with '"'), hence the [:1] tests.
        bnode_to_quads = self.bnode_to_quads
        for row in self.rows:
            s, _p, o, g = row
            # s and o are never empty; g is "" for the default graph
            if s[0] == "_":
                bnode_to_quads.setdefault(s, []).append(row)
            if o[0] == "_" and o != s:
                bnode_to_quads.setdefault(o, []).append(row)
            if g and g[0] == "_" and g != s and g != o:
                bnode_to_quads.setdefault(g, []).append(row)

        if not bnode_to_quads:
            # No blank nodes: the canonical form is the sorted, de-duplicated serialization.
            lines = [
                f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n" for s, p, o, g in self.rows
            ]
            lines.sort()
            return CanonicalResult("".join(lines), {})

        # Poison-graph budgets (module docstring).
        if self._max_calls is None:
            self._max_calls = max(
                MIN_HASH_NDEGREE_CALLS, CALLS_PER_BLANK_NODE * len(bnode_to_quads)
            )
            self._max_steps = min(MAX_DEFAULT_STEPS, STEPS_PER_CALL * self._max_calls)
        else:
            self._max_steps = STEPS_PER_CALL * max(self._max_calls, 1)

        # Step 3: hash to blank nodes map from the first-degree hash of every blank node.
        hash_to_bnodes: dict[str, list[str]] = {}
        for bnode in bnode_to_quads:
            hash_to_bnodes.setdefault(self._hash_first_degree(bnode), []).append(bnode)
        if self.unique_only and len(hash_to_bnodes) != len(bnode_to_quads):
            raise _SharedHash

        # Step 4: issue canonical identifiers for blank nodes with a unique first-degree hash,
        # in code point order of the hash, and remove them from the map.
        for first_hash in sorted(hash_to_bnodes):
            identifiers = hash_to_bnodes[first_hash]
            if len(identifiers) > 1:  # step 4.1
                continue
            self.canonical_issuer.issue(identifiers[0])  # step 4.2
            del hash_to_bnodes[first_hash]  # step 4.3

        # Step 5: for the remaining shared hashes, in code point order of the hash ...
        for first_hash in sorted(hash_to_bnodes):
            hash_path_list: list[tuple[str, _IdentifierIssuer]] = []  # step 5.1
            for bnode in hash_to_bnodes[first_hash]:  # step 5.2
                if bnode in self.canonical_issuer.issued:  # step 5.2.1
                    continue
                temporary_issuer = _IdentifierIssuer("b")  # step 5.2.2
                temporary_issuer.issue(bnode)  # step 5.2.3
                hash_path_list.append(self._hash_n_degree(bnode, temporary_issuer, 1))  # 5.2.4
            if self.no_choice and len({result[0] for result in hash_path_list}) != len(hash_path_list):
                raise _SharedHash
            # Step 5.3: in code point order of the result hash (stable for equal hashes) ...
            for _hash, issuer in sorted(hash_path_list, key=lambda result: result[0]):
                # step 5.3.1: issue canonical identifiers in the temporary issuer's order.
                for existing in issuer.issued:
                    self.canonical_issuer.issue(existing)

        # Step 6: the issued identifiers map, keyed by the input labels (without "_:").
        canonical = self.canonical_issuer.issued
        issued = {label[2:]: canonical[label] for label in bnode_to_quads}

        # Step 7: relabel every quad and serialize in canonical N-Quads, code point sorted.
        # (a dict lookup: ground terms never equal a "_:" label, so they map to themselves)
        relabel = {label: f"_:{issued_id}" for label, issued_id in canonical.items()}
        lines = []
        for s, p, o, g in self.rows:
            s = relabel.get(s, s)
            o = relabel.get(o, o)
            if g:
                lines.append(f"{s} {p} {o} {relabel.get(g, g)} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        return CanonicalResult("".join(lines), issued)

    # §4.6.3 Hash First Degree Quads ---------------------------------------------------------
    def _hash_first_degree(self, reference: str) -> str:
        cached = self._first_degree.get(reference)
        if cached is not None:
            return cached

        # steps 1-3: serialize every quad mentioning the reference blank node, masked
        # (step 3.1.1: _:a for the reference blank node, _:z for any other blank node; only
        # blank nodes start with "_", and the default graph "" is omitted). Inlined: this loop
        # runs over every quad of every blank node, the hottest code of the algorithm.
        nquads = []
        for s, p, o, g in self.bnode_to_quads[reference]:
            if s[:1] == "_":
                s = "_:a" if s == reference else "_:z"
            if o[:1] == "_":
                o = "_:a" if o == reference else "_:z"
            if g:
                if g[:1] == "_":
                    g = "_:a" if g == reference else "_:z"
                nquads.append(f"{s} {p} {o} {g} .\n")
            else:
                nquads.append(f"{s} {p} {o} .\n")
        nquads.sort()  # step 4: code point order
        result = self._new_hash("".join(nquads).encode()).hexdigest()  # step 5
        self._first_degree[reference] = result
        return result

    # §4.7.3 Hash Related Blank Node ---------------------------------------------------------
    def _hash_related(
        self, related: str, predicate: str, issuer: _IdentifierIssuer, position: str
    ) -> str:
        # Step 1: input starts with the position (s, o or g).
        # Step 2: if position is not g, append <predicate> (already serialized as such).
        data = position if position == "g" else position + predicate
        # Step 3: the canonical identifier, else the one issued by issuer, as "_:" + id ...
        identifier = self.canonical_issuer.issued.get(related) or issuer.issued.get(related)
        if identifier is not None:
            data += "_:" + identifier
        else:
            # step 4: ... otherwise the first-degree hash of related.
            data += self._hash_first_degree(related)
        # Step 5: hash of input.
        return self._new_hash(data.encode()).hexdigest()

    # §4.8.3 Hash N-Degree Quads -------------------------------------------------------------
    def _hash_n_degree(
        self, identifier: str, issuer: _IdentifierIssuer, depth: int
    ) -> tuple[str, _IdentifierIssuer]:
        """Return (hash, issuer). ``issuer`` is never mutated: §4.8.3 copies it (step 5.4.1)."""
        self._calls += 1
        if self._calls > (self._max_calls or 0):
            raise CanonicalizationError(
                f"RDFC-1.0: exceeded {self._max_calls} calls to Hash N-Degree Quads "
                "(the dataset looks like a poison graph)"
            )
        if depth > MAX_RECURSION_DEPTH:
            raise CanonicalizationError(
                f"RDFC-1.0: Hash N-Degree Quads nested deeper than {MAX_RECURSION_DEPTH} levels "
                "(the dataset looks like a poison graph)"
            )
        # Steps 1-3: hash to related blank nodes map, from every quad mentioning identifier.
        hash_to_related: dict[str, list[str]] = {}
        quads = self.bnode_to_quads[identifier]
        self._count_steps(len(quads))
        for s, p, o, g in quads:
            # step 3.1: each subject, object or graph blank node other than identifier.
            for term, position in ((s, "s"), (o, "o"), (g, "g")):
                if term != identifier and _is_blank(term):
                    related_hash = self._hash_related(term, p, issuer, position)  # 3.1.1
                    hash_to_related.setdefault(related_hash, []).append(term)  # 3.1.2

        data_to_hash = self._new_hash()  # step 4
        # Step 5: for each related hash, in code point order.
        for related_hash in sorted(hash_to_related):
            data_to_hash.update(related_hash.encode())  # step 5.1
            chosen_path, chosen_issuer = self._choose_path(
                hash_to_related[related_hash], issuer, depth
            )
            data_to_hash.update(chosen_path.encode())  # step 5.5
            issuer = chosen_issuer  # step 5.6
        return data_to_hash.hexdigest(), issuer  # step 6

    def _choose_path(
        self, blank_nodes: list[str], issuer: _IdentifierIssuer, depth: int
    ) -> tuple[str, _IdentifierIssuer]:
        """§4.8.3 steps 5.2-5.4: the smallest path over all permutations of ``blank_nodes``.

        Permutations are walked depth first in lexicographic order of the (sorted) labels,
        each distinct arrangement once (repeated labels yield identical paths, so the spec's
        result is unchanged). Step 5.4.4.3 is applied to every prefix: once a prefix is longer
        than or equal in length to the chosen path and greater, every completion is too, so
        the subtree is skipped exactly as the spec would skip each of its permutations.
        """
        canonical = self.canonical_issuer.issued
        remaining: dict[str, int] = {}
        for node in sorted(blank_nodes):
            remaining[node] = remaining.get(node, 0) + 1
        if len(remaining) == 1 and self.single_path:
            return self._single_path(remaining, issuer, depth)
        if self.no_choice:
            raise _SharedHash
        size = len(blank_nodes)
        chosen_path = ""  # step 5.2
        chosen_issuer: _IdentifierIssuer | None = None  # step 5.3
        # newly issued in the current prefix: label -> temporary id (insertion = issue order)
        new_ids: dict[str, str] = {}
        base_counter = issuer.counter

        def loses(path: str) -> bool:
            # step 5.4.4.3 / 5.4.5.5
            return bool(chosen_path) and len(path) >= len(chosen_path) and path > chosen_path

        def walk(position: int, path: str) -> None:
            nonlocal chosen_path, chosen_issuer
            self._count_steps(1)
            if position == size:
                # Step 5.4.1: issuer copy holding the identifiers issued along this permutation
                # (5.4.4.2.2); step 5.4.3: the recursion list is the newly issued nodes, in order.
                issuer_copy = issuer.copy()
                for node in new_ids:
                    issuer_copy.issue(node)
                # Step 5.4.5: for each related in the recursion list ...
                for related in list(new_ids):
                    result_hash, result_issuer = self._hash_n_degree(
                        related, issuer_copy, depth + 1
                    )
                    # 5.4.5.2-3: append its id from issuer copy and <hash>.
                    path += f"_:{issuer_copy.issue(related)}<{result_hash}>"
                    issuer_copy = result_issuer  # step 5.4.5.4
                    if loses(path):  # step 5.4.5.5
                        return
                # Step 5.4.6: keep the smallest path.
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
                return
            # Step 5.4.4: for each related, in permutation order.
            for node in list(remaining):
                if not remaining[node]:
                    continue
                # 5.4.4.1: canonical identifier if issued; 5.4.4.2: else the identifier issued
                # by the issuer copy, issuing one (and queueing recursion) if needed.
                fresh = False
                label = canonical.get(node)
                if label is None:
                    label = issuer.issued.get(node) or new_ids.get(node)
                    if label is None:
                        label = f"{issuer.prefix}{base_counter + len(new_ids)}"
                        new_ids[node] = label
                        fresh = True
                extended = f"{path}_:{label}"
                remaining[node] -= 1
                if not loses(extended):  # step 5.4.4.3
                    walk(position + 1, extended)
                remaining[node] += 1
                if fresh:
                    del new_ids[node]

        walk(0, "")
        assert chosen_issuer is not None  # the first complete permutation always wins
        return chosen_path, chosen_issuer

    def _single_path(
        self, remaining: dict[str, int], issuer: _IdentifierIssuer, depth: int
    ) -> tuple[str, _IdentifierIssuer]:
        """:meth:`_choose_path` for one distinct blank node (``count`` times): its only
        permutation, without the walk. The common case (most groups hold one node), and the
        same work, result and budget use as the walk: ``count + 1`` steps counted before any
        recursion (one per walk position), the node issued in the issuer copy when it has no
        identifier yet, then Hash N-Degree Quads of it, nothing pruned (no path chosen yet)."""
        ((node, count),) = remaining.items()
        self._count_steps(count + 1)
        issuer_copy = issuer.copy()
        label = self.canonical_issuer.issued.get(node) or issuer.issued.get(node)
        if label is not None:
            return f"_:{label}" * count, issuer_copy
        path = f"_:{issuer_copy.issue(node)}" * count
        result_hash, result_issuer = self._hash_n_degree(node, issuer_copy, depth + 1)
        return f"{path}_:{issuer_copy.issue(node)}<{result_hash}>", result_issuer


def _rows(quads: Iterable[Quad] | str) -> list[_Row]:
    """Serialize each quad's terms once, de-duplicating (a dataset is a set of quads)."""
    if isinstance(quads, str):
        return list(dict.fromkeys(parse_nquads_terms(quads)))
    rows: dict[_Row, None] = {}
    iris: dict[str, str] = {}  # memo keyed by the IRI string: predicates and subjects repeat

    def iri(value: IRI) -> str:
        text = iris.get(value.value)
        if text is None:
            text = iris[value.value] = term_to_nquads(value)
        return text

    def term(value: object) -> str:
        # exact type checks: cheaper than isinstance, and Quad terms are final classes
        kind = type(value)
        if kind is IRI:
            return iri(value)  # type: ignore[arg-type]
        if kind is BlankNode:
            return f"_:{value.id}"  # type: ignore[attr-defined]
        return term_to_nquads(value)  # type: ignore[arg-type]  # Literal, or raises

    for quad in quads:
        s, p, o, g = quad
        if type(p) is not IRI or type(s) not in (IRI, BlankNode):
            raise MalformedDocument(f"not an RDF quad: {quad!r}")
        if g is None:
            graph = ""
        elif type(g) in (IRI, BlankNode):
            graph = term(g)
        else:
            raise MalformedDocument(f"not an RDF graph name: {g!r}")
        rows[(term(s), iri(p), term(o), graph)] = None
    return list(rows)


def quad_rows(quads: Iterable[Quad]) -> list[_Row]:
    """Quads as the canonicalizer's rows: canonical N-Quads terms, ``""`` for the default graph.

    De-duplicated, in input order (what :func:`canonicalize` works on).
    """
    return _rows(quads)


def canonicalize_rows(
    rows: Iterable[_Row],
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    max_hash_ndegree_calls: int | None = None,
) -> str:
    """:func:`canonicalize` for input that is already rows (see :func:`quad_rows`).

    For producers that write canonical terms directly (the JSON-LD fast path,
    :mod:`skillcred._internal.fastld`). Rows are de-duplicated here, keeping the first
    occurrence, exactly as for quads. The caller guarantees the terms are canonical N-Quads
    terms (``<iri>``, ``_:label``, canonical literals, ``""`` for the default graph).
    """
    if max_hash_ndegree_calls is not None and (
        not isinstance(max_hash_ndegree_calls, int) or max_hash_ndegree_calls < 0
    ):
        raise InvalidArgument("max_hash_ndegree_calls must be a non-negative integer or None")
    unique = list(dict.fromkeys(rows))
    try:
        return _Canonicalizer(unique, hash_algorithm, max_hash_ndegree_calls).run().nquads
    except RecursionError:
        raise CanonicalizationError(
            "RDFC-1.0: Hash N-Degree Quads recursed too deeply "
            "(the dataset looks like a poison graph)"
        ) from None


def canonicalize_rows_unique(rows: Iterable[_Row], *, hash_algorithm: HashAlgorithm = "sha256") -> str | None:
    """:func:`canonicalize_rows` when every blank node has a unique first-degree hash, else None.

    For rows whose order and blank node labels are not those of the document's exact
    conversion (:mod:`skillcred._internal.rdfplan`): with unique first-degree hashes the
    canonical labels follow the sorted hashes alone, so the canonical N-Quads are a function
    of the dataset, whatever the input order and labels. Where step 5 (Hash N-Degree Quads)
    would run, ties may break by input order, so the caller uses the exact rows instead.
    """
    canonicalizer = _Canonicalizer(list(dict.fromkeys(rows)), hash_algorithm, None)
    canonicalizer.unique_only = True
    try:
        return canonicalizer.run().nquads
    except _SharedHash:
        return None


def canonicalize_rows_any_order(rows: Iterable[_Row], *, hash_algorithm: HashAlgorithm = "sha256") -> str | None:
    """:func:`canonicalize_rows` of rows in any order and with any blank node labels, or None.

    For rows that are the document's dataset but not in the order or with the labels of its
    exact conversion (:mod:`skillcred._internal.rdfplan`), and where blank nodes may share a
    first-degree hash (the credentials of a presentation hold alike blank nodes in their
    graphs). The whole algorithm runs, Hash N-Degree Quads included, but gives up (None)
    wherever the order of the input could decide anything:

    * a permutation group (§4.8.3 step 5.4) of two or more distinct blank nodes: which
      permutation comes first follows the input labels, and so do the pruned subtrees, hence
      the number of steps counted against the poison budget;
    * two equal results of Hash N-Degree Quads among the nodes of one first-degree hash
      (§4.4.3 step 5.3): they are issued in input order.

    Why the result is then the exact path's, byte for byte: every hash the algorithm computes
    is, by induction over the run, a function of the dataset and the identifiers issued so far;
    with no permutation to choose and no tie to break, every identifier is issued in an order
    fixed by those hashes alone (code point order of the hashes, then the single path of each
    Hash N-Degree Quads call). So the issued identifiers, the canonical N-Quads and the work
    counted against the poison budgets (calls, steps, nesting) are the same for every order and
    labelling of the rows, the exact conversion's included. A budget exceeded, or a recursion
    too deep, also gives None: the exact path then decides the refusal, with its own message.
    """
    canonicalizer = _Canonicalizer(list(dict.fromkeys(rows)), hash_algorithm, None)
    canonicalizer.no_choice = True
    try:
        return canonicalizer.run().nquads
    except (_SharedHash, CanonicalizationError, RecursionError):
        return None


def canonicalize_with_map(
    quads: Iterable[Quad] | str,
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    max_hash_ndegree_calls: int | None = None,
) -> CanonicalResult:
    """Run RDFC-1.0 once and return both the canonical N-Quads and the issued identifiers map.

    For callers that need both (selective disclosure suites relabel with the map).
    """
    if max_hash_ndegree_calls is not None and (
        not isinstance(max_hash_ndegree_calls, int) or max_hash_ndegree_calls < 0
    ):
        raise InvalidArgument("max_hash_ndegree_calls must be a non-negative integer or None")
    rows = _rows(quads)
    try:
        return _Canonicalizer(rows, hash_algorithm, max_hash_ndegree_calls).run()
    except RecursionError:
        # Backstop for very wide permutation groups (one Python frame per position); the
        # depth and work limits normally trip first.
        raise CanonicalizationError(
            "RDFC-1.0: Hash N-Degree Quads recursed too deeply "
            "(the dataset looks like a poison graph)"
        ) from None


def canonicalize(
    quads: Iterable[Quad] | str,
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    max_hash_ndegree_calls: int | None = None,
) -> str:
    """Return canonical N-Quads (each line terminated by '\\n', lines sorted in code point order).

    ``quads`` is an N-Quads document or parsed quads (see :func:`quads_from_pyld_dataset`).
    ``hash_algorithm`` is the hash used inside the algorithm (``"sha384"`` for
    ecdsa-rdfc-2019 with P-384). ``max_hash_ndegree_calls`` overrides the poison-graph budget
    (default: 64 per blank node, at least 1024); exceeding it raises
    :class:`CanonicalizationError`. Unparsable N-Quads raise :class:`MalformedDocument`.
    """
    return canonicalize_with_map(
        quads, hash_algorithm=hash_algorithm, max_hash_ndegree_calls=max_hash_ndegree_calls
    ).nquads


def canonical_issued_identifiers(
    quads: Iterable[Quad] | str,
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    max_hash_ndegree_calls: int | None = None,
) -> dict[str, str]:
    """Return the issued identifiers map of RDFC-1.0 (input blank node label -> ``c14nN``).

    Labels are given without ``_:``, as in the W3C suite's ``*-rdfc10map.json`` files.
    """
    return canonicalize_with_map(
        quads, hash_algorithm=hash_algorithm, max_hash_ndegree_calls=max_hash_ndegree_calls
    ).issued_identifiers

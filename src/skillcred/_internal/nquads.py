"""RDF terms, an N-Quads parser and the canonical N-Quads serializer used by RDFC-1.0.

Why our own: the canonical form is what gets hashed and signed, so its exact bytes are part of
the security boundary. pyld's serializer escapes only ``\\t \\n \\r " \\`` and passes every other
control character through raw, which is not the canonical N-Quads form RDFC-1.0 requires
(https://www.w3.org/TR/rdf-canon/#canonical-quads, N-Triples 1.2 §Canonical form, checked by
test060 of the W3C suite). Pure Python, stdlib only.

Canonical N-Quads, as implemented by :func:`term_to_nquads` / :func:`quad_to_nquads`:

- one quad per line, components separated by one space, terminated by ``" .\\n"``;
- IRIs as ``<iri>`` with no escaping at all (UCHARs in the input are decoded);
- blank nodes as ``_:label``;
- literals as ``"value"`` where only ``"`` ``\\`` and the control characters are escaped:
  U+0008 ``\\b``, U+0009 ``\\t``, U+000A ``\\n``, U+000C ``\\f``, U+000D ``\\r`` (ECHAR), and the
  rest of U+0000..U+001F plus U+007F as ``\\uXXXX`` with upper-case hex (UCHAR); everything else,
  including non-ASCII, is written as is (UTF-8);
- ``^^<datatype>`` is omitted for ``xsd:string``; language-tagged strings are ``"v"@tag`` with
  the tag exactly as given (no case folding);
- the graph term is omitted for the default graph.

Terms whose text could not be read back unambiguously (an IRI holding a space or ``>``, a
language tag holding a quote, ...) are refused with :class:`MalformedDocument` instead of being
written: otherwise two different datasets could serialize, and therefore sign, identically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from skillcred.errors import MalformedDocument

__all__ = [
    "IRI",
    "RDF_LANGSTRING",
    "XSD_STRING",
    "BlankNode",
    "GraphName",
    "Literal",
    "Object",
    "Quad",
    "Subject",
    "escape_literal",
    "parse_nquads",
    "parse_nquads_terms",
    "quad_to_nquads",
    "quads_from_pyld_dataset",
    "serialize_nquads",
    "term_to_nquads",
]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True, slots=True)
class IRI:
    """An IRI term. ``value`` is the IRI itself, without angle brackets."""

    value: str


@dataclass(frozen=True, slots=True)
class BlankNode:
    """A blank node. ``id`` is the label without the ``_:`` prefix.

    A dataclass (not a bare string or NamedTuple) so that ``BlankNode("x")`` never compares
    equal to ``IRI("x")``: quads are de-duplicated through hashing.
    """

    id: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal. A non-``None`` ``language`` makes it an ``rdf:langString``.

    ``datatype`` is ignored when ``language`` is set (RDF fixes it to ``rdf:langString``);
    ``__post_init__`` normalizes it so equal literals compare and hash equal.
    """

    value: str
    datatype: str = XSD_STRING
    language: str | None = None

    def __post_init__(self) -> None:
        if self.language is not None and self.datatype != RDF_LANGSTRING:
            object.__setattr__(self, "datatype", RDF_LANGSTRING)


Subject = IRI | BlankNode
Object = IRI | BlankNode | Literal
#: ``None`` is the default graph.
GraphName = IRI | BlankNode | None


class Quad(NamedTuple):
    """One RDF quad. ``graph`` is ``None`` for the default graph."""

    subject: Subject
    predicate: IRI
    object: Object
    graph: GraphName = None


# --------------------------------------------------------------------------------------------
# Serialization (canonical N-Quads)
# --------------------------------------------------------------------------------------------

_ECHAR = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}
_LITERAL_ESCAPES: dict[int, str] = {
    c: _ECHAR.get(c, f"\\u{c:04X}") for c in (*range(0x20), 0x7F, 0x22, 0x5C)
}
# characters that would need escaping inside an IRIREF (N-Quads grammar: [^#x00-#x20<>"{}|^`\])
_BAD_IRI_CHAR = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*\Z")
# not compiled here: the class's Unicode ranges make it (and _STATEMENT, which holds it three
# times) ~20 ms to compile, a sixth of a cold `skillcred verify`, which never parses N-Quads
_BNODE_LABEL_PATTERN = (
    # BLANK_NODE_LABEL without the "_:": (PN_CHARS_U | [0-9]) ((PN_CHARS | '.')* PN_CHARS)?
    "(?:[_0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff])"
    "(?:[-.0-9A-Za-z_\u00b7\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u037d\u037f-\u1fff\u200c\u200d"
    "\u203f\u2040\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff]*"
    "[-0-9A-Za-z_\u00b7\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u037d\u037f-\u1fff\u200c\u200d"
    "\u203f\u2040\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff])?"
)


#: any character _LITERAL_ESCAPES rewrites: most literals hold none, and a regex search is
#: several times faster than str.translate with a dict table, which visits every character
NEEDS_ESCAPE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_LITERAL_ESCAPES)) + "]")


def escape_literal(value: str) -> str:
    """Escape a literal's lexical form for canonical N-Quads (without the surrounding quotes)."""
    return value if NEEDS_ESCAPE.search(value) is None else value.translate(_LITERAL_ESCAPES)


# Validated serializations of IRIs and language tags seen before: vocabularies repeat from
# document to document. Bounded so hostile input cannot grow them without limit.
_CACHE_LIMIT = 4096
_IRI_CACHE: dict[str, str] = {}
_LANGTAG_CACHE: dict[str, bool] = {}


def _iri(value: str) -> str:
    out = _IRI_CACHE.get(value)
    if out is None:
        if not value or _BAD_IRI_CHAR.search(value):
            raise MalformedDocument(f"IRI {value!r} cannot be written in N-Quads")
        out = f"<{value}>"
        if len(_IRI_CACHE) < _CACHE_LIMIT:
            _IRI_CACHE[value] = out
    return out


def _langtag_ok(tag: str) -> bool:
    ok = _LANGTAG_CACHE.get(tag)
    if ok is None:
        ok = _LANGTAG.match(tag) is not None
        if len(_LANGTAG_CACHE) < _CACHE_LIMIT:
            _LANGTAG_CACHE[tag] = ok
    return ok


def term_to_nquads(term: IRI | BlankNode | Literal) -> str:
    """Serialize one term in canonical N-Quads form (see the module docstring)."""
    if isinstance(term, IRI):
        return _iri(term.value)
    if isinstance(term, BlankNode):
        return f"_:{term.id}"
    if isinstance(term, Literal):
        lexical = f'"{term.value.translate(_LITERAL_ESCAPES)}"'
        if term.language is not None:
            if not _langtag_ok(term.language):
                raise MalformedDocument(f"language tag {term.language!r} is not well-formed")
            return f"{lexical}@{term.language}"
        if term.datatype == XSD_STRING:
            return lexical
        if term.datatype == RDF_LANGSTRING:
            raise MalformedDocument("an rdf:langString literal needs a language tag")
        return f"{lexical}^^{_iri(term.datatype)}"
    raise MalformedDocument(f"not an RDF term: {term!r}")


def quad_to_nquads(quad: Quad) -> str:
    """Serialize one quad as a canonical N-Quads line, including the terminating newline."""
    s, p, o, g = quad
    if g is None:
        return f"{term_to_nquads(s)} {term_to_nquads(p)} {term_to_nquads(o)} .\n"
    return f"{term_to_nquads(s)} {term_to_nquads(p)} {term_to_nquads(o)} {term_to_nquads(g)} .\n"


def serialize_nquads(quads: Iterable[Quad]) -> str:
    """Serialize quads as N-Quads: de-duplicated, lines sorted in code point order.

    Blank node labels are written as they are; this is *not* canonicalization (see
    :mod:`skillcred._internal.rdfc` for that).
    """
    return "".join(sorted({quad_to_nquads(q) for q in quads}))


# --------------------------------------------------------------------------------------------
# Parsing (N-Quads 1.1 grammar, https://www.w3.org/TR/n-quads/#sec-grammar)
# --------------------------------------------------------------------------------------------

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
# Possessive quantifiers (Python 3.11+): the alternatives are disjoint (only an escape starts
# with a backslash), so this matches exactly the grammar and cannot backtrack exponentially.
_IRIREF = rf'<((?:[^\x00-\x20<>"{{}}|^`\\]++|{_UCHAR})*+)>'
_BNODE = rf"_:({_BNODE_LABEL_PATTERN})"
_STRING = rf'"((?:[^"\\\n\r]++|\\[tbnrf"\'\\]|{_UCHAR})*+)"'
_LANG = r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
_WS = r"[ \t]*"
_STATEMENT_PATTERN = (
    rf"{_WS}(?:{_IRIREF}|{_BNODE}){_WS}"  # subject: groups 1, 2
    rf"{_IRIREF}{_WS}"  # predicate: group 3
    rf"(?:{_IRIREF}|{_BNODE}|{_STRING}(?:\^\^{_WS}{_IRIREF}|{_LANG})?){_WS}"  # object: 4-8
    rf"(?:(?:{_IRIREF}|{_BNODE}){_WS})?"  # graph label: groups 9, 10
    rf"\.{_WS}(?:#[^\r\n]*)?\Z"
)
_BLANK_LINE = re.compile(rf"{_WS}(?:#[^\r\n]*)?\Z")
_STRING_ESCAPE = re.compile(rf"\\[tbnrf\"'\\]|{_UCHAR}")
_ECHAR_VALUES = {
    "\\t": "\t", "\\b": "\b", "\\n": "\n", "\\r": "\r", "\\f": "\f",
    '\\"': '"', "\\'": "'", "\\\\": "\\",
}  # fmt: skip
_IRI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _unescape_match(match: re.Match[str]) -> str:
    text = match.group()
    if text[1] in "uU":
        code = int(text[2:], 16)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise MalformedDocument(f"escape {text} is not a Unicode scalar value")
        return chr(code)
    return _ECHAR_VALUES[text]


def _unescape(text: str) -> str:
    return _STRING_ESCAPE.sub(_unescape_match, text) if "\\" in text else text


def _parse_iri(text: str) -> IRI:
    value = _unescape(text)
    # After decoding UCHARs an IRI must still be writable as an IRIREF (e.g. no "\u003E").
    if _BAD_IRI_CHAR.search(value):
        raise MalformedDocument(f"IRI <{text}> contains an escaped character IRIs may not hold")
    if not _IRI_SCHEME.match(value):
        raise MalformedDocument(f"IRI <{text}> is not absolute")
    return IRI(value)


def _iter_lines(text: str) -> Iterator[tuple[int, str]]:
    # N-Quads EOL is [#xD#xA]+; str.splitlines would also split on U+2028, U+0085, ... which
    # may legally occur raw inside literals and IRIs.
    yield from enumerate(re.split(r"\r\n|\r|\n", text), start=1)


@cache
def _statement() -> re.Pattern[str]:
    """One N-Quads statement, compiled on first use (see _BNODE_LABEL_PATTERN)."""
    return re.compile(_STATEMENT_PATTERN)


def _statements(text: str) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    for number, line in _iter_lines(text):
        match = _statement().match(line)
        if match is None:
            if _BLANK_LINE.match(line):
                continue
            raise MalformedDocument(f"line {number}: not an N-Quads statement: {line[:200]!r}")
        yield number, match.groups()


def parse_nquads(text: str) -> list[Quad]:
    """Parse an N-Quads document into quads (duplicates kept; the canonicalizer drops them).

    Raises :class:`MalformedDocument` with the line number for anything that is not N-Quads
    1.1 (RDF 1.2 triple terms and directional language tags are not supported).
    """
    quads: list[Quad] = []
    for number, g in _statements(text):
        try:
            subject: Subject = _parse_iri(g[0]) if g[0] is not None else BlankNode(g[1] or "")
            predicate = _parse_iri(g[2] or "")
            obj: Object
            if g[3] is not None:
                obj = _parse_iri(g[3])
            elif g[4] is not None:
                obj = BlankNode(g[4])
            else:
                value = _unescape(g[5] or "")
                if g[6] is not None:
                    obj = Literal(value, _parse_iri(g[6]).value)
                elif g[7] is not None:
                    obj = Literal(value, RDF_LANGSTRING, g[7])
                else:
                    obj = Literal(value)
            graph: GraphName = None
            if g[8] is not None:
                graph = _parse_iri(g[8])
            elif g[9] is not None:
                graph = BlankNode(g[9])
        except MalformedDocument as exc:
            raise MalformedDocument(f"line {number}: {exc.message}") from None
        quads.append(Quad(subject, predicate, obj, graph))
    return quads


# Characters that force the slow path (decode, then re-escape) when a term is copied from the
# input straight into canonical form: escapes, and control characters written raw.
_NEEDS_REWRITE = re.compile(r"[\\\x00-\x1f\x7f]")


_XSD_STRING_REF = f"<{XSD_STRING}>"
_RDF_LANGSTRING_REF = f"<{RDF_LANGSTRING}>"


def _canonical_iri(text: str, cache: dict[str, str]) -> str:
    out = cache.get(text)
    if out is None:
        if "\\" in text:
            out = _iri(_parse_iri(text).value)
        else:
            if not _IRI_SCHEME.match(text):
                raise MalformedDocument(f"IRI <{text}> is not absolute")
            out = f"<{text}>"
        cache[text] = out
    return out


def parse_nquads_terms(text: str) -> list[tuple[str, str, str, str]]:
    """Parse N-Quads straight into canonical N-Quads term strings, one 4-tuple per statement.

    The canonicalizer's input form (see :mod:`skillcred._internal.rdfc`): ``"<iri>"``,
    ``"_:label"``, literals in canonical form, and ``""`` for the default graph. It skips
    building :class:`Quad` objects: a term that holds no escape is already canonical, which
    is the common case, so this is about twice as fast as :func:`parse_nquads` plus
    serialization.
    """
    rows: list[tuple[str, str, str, str]] = []
    iris: dict[str, str] = {}
    for number, g in _statements(text):
        try:
            s = _canonical_iri(g[0], iris) if g[0] is not None else f"_:{g[1]}"
            p = _canonical_iri(g[2] or "", iris)
            o: str
            if g[3] is not None:
                o = _canonical_iri(g[3], iris)
            elif g[4] is not None:
                o = f"_:{g[4]}"
            else:
                lexical = g[5] or ""
                if _NEEDS_REWRITE.search(lexical):
                    lexical = escape_literal(_unescape(lexical))
                if g[6] is not None:
                    datatype = _canonical_iri(g[6], iris)
                    if datatype == _XSD_STRING_REF:
                        o = f'"{lexical}"'
                    elif datatype == _RDF_LANGSTRING_REF:
                        raise MalformedDocument("an rdf:langString literal needs a language tag")
                    else:
                        o = f'"{lexical}"^^{datatype}'
                elif g[7] is not None:
                    o = f'"{lexical}"@{g[7]}'
                else:
                    o = f'"{lexical}"'
            graph = ""
            if g[8] is not None:
                graph = _canonical_iri(g[8], iris)
            elif g[9] is not None:
                graph = f"_:{g[9]}"
        except MalformedDocument as exc:
            raise MalformedDocument(f"line {number}: {exc.message}") from None
        rows.append((s, p, o, graph))
    return rows


# --------------------------------------------------------------------------------------------
# pyld's dataset form
# --------------------------------------------------------------------------------------------


def _pyld_term(node: Mapping[str, Any], where: str) -> IRI | BlankNode | Literal:
    kind = node.get("type")
    value = node.get("value")
    if not isinstance(value, str):
        raise MalformedDocument(f"pyld {where} has no string value: {node!r}")
    if kind == "IRI":
        return IRI(value)
    if kind == "blank node":
        return BlankNode(value[2:] if value.startswith("_:") else value)
    if kind == "literal":
        language = node.get("language")
        if language:
            return Literal(value, RDF_LANGSTRING, language)
        return Literal(value, node.get("datatype") or XSD_STRING)
    raise MalformedDocument(f"pyld {where} has unknown type {kind!r}")


def quads_from_pyld_dataset(dataset: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Quad]:
    """Convert pyld's ``to_rdf`` result (no ``format``) into quads, skipping an N-Quads trip.

    pyld returns ``{graph name: [triple, ...]}`` with ``"@default"`` for the default graph and
    ``"_:..."`` labels for blank node graph names; each triple is a dict of ``subject``,
    ``predicate`` and ``object`` term dicts (``{"type": "IRI" | "blank node" | "literal",
    "value": ..., "datatype": ..., "language": ...}``).
    """
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        graph: GraphName
        if graph_name == "@default":
            graph = None
        elif graph_name.startswith("_:"):
            graph = BlankNode(graph_name[2:])
        else:
            graph = IRI(graph_name)
        for triple in triples:
            subject = _pyld_term(triple["subject"], "subject")
            predicate = _pyld_term(triple["predicate"], "predicate")
            obj = _pyld_term(triple["object"], "object")
            if isinstance(subject, Literal) or not isinstance(predicate, IRI):
                raise MalformedDocument(f"pyld triple is not valid RDF: {triple!r}")
            quads.append(Quad(subject, predicate, obj, graph))
    return quads

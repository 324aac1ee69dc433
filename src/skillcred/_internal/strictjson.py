"""The one JSON reader for untrusted input: files, tokens and HTTP bodies.

Python's :func:`json.loads` is lenient in ways that let two parsers (or two checks in one
program) see different data in the same bytes:

* duplicate member names are accepted and the *last* one wins, where other parsers keep the
  first or refuse: ``{"alg": "EdDSA", "alg": "none"}`` means one thing to a signer and
  another to a verifier;
* ``NaN``, ``Infinity`` and ``-Infinity`` are accepted although they are not JSON, and so is a
  number such as ``1e400`` that overflows to infinity; every comparison with NaN is false, so
  an ``iat`` of ``NaN`` passes a freshness check and an ``exp`` of ``Infinity`` never expires;
* bytes are sniffed for UTF-16/UTF-32 (and a UTF-8 byte order mark is skipped), so text that
  is not UTF-8 is read as if it were;
* ``\\ud800``-style escapes yield lone surrogates, strings no UTF-8 consumer can represent.

:func:`loads` refuses all of these with one :class:`~skillcred.errors.MalformedDocument`
naming ``source``; token code maps it to ``TokenInvalid("malformed")``. A UTF-8 byte order
mark is refused too (RFC 8259 §8.1: JSON is UTF-8 and carries no BOM), in files, tokens and
bodies alike, so that one rule holds at every door.

It stays on :mod:`json`'s C scanner with hooks that cost little: duplicate names are
detected by comparing the length of the built dict with the number of pairs, ``parse_float``
only runs for numbers with a fraction or exponent, and the surrogate walk only runs when the
text contains a ``\\uD800``-``\\uDFFF`` escape at all.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from skillcred.errors import MalformedDocument

__all__ = ["loads", "same_json"]

#: A ``\\u`` escape of a UTF-16 surrogate (the only way a lone surrogate gets into a value:
#: strict UTF-8 decoding refuses encoded surrogates). It may also match an escaped backslash
#: followed by ``ud800`` text: then the walk below finds nothing, which is only slower.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class _Refused(ValueError):
    """Raised from the decoder hooks; carries the one-line reason."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Refused(f"duplicate member name {_shown(name)}")
            seen.add(name)
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not valid JSON")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(f"number {_shown(text)} is out of range (it overflows to infinity)")
    return value


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string (member name or value) anywhere in ``value`` holds a lone surrogate.

    Iterative, so nesting as deep as the decoder accepted cannot exhaust the stack.
    """
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            items: Any = (node,)
        elif isinstance(node, dict):
            items = node.keys()
            stack.extend(v for v in node.values() if not isinstance(v, int | float | bool | None))
        elif isinstance(node, list):
            stack.extend(v for v in node if not isinstance(v, int | float | bool | None))
            continue
        else:
            continue
        for text in items:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


#: Built once: ``json.loads`` with hooks constructs a decoder (and its scanner) on every call,
#: which costs more than parsing a whole credential. Sharing one is what ``json.loads`` itself
#: does with its default decoder (the scanner's per-call state is only a key-interning memo).
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)


def loads(data: bytes | bytearray | str, *, source: str | None = None) -> Any:
    """Parse JSON from UTF-8 bytes or text, strictly (RFC 8259 with the I-JSON rules of RFC 7493
    on encoding, surrogates and member names).

    Refused, each with :class:`MalformedDocument` (``path=source``): bytes that are not UTF-8
    (UTF-16/UTF-32 are not sniffed), a leading byte order mark, text that is not JSON,
    duplicate member names at any depth, ``NaN``/``Infinity``/``-Infinity``, numbers that
    overflow to infinity, and strings holding a lone surrogate. Sizes and nesting depth are
    the caller's business (:func:`skillcred._internal.fileio.parse_json` bounds both).
    """
    if isinstance(data, str):
        text = data
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedDocument("text holds a lone surrogate (not Unicode text)", path=source) from exc
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedDocument("not UTF-8 text", path=source) from exc
        if "\x00" in text:  # never in JSON text (escaped in strings); the mark of UTF-16/32
            raise MalformedDocument("not UTF-8 text (it holds NUL bytes: UTF-16 or UTF-32?)", path=source)
    if text.startswith("\ufeff"):
        raise MalformedDocument(
            "starts with a byte order mark (U+FEFF); JSON must be UTF-8 without one", path=source
        )
    try:
        value = _DECODER.decode(text)
    except _Refused as exc:
        raise MalformedDocument(str(exc), path=source) from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedDocument(f"not valid JSON ({_short(exc)})", path=source) from exc
    if _SURROGATE_ESCAPE.search(text) is not None and _has_lone_surrogate(value):
        raise MalformedDocument("a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape)",
                                path=source)
    return value


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def same_json(a: Any, b: Any) -> bool:
    """``a == b`` for plain JSON values with their types told apart (``1``, ``1.0``, ``True``
    and ``"1"`` differ; keys in the same order): two values this holds for have the same
    canonical form (RFC 8785) and the same JSON-LD reading. Why not ``==``: Python's equality
    makes ``1 == 1.0 == True``, which a context or a signed document must not blur."""
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t is dict:
        return len(a) == len(b) and all(
            ka == kb and same_json(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True))
    if t is list:
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return (t is str or t is int or t is float or t is bool) and a == b

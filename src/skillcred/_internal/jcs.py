"""JSON Canonicalization Scheme, RFC 8785 (JCS), pure Python.

Why our own: ``json.dumps(sort_keys=True)`` is not JCS. It sorts keys by code point instead of
UTF-16 code unit (they differ for astral characters vs. U+E000..U+FFFF), writes floats with
Python's ``repr`` (``1e+16`` vs. ES ``10000000000000000``, ``1e-05`` vs. ``0.00001``) and
integers of any size. JCS output is hashed and signed (``eddsa-jcs-2022``,
``ecdsa-jcs-2019``), so it has to match ECMAScript's ``JSON.stringify`` byte for byte.

Speed: values of the usual shape (see :func:`_plain`) go through ``json.dumps``'s C encoder,
which writes exactly the JCS bytes for them; the rest take the reference walk.

Numbers (RFC 8785 §3.2.2.3): every JSON number is an IEEE 754 double, serialized like
ECMAScript ``Number.prototype.toString``. Python's ``repr(float)`` already yields the shortest
digit string that round-trips, correctly rounded (the same digit choice ES requires), so we
only re-lay those digits out in ES notation. Python ``int``\\ s are converted the way a JSON
parser on the other side would read them: exactly when ``|i| <= 2**53``, otherwise rounded to
the nearest double (ties to even, which is what ``float(int)`` does), so ``2**53 + 1``
canonicalizes as ``9007199254740992``. Integers too large for a double, NaN and the infinities
are refused with :class:`MalformedDocument`, as are lone surrogates (RFC 8785 requires I-JSON,
RFC 7493), non-string keys and any non-JSON type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from skillcred.errors import MalformedDocument

__all__ = ["canonicalize_json", "memo", "number_to_json"]

_MAX_SAFE_INTEGER = 2**53

# ES JSON.stringify / RFC 8785 §3.2.2.2: short escapes, \u00xx (lower-case hex) for the other
# control characters, and nothing else escaped.
_STRING_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_STRING_ESCAPES.update(
    {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
)


_NEEDS_ESCAPE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_STRING_ESCAPES)) + "]")


def _string(value: str) -> str:
    # most strings need no escape: a regex search is several times cheaper than translate()
    return f'"{value}"' if _NEEDS_ESCAPE.search(value) is None else f'"{value.translate(_STRING_ESCAPES)}"'


def _utf16_key(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like the sequence of UTF-16 code units.
    return key.encode("utf-16-be", "surrogatepass")


def _float_to_json(value: float) -> str:
    """ECMAScript Number::toString(value) for a finite double (ECMA-262 §6.1.6.1.20)."""
    if value == 0:
        return "0"  # also -0
    if value < 0:
        return "-" + _float_to_json(-value)
    # Shortest round-tripping digits d1..dk and exponent n with value = 0.d1..dk x 10^n.
    mantissa, _, exponent_text = repr(value).partition("e")
    integer_part, _, fraction_part = mantissa.partition(".")
    digits = (integer_part + fraction_part).lstrip("0")
    n = len(integer_part) + (int(exponent_text) if exponent_text else 0)
    if integer_part == "0":  # "0.000123" -> digits "123", point moves left past the zeros
        n = -(len(fraction_part) - len(fraction_part.lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:  # integer: digits followed by n-k zeros
        return digits + "0" * (n - k)
    if 0 < n <= 21:  # decimal point inside the digits
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:  # 0.000ddd
        return f"0.{'0' * -n}{digits}"
    sign = "+" if n - 1 >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(n - 1)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(n - 1)}"


def number_to_json(value: int | float) -> str:
    """Serialize a JSON number as RFC 8785 / ECMAScript does (see the module docstring)."""
    if isinstance(value, bool):
        raise MalformedDocument("a boolean is not a number")
    if isinstance(value, int):
        if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
            return str(int(value))  # exact; < 1e21 so ES prints it as a plain integer
        try:
            value = float(value)  # nearest double, ties to even
        except OverflowError:
            raise MalformedDocument(
                "integer is too large for an IEEE 754 double (RFC 8785 §3.2.2.3)"
            ) from None
    if not math.isfinite(value):
        raise MalformedDocument(f"{value!r} is not a JSON number (RFC 8785 §3.2.2.3)")
    return _float_to_json(float(value))


def _serialize(value: Any, out: list[str], active: set[int]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float):
        out.append(number_to_json(value))
    elif isinstance(value, dict):
        if id(value) in active:
            raise MalformedDocument("circular reference in JSON value")
        active.add(id(value))
        for key in value:
            if not isinstance(key, str):
                raise MalformedDocument(f"JSON object keys must be strings, not {key!r}")
        out.append("{")
        # RFC 8785 §3.2.3: members sorted by key as arrays of UTF-16 code units.
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _serialize(value[key], out, active)
        out.append("}")
        active.discard(id(value))
    elif isinstance(value, list | tuple):
        if id(value) in active:
            raise MalformedDocument("circular reference in JSON value")
        active.add(id(value))
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _serialize(item, out, active)
        out.append("]")
        active.discard(id(value))
    else:
        raise MalformedDocument(f"{type(value).__name__} is not JSON-serializable")


# json.dumps's C encoder writes JCS exactly for this shape (see _plain); sort_keys orders by code
# point, which is UTF-16 code unit order unless a key holds an astral character.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"),
                           check_circular=True).encode
# The C encoder called directly: JSONEncoder.encode builds one per call behind two Python frames,
# a cost a presentation's canonicalization pays per run of members. No circular check (markers
# None): _plain never accepts a circular value (its walk ends in RecursionError first).
_MAKE_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER: Any = (_MAKE_C_ENCODER(None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False)
                   if _MAKE_C_ENCODER is not None else None)


def _encode(value: Any) -> str:
    if _C_ENCODER is None:  # an interpreter without the _json accelerator
        return _ENCODE(value)
    return "".join(_C_ENCODER(value, 0))


def _plain(value: Any) -> bool:
    """True when ``value`` holds only exact dicts with str keys, lists, str, bool, None and ints
    within +-2**53: the values for which ``json.dumps``'s C encoder writes the RFC 8785 form
    byte for byte (same escapes, same separators; Python prints such ints exactly as ES does).
    Floats, larger ints, tuples, subclasses and anything else take the reference serializer.

    Why a separate walk: the C encoder is ~10x faster than :func:`_serialize`, but it has no
    hook for numbers and silently stringifies int/float/bool/None keys, so what it is given
    has to be checked first; this walk only tests types, so it costs a fraction of the
    serializer it replaces.
    """
    t = type(value)
    if t is dict:
        for k in value:
            if type(k) is not str:
                return False
        members: Any = value.values()
    elif t is list:
        members = value
    else:
        members = None
    if members is not None:
        for v in members:
            tv = type(v)
            if tv is str or tv is bool or v is None:
                continue
            if tv is int:
                if not -_MAX_SAFE_INTEGER <= v <= _MAX_SAFE_INTEGER:
                    return False
            elif not _plain(v):
                return False
        return True
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return bool(-_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER)
    return False


def _fast(value: Any) -> str | None:
    """The canonical form through the C encoder, or None when ``value`` needs the reference
    serializer (see :func:`_plain`; also astral characters, whose key order differs, and
    anything the encoder refuses: circular or too deep values get the reference's errors)."""
    try:
        if not _plain(value):
            return None
        text = _encode(value)
    except (RecursionError, ValueError, TypeError):
        return None
    if not text.isascii() and _has_astral(text):
        return None
    return text


def _has_astral(text: str) -> bool:
    """Whether ``text`` holds a character beyond U+FFFF: exactly when its UTF-16 form has a
    surrogate pair, i.e. more than two bytes per character (a lone surrogate is two bytes with
    ``surrogatepass``, and is refused later by the UTF-8 encoding). One C pass, two to forty times
    cheaper than a regular expression search (non-ASCII text is common: names, descriptions)."""
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _reference(value: Any) -> str:
    """The straightforward serializer: every value walked in Python (the specification's
    algorithm, kept as the fallback and as the oracle of the differential tests)."""
    out: list[str] = []
    try:
        _serialize(value, out, set())
    except RecursionError:
        raise MalformedDocument("JSON value is nested too deeply") from None
    return "".join(out)


#: Within :func:`memo`: canonical texts of objects without their proof, keyed by their members
#: (see :func:`_members_key`), each with the object that pins the members' identities.
_MEMO: ContextVar[dict[Any, tuple[Any, str]] | None] = ContextVar("skillcred_jcs_memo", default=None)

#: Members composed from their own canonical forms inside :func:`memo` (the rest of an object
#: goes through the encoder in runs): a presentation's credentials, a document's proof.
_SPLIT_KEYS = frozenset(("proof", "verifiableCredential"))


@contextmanager
def memo() -> Iterator[None]:
    """Within the block, a secured object met inside a canonicalization (a presentation's
    credential, with its proof) leaves the canonical form of itself without its proof behind,
    and canonicalizing that unsecured object later (the credential's own proof check) takes it.

    Why: a presentation's JCS form contains every credential, and each credential's proof then
    canonicalizes the same credential again; a verification serializes each one once this way.
    The composition is exact: an object's RFC 8785 form is its members' forms in key order, so
    runs of members go through :func:`canonicalize_json`'s serializer and the split members
    (:data:`_SPLIT_KEYS`) are composed in their sorted place. The objects must not change inside
    the block (a verification reads a private copy); each remembered text pins the object whose
    members it was made from, so no identity in a key is reused. Nothing outlives the block.
    """
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _text(value: Any) -> str:
    """The canonical text, not yet checked for lone surrogates (the UTF-8 encoding does that)."""
    text = _fast(value)
    return _reference(value) if text is None else text


def _members_key(value: dict[Any, Any]) -> tuple[Any, ...] | None:
    """What identifies an object's content inside :func:`memo`: its keys with each scalar's type
    and value, or the identity of each object or array (1, 1.0 and True differ)."""
    key = tuple([(k, ("id", id(v)) if type(v) is dict or type(v) is list else ("value", type(v), v))
                 for k, v in value.items()])
    try:
        hash(key)
    except TypeError:  # a value that is not JSON (a set...): not remembered
        return None
    return key


def _composed(value: Any, table: dict[Any, tuple[Any, str]], active: set[int]) -> str:
    """:func:`_text` of ``value``, composing split members from their parts (see :func:`memo`)."""
    t = type(value)
    if t is list:
        if id(value) in active:
            raise MalformedDocument("circular reference in JSON value")
        active.add(id(value))
        text = "[" + ",".join(_composed(v, table, active) for v in value) + "]"
        active.discard(id(value))
        return text
    if t is not dict or ("proof" not in value and "verifiableCredential" not in value):
        return _text(value)
    if any(type(k) is not str for k in value):
        return _text(value)  # the serializer refuses it
    if id(value) in active:
        raise MalformedDocument("circular reference in JSON value")
    if type(value.get("proof")) is dict and "verifiableCredential" not in value:
        composed = _secured(value, table, active)
        if composed is not None:
            return composed
    active.add(id(value))
    parts: list[str] = []
    proof_at = -1
    run: dict[str, Any] = {}
    for k in sorted(value, key=_utf16_key):
        v = value[k]
        if k in _SPLIT_KEYS and (type(v) is dict or type(v) is list):
            if run:
                parts.append(_text(run)[1:-1])
                run = {}
            if k == "proof":
                proof_at = len(parts)
            parts.append(_string(k) + ":" + _composed(v, table, active))
        else:
            run[k] = v
    if run:
        parts.append(_text(run)[1:-1])
    active.discard(id(value))
    if proof_at >= 0:
        key = _members_key({k: v for k, v in value.items() if k != "proof"})
        if key is not None:
            table[key] = (value, "{" + ",".join(parts[:proof_at] + parts[proof_at + 1:]) + "}")
    return "{" + ",".join(parts) + "}"


def _secured(value: dict[str, Any], table: dict[Any, tuple[Any, str]], active: set[int]) -> str | None:
    """:func:`_composed` of a secured object (a credential with its proof) in two serializer
    runs instead of three: the object without its proof (the text :func:`memo` remembers, and
    most of the work), then the proof member put in its sorted place, found from the text of
    the members that sort after ``"proof"`` (usually a few short ones). ``k > "proof"`` is the
    RFC 8785 order too: against an ASCII key, code points and UTF-16 code units agree.
    None when the texts do not line up (never for canonical texts): the general path runs."""
    active.add(id(value))
    without = {k: v for k, v in value.items() if k != "proof"}
    body = _text(without)
    after = {k: v for k, v in without.items() if k > "proof"}
    proof_member = '"proof":' + _composed(value["proof"], table, active)
    active.discard(id(value))
    if not after:
        text = body[:-1] + ("," if len(body) > 2 else "") + proof_member + "}"
    else:
        after_body = _text(after)[1:-1]
        if not body.endswith(after_body + "}"):
            return None
        text = body[: len(body) - len(after_body) - 1] + proof_member + "," + after_body + "}"
    key = _members_key(without)
    if key is not None:
        table[key] = (value, body)
    return text


def canonicalize_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical form of a JSON value, as UTF-8 bytes.

    ``value`` is what ``json.loads`` produces (dict, list, str, int, float, bool, None;
    tuples are accepted as arrays). Raises :class:`MalformedDocument` for anything that has no
    JCS form: NaN/Infinity, integers beyond the double range, non-string keys, lone
    surrogates, circular references, other types.
    """
    table = _MEMO.get()
    if table is None:
        text = _text(value)
    else:
        known = table.get(_members_key(value)) if type(value) is dict else None
        try:
            text = known[1] if known is not None else _composed(value, table, set())
        except RecursionError:
            raise MalformedDocument("JSON value is nested too deeply") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedDocument(
            "JSON strings must not contain lone surrogates (RFC 8785 requires I-JSON)"
        ) from None

"""The one CBOR (RFC 8949) codec of skillcred: ``ecdsa-sd-2023`` proof values and COSE_Sign1.

Both readers share one strict core: definite lengths only, every head in its preferred
(shortest) encoding, no trailing bytes, no duplicate map keys, bounded depth -- so a proofValue
or a COSE message has exactly one reading. Map keys are written in ascending order of their
encoded bytes (RFC 8949 §4.2.1 core deterministic encoding; for integer keys that is ascending
numeric order).

The default mode is what the ``ecdsa-sd-2023`` suite needs and nothing more: unsigned integers,
byte strings, text strings, arrays and maps (no tags, floats, negative integers or simple
values). ``cose=True`` adds what COSE_Sign1 headers need (RFC 9052): negative integers (the
``alg`` labels), ``false``/``true``/``null``, tags (read as :class:`Tag`; COSE_Sign1 is tag 18),
deeper nesting, and map keys restricted to integers and text. Floats and other simple values
stay refused in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skillcred.errors import MalformedDocument

__all__ = ["COSE_MAX_DEPTH", "MAX_DEPTH", "CBORError", "Tag", "decode", "encode"]

#: nesting bound of the ``ecdsa-sd-2023`` mode (a proofValue is an array of maps/arrays)
MAX_DEPTH = 8
#: nesting bound of the COSE mode (a COSE_Sign1 header may hold structured values)
COSE_MAX_DEPTH = 32

_SIMPLE = {20: False, 21: True, 22: None}


class CBORError(MalformedDocument):
    """Bytes that are not the strict CBOR subset this module reads, or a value it cannot write.

    Callers turn it into their own error (a ``ProofError``, a ``TokenInvalid``): the codec does
    not know whose bytes it reads. It is in the one exception tree all the same, so nothing that
    escapes by mistake is a bare ``ValueError``."""

    code = "cbor_malformed"


@dataclass(frozen=True)
class Tag:
    """A tagged item (major type 7 is not a tag; major type 6 is), read only in COSE mode."""

    number: int
    value: Any


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([(major << 5) | value])
    if value < 0x100:
        return bytes([(major << 5) | 24, value])
    if value < 0x10000:
        return bytes([(major << 5) | 25]) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes([(major << 5) | 26]) + value.to_bytes(4, "big")
    if value < 0x10000000000000000:
        return bytes([(major << 5) | 27]) + value.to_bytes(8, "big")
    raise CBORError("integer too large for CBOR")


def _encode(value: Any, out: list[bytes], cose: bool) -> None:
    if isinstance(value, bool) or value is None:
        if not cose:
            raise CBORError(f"cannot encode {value!r}")
        out.append({False: b"\xf4", True: b"\xf5", None: b"\xf6"}[value])
    elif isinstance(value, int):
        if value < 0 and not cose:
            raise CBORError("negative integers are not supported")
        out.append(_head(0, value) if value >= 0 else _head(1, -1 - value))
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        out.append(_head(2, len(data)))
        out.append(data)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        out.append(_head(3, len(data)))
        out.append(data)
    elif isinstance(value, list | tuple):
        out.append(_head(4, len(value)))
        for item in value:
            _encode(item, out, cose)
    elif isinstance(value, dict):
        if cose and not all(isinstance(k, int | str) and not isinstance(k, bool) for k in value):
            raise CBORError("COSE map keys must be integers or text")
        items = sorted(((encode(k, cose=cose), v) for k, v in value.items()), key=lambda kv: kv[0])
        out.append(_head(5, len(items)))
        for key, item in items:
            out.append(key)
            _encode(item, out, cose)
    elif isinstance(value, Tag) and cose:
        out.append(_head(6, value.number))
        _encode(value.value, out, cose)
    else:
        raise CBORError(f"cannot encode a {type(value).__name__}")


def encode(value: Any, *, cose: bool = False) -> bytes:
    """Encode ints (>= 0), bytes, str, lists/tuples and dicts; with ``cose`` also negative
    ints, ``False``/``True``/``None`` and :class:`Tag` (map keys then integers or text)."""
    out: list[bytes] = []
    _encode(value, out, cose)
    return b"".join(out)


class _Reader:
    def __init__(self, data: bytes, cose: bool) -> None:
        self.data = data
        self.pos = 0
        self.cose = cose
        self.max_depth = COSE_MAX_DEPTH if cose else MAX_DEPTH

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise CBORError("truncated CBOR")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int]:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if major == 7:  # simple values and floats carry no length: the info IS the value
            if self.cose and info in _SIMPLE:
                return major, info
            raise CBORError("CBOR floats and simple values are not supported")
        if info < 24:
            return major, info
        if info > 27:
            raise CBORError("indefinite lengths and reserved values are not supported")
        size = 1 << (info - 24)
        value = int.from_bytes(self.take(size), "big")
        if value < (24 if size == 1 else 1 << (4 * size)):
            raise CBORError("CBOR integer or length not in its shortest form")
        return major, value

    def item(self, depth: int) -> Any:
        if depth > self.max_depth:
            raise CBORError("CBOR nests too deeply")
        major, value = self.head()
        if major == 0:
            return value
        if major == 1 and self.cose:
            return -1 - value
        if major == 2:
            return self.take(value)
        if major == 3:
            try:
                return self.take(value).decode("utf-8")
            except UnicodeDecodeError:
                raise CBORError("CBOR text string is not UTF-8") from None
        if major == 4:
            if value > len(self.data) - self.pos:
                raise CBORError("truncated CBOR")
            return [self.item(depth + 1) for _ in range(value)]
        if major == 5:
            if value > len(self.data) - self.pos:
                raise CBORError("truncated CBOR")
            result: dict[Any, Any] = {}
            for _ in range(value):
                key = self.item(depth + 1)
                if isinstance(key, list | dict | bool) or (self.cose and not isinstance(key, int | str)):
                    raise CBORError("CBOR map keys must be integers or strings")
                if key in result:
                    raise CBORError("duplicate CBOR map key")
                result[key] = self.item(depth + 1)
            return result
        if major == 6 and self.cose:
            return Tag(value, self.item(depth + 1))
        if major == 7:  # only the simple values head() let through (COSE mode)
            return _SIMPLE[value]
        raise CBORError(f"CBOR major type {major} is not supported")


def decode(data: bytes, *, cose: bool = False) -> Any:
    """Decode exactly one item; trailing bytes are an error. ``cose`` reads the COSE subset
    (see the module docstring) instead of the ``ecdsa-sd-2023`` one."""
    reader = _Reader(bytes(data), cose)
    value = reader.item(0)
    if reader.pos != len(reader.data):
        raise CBORError("trailing bytes after the CBOR item")
    return value

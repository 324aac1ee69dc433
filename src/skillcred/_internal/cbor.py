"""A tiny CBOR (RFC 8949) encoder and decoder for the ``ecdsa-sd-2023`` proof values.

Only what the suite needs: unsigned integers, byte strings, text strings, arrays and maps, all
with definite lengths, in the preferred (shortest) encoding. Map keys are written in ascending
order of their encoded bytes (RFC 8949 §4.2.1 core deterministic encoding; for the suite's
integer keys that is ascending numeric order). The decoder is strict: it refuses indefinite
lengths, non-shortest heads, tags, floats, negative integers, trailing bytes, duplicate map
keys and nesting beyond a small depth, so a proofValue has exactly one reading.
"""

from __future__ import annotations

from typing import Any

__all__ = ["decode", "encode"]

MAX_DEPTH = 8


class _CBORError(ValueError):
    """Bytes that are not the strict CBOR subset this module reads, or a value it cannot write."""


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
    raise _CBORError("integer too large for CBOR")


def _encode(value: Any, out: list[bytes]) -> None:
    if isinstance(value, bool) or value is None:
        raise _CBORError(f"cannot encode {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise _CBORError("negative integers are not supported")
        out.append(_head(0, value))
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
            _encode(item, out)
    elif isinstance(value, dict):
        items = sorted((encode(k), v) for k, v in value.items())
        out.append(_head(5, len(items)))
        for key, item in items:
            out.append(key)
            _encode(item, out)
    else:
        raise _CBORError(f"cannot encode a {type(value).__name__}")


def encode(value: Any) -> bytes:
    """Encode ints (>= 0), bytes, str, lists/tuples and dicts."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise _CBORError("truncated CBOR")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int]:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if info < 24:
            return major, info
        if info > 27:
            raise _CBORError("indefinite lengths and reserved values are not supported")
        size = 1 << (info - 24)
        value = int.from_bytes(self.take(size), "big")
        if value < (24 if size == 1 else 1 << (4 * size)):
            raise _CBORError("CBOR integer or length not in its shortest form")
        return major, value

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _CBORError("CBOR nests too deeply")
        major, value = self.head()
        if major == 0:
            return value
        if major == 2:
            return self.take(value)
        if major == 3:
            try:
                return self.take(value).decode("utf-8")
            except UnicodeDecodeError:
                raise _CBORError("CBOR text string is not UTF-8") from None
        if major == 4:
            if value > len(self.data) - self.pos:
                raise _CBORError("truncated CBOR")
            return [self.item(depth + 1) for _ in range(value)]
        if major == 5:
            if value > len(self.data) - self.pos:
                raise _CBORError("truncated CBOR")
            result: dict[Any, Any] = {}
            for _ in range(value):
                key = self.item(depth + 1)
                if isinstance(key, list | dict):
                    raise _CBORError("CBOR map keys must be integers or strings")
                if key in result:
                    raise _CBORError("duplicate CBOR map key")
                result[key] = self.item(depth + 1)
            return result
        raise _CBORError(f"CBOR major type {major} is not supported")


def decode(data: bytes) -> Any:
    """Decode exactly one item; trailing bytes are an error."""
    reader = _Reader(bytes(data))
    value = reader.item(0)
    if reader.pos != len(reader.data):
        raise _CBORError("trailing bytes after the CBOR item")
    return value

"""base58btc multibase (``z...``), the encoding of ``proofValue`` and Multikey values.

The same results as ``multiformats.multibase.encode(data, "base58btc")`` / ``.decode(text)`` for
``z``-prefixed text (checked by tests/test_fastpath_differential.py), about 30 times faster:
the library validates types on every character, which made encoding one signature cost more
than signing it. Bitcoin alphabet; each leading zero byte is one leading ``1``.
"""

from __future__ import annotations

__all__ = ["MAX_DECODE_CHARS", "decode", "encode"]

#: Longest text :func:`decode` accepts. Decoding takes time quadratic in the length (as in the
#: library); signatures and keys are under 150 characters, so anything this long is refused
#: before any work instead of keeping a verifier busy.
MAX_DECODE_CHARS = 4096

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
#: ``bytes.translate`` table: an alphabet character's byte to its digit value, any other byte to
#: 255 (no digit is that large), so one C pass maps the text and one finds a bad character.
_DIGITS = bytes(_INDEX.get(chr(b), 255) for b in range(256))


def encode(data: bytes) -> str:
    """``z`` + base58btc of ``data``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(ALPHABET[r])
    return "z" + "1" * zeros + "".join(reversed(out))


def decode(text: str) -> bytes:
    """Bytes of a ``z``-prefixed base58btc string; :class:`ValueError` for anything else."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("not a base58btc multibase string (it must start with 'z')")
    body = text[1:]
    if len(body) > MAX_DECODE_CHARS:
        raise ValueError(f"base58btc text longer than {MAX_DECODE_CHARS} characters")
    try:
        digits = body.encode("ascii").translate(_DIGITS)
    except UnicodeEncodeError:
        raise ValueError("invalid character for base58btc") from None
    if 255 in digits:
        raise ValueError("invalid character for base58btc")
    n = 0
    for d in digits:  # iterating bytes gives ints: no per-character dictionary lookup
        n = n * 58 + d
    zeros = len(body) - len(body.lstrip("1"))
    size = (n.bit_length() + 7) // 8
    return b"\0" * zeros + (n.to_bytes(size, "big") if size else b"")

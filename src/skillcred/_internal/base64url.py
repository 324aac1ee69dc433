"""base64url without padding (RFC 4648 §5, RFC 7515 §2), canonical only.

The one decoder for every base64url value skillcred reads: JWS/SD-JWT segments and
disclosures, JWK coordinates, multibase ``u`` values (ecdsa-sd-2023 proof values and label
maps, Bitstring Status List ``encodedList``).

:func:`base64.urlsafe_b64decode` is lenient: it skips characters outside the alphabet
(whitespace, ``+``, ``/``, ``!``...), accepts ``=`` padding, and ignores the unused low bits of
the last character, so ``AB``, ``AC`` ... ``AP`` all decode to the same byte. One signature or
payload then has many encodings: a token can be altered without breaking its signature, and
anything keyed on the encoded text (a replay cache, an SD-JWT digest, a log) is fooled.
:func:`decode` accepts exactly the text :func:`encode` produces for some bytes, and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["decode", "encode"]

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode(data: bytes) -> str:
    """base64url of ``data``, without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of canonical unpadded base64url ``text``; :class:`ValueError` for anything else.

    Refused: a non-string, ``=`` padding, any character outside ``A-Z a-z 0-9 - _``
    (whitespace and the standard alphabet's ``+``/``/`` included), a length of 1 modulo 4
    (no byte string encodes to that), and non-zero unused bits in the last character (the
    test: the decoded bytes must encode back to the same text).
    """
    if not isinstance(text, str) or _ALPHABET.fullmatch(text) is None:
        raise ValueError("not base64url without padding (characters outside A-Z a-z 0-9 - _)")
    if len(text) % 4 == 1:
        raise ValueError("not base64url (impossible length)")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # cannot happen after the checks above
        raise ValueError("not base64url") from exc
    if encode(data) != text:
        raise ValueError("not canonical base64url (the unused bits of the last character are not zero)")
    return data

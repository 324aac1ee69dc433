"""Encoders written for the tests, independent of skillcred (and of multiformats): what the
library produces is checked against these, so a shared bug cannot hide in both.

The key tables come from the multicodec table (table.csv), varint-encoded:
ed25519-pub 0xed, p256-pub 0x1200, p384-pub 0x1201, ed25519-priv 0x1300, p256-priv 0x1306,
p384-priv 0x1307.
"""

from __future__ import annotations

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # base58btc (Bitcoin)
PUB_PREFIX = {"ed25519": bytes([0xED, 0x01]), "p256": bytes([0x80, 0x24]), "p384": bytes([0x81, 0x24])}
PRIV_PREFIX = {"ed25519": bytes([0x80, 0x26]), "p256": bytes([0x86, 0x26]), "p384": bytes([0x87, 0x26])}


def b58encode(data: bytes) -> str:
    num = int.from_bytes(data, "big")
    out = ""
    while num:
        num, rem = divmod(num, 58)
        out = B58_ALPHABET[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + out


def b58decode(text: str) -> bytes:
    num = 0
    for ch in text:
        num = num * 58 + B58_ALPHABET.index(ch)
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


__all__ = ["B58_ALPHABET", "PRIV_PREFIX", "PUB_PREFIX", "b58decode", "b58encode"]

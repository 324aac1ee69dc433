"""IETF Token Status List (draft-ietf-oauth-status-list): the status of SD-JWT VCs.

An SD-JWT VC names its slot as ``"status": {"status_list": {"idx": 7, "uri": "https://..."}}``;
the issuer publishes at ``uri`` a signed *Status List Token* (``typ: statuslist+jwt``) whose
payload holds ``sub`` (= the uri), ``iat``, ``exp``, ``ttl`` and
``status_list: {"bits": 1|2|4|8, "lst": base64url(zlib(byte array))}``. Statuses are read
least-significant bits first: with ``bits=2`` byte 0 holds indexes 0 (bits 0-1) to 3 (bits 6-7).
Values (§7.1): ``0`` VALID, ``1`` INVALID (revoked), ``2`` SUSPENDED, ``3`` application-specific.

skillcred derives one token status list from each revocation Bitstring Status List of the
registry, at the same index (``bits=2``): ``1`` when the credential's revocation bit is set,
else ``2`` when its suspension bit is, else ``0``. So revoking or suspending a credential that
carries both kinds of entry sets both lists at once, and nothing new is allocated.

Like :mod:`skillcred.status`, this module never fetches: the verifier holds the tokens (files,
``skillcred status import``) and checks them with :func:`verify_status_list_token`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from skillcred._internal import base64url
from skillcred._internal.timeutil import utcnow
from skillcred.did import DidResolver
from skillcred.errors import InvalidArgument, MalformedDocument, TokenInvalid
from skillcred.jose import peek_jwt, sign_jwt, verify_signed_jwt
from skillcred.keys import KeyPair

__all__ = [
    "STATUS_INVALID",
    "STATUS_SUSPENDED",
    "STATUS_VALID",
    "TYP",
    "StatusListToken",
    "TokenStatusList",
    "peek_status_list_token",
    "sign_status_list_token",
    "token_list_url",
    "verify_status_list_token",
]

TYP: Final = "statuslist+jwt"
STATUS_VALID: Final = 0
STATUS_INVALID: Final = 1
STATUS_SUSPENDED: Final = 2
#: cap on the decompressed list (as MAX_LIST_BYTES of Bitstring lists): zlib packs zeros ~1000:1
MAX_LIST_BYTES: Final = 16 * 1024 * 1024
_BITS = (1, 2, 4, 8)


class TokenStatusList:
    """A status array of ``size`` entries of ``bits`` bits each (draft §4.1)."""

    def __init__(self, size: int, bits: int = 2, data: bytes | None = None) -> None:
        if bits not in _BITS:
            raise InvalidArgument(f"bits must be 1, 2, 4 or 8, not {bits!r}")
        if not isinstance(size, int) or size < 1:
            raise InvalidArgument("a token status list holds at least one entry")
        self.bits = bits
        self.size = size
        n = (size * bits + 7) // 8
        if data is not None and len(data) != n:
            raise InvalidArgument("data does not hold exactly size entries")
        self._data = bytearray(data if data is not None else n)

    @classmethod
    def decode(cls, lst: Any, bits: Any, *, max_bytes: int = MAX_LIST_BYTES) -> TokenStatusList:
        """Expand ``lst`` (base64url of the zlib-compressed array); refuses a bomb past ``max_bytes``."""
        if isinstance(bits, bool) or bits not in _BITS:
            raise TokenInvalid("status_list_malformed", f"status_list bits must be 1, 2, 4 or 8, not {bits!r}")
        if not isinstance(lst, str) or not lst:
            raise TokenInvalid("status_list_malformed", "status_list lst is not a base64url string")
        try:
            raw = base64url.decode(lst)
        except (ValueError, MalformedDocument):
            raise TokenInvalid("status_list_malformed", "status_list lst is not base64url") from None
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, max_bytes + 1)
        except zlib.error as exc:
            raise TokenInvalid("status_list_malformed", f"status_list lst is not zlib data ({exc})") from None
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise TokenInvalid("status_list_malformed", f"status_list expands beyond {max_bytes} bytes")
        if not inflater.eof:
            raise TokenInvalid("status_list_malformed", "status_list lst is truncated zlib data")
        if not data:
            raise TokenInvalid("status_list_malformed", "status_list is empty")
        return cls(len(data) * 8 // bits, bits, data)

    def encode(self) -> str:
        """base64url (no padding) of the zlib (DEFLATE, RFC 1950) compressed array."""
        return base64url.encode(zlib.compress(bytes(self._data), 9))

    def get(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise TokenInvalid("status_index_out_of_range", f"index {index!r} is outside the list ({self.size})")
        pos = index * self.bits
        return (self._data[pos // 8] >> (pos % 8)) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        if not 0 <= index < self.size:
            raise InvalidArgument(f"index {index} is outside the list ({self.size})")
        if not 0 <= value < (1 << self.bits):
            raise InvalidArgument(f"value {value} does not fit in {self.bits} bit(s)")
        pos = index * self.bits
        mask = ((1 << self.bits) - 1) << (pos % 8)
        self._data[pos // 8] = (self._data[pos // 8] & ~mask) | (value << (pos % 8))


def token_list_url(revocation_list_url: str) -> str:
    """The token status list skillcred derives from a revocation list: ``.../status/revocation-1``
    -> ``.../status/tokens/revocation-1.jwt`` (a file name of its own when published)."""
    base, name = revocation_list_url.rstrip("/").rsplit("/", 1)
    return f"{base}/tokens/{name}.jwt"


def sign_status_list_token(
    status_list: TokenStatusList, *, uri: str, key: KeyPair, kid: str, issuer: str,
    valid_for: timedelta = timedelta(days=7), ttl: int | None = None, now: datetime | None = None,
) -> str:
    """A signed Status List Token (``statuslist+jwt``) for ``uri``; ``iss`` names the issuer
    (its DID: the verifier binds ``kid`` to it, as for the credentials)."""
    when = int((now or utcnow()).timestamp())
    payload: dict[str, Any] = {"iss": issuer, "sub": uri, "iat": when, "exp": when + int(valid_for.total_seconds()),
                               "status_list": {"bits": status_list.bits, "lst": status_list.encode()}}
    if ttl is not None:
        payload["ttl"] = int(ttl)
    return sign_jwt(payload, key, kid=kid, typ=TYP)


@dataclass(frozen=True)
class StatusListToken:
    """A Status List Token, read (:func:`peek_status_list_token`) or verified."""

    token: str
    uri: str
    issuer: str | None
    iat: int | None
    exp: int | None
    ttl: int | None
    bits: Any
    lst: Any

    def status_list(self, *, max_bytes: int = MAX_LIST_BYTES) -> TokenStatusList:
        return TokenStatusList.decode(self.lst, self.bits, max_bytes=max_bytes)


def _numeric(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid("status_list_malformed", f"Status List Token {name} is not a number")
    return int(value)


def peek_status_list_token(token: str) -> StatusListToken:
    """Parse a Status List Token without verifying it (to file it under its ``sub``)."""
    if not isinstance(token, str):
        raise TokenInvalid("malformed", "a Status List Token is a compact JWS string")
    header, payload = peek_jwt(token.strip(), "Status List Token")
    if not isinstance(header.get("typ"), str) or header["typ"].removeprefix("application/") != TYP:
        raise TokenInvalid("media_type_invalid", f"Status List Token typ is {header.get('typ')!r}, expected {TYP}")
    if not isinstance(payload, dict):
        raise TokenInvalid("status_list_malformed", "Status List Token payload is not a JSON object")
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenInvalid("status_list_malformed", "Status List Token has no sub (the list's uri)")
    sl = payload.get("status_list")
    if not isinstance(sl, dict):
        raise TokenInvalid("status_list_malformed", "Status List Token has no status_list object")
    iss = payload.get("iss")
    return StatusListToken(token.strip(), sub, iss if isinstance(iss, str) else None, _numeric(payload, "iat"),
                           _numeric(payload, "exp"), _numeric(payload, "ttl"), sl.get("bits"), sl.get("lst"))


def verify_status_list_token(token: str, *, resolver: DidResolver, issuer: str) -> StatusListToken:
    """Verify the signature of a Status List Token and that ``issuer`` signed it.

    The key named by ``kid`` must be controlled by ``issuer`` (the credential's issuer: only
    its own lists may say anything about its credentials); a token whose ``iss`` names
    someone else is refused. Times are the caller's (the verifier's freshness rules)."""
    read = peek_status_list_token(token)
    if read.issuer is not None and read.issuer != issuer:
        raise TokenInvalid("iss_mismatch", f"Status List Token iss {read.issuer!r} is not the issuer {issuer!r}")
    verify_signed_jwt(read.token, resolver=resolver, expected_typ=TYP, party=issuer, what="Status List Token")
    return read

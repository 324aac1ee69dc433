"""W3C Bitstring Status List v1.0 (Recommendation, 2025-05-15): revocation and suspension.

An issuer gives every credential a slot (``statusListIndex``) in a big, mostly-zero bitstring
and publishes that bitstring, GZIP-compressed, inside a signed *status list credential*. A
verifier reads the slot: ``0`` means the status (revoked, suspended, ...) is not set. Many
credentials share one list, so fetching the list does not reveal which credential is checked
(herd privacy), which is why the spec fixes a minimum list length.

This module is the library side only:

* :class:`BitstringStatusList` - the bitstring itself: ``get``/``set``, ``encode``/``decode``
  (spec §3.3 Bitstring Generation and §3.4 Bitstring Expansion).
* :func:`status_entry` - the ``BitstringStatusListEntry`` that goes into a credential's
  ``credentialStatus`` (spec §2.1).
* :func:`status_list_credential` - the *unsigned* ``BitstringStatusListCredential`` (spec §2.2);
  sign it with :func:`skillcred.proofs.add_proof`.
* :func:`read_status` - the spec's §3.2 Validate Algorithm over an entry and a list credential
  the caller already holds (skillcred never fetches anything), returning a
  :class:`StatusResult`. It does **not** check the list credential's proof, issuer or dates:
  the verifier does that with :func:`skillcred.proofs.check_proofs` and :func:`is_stale`.

Errors name the spec's error they stand for (``spec_error`` and ``problem_type``):
:class:`StatusMalformed` (MALFORMED_VALUE_ERROR), :class:`StatusVerificationError`
(STATUS_VERIFICATION_ERROR), :class:`StatusListLengthError` (STATUS_LIST_LENGTH_ERROR) and
:class:`StatusRangeError` (RANGE_ERROR). All derive from
:class:`~skillcred.errors.MalformedDocument`: the documents, not the caller, are at fault.
"""

from __future__ import annotations

import base64
import copy
import gzip
import math
import re
import urllib.parse
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

from skillcred._internal import base64url
from skillcred._internal.timeutil import format_datetime, parse_datetime, utcnow
from skillcred.errors import (
    MALFORMED_VALUE_ERROR,
    RANGE_ERROR,
    InvalidArgument,
    MalformedDocument,
    UnsupportedFeature,
)

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MAX_LIST_BYTES",
    "MIN_LIST_BITS",
    "MIN_LIST_ENTRIES",
    "STATUS_PURPOSES",
    "BitstringStatusList",
    "StatusListLengthError",
    "StatusMalformed",
    "StatusRangeError",
    "StatusResult",
    "StatusVerificationError",
    "is_stale",
    "list_valid_from",
    "read_status",
    "stale_after",
    "status_entry",
    "status_list_credential",
]

#: §2.2: "The uncompressed bitstring MUST be at least 16KB in size" (16 KiB = 131,072 bits).
MIN_LIST_BITS: Final = 131_072
#: §3.2 step 2: "Let minimumNumberOfEntries be 131,072 unless a different lower bound is
#: established by a specific ecosystem specification." With ``statusSize`` > 1 an entry takes
#: several bits, so the bitstring must then hold ``131,072 * statusSize`` bits.
MIN_LIST_ENTRIES: Final = 131_072
#: Cap on the *decompressed* list (16 MiB = 134 million one-bit entries). GZIP compresses
#: zeros about 1000:1, so without a cap a few kilobytes of ``encodedList`` could make a
#: verifier allocate gigabytes.
MAX_LIST_BYTES: Final = 16 * 1024 * 1024

#: §2.1: values that "MUST be used for their intended purpose" (any other string is allowed).
STATUS_PURPOSES: Final = ("refresh", "revocation", "suspension", "message")
ENTRY_TYPE: Final = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
LIST_TYPE: Final = "BitstringStatusList"

VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
_SPEC_ERRORS = "https://www.w3.org/ns/credentials/status-list#"
_INDEX_RE = re.compile(r"[0-9]+")
_HEX_STATUS_RE = re.compile(r"0x[0-9a-fA-F]+")


# --------------------------------------------------------------------------------------------
# Errors (spec §3.5 Processing Errors, plus the VC DM 2.0 types §3 says to use)


class StatusMalformed(MalformedDocument):
    """An entry, list credential or ``encodedList`` breaks one of the spec's MUSTs.

    §3: "a MALFORMED_VALUE_ERROR MUST be raised" for such values.
    """

    code = "status_malformed"
    problem_type = MALFORMED_VALUE_ERROR
    spec_error: ClassVar[str] = "MALFORMED_VALUE_ERROR"


class StatusVerificationError(MalformedDocument):
    """The entry does not belong to this list (wrong list id, status purpose not matching)."""

    code = "status_verification_error"
    problem_type = _SPEC_ERRORS + "STATUS_VERIFICATION_ERROR"
    spec_error: ClassVar[str] = "STATUS_VERIFICATION_ERROR"


class StatusListLengthError(MalformedDocument):
    """The list is shorter than the minimum number of entries needed for herd privacy."""

    code = "status_list_length_error"
    problem_type = _SPEC_ERRORS + "STATUS_LIST_LENGTH_ERROR"
    spec_error: ClassVar[str] = "STATUS_LIST_LENGTH_ERROR"


class StatusRangeError(MalformedDocument):
    """``statusListIndex`` points past the end of the list."""

    code = "status_range_error"
    problem_type = RANGE_ERROR
    spec_error: ClassVar[str] = "RANGE_ERROR"


# --------------------------------------------------------------------------------------------
# The bitstring


def _check_status_size(status_size: object) -> int:
    if isinstance(status_size, bool) or not isinstance(status_size, int) or status_size < 1:
        raise InvalidArgument(
            f"status_size must be an integer greater than zero, not {status_size!r}"
        )
    return status_size


def _gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """GZIP-decompress (every member, RFC 1952 §2.2), refusing output over ``max_bytes``.

    zlib checks each member's CRC-32 and ISIZE trailer; a member is complete only then.
    """
    out = bytearray()
    rest = data
    while True:
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer only
        try:
            chunk = rest
            while True:
                # max_length = room left + 1, so an overflow shows without inflating it all
                out += d.decompress(chunk, max_bytes - len(out) + 1)
                if len(out) > max_bytes:
                    raise StatusMalformed(
                        f"encodedList decompresses to more than {max_bytes} bytes; refused"
                    )
                chunk = d.unconsumed_tail
                if not chunk:
                    break
        except zlib.error as exc:
            raise StatusMalformed(f"encodedList is not valid GZIP data ({exc})") from None
        if not d.eof:
            raise StatusMalformed("encodedList GZIP data is truncated")
        rest = d.unused_data
        if not rest:
            return bytes(out)


class BitstringStatusList:
    """A status bitstring: ``size`` entries of ``status_size`` bits each.

    Bit order is the spec's (§2.2, §7.1): index 0 is the left-most bit of the bitstring, i.e.
    the most significant bit of the first byte; index 7 is the least significant bit of that
    byte, index 8 the most significant bit of the second. An entry of ``status_size`` bits
    starts at bit ``index * status_size`` (§3.3 step 2) and is read left to right as a
    big-endian unsigned integer.

    New lists hold ``MIN_LIST_ENTRIES`` entries unless told otherwise; fewer is refused
    because the spec's validate algorithm rejects such lists (STATUS_LIST_LENGTH_ERROR).
    """

    __slots__ = ("_bits", "_size", "_status_size")

    def __init__(
        self,
        size_bits: int | None = None,
        *,
        status_size: int = 1,
        _bits: bytearray | None = None,
    ) -> None:
        """Create an all-zero list of ``size_bits`` bits (default: the spec minimum).

        ``size_bits`` must be a multiple of 8 (GZIP compresses bytes) and give at least
        ``MIN_LIST_ENTRIES`` entries, i.e. ``MIN_LIST_ENTRIES * status_size`` bits.
        """
        status_size = _check_status_size(status_size)
        if _bits is not None:
            self._bits = _bits
        else:
            if size_bits is None:
                size_bits = MIN_LIST_ENTRIES * status_size
                size_bits += -size_bits % 8
            if isinstance(size_bits, bool) or not isinstance(size_bits, int):
                raise InvalidArgument(f"size_bits must be an integer, not {size_bits!r}")
            if size_bits % 8:
                raise InvalidArgument(f"size_bits must be a multiple of 8, not {size_bits}")
            if size_bits // status_size < MIN_LIST_ENTRIES:
                raise InvalidArgument(
                    f"a status list needs at least {MIN_LIST_ENTRIES} entries "
                    f"({MIN_LIST_ENTRIES * status_size} bits with status_size {status_size}) "
                    f"for herd privacy; {size_bits} bits give {size_bits // status_size}"
                )
            if size_bits // 8 > MAX_LIST_BYTES:
                raise InvalidArgument(
                    f"size_bits over {MAX_LIST_BYTES * 8} would not decode (MAX_LIST_BYTES)"
                )
            self._bits = bytearray(size_bits // 8)
        self._status_size = status_size
        self._size = len(self._bits) * 8 // status_size

    @classmethod
    def decode(
        cls,
        encoded_list: str,
        *,
        status_size: int = 1,
        min_entries: int = MIN_LIST_ENTRIES,
        max_bytes: int = MAX_LIST_BYTES,
    ) -> BitstringStatusList:
        """Expand an ``encodedList`` (spec §3.4): multibase base64url (no padding) of GZIP.

        Refuses, with :class:`StatusMalformed`, any other multibase prefix, padding or
        characters outside base64url, data that is not complete GZIP, and a list that
        decompresses to more than ``max_bytes``; with :class:`StatusListLengthError` a list of
        fewer than ``min_entries`` entries (§3.2 step 9; an ecosystem specification may set a
        different lower bound, hence the parameter).
        """
        status_size = _check_status_size(status_size)
        if not isinstance(encoded_list, str):
            raise StatusMalformed("encodedList must be a string")
        if not encoded_list.startswith("u"):
            shown = encoded_list[:1] or "(empty)"
            raise StatusMalformed(
                f"encodedList must be multibase base64url (prefix 'u'), not prefix {shown!r}"
            )
        body = encoded_list[1:]
        try:
            compressed = base64url.decode(body)  # canonical only: one list, one encoding
        except ValueError as exc:
            raise StatusMalformed(f"encodedList is {exc}") from None
        if compressed[:2] != b"\x1f\x8b":
            raise StatusMalformed("encodedList is not GZIP data (RFC 1952 magic bytes missing)")
        bits = _gunzip_capped(compressed, max_bytes)
        entries = len(bits) * 8 // status_size
        if entries < min_entries:
            raise StatusListLengthError(
                f"status list has {entries} entries of {status_size} bit(s); at least "
                f"{min_entries} are required for herd privacy"
            )
        return cls(status_size=status_size, _bits=bytearray(bits))

    def encode(self) -> str:
        """Compress for ``encodedList`` (spec §3.3): GZIP, then multibase base64url, no padding.

        The GZIP header carries mtime 0, so the same bits encode to the same string (with the
        same zlib); compare lists by their decoded bits, not by this string.
        """
        packed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")

    def _position(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgument(f"status list index must be an integer, not {index!r}")
        if not 0 <= index < self._size:
            raise InvalidArgument(f"status list index {index} is outside 0..{self._size - 1}")
        return index * self._status_size

    def get(self, index: int) -> int:
        """The status value at ``index`` (0 .. 2**status_size - 1)."""
        pos = self._position(index)
        s = self._status_size
        if s == 1:
            return (self._bits[pos >> 3] >> (7 - (pos & 7))) & 1
        first, last = pos >> 3, (pos + s - 1) >> 3
        chunk = int.from_bytes(self._bits[first : last + 1], "big")
        return (chunk >> ((last + 1) * 8 - pos - s)) & ((1 << s) - 1)

    def set(self, index: int, value: int) -> None:
        """Set the status value at ``index``; ``value`` must fit in ``status_size`` bits."""
        pos = self._position(index)
        s = self._status_size
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not 0 <= value < (1 << s):
            raise InvalidArgument(f"status value {value!r} does not fit in {s} bit(s)")
        first, last = pos >> 3, (pos + s - 1) >> 3
        shift = (last + 1) * 8 - pos - s
        mask = ((1 << s) - 1) << shift
        width = last - first + 1
        chunk = int.from_bytes(self._bits[first : last + 1], "big")
        chunk = (chunk & ~mask) | (value << shift)
        self._bits[first : last + 1] = chunk.to_bytes(width, "big")

    @property
    def size(self) -> int:
        """Number of entries (not bits)."""
        return self._size

    @property
    def size_bits(self) -> int:
        return len(self._bits) * 8

    @property
    def status_size(self) -> int:
        return self._status_size

    def to_bytes(self) -> bytes:
        """The uncompressed bitstring (a copy)."""
        return bytes(self._bits)

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitstringStatusList):
            return NotImplemented
        return self._status_size == other._status_size and self._bits == other._bits

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"BitstringStatusList(size={self._size}, status_size={self._status_size})"


# --------------------------------------------------------------------------------------------
# Documents


def _is_url(value: object) -> bool:
    """An absolute URL or URN/DID-style IRI: a scheme and something after it, no spaces."""
    if not isinstance(value, str) or not value or _SPACE.search(value) is not None:
        return False
    scheme, _, rest = value.partition(":")
    return bool(rest) and _SCHEME.fullmatch(scheme) is not None


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_SPACE = re.compile(r"\s")  # str patterns: exactly the characters str.isspace() accepts


def _status_message_list(status_size: int, messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Normalize ``status_messages`` for :func:`status_entry` (strings or full objects)."""
    count = 1 << status_size if status_size < 64 else None
    items = list(messages)
    if count is None or len(items) != count:
        raise InvalidArgument(
            f"statusMessage must have 2**statusSize = {count if count else 'too many'} "
            f"elements, not {len(items)}"
        )
    out: list[dict[str, Any]] = []
    for value, item in enumerate(items):
        if isinstance(item, str):
            out.append({"status": hex(value), "message": item})
        elif isinstance(item, Mapping):
            if not (
                isinstance(item.get("status"), str)
                and _HEX_STATUS_RE.fullmatch(item["status"])
                and isinstance(item.get("message"), str)
            ):
                raise InvalidArgument(
                    "each statusMessage object needs 'status' ('0x' + hex) and 'message' strings"
                )
            out.append(copy.deepcopy(dict(item)))
        else:
            raise InvalidArgument("status_messages must hold strings or {status, message} objects")
    return out


def status_entry(
    list_credential_url: str,
    index: int,
    purpose: str,
    *,
    status_size: int | None = None,
    status_messages: Sequence[str | Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus`` (spec §2.1).

    ``statusListIndex`` is written as a base-10 *string*, as §2.1 requires. The entry ``id``
    is ``<list url>#<index>`` (as in the spec's examples; §2.1 forbids the bare list URL).
    ``status_size`` above 1 needs ``status_messages``: either ``2**status_size`` strings
    (given the statuses ``0x0``, ``0x1``, ...) or the ``{status, message}`` objects themselves.
    Pick indexes at random (§2.1 SHOULD), so the index does not reveal issuance order.
    """
    if not _is_url(list_credential_url):
        raise InvalidArgument(f"list credential URL {list_credential_url!r} is not a URL")
    if "#" in list_credential_url:
        raise InvalidArgument("the list credential URL must not have a fragment")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidArgument(f"status list index must be an integer >= 0, not {index!r}")
    if purpose not in STATUS_PURPOSES:
        raise InvalidArgument(f"status purpose must be one of {', '.join(STATUS_PURPOSES)}")
    entry: dict[str, Any] = {
        "id": f"{list_credential_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
    }
    if status_size is not None:
        entry["statusSize"] = _check_status_size(status_size)
    entry["statusListCredential"] = list_credential_url
    size = status_size or 1
    if size > 1 and status_messages is None:
        raise InvalidArgument(
            "status_size above 1 requires status_messages (spec §2.1 statusSize)"
        )
    if status_messages is not None:
        entry["statusMessage"] = _status_message_list(size, status_messages)
    return entry


def status_list_credential(
    *,
    url: str,
    issuer: str | Mapping[str, Any],
    purpose: str,
    status_list: BitstringStatusList,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
    context: Sequence[str | Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (spec §2.2) publishing ``status_list``.

    ``id`` is ``url`` (what entries name in ``statusListCredential``); the subject is
    ``<url>#list``. ``validFrom`` defaults to now: a list credential is re-issued whenever a
    status changes. ``ttl_ms`` is the spec's ``ttl``, milliseconds before a verifier SHOULD
    refresh its copy. ``context`` defaults to the VC 2.0 context alone, which defines every
    status-list term; extra contexts may follow it. Sign the result with ``add_proof``.

    Purpose ``message`` is refused: §2.2 then requires ``credentialSubject.statusSize`` and
    ``statusMessages``, which no published context defines, so the credential could not be
    signed under safe-mode JSON-LD.
    """
    if not _is_url(url):
        raise InvalidArgument(f"status list URL {url!r} is not a URL")
    if "#" in url:
        raise InvalidArgument(
            "the status list URL must not have a fragment (the subject is <url>#list)"
        )
    if purpose not in STATUS_PURPOSES:
        raise InvalidArgument(f"status purpose must be one of {', '.join(STATUS_PURPOSES)}")
    if purpose == "message":
        raise UnsupportedFeature(
            "status lists with purpose 'message' are not supported: the spec's "
            "credentialSubject.statusSize/statusMessages are not defined by the VC 2.0 context"
        )
    if not isinstance(status_list, BitstringStatusList):
        raise InvalidArgument("status_list must be a BitstringStatusList")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not _is_url(issuer_id):
        raise InvalidArgument("issuer must be a URL (a DID) or an object with such an 'id'")
    if ttl_ms is not None and (
        isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0
    ):
        raise InvalidArgument(f"ttl_ms must be an integer >= 0 (milliseconds), not {ttl_ms!r}")
    contexts: list[Any] = list(context) if context is not None else [VC_V2_CONTEXT]
    if not contexts or contexts[0] != VC_V2_CONTEXT:
        raise InvalidArgument(f"the first context must be {VC_V2_CONTEXT}")
    start = valid_from or utcnow()
    if valid_until is not None and _aware(valid_until) <= _aware(start):
        raise InvalidArgument("valid_until must be after valid_from")

    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    doc: dict[str, Any] = {
        "@context": copy.deepcopy(contexts),
        "id": url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": copy.deepcopy(dict(issuer)) if isinstance(issuer, Mapping) else issuer,
        "validFrom": format_datetime(start),
    }
    if valid_until is not None:
        doc["validUntil"] = format_datetime(valid_until)
    doc["credentialSubject"] = subject
    return doc


# --------------------------------------------------------------------------------------------
# Reading a status (spec §3.2 Validate Algorithm)


@dataclass(frozen=True)
class StatusResult:
    """The outcome of :func:`read_status` (the spec's result map, §3.2 steps 11-14).

    ``value`` is the status read from the list (the spec's ``status``). What a non-zero
    value means depends on ``purpose``: ``revocation`` - revoked; ``suspension`` - suspended
    now; ``refresh`` - a newer credential is available; ``message`` - see ``message``.
    """

    purpose: str
    index: int
    value: int
    status_size: int
    #: from the entry's ``statusMessage``; without one, "unset"/"set" for 0/1 (§2.1)
    message: str | None
    #: the ``statusListCredential`` URL the value was read from
    list_credential: str

    @property
    def valid(self) -> bool:
        """The spec's ``valid``: True when the status value is 0."""
        return self.value == 0

    @property
    def is_set(self) -> bool:
        """True when the status is set (value not 0): revoked, suspended, ..."""
        return self.value != 0

    def to_dict(self) -> dict[str, Any]:
        """The spec's result map, plus where it was read."""
        out: dict[str, Any] = {"status": self.value, "purpose": self.purpose, "valid": self.valid}
        if self.message is not None:
            out["message"] = self.message
        out["statusListIndex"] = self.index
        out["statusListCredential"] = self.list_credential
        return out


def _types(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _entry_status_size(entry: Mapping[str, Any]) -> int:
    if "statusSize" not in entry:
        return 1  # §2.1: "MUST be processed as 1"
    size = entry["statusSize"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise StatusMalformed(f"statusSize must be an integer greater than zero, not {size!r}")
    return size


def _entry_messages(entry: Mapping[str, Any], status_size: int) -> dict[int, str] | None:
    """``statusMessage`` as {value: message}, checked against §2.1."""
    if "statusMessage" not in entry:
        if status_size > 1:
            raise StatusMalformed("statusSize is greater than 1 but the entry has no statusMessage")
        return None
    messages = entry["statusMessage"]
    if not isinstance(messages, list):
        raise StatusMalformed("statusMessage must be an array")
    if status_size >= 64 or len(messages) != 1 << status_size:
        raise StatusMalformed(
            f"statusMessage must have 2**statusSize elements ({status_size} bit(s)); "
            f"it has {len(messages)}"
        )
    table: dict[int, str] = {}
    for item in messages:
        if not isinstance(item, dict):
            raise StatusMalformed("statusMessage elements must be objects")
        status, message = item.get("status"), item.get("message")
        if not isinstance(status, str) or not _HEX_STATUS_RE.fullmatch(status):
            raise StatusMalformed(f"statusMessage status {status!r} is not '0x' + hexadecimal")
        if not isinstance(message, str):
            raise StatusMalformed("statusMessage message must be a string")
        table.setdefault(int(status, 16), message)
    return table


def _defrag(url: str) -> str:
    return urllib.parse.urldefrag(url)[0]


def read_status(
    entry: Mapping[str, Any],
    list_credential: Mapping[str, Any],
    *,
    min_entries: int = MIN_LIST_ENTRIES,
    max_bytes: int = MAX_LIST_BYTES,
    decode: Callable[..., BitstringStatusList] | None = None,
) -> StatusResult:
    """Read the status a ``BitstringStatusListEntry`` points at (spec §3.2, offline).

    ``decode`` replaces :meth:`BitstringStatusList.decode` (same arguments): a verifier that
    reads many entries of one list passes a memoized one, so the list is expanded once.

    ``entry`` is one ``credentialStatus`` object of the credential; ``list_credential`` is
    the status list credential the caller obtained (from a local cache, or stapled by the
    holder). Checked here: the entry's shape (§2.1), that the list credential's ``id`` is the
    entry's ``statusListCredential`` (ignoring a fragment on the latter), its ``type`` and
    subject type (§2.2), that the purposes match (step 5, STATUS_VERIFICATION_ERROR), the
    expanded list's length (step 9, STATUS_LIST_LENGTH_ERROR) and the index (step 10,
    RANGE_ERROR).

    Not checked here - the caller must do it: the list credential's proofs (step 4; use
    :func:`skillcred.proofs.check_proofs`), whether its issuer is trusted for this credential,
    and its validity period and freshness (:func:`is_stale`). A forged or stale list reads
    just as well as a genuine one.

    Raises :class:`UnsupportedFeature` for an entry of another status type, and the
    ``Status*`` errors of this module (all :class:`MalformedDocument`) otherwise.
    """
    if not isinstance(entry, Mapping):
        raise StatusMalformed("credentialStatus entry must be a JSON object")
    if not isinstance(list_credential, Mapping):
        raise StatusMalformed("status list credential must be a JSON object")

    # The entry (§2.1).
    if ENTRY_TYPE not in _types(entry.get("type")):
        raise UnsupportedFeature(
            f"credentialStatus type {entry.get('type')!r} is not supported (only {ENTRY_TYPE})"
        )
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusMalformed("credentialStatus statusPurpose must be a non-empty string")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _INDEX_RE.fullmatch(raw_index):
        raise StatusMalformed(
            "statusListIndex must be an integer >= 0 written as a base-10 string, "
            f"not {raw_index!r}"
        )
    try:
        index = int(raw_index)
    except ValueError:  # beyond Python's int-from-string digit limit
        raise StatusRangeError(
            f"statusListIndex {raw_index[:20]}... is out of any list's range"
        ) from None
    list_url = entry.get("statusListCredential")
    if not _is_url(list_url):
        raise StatusMalformed(f"statusListCredential {list_url!r} is not a URL")
    assert isinstance(list_url, str)
    status_size = _entry_status_size(entry)
    messages = _entry_messages(entry, status_size)

    # The list credential (§2.2) is the one the entry names.
    cred_id = list_credential.get("id")
    if not isinstance(cred_id, str):
        raise StatusVerificationError(
            f"the status list credential has no id, so it cannot be matched to {list_url}"
        )
    if cred_id not in (list_url, _defrag(list_url)):
        raise StatusVerificationError(
            f"the entry's statusListCredential is {list_url}, but this list credential is {cred_id}"
        )
    if LIST_CREDENTIAL_TYPE not in _types(list_credential.get("type")):
        raise StatusMalformed(f"{cred_id} is not a {LIST_CREDENTIAL_TYPE} (its type lacks it)")
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        raise StatusMalformed(f"{cred_id}: credentialSubject must be one object")
    if subject.get("type") != LIST_TYPE and _types(subject.get("type")) != [LIST_TYPE]:
        raise StatusMalformed(f"{cred_id}: credentialSubject type must be {LIST_TYPE}")
    list_purposes = _types(subject.get("statusPurpose"))
    if not list_purposes or not all(isinstance(p, str) for p in list_purposes):
        raise StatusMalformed(
            f"{cred_id}: credentialSubject statusPurpose must be one or more strings"
        )

    # Step 5: purposes must match.
    if purpose not in list_purposes:
        raise StatusVerificationError(
            f"the entry's statusPurpose is {purpose!r} but list {cred_id} is for "
            f"{', '.join(repr(p) for p in list_purposes)}"
        )

    # Steps 6-10: expand, check length, read.
    if "encodedList" not in subject:
        raise StatusMalformed(f"{cred_id}: credentialSubject has no encodedList")
    bits = (decode or BitstringStatusList.decode)(
        subject["encodedList"],
        status_size=status_size,
        min_entries=min_entries,
        max_bytes=max_bytes,
    )
    if index >= bits.size:
        raise StatusRangeError(
            f"statusListIndex {index} is outside list {cred_id} ({bits.size} entries of "
            f"{status_size} bit(s))"
        )
    value = bits.get(index)

    if messages is not None:
        message = messages.get(value)
    else:
        message = "set" if value else "unset"
    return StatusResult(
        purpose=purpose,
        index=index,
        value=value,
        status_size=status_size,
        message=message,
        list_credential=list_url,
    )


# --------------------------------------------------------------------------------------------
# Freshness


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def is_stale(
    list_credential: Mapping[str, Any],
    *,
    at: datetime,
    fetched_at: datetime | None = None,
) -> bool:
    """True when a held copy of a status list credential should be replaced at ``at``.

    Stale means: past its ``validUntil``, or its ``credentialSubject.ttl`` (milliseconds,
    §2.2: "before a refresh SHOULD be attempted") has elapsed since ``fetched_at`` - or, when
    that is not known, since ``validFrom``. A ttl with neither time to count from is ignored.
    The ttl "does not override or replace the validity period", so both apply.
    A naive ``datetime`` is read as UTC, as credentials' own dates are.
    """
    if not isinstance(list_credential, Mapping):
        raise InvalidArgument("list_credential must be a JSON object")
    now = _aware(at)
    if "validUntil" in list_credential:
        if parse_datetime(list_credential["validUntil"], field="validUntil") < now:
            return True
    deadline = _ttl_deadline(list_credential, fetched_at)
    return deadline is not None and deadline < now


def stale_after(list_credential: Mapping[str, Any], *, fetched_at: datetime | None = None) -> datetime | None:
    """The time after which :func:`is_stale` is True for this copy (None: never): the earlier
    of its ``validUntil`` and the end of its ttl. ``is_stale(c, at=t)`` is exactly ``t >
    stale_after(c)`` -- staleness only ever begins, it never ends -- so a verifier that judges
    one list for many credentials compares a time instead of reading the dates each time.
    Raises what :func:`is_stale` raises for an unreadable date or ttl."""
    if not isinstance(list_credential, Mapping):
        raise InvalidArgument("list_credential must be a JSON object")
    until = (parse_datetime(list_credential["validUntil"], field="validUntil")
             if "validUntil" in list_credential else None)
    deadline = _ttl_deadline(list_credential, fetched_at)
    if until is None or deadline is None:
        return until or deadline
    return min(until, deadline)


def _ttl_deadline(list_credential: Mapping[str, Any], fetched_at: datetime | None) -> datetime | None:
    """When a copy's ttl runs out (counted from ``fetched_at``, else its ``validFrom``); None
    without a ttl, without a time to count from, or past the end of the calendar."""
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
    if ttl is None:
        return None
    if (
        isinstance(ttl, bool)
        or not isinstance(ttl, int | float)
        or not math.isfinite(ttl)
        or ttl < 0
    ):
        raise StatusMalformed(f"ttl must be a number of milliseconds >= 0, not {ttl!r}")
    if fetched_at is not None:
        start = _aware(fetched_at)
    elif "validFrom" in list_credential:
        start = parse_datetime(list_credential["validFrom"], field="validFrom")
    else:
        return None
    try:
        return start + timedelta(milliseconds=ttl)
    except OverflowError:
        return None


def list_valid_from(list_credential: Mapping[str, Any]) -> datetime | None:
    """The ``validFrom`` of a status list credential, or None when it has none (or no date).

    This is how copies of one list are ordered: an issuer re-issues its list whenever a status
    changes, so the copy with the latest ``validFrom`` is the one that knows of the most
    revocations. It says nothing about whether the copy is genuine: check its proof first.
    """
    if not isinstance(list_credential, Mapping) or "validFrom" not in list_credential:
        return None
    try:
        return parse_datetime(list_credential["validFrom"], field="validFrom")
    except MalformedDocument:
        return None

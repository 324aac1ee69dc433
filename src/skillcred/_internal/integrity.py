"""``relatedResource`` (VC DM 2.0 §5.3, Data Integrity 1.0 §2.6): shape and digests, offline.

A credential may pin the exact bytes of resources it depends on (its contexts, an image, a
schema) by digest. The shape is checked everywhere (an issuer must not sign a malformed list, a
verifier must not pass one); a digest is checked only against bytes this process holds without
fetching anything: the bundled, sha256-pinned contexts. For any other resource the digest
cannot be checked, and the outcome is *indeterminate*, never passed: a verifier that says
"integrity checked" must have checked it.

Digests understood: ``digestSRI`` (Subresource Integrity hash expressions, ``sha256`` /
``sha384`` / ``sha512``; of several, the strongest algorithm decides and any of its values may
match, as SRI says) and ``digestMultibase`` (a multibase ``u`` base64url or ``z`` base58btc
Multihash of sha2-256 or sha2-384, the algorithms Data Integrity 1.0 §2.6 names).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from skillcred._internal import base58, base64url

__all__ = ["RelatedOutcome", "check_related_resources", "related_resource_shape_problem"]

Outcome = Literal["passed", "failed", "not_applicable", "indeterminate"]

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")
#: SRI algorithms, weakest first (SRI §3.3.3: the strongest one present decides)
_SRI_ALGORITHMS = ("sha256", "sha384", "sha512")
_SRI_TOKEN = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?[\x21-\x7e]*)?$")
#: Multihash codes of the sha2 digests Data Integrity allows: code -> (hashlib name, length)
_MULTIHASH = {0x12: ("sha256", 32), 0x20: ("sha384", 48)}
#: a credential listing more related resources than this is refused (each may cost a hash)
MAX_RELATED_RESOURCES = 100


@dataclass(frozen=True)
class RelatedOutcome:
    """The verdict on a credential's ``relatedResource``: a check status, a reason and a code."""

    status: Outcome
    reason: str
    code: str = "ok"


def related_resource_shape_problem(value: Any) -> str | None:
    """What is wrong with the shape of a ``relatedResource`` value, or None when it is well formed.

    Each entry is an object with an ``id`` that is a URL (no two the same) and at least one of
    ``digestSRI`` / ``digestMultibase``, each a string."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return "relatedResource must not be an empty list"
    if len(items) > MAX_RELATED_RESOURCES:
        return f"relatedResource lists {len(items)} resources, more than the {MAX_RELATED_RESOURCES} accepted"
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping):
            return "every relatedResource entry must be an object"
        rid = item.get("id")
        if not isinstance(rid, str) or not _IRI.match(rid):
            return "every relatedResource entry needs an id that is a URL"
        if rid in seen:
            return f"relatedResource lists {rid} twice"
        seen.add(rid)
        if "digestSRI" not in item and "digestMultibase" not in item:
            return f"relatedResource {rid} has neither digestSRI nor digestMultibase"
        for name in ("digestSRI", "digestMultibase"):
            if name in item and not (isinstance(item[name], str) and item[name]):
                return f"relatedResource {rid}: {name} must be a non-empty string"
    return None


def _sri_outcome(expression: str, data: bytes) -> tuple[Outcome, str]:
    """SRI: of the well-formed tokens, those of the strongest algorithm; any one matching passes."""
    tokens = []
    for token in expression.split():
        m = _SRI_TOKEN.match(token)
        if m is None:
            if token.split("-", 1)[0] in _SRI_ALGORITHMS:
                # a supported algorithm with a value that is no base64 digest (e.g. base64url):
                # no bytes can ever match it, so it is wrong, not merely unknown
                return "failed", f"digestSRI value {token[:40]!r} is not a base64 digest"
            continue  # SRI ignores tokens of algorithms it does not know
        try:
            digest = base64.b64decode(m.group(2), validate=True)
        except (binascii.Error, ValueError):
            return "failed", f"digestSRI value {token[:40]!r} is not base64"
        tokens.append((m.group(1), digest))
    if not tokens:
        return "indeterminate", "digestSRI names no supported algorithm (sha256, sha384, sha512)"
    strongest = max(_SRI_ALGORITHMS.index(alg) for alg, _ in tokens)
    alg = _SRI_ALGORITHMS[strongest]
    actual = hashlib.new(alg, data).digest()
    if any(a == alg and hmac.compare_digest(d, actual) for a, d in tokens):
        return "passed", f"digestSRI {alg} matches"
    return "failed", f"digestSRI {alg} does not match the bytes held for it"


def _varint(data: bytes, at: int) -> tuple[int, int] | None:
    """An unsigned varint (multiformats: at most 9 bytes) at ``at``: (value, next offset)."""
    value = 0
    for i in range(9):
        if at + i >= len(data):
            return None
        byte = data[at + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, at + i + 1
    return None


def _multihash(raw: bytes) -> tuple[int, bytes] | None:
    """(code, digest) of a well-formed multihash, else None."""
    code = _varint(raw, 0)
    if code is None:
        return None
    length = _varint(raw, code[1])
    if length is None or len(raw) - length[1] != length[0]:
        return None
    return code[0], raw[length[1]:]


def _multibase_outcome(value: str, data: bytes) -> tuple[Outcome, str]:
    try:
        if value.startswith("u"):
            raw = base64url.decode(value[1:])
        elif value.startswith("z"):
            raw = base58.decode(value)
        else:
            return "indeterminate", "digestMultibase is not base64url (u) or base58btc (z) multibase"
    except ValueError:
        return "failed", "digestMultibase is not valid multibase"
    parsed = _multihash(raw)
    if parsed is None:  # not <varint code><varint length><digest>: never a digest of anything
        return "failed", "digestMultibase is not a multihash (<code><length><digest>)"
    code, digest = parsed
    if code not in _MULTIHASH:
        return "indeterminate", f"digestMultibase uses multihash 0x{code:x}, not sha2-256 or sha2-384"
    alg, length = _MULTIHASH[code]
    if len(digest) != length:
        return "failed", f"digestMultibase: a {alg} multihash must hold {length} bytes"
    if hmac.compare_digest(digest, hashlib.new(alg, data).digest()):
        return "passed", f"digestMultibase {alg} matches"
    return "failed", f"digestMultibase {alg} does not match the bytes held for it"


def check_related_resources(value: Any, held: Callable[[str], bytes | None]) -> RelatedOutcome:
    """The verdict on a ``relatedResource`` value; ``held(url)`` gives the exact bytes this
    process holds for ``url`` offline (a bundled context), or None.

    Failed: a malformed list, or a digest that does not match held bytes. Indeterminate: a
    resource whose bytes are not held, or whose digests use no supported algorithm."""
    problem = related_resource_shape_problem(value)
    if problem is not None:
        return RelatedOutcome("failed", problem, "related_resource_malformed")
    items: list[Mapping[str, Any]] = value if isinstance(value, list) else [value]
    checked: list[str] = []
    unknown: RelatedOutcome | None = None
    for item in items:
        rid = str(item["id"])
        data = held(rid)
        if data is None:
            unknown = unknown or RelatedOutcome(
                "indeterminate", f"relatedResource {rid} is not held offline, so its digest cannot be checked "
                "(resources are never fetched)", "related_resource_unavailable")
            continue
        results = []
        if isinstance(item.get("digestSRI"), str):
            results.append(_sri_outcome(item["digestSRI"], data))
        if isinstance(item.get("digestMultibase"), str):
            results.append(_multibase_outcome(item["digestMultibase"], data))
        bad = next((r for r in results if r[0] == "failed"), None)
        if bad is not None:
            return RelatedOutcome("failed", f"relatedResource {rid}: {bad[1]}", "related_resource_digest_mismatch")
        odd = next((r for r in results if r[0] == "indeterminate"), None)
        if odd is not None:
            unknown = unknown or RelatedOutcome("indeterminate", f"relatedResource {rid}: {odd[1]}",
                                                "related_resource_digest_unsupported")
            continue
        checked.append(rid)
    if unknown is not None:
        return unknown
    return RelatedOutcome("passed", f"the digest of {', '.join(checked)} matches the bundled bytes")

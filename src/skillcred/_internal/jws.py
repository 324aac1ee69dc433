"""The JWS core that every compact-token format of skillcred shares (private).

``vc+jwt``/``vp+jwt`` and COSE (:mod:`skillcred.jose`), SD-JWT (:mod:`skillcred.sdjwt`), SD-JWT VC,
Token Status List and the OpenID4VC messages all parse, sign and check JWS the same way; this
module is that one way, so a hardening (the ``alg`` allow-list, canonical base64url, strict JSON,
``kid`` bound to its controller) is written once and holds for every format. It knows nothing
of roles (issuer, wallet, verifier): only tokens, keys and DID documents.

The order of checks is the one :mod:`skillcred.jose` documents: shape and ``alg`` before any
key is resolved; every failure a :class:`~skillcred.errors.TokenInvalid` with a named reason.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from jwcrypto import jwk as _jwk

from skillcred._internal import base64url, strictjson
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.did import DidResolver, ResolvedMethod
from skillcred.errors import (
    DidDocumentConflict,
    MalformedDocument,
    ResolutionError,
    SkillcredSecurityWarning,
    TokenInvalid,
    UnsupportedFeature,
)
from skillcred.keys import KeyPair

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MAX_TOKEN",
    "Compact",
    "as_utc",
    "b64u",
    "b64u_decode",
    "check_alg",
    "check_media_type",
    "check_purpose",
    "check_times",
    "controller_claim",
    "find_kid_anywhere",
    "find_relative_kid",
    "id_of",
    "json_bytes",
    "json_loads",
    "jwk_thumbprint",
    "media_type_equal",
    "parse_compact",
    "resolve_kid",
    "sign_jws",
    "unsafe_party_binding",
    "verify_signature",
]

#: JWS algorithms accepted, and the skillcred key type each one requires (``jose`` re-exports it).
ALLOWED_ALGORITHMS: dict[str, str] = {"EdDSA": "ed25519", "ES256": "p256", "ES384": "p384", "ES512": "p521"}

#: the largest token (characters, or COSE bytes) looked at: bounds the work before any check
MAX_TOKEN = 1_000_000

b64u = base64url.encode


def b64u_decode(text: str, what: str) -> bytes:
    """Canonical unpadded base64url only: one token has exactly one encoding (no malleability)."""
    try:
        return base64url.decode(text)
    except ValueError as exc:
        raise TokenInvalid("malformed", f"{what} is {exc}") from exc


def json_loads(data: bytes, what: str) -> Any:
    """Strict JSON (:mod:`skillcred._internal.strictjson`): no duplicate names, no NaN or
    Infinity, UTF-8 only; a header or claim means the same to every parser."""
    try:
        return strictjson.loads(data)
    except MalformedDocument as exc:
        raise TokenInvalid("malformed", f"{what} is not strict UTF-8 JSON: {exc.message}") from exc


def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes a header or payload is signed as."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Compact:
    """A compact JWS whose shape and ``alg`` passed, not yet verified."""

    header: dict[str, Any]
    payload: Any
    signing_input: bytes
    signature: bytes


def parse_compact(token: str, what: str = "token") -> Compact:
    """Split and decode a compact JWS, refusing a bad ``alg`` before the payload is read."""
    if not isinstance(token, str):
        raise TokenInvalid("malformed", f"{what} must be a string (a compact JWS)")
    if len(token) > MAX_TOKEN:
        raise TokenInvalid("malformed", f"{what} is too large")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenInvalid(
            "malformed", f"{what} is not a compact JWS (three base64url parts separated by '.')"
        )
    header = json_loads(b64u_decode(parts[0], f"{what} header"), f"{what} header")
    if not isinstance(header, dict):
        raise TokenInvalid("malformed", f"{what} header is not a JSON object")
    check_alg(header, what)  # before anything else is looked at: no key use for a bad alg
    payload = json_loads(b64u_decode(parts[1], f"{what} payload"), f"{what} payload")
    signature = b64u_decode(parts[2], f"{what} signature")
    return Compact(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def check_alg(header: Mapping[str, Any], what: str = "token") -> str:
    """The header's ``alg`` if allowed; no ``crit``, no key carried in the token itself."""
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise TokenInvalid("alg_missing", f"{what} header has no 'alg'")
    if alg not in ALLOWED_ALGORITHMS:
        kind = (
            "unsecured JWS" if alg.lower() == "none"
            else "symmetric (HMAC) algorithm" if alg.upper().startswith("HS")
            else "algorithm"
        )
        raise TokenInvalid(
            "alg_not_allowed",
            f"{what}: {kind} {alg!r} is not allowed (allowed: {', '.join(ALLOWED_ALGORITHMS)})",
        )
    if "crit" in header:
        raise TokenInvalid("crit_not_understood", f"{what} header has 'crit' extensions we do not process")
    for name in ("jwk", "jku", "x5u", "x5c"):
        if name in header:
            # Keys come from the issuer's controller document only, never from the token.
            raise TokenInvalid("embedded_key_not_allowed", f"{what} header carries {name!r}")
    return alg


def media_type_equal(value: Any, expected: str) -> bool:
    """``typ``/``cty`` comparison per RFC 7515 §4.1.9: case-insensitive, ``application/`` optional."""
    if not isinstance(value, str):
        return False
    v = value.strip().lower()
    if v.startswith("application/"):
        v = v[len("application/"):]
    return v == expected.lower()


def check_media_type(header: Mapping[str, Any], expected_typ: str | tuple[str, ...], what: str) -> str:
    """The accepted ``typ`` the header declares (and a ``cty`` that agrees): a token of one kind
    is never taken for another."""
    accepted = (expected_typ,) if isinstance(expected_typ, str) else tuple(expected_typ)
    typ = header.get("typ")
    match = next((t for t in accepted if media_type_equal(typ, t)), None)
    if match is None:
        raise TokenInvalid(
            "media_type_invalid", f"{what} typ is {typ!r}, expected {' or '.join(accepted)!s}"
        )
    if "cty" in header:
        cty_expected = "vp" if match.startswith("vp+") else "vc" if match.startswith("vc+") else None
        if cty_expected and not media_type_equal(header["cty"], cty_expected):
            raise TokenInvalid(
                "media_type_invalid", f"{what} cty is {header['cty']!r}, expected {cty_expected!r}"
            )
    return match


def id_of(value: Any) -> str | None:
    """A URL string, or the ``id`` of an object (``issuer``/``holder`` take either form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def controller_claim(claims: Mapping[str, Any], role: Literal["issuer", "holder"]) -> str:
    """The party the signing key must belong to: ``issuer`` (credential) or ``holder``.

    ``iss``, when present, must agree (VC-JOSE-COSE §3.1.1); when the role member is absent,
    ``iss`` names the party.
    """
    named = id_of(claims.get(role)) if role in claims else None
    if role in claims and named is None:
        raise TokenInvalid("malformed", f"{role} is neither a URL string nor an object with an id")
    iss = claims.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise TokenInvalid("malformed", "iss is not a string")
    if named is not None and iss is not None and iss != named:
        raise TokenInvalid("iss_mismatch", f"iss {iss!r} does not match {role} {named!r}")
    party = named or iss
    if not party:
        raise TokenInvalid(f"{role}_missing", f"no {role} (and no iss): the key cannot be bound")
    return party


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str | None:
    """The RFC 7638 thumbprint of a public JWK (a ``kid`` may be one), or None if unreadable."""
    try:
        public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
        return str(_jwk.JWK(**public).thumbprint())
    except Exception:  # jwcrypto raises many types for keys it cannot read
        return None


def resolve_kid(resolver: DidResolver, kid: Any, party: str | None, what: str) -> ResolvedMethod:
    """Resolve ``kid`` to a verification method controlled by ``party``.

    ``party=None`` (a proof-only check, ``unsafe_skip_party_binding``): the method may be any
    one the resolver's documents hold, whoever controls it; a relative ``kid`` must then match
    exactly one of them."""
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("kid_missing", f"{what} header has no 'kid'")
    try:
        if ":" in kid.split("#", 1)[0]:  # an absolute URL / DID URL
            method = resolver.resolve_method(kid)
        elif party is None:
            method = resolver.resolve_method(find_kid_anywhere(resolver, kid))
        else:
            method = resolver.resolve_method(find_relative_kid(resolver, kid, party))
    except DidDocumentConflict as exc:
        raise TokenInvalid(exc.code, f"{what} kid {kid!r}: {exc.message}") from exc
    except ResolutionError as exc:
        raise TokenInvalid("kid_unresolved", f"{what} kid {kid!r}: {exc.message}") from exc
    except UnsupportedFeature as exc:
        raise TokenInvalid("kid_unresolved", f"{what} kid {kid!r}: {exc.message}") from exc
    if party is not None and method.controller != party:
        raise TokenInvalid(
            "issuer_key_mismatch",
            f"{what} is signed with a key of {method.controller!r}, not of {party!r}",
        )
    return method


def find_relative_kid(resolver: DidResolver, kid: str, party: str) -> str:
    """The method of ``party``'s document a relative ``kid`` names (fragment, JWK ``kid`` or
    thumbprint): looked up only in the document of the party the key must belong to."""
    kid = kid.removeprefix("#")
    doc = resolver.resolve(party)
    base = str(doc.get("id", party))
    candidates = list(doc.get("verificationMethod") or [])
    for vm in candidates:
        if not isinstance(vm, dict):
            continue
        vid = vm.get("id")
        if not isinstance(vid, str):
            continue
        vm_id = base + vid if vid.startswith("#") else vid
        if vm_id.partition("#")[2] == kid:
            return vm_id
        jwk = vm.get("publicKeyJwk")
        if isinstance(jwk, dict) and (jwk.get("kid") == kid or jwk_thumbprint(jwk) == kid):
            return vm_id
    raise ResolutionError(f"no verification method with kid {kid!r} in the document of {party}")


def find_kid_anywhere(resolver: DidResolver, kid: str) -> str:
    """The one verification method, in any document the resolver holds, that a relative
    ``kid`` names (by fragment, JWK ``kid`` or thumbprint)."""
    found: set[str] = set()
    for doc_id in resolver.known():
        try:
            found.add(find_relative_kid(resolver, kid, doc_id))
        except (ResolutionError, DidDocumentConflict):
            continue
    if len(found) == 1:
        return found.pop()
    if found:
        raise ResolutionError(f"kid {kid!r} matches methods of several documents: {', '.join(sorted(found))}")
    raise ResolutionError(f"no verification method with kid {kid!r} in the documents given")


def unsafe_party_binding(skip: bool, what: str) -> None:
    """Warn (SkillcredSecurityWarning) when a proof-only check leaves out the key binding."""
    if skip:
        warnings.warn(f"UNSAFE: the {what}'s key is not required to be its issuer's/holder's "
                      "(unsafe_skip_party_binding=True): only the signature is checked",
                      SkillcredSecurityWarning, stacklevel=3)


def verify_signature(parsed: Compact, method: ResolvedMethod, what: str) -> None:
    """The key must be of the type ``alg`` names (no algorithm confusion), then the signature."""
    alg = parsed.header["alg"]
    if method.public_key.key_type != ALLOWED_ALGORITHMS[alg]:
        raise TokenInvalid(
            "alg_key_mismatch",
            f"{what} header alg {alg} does not fit the {method.public_key.key_type} key of kid",
        )
    if not method.public_key.verify(parsed.signature, parsed.signing_input):
        raise TokenInvalid("signature_invalid", f"{what} signature does not verify")


def check_purpose(method: ResolvedMethod, purpose: str, what: str) -> None:
    """The key is listed under the verification relationship the token needs."""
    if not method.authorized_for(purpose):
        raise TokenInvalid(
            "key_not_authorized", f"{what} key {method.id} is not listed under {purpose}"
        )


def check_times(claims: Mapping[str, Any], at: datetime, what: str, *, leeway: int = 60,
                 compare: bool = True) -> None:
    """``exp``/``nbf`` must be NumericDates (RFC 7519 §2: always checked, a malformed token is
    malformed whenever it is looked at); with ``compare`` they and the credential's validity
    period are compared with ``at`` (off for a proof-only check)."""
    now = at.timestamp()
    for name in ("exp", "nbf"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenInvalid("malformed", f"{what} {name} is not a NumericDate")
    if not compare:
        return
    if "exp" in claims and now > claims["exp"] + leeway:
        raise TokenInvalid("expired", f"{what} expired (exp)")
    if "nbf" in claims and now + leeway < claims["nbf"]:
        raise TokenInvalid("not_yet_valid", f"{what} is not valid yet (nbf)")
    try:
        if "validUntil" in claims and at > parse_datetime(claims["validUntil"], field="validUntil"):
            raise TokenInvalid("expired", f"{what} expired (validUntil)")
        if "validFrom" in claims and at < parse_datetime(claims["validFrom"], field="validFrom"):
            raise TokenInvalid("not_yet_valid", f"{what} is not valid yet (validFrom)")
    except MalformedDocument as exc:
        raise TokenInvalid("malformed", f"{what}: {exc.message}") from exc


def as_utc(at: datetime | None) -> datetime:
    """``at`` (now when None) as an aware UTC time; a naive time is read as UTC."""
    if at is None:
        return utcnow()
    return at if at.tzinfo else at.replace(tzinfo=UTC)



def sign_jws(header: dict[str, Any], payload: bytes, key: KeyPair) -> str:
    """A compact JWS of ``payload`` under ``header``, signed with ``key``."""
    signing_input = f"{b64u(json_bytes(header))}.{b64u(payload)}"
    return f"{signing_input}.{b64u(key.sign(signing_input.encode('ascii')))}"


"""JOSE-secured credentials and presentations (W3C VC-JOSE-COSE, https://www.w3.org/TR/vc-jose-cose/).

A credential secured with JOSE is a compact JWS whose payload IS the credential (VC 2.0: no
``vc``/``vp`` wrapper claim) and whose protected header carries ``alg``, ``kid``,
``typ: vc+jwt`` (``vp+jwt`` for presentations) and ``cty: vc`` (``vp``).

Verification is strict and ordered so that no key is touched before the token is known to be of
an acceptable shape:

1. compact form, canonical base64url (no padding, no unused bits set: one encoding per token),
   strict UTF-8 JSON (no duplicate names, no NaN/Infinity: :mod:`skillcred._internal.strictjson`);
2. ``alg`` in the allow-list (EdDSA, ES256, ES384, ES512). ``none``, HMAC (``HS*``: the classic
   "public key as HMAC secret" confusion), RSA (``RS*``/``PS*``) and ``ES512`` are rejected
   here, before any key is resolved;
3. media type: ``typ`` (and ``cty`` when present) must be the expected one;
4. no ``vc``/``vp`` claims (VC 1.1 JWT style);
5. ``kid`` resolves through the :class:`~skillcred.did.DidResolver` to a verification method
   whose controller is the credential's ``issuer`` (the presentation's ``holder``); a ``kid``
   that is not an absolute URL is looked up in the issuer's controller document (by fragment,
   by the JWK's ``kid`` member, or by its RFC 7638 thumbprint);
6. the key type must be the one ``alg`` names; then the signature, then the proof purpose
   (``assertionMethod`` / ``authentication``) and the validity period;
7. in a presentation, every ``EnvelopedVerifiableCredential`` is unwrapped and verified.

COSE (``application/vc+cose``, a tagged COSE_Sign1 with the credential as JSON payload) gets
the same checks through :func:`verify_cose` (a small strict CBOR reader is built in).

Every failure is a :class:`~skillcred.errors.TokenInvalid` with a named ``reason``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from jwcrypto import jwk as _jwk

from skillcred._internal import base64url, strictjson
from skillcred._internal.timeutil import parse_datetime, utcnow
from skillcred.did import DidResolver, ResolvedMethod
from skillcred.errors import (
    DidDocumentConflict,
    InvalidArgument,
    MalformedDocument,
    ResolutionError,
    SkillcredSecurityWarning,
    TokenInvalid,
    UnsupportedFeature,
)
from skillcred.keys import KeyPair

__all__ = [
    "ALLOWED_ALGORITHMS",
    "JoseResult",
    "envelop_cose_credential",
    "envelop_credential",
    "key_pair_from_jwk",
    "peek_cose",
    "peek_jwt",
    "secure_credential_cose",
    "secure_credential_jwt",
    "secure_presentation_cose",
    "secure_presentation_jwt",
    "sign_jwt",
    "unwrap_enveloped_credential",
    "unwrap_nested",
    "verify_cose",
    "verify_enveloped_credential",
    "verify_jwt",
    "verify_signed_jwt",
]

#: JWS algorithms accepted, and the skillcred key type each one requires.
ALLOWED_ALGORITHMS: dict[str, str] = {"EdDSA": "ed25519", "ES256": "p256", "ES384": "p384", "ES512": "p521"}

_MAX_TOKEN = 1_000_000
_ENVELOPED = "EnvelopedVerifiableCredential"


_b64u = base64url.encode


def _b64u_decode(text: str, what: str) -> bytes:
    """Canonical unpadded base64url only: one token has exactly one encoding (no malleability)."""
    try:
        return base64url.decode(text)
    except ValueError as exc:
        raise TokenInvalid("malformed", f"{what} is {exc}") from exc


def _json_loads(data: bytes, what: str) -> Any:
    """Strict JSON (:mod:`skillcred._internal.strictjson`): no duplicate names, no NaN or
    Infinity, UTF-8 only; a header or claim means the same to every parser."""
    try:
        return strictjson.loads(data)
    except MalformedDocument as exc:
        raise TokenInvalid("malformed", f"{what} is not strict UTF-8 JSON: {exc.message}") from exc


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class _Compact:
    header: dict[str, Any]
    payload: Any
    signing_input: bytes
    signature: bytes


def _parse_compact(token: str, what: str = "token") -> _Compact:
    if not isinstance(token, str):
        raise TokenInvalid("malformed", f"{what} must be a string (a compact JWS)")
    if len(token) > _MAX_TOKEN:
        raise TokenInvalid("malformed", f"{what} is too large")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenInvalid(
            "malformed", f"{what} is not a compact JWS (three base64url parts separated by '.')"
        )
    header = _json_loads(_b64u_decode(parts[0], f"{what} header"), f"{what} header")
    if not isinstance(header, dict):
        raise TokenInvalid("malformed", f"{what} header is not a JSON object")
    _check_alg(header, what)  # before anything else is looked at: no key use for a bad alg
    payload = _json_loads(_b64u_decode(parts[1], f"{what} payload"), f"{what} payload")
    signature = _b64u_decode(parts[2], f"{what} signature")
    return _Compact(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _check_alg(header: Mapping[str, Any], what: str = "token") -> str:
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


def _media_type_equal(value: Any, expected: str) -> bool:
    if not isinstance(value, str):
        return False
    v = value.strip().lower()
    if v.startswith("application/"):
        v = v[len("application/"):]
    return v == expected.lower()


def _check_media_type(header: Mapping[str, Any], expected_typ: str | tuple[str, ...], what: str) -> str:
    accepted = (expected_typ,) if isinstance(expected_typ, str) else tuple(expected_typ)
    typ = header.get("typ")
    match = next((t for t in accepted if _media_type_equal(typ, t)), None)
    if match is None:
        raise TokenInvalid(
            "media_type_invalid", f"{what} typ is {typ!r}, expected {' or '.join(accepted)!s}"
        )
    if "cty" in header:
        cty_expected = "vp" if match.startswith("vp+") else "vc" if match.startswith("vc+") else None
        if cty_expected and not _media_type_equal(header["cty"], cty_expected):
            raise TokenInvalid(
                "media_type_invalid", f"{what} cty is {header['cty']!r}, expected {cty_expected!r}"
            )
    return match


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _controller_claim(claims: Mapping[str, Any], role: Literal["issuer", "holder"]) -> str:
    """The party the signing key must belong to: ``issuer`` (credential) or ``holder``.

    ``iss``, when present, must agree (VC-JOSE-COSE §3.1.1); when the role member is absent,
    ``iss`` names the party.
    """
    named = _id_of(claims.get(role)) if role in claims else None
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


def _jwk_thumbprint(jwk: Mapping[str, Any]) -> str | None:
    try:
        public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
        return str(_jwk.JWK(**public).thumbprint())
    except Exception:  # jwcrypto raises many types for keys it cannot read
        return None


def _resolve_kid(resolver: DidResolver, kid: Any, party: str | None, what: str) -> ResolvedMethod:
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
            method = resolver.resolve_method(_find_kid_anywhere(resolver, kid))
        else:
            method = resolver.resolve_method(_find_relative_kid(resolver, kid, party))
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


def _find_relative_kid(resolver: DidResolver, kid: str, party: str) -> str:
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
        if isinstance(jwk, dict) and (jwk.get("kid") == kid or _jwk_thumbprint(jwk) == kid):
            return vm_id
    raise ResolutionError(f"no verification method with kid {kid!r} in the document of {party}")


def _find_kid_anywhere(resolver: DidResolver, kid: str) -> str:
    """The one verification method, in any document the resolver holds, that a relative
    ``kid`` names (by fragment, JWK ``kid`` or thumbprint)."""
    found: set[str] = set()
    for doc_id in resolver.known():
        try:
            found.add(_find_relative_kid(resolver, kid, doc_id))
        except (ResolutionError, DidDocumentConflict):
            continue
    if len(found) == 1:
        return found.pop()
    if found:
        raise ResolutionError(f"kid {kid!r} matches methods of several documents: {', '.join(sorted(found))}")
    raise ResolutionError(f"no verification method with kid {kid!r} in the documents given")


def _unsafe_party_binding(skip: bool, what: str) -> None:
    if skip:
        warnings.warn(f"UNSAFE: the {what}'s key is not required to be its issuer's/holder's "
                      "(unsafe_skip_party_binding=True): only the signature is checked",
                      SkillcredSecurityWarning, stacklevel=3)


def _verify_signature(parsed: _Compact, method: ResolvedMethod, what: str) -> None:
    alg = parsed.header["alg"]
    if method.public_key.key_type != ALLOWED_ALGORITHMS[alg]:
        raise TokenInvalid(
            "alg_key_mismatch",
            f"{what} header alg {alg} does not fit the {method.public_key.key_type} key of kid",
        )
    if not method.public_key.verify(parsed.signature, parsed.signing_input):
        raise TokenInvalid("signature_invalid", f"{what} signature does not verify")


def _check_purpose(method: ResolvedMethod, purpose: str, what: str) -> None:
    if not method.authorized_for(purpose):
        raise TokenInvalid(
            "key_not_authorized", f"{what} key {method.id} is not listed under {purpose}"
        )


def _check_times(claims: Mapping[str, Any], at: datetime, what: str, *, leeway: int = 60,
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


def _as_utc(at: datetime | None) -> datetime:
    if at is None:
        return utcnow()
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# -- issuing -------------------------------------------------------------------------------------


def key_pair_from_jwk(jwk: Mapping[str, Any]) -> KeyPair:
    """A :class:`KeyPair` from a private JWK (OKP Ed25519, EC P-256/P-384/P-521), read with jwcrypto.

    Other key types (P-521, RSA, symmetric) raise :class:`UnsupportedFeature`.
    """
    try:
        key = _jwk.JWK(**{k: v for k, v in jwk.items() if k != "alg"})
        if not key.has_private:
            raise InvalidArgument("the JWK has no private part ('d')")
        raw = key.get_op_key("sign")
    except InvalidArgument:
        raise
    except Exception as exc:
        raise UnsupportedFeature(
            f"JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r} cannot be used: {exc}"
        ) from exc
    try:
        return KeyPair.from_cryptography(raw)
    except (UnsupportedFeature, AttributeError, TypeError) as exc:
        raise UnsupportedFeature(
            f"JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r} is not supported "
            "(use Ed25519, P-256, P-384 or P-521)"
        ) from exc


def _sign_jws(header: dict[str, Any], payload: bytes, key: KeyPair) -> str:
    signing_input = f"{_b64u(_json_bytes(header))}.{_b64u(payload)}"
    return f"{signing_input}.{_b64u(key.sign(signing_input.encode('ascii')))}"


def _secure(document: Mapping[str, Any], key: KeyPair, kid: str, kind: Literal["vc", "vp"]) -> str:
    if not isinstance(document, Mapping):
        raise InvalidArgument(f"the {'credential' if kind == 'vc' else 'presentation'} must be a JSON object")
    if not isinstance(key, KeyPair):
        raise InvalidArgument("key must be a skillcred KeyPair (Ed25519, P-256, P-384 or P-521)")
    if not isinstance(kid, str) or not kid:
        raise InvalidArgument("kid must be a non-empty string (the verification method URL)")
    for claim in ("vc", "vp"):
        if claim in document:
            raise InvalidArgument(f"a VC 2.0 JOSE payload must not carry a {claim!r} claim")
    if "proof" in document:
        raise InvalidArgument("the document already has an embedded proof; secure the unsigned one")
    header = {"alg": key.public_key.jws_algorithm, "kid": kid, "typ": f"{kind}+jwt", "cty": kind}
    return _sign_jws(header, _json_bytes(dict(document)), key)


def secure_credential_jwt(credential: dict[str, Any], key: KeyPair, *, kid: str) -> str:
    """Secure a VC 2.0 credential as ``application/vc+jwt`` (compact JWS; payload = credential)."""
    return _secure(credential, key, kid, "vc")


def secure_presentation_jwt(presentation: dict[str, Any], key: KeyPair, *, kid: str) -> str:
    """Secure a VC 2.0 presentation as ``application/vp+jwt``."""
    return _secure(presentation, key, kid, "vp")


def envelop_credential(token: str, media_type: str = "application/vc+jwt") -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` holding ``token`` as a data: URL (for a presentation)."""
    if media_type not in ("application/vc+jwt", "application/vc+sd-jwt"):
        raise InvalidArgument(f"cannot envelop media type {media_type!r}")
    if not isinstance(token, str) or not token or any(c in token for c in " ,\n"):
        raise InvalidArgument("the token must be a compact serialization")
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": f"data:{media_type},{token}",
        "type": _ENVELOPED,
    }


def unwrap_enveloped_credential(obj: Any, *, envelope_type: str = _ENVELOPED) -> tuple[str, str]:
    """``(media_type, token)`` of an ``EnvelopedVerifiableCredential`` (not verified);
    ``envelope_type="EnvelopedVerifiablePresentation"`` unwraps an enveloped presentation."""
    if not isinstance(obj, Mapping):
        raise TokenInvalid("credential_not_enveloped", "a credential in a presentation is not an object")
    types = obj.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or envelope_type not in types:
        raise TokenInvalid(
            "credential_not_enveloped",
            f"credentials in a JOSE/SD-JWT presentation must be {envelope_type}",
        )
    url = obj.get("id")
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise TokenInvalid("enveloped_credential_malformed", "the enveloped credential's id is not a data: URL")
    meta, _, data = url[len("data:"):].partition(",")
    params = meta.split(";")
    media_type = params[0].strip().lower()
    if "base64" in params[1:]:
        if media_type in ("application/vc+cose", "application/vp+cose"):
            return media_type, data
        raise TokenInvalid("enveloped_credential_malformed", f"{media_type} is not carried as base64")
    if media_type in ("application/vc+cose", "application/vp+cose"):
        raise TokenInvalid("enveloped_credential_malformed", "a COSE credential must be base64 in its data: URL")
    return media_type, urllib.parse.unquote(data)


@dataclass(frozen=True)
class JoseResult:
    """A verified ``vc+jwt`` / ``vp+jwt``."""

    payload: dict[str, Any]
    header: dict[str, Any]
    kid: str
    verification_method: str
    controller: str
    #: verified enveloped credentials of a presentation (JoseResult or SdJwtResult), in order
    credentials: tuple[Any, ...] = field(default=())
    #: media types of enveloped credentials not verified (only with ``skip_unsupported=True``)
    unverified: tuple[str, ...] = field(default=())


def verify_enveloped_credential(
    obj: Any, *, resolver: DidResolver, at: datetime | None = None, check_times: bool = True
) -> Any:
    """Unwrap and verify one ``EnvelopedVerifiableCredential`` (vc+jwt, vc+sd-jwt, vc+cose);
    ``check_times=False`` leaves out exp/nbf/validity (``verify --proof-only``)."""
    media_type, token = unwrap_enveloped_credential(obj)
    if media_type == "application/vc+jwt":
        return verify_jwt(token, resolver=resolver, expected_typ="vc+jwt", at=at, check_times=check_times)
    if media_type == "application/vc+sd-jwt":
        from skillcred.sdjwt import verify_sd_jwt

        return verify_sd_jwt(
            token, resolver=resolver, expected_nonce=None, expected_aud=None,
            require_key_binding=False, at=at, expected_typ="vc+sd-jwt", check_times=check_times,
        )
    if media_type == "application/vc+cose":
        return verify_cose(token, resolver=resolver, expected_typ="vc+cose", at=at, check_times=check_times)
    raise TokenInvalid("enveloped_credential_malformed", f"unknown enveloped media type {media_type!r}")


def _verify_nested(
    claims: Mapping[str, Any], resolver: DidResolver, at: datetime, skip_unsupported: bool,
    check_times: bool = True,
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    vcs = claims.get("verifiableCredential", [])
    vcs = vcs if isinstance(vcs, list) else [vcs]
    verified: list[Any] = []
    unverified: list[str] = []
    for i, obj in enumerate(vcs):
        try:
            verified.append(verify_enveloped_credential(obj, resolver=resolver, at=at, check_times=check_times))
        except UnsupportedFeature:
            if not skip_unsupported:
                raise
            unverified.append(unwrap_enveloped_credential(obj)[0])
        except TokenInvalid as exc:
            raise TokenInvalid(
                "credential_invalid", f"verifiableCredential[{i}]: {exc.message}"
            ) from exc
    return tuple(verified), tuple(unverified)


def unwrap_nested(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The media types of a presentation's enveloped credentials, each unwrapped (a malformed
    envelope raises ``credential_invalid``) but not verified."""
    vcs = claims.get("verifiableCredential", [])
    out: list[str] = []
    for i, obj in enumerate(vcs if isinstance(vcs, list) else [vcs]):
        try:
            out.append(unwrap_enveloped_credential(obj)[0])
        except TokenInvalid as exc:
            raise TokenInvalid("credential_invalid", f"verifiableCredential[{i}]: {exc.message}") from exc
    return tuple(out)


def verify_jwt(
    token: str,
    *,
    resolver: DidResolver,
    expected_typ: Literal["vc+jwt", "vp+jwt"],
    purpose: str | None = None,
    at: datetime | None = None,
    verify_credentials: bool = True,
    skip_unsupported: bool = False,
    check_times: bool = True,
    unsafe_skip_party_binding: bool = False,
) -> JoseResult:
    """Verify a ``vc+jwt`` or ``vp+jwt`` (see the module docstring for the order of checks).

    ``purpose`` defaults to ``assertionMethod`` for credentials and ``authentication`` for
    presentations. A presentation's enveloped credentials are verified too
    (``verify_credentials``; with ``False`` they are only unwrapped, so a malformed one still
    fails); with ``skip_unsupported=True`` a COSE one is listed in ``unverified`` instead of
    raising :class:`UnsupportedFeature`. ``unsafe_skip_party_binding`` (``verify
    --proof-only``, warns) accepts a key of any controller the resolver holds: the signature
    alone, as a Data Integrity proof-only check.
    """
    if expected_typ not in ("vc+jwt", "vp+jwt"):
        raise InvalidArgument("expected_typ must be 'vc+jwt' or 'vp+jwt'")
    kind = expected_typ[:2]
    what = "credential" if kind == "vc" else "presentation"
    when = _as_utc(at)
    parsed = _parse_compact(token, what)
    _check_media_type(parsed.header, expected_typ, what)
    claims = parsed.payload
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed", f"{what} payload is not a JSON object")
    for claim in ("vc", "vp"):
        if claim in claims:
            raise TokenInvalid(
                "vc_vp_claim_present",
                f"{what} payload has a {claim!r} claim (VC 1.1 JWT style, forbidden in VC-JOSE-COSE)",
            )
    types = claims.get("type")
    types = [types] if isinstance(types, str) else types
    wanted = "VerifiableCredential" if kind == "vc" else "VerifiablePresentation"
    if not isinstance(types, list) or wanted not in types:
        raise TokenInvalid("type_invalid", f"{what} type does not include {wanted}")
    party = _controller_claim(claims, "issuer" if kind == "vc" else "holder")
    _unsafe_party_binding(unsafe_skip_party_binding, what)
    method = _resolve_kid(resolver, parsed.header.get("kid"), None if unsafe_skip_party_binding else party, what)
    _verify_signature(parsed, method, what)
    return _finish(claims, parsed.header, str(parsed.header["kid"]), method, kind=kind, purpose=purpose,
                   what=what, when=when, resolver=resolver, verify_credentials=verify_credentials,
                   skip_unsupported=skip_unsupported, check_times=check_times)


def _finish(
    claims: dict[str, Any], header: dict[str, Any], kid: str, method: ResolvedMethod, *, kind: str,
    purpose: str | None, what: str, when: datetime, resolver: DidResolver, verify_credentials: bool,
    skip_unsupported: bool, check_times: bool = True,
) -> JoseResult:
    """The checks after the signature, shared by JWT and COSE: purpose, times (unless
    ``check_times`` is off: a proof-only check), nested credentials."""
    _check_purpose(method, purpose or ("assertionMethod" if kind == "vc" else "authentication"), what)
    _check_times(claims, when, what, compare=check_times)
    nested: tuple[Any, ...] = ()
    unverified: tuple[str, ...] = ()
    if kind == "vp" and verify_credentials:
        nested, unverified = _verify_nested(claims, resolver, when, skip_unsupported, check_times)
    elif kind == "vp":
        unwrap_nested(claims)
    return JoseResult(payload=claims, header=header, kid=kid, verification_method=method.id,
                      controller=method.controller, credentials=nested, unverified=unverified)


# -- COSE (COSE_Sign1, RFC 9052; VC-JOSE-COSE §3.3) ---------------------------------------------
#
# A minimal, strict CBOR reader/writer: definite lengths only, the types COSE_Sign1 headers and
# payloads need (integers, byte/text strings, arrays, maps, tags, simple values), bounded depth.

_COSE_ALGS: dict[int, str] = {-8: "EdDSA", -7: "ES256", -35: "ES384", -36: "ES512"}
_COSE_ALG_IDS = {v: k for k, v in _COSE_ALGS.items()}
_COSE_SIGN1_TAG = 18


def _cbor_decode(data: bytes) -> Any:
    pos = 0

    def need(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise TokenInvalid("malformed", "COSE: truncated CBOR")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    def arg(info: int) -> int:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(need(1 << (info - 24)), "big")
        raise TokenInvalid("malformed", "COSE: indefinite-length or reserved CBOR is not accepted")

    def item(depth: int) -> Any:
        if depth > 32:
            raise TokenInvalid("malformed", "COSE: CBOR nested too deeply")
        initial = need(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            simple = {20: False, 21: True, 22: None}
            if info in simple:
                return simple[info]
            raise TokenInvalid("malformed", "COSE: unsupported CBOR simple value / float")
        n = arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return bytes(need(n))
        if major == 3:
            try:
                return need(n).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TokenInvalid("malformed", "COSE: text string is not UTF-8") from exc
        if major == 4:
            if n > len(data):
                raise TokenInvalid("malformed", "COSE: truncated CBOR")
            return [item(depth + 1) for _ in range(n)]
        if major == 5:
            if n > len(data):
                raise TokenInvalid("malformed", "COSE: truncated CBOR")
            out: dict[Any, Any] = {}
            for _ in range(n):
                k = item(depth + 1)
                if not isinstance(k, int | str) or k in out:
                    raise TokenInvalid("malformed", "COSE: bad or duplicate map key")
                out[k] = item(depth + 1)
            return out
        return ("tag", n, item(depth + 1))  # major 6

    value = item(0)
    if pos != len(data):
        raise TokenInvalid("malformed", "COSE: trailing bytes after the CBOR item")
    return value


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise InvalidArgument("CBOR value too large")


def _cbor_encode(value: Any) -> bytes:
    if isinstance(value, bool) or value is None:
        return {False: b"\xf4", True: b"\xf5", None: b"\xf6"}[value]
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _cbor_head(3, len(raw)) + raw
    if isinstance(value, list):
        return _cbor_head(4, len(value)) + b"".join(_cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _cbor_head(5, len(value)) + b"".join(_cbor_encode(k) + _cbor_encode(v) for k, v in value.items())
    raise InvalidArgument(f"cannot CBOR-encode {type(value).__name__}")


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return _cbor_encode(["Signature1", protected, b"", payload])


def _secure_cose(document: Mapping[str, Any], key: KeyPair, kid: str, kind: Literal["vc", "vp"]) -> bytes:
    _secure(document, key, kid, kind)  # same argument checks as JOSE (result discarded)
    protected = _cbor_encode({
        1: _COSE_ALG_IDS[key.public_key.jws_algorithm],
        3: f"application/{kind}",
        4: kid.encode("utf-8"),
        16: f"application/{kind}+cose",
    })
    payload = _json_bytes(dict(document))
    signature = key.sign(_sig_structure(protected, payload))
    return b"\xd2" + _cbor_encode([protected, {}, payload, signature])


def secure_credential_cose(credential: dict[str, Any], key: KeyPair, *, kid: str) -> bytes:
    """Secure a credential as ``application/vc+cose`` (tagged COSE_Sign1, CBOR bytes)."""
    return _secure_cose(credential, key, kid, "vc")


def secure_presentation_cose(presentation: dict[str, Any], key: KeyPair, *, kid: str) -> bytes:
    """Secure a presentation as ``application/vp+cose``."""
    return _secure_cose(presentation, key, kid, "vp")


def envelop_cose_credential(data: bytes) -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` for a COSE credential (base64 data: URL, §3.3.1)."""
    return {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": "data:application/vc+cose;base64," + base64.b64encode(data).decode("ascii"),
        "type": _ENVELOPED,
    }


def _cose_bytes(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        return data
    if not isinstance(data, str):
        raise TokenInvalid("malformed", "COSE input must be bytes or base64 text")
    text = "".join(data.split())
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise TokenInvalid("malformed", "COSE input is not base64")
    text = text.rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenInvalid("malformed", "COSE input is not base64") from exc
    if base64.b64encode(raw).rstrip(b"=").decode("ascii") != text:  # one encoding per COSE message
        raise TokenInvalid("malformed", "COSE input is not canonical base64 (non-zero unused bits)")
    return raw


def verify_cose(
    data: bytes | str,
    *,
    resolver: DidResolver,
    expected_typ: Literal["vc+cose", "vp+cose"],
    purpose: str | None = None,
    at: datetime | None = None,
    verify_credentials: bool = True,
    skip_unsupported: bool = False,
    check_times: bool = True,
    unsafe_skip_party_binding: bool = False,
) -> JoseResult:
    """Verify an ``application/vc+cose`` / ``vp+cose`` COSE_Sign1 (bytes, or base64 text).

    Same checks as :func:`verify_jwt`; ``header`` in the result holds the protected header
    with its integer labels.
    """
    if expected_typ not in ("vc+cose", "vp+cose"):
        raise InvalidArgument("expected_typ must be 'vc+cose' or 'vp+cose'")
    kind = expected_typ[:2]
    what = "credential" if kind == "vc" else "presentation"
    when = _as_utc(at)
    raw = _cose_bytes(data)
    if len(raw) > _MAX_TOKEN:
        raise TokenInvalid("malformed", f"{what} is too large")
    msg = _cbor_decode(raw)
    if isinstance(msg, tuple):
        if msg[1] != _COSE_SIGN1_TAG:
            raise TokenInvalid("malformed", f"{what}: CBOR tag {msg[1]} is not COSE_Sign1 (18)")
        msg = msg[2]
    if not (isinstance(msg, list) and len(msg) == 4 and isinstance(msg[0], bytes)
            and isinstance(msg[1], dict) and isinstance(msg[2], bytes) and isinstance(msg[3], bytes)):
        raise TokenInvalid("malformed", f"{what} is not a COSE_Sign1 [protected, unprotected, payload, signature]")
    protected_raw, unprotected, payload_raw, signature = msg
    protected = _cbor_decode(protected_raw) if protected_raw else {}
    if not isinstance(protected, dict):
        raise TokenInvalid("malformed", f"{what} protected header is not a map")
    if 1 in unprotected or 4 in unprotected or 16 in unprotected:
        raise TokenInvalid("malformed", f"{what}: alg/kid/typ must be in the protected header")
    alg_id = protected.get(1)
    if alg_id not in _COSE_ALGS:
        raise TokenInvalid("alg_not_allowed",
                           f"{what}: COSE algorithm {alg_id!r} is not allowed (EdDSA, ES256, ES384, ES512)")
    if 2 in protected:
        raise TokenInvalid("crit_not_understood", f"{what} protected header has 'crit'")
    if not _media_type_equal(protected.get(16), expected_typ):
        raise TokenInvalid("media_type_invalid", f"{what} typ is {protected.get(16)!r}, expected {expected_typ}")
    if 3 in protected and not _media_type_equal(protected[3], kind):
        raise TokenInvalid("media_type_invalid",
                           f"{what} content type is {protected[3]!r}, expected application/{kind}")
    claims = _json_loads(payload_raw, f"{what} payload")
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed", f"{what} payload is not a JSON object")
    for claim in ("vc", "vp"):
        if claim in claims:
            raise TokenInvalid("vc_vp_claim_present", f"{what} payload has a {claim!r} claim")
    types = claims.get("type")
    types = [types] if isinstance(types, str) else types
    wanted = "VerifiableCredential" if kind == "vc" else "VerifiablePresentation"
    if not isinstance(types, list) or wanted not in types:
        raise TokenInvalid("type_invalid", f"{what} type does not include {wanted}")
    kid_raw = protected.get(4)
    try:
        kid = kid_raw.decode("utf-8") if isinstance(kid_raw, bytes) else kid_raw
    except UnicodeDecodeError:
        kid = None
    party = _controller_claim(claims, "issuer" if kind == "vc" else "holder")
    _unsafe_party_binding(unsafe_skip_party_binding, what)
    method = _resolve_kid(resolver, kid, None if unsafe_skip_party_binding else party, what)
    alg = _COSE_ALGS[alg_id]
    if method.public_key.key_type != ALLOWED_ALGORITHMS[alg]:
        raise TokenInvalid("alg_key_mismatch", f"{what} alg {alg} does not fit the {method.public_key.key_type} key")
    if not method.public_key.verify(signature, _sig_structure(protected_raw, payload_raw)):
        raise TokenInvalid("signature_invalid", f"{what} signature does not verify")
    return _finish(claims, {str(k): v for k, v in protected.items()}, str(kid), method, kind=kind,
                   purpose=purpose, what=what, when=when, resolver=resolver,
                   verify_credentials=verify_credentials, skip_unsupported=skip_unsupported,
                   check_times=check_times)


def peek_cose(data: bytes | str) -> tuple[str | None, dict[str, Any] | None]:
    """The declared media type (protected label 16) and the JSON payload of a COSE_Sign1,
    read WITHOUT verifying anything: for telling formats apart (``skillcred.secured``), never
    for trusting what it says. Anything unreadable gives ``(None, None)``."""
    try:
        msg = _cbor_decode(_cose_bytes(data))
        if isinstance(msg, tuple):
            msg = msg[2]
        if not (isinstance(msg, list) and len(msg) == 4 and isinstance(msg[0], bytes) and isinstance(msg[2], bytes)):
            return None, None
        protected = _cbor_decode(msg[0]) if msg[0] else {}
        typ = protected.get(16) if isinstance(protected, dict) else None
        claims = _json_loads(msg[2], "COSE payload")
    except (TokenInvalid, MalformedDocument):
        return None, None
    return (typ if isinstance(typ, str) else None), (claims if isinstance(claims, dict) else None)


def sign_jwt(payload: Mapping[str, Any], key: KeyPair, *, kid: str, typ: str) -> str:
    """A compact JWS of any JSON object (``alg`` from the key, ``kid``, ``typ``): for tokens
    that are not credentials, such as a Token Status List (``statuslist+jwt``)."""
    if not isinstance(payload, Mapping):
        raise InvalidArgument("payload must be a JSON object")
    return _sign_jws({"alg": key.public_key.jws_algorithm, "kid": kid, "typ": typ}, _json_bytes(dict(payload)), key)


def verify_signed_jwt(token: str, *, resolver: DidResolver, expected_typ: str, party: str,
                      purpose: str = "assertionMethod", what: str = "token") -> tuple[dict[str, Any], Any]:
    """Verify a compact JWS that is not a credential: ``alg`` allow-list, ``typ``, ``kid``
    resolved to a key controlled by ``party`` and listed under ``purpose``, signature. Returns
    ``(header, payload)``; claims and times are the caller's to judge."""
    parsed = _parse_compact(token, what)
    _check_media_type(parsed.header, expected_typ, what)
    method = _resolve_kid(resolver, parsed.header.get("kid"), party, what)
    _verify_signature(parsed, method, what)
    _check_purpose(method, purpose, what)
    return parsed.header, parsed.payload


def peek_jwt(token: str, what: str = "token") -> tuple[dict[str, Any], Any]:
    """``(header, payload)`` of a compact JWS, checked for shape and ``alg`` but NOT verified."""
    parsed = _parse_compact(token, what)
    return parsed.header, parsed.payload
